//! [`ConnectorManagerFactory`]: picks a manager for a connector (seed:
//! `ConnectorManagerFactory.create_manager`).

use super::{ConnectionMode, Connector, ConnectorManager, PoolOptions};

/// Creates connector managers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectorManagerFactory;

impl ConnectorManagerFactory {
    /// A manager for `connector`. With `mode` `None` (auto), the connector's
    /// [`Connector::auto_mode`] decides: single for Redis and HDFS, whose one connection
    /// serves concurrent callers, pooled for SQLite, whose connections cannot be shared.
    pub fn create_manager<C: Connector>(
        connector: C,
        mode: Option<ConnectionMode>,
        options: PoolOptions,
    ) -> ConnectorManager<C> {
        let mode = mode.unwrap_or_else(|| connector.auto_mode());
        ConnectorManager::new(connector, mode, options)
    }
}
