//! [`PooledConnectorManager`]: exclusive checkout from a pool (seed: `PooledConnectorManager`),
//! built on `deadpool`, with what deadpool leaves out: idle reaping, `max_lifetime`,
//! `min_idle`, the real cause of an acquisition timeout, and never reusing a connection
//! whose operation broke or was cancelled.

use super::retry::connect_with_retry;
use super::stats::Counters;
use super::{Connector, ManagerStats, PoolOptions};
use crate::error::{Error, Result};
use deadpool::managed::{
    self, Metrics, Object, PoolError, RecycleError, RecycleResult, TimeoutType, Timeouts,
};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Take an idle connection or a free slot, or fail at once: never queue.
const NO_WAIT: Timeouts = Timeouts {
    wait: Some(Duration::ZERO),
    create: None,
    recycle: None,
};

/// A pool of up to `max_connections` connections, each used by one caller at a time.
pub struct PooledConnectorManager<C: Connector> {
    pool: managed::Pool<Adapter<C>>,
    shared: Arc<Shared<C>>,
    /// Set once the reaper task runs (it needs a tokio runtime, so it starts on first use
    /// when the pool was built outside one).
    reaper_started: AtomicBool,
}

struct Shared<C: Connector> {
    connector: C,
    options: PoolOptions,
    counters: Counters,
    /// The reaper's tick count: the idle clock. Returning a connection stamps it with this
    /// instead of reading the time, which would cost more than the rest of a checkout.
    epoch: AtomicU64,
    /// How often the reaper runs, if it has to.
    period: Option<Duration>,
    /// Ticks without use after which a connection has been idle for `idle_timeout`.
    idle_ticks: u64,
}

/// What the pool keeps: the connection and its times on tokio's clock (so that tests can
/// pause time; deadpool's own metrics use the wall clock).
pub struct Tracked<T> {
    conn: T,
    created: Instant,
    /// The reaper epoch when last returned.
    last_used: u64,
}

/// deadpool's side of the pool: create and recycle.
struct Adapter<C: Connector>(Arc<Shared<C>>);

impl<C: Connector> Shared<C> {
    /// Why a pooled connection must not be reused, if it must not. Idle time counts only
    /// when `check_idle` (the reaper), so that `min_idle` connections survive checkout.
    fn expired(
        &self,
        t: &Tracked<C::Connection>,
        now: Instant,
        check_idle: bool,
    ) -> Option<Expiry> {
        if !self.connector.is_connected(&t.conn) {
            return Some(Expiry::Broken);
        }
        if let Some(max) = self.options.max_lifetime {
            if now.duration_since(t.created) >= max {
                return Some(Expiry::Lifetime);
            }
        }
        if check_idle && self.options.idle_timeout.is_some() {
            let idle_for = self
                .epoch
                .load(Ordering::Relaxed)
                .saturating_sub(t.last_used);
            if idle_for >= self.idle_ticks {
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
        // Boxed: creating is rare, and this future would otherwise be part of every
        // checkout's future (and copied with it).
        Box::pin(self.create_inner()).await
    }

    async fn recycle(&self, t: &mut Self::Type, _: &Metrics) -> RecycleResult<Error> {
        let s = &self.0;
        // Only read the clock when a lifetime is set: this runs on every checkout.
        let broken = !s.connector.is_connected(&t.conn);
        let why = if broken {
            Some(Expiry::Broken)
        } else if s.options.max_lifetime.is_some() {
            s.expired(t, Instant::now(), false)
        } else {
            None
        };
        if let Some(why) = why {
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

impl<C: Connector> Adapter<C> {
    async fn create_inner(&self) -> Result<Tracked<C::Connection>> {
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
        Ok(Tracked {
            conn,
            created: Instant::now(),
            last_used: s.epoch.load(Ordering::Relaxed),
        })
    }
}

/// A connection checked out of a [`PooledConnectorManager`].
pub struct PooledLease<'a, C: Connector> {
    object: Option<Object<Adapter<C>>>,
    shared: &'a Shared<C>,
    released: bool,
}

impl<C: Connector> PooledConnectorManager<C> {
    /// A pool that opens connections on demand. A reaper task closes idle and expired
    /// connections and keeps `min_idle` open; it starts now inside a tokio runtime, else on
    /// first use.
    pub fn new(connector: C, options: PoolOptions) -> Self {
        let max = options.max_connections.max(1);
        // A connection idle for `idle_timeout` is closed within a quarter of it after.
        let period = [
            options.idle_timeout.map(|d| d / 4),
            options.max_lifetime.map(|d| d / 2),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|d| d.max(Duration::from_millis(10)))
        .or((options.min_idle > 0).then_some(Duration::from_secs(1)));
        // Stamped with epoch e means returned after tick e began, so `ceil(idle / period)`
        // more ticks plus one guarantee `idle_timeout` has passed.
        let idle_ticks = match (options.idle_timeout, period) {
            (Some(idle), Some(p)) => idle.as_nanos().div_ceil(p.as_nanos()) as u64 + 1,
            _ => u64::MAX,
        };
        let shared = Arc::new(Shared {
            connector,
            options,
            counters: Counters::default(),
            epoch: AtomicU64::new(0),
            period,
            idle_ticks,
        });
        let pool = managed::Pool::builder(Adapter(shared.clone()))
            .max_size(max)
            .build()
            .expect("a pool without timeouts needs no runtime");
        let manager = PooledConnectorManager {
            pool,
            shared,
            reaper_started: AtomicBool::new(false),
        };
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
        // Count idle connections exactly: deadpool's `available` subtracts waiters too.
        let idle = self.pool.retain(|_, _| true).retained;
        let status = self.pool.status();
        let mut s = self.shared.counters.snapshot();
        s.mode = "pooled".into();
        s.max_connections = self.shared.options.max_connections.max(1) as u64;
        s.open = status.size as u64;
        s.idle = (idle as u64).min(s.open);
        s.in_use = s.open - s.idle;
        s
    }

    /// Checks out a connection within `connection_timeout`. A refused connect is retried with
    /// backoff; a timeout names the last cause seen.
    pub async fn acquire(&self) -> Result<PooledLease<'_, C>> {
        if !self.reaper_started.load(Ordering::Relaxed) {
            self.start_reaper();
        }
        let s = &*self.shared;
        // Fast path, with no clock and no timer: an idle connection, or a free slot to
        // connect in (`create` bounds a connect by `connection_timeout` itself). A health
        // check has no such bound, so `test_before_acquire` takes the timed path.
        let first = if s.options.test_before_acquire {
            None
        } else {
            match self.pool.timeout_get(&NO_WAIT).await {
                Ok(object) => {
                    return Ok(PooledLease {
                        object: Some(object),
                        shared: s,
                        released: false,
                    })
                }
                Err(e) => Some(e),
            }
        };
        // Boxed so that the slow path does not bloat every caller's future.
        Box::pin(self.acquire_slow(first)).await
    }

    /// Waits, retries and times out; `first` is what the untimed first try got.
    async fn acquire_slow(&self, first: Option<PoolError<Error>>) -> Result<PooledLease<'_, C>> {
        let s = &*self.shared;
        // The clock starts here, after the untimed try: a refused first connect does not
        // count against the timeout (a hanging one is bounded by `create` itself).
        let timeout = s.options.connection_timeout;
        let mut deadline: Option<Instant> = None;
        let mut attempt = 1;
        let mut last_cause: Option<Error> = None;
        // First try without queueing, so that `waits` counts only callers that had to wait.
        let mut queue = false;
        let mut outcome = first.map(Err);
        loop {
            let result = match outcome.take() {
                Some(r) => Ok(r),
                None => {
                    let get = async {
                        if queue {
                            self.pool.get().await
                        } else {
                            self.pool.timeout_get(&NO_WAIT).await
                        }
                    };
                    let d = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                    tokio::time::timeout_at(d, get).await.map_err(|_| ())
                }
            };
            match result {
                Ok(Ok(object)) => {
                    return Ok(PooledLease {
                        object: Some(object),
                        shared: s,
                        released: false,
                    })
                }
                Ok(Err(PoolError::Timeout(TimeoutType::Wait))) if !queue => {
                    Counters::bump(&s.counters.waits);
                    queue = true;
                }
                Ok(Err(PoolError::Backend(e))) => {
                    let wait = s.options.retry.backoff(attempt);
                    // A connect that timed out has used up `connection_timeout` already.
                    let retry = e.is_temporary()
                        && !e.is_timeout()
                        && attempt < s.options.retry.attempts
                        && {
                            let now = Instant::now();
                            now + wait < *deadline.get_or_insert(now + timeout)
                        };
                    if !retry {
                        return Err(with_cause(e, last_cause.as_ref()));
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
                    if self.pool.is_closed() {
                        return Err(Error::Closed);
                    }
                    let status = self.pool.status();
                    let cause = match last_cause {
                        Some(e) => format!("last error: {e}"),
                        None if status.size >= status.max_size => format!(
                            "all {} connections stayed in use ({} callers waiting)",
                            status.max_size, status.waiting
                        ),
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

    /// Closes the pool: waiters fail with `Error::Closed` at once, idle connections are
    /// disconnected, and checked-out ones are dropped when they come back. Never waits for
    /// a checked-out connection.
    pub async fn close(&self) {
        let idle = self.pool.retain(|_, _| false).removed;
        self.pool.close();
        for t in idle {
            // A hung disconnect must not hold up shutdown.
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                self.shared.connector.disconnect(t.conn),
            )
            .await;
        }
    }

    /// Runs the reaper's work now: closes broken, too old and too long idle connections
    /// (checked-out ones are never touched), then opens connections up to `min_idle`.
    pub async fn reap(&self) {
        reap_and_warm(&self.pool, &self.shared).await;
    }

    fn start_reaper(&self) {
        let Some(period) = self.shared.period else {
            self.reaper_started.store(true, Ordering::Relaxed);
            return;
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.reaper_started.swap(true, Ordering::AcqRel) {
            return;
        }
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
                shared.epoch.fetch_add(1, Ordering::Relaxed);
                reap_and_warm(&pool, &shared).await;
            }
        });
    }
}

/// Closes broken, too old and (beyond `min_idle`) too long idle connections among the idle
/// ones, then opens connections up to `min_idle`.
async fn reap_and_warm<C: Connector>(pool: &managed::Pool<Adapter<C>>, shared: &Shared<C>) {
    let now = Instant::now();
    let min_idle = shared.options.min_idle;
    let idle_before = pool.retain(|_, _| true).retained;
    let mut may_close_idle = idle_before.saturating_sub(min_idle);
    let removed = pool
        .retain(|t, _| match shared.expired(t, now, may_close_idle > 0) {
            Some(why) => {
                if matches!(why, Expiry::Idle) {
                    may_close_idle -= 1;
                }
                shared.count_close(why);
                false
            }
            None => true,
        })
        .removed;
    for t in removed {
        let _ =
            tokio::time::timeout(Duration::from_secs(1), shared.connector.disconnect(t.conn)).await;
    }
    if min_idle == 0 {
        return;
    }
    let idle = pool.retain(|_, _| true).retained;
    let status = pool.status();
    if idle >= min_idle || status.size >= status.max_size || status.waiting > 0 {
        return;
    }
    // deadpool has no "add": hold `min_idle` connections at once (idle ones first, then new
    // ones) and give them all back. Never queue behind callers.
    let mut warm = Vec::new();
    for _ in 0..min_idle.min(status.max_size) {
        match pool.timeout_get(&NO_WAIT).await {
            Ok(obj) => warm.push(obj),
            Err(_) => break,
        }
    }
}

/// A connect error that ended the retries, with the earlier cause when it differs.
fn with_cause(e: Error, earlier: Option<&Error>) -> Error {
    match (e, earlier) {
        (Error::Timeout { backend, message }, Some(prev)) => Error::Timeout {
            backend,
            message: format!("{message}; earlier error: {prev}"),
        },
        (e, _) => e,
    }
}

impl<C: Connector> PooledLease<'_, C> {
    /// Returns the connection to the pool. Releasing twice is harmless.
    pub fn release(&mut self) {
        self.released = true;
    }
}

impl<C: Connector> Deref for PooledLease<'_, C> {
    type Target = C::Connection;
    fn deref(&self) -> &C::Connection {
        &self.object.as_ref().expect("held while leased").conn
    }
}

impl<C: Connector> DerefMut for PooledLease<'_, C> {
    fn deref_mut(&mut self) -> &mut C::Connection {
        &mut self.object.as_mut().expect("held while leased").conn
    }
}

impl<C: Connector> Drop for PooledLease<'_, C> {
    fn drop(&mut self) {
        let Some(mut object) = self.object.take() else {
            return;
        };
        if self.released {
            object.last_used = self.shared.epoch.load(Ordering::Relaxed);
            drop(object); // back to the pool
        } else {
            // Failed or cancelled midway: the connection may be in any state. Close it.
            self.shared.count_close(Expiry::Broken);
            drop(Object::take(object));
        }
    }
}
