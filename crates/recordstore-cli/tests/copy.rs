//! `recordstore copy` moves schemas between SQLite, Redis and HDFS with every record intact.
//! Needs the servers of scripts/test (Redis on 6390, the MiniDFSCluster on 9000/9870).

mod common;

use common::{ok, rs};
use serde_json::Value;
use std::process::Output;

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

    // Copying again finds every record there and equal: all skipped, nothing changed.
    let again = rs(&source, &["copy", "--to", &redis, "tasks"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        summary_row(&again, "tasks") == [120, 0, 120, 0, 0],
        "{}",
        text(&again.stderr)
    );
    assert_eq!(ok(rs(&redis, &["export", "tasks"])), original);
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The summary's numbers for a schema: read, written, skipped, conflicting, failed.
fn summary_row(o: &Output, schema: &str) -> Vec<u64> {
    let err = text(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.split_whitespace().next() == Some(schema) && !l.contains(':'))
        .unwrap_or_else(|| panic!("no summary row for {schema} in:\n{err}"));
    line.split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect()
}

/// A SQLite store with `n` records `k000…` in schema `s`.
fn sqlite_with(dir: &std::path::Path, name: &str, n: usize) -> String {
    let url = format!("sqlite://{}", dir.join(name).display());
    let mut lines = String::new();
    for i in 0..n {
        lines.push_str(&format!("{{\"id\":\"k{i:03}\",\"n\":{i}}}\n"));
    }
    let file = dir.join(format!("{name}.jsonl"));
    std::fs::write(&file, lines).unwrap();
    ok(rs(
        &url,
        &["import", "s", file.to_str().unwrap(), "--key-field", "id"],
    ));
    url
}

/// Overwrites a record's stored JSON with text that is not JSON.
fn corrupt_sqlite(url: &str, key: &str) {
    let path = url.strip_prefix("sqlite://").unwrap();
    let c = rusqlite::Connection::open(path).unwrap();
    let n = c
        .execute("UPDATE records SET doc = '{not json' WHERE key = ?1", [key])
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_missing_source_is_an_error_and_is_never_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let to = format!("sqlite://{}", dir.path().join("to.db").display());
    let o = rs(
        &format!("sqlite://{}", missing.display()),
        &["copy", "--to", &to],
    );
    assert_eq!(o.status.code(), Some(8), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("does not exist"),
        "{}",
        text(&o.stderr)
    );
    assert!(!missing.exists(), "the copy created its source");
    let o = rs(
        &format!("sqlite+peer://{}", missing.display()),
        &["copy", "--to", &to],
    );
    assert_eq!(o.status.code(), Some(8), "{}", text(&o.stderr));
    assert!(!missing.exists());
}

#[test]
fn an_unreachable_destination_fails_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_with(dir.path(), "src.db", 5);
    let o = rs(&src, &["copy", "--to", "redis://127.0.0.1:1/0"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("127.0.0.1:1") && err.contains("refused"),
        "{err}"
    );
    // A destination that cannot be created: nothing is written anywhere.
    let o = rs(
        &src,
        &[
            "copy",
            "--to",
            &format!("sqlite://{}/no/such/dir/x.db", dir.path().display()),
        ],
    );
    assert_eq!(o.status.code(), Some(8), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("schema "), "{}", text(&o.stderr));
}

#[test]
fn a_corrupt_record_stops_the_copy_or_is_skipped_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_with(dir.path(), "src.db", 40);
    corrupt_sqlite(&src, "k020");

    let stop = format!("sqlite://{}", dir.path().join("stop.db").display());
    let o = rs(&src, &["copy", "--to", &stop]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("k020") && err.contains("corrupt"), "{err}");
    // The records before the corrupt one were written; nothing after it.
    assert_eq!(summary_row(&o, "s"), [21, 20, 0, 0, 1], "{err}");
    assert_eq!(ok(rs(&stop, &["count", "s"])), "20\n");
    assert!(rs(&stop, &["exists", "s", "k021"]).status.success());
    assert_eq!(ok(rs(&stop, &["exists", "s", "k021"])), "false\n");

    let skip = format!("sqlite://{}", dir.path().join("skip.db").display());
    let o = rs(&src, &["copy", "--to", &skip, "--on-error", "skip"]);
    assert_eq!(o.status.code(), Some(9), "{}", text(&o.stderr));
    assert_eq!(summary_row(&o, "s"), [40, 39, 0, 0, 1]);
    let err = text(&o.stderr);
    assert!(
        err.lines()
            .any(|l| l.contains("failed: key \"k020\"") && l.contains("corrupt")),
        "{err}"
    );
    assert_eq!(ok(rs(&skip, &["count", "s"])), "39\n");
    assert!(!rs(&skip, &["get", "s", "k020"]).status.success());
}

#[test]
fn an_interrupted_copy_rerun_finishes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_with(dir.path(), "src.db", 1200);
    // What a copy killed after its first batches leaves: some records there, equal.
    let dst = sqlite_with(dir.path(), "dst.db", 700);
    let o = rs(&src, &["copy", "--to", &dst, "--verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(summary_row(&o, "s"), [1200, 500, 700, 0, 0]);
    assert!(text(&o.stderr).contains("verified: 1200 records, all equal"));
    assert_eq!(
        ok(rs(&dst, &["export", "s"])),
        ok(rs(&src, &["export", "s"]))
    );
}

#[test]
fn conflicts_follow_the_policy_and_verify_finds_differences() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_with(dir.path(), "src.db", 10);
    let fresh = |name: &str| {
        let url = sqlite_with(dir.path(), name, 0);
        // A different record under a source key, and one the source does not have.
        ok(rs(&url, &["insert", "s", "k003", r#"{"n":-1}"#]));
        ok(rs(&url, &["insert", "s", "extra", r#"{"n":99}"#]));
        url
    };

    let fail = fresh("fail.db");
    let o = rs(&src, &["copy", "--to", &fail]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("k003"), "{}", text(&o.stderr));
    assert_eq!(ok(rs(&fail, &["get", "s", "k003"])), "{\"n\":-1}\n");

    let skip = fresh("skip.db");
    let o = rs(
        &src,
        &["copy", "--to", &skip, "--on-conflict", "skip", "--verify"],
    );
    assert_eq!(o.status.code(), Some(9), "{}", text(&o.stderr));
    assert_eq!(summary_row(&o, "s"), [10, 9, 0, 1, 0]);
    let err = text(&o.stderr);
    assert!(
        err.contains("conflicting: key \"k003\": the destination holds a different record"),
        "{err}"
    );
    // verify finds the kept difference and the extra record.
    assert!(
        err.contains("source has 10 records, destination 11; 1 of 10 compared differ"),
        "{err}"
    );
    assert!(
        err.contains("different: key \"k003\": the records differ"),
        "{err}"
    );
    assert_eq!(ok(rs(&skip, &["get", "s", "k003"])), "{\"n\":-1}\n");

    let over = fresh("over.db");
    let o = rs(&src, &["copy", "--to", &over, "--on-conflict", "overwrite"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(summary_row(&o, "s"), [10, 10, 0, 0, 0]);
    assert_eq!(
        ok(rs(&over, &["get", "s", "k003"])),
        "{\"id\":\"k003\",\"n\":3}\n"
    );
}

#[test]
fn export_lines_import_back_without_a_key_field() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_with(dir.path(), "src.db", 30);
    let dump = dir.path().join("dump.jsonl");
    std::fs::write(&dump, ok(rs(&src, &["export", "s"]))).unwrap();
    let dst = format!("sqlite://{}", dir.path().join("dst.db").display());
    ok(rs(&dst, &["import", "s", dump.to_str().unwrap()]));
    assert_eq!(
        ok(rs(&dst, &["export", "s"])),
        ok(rs(&src, &["export", "s"]))
    );
    // A plain record without --key-field says what is expected.
    let plain = dir.path().join("plain.jsonl");
    std::fs::write(&plain, "{\"id\":\"a\"}\n").unwrap();
    let o = rs(&dst, &["import", "s", plain.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(6));
    assert!(
        text(&o.stderr).contains("--key-field"),
        "{}",
        text(&o.stderr)
    );
}
