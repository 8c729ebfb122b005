//! Fault tests on a private redis-server that each test starts (and kills) itself: a server
//! killed mid-workload, restarted on the same port and data directory; plus evidence that
//! each operation is one command and that server-side filtering cuts traffic.

mod redis_common;

use recordstore::connection::{ConnectionMode, PoolOptions};
use recordstore::{
    Document, ErrorKind, Filter, KeyValueStore, KeyValueStoreExt, OpenOptions, RecordKey,
    SchemaName,
};
use redis_common::{await_lane, raw, RedisProcess, DURABLE};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A redis-server of our own: durable (appendfsync always), in a temporary directory.
struct PrivateServer {
    process: RedisProcess,
    _dir: tempfile::TempDir,
}

impl PrivateServer {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut args = DURABLE.to_vec();
        args.extend_from_slice(extra);
        PrivateServer {
            process: RedisProcess::start(dir.path().to_path_buf(), &args),
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.process.port)
    }

    fn launch(&mut self) {
        self.process.launch();
    }

    fn kill(&mut self) {
        self.process.kill();
    }
}

fn options(mode: ConnectionMode) -> OpenOptions {
    OpenOptions {
        mode: Some(mode),
        pool: PoolOptions {
            connection_timeout: Duration::from_secs(2),
            ..PoolOptions::default()
        },
        extras: BTreeMap::new(),
    }
}

fn assert_outage_error(e: &recordstore::Error, what: &str) {
    assert!(
        matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout),
        "{what} during the outage must be a connection error, got {:?}: {e}",
        e.kind()
    );
    assert!(e.is_temporary(), "{e}");
}

async fn kill_mid_workload_then_recover(mode: ConnectionMode) {
    let mut server = PrivateServer::start();
    let store: Arc<dyn KeyValueStore> = recordstore::open_with(&server.url(), &options(mode))
        .await
        .unwrap();
    let sc = "faults";

    // Four writers insert distinct keys; we note which inserts were acknowledged.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (store, stop) = (store.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let (mut acked, mut failures) = (Vec::new(), Vec::new());
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = format!("w{w}-{i}");
                match store.insert(sc, &key, &json!({"w": w, "i": i})).await {
                    Ok(()) => acked.push(key),
                    Err(e) => failures.push(e),
                }
                i += 1;
                if failures.len() >= 5 {
                    break;
                }
            }
            (acked, failures)
        }));
    }
    // Let the workload run, then kill the server under it.
    let t0 = Instant::now();
    while store.count_in(sc).await.unwrap() < 400 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the workload does not progress"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut acked, mut failed) = (Vec::new(), 0);
    for w in writers {
        let (a, failures) = w.await.unwrap();
        for e in &failures {
            assert_outage_error(e, "insert");
        }
        failed += failures.len();
        acked.extend(a);
    }
    assert!(failed > 0, "the writers never noticed the kill");
    assert!(acked.len() >= 400, "{} acknowledged", acked.len());

    // While the server is down, nothing reads as missing, empty or present.
    let known = acked[0].clone();
    let e = store.get::<Value>(sc, &known).await.unwrap_err();
    assert_outage_error(&e, "get");
    assert_outage_error(&store.contains(sc, &known).await.unwrap_err(), "exists");
    assert_outage_error(&store.count_in(sc).await.unwrap_err(), "count");
    assert_outage_error(&store.delete(sc, &known).await.unwrap_err(), "delete");
    assert_outage_error(
        &store.update(sc, &known, &json!({})).await.unwrap_err(),
        "update",
    );
    let e = store
        .filter_record(SchemaName::new(sc).unwrap(), &Filter::all())
        .await
        .unwrap_err();
    assert_outage_error(&e, "filter");
    let keys = [RecordKey::new(&known).unwrap()];
    let e = store
        .get_many(SchemaName::new(sc).unwrap(), &keys)
        .await
        .unwrap_err();
    assert_outage_error(&e, "get_many");

    // Back on the same port and data directory: the store recovers by itself.
    server.launch();
    let back = Instant::now();
    loop {
        match store.get::<Value>(sc, &known).await {
            Ok(v) => {
                assert!(v["i"].is_u64(), "{v}");
                break;
            }
            Err(e) => {
                assert!(e.is_temporary(), "while recovering: {e}");
                assert_ne!(e.kind(), ErrorKind::NotFound, "{e}");
            }
        }
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "the store did not recover within 5 s of the server answering again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every acknowledged write survived the SIGKILL.
    let keys: Vec<RecordKey<'_>> = acked.iter().map(|k| RecordKey::new(k).unwrap()).collect();
    let got = store
        .get_many(SchemaName::new(sc).unwrap(), &keys)
        .await
        .unwrap();
    for (key, r) in acked.iter().zip(&got) {
        let doc = r
            .as_ref()
            .unwrap_or_else(|e| panic!("acknowledged {key} is lost: {e}"));
        let (w, i) = key[1..].split_once('-').unwrap();
        assert_eq!(doc["w"], json!(w.parse::<u64>().unwrap()), "{key}");
        assert_eq!(doc["i"], json!(i.parse::<u64>().unwrap()), "{key}");
    }
    assert!(store.count_in(sc).await.unwrap() >= acked.len() as u64);
    // And writes work again.
    store.insert(sc, "after", &json!({})).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_mode_survives_a_killed_server() {
    kill_mid_workload_then_recover(ConnectionMode::Single).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_mode_survives_a_killed_server() {
    kill_mid_workload_then_recover(ConnectionMode::Pooled).await;
}

/// `INFO commandstats` as command -> calls.
async fn command_calls(conn: &mut redis::aio::MultiplexedConnection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for line in info.lines() {
        if let Some(rest) = line.strip_prefix("cmdstat_") {
            let (name, stats) = rest.split_once(':').unwrap();
            let calls = stats
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))
                .unwrap()
                .parse()
                .unwrap();
            out.insert(name.to_string(), calls);
        }
    }
    out
}

/// The commands one store operation sends, as counted by the server.
async fn commands_of<F, Fut>(conn: &mut redis::aio::MultiplexedConnection, op: F) -> Vec<String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(conn)
        .await
        .unwrap();
    op().await;
    let mut sent = Vec::new();
    for (name, calls) in command_calls(conn).await {
        if name != "config|resetstat" && name != "info" {
            for _ in 0..calls {
                sent.push(name.clone());
            }
        }
    }
    sent
}

#[tokio::test]
async fn each_operation_is_one_command_without_ping() {
    let server = PrivateServer::start();
    let mut admin = raw(&server.url()).await;
    for mode in [ConnectionMode::Single, ConnectionMode::Pooled] {
        let store = recordstore::open_with(&server.url(), &options(mode))
            .await
            .unwrap();
        let sc = format!("onetrip_{mode}");
        // Connect and load the scripts first: that happens once per connection or server.
        store.insert(&sc, "warm", &json!({})).await.unwrap();
        store.update(&sc, "warm", &json!({"v": 1})).await.unwrap();
        let warm = Filter::parse_args(&["v=1"]).unwrap();
        store
            .filter_record(SchemaName::new(&sc).unwrap(), &warm)
            .await
            .unwrap();
        if mode == ConnectionMode::Single {
            // The direct lane opens in the background; its login is not an operation's.
            await_lane(&store, &mut admin, None).await;
        }
        let st = store.clone();
        let sent = commands_of(&mut admin, || async {
            st.insert(&sc, "k", &json!({"v": 1})).await.unwrap()
        })
        .await;
        assert_eq!(sent, ["hsetnx"], "{mode} insert");
        let sent = commands_of(&mut admin, || async {
            st.update(&sc, "k", &json!({"v": 2})).await.unwrap()
        })
        .await;
        assert_eq!(
            sent,
            ["evalsha", "hexists", "hset"],
            "{mode} update (script and its calls)"
        );
        let sent = commands_of(&mut admin, || async {
            st.get::<Value>(&sc, "k").await.unwrap();
        })
        .await;
        assert_eq!(sent, ["hget"], "{mode} get");
        let sent = commands_of(&mut admin, || async {
            st.contains(&sc, "k").await.unwrap();
        })
        .await;
        assert_eq!(sent, ["hexists"], "{mode} exists");
        let sent = commands_of(&mut admin, || async {
            st.count_in(&sc).await.unwrap();
        })
        .await;
        assert_eq!(sent, ["hlen"], "{mode} count");
        let f = Filter::parse_args(&["v=2"]).unwrap();
        let sent = commands_of(&mut admin, || async {
            st.filter_record(SchemaName::new(&sc).unwrap(), &f)
                .await
                .unwrap();
        })
        .await;
        // The default filter mode scans on the client: one HSCAN for a small hash.
        assert_eq!(sent, ["hscan"], "{mode} filter of a small hash");
        let sent = commands_of(&mut admin, || async {
            st.delete(&sc, "k").await.unwrap();
        })
        .await;
        assert_eq!(sent, ["hdel"], "{mode} delete");
        let sent = commands_of(&mut admin, || async {
            let keys = [
                RecordKey::new("warm").unwrap(),
                RecordKey::new("x").unwrap(),
            ];
            st.get_many(SchemaName::new(&sc).unwrap(), &keys)
                .await
                .unwrap();
        })
        .await;
        assert_eq!(sent, ["hmget"], "{mode} get_many");
    }
}

#[tokio::test]
async fn server_side_filtering_cuts_traffic() {
    let server = PrivateServer::start();
    let mut admin = raw(&server.url()).await;
    let writer = recordstore::open(&server.url()).await.unwrap();
    let sc = SchemaName::new("traffic").unwrap();
    let docs: Vec<(String, Document)> = (0..2000)
        .map(|i| {
            let status = if i % 100 == 0 { "done" } else { "running" };
            let d = json!({"status": status, "i": i, "pad": "x".repeat(100)});
            (format!("k{i}"), Document::from_value(d).unwrap())
        })
        .collect();
    let items: Vec<(RecordKey<'_>, Document)> = docs
        .iter()
        .map(|(k, d)| (RecordKey::new(k).unwrap(), d.clone()))
        .collect();
    writer.insert_many(sc, &items).await.unwrap();
    let f = Filter::parse_args(&["status=done"]).unwrap();
    let mut sent_bytes = BTreeMap::new();
    for mode in ["server", "client"] {
        let store = recordstore::open(&format!("{}?filter={mode}", server.url()))
            .await
            .unwrap();
        store.ping().await.unwrap();
        let before = net_output(&mut admin).await;
        let found = store.filter_record(sc, &f).await.unwrap();
        let after = net_output(&mut admin).await;
        assert_eq!(found.len(), 20, "{mode}");
        sent_bytes.insert(mode, after - before);
    }
    assert!(
        sent_bytes["server"] * 5 < sent_bytes["client"],
        "server-side filtering should send far less: {sent_bytes:?}"
    );
}

async fn net_output(conn: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_net_output_bytes:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A server restarted while the store was idle: the first write goes to a fresh connection
/// instead of failing on the dead one (the store noticed the disconnection by itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_write_after_an_idle_restart_succeeds() {
    let mut server = PrivateServer::start();
    for mode in [ConnectionMode::Single, ConnectionMode::Pooled] {
        let store = recordstore::open_with(&server.url(), &options(mode))
            .await
            .unwrap();
        let sc = format!("idle_{mode}");
        store.insert(&sc, "before", &json!({})).await.unwrap();
        server.kill();
        server.launch();
        tokio::time::sleep(Duration::from_millis(100)).await;
        store.insert(&sc, "after", &json!({})).await.unwrap();
        assert_eq!(store.count_in(&sc).await.unwrap(), 2);
    }
}

/// A server that stops answering (SIGSTOP) gives `Timeout` within the configured time, never
/// a wrong answer, and the store works again once it continues (SIGCONT).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_times_out_and_recovers() {
    let server = PrivateServer::start();
    let pid = server.process.child.as_ref().unwrap().id().to_string();
    for mode in [ConnectionMode::Single, ConnectionMode::Pooled] {
        let mut opts = options(mode);
        opts.pool.connection_timeout = Duration::from_millis(300);
        let store = recordstore::open_with(&server.url(), &opts).await.unwrap();
        let sc = format!("hung_{mode}");
        store.insert(&sc, "k", &json!({"v": 1})).await.unwrap();
        let signal = |sig: &str| {
            let ok = Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success();
            assert!(ok, "kill {sig} {pid}");
        };
        signal("-STOP");
        let results = [
            store.get::<Value>(&sc, "k").await.map(|_| ()),
            store.insert(&sc, "k2", &json!({})).await,
            store.count_in(&sc).await.map(|_| ()),
        ];
        signal("-CONT");
        for r in results {
            let e = r.unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Connection),
                "{mode}: {e}"
            );
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let v: Value = loop {
            match store.get(&sc, "k").await {
                Ok(v) => break v,
                Err(e) => assert!(e.is_temporary() && Instant::now() < deadline, "{e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(v, json!({"v": 1}));
    }
}

/// A server without RESP3 (as before Redis 6; here HELLO is renamed away) still works: the
/// connector falls back to RESP2.
#[tokio::test]
async fn servers_without_hello_fall_back_to_resp2() {
    let server = PrivateServer::start_with(&["--rename-command", "HELLO", ""]);
    for mode in [ConnectionMode::Single, ConnectionMode::Pooled] {
        let store = recordstore::open_with(&server.url(), &options(mode))
            .await
            .unwrap();
        let sc = format!("resp2_{mode}");
        store.insert(&sc, "k", &json!({"v": 1})).await.unwrap();
        store.update(&sc, "k", &json!({"v": 2})).await.unwrap();
        let v: Value = store.get(&sc, "k").await.unwrap();
        assert_eq!(v, json!({"v": 2}));
        let f = Filter::parse_args(&["v=2"]).unwrap();
        let found = store
            .filter_record(SchemaName::new(&sc).unwrap(), &f)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        store.ping().await.unwrap();
    }
}
