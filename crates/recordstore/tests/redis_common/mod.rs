//! Where the Redis test servers are (scripts/start-redis.sh starts them), and small helpers.
//! Tests fail, not skip, when a server does not answer: CI starts them.
#![allow(dead_code)]

use recordstore::connection::ConnectionMode;
use recordstore::{KeyValueStore, KeyValueStoreExt, OpenOptions};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The plain server: `RECORDSTORE_REDIS_URL`, default `redis://127.0.0.1:6390/0`.
pub fn redis_url() -> String {
    env_or("RECORDSTORE_REDIS_URL", "redis://127.0.0.1:6390/0")
}

/// The cluster: `RECORDSTORE_REDIS_CLUSTER_URL`, default the three masters on 7001-7003.
pub fn cluster_url() -> String {
    env_or(
        "RECORDSTORE_REDIS_CLUSTER_URL",
        "redis+cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
    )
}

/// The TLS-only server: `RECORDSTORE_REDIS_TLS_URL`, default 127.0.0.1:6393 trusting the test CA
/// that scripts/start-redis.sh made under `REDIS_BASE_DIR` (default /tmp/recordstore-redis).
pub fn tls_url() -> String {
    let base = env_or("REDIS_BASE_DIR", "/tmp/recordstore-redis");
    env_or(
        "RECORDSTORE_REDIS_TLS_URL",
        &format!("rediss://127.0.0.1:6393/0?tls_ca={base}/tls/ca.crt"),
    )
}

/// The server with a password: `RECORDSTORE_REDIS_AUTH_ADDR`, default `127.0.0.1:6391`.
pub fn auth_addr() -> String {
    env_or("RECORDSTORE_REDIS_AUTH_ADDR", "127.0.0.1:6391")
}

/// The default user's password on the auth server (`REDIS_PASSWORD`, as the start script).
pub fn auth_password() -> String {
    env_or("REDIS_PASSWORD", "recordstore-secret")
}

/// The ACL user `app`'s password on the auth server (`REDIS_APP_PASSWORD`).
pub fn app_password() -> String {
    env_or("REDIS_APP_PASSWORD", "app-secret")
}

/// `url` with query parameters added.
pub fn with_query(url: &str, query: &str) -> String {
    if url.contains('?') {
        format!("{url}&{query}")
    } else {
        format!("{url}?{query}")
    }
}

/// Opens a store and checks that its server answers, failing loudly if it does not.
pub async fn open_checked(url: &str, mode: Option<ConnectionMode>) -> Arc<dyn KeyValueStore> {
    let options = OpenOptions {
        mode,
        ..OpenOptions::default()
    };
    let store = recordstore::open_with(url, &options)
        .await
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", recordstore::redact_url(url)));
    if let Err(e) = store.ping().await {
        panic!(
            "the Redis server at {} does not answer ({e}); start it with scripts/start-redis.sh",
            recordstore::redact_url(url)
        );
    }
    store
}

/// A raw client connection to a single server, for looking behind the store's back.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    let plain = url.split('?').next().unwrap();
    redis::Client::open(plain)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("cannot reach {plain}: {e}; run scripts/start-redis.sh"))
}

/// A free loopback port (free when asked; good enough for a test's own server).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Server arguments for durability: no snapshots, every write in the append-only file and
/// fsynced before the reply, so an acknowledged write survives a SIGKILL.
pub const DURABLE: [&str; 6] = [
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
];

/// A redis-server process of a test's own, on a loopback port and a data directory it keeps
/// across restarts. Killed when dropped.
pub struct RedisProcess {
    pub child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    /// Server arguments after `--port`, `--bind` and `--dir`.
    pub args: Vec<String>,
}

impl RedisProcess {
    /// Starts `redis-server` with `args` and waits until it answers PING with PONG.
    pub fn start(dir: PathBuf, args: &[&str]) -> Self {
        let mut p = RedisProcess {
            child: None,
            port: free_port(),
            dir,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        p.launch();
        p
    }

    /// (Re)starts the server on the same port and directory, and waits for PONG.
    pub fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/start-redis.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.answers() {
            assert!(
                Instant::now() < deadline,
                "redis-server on {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// PING answered with PONG (not LOADING).
    pub fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 64];
        matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
    }

    /// SIGKILL: no chance to flush anything that was not already fsynced.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The clients that `CLIENT LIST` shows under the direct lane's name, as `(id, line)`.
pub async fn lanes(admin: &mut redis::aio::MultiplexedConnection) -> Vec<(String, String)> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(admin)
        .await
        .unwrap();
    list.lines()
        .filter(|l| l.split(' ').any(|f| f == "name=recordstore-direct"))
        .map(|l| {
            let id = l.split(' ').next().unwrap().trim_start_matches("id=");
            (id.to_string(), l.to_string())
        })
        .collect()
}

/// Calls `exists` until a direct lane other than `old` shows in `CLIENT LIST` (a single-mode
/// store opens it in the background at its second lone call), and returns its id and line.
pub async fn await_lane(
    store: &Arc<dyn KeyValueStore>,
    admin: &mut redis::aio::MultiplexedConnection,
    old: Option<&str>,
) -> (String, String) {
    let started = Instant::now();
    loop {
        store.contains("lane-probe", "probe").await.unwrap();
        let found = lanes(admin).await;
        if let Some(lane) = found.into_iter().find(|(id, _)| Some(id.as_str()) != old) {
            return lane;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no direct lane opened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
