//! A fault test on a private 3-master Redis Cluster that the test builds itself: the master
//! holding a schema is killed mid-workload and restarted on the same port and data directory.
//! While it is down, nothing reads as missing; once it is back, the store recovers by itself
//! and every acknowledged write is there.

mod redis_common;

use recordstore::connection::PoolOptions;
use recordstore::{ErrorKind, KeyValueStore, KeyValueStoreExt, OpenOptions};
use redis_common::{free_port, RedisProcess, DURABLE};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli must be installed (scripts/start-redis.sh installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One cluster node: durable (appendfsync always), with its cluster bus on a port of its own.
fn start_node(dir: PathBuf) -> RedisProcess {
    let bus_port = free_port().to_string();
    let mut args = vec![
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-port",
        &bus_port,
        "--cluster-node-timeout",
        "2000",
    ];
    args.extend_from_slice(&DURABLE);
    RedisProcess::start(dir, &args)
}

struct Cluster {
    nodes: Vec<RedisProcess>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let node_dir = dir.path().join(format!("node{i}"));
            std::fs::create_dir_all(&node_dir).unwrap();
            nodes.push(start_node(node_dir));
        }
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let cluster = Cluster { nodes, _dir: dir };
        cluster.wait_ok(Duration::from_secs(30));
        cluster
    }

    fn url(&self) -> String {
        let addrs: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", addrs.join(","))
    }

    /// Every node up reports `cluster_state:ok`.
    fn wait_ok(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let ok = self
                .nodes
                .iter()
                .filter(|n| n.child.is_some())
                .all(|n| cli(n.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok"));
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "the cluster did not become ok");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The node that serves `key`'s slot.
    fn owner_of(&self, key: &str) -> usize {
        let slot = cli(self.nodes[0].port, &["CLUSTER", "KEYSLOT", key]);
        let slot = slot.trim();
        let shards = cli(self.nodes[0].port, &["CLUSTER", "SLOTS"]);
        // `redis-cli` prints CLUSTER SLOTS flat: start, end, then each node's host, port, id, ...
        let lines: Vec<&str> = shards.lines().map(str::trim).collect();
        let slot: u64 = slot.parse().unwrap();
        let mut i = 0;
        while i + 3 < lines.len() {
            if let (Ok(start), Ok(end)) = (lines[i].parse::<u64>(), lines[i + 1].parse::<u64>()) {
                if lines[i + 2] == "127.0.0.1" && (start..=end).contains(&slot) {
                    let port: u16 = lines[i + 3].parse().unwrap();
                    return self.nodes.iter().position(|n| n.port == port).unwrap();
                }
            }
            i += 1;
        }
        panic!("no node serves slot {slot}: {shards}");
    }
}

fn outage_error(e: &recordstore::Error, what: &str) {
    assert_ne!(
        e.kind(),
        ErrorKind::NotFound,
        "{what} during the outage: {e}"
    );
    assert!(
        e.is_temporary(),
        "{what} during the outage must be a temporary error, got {:?}: {e}",
        e.kind()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_survives_a_killed_master() {
    let mut cluster = Cluster::start();
    let options = OpenOptions {
        pool: PoolOptions {
            connection_timeout: Duration::from_secs(2),
            ..PoolOptions::default()
        },
        ..OpenOptions::default()
    };
    let store: Arc<dyn KeyValueStore> = recordstore::open_with(&cluster.url(), &options)
        .await
        .unwrap();
    let sc = "cluster-faults";
    let mut acked = Vec::new();
    for i in 0..200 {
        let key = format!("k{i}");
        store.insert(sc, &key, &json!({"i": i})).await.unwrap();
        acked.push(key);
    }
    // Kill the master that holds the schema's hash, with a writer still running.
    let victim = cluster.owner_of(sc);
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let (mut acked, mut failures) = (Vec::new(), Vec::new());
            for i in 200.. {
                let key = format!("k{i}");
                match store.insert(sc, &key, &json!({"i": i})).await {
                    Ok(()) => acked.push(key),
                    Err(e) => failures.push(e),
                }
                if failures.len() >= 3 {
                    break;
                }
            }
            (acked, failures)
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    cluster.nodes[victim].kill();
    let (more, failures) = writer.await.unwrap();
    for e in &failures {
        outage_error(e, "insert");
    }
    acked.extend(more);

    // While the master is down, nothing reads as missing, empty or present, and retries stay
    // within the 2 s connection timeout instead of multiplying it (a loose bound: 5 s).
    let outage = Instant::now();
    outage_error(&store.get::<Value>(sc, "k0").await.unwrap_err(), "get");
    assert!(
        outage.elapsed() < Duration::from_secs(5),
        "{:?}",
        outage.elapsed()
    );
    outage_error(&store.contains(sc, "k0").await.unwrap_err(), "exists");
    outage_error(&store.count_in(sc).await.unwrap_err(), "count");
    outage_error(&store.delete(sc, "k0").await.unwrap_err(), "delete");
    let during = store.insert(sc, "during", &json!({})).await.unwrap_err();
    outage_error(&during, "insert");

    // Back on the same port and data: the store recovers by itself.
    cluster.nodes[victim].launch();
    let back = Instant::now();
    loop {
        match store.get::<Value>(sc, "k0").await {
            Ok(v) => {
                assert_eq!(v["i"], json!(0));
                break;
            }
            Err(e) => outage_error(&e, "get while recovering"),
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "the store did not recover within 20 s of the master answering again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every acknowledged write survived the SIGKILL.
    for key in &acked {
        let doc: Value = store
            .get(sc, key)
            .await
            .unwrap_or_else(|e| panic!("acknowledged {key} is lost: {e}"));
        assert_eq!(doc["i"], json!(key[1..].parse::<u64>().unwrap()), "{key}");
    }
    assert!(store.count_in(sc).await.unwrap() >= acked.len() as u64);
    store.insert(sc, "after", &json!({})).await.unwrap();
}
