//! event-pipeline's own SQLite store as a copy source (`sqlite+peer://`), written by the real
//! peer (event-pipeline 2.0.0, from the venv that scripts/test makes).

mod common;

use common::{json_lines, ok, rs, run_peer};
use serde_json::Value;

/// The peer's SqliteStoreBackend writes EventResults as its users' pipelines do; prints each
/// record's key and `__getstate__()` as JSON lines.
const PEER_WRITES: &str = r#"
import json, sys
from event_pipeline.backends.stores.sqlite_store import SqliteStoreBackend
from event_pipeline.result import EventResult
b = SqliteStoreBackend(host="", port=0, db=sys.argv[1])
for i in range(25):
    r = EventResult(error=bool(i % 2), event_name=f"ev{i}",
                    content={"n": i, "quote": "it's \"x\"", "uni": "über ☃", "nested": {"l": [1, 2.5, None, True]}},
                    task_id=f"task-{i}", init_params={"a": i}, call_params={"b": [i, "x"]})
    b.insert_record("results", r.id, r)
    state = r.__getstate__()
    state.pop("_backend", None)
    print(json.dumps({"key": r.id, "state": state}))
"#;

#[test]
fn the_peers_sqlite_store_is_read_and_copied() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("peer.db");
    let written = json_lines(&run_peer(PEER_WRITES, &[db.to_str().unwrap()], b"", None));
    assert_eq!(written.len(), 25);
    let peer_url = format!("sqlite+peer://{}", db.display());

    assert_eq!(ok(rs(&peer_url, &["count", "results"])), "25\n");
    let exported = json_lines(&ok(rs(&peer_url, &["export", "results"])));
    assert_eq!(exported.len(), 25);
    for w in &written {
        let key = w["key"].as_str().unwrap();
        let got = exported
            .iter()
            .find(|e| e["key"] == key)
            .unwrap_or_else(|| panic!("{key} not exported"));
        let (state, record) = (&w["state"], &got["record"]);
        for field in [
            "_id",
            "event_name",
            "content",
            "task_id",
            "init_params",
            "call_params",
            "process_id",
            "creation_time",
        ] {
            assert_eq!(record[field], state[field], "{key}: field {field}");
        }
        // The peer declares EventResult.error as JSON (not BOOLEAN), so SQLite kept 0 or 1.
        assert_eq!(
            record["error"],
            Value::from(i64::from(state["error"] == true)),
            "{key}"
        );
    }
    // get and exists by the peer's key; the store is read-only.
    let key = written[3]["key"].as_str().unwrap();
    assert_eq!(ok(rs(&peer_url, &["exists", "results", key])), "true\n");
    let one: Value = serde_json::from_str(&ok(rs(&peer_url, &["get", "results", key]))).unwrap();
    assert_eq!(one["event_name"], "ev3");
    let o = rs(&peer_url, &["insert", "results", "new", "{}"]);
    assert_eq!(o.status.code(), Some(8));
    assert!(String::from_utf8_lossy(&o.stderr).contains("read-only"));

    // Migrate it: every record arrives, verified, and a rerun changes nothing.
    let ours = format!("sqlite://{}", dir.path().join("ours.db").display());
    let o = rs(&peer_url, &["copy", "--to", &ours, "--verify"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    assert!(err.contains("verified: 25 records, all equal"), "{err}");
    assert_eq!(
        ok(rs(&ours, &["export", "results"])),
        ok(rs(&peer_url, &["export", "results"]))
    );
    let o = rs(&peer_url, &["copy", "--to", &ours]);
    assert!(o.status.success());
    assert_eq!(ok(rs(&ours, &["count", "results"])), "25\n");
}
