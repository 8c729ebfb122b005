//! `recordstore copy` moves schemas between SQLite, Redis and HDFS with every record intact.
//! Needs the servers of scripts/test (Redis on 6390, the MiniDFSCluster on 9000/9870).

use serde_json::Value;
use std::process::{Command, Output};

fn rs(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recordstore"))
        .arg("--url")
        .arg(url)
        .args(args)
        .env_remove("RECORDSTORE_URL")
        .env_remove("RECORDSTORE_CONFIG")
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn copy_round_trip_sqlite_redis_hdfs_webhdfs_sqlite() {
    let unique = format!("copy{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let source = format!("sqlite://{}", dir.path().join("src.db").display());
    let back = format!("sqlite://{}", dir.path().join("back.db").display());
    let redis = std::env::var("RECORDSTORE_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6390/0".into());
    let redis = format!("{redis}?prefix={unique}");
    let hdfs = format!("hdfs://127.0.0.1:9000/{unique}");
    let webhdfs = format!("webhdfs://127.0.0.1:9870/{unique}_web");

    // Records that exercise keys and values: unsafe file names, unicode, nesting, numbers.
    let mut lines = String::new();
    for i in 0..120 {
        let key = match i % 4 {
            0 => format!("plain-{i}"),
            1 => format!("a/b/../{i}"),
            2 => format!("ключ {i}"),
            _ => format!(".hidden{i}"),
        };
        let rec = serde_json::json!({"id": key, "n": i, "f": i as f64 / 3.0,
            "nested": {"tags": ["x", i], "none": null}, "text": "é\"\\\n🙂"});
        lines.push_str(&rec.to_string());
        lines.push('\n');
    }
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, lines).unwrap();
    ok(rs(
        &source,
        &[
            "import",
            "tasks",
            file.to_str().unwrap(),
            "--key-field",
            "id",
        ],
    ));
    ok(rs(&source, &["insert", "other", "k", r#"{"v":1}"#]));
    let original = ok(rs(&source, &["export", "tasks"]));
    assert_eq!(original.lines().count(), 120);

    // SQLite -> Redis -> HDFS (native) -> HDFS (WebHDFS) -> SQLite, every schema each time.
    ok(rs(&source, &["copy", "--to", &redis]));
    ok(rs(&redis, &["copy", "--to", &hdfs]));
    ok(rs(&hdfs, &["copy", "--to", &webhdfs]));
    ok(rs(&webhdfs, &["copy", "--to", &back]));
    for url in [&redis, &hdfs, &webhdfs, &back] {
        assert_eq!(ok(rs(url, &["export", "tasks"])), original, "at {url}");
        assert_eq!(
            ok(rs(url, &["get", "other", "k"])),
            "{\"v\":1}\n",
            "at {url}"
        );
    }
    let parsed: Vec<Value> = original
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(parsed.iter().any(|v| v["key"] == "a/b/../1"));

    // Copying again conflicts record by record (exit 4) and changes nothing.
    let again = rs(&source, &["copy", "--to", &redis, "tasks"]);
    assert_eq!(again.status.code(), Some(4));
    assert_eq!(ok(rs(&redis, &["export", "tasks"])), original);
}
