//! [`ConnectorManager`]: the one handle a store holds, in single or pooled mode, with retry.

use super::pooled::{PooledConnectorManager, PooledLease};
use super::single::{SingleConnectorManager, SingleLease};
use super::stats::Counters;
use super::{ConnectionMode, Connector, ManagerStats, PoolOptions};
use crate::error::Result;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use tokio::time::Instant;

/// Whether an operation may be sent again after a failure that left its outcome unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Idempotency {
    /// Reads: sending again cannot change anything.
    Idempotent,
    /// Writes: retried only when the failure happened before anything was sent (while
    /// connecting), so an insert or update is never applied twice.
    NotIdempotent,
}

/// Manages the connections of one store, in one [`ConnectionMode`].
pub struct ConnectorManager<C: Connector> {
    inner: Inner<C>,
}

enum Inner<C: Connector> {
    Single(Box<SingleConnectorManager<C>>),
    Pooled(PooledConnectorManager<C>),
}

impl<C: Connector> fmt::Debug for ConnectorManager<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mode, connector) = match &self.inner {
            Inner::Single(m) => ("single", m.connector()),
            Inner::Pooled(m) => ("pooled", m.connector()),
        };
        f.debug_struct("ConnectorManager")
            .field("backend", &connector.backend())
            .field("mode", &mode)
            .field("config", connector.config())
            .finish()
    }
}

/// A checked-out connection. Dropping it without [`Lease::release`] (an operation that failed
/// or was cancelled midway) closes it rather than handing it out again.
pub enum Lease<'a, C: Connector> {
    /// From a single manager.
    #[doc(hidden)]
    Single(SingleLease<'a, C>),
    /// From a pooled manager.
    #[doc(hidden)]
    Pooled(PooledLease<'a, C>),
}

impl<C: Connector> Lease<'_, C> {
    /// Returns the connection for reuse. Releasing twice is harmless.
    pub fn release(&mut self) {
        match self {
            Lease::Single(l) => l.release(),
            Lease::Pooled(l) => l.release(),
        }
    }
}

impl<C: Connector> Deref for Lease<'_, C> {
    type Target = C::Connection;
    fn deref(&self) -> &C::Connection {
        match self {
            Lease::Single(l) => l,
            Lease::Pooled(l) => l,
        }
    }
}

impl<C: Connector> DerefMut for Lease<'_, C> {
    fn deref_mut(&mut self) -> &mut C::Connection {
        match self {
            Lease::Single(l) => &mut *l,
            Lease::Pooled(l) => &mut *l,
        }
    }
}

impl<C: Connector> ConnectorManager<C> {
    /// A manager in the given mode.
    pub fn new(connector: C, mode: ConnectionMode, options: PoolOptions) -> Self {
        let inner = match mode {
            ConnectionMode::Single => {
                Inner::Single(Box::new(SingleConnectorManager::new(connector, options)))
            }
            _ => Inner::Pooled(PooledConnectorManager::new(connector, options)),
        };
        ConnectorManager { inner }
    }

    /// The mode this manager runs in.
    pub fn mode(&self) -> ConnectionMode {
        match self.inner {
            Inner::Single(_) => ConnectionMode::Single,
            Inner::Pooled(_) => ConnectionMode::Pooled,
        }
    }

    /// The connector.
    pub fn connector(&self) -> &C {
        match &self.inner {
            Inner::Single(m) => m.connector(),
            Inner::Pooled(m) => m.connector(),
        }
    }

    fn options(&self) -> &PoolOptions {
        match &self.inner {
            Inner::Single(m) => m.options(),
            Inner::Pooled(m) => m.options(),
        }
    }

    fn counters(&self) -> &Counters {
        match &self.inner {
            Inner::Single(m) => m.counters(),
            Inner::Pooled(m) => m.counters(),
        }
    }

    /// The counters: connections open, idle, in use, created, closed, waits and timeouts.
    pub fn stats(&self) -> ManagerStats {
        match &self.inner {
            Inner::Single(m) => m.stats(),
            Inner::Pooled(m) => m.stats(),
        }
    }

    /// Checks out a connection, connecting (and retrying a refused connect) within
    /// `connection_timeout`.
    pub async fn acquire(&self) -> Result<Lease<'_, C>> {
        match &self.inner {
            Inner::Single(m) => m.acquire().await.map(Lease::Single),
            Inner::Pooled(m) => m.acquire().await.map(Lease::Pooled),
        }
    }

    /// Checks that a connection can be had and answers the connector's health check.
    pub async fn ping(&self) -> Result<()> {
        let mut lease = self.acquire().await?;
        let result = self.connector().check(&mut *lease).await;
        if result.is_ok() {
            lease.release();
        }
        result
    }

    /// Closes every connection; waiting callers fail with `Error::Closed`. Returns promptly.
    pub async fn close(&self) {
        match &self.inner {
            Inner::Single(m) => m.close().await,
            Inner::Pooled(m) => m.close().await,
        }
    }

    /// Runs a synchronous operation on a checked-out connection (for blocking clients such as
    /// SQLite), retrying transient failures as [`Idempotency`] allows.
    pub async fn with_connection<T>(
        &self,
        idempotency: Idempotency,
        mut op: impl FnMut(&mut C::Connection) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 1;
        loop {
            let mut lease = self.acquire().await?;
            let result = op(&mut lease);
            match self.settle(lease, result, idempotency, attempt, None) {
                Settled::Done(r) => return r,
                Settled::Retry(wait) => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Runs an async operation on a clone of a checked-out connection (for clients whose
    /// connections are cheap handles: Redis, HDFS), retrying as [`Idempotency`] allows.
    ///
    /// The lease is held until the operation ends; if the operation fails with a connection
    /// error or is cancelled, the connection is replaced, never reused. Retries stay within
    /// `connection_timeout` of the call: a try that would start later is not made, so an
    /// operation that timed out (its whole budget spent waiting) fails instead of waiting again.
    pub async fn run<T, F, Fut>(&self, idempotency: Idempotency, mut op: F) -> Result<T>
    where
        C::Connection: Clone,
        F: FnMut(C::Connection) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 1;
        let deadline = Instant::now() + self.options().connection_timeout;
        loop {
            let lease = self.acquire().await?;
            let result = op((*lease).clone()).await;
            match self.settle(lease, result, idempotency, attempt, Some(deadline)) {
                Settled::Done(r) => return r,
                Settled::Retry(wait) => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Returns or discards the connection, and decides whether to try again.
    fn settle<T>(
        &self,
        mut lease: Lease<'_, C>,
        result: Result<T>,
        idempotency: Idempotency,
        attempt: u32,
        deadline: Option<Instant>,
    ) -> Settled<T> {
        match result {
            Ok(v) => {
                lease.release();
                Settled::Done(Ok(v))
            }
            Err(e) if e.is_temporary() => {
                drop(lease); // never reuse a connection whose operation broke midway
                let retry = self.options().retry.clone();
                let wait = retry.backoff(attempt);
                let in_time = deadline.is_none_or(|d| Instant::now() + wait < d);
                if idempotency == Idempotency::Idempotent && attempt < retry.attempts && in_time {
                    Counters::bump(&self.counters().retries);
                    Settled::Retry(wait)
                } else {
                    Settled::Done(Err(e))
                }
            }
            Err(e) => {
                // A permanent answer (not found, exists, bad data): the connection is fine.
                lease.release();
                Settled::Done(Err(e))
            }
        }
    }
}

enum Settled<T> {
    Done(Result<T>),
    Retry(std::time::Duration),
}
