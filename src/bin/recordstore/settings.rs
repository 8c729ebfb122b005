//! Where the store comes from: `--url`, `RECORDSTORE_URL`, or the default SQLite file, plus
//! connection flags.

use clap::Args;
use recordstore::connection::ConnectionMode;
use recordstore::{KeyValueStore, OpenOptions, Result, DEFAULT_URL};
use std::sync::Arc;
use std::time::Duration;

/// Connection flags shared by every command.
#[derive(Args, Debug)]
pub struct ConnectionArgs {
    /// Store URL: memory://, sqlite://PATH, redis://[user:pass@]host:port/db, rediss://…,
    /// redis+cluster://host:port,…, hdfs://host:port/base, webhdfs://host:port/base.
    #[arg(long, global = true, env = "RECORDSTORE_URL", hide_env_values = true)]
    url: Option<String>,

    /// Connection mode: auto, single or pooled.
    #[arg(long, global = true, value_name = "MODE")]
    mode: Option<String>,

    /// Most connections a pool opens.
    #[arg(long, global = true, value_name = "N")]
    max_connections: Option<usize>,

    /// Seconds to wait for a connection.
    #[arg(long, global = true, value_name = "SECS")]
    connection_timeout: Option<f64>,
}

/// The resolved URL and options.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub options: OpenOptions,
}

impl ConnectionArgs {
    pub fn resolve(&self) -> Result<Settings> {
        let mut options = OpenOptions::default();
        if let Some(mode) = &self.mode {
            options.mode = parse_mode(mode)?;
        }
        if let Some(n) = self.max_connections {
            if n == 0 {
                return Err(recordstore::Error::invalid(
                    "--max-connections must be at least 1",
                ));
            }
            options.pool.max_connections = n;
        }
        if let Some(secs) = self.connection_timeout {
            if !(secs > 0.0 && secs.is_finite()) {
                return Err(recordstore::Error::invalid(format!(
                    "--connection-timeout must be a positive number of seconds, got {secs}"
                )));
            }
            options.pool.connection_timeout = Duration::from_secs_f64(secs);
        }
        let url = self.url.clone().unwrap_or_else(|| DEFAULT_URL.to_string());
        Ok(Settings { url, options })
    }
}

pub fn parse_mode(mode: &str) -> Result<Option<ConnectionMode>> {
    if mode.eq_ignore_ascii_case("auto") {
        Ok(None)
    } else {
        mode.parse().map(Some)
    }
}

impl Settings {
    pub async fn open(&self) -> Result<Arc<dyn KeyValueStore>> {
        recordstore::open_with(&self.url, &self.options).await
    }
}
