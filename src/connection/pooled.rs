//! [`PooledConnectorManager`]: exclusive checkout from a pool (seed: `PooledConnectorManager`),
//! built on `deadpool`, with what deadpool leaves out: idle reaping, `max_lifetime`,
//! `min_idle`, the real cause of an acquisition timeout, and never reusing a connection
//! whose operation broke or was cancelled.

use super::manager::connect_with_retry;
use super::stats::Counters;
use super::{Connector, ManagerStats, PoolOptions};
use crate::error::{Error, Result};
use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A pool of up to `max_connections` connections, each used by one caller at a time.
pub struct PooledConnectorManager<C: Connector> {
    pool: managed::Pool<Adapter<C>>,
    shared: Arc<Shared<C>>,
}

struct Shared<C: Connector> {
    connector: C,
    options: PoolOptions,
    counters: Counters,
}

/// What the pool keeps: the connection and its times on tokio's clock (so that tests can
/// pause time; deadpool's own metrics use the wall clock).
pub struct Tracked<T> {
    conn: T,
    created: Instant,
    last_used: Instant,
}

/// deadpool's side of the pool: create and recycle.
struct Adapter<C: Connector>(Arc<Shared<C>>);

impl<C: Connector> Shared<C> {
    /// Why a pooled connection must not be reused, if it must not.
    fn expired(&self, t: &Tracked<C::Connection>, now: Instant) -> Option<Expiry> {
        if !self.connector.is_connected(&t.conn) {
            return Some(Expiry::Broken);
        }
        if let Some(max) = self.options.max_lifetime {
            if now.duration_since(t.created) >= max {
                return Some(Expiry::Lifetime);
            }
        }
        if let Some(idle) = self.options.idle_timeout {
            if now.duration_since(t.last_used) >= idle {
                return Some(Expiry::Idle);
            }
        }
        None
    }

    fn count_close(&self, why: Expiry) {
        let c = &self.counters;
        Counters::bump(match why {
            Expiry::Broken => &c.closed_broken,
            Expiry::Lifetime => &c.closed_lifetime,
            Expiry::Idle => &c.closed_idle,
        });
    }
}

#[derive(Clone, Copy, Debug)]
enum Expiry {
    Broken,
    Lifetime,
    Idle,
}

impl<C: Connector> managed::Manager for Adapter<C> {
    type Type = Tracked<C::Connection>;
    type Error = Error;

    async fn create(&self) -> Result<Self::Type> {
        let s = &self.0;
        // One attempt per create: `acquire` owns the retry loop and the deadline.
        let once = PoolOptions {
            retry: super::RetryOptions {
                attempts: 1,
                ..s.options.retry.clone()
            },
            ..s.options.clone()
        };
        let deadline = Instant::now() + s.options.connection_timeout;
        let conn = connect_with_retry(&s.connector, &once, &s.counters, deadline).await?;
        let now = Instant::now();
        Ok(Tracked {
            conn,
            created: now,
            last_used: now,
        })
    }

    async fn recycle(&self, t: &mut Self::Type, _: &Metrics) -> RecycleResult<Error> {
        let s = &self.0;
        if let Some(why) = s.expired(t, Instant::now()) {
            s.count_close(why);
            return Err(RecycleError::message(format!("{why:?}")));
        }
        if s.options.test_before_acquire {
            if let Err(e) = s.connector.check(&mut t.conn).await {
                s.count_close(Expiry::Broken);
                return Err(RecycleError::Backend(e));
            }
        }
        Ok(())
    }
}

/// A connection checked out of a [`PooledConnectorManager`].
pub struct PooledLease<C: Connector> {
    object: Option<Object<Adapter<C>>>,
    shared: Arc<Shared<C>>,
    released: bool,
}

impl<C: Connector> PooledConnectorManager<C> {
    /// A pool that opens connections on demand. Inside a tokio runtime it also starts a
    /// reaper that closes idle and expired connections and keeps `min_idle` open.
    pub fn new(connector: C, options: PoolOptions) -> Self {
        let max = options.max_connections.max(1);
        let shared = Arc::new(Shared {
            connector,
            options,
            counters: Counters::default(),
        });
        let pool = managed::Pool::builder(Adapter(shared.clone()))
            .max_size(max)
            .build()
            .expect("a pool without timeouts needs no runtime");
        let manager = PooledConnectorManager { pool, shared };
        manager.start_reaper();
        manager
    }

    pub(crate) fn connector(&self) -> &C {
        &self.shared.connector
    }

    pub(crate) fn options(&self) -> &PoolOptions {
        &self.shared.options
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    /// The counters.
    pub fn stats(&self) -> ManagerStats {
        let status = self.pool.status();
        let mut s = self.shared.counters.snapshot();
        s.mode = "pooled".into();
        s.max_connections = status.max_size as u64;
        s.open = status.size as u64;
        s.idle = status.available as u64;
        s.in_use = s.open.saturating_sub(s.idle);
        s
    }

    /// Checks out a connection within `connection_timeout`. A refused connect is retried with
    /// backoff; a timeout names the last cause seen.
    pub async fn acquire(&self) -> Result<PooledLease<C>> {
        let s = &self.shared;
        let deadline = Instant::now() + s.options.connection_timeout;
        let status = self.pool.status();
        if status.available == 0 && status.size >= status.max_size {
            Counters::bump(&s.counters.waits);
        }
        let mut attempt = 1;
        let mut last_cause: Option<Error> = None;
        loop {
            match tokio::time::timeout_at(deadline, self.pool.get()).await {
                Ok(Ok(object)) => {
                    return Ok(PooledLease {
                        object: Some(object),
                        shared: s.clone(),
                        released: false,
                    })
                }
                Ok(Err(PoolError::Backend(e))) => {
                    let wait = s.options.retry.backoff(attempt);
                    let retry = e.is_temporary()
                        && attempt < s.options.retry.attempts
                        && Instant::now() + wait < deadline;
                    if !retry {
                        return Err(e);
                    }
                    Counters::bump(&s.counters.retries);
                    last_cause = Some(e);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Ok(Err(PoolError::Closed)) => return Err(Error::Closed),
                Ok(Err(other)) => {
                    return Err(Error::Backend {
                        backend: s.connector.backend(),
                        message: format!("pool: {other}"),
                        temporary: true,
                        source: None,
                    })
                }
                Err(_) => {
                    Counters::bump(&s.counters.timeouts);
                    let status = self.pool.status();
                    let cause = match last_cause {
                        Some(e) => format!("last error: {e}"),
                        None if status.size >= status.max_size => {
                            format!("all {} connections stayed in use", status.max_size)
                        }
                        None => "connecting did not finish".to_string(),
                    };
                    return Err(Error::Timeout {
                        backend: s.connector.backend(),
                        message: format!(
                            "no connection to {} within {:?}: {cause}",
                            s.connector.config(),
                            s.options.connection_timeout
                        ),
                    });
                }
            }
        }
    }

    /// Closes the pool: idle connections close now, checked-out ones when they come back,
    /// and waiters fail with `Error::Closed`. Returns at once.
    pub fn close(&self) {
        self.pool.close();
    }

    /// Closes expired idle connections now; checked-out ones are never touched.
    pub fn reap(&self) {
        let s = &self.shared;
        let now = Instant::now();
        self.pool.retain(|t, _| match s.expired(t, now) {
            Some(why) => {
                s.count_close(why);
                false
            }
            None => true,
        });
    }

    fn start_reaper(&self) {
        let opts = &self.shared.options;
        let period = [opts.idle_timeout, opts.max_lifetime]
            .into_iter()
            .flatten()
            .min()
            .map(|d| (d / 2).max(Duration::from_millis(10)));
        let needs_reaper = period.is_some() || opts.min_idle > 0;
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !needs_reaper {
            return;
        }
        let period = period.unwrap_or(Duration::from_secs(1));
        let weak = self.pool.weak();
        let shared = self.shared.clone();
        handle.spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(pool) = weak.upgrade() else { return };
                if pool.is_closed() {
                    return;
                }
                let now = Instant::now();
                pool.retain(|t, _| match shared.expired(t, now) {
                    Some(why) => {
                        shared.count_close(why);
                        false
                    }
                    None => true,
                });
                let status = pool.status();
                let missing = shared.options.min_idle.saturating_sub(status.available);
                let room = status.max_size.saturating_sub(status.size);
                let mut warm = Vec::new();
                for _ in 0..missing.min(room) {
                    match pool.get().await {
                        Ok(obj) => warm.push(obj),
                        Err(_) => break,
                    }
                }
                drop(warm);
            }
        });
    }
}

impl<C: Connector> PooledLease<C> {
    /// Returns the connection to the pool. Releasing twice is harmless.
    pub fn release(&mut self) {
        self.released = true;
    }
}

impl<C: Connector> Deref for PooledLease<C> {
    type Target = C::Connection;
    fn deref(&self) -> &C::Connection {
        &self.object.as_ref().expect("held while leased").conn
    }
}

impl<C: Connector> DerefMut for PooledLease<C> {
    fn deref_mut(&mut self) -> &mut C::Connection {
        &mut self.object.as_mut().expect("held while leased").conn
    }
}

impl<C: Connector> Drop for PooledLease<C> {
    fn drop(&mut self) {
        let Some(mut object) = self.object.take() else {
            return;
        };
        if self.released {
            object.last_used = Instant::now();
            drop(object); // back to the pool
        } else {
            // Failed or cancelled midway: the connection may be in any state. Close it.
            self.shared.count_close(Expiry::Broken);
            drop(Object::take(object));
        }
    }
}
