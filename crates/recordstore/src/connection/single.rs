//! [`SingleConnectorManager`]: one shared connection (seed: `SingleConnectorManager`).

use super::retry::connect_with_retry;
use super::stats::Counters;
use super::{Connector, ManagerStats, PoolOptions};
use crate::error::{Error, Result};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::{Mutex, MutexGuard, Notify};

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
    slot: Mutex<Slot<C>>,
    next_generation: AtomicU64,
    /// The generation a shared lease found broken; the next checkout replaces it.
    condemned: AtomicU64,
    in_use: AtomicU64,
    /// Whether the connection is open (kept apart from the lock, which is also held while
    /// connecting).
    open: AtomicBool,
    closed: AtomicBool,
    /// Wakes callers waiting for the connection when the manager closes.
    closing: Notify,
}

/// The connection and its generation number.
type Slot<C> = Option<(<C as Connector>::Connection, u64)>;

/// A connection checked out of a [`SingleConnectorManager`].
pub struct SingleLease<'a, C: Connector> {
    manager: &'a SingleConnectorManager<C>,
    held: Held<'a, C>,
    released: bool,
}

enum Held<'a, C: Connector> {
    /// Exclusive use: the manager's lock is held until the lease ends.
    Locked(MutexGuard<'a, Slot<C>>),
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
            open: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            closing: Notify::new(),
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
        s.open = u64::from(self.open.load(Ordering::Relaxed));
        // Connections, not callers: several callers may share the one connection.
        s.in_use = u64::from(self.in_use.load(Ordering::Relaxed) > 0).min(s.open);
        s.idle = s.open - s.in_use;
        s
    }

    /// Checks out the connection, connecting first if there is none or it is broken.
    pub async fn acquire(&self) -> Result<SingleLease<'_, C>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        // Fast path: the connection is free and looks fine. No clock, no timer.
        let slot = self.slot.try_lock().ok();
        if let Some(slot) = slot {
            let fine = matches!(&*slot, Some((conn, generation))
                if !self.options.test_before_acquire
                    && self.condemned.load(Ordering::Acquire) != *generation
                    && self.connector.is_connected(conn));
            if fine {
                return Ok(self.lease(slot));
            }
            // Boxed so that the slow path does not bloat every caller's future.
            return Box::pin(self.acquire_slow(Some(slot))).await;
        }
        Box::pin(self.acquire_slow(None)).await
    }

    /// Waits for the connection (unless `slot` is already held), checks it and replaces it
    /// when broken.
    async fn acquire_slow<'a>(
        &'a self,
        slot: Option<MutexGuard<'a, Slot<C>>>,
    ) -> Result<SingleLease<'a, C>> {
        let deadline = tokio::time::Instant::now() + self.options.connection_timeout;
        let mut slot = match slot {
            Some(slot) => slot,
            None => {
                Counters::bump(&self.counters.waits);
                let closing = self.closing.notified();
                tokio::pin!(closing);
                closing.as_mut().enable();
                if self.closed.load(Ordering::Acquire) {
                    return Err(Error::Closed);
                }
                tokio::select! {
                    slot = self.slot.lock() => slot,
                    _ = closing => return Err(Error::Closed),
                    _ = tokio::time::sleep_until(deadline) => {
                        Counters::bump(&self.counters.timeouts);
                        return Err(Error::Timeout {
                            backend: self.connector.backend(),
                            message: format!(
                                "the single connection to {} stayed busy for {:?}",
                                self.connector.config(),
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
                self.open.store(false, Ordering::Relaxed);
                Counters::bump(&self.counters.closed_broken);
                self.connector.disconnect(old).await;
            }
            let conn = connect_with_retry(&self.connector, &self.options, &self.counters, deadline)
                .await?;
            if self.closed.load(Ordering::Acquire) {
                // Closed while connecting.
                self.connector.disconnect(conn).await;
                return Err(Error::Closed);
            }
            self.open.store(true, Ordering::Relaxed);
            let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
            *slot = Some((conn, generation));
        }
        Ok(self.lease(slot))
    }

    /// A lease on the (connected) slot: a shared handle, or the lock itself.
    fn lease<'a>(&'a self, slot: MutexGuard<'a, Slot<C>>) -> SingleLease<'a, C> {
        self.in_use.fetch_add(1, Ordering::Relaxed);
        let (conn, generation) = slot.as_ref().expect("connected");
        let held = match self.connector.share(conn) {
            Some(handle) => Held::Shared(handle, *generation),
            None => Held::Locked(slot),
        };
        SingleLease {
            manager: self,
            held,
            released: false,
        }
    }

    /// Closes the connection; waiting and later checkouts fail with `Error::Closed`. Returns
    /// at once: a connection in exclusive use is closed when its lease ends.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.closing.notify_waiters();
        let conn = match self.slot.try_lock() {
            Ok(mut slot) => slot.take(),
            Err(_) => None, // the lease (or a connect in progress) sees `closed`
        };
        if let Some((conn, _)) = conn {
            self.open.store(false, Ordering::Relaxed);
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
        if self.manager.closed.load(Ordering::Acquire) {
            // Closed while leased: the connection goes now (a shared handle just drops).
            if let Held::Locked(slot) = &mut self.held {
                if slot.take().is_some() {
                    self.manager.open.store(false, Ordering::Relaxed);
                }
            }
            return;
        }
        if self.released {
            return;
        }
        // The operation failed or was cancelled midway: never hand this connection out again.
        match &mut self.held {
            Held::Locked(slot) => {
                if slot.take().is_some() {
                    self.manager.open.store(false, Ordering::Relaxed);
                    Counters::bump(&self.manager.counters.closed_broken);
                }
            }
            Held::Shared(_, generation) => {
                self.manager.condemned.store(*generation, Ordering::Release);
            }
        }
    }
}
