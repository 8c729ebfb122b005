//! [`SingleConnectorManager`]: one shared connection (seed: `SingleConnectorManager`).

use super::manager::connect_with_retry;
use super::stats::Counters;
use super::{Connector, ManagerStats, PoolOptions};
use crate::error::{Error, Result};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::{Mutex, MutexGuard};

/// One shared connection, opened on first use, checked without I/O on each checkout and
/// replaced when broken.
///
/// If the connector can share a connection ([`Connector::share`], e.g. a multiplexed Redis
/// connection), callers run concurrently on handles of it. Otherwise they take turns.
pub struct SingleConnectorManager<C: Connector> {
    connector: C,
    options: PoolOptions,
    counters: Counters,
    /// The connection and its generation number.
    slot: Mutex<Option<(C::Connection, u64)>>,
    next_generation: AtomicU64,
    /// The generation a shared lease found broken; the next checkout replaces it.
    condemned: AtomicU64,
    in_use: AtomicU64,
    closed: AtomicBool,
}

/// A connection checked out of a [`SingleConnectorManager`].
pub struct SingleLease<'a, C: Connector> {
    manager: &'a SingleConnectorManager<C>,
    held: Held<'a, C>,
    released: bool,
}

enum Held<'a, C: Connector> {
    /// Exclusive use: the manager's lock is held until the lease ends.
    Locked(MutexGuard<'a, Option<(C::Connection, u64)>>),
    /// A handle on a shareable connection.
    Shared(C::Connection, u64),
}

impl<C: Connector> SingleConnectorManager<C> {
    /// A manager that connects on first use.
    pub fn new(connector: C, options: PoolOptions) -> Self {
        SingleConnectorManager {
            connector,
            options,
            counters: Counters::default(),
            slot: Mutex::new(None),
            next_generation: AtomicU64::new(1),
            condemned: AtomicU64::new(0),
            in_use: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    pub(crate) fn connector(&self) -> &C {
        &self.connector
    }

    pub(crate) fn options(&self) -> &PoolOptions {
        &self.options
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The counters.
    pub fn stats(&self) -> ManagerStats {
        let mut s = self.counters.snapshot();
        s.mode = "single".into();
        s.max_connections = 1;
        s.in_use = self.in_use.load(Ordering::Relaxed);
        s.open = match self.slot.try_lock() {
            Ok(slot) => u64::from(slot.is_some()),
            Err(_) => 1, // locked: someone is using it
        };
        s.idle = s.open.saturating_sub(s.in_use.min(1));
        s
    }

    /// Checks out the connection, connecting first if there is none or it is broken.
    pub async fn acquire(&self) -> Result<SingleLease<'_, C>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let deadline = tokio::time::Instant::now() + self.options.connection_timeout;
        let mut slot = match self.slot.try_lock() {
            Ok(slot) => slot,
            Err(_) => {
                Counters::bump(&self.counters.waits);
                match tokio::time::timeout_at(deadline, self.slot.lock()).await {
                    Ok(slot) => slot,
                    Err(_) => {
                        Counters::bump(&self.counters.timeouts);
                        return Err(Error::Timeout {
                            backend: self.connector.backend(),
                            message: format!(
                                "the single connection stayed busy for {:?}",
                                self.options.connection_timeout
                            ),
                        });
                    }
                }
            }
        };
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let usable = match &mut *slot {
            Some((conn, generation)) => {
                let condemned = self.condemned.load(Ordering::Acquire) == *generation;
                let ok = !condemned
                    && self.connector.is_connected(conn)
                    && (!self.options.test_before_acquire
                        || self.connector.check(conn).await.is_ok());
                ok
            }
            None => false,
        };
        if !usable {
            if let Some((old, _)) = slot.take() {
                Counters::bump(&self.counters.closed_broken);
                self.connector.disconnect(old).await;
            }
            let conn = connect_with_retry(&self.connector, &self.options, &self.counters, deadline)
                .await?;
            let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
            *slot = Some((conn, generation));
        }
        self.in_use.fetch_add(1, Ordering::Relaxed);
        let (conn, generation) = slot.as_ref().expect("connected above");
        let held = match self.connector.share(conn) {
            Some(handle) => Held::Shared(handle, *generation),
            None => Held::Locked(slot),
        };
        Ok(SingleLease {
            manager: self,
            held,
            released: false,
        })
    }

    /// Closes the connection; later checkouts fail with `Error::Closed`.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Some((conn, _)) = self.slot.lock().await.take() {
            self.connector.disconnect(conn).await;
        }
    }
}

impl<C: Connector> SingleLease<'_, C> {
    /// Returns the connection for reuse. Releasing twice is harmless.
    pub fn release(&mut self) {
        self.released = true;
    }
}

impl<C: Connector> Deref for SingleLease<'_, C> {
    type Target = C::Connection;
    fn deref(&self) -> &C::Connection {
        match &self.held {
            Held::Locked(slot) => &slot.as_ref().expect("held while leased").0,
            Held::Shared(conn, _) => conn,
        }
    }
}

impl<C: Connector> DerefMut for SingleLease<'_, C> {
    fn deref_mut(&mut self) -> &mut C::Connection {
        match &mut self.held {
            Held::Locked(slot) => &mut slot.as_mut().expect("held while leased").0,
            Held::Shared(conn, _) => conn,
        }
    }
}

impl<C: Connector> Drop for SingleLease<'_, C> {
    fn drop(&mut self) {
        self.manager.in_use.fetch_sub(1, Ordering::Relaxed);
        if self.released {
            return;
        }
        // The operation failed or was cancelled midway: never hand this connection out again.
        match &mut self.held {
            Held::Locked(slot) => {
                if slot.take().is_some() {
                    Counters::bump(&self.manager.counters.closed_broken);
                }
            }
            Held::Shared(_, generation) => {
                self.manager.condemned.store(*generation, Ordering::Release);
            }
        }
    }
}
