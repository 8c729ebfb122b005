//! The `recordstore` command line: exit codes, stdin, JSON Lines, import/export/copy, bench,
//! help, and the message and exit code of each error a user meets. The Redis cases need the
//! servers of scripts/test (plain on 6390, with a password on 6391; WebHDFS on 9870 stands in
//! for a server that is not Redis).

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

/// Runs a command that must fail: asserts the exit code, one line on stderr that contains
/// each of `wanted`, and no client library's `Debug` text; returns the line.
fn fails(url: &str, args: &[&str], exit: i32, wanted: &[&str]) -> String {
    let o = run(url, args, None);
    let err = stderr(&o);
    assert_eq!(code(&o), exit, "{url} {args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{url} {args:?}: {err}");
    for w in wanted {
        assert!(err.contains(w), "{url} {args:?}: wanted {w:?} in {err}");
    }
    for debug in [
        "Server(",
        "ResponseError",
        "Incompatible type",
        "\"WRONGTYPE\"",
    ] {
        assert!(!err.contains(debug), "{url} {args:?}: {err}");
    }
    err
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The plain Redis server (`RECORDSTORE_REDIS_URL`), as `host:port`.
fn redis_addr() -> String {
    let url = env_or("RECORDSTORE_REDIS_URL", "redis://127.0.0.1:6390/0");
    let rest = url.split_once("://").unwrap().1;
    rest.split(['/', '?']).next().unwrap().to_string()
}

/// The Redis server with a password (`RECORDSTORE_REDIS_AUTH_ADDR`, `REDIS_PASSWORD`).
fn auth_server() -> (String, String) {
    (
        env_or("RECORDSTORE_REDIS_AUTH_ADDR", "127.0.0.1:6391"),
        env_or("REDIS_PASSWORD", "recordstore-secret"),
    )
}

/// A port that serves HTTP, not Redis: WebHDFS (`RECORDSTORE_WEBHDFS_URL`).
fn http_addr() -> String {
    let url = env_or("RECORDSTORE_WEBHDFS_URL", "webhdfs://127.0.0.1:9870/x");
    let rest = url.split_once("://").unwrap().1;
    rest.split('/').next().unwrap().to_string()
}

/// Sends one inline command to a Redis server and returns its first reply line.
fn redis_command(addr: &str, command: &str) -> String {
    use std::io::{BufRead, BufReader};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(format!("{command}\r\n").as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    line
}

#[test]
fn a_server_that_is_not_redis_is_exit_5_in_one_line() {
    let addr = http_addr();
    let wanted = format!("{addr} did not answer as a Redis server");
    let err = fails(
        &format!("redis://{addr}/0"),
        &["get", "s", "k"],
        5,
        &[&wanted, "port"],
    );
    assert!(err.starts_with(&format!("recordstore: {wanted}")), "{err}");
    // A cluster URL too: its client wraps the parse error in one of its own.
    fails(
        &format!("redis+cluster://{addr}"),
        &["get", "s", "k"],
        5,
        &[&wanted],
    );
}

#[test]
fn a_refused_connection_is_exit_5() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    fails(
        &format!("redis://127.0.0.1:{port}/0"),
        &["get", "s", "k"],
        5,
        &["connection refused", &format!("127.0.0.1:{port}")],
    );
}

#[test]
fn a_database_the_server_does_not_have_is_a_configuration_error() {
    let addr = redis_addr();
    fails(
        &format!("redis://{addr}/99"),
        &["get", "s", "k"],
        8,
        &[&format!("{addr} has no database 99"), "out of range"],
    );
}

#[test]
fn a_key_of_another_type_is_named() {
    let addr = redis_addr();
    let key = format!("cli-wrongtype-{}", std::process::id());
    assert_eq!(redis_command(&addr, &format!("SET {key} x")), "+OK\r\n");
    let url = format!("redis://{addr}/0");
    let quoted = format!("{key:?}");
    for args in [
        vec!["get", key.as_str(), "k"],
        vec!["insert", key.as_str(), "k", "{}"],
        vec!["count", key.as_str()],
        vec!["filter", key.as_str()],
    ] {
        fails(&url, &args, 8, &[&quoted, "another type", "prefix"]);
    }
    redis_command(&addr, &format!("DEL {key}"));
}

#[test]
fn credentials_are_checked_and_never_printed() {
    let (auth, password) = auth_server();
    // Wrong password, and none at all, on a server that wants one: exit 7.
    let wrong = "not-the-password-4711";
    let err = fails(
        &format!("redis://:{wrong}@{auth}/0"),
        &["ping"],
        7,
        &["authentication failed", &auth, "password"],
    );
    assert!(!err.contains(wrong), "{err}");
    fails(
        &format!("redis://{auth}/0"),
        &["ping"],
        7,
        &["requires a password"],
    );
    let o = run(&format!("redis://:{password}@{auth}/0"), &["ping"], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A password for a server that has none: the settings are wrong, exit 8.
    let plain = redis_addr();
    let secret = "secret-for-nobody-4711";
    let err = fails(
        &format!("redis://:{secret}@{plain}/0"),
        &["ping"],
        8,
        &[&format!("{plain} has no password")],
    );
    assert!(!err.contains(secret), "{err}");
}

#[test]
fn unusable_sqlite_paths_are_configuration_errors_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexist_dir");
    let cases = [
        (
            format!("sqlite://{}", missing.join("x.db").display()),
            format!("the directory {} does not exist", missing.display()),
        ),
        (
            format!("sqlite://{}", dir.path().display()),
            format!("{} is a directory", dir.path().display()),
        ),
        (
            "sqlite:///proc/x.db".to_string(),
            "/proc does not accept new files".to_string(),
        ),
        (
            "sqlite:///sys/x.db".to_string(),
            "permission denied".to_string(),
        ),
    ];
    for (url, cause) in cases {
        fails(&url, &["get", "s", "k"], 8, &["sqlite: ", &cause]);
    }
    assert!(!missing.exists());
    // A relative path in a missing directory, as a user types it.
    let relative = format!("nonexist_dir_{}/x.db", std::process::id());
    fails(
        &format!("sqlite://{relative}"),
        &["count", "s"],
        8,
        &["does not exist"],
    );

    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, "not a database, just text".repeat(200)).unwrap();
    fails(
        &format!("sqlite://{}", bad.display()),
        &["get", "s", "k"],
        8,
        &[
            &bad.display().to_string(),
            "is not a recordstore (SQLite) database",
        ],
    );
}

#[test]
fn import_errors_give_one_position_the_inputs() {
    let err = {
        let o = run(
            "memory://",
            &["import", "s", "-", "--key-field", "id"],
            Some("{\"id\":\"x\"}\n{\"id\":\"y\"\n"),
        );
        assert_eq!(code(&o), 6);
        stderr(&o)
    };
    assert_eq!(
        err,
        "recordstore: invalid input: -: line 2, column 9: malformed JSON: EOF while parsing an object\n"
    );
    let o = run(
        "memory://",
        &["import", "s", "-", "--key-field", "id"],
        Some("{\"id\":\"x\"}\n[1]\n"),
    );
    assert_eq!(code(&o), 6);
    let err = stderr(&o);
    assert!(err.contains("-: line 2: "), "{err}");
    assert!(!err.contains("line 1"), "{err}");
}

#[test]
fn help_shows_a_commands_own_options_first_and_the_global_ones_apart() {
    let help = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_recordstore"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0);
        stdout(&o)
    };
    let bench = help(&["bench", "--help"]);
    let (own, global) = bench.split_once("Global options:").expect(&bench);
    for flag in ["--records", "--concurrency", "--batch", "--ops", "--json"] {
        assert!(own.contains(flag), "{flag}: {bench}");
    }
    for flag in [
        "--url",
        "--config",
        "--mode",
        "--max-connections",
        "--connection-timeout",
        "--threads",
    ] {
        assert!(
            global.contains(flag) && !own.contains(flag),
            "{flag}: {bench}"
        );
    }
    let copy = help(&["copy", "-h"]);
    let own = copy.split_once("Global options:").expect(&copy).0;
    for form in [
        "sqlite://",
        "redis://",
        "redis+cluster://",
        "hdfs://",
        "webhdfs://",
    ] {
        assert!(own.contains(form), "{form}: {copy}");
    }
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
fn bench_clears_leftovers_it_cannot_decode() {
    // An interrupted run with codec=pickle left a record; a run with JSON must still start
    // clean and end clean, not fail on "corrupt record".
    let prefix = format!("bench-left-{}", std::process::id());
    let base = format!("redis://{}/0?prefix={prefix}", redis_addr());
    let pickled = format!("{base}&codec=pickle");
    let o = run(&pickled, &["insert", "bench", "left", r#"{"n": 1}"#], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(&base, &["get", "bench", "left"], None);
    assert_eq!(code(&o), 6, "JSON cannot read the pickle: {}", stderr(&o));
    let o = run(&base, &["bench", "--records", "20"], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&run(&base, &["count", "bench"], None)), "0\n");
}

/// The tab-separated result lines of a text bench, after checking its header.
fn bench_lines(out: &str) -> Vec<Vec<String>> {
    let mut lines = out.lines();
    let store = lines.next().unwrap();
    assert!(store.starts_with("bench: "), "{out}");
    assert_eq!(lines.next(), Some("op\tops\tseconds\tops/s"), "{out}");
    lines
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn memory_bench_runs() {
    let o = run("memory://", &["bench", "--records", "100"], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert!(
        first.contains("100 records on memory://")
            && first.contains("mode in-process")
            && first.contains("concurrency 1"),
        "{out}"
    );
    let rows = bench_lines(&out);
    let ops: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        ops,
        ["insert", "get", "update", "exists", "count", "filter", "delete"]
    );
    for r in &rows {
        assert_eq!(r.len(), 4, "{r:?}");
        assert!(r[3].parse::<f64>().unwrap() > 0.0, "{r:?}");
    }
}

#[test]
fn bench_names_its_store_without_the_password() {
    let (auth, password) = auth_server();
    let o = run(
        &format!(
            "redis://:{password}@{auth}/0?prefix=clibench{}",
            std::process::id()
        ),
        &[
            "bench",
            "--records",
            "50",
            "--concurrency",
            "2",
            "--ops",
            "get",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains(&password), "{out}");
    let first = out.lines().next().unwrap();
    assert!(
        first.contains(&format!("redis://:***@{auth}/0"))
            && first.contains("mode single")
            && first.contains("concurrency 2"),
        "{out}"
    );
    let ops: Vec<String> = bench_lines(&out)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(ops, ["insert", "get", "delete"]);
}

#[test]
fn bench_without_a_url_uses_a_temporary_file_and_removes_it() {
    let cwd = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_recordstore"))
        .args(["bench", "--records", "50"])
        .current_dir(cwd.path())
        .env_remove("RECORDSTORE_URL")
        .env_remove("RECORDSTORE_CONFIG")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert!(first.contains("temporary"), "{out}");
    let path = first
        .split("records on sqlite://")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect(first);
    let path = std::path::Path::new(path);
    assert!(path.ends_with("bench.db"), "{out}");
    assert!(!path.exists() && !path.parent().unwrap().exists(), "{out}");
    assert_eq!(bench_lines(&out).len(), 7);
    // Nothing written where it ran.
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
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
