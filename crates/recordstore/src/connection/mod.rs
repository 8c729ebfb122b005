//! Connection management (seed: `BackendConnectorBase`, `ConnectionMode`,
//! `ConnectorManagerFactory`, `SingleConnectorManager`, `PooledConnectorManager`).
//!
//! A backend implements the tiny [`Connector`] trait: how to open, check and close one
//! connection. A [`ConnectorManager`] owns the connections, in one of two modes:
//! - [`ConnectionMode::Single`]: one shared connection, checked cheaply and replaced when
//!   broken ([`SingleConnectorManager`]);
//! - [`ConnectionMode::Pooled`]: exclusive checkout of up to `max_connections`
//!   ([`PooledConnectorManager`], built on `deadpool`).
//!
//! Both retry transient failures with backoff ([`RetryOptions`]), never retry `NotFound`,
//! `AlreadyExists` or `InvalidInput`, and never resend a write that may have been applied.
//! Connection management knows nothing about records.

mod config;
mod factory;
mod manager;
mod pooled;
mod retry;
mod single;
mod stats;

pub use config::{ConnectionMode, ConnectorConfig, PoolOptions, RetryOptions, Secret};
pub use factory::ConnectorManagerFactory;
pub use manager::{ConnectorManager, Idempotency, Lease};
pub use pooled::PooledConnectorManager;
pub use single::SingleConnectorManager;
pub use stats::ManagerStats;

use crate::error::Result;
use async_trait::async_trait;

/// How to open, check and close one connection to a backend (seed: `BackendConnectorBase`).
///
/// The seed's connector holds its connection; here the manager does, so one connector can
/// serve a whole pool. `connect` opens one, `disconnect` closes one, and `is_connected` tells
/// without I/O whether one still looks usable.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// One connection.
    type Connection: Send + 'static;

    /// The backend's short name, for errors and stats.
    fn backend(&self) -> &'static str;

    /// The connection settings (host, port, username, password, db, extras).
    fn config(&self) -> &ConnectorConfig;

    /// Opens a new connection. An unreachable server is `Error::Connection`.
    async fn connect(&self) -> Result<Self::Connection>;

    /// Closes a connection (one reaped, replaced or closed with the manager). Errors are
    /// ignored: the connection is gone either way. A connection whose operation failed or
    /// was cancelled midway is dropped instead, since `Drop` cannot wait.
    async fn disconnect(&self, conn: Self::Connection) {
        drop(conn);
    }

    /// Whether the connection still looks usable, without any I/O.
    fn is_connected(&self, _conn: &Self::Connection) -> bool {
        true
    }

    /// A health check that may cost a round trip; run on checkout when
    /// [`PoolOptions::test_before_acquire`] is set, and never on every operation.
    async fn check(&self, _conn: &mut Self::Connection) -> Result<()> {
        Ok(())
    }

    /// A second handle on the same connection, for clients whose connections serve many
    /// callers at once (a multiplexed Redis connection). A single manager then hands out such
    /// handles instead of locking its one connection for the length of each operation.
    fn share(&self, _conn: &Self::Connection) -> Option<Self::Connection> {
        None
    }

    /// The mode [`ConnectorManagerFactory`] picks when none is asked for. The default is
    /// pooled; a backend whose one connection serves concurrent callers as well as a pool
    /// (measured in BENCHMARKS.md) says single.
    fn auto_mode(&self) -> ConnectionMode {
        ConnectionMode::Pooled
    }
}
