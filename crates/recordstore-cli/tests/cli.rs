//! The `recordstore` command line: exit codes, stdin, JSON Lines, import/export/copy, bench.

use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn db_url() -> (String, PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("cli.db");
    (format!("sqlite://{}", path.display()), dir)
}

fn run(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recordstore"));
    cmd.arg("--url").arg(url).args(args);
    cmd.env_remove("RECORDSTORE_URL");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn crud_and_exit_codes() {
    let (url, _dir) = db_url();
    assert_eq!(
        code(&run(
            &url,
            &["insert", "tasks", "t1", r#"{"status":"done"}"#],
            None
        )),
        0
    );
    let dup = run(&url, &["insert", "tasks", "t1", r#"{"status":"x"}"#], None);
    assert_eq!(code(&dup), 4);
    let err = stderr(&dup);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("tasks") && err.contains("t1"), "{err}");

    let got = run(&url, &["get", "tasks", "t1"], None);
    assert_eq!(code(&got), 0);
    assert_eq!(stdout(&got), "{\"status\":\"done\"}\n");

    assert_eq!(code(&run(&url, &["get", "tasks", "nope"], None)), 3);
    assert_eq!(
        code(&run(&url, &["update", "tasks", "nope", "{}"], None)),
        3
    );
    assert_eq!(code(&run(&url, &["delete", "tasks", "nope"], None)), 3);

    // stdin, with and without "-"
    assert_eq!(
        code(&run(
            &url,
            &["save", "tasks", "t2"],
            Some(r#"{"status":"running"}"#)
        )),
        0
    );
    assert_eq!(
        code(&run(
            &url,
            &["update", "tasks", "t2", "-"],
            Some(r#"{"status":"done"}"#)
        )),
        0
    );
    assert_eq!(
        stdout(&run(&url, &["exists", "tasks", "t2"], None)),
        "true\n"
    );
    assert_eq!(
        stdout(&run(&url, &["exists", "tasks", "t9"], None)),
        "false\n"
    );
    assert_eq!(stdout(&run(&url, &["count", "tasks"], None)), "2\n");
    assert_eq!(stdout(&run(&url, &["count", "missing"], None)), "0\n");

    let f = run(&url, &["filter", "tasks", "status=done"], None);
    let lines: Vec<Value> = stdout(&f)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            json!({"key": "t1", "record": {"status": "done"}}),
            json!({"key": "t2", "record": {"status": "done"}})
        ]
    );
    assert_eq!(code(&run(&url, &["delete", "tasks", "t2"], None)), 0);
}

#[test]
fn bad_input_is_exit_6_and_changes_nothing() {
    let (url, _dir) = db_url();
    run(&url, &["insert", "s", "k", r#"{"v":1}"#], None);
    let cases: Vec<Vec<&str>> = vec![
        vec!["insert", "s", "k2", "{not json"],
        vec!["insert", "s", "k2", "[1,2]"],
        vec!["insert", "s", "k2", "42"],
        vec!["insert", "../etc", "k2", "{}"],
        vec!["insert", "a/b", "k2", "{}"],
        vec!["insert", "", "k2", "{}"],
        vec!["insert", "s", "", "{}"],
        vec!["insert", "s", "bad\nkey", "{}"],
        vec!["update", "s", "k", "{oops"],
        vec!["filter", "s", "v__nope=1"],
        vec!["filter", "s", "v__in=1"],
    ];
    for args in cases {
        let o = run(&url, &args, None);
        assert_eq!(code(&o), 6, "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{args:?}");
    }
    let huge = "k".repeat(100_000);
    assert_eq!(code(&run(&url, &["insert", "s", &huge, "{}"], None)), 6);
    assert_eq!(stdout(&run(&url, &["count", "s"], None)), "1\n");
    assert_eq!(stdout(&run(&url, &["get", "s", "k"], None)), "{\"v\":1}\n");
}

#[test]
fn usage_errors_are_exit_2_and_unknown_schemes_list_the_supported_ones() {
    let (url, _dir) = db_url();
    assert_eq!(code(&run(&url, &["frobnicate"], None)), 2);
    assert_eq!(code(&run(&url, &["get", "only-schema"], None)), 2);
    let o = run("ftp://host/x", &["count", "s"], None);
    assert_eq!(code(&o), 6);
    assert!(stderr(&o).contains("sqlite://"), "{}", stderr(&o));
}

#[test]
fn url_comes_from_the_environment() {
    let (url, _dir) = db_url();
    let o = Command::new(env!("CARGO_BIN_EXE_recordstore"))
        .args(["insert", "s", "k", "{}"])
        .env("RECORDSTORE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&run(&url, &["count", "s"], None)), "1\n");
}

#[test]
fn unreachable_sqlite_path_is_exit_5() {
    let o = run("sqlite:///no/such/dir/x.db", &["get", "s", "k"], None);
    assert_eq!(code(&o), 5, "{}", stderr(&o));
}

#[test]
fn import_export_copy() {
    let (url, dir) = db_url();
    let jsonl = dir.join("in.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\":\"a\",\"v\":1}\n\n{\"id\":2,\"v\":2}\n{\"id\":\"c/d\",\"v\":3}\n",
    )
    .unwrap();
    let o = run(
        &url,
        &[
            "import",
            "items",
            jsonl.to_str().unwrap(),
            "--key-field",
            "id",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let exported = stdout(&run(&url, &["export", "items"], None));
    let keys: Vec<String> = exported
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(keys, vec!["2", "a", "c/d"]);

    // A bad line anywhere means nothing is written.
    let o = run(
        &url,
        &["import", "more", "-", "--key-field", "id"],
        Some("{\"id\":\"x\"}\n{\"id\":\"y\"\n"),
    );
    assert_eq!(code(&o), 6);
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
    assert_eq!(stdout(&run(&url, &["count", "more"], None)), "0\n");
    for bad in [
        "{\"nokey\":1}\n",
        "{\"id\":null}\n",
        "{\"id\":\"z\"}\n{\"id\":\"z\"}\n",
    ] {
        let o = run(
            &url,
            &["import", "more", "-", "--key-field", "id"],
            Some(bad),
        );
        assert_eq!(code(&o), 6, "{bad}");
    }
    assert_eq!(stdout(&run(&url, &["count", "more"], None)), "0\n");

    // Importing again conflicts on every key; --upsert replaces.
    let o = run(
        &url,
        &[
            "import",
            "items",
            jsonl.to_str().unwrap(),
            "--key-field",
            "id",
        ],
        None,
    );
    assert_eq!(code(&o), 4);
    let o = run(
        &url,
        &[
            "import",
            "items",
            jsonl.to_str().unwrap(),
            "--key-field",
            "id",
            "--upsert",
        ],
        None,
    );
    assert_eq!(code(&o), 0);

    // Copy every schema to a second SQLite file, intact.
    let (to, _dir2) = db_url();
    let o = run(&url, &["copy", "--to", &to], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&run(&to, &["export", "items"], None)), exported);
}

#[test]
fn bench_json_lines_and_stats() {
    let (url, _dir) = db_url();
    let o = run(
        &url,
        &[
            "--mode",
            "pooled",
            "--max-connections",
            "4",
            "bench",
            "--records",
            "300",
            "--concurrency",
            "8",
            "--json",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ops: Vec<&str> = lines[..7]
        .iter()
        .map(|l| l["op"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        ["insert", "get", "update", "exists", "count", "filter", "delete"]
    );
    for l in &lines[..7] {
        assert!(l["ops_per_sec"].as_f64().unwrap() > 0.0);
        assert!(l["seconds"].as_f64().unwrap() > 0.0);
    }
    let stats = &lines[7];
    assert!(stats["created"].as_u64().unwrap() <= 4, "{stats}");
    assert_eq!(stats["timeouts"], 0);
    assert_eq!(stats["errors"], 0);
    // The bench leaves nothing behind.
    assert_eq!(stdout(&run(&url, &["count", "bench"], None)), "0\n");
}

#[test]
fn memory_bench_runs() {
    let o = run("memory://", &["bench", "--records", "100"], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 7);
}

#[test]
fn config_file_then_environment_then_flags() {
    let (url, dir) = db_url();
    let cfg = dir.join("recordstore.toml");
    std::fs::write(&cfg, format!("URL = \"{url}\"\nMAX_CONNECTIONS = 3\n")).unwrap();
    let rs = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_recordstore"));
        c.env_remove("RECORDSTORE_URL")
            .env_remove("RECORDSTORE_CONFIG");
        c
    };
    // The file alone.
    let o = rs()
        .args(["--config", cfg.to_str().unwrap(), "ping", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["max_connections"], 3, "{v}");
    assert_eq!(v["backend"], "sqlite");
    // The environment beats the file, and flags beat both.
    let o = rs()
        .args(["--config", cfg.to_str().unwrap(), "ping", "--json"])
        .env("RECORDSTORE_MAX_CONNECTIONS", "5")
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["max_connections"], 5, "{v}");
    let o = rs()
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--max-connections",
            "7",
            "ping",
            "--json",
        ])
        .env("RECORDSTORE_MAX_CONNECTIONS", "5")
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["stats"]["max_connections"], 7, "{v}");
    // A bad value names its key and value.
    std::fs::write(&cfg, "MAX_CONNECTIONS = \"ten\"\n").unwrap();
    let o = rs()
        .args(["--config", cfg.to_str().unwrap(), "count", "s"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 6);
    let err = stderr(&o);
    assert!(
        err.contains("MAX_CONNECTIONS") && err.contains("ten"),
        "{err}"
    );
}
