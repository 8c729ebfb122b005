//! HDFS failures: a NameNode that is not there, one that drops packets, and one that dies in
//! the middle of a workload (a second MiniDFSCluster started and killed by this test, so the
//! shared cluster of `tests/hdfs.rs` is left alone). Every operation must then fail with
//! `Connection` or `Timeout` — never `NotFound`, `false`, 0 or an empty list.
#![cfg(feature = "hdfs")]

use recordstore::backends::hdfs::HdfsStore;
use recordstore::connection::PoolOptions;
use recordstore::{
    Document, Error, ErrorKind, Filter, KeyValueStore, KeyValueStoreExt, OpenOptions, RecordKey,
    SchemaName,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn options(connection_timeout: Duration) -> OpenOptions {
    let mut o = OpenOptions {
        pool: PoolOptions {
            connection_timeout,
            ..PoolOptions::default()
        },
        ..OpenOptions::default()
    };
    o.extras.insert("request_timeout".into(), "10".into());
    o
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn assert_unreachable(what: &str, e: &Error, addr: &str) {
    assert!(
        matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout),
        "{what}: expected a connection error, got {:?}: {e}",
        e.kind()
    );
    assert!(e.is_temporary(), "{what}: {e}");
    if !addr.is_empty() {
        assert!(
            e.to_string().contains(addr),
            "{what}: message should name {addr}: {e}"
        );
    }
}

/// Runs every operation once; each must fail as unreachable.
async fn every_operation_fails(store: &dyn KeyValueStore, addr: &str, key: &str) {
    let sc = SchemaName::new("faults").unwrap();
    let k = RecordKey::new(key).unwrap();
    let doc = Document::from_value(json!({"v": 1})).unwrap();
    let limit = Duration::from_secs(60);
    macro_rules! check {
        ($what:expr, $fut:expr) => {{
            let r = tokio::time::timeout(limit, $fut)
                .await
                .unwrap_or_else(|_| panic!("{} hung", $what));
            match r {
                Ok(v) => panic!("{} succeeded against a dead NameNode: {v:?}", $what),
                Err(e) => assert_unreachable($what, &e, addr),
            }
        }};
    }
    check!("exists", store.exists(sc, k));
    check!("count", store.count(sc));
    check!("insert", store.insert_record(sc, k, &doc));
    check!("update", store.update_record(sc, k, &doc));
    check!("delete", store.delete_record(sc, k));
    check!("get", store.get_record(sc, k));
    check!("filter all", store.filter_record(sc, &Filter::all()));
    check!(
        "filter eq",
        store.filter_record(sc, &Filter::parse_args(&["v=1"]).unwrap())
    );
    check!("insert_many", store.insert_many(sc, &[(k, doc.clone())]));
    check!("get_many", store.get_many(sc, &[k]));
    check!("delete_many", store.delete_many(sc, &[k]));
    check!("ping", store.ping());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_a_connection_error_for_every_operation() {
    let port = closed_port();
    for scheme in ["hdfs", "webhdfs"] {
        let url = format!("{scheme}://127.0.0.1:{port}/recordstore-test");
        let addr = format!("127.0.0.1:{port}");
        let opts = options(Duration::from_secs(2));
        let e = recordstore::open_with(&url, &opts).await.unwrap_err();
        assert_unreachable(&format!("open {url}"), &e, &addr);
        assert_eq!(e.exit_code(), 5);
        let store = HdfsStore::from_url(&url, &opts).unwrap();
        every_operation_fails(&store, &addr, "k").await;
        let stats = store.stats().unwrap();
        assert!(stats.connect_errors > 0, "{stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_never_answers_times_out() {
    // TEST-NET-1 (RFC 5737) is never routed: connects hang (or fail at once if there is no
    // route); either way the answer is a connection error or a timeout, within the limit.
    for scheme in ["hdfs", "webhdfs"] {
        let url = format!("{scheme}://192.0.2.1:9000/recordstore-test");
        let store = HdfsStore::from_url(&url, &options(Duration::from_millis(500))).unwrap();
        every_operation_fails(&store, "", "k").await;
    }
}

/// A second MiniDFSCluster on its own ports and directories, stopped when dropped.
struct Cluster {
    nn_port: u16,
    http_port: u16,
    dir: PathBuf,
}

impl Cluster {
    fn script(name: &str) -> PathBuf {
        // The workspace root holds scripts/; this crate sits two levels below it.
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts")
            .join(name)
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("minidfs.pid")
    }

    fn start_on(nn_port: u16, http_port: u16, dir: PathBuf) -> Self {
        let c = Cluster {
            nn_port,
            http_port,
            dir,
        };
        c.start();
        c
    }

    fn start(&self) {
        std::fs::create_dir_all(&self.dir).unwrap();
        let out = Command::new("bash")
            .arg(Self::script("start-hdfs.sh"))
            .env("HDFS_NN_PORT", self.nn_port.to_string())
            .env("HDFS_HTTP_PORT", self.http_port.to_string())
            .env("HDFS_DATA_DIR", self.dir.join("data"))
            .env("HDFS_PID_FILE", self.pid_file())
            .env("HDFS_LOG", self.dir.join("minidfs.log"))
            .env("HDFS_HEAP", "512m")
            .output()
            .expect("run scripts/start-hdfs.sh");
        assert!(
            out.status.success(),
            "second MiniDFSCluster did not start:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pid(&self) -> u32 {
        std::fs::read_to_string(self.pid_file())
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// SIGKILL, as a crash would: no clean shutdown.
    fn kill(&self) {
        let pid = self.pid();
        let status = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while PathBuf::from(format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = std::fs::remove_file(self.pid_file());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Self::script("stop-hdfs.sh"))
            .env("HDFS_PID_FILE", self.pid_file())
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug)]
enum Outcome {
    Ok,
    /// Kind, whether temporary, message.
    Failed(ErrorKind, bool, String),
}

/// One step of the background workload: reads of records known to exist, a count, a filter
/// and an insert. A wrong answer (NotFound, a short count or list) is recorded as a failure
/// of kind NotFound so the test can see it.
async fn step(store: &Arc<dyn KeyValueStore>, sc: &str, worker: usize, i: usize) -> Outcome {
    let key = format!("k{}", i % 20);
    let r: Result<(), Error> = async {
        let v: Value = store.get(sc, &key).await?;
        assert_eq!(v["i"], json!(i % 20));
        if !store.contains(sc, &key).await? {
            return Err(Error::not_found(sc, &key));
        }
        let n = store.count_in(sc).await?;
        if n < 20 {
            return Err(Error::not_found(sc, format!("count was {n}")));
        }
        let all = store
            .filter_record(SchemaName::new(sc).unwrap(), &Filter::all())
            .await?;
        if all.len() < 20 {
            return Err(Error::not_found(sc, format!("filter gave {}", all.len())));
        }
        store
            .insert(sc, &format!("w{worker}-{i}"), &json!({"w": i}))
            .await
    }
    .await;
    match r {
        Ok(()) => Outcome::Ok,
        Err(e) => Outcome::Failed(e.kind(), e.is_temporary(), e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namenode_killed_mid_workload_gives_connection_errors_then_recovers() {
    let (nn_port, http_port) = (closed_port(), closed_port());
    let dir = std::env::temp_dir().join(format!("recordstore-hdfs-fault-{}", std::process::id()));
    let cluster = Cluster::start_on(nn_port, http_port, dir);
    let opts = options(Duration::from_secs(3));
    let urls = [
        format!("hdfs://127.0.0.1:{nn_port}/fault"),
        format!("webhdfs://127.0.0.1:{http_port}/fault"),
    ];
    let mut stores: Vec<Arc<dyn KeyValueStore>> = Vec::new();
    for url in &urls {
        stores.push(recordstore::open_with(url, &opts).await.unwrap());
    }
    let sc = "faults";
    for i in 0..20 {
        stores[i % 2]
            .insert(sc, &format!("k{i}"), &json!({"i": i}))
            .await
            .unwrap();
    }

    // Workload on both transports; the NameNode dies under it.
    let killed_at: Arc<parking_lot::Mutex<Option<Instant>>> = Arc::default();
    let mut workers = Vec::new();
    for (worker, store) in stores.iter().enumerate() {
        let (store, killed_at) = (store.clone(), killed_at.clone());
        workers.push(tokio::spawn(async move {
            let mut log = Vec::new();
            for i in 0.. {
                let started = Instant::now();
                let outcome = step(&store, sc, worker, i).await;
                log.push((started, outcome));
                let done = killed_at
                    .lock()
                    .is_some_and(|t| t.elapsed() > Duration::from_secs(3));
                if done {
                    break;
                }
            }
            (worker, log)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tokio::task::spawn_blocking({
        let pid_file = cluster.pid_file();
        let pid: u32 = std::fs::read_to_string(pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        move || {
            Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .unwrap();
            while PathBuf::from(format!("/proc/{pid}")).exists() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    })
    .await
    .unwrap();
    *killed_at.lock() = Some(Instant::now());
    let dead_since = Instant::now();

    for w in workers {
        let (worker, log) = w.await.unwrap();
        let before = log.iter().filter(|(t, _)| *t < dead_since).count();
        let after: Vec<_> = log.iter().filter(|(t, _)| *t >= dead_since).collect();
        let odd: Vec<_> = log
            .iter()
            .filter_map(|(_, o)| match o {
                Outcome::Failed(ErrorKind::Connection, ..) | Outcome::Ok => None,
                other => Some(other),
            })
            .collect();
        eprintln!(
            "worker {worker}: {before} steps before the kill, {} after; last: {:?}; others: {odd:?}",
            after.len(),
            after.last().map(|(_, o)| o)
        );
        assert!(
            before > 0 && !after.is_empty(),
            "worker {worker}: {before} steps before, {} after",
            after.len()
        );
        assert!(
            log.iter()
                .any(|(t, o)| *t < dead_since && matches!(o, Outcome::Ok)),
            "worker {worker}: the workload never succeeded before the kill: {log:?}"
        );
        for (_, outcome) in &log {
            if let Outcome::Failed(kind, temporary, msg) = outcome {
                // A step cut off by the kill may fail in its DataNode part (a temporary
                // backend error), but never with a wrong answer (NotFound, short lists).
                assert!(
                    *temporary
                        && matches!(
                            kind,
                            ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Backend
                        ),
                    "worker {worker}: {kind:?}: {msg}\n{log:?}"
                );
            }
        }
        for (_, outcome) in after {
            assert!(
                matches!(
                    outcome,
                    Outcome::Failed(ErrorKind::Connection | ErrorKind::Timeout, _, _)
                ),
                "worker {worker}: a step after the kill gave {outcome:?}"
            );
        }
    }

    // Every single operation on records that exist: unreachable, not "missing".
    for (store, port) in stores.iter().zip([nn_port, http_port]) {
        every_operation_fails(&**store, &format!("127.0.0.1:{port}"), "k1").await;
    }

    // A new NameNode on the same address (an empty file system): the same stores reconnect.
    cluster.start();
    for (worker, store) in stores.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match store.ping().await {
                Ok(()) => break,
                Err(e) if Instant::now() < deadline => assert_unreachable("ping", &e, ""),
                Err(e) => panic!("worker {worker}: no reconnect after restart: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        store
            .insert(sc, &format!("after-{worker}"), &json!({}))
            .await
            .unwrap();
    }
    assert_eq!(
        stores[0].count_in(sc).await.unwrap(),
        2,
        "the restarted file system was empty"
    );
    let v: Value = stores[1].get(sc, "after-0").await.unwrap();
    assert_eq!(v, json!({}));
    cluster.kill();
}
