//! The README's migration from event-pipeline, run as written: the real peer (event-pipeline
//! 2.0.0) writes its `results` into Redis (database 3), HDFS (`/event_pipeline`) and its SQLite
//! file, then every command of the README's migration block runs unchanged, in a fresh
//! directory, and every record arrives.

mod common;

use common::run_peer;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// Clears what an earlier run left, then writes 30 EventResults with each of the peer's
/// backends, configured as its users do; prints the keys as JSON.
const PEER_WRITES: &str = r#"
import json, hdfs, redis
from event_pipeline.backends.stores.redis_store import RedisStoreBackend
from event_pipeline.backends.stores.hdfs_store import HDFSStoreBackend
from event_pipeline.backends.stores.sqlite_store import SqliteStoreBackend
from event_pipeline.result import EventResult

for db in (3, 4):
    redis.Redis(host="127.0.0.1", port=6390, db=db).delete("results")
hdfs.InsecureClient("http://127.0.0.1:9870", user="root").delete("/event_pipeline/results", recursive=True)

r_store = RedisStoreBackend(host="127.0.0.1", port=6390, db=3)
h_store = HDFSStoreBackend(host="127.0.0.1", port=9870)
h_store.base_path = "/event_pipeline"
h_store.connector.connect()  # the peer's connector never connects by itself
s_store = SqliteStoreBackend(host="", port=0, db="peer.db")
keys = {}
for name, store in (("redis", r_store), ("hdfs", h_store), ("sqlite", s_store)):
    keys[name] = []
    for i in range(30):
        r = EventResult(error=False, event_name=f"{name}-{i}", content={"n": i, "who": "ü"},
                        task_id=f"t{i}", init_params={"a": i}, call_params={"b": [i]})
        store.insert_record("results", r.id, r)
        keys[name].append(r.id)
print(json.dumps(keys))
"#;

/// The README's migration block: the `recordstore` lines of the code block after the marker.
fn readme_commands() -> Vec<String> {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let (_, after) = readme
        .split_once("<!-- migration: run by crates/recordstore-cli/tests/peer_migration.rs -->")
        .expect("the README's migration marker");
    let block = after
        .split_once("```sh\n")
        .and_then(|(_, b)| b.split_once("```"))
        .expect("a sh block after the marker")
        .0;
    block
        .lines()
        .filter(|l| l.starts_with("recordstore "))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_migration_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let keys: Value =
        serde_json::from_str(&run_peer(PEER_WRITES, &[], b"", Some(dir.path()))).unwrap();

    let commands = readme_commands();
    assert!(commands.len() >= 5, "{commands:?}");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_recordstore"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut outputs = Vec::new();
    for command in &commands {
        let o = Command::new("bash")
            .arg("-c")
            .arg(command)
            .current_dir(dir.path())
            .env("PATH", &path)
            .env_remove("RECORDSTORE_URL")
            .env_remove("RECORDSTORE_CONFIG")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "`{command}` failed: {err}");
        outputs.push((String::from_utf8_lossy(&o.stdout).into_owned(), err));
    }
    assert_eq!(outputs[0].0, "30\n", "count of the peer's Redis records");
    for (_, err) in &outputs[1..4] {
        assert!(err.contains("verified: 30 records, all equal"), "{err}");
    }
    assert!(
        outputs[4].1.contains(" 30 ") && outputs[4].1.lines().nth(1).unwrap().ends_with(" 0"),
        "the rerun: {}",
        outputs[4].1
    );

    // Every record arrived under the peer's key, with the peer's fields.
    let rs = |url: &str, args: &[&str]| {
        let o = Command::new(&bin)
            .arg("--url")
            .arg(url)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    for (name, url) in [
        ("redis", "sqlite://migrated.db"),
        ("hdfs", "redis://127.0.0.1:6390/4"),
        ("sqlite", "sqlite://from-peer-sqlite.db"),
    ] {
        let keys = keys[name].as_array().unwrap();
        assert_eq!(rs(url, &["count", "results"]), "30\n", "{url}");
        let key = keys[7].as_str().unwrap();
        let rec: Value = serde_json::from_str(&rs(url, &["get", "results", key])).unwrap();
        assert_eq!(rec["event_name"], format!("{name}-7"), "{url}");
        assert_eq!(
            rec["content"],
            serde_json::json!({"n": 7, "who": "ü"}),
            "{url}"
        );
        assert_eq!(rec["_id"], key, "{url}");
    }
}
