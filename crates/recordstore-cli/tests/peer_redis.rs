//! The real peer (event-pipeline 2.0.0) and recordstore sharing one live Redis with
//! `?codec=pickle`, in both directions: the peer's `RedisStoreBackend` writes records of its
//! own classes and recordstore reads them (get, filter, count, exists, export); recordstore
//! writes and the peer's `get_record`/`filter_record` and plain `pickle.loads` read them; a
//! pickle that is not plain data is an error naming its key.
//!
//! Needs the plain Redis of scripts/test (`RECORDSTORE_REDIS_URL`, default
//! `redis://127.0.0.1:6390/0`) and the peer's Python: `RECORDSTORE_PEER_PYTHON`, default
//! `target/peer-venv/bin/python` under the workspace root. Without it the tests fail, never
//! skip.

use recordstore::{Document, ErrorKind, Filter, KeyValueStore, KeyValueStoreExt, SchemaName};
use serde_json::{json, Map, Value};
mod common;

use common::{json_lines, ok, rs as cli, run_peer};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

/// The peer's side: one script, a mode per step. Records are a `BackendIntegrationMixin`
/// subclass written as the peer's users write one (`Job`), and the peer's own `EventResult`.
const PEER: &str = r#"
import datetime, json, pickle, sys, typing
from pydantic_mini import BaseModel
from event_pipeline.mixins import BackendIntegrationMixin
from event_pipeline.result import EventResult
from event_pipeline.backends.stores.redis_store import RedisStoreBackend


class Job(BackendIntegrationMixin, BaseModel):
    status: str
    attempts: int
    tags: typing.List[typing.Any]
    meta: typing.Dict[str, typing.Any]

    def get_state(self):
        return self.__dict__.copy()

    def set_state(self, state):
        self.__dict__.update(state)


mode, host, port, db, schema = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
store = RedisStoreBackend(host=host, port=port, db=db)
redis = store.connector.cursor


def as_json(state):
    return json.loads(json.dumps(state))  # a tuple becomes a list, as recordstore reads it


if mode == "write":
    out = {}
    for i in range(9):
        job = Job(status="done" if i % 3 == 0 else "running", attempts=i,
                  tags=["a", ("b", i)], meta={"none": None, "f": i + 0.5, "big": 2**40 + i,
                                              "text": "d\u00e9j\u00e0 vu \u2713", "ok": i % 2 == 0})
        store.insert_record(schema, job.id, job)
        out[job.id] = as_json(job.__getstate__())
    event = EventResult(error=False, event_name="ev", content={"n": 1, "l": [1, 2]},
                        task_id="t1", init_params=None, call_params=None)
    store.insert_record(schema, event.id, event)
    out[event.id] = as_json(event.__getstate__())
    print(json.dumps(out))
elif mode == "read":
    want = json.load(sys.stdin)
    got = {"plain": {}, "records": {}}
    for key, state in want.items():
        got["plain"][key] = pickle.loads(redis.hget(schema, key)) == state
        klass = EventResult if state.get("event_name") else Job
        record = store.get_record(schema, klass, key)
        if klass is Job:
            got["records"][key] = {"id": record.id, "status": record.status,
                                   "attempts": record.attempts, "tags": record.tags,
                                   "meta": record.meta}
        else:
            got["records"][key] = {"id": record.id, "event_name": record.event_name,
                                   "content": record.content, "task_id": record.task_id}
    done = store.filter_record(schema, Job, status="done")
    got["done"] = sorted(r.id for r in done)
    # The peer updates one of our records, for recordstore to read back.
    first = sorted(k for k, s in want.items() if not s.get("event_name"))[0]
    job = store.get_record(schema, Job, first)
    job.attempts = 99
    store.update_record(schema, first, job)
    got["updated"] = first
    print(json.dumps(got))
elif mode == "bad":
    job = Job(status="done", attempts=1, tags=[], meta={})
    cases = {
        "instance": {"job": job},
        "object": job,  # the record object itself, not its state
        "datetime": {"at": datetime.datetime(2024, 5, 1, 12, 30)},
        "set": {"tags": {"a", "b"}},
        "bytes": {"raw": b"\x00\x01"},
        "intkey": {1: "one"},
        "nan": {"f": float("nan")},
    }
    for name, value in cases.items():
        # One bad record among good ones, in a schema of its own.
        redis.hset(f"{schema}_{name}", "good", pickle.dumps({"status": "done"}, 5))
        redis.hset(f"{schema}_{name}", f"bad-{name}", pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    print(json.dumps(sorted(cases)))
elif mode == "drop":
    for name in redis.scan_iter(match=schema + "*"):
        redis.delete(name)
    print("[]")
"#;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The plain test server's URL, host, port and database.
fn redis_server() -> (String, String, u16, u32) {
    let url = std::env::var("RECORDSTORE_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6390/0".into());
    let rest = url.strip_prefix("redis://").expect("a redis:// URL");
    let rest = rest.split('?').next().unwrap();
    let rest = rest.rsplit('@').next().unwrap();
    let (hostport, db) = rest.split_once('/').unwrap_or((rest, "0"));
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "6379"));
    let db = if db.is_empty() { "0" } else { db };
    let base = url.split('?').next().unwrap().to_string();
    (
        base,
        host.to_string(),
        port.parse().unwrap(),
        db.trim_end_matches('/').parse().unwrap(),
    )
}

fn pickle_url() -> String {
    format!("{}?codec=pickle", redis_server().0)
}

/// Runs the peer's script in `mode` on `schema`, feeding `input`; its stdout as JSON.
fn peer(mode: &str, schema: &str, input: &Value) -> Value {
    let (_, host, port, db) = redis_server();
    let (port, db) = (port.to_string(), db.to_string());
    let args = [mode, host.as_str(), &port, &db, schema];
    let out = run_peer(PEER, &args, input.to_string().as_bytes(), None);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("the peer printed no JSON ({e}):\n{out}"))
}

async fn open_pickle() -> Arc<dyn KeyValueStore> {
    let store = recordstore::open(&pickle_url()).await.unwrap();
    store.ping().await.unwrap_or_else(|e| {
        panic!("the Redis server does not answer ({e}); start it with scripts/start-redis.sh")
    });
    store
}

/// A schema of this test run alone: the servers are shared.
fn schema(name: &str) -> String {
    format!("peer_{name}_{}", std::process::id())
}

struct Cleanup(String);
impl Drop for Cleanup {
    /// Removes the test's hashes; never panics, so that a failing test reports its own cause.
    fn drop(&mut self) {
        let (_, host, port, db) = redis_server();
        let python = std::env::var_os("RECORDSTORE_PEER_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/peer-venv/bin/python"));
        let _ = Command::new(python)
            .args([
                "-c",
                PEER,
                "drop",
                &host,
                &port.to_string(),
                &db.to_string(),
                &self.0,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[tokio::test]
async fn the_peer_writes_and_recordstore_reads() {
    let s = schema("w");
    let _cleanup = Cleanup(s.clone());
    let written = peer("write", &s, &json!(null));
    let written = written.as_object().unwrap();
    assert_eq!(written.len(), 10);
    let store = open_pickle().await;
    let name = SchemaName::new(&s).unwrap();

    assert_eq!(store.count(name).await.unwrap(), 10);
    for (key, state) in written {
        assert!(store.contains(&s, key).await.unwrap(), "{key}");
        let doc: Value = store.get(&s, key).await.unwrap();
        assert_eq!(&doc, state, "{key}");
    }
    assert!(!store.contains(&s, "nope").await.unwrap());

    let done = store
        .filter_record(name, &Filter::parse_args(&["status=done"]).unwrap())
        .await
        .unwrap();
    let mut done_keys: Vec<&str> = done.iter().map(|(k, _)| k.as_str()).collect();
    done_keys.sort();
    let mut want: Vec<&str> = written
        .iter()
        .filter(|(_, st)| st["status"] == "done")
        .map(|(k, _)| k.as_str())
        .collect();
    want.sort();
    assert_eq!(done_keys, want);
    assert_eq!(want.len(), 3);
    for (k, d) in &done {
        assert_eq!(&d.clone().into_value(), &written[k]);
    }
    // Filters on nested, unicode and big-int fields, through the pickle prefilter.
    for (arg, n) in [
        ("meta.text=d\u{e9}j\u{e0} vu \u{2713}", 9),
        ("meta.big__gte=1099511627780", 5),
        ("meta.ok=true", 5),
        ("event_name=ev", 1),
        ("status__in=[\"running\"]", 6),
        ("tags__contains=a", 9),
    ] {
        let got = store
            .filter_record(name, &Filter::parse_args(&[arg]).unwrap())
            .await
            .unwrap();
        assert_eq!(got.len(), n, "{arg}");
    }

    // export: every record, as JSON Lines.
    let lines = json_lines(&ok(cli(&pickle_url(), &["export", &s])));
    assert_eq!(lines.len(), 10);
    for line in &lines {
        let key = line["key"].as_str().unwrap();
        assert_eq!(line["record"], written[key], "{key}");
    }
    // The same store read as JSON says what it is, naming a key.
    let out = cli(
        &redis_server().0,
        &["get", &s, lines[0]["key"].as_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(6));
}

#[tokio::test]
async fn recordstore_writes_and_the_peer_reads() {
    let s = schema("r");
    let _cleanup = Cleanup(s.clone());
    let store = open_pickle().await;
    let mut states = Map::new();
    for i in 0..6 {
        let key = format!("Job-{i}-\u{e9}");
        // `_backend` as the peer writes it: its records cannot be saved again without one.
        let state = json!({
            "_id": key,
            "_backend": "abc.ABCMeta",
            "status": if i % 2 == 0 { "done" } else { "running" },
            "attempts": i,
            "tags": ["x", i, null, 2.5],
            "meta": {"nested": {"deep": [i, "s"]}, "big": 1i64 << 50, "neg": -i},
        });
        states.insert(key, state);
    }
    states.insert(
        "EventResult-1".into(),
        json!({"_id": "EventResult-1", "error": false, "event_name": "ev", "content": {"n": 1},
               "task_id": "t1", "call_params": null, "process_id": 7,
               "creation_time": 1714567890.25, "init_params": {"execution_context": {}},
               "_backend": "abc.ABCMeta"}),
    );
    // Half one by one, half in one batch.
    let all: Vec<(String, Value)> = states.clone().into_iter().collect();
    for (key, state) in &all[..3] {
        store.insert(&s, key, state).await.unwrap();
    }
    let name = SchemaName::new(&s).unwrap();
    let batch: Vec<(recordstore::RecordKey<'_>, Document)> = all[3..]
        .iter()
        .map(|(k, v)| {
            (
                recordstore::RecordKey::new(k).unwrap(),
                Document::from_value(v.clone()).unwrap(),
            )
        })
        .collect();
    for r in store.insert_many(name, &batch).await.unwrap() {
        r.unwrap();
    }
    // An update through recordstore, which the peer must see.
    let updated_key = "Job-1-\u{e9}";
    let mut updated = states[updated_key].clone();
    updated["status"] = json!("done");
    store.update(&s, updated_key, &updated).await.unwrap();
    states.insert(updated_key.into(), updated);

    let got = peer("read", &s, &Value::Object(states.clone()));
    for (key, state) in &states {
        assert_eq!(
            got["plain"][key],
            json!(true),
            "pickle.loads of {key} is not its dict"
        );
        let record = &got["records"][key];
        assert_eq!(record["id"], json!(key));
        if state.get("event_name").is_some() {
            assert_eq!(record["event_name"], "ev");
            assert_eq!(record["content"], json!({"n": 1}));
            assert_eq!(record["task_id"], "t1");
        } else {
            for field in ["status", "attempts", "tags", "meta"] {
                assert_eq!(record[field], state[field], "{key}.{field}");
            }
        }
    }
    let mut want_done: Vec<&String> = states
        .iter()
        .filter(|(_, st)| st["status"] == "done")
        .map(|(k, _)| k)
        .collect();
    want_done.sort();
    assert_eq!(got["done"], json!(want_done));
    assert_eq!(want_done.len(), 4);

    // The peer's update comes back.
    let key = got["updated"].as_str().unwrap();
    let back: Value = store.get(&s, key).await.unwrap();
    assert_eq!(back["attempts"], json!(99));
    assert_eq!(back["meta"], states[key]["meta"]);
}

#[tokio::test]
async fn pickles_that_are_not_plain_data_are_errors_naming_the_key() {
    let s = schema("bad");
    let _cleanup = Cleanup(s.clone());
    let cases = peer("bad", &s, &json!(null));
    let store = open_pickle().await;
    let expected = [
        ("bytes", "bytes"),
        ("datetime", "datetime.datetime"),
        ("instance", "__main__.Job"),
        ("intkey", "not a str"),
        ("nan", "NaN"),
        ("object", "__main__.Job"),
        ("set", "a set"),
    ];
    assert_eq!(
        cases,
        json!(expected.iter().map(|(c, _)| *c).collect::<Vec<_>>())
    );
    for (case, says) in expected {
        let schema = format!("{s}_{case}");
        let name = SchemaName::new(&schema).unwrap();
        let key = format!("bad-{case}");
        assert_eq!(store.count(name).await.unwrap(), 2);
        assert!(store.contains(&schema, &key).await.unwrap());
        let good: Value = store.get(&schema, "good").await.unwrap();
        assert_eq!(good, json!({"status": "done"}));

        let e = store.get::<Value>(&schema, &key).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{case}: {e}");
        let m = e.to_string();
        assert!(m.contains(&format!("{key:?}")), "{case}: {m}");
        assert!(m.contains(&format!("{schema:?}")), "{case}: {m}");
        assert!(m.contains(says), "{case}: {m}");

        // A filter meets the bad record whether or not it could match.
        for arg in ["status=done", "status=nothing-has-this"] {
            let e = store
                .filter_record(name, &Filter::parse_args(&[arg]).unwrap())
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{case} {arg}: {e}");
            assert!(e.to_string().contains(&format!("{key:?}")), "{case}: {e}");
        }
        let out = cli(&pickle_url(), &["get", &schema, &key]);
        assert_eq!(out.status.code(), Some(6), "{case}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&key) && err.contains(says), "{case}: {err}");
    }
}
