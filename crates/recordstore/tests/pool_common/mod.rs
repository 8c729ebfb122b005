//! A test connector for pool mechanics: the pool is generic, so a tiny fake connection that
//! counts itself is enough to observe checkout, replacement, reaping and leaks. Backends are
//! tested against real servers elsewhere (tests/pool_sqlite.rs here).
#![allow(dead_code)]

use async_trait::async_trait;
use recordstore::connection::{
    ConnectionMode, Connector, ConnectorConfig, ConnectorManager, PoolOptions, RetryOptions,
};
use recordstore::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// What the connector did, shared with the test.
#[derive(Default)]
pub struct Log {
    pub connects: AtomicUsize,
    pub live: AtomicUsize,
    pub disconnects: AtomicUsize,
    pub checks: AtomicUsize,
    /// Fail this many next connects with a refused connection.
    pub refuse_next: AtomicUsize,
    pub refuse_always: AtomicBool,
    /// Connect never finishes.
    pub hang: AtomicBool,
    /// Connect number N (1-based) and later ones hang; 0 = off.
    pub hang_from: AtomicUsize,
    /// The health check fails.
    pub check_fails: AtomicBool,
    next_id: AtomicU64,
}

/// A fake connector; `shareable` makes it behave like a multiplexed client.
pub struct Fake {
    pub log: Arc<Log>,
    pub shareable: bool,
    config: ConnectorConfig,
}

struct Inner {
    id: u64,
    broken: AtomicBool,
    log: Arc<Log>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.log.live.fetch_sub(1, SeqCst);
    }
}

/// One fake connection (clones are handles on the same one).
#[derive(Clone)]
pub struct Conn(Arc<Inner>);

impl Conn {
    pub fn id(&self) -> u64 {
        self.0.id
    }
    /// The server dropped us: `is_connected` turns false.
    pub fn break_it(&self) {
        self.0.broken.store(true, SeqCst);
    }
}

impl Fake {
    pub fn new() -> (Self, Arc<Log>) {
        let log = Arc::new(Log::default());
        let fake = Fake {
            log: log.clone(),
            shareable: false,
            config: ConnectorConfig {
                host: Some("fake.invalid".into()),
                port: Some(1),
                ..Default::default()
            },
        };
        (fake, log)
    }

    pub fn shareable() -> (Self, Arc<Log>) {
        let (mut f, log) = Self::new();
        f.shareable = true;
        (f, log)
    }
}

#[async_trait]
impl Connector for Fake {
    type Connection = Conn;

    fn backend(&self) -> &'static str {
        "fake"
    }

    fn config(&self) -> &ConnectorConfig {
        &self.config
    }

    async fn connect(&self) -> Result<Conn> {
        let n = self.log.connects.fetch_add(1, SeqCst) + 1;
        let hang_from = self.log.hang_from.load(SeqCst);
        if self.log.hang.load(SeqCst) || (hang_from > 0 && n >= hang_from) {
            futures::future::pending::<()>().await;
        }
        let refuse_once = self
            .log
            .refuse_next
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if refuse_once || self.log.refuse_always.load(SeqCst) {
            return Err(Error::connection(
                "fake",
                "cannot connect to fake.invalid:1",
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            ));
        }
        self.log.live.fetch_add(1, SeqCst);
        Ok(Conn(Arc::new(Inner {
            id: self.log.next_id.fetch_add(1, SeqCst) + 1,
            broken: AtomicBool::new(false),
            log: self.log.clone(),
        })))
    }

    async fn disconnect(&self, conn: Conn) {
        self.log.disconnects.fetch_add(1, SeqCst);
        drop(conn);
    }

    fn is_connected(&self, conn: &Conn) -> bool {
        !conn.0.broken.load(SeqCst)
    }

    async fn check(&self, _conn: &mut Conn) -> Result<()> {
        self.log.checks.fetch_add(1, SeqCst);
        if self.log.check_fails.load(SeqCst) {
            return Err(Error::connection("fake", "ping failed", "reset"));
        }
        Ok(())
    }

    fn share(&self, conn: &Conn) -> Option<Conn> {
        self.shareable.then(|| conn.clone())
    }
}

/// Options with short retry backoff and the given pool size.
pub fn options(max: usize) -> PoolOptions {
    PoolOptions {
        max_connections: max,
        connection_timeout: Duration::from_secs(5),
        retry: RetryOptions {
            attempts: 3,
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
        },
        ..PoolOptions::default()
    }
}

pub fn pooled(max: usize) -> (ConnectorManager<Fake>, Arc<Log>) {
    let (fake, log) = Fake::new();
    (
        ConnectorManager::new(fake, ConnectionMode::Pooled, options(max)),
        log,
    )
}

pub fn single() -> (ConnectorManager<Fake>, Arc<Log>) {
    let (fake, log) = Fake::new();
    (
        ConnectorManager::new(fake, ConnectionMode::Single, options(1)),
        log,
    )
}

pub fn live(log: &Log) -> usize {
    log.live.load(SeqCst)
}

pub fn connects(log: &Log) -> usize {
    log.connects.load(SeqCst)
}
