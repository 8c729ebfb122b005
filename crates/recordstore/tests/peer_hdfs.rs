//! HDFS interop with the real peer, event-pipeline 2.0.0: its `HDFSStoreBackend` (WebHDFS
//! through the `hdfs` package) writes and we read, over `hdfs://` and `webhdfs://`; we write
//! and it reads.
//!
//! The peer's python comes from `RECORDSTORE_PEER_PYTHON`, else
//! `<workspace>/target/peer-venv/bin/python`. Without it these tests fail (never skip): make it
//! with `python3 -m venv target/peer-venv && target/peer-venv/bin/pip install
//! event-pipeline==2.0.0 hdfs`. HDFS is the MiniDFSCluster of `scripts/start-hdfs.sh`
//! (`RECORDSTORE_HDFS_URL`, `RECORDSTORE_WEBHDFS_URL` as in `tests/hdfs.rs`).
#![cfg(feature = "hdfs")]

use recordstore::{ErrorKind, Filter, KeyValueStore, KeyValueStoreExt, OpenOptions, SchemaName};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

type Store = Arc<dyn KeyValueStore>;

fn native_url() -> String {
    std::env::var("RECORDSTORE_HDFS_URL")
        .unwrap_or_else(|_| "hdfs://127.0.0.1:9000/recordstore-test".into())
}

fn web_url() -> String {
    std::env::var("RECORDSTORE_WEBHDFS_URL")
        .unwrap_or_else(|_| "webhdfs://127.0.0.1:9870/recordstore-test".into())
}

/// The keys of issue 13: plain, non-ASCII, with a space, and with `/` (a subdirectory for
/// the peer).
const KEYS: [&str; 4] = ["p0", "über", "a b", "x/y"];

fn state(i: usize, key: &str) -> Value {
    json!({"id": key, "status": if i % 2 == 0 { "done" } else { "running" }, "n": i})
}

/// A base path no other test or process uses (the peer's stores sit right under it).
fn unique_base(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let root = url::Url::parse(&web_url())
        .unwrap()
        .path()
        .trim_end_matches('/')
        .to_string();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{root}/peer_{name}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Our store at `base` over the transport of `url`.
async fn ours(url: &str, base: &str) -> Store {
    let u = url::Url::parse(url).unwrap();
    let at = format!(
        "{}://{}:{}{base}",
        u.scheme(),
        u.host_str().unwrap(),
        u.port().unwrap()
    );
    recordstore::open_with(&at, &OpenOptions::default())
        .await
        .unwrap_or_else(|e| panic!("HDFS at {at} is unreachable ({e}); run scripts/start-hdfs.sh"))
}

fn peer_python() -> PathBuf {
    let path = std::env::var_os("RECORDSTORE_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let workspace = crate_dir.parent().and_then(|p| p.parent()).unwrap();
            workspace.join("target/peer-venv/bin/python")
        });
    if !path.exists() {
        panic!(
            "the peer's python {} does not exist: make it with `python3 -m venv target/peer-venv \
             && target/peer-venv/bin/pip install event-pipeline==2.0.0 hdfs` (at the workspace \
             root), or point RECORDSTORE_PEER_PYTHON at a python that has event-pipeline 2.0.0",
            path.display()
        );
    }
    path
}

/// Drives the peer's `HDFSStoreBackend`; one JSON command in `argv[1]`, one JSON answer out.
const PEER: &str = r#"
import json, sys
from event_pipeline.backends.stores.hdfs_store import HDFSStoreBackend
from event_pipeline.exceptions import ObjectDoesNotExist

class Rec:
    def __getstate__(self):
        return dict(self.__dict__)
    def __setstate__(self, state):
        self.__dict__.update(state)

cmd = json.loads(sys.argv[1])
# As the peer's users configure it: WebHDFS host and port. Its constructor hands every option
# to the connector, which refuses base_path (TypeError), so the path is set as an attribute.
store = HDFSStoreBackend(host=cmd["host"], port=cmd["port"])
store.base_path = cmd["base_path"]
store.connector.connect()  # the peer's connector never connects by itself
schema, out = cmd["schema"], {}
if cmd["op"] == "insert":
    for key, st in cmd["records"]:
        rec = Rec()
        rec.__setstate__(st)
        store.insert_record(schema, key, rec)
elif cmd["op"] == "plant":
    for rel, text in cmd["files"]:
        store.connector.cursor.write(store._get_schema_path(schema) + "/" + rel,
                                     text.encode(), overwrite=True)
elif cmd["op"] == "read":
    out["exists"], out["get"] = {}, {}
    for key in cmd["keys"]:
        out["exists"][key] = store.exists(schema, key)
        try:
            out["get"][key] = store.get_record(schema, Rec, key).__getstate__()
        except ObjectDoesNotExist:
            out["get"][key] = None
    found = store.filter_record(schema, Rec, **cmd.get("where", {}))
    out["filter"] = sorted((r.__getstate__() for r in found), key=lambda s: s["id"])
    out["count"] = store.count(schema)
print(json.dumps(out))
"#;

fn peer(op: &str, base: &str, schema: &str, args: Value) -> Value {
    let u = url::Url::parse(&web_url()).unwrap();
    let mut cmd = json!({
        "op": op,
        "host": u.host_str().unwrap(),
        "port": u.port().unwrap(),
        "base_path": base,
        "schema": schema,
    });
    cmd.as_object_mut()
        .unwrap()
        .extend(args.as_object().unwrap().clone());
    let python = peer_python();
    let out = Command::new(&python)
        .arg("-c")
        .arg(PEER)
        .arg(cmd.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the peer's python {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "peer {op} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "peer {op} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn s(name: &str) -> SchemaName<'_> {
    SchemaName::new(name).unwrap()
}

async fn keys_and_docs(store: &Store, schema: &str, filter: &Filter) -> Vec<(String, Value)> {
    let mut all: Vec<(String, Value)> = store
        .filter_record(s(schema), filter)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, d)| (k, d.into_value()))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_writes_and_we_read_over_both_transports() {
    peer_python(); // fail before writing anything when the peer is missing
    let base = unique_base("writes");
    let records: Vec<(String, Value)> = KEYS
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_string(), state(i, k)))
        .collect();
    peer("insert", &base, "tasks", json!({ "records": records }));
    let mut expected = records.clone();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    for url in [native_url(), web_url()] {
        let store = ours(&url, &base).await;
        for (i, key) in KEYS.iter().enumerate() {
            let v: Value = store.get("tasks", key).await.unwrap();
            assert_eq!(v, state(i, key), "{url}: {key}");
            assert!(store.contains("tasks", key).await.unwrap(), "{url}: {key}");
        }
        assert!(!store.contains("tasks", "x").await.unwrap());
        assert_eq!(store.count_in("tasks").await.unwrap(), 4, "{url}");
        assert_eq!(
            keys_and_docs(&store, "tasks", &Filter::all()).await,
            expected,
            "{url}"
        );
        let done = keys_and_docs(
            &store,
            "tasks",
            &Filter::parse_args(&["status=done"]).unwrap(),
        )
        .await;
        let done_keys: Vec<&str> = done.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(done_keys, vec!["a b", "p0"], "{url}");
    }
    // And we update and delete what the peer wrote; the peer sees it.
    let store = ours(&native_url(), &base).await;
    store
        .update(
            "tasks",
            "x/y",
            &json!({"id": "x/y", "status": "done", "n": 30}),
        )
        .await
        .unwrap();
    store
        .update(
            "tasks",
            "über",
            &json!({"id": "über", "status": "done", "n": 10}),
        )
        .await
        .unwrap();
    store.delete("tasks", "a b").await.unwrap();
    let seen = peer("read", &base, "tasks", json!({ "keys": KEYS }));
    assert_eq!(seen["get"]["x/y"]["n"], json!(30), "{seen}");
    assert_eq!(seen["get"]["über"]["n"], json!(10), "{seen}");
    assert_eq!(seen["exists"]["a b"], json!(false), "{seen}");
    assert_eq!(
        seen["count"],
        json!(2),
        "the peer counts its top-level files: {seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_write_and_the_peer_reads() {
    peer_python(); // fail before writing anything when the peer is missing
    for url in [native_url(), web_url()] {
        let base = unique_base("reads");
        let store = ours(&url, &base).await;
        for (i, key) in KEYS.iter().enumerate() {
            store.insert("tasks", key, &state(i, key)).await.unwrap();
        }
        let seen = peer("read", &base, "tasks", json!({ "keys": KEYS }));
        // Keys that are file names are where the peer looks for them.
        for (i, key) in KEYS.iter().enumerate().take(3) {
            assert_eq!(seen["get"][key], state(i, key), "{url}: {key}: {seen}");
            assert_eq!(seen["exists"][key], json!(true), "{url}: {key}");
        }
        // `x/y` is no file name: we write it encoded (`~eC95.json`), which the peer's
        // filter reads but its lookup by key (`x/y.json`) does not find.
        assert_eq!(seen["get"]["x/y"], Value::Null, "{url}: {seen}");
        assert_eq!(seen["exists"]["x/y"], json!(false), "{url}");
        let mut all: Vec<Value> = KEYS.iter().enumerate().map(|(i, k)| state(i, k)).collect();
        all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        assert_eq!(seen["filter"], json!(all), "{url}: {seen}");
        assert_eq!(seen["count"], json!(4), "{url}: {seen}");
        let done = peer(
            "read",
            &base,
            "tasks",
            json!({ "keys": [], "where": {"status": "done"} }),
        );
        let ids: Vec<&str> = done["filter"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec!["a b", "p0"], "{url}: {done}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stray_files_are_skipped_and_a_corrupt_record_is_an_error_naming_it() {
    peer_python(); // fail before writing anything when the peer is missing
    let base = unique_base("stray");
    let records: Vec<(String, Value)> = KEYS
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_string(), state(i, k)))
        .collect();
    peer("insert", &base, "tasks", json!({ "records": records }));
    peer(
        "plant",
        &base,
        "tasks",
        json!({ "files": [["notes.txt", "not a record"], ["x/README", "stray"], ["..json", "{}"]] }),
    );
    for url in [native_url(), web_url()] {
        let store = ours(&url, &base).await;
        assert_eq!(store.count_in("tasks").await.unwrap(), 4, "{url}");
        let keys: Vec<String> = keys_and_docs(&store, "tasks", &Filter::all())
            .await
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, vec!["a b", "p0", "x/y", "über"], "{url}");
    }
    // A record file (its name is a key) with bad JSON: an error naming the key and the file,
    // never a shorter list.
    peer(
        "plant",
        &base,
        "tasks",
        json!({ "files": [["x/broken.json", "{\"id\": "]] }),
    );
    for url in [native_url(), web_url()] {
        let store = ours(&url, &base).await;
        let e = store
            .filter_record(s("tasks"), &Filter::all())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{url}: {e}");
        let text = e.to_string();
        assert!(text.contains("\"x/broken\""), "{url}: {text}");
        assert!(text.contains("tasks/x/broken.json"), "{url}: {text}");
        let e = store.get::<Value>("tasks", "x/broken").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{url}: {e}");
        // count reads no file: the corrupt record counts, the stray files do not.
        assert_eq!(store.count_in("tasks").await.unwrap(), 5, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_in_the_previous_encoding_is_still_read() {
    peer_python(); // fail before writing anything when the peer is missing
    let base = unique_base("legacy");
    // What the previous recordstore wrote for `über` (and the peer could not find).
    peer(
        "plant",
        &base,
        "tasks",
        json!({ "files": [["~w7xiZXI.json", "{\"id\": \"über\", \"n\": 1}"], ["p0.json", "{\"id\": \"p0\", \"n\": 0}"]] }),
    );
    for url in [native_url(), web_url()] {
        let store = ours(&url, &base).await;
        let v: Value = store.get("tasks", "über").await.unwrap();
        assert_eq!(v, json!({"id": "über", "n": 1}), "{url}");
        assert!(store.contains("tasks", "über").await.unwrap());
        assert_eq!(store.count_in("tasks").await.unwrap(), 2, "{url}");
        let keys: Vec<String> = keys_and_docs(&store, "tasks", &Filter::all())
            .await
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, vec!["p0", "über"], "{url}");
    }
    // The peer then inserts `über` (it looks only at `über.json`): one key, the peer's record.
    peer(
        "insert",
        &base,
        "tasks",
        json!({ "records": [["über", {"id": "über", "n": 2}]] }),
    );
    for url in [native_url(), web_url()] {
        let store = ours(&url, &base).await;
        let v: Value = store.get("tasks", "über").await.unwrap();
        assert_eq!(v["n"], json!(2), "{url}");
        assert_eq!(store.count_in("tasks").await.unwrap(), 2, "{url}");
    }
}
