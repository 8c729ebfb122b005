//! Counters of a connection manager.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of a manager's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ManagerStats {
    /// `single` or `pooled`.
    pub mode: String,
    /// The most connections the manager may open.
    pub max_connections: u64,
    /// Connections open now (idle plus in use).
    pub open: u64,
    /// Open connections that nobody holds.
    pub idle: u64,
    /// Connections checked out now (single mode: 1 while any caller holds or shares it).
    pub in_use: u64,
    /// Connections opened since the start.
    pub created: u64,
    /// Connections closed because they broke (or an operation on them failed or was cancelled).
    pub closed_broken: u64,
    /// Connections closed for being idle longer than `idle_timeout`.
    pub closed_idle: u64,
    /// Connections closed for being older than `max_lifetime`.
    pub closed_lifetime: u64,
    /// Acquisitions that found no connection free and had to queue.
    pub waits: u64,
    /// Acquisitions (or connects) that gave up after `connection_timeout`.
    pub timeouts: u64,
    /// Failed attempts to open a connection.
    pub connect_errors: u64,
    /// Operations tried again after a transient failure.
    pub retries: u64,
}

/// The live counters behind [`ManagerStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub created: AtomicU64,
    pub closed_broken: AtomicU64,
    pub closed_idle: AtomicU64,
    pub closed_lifetime: AtomicU64,
    pub waits: AtomicU64,
    pub timeouts: AtomicU64,
    pub connect_errors: AtomicU64,
    pub retries: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Fills the counters into a snapshot; the caller sets mode, open, idle and in_use.
    pub fn snapshot(&self) -> ManagerStats {
        ManagerStats {
            created: self.created.load(Relaxed),
            closed_broken: self.closed_broken.load(Relaxed),
            closed_idle: self.closed_idle.load(Relaxed),
            closed_lifetime: self.closed_lifetime.load(Relaxed),
            waits: self.waits.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            connect_errors: self.connect_errors.load(Relaxed),
            retries: self.retries.load(Relaxed),
            ..ManagerStats::default()
        }
    }
}
