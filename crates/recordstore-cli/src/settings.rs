//! Where the store comes from: defaults, then the config file (`--config` or
//! `RECORDSTORE_CONFIG`), then `RECORDSTORE_*` variables, then these flags.

use clap::Args;
use recordstore::config::Settings;
use recordstore::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

/// The heading of the flags every command takes, shown after a command's own options.
pub const GLOBAL: &str = "Global options";

/// Connection flags shared by every command.
#[derive(Args, Debug)]
pub struct ConnectionArgs {
    /// Store URL (default: RECORDSTORE_URL, else the config file, else
    /// sqlite://recordstore.db).
    ///
    /// memory://, sqlite://PATH, redis://host:port/db (redis://user:pass@host:port/db with
    /// credentials), rediss://… (TLS), redis+cluster://host:port,…,
    /// hdfs://host:port/base_path, webhdfs://host:port/base_path.
    #[arg(long, global = true, help_heading = GLOBAL)]
    url: Option<String>,

    /// TOML config file (default: RECORDSTORE_CONFIG, if set).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Connection mode: auto, single or pooled.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "MODE")]
    mode: Option<String>,

    /// Most connections a pool opens.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "N")]
    max_connections: Option<usize>,

    /// Seconds to wait for a connection.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS")]
    connection_timeout: Option<f64>,
}

impl ConnectionArgs {
    /// Whether `--url` was given on the command line.
    pub fn url_given(&self) -> bool {
        self.url.is_some()
    }

    /// The layered settings, flags last.
    pub fn resolve(&self) -> Result<Settings> {
        let mut settings = Settings::load(self.config.as_deref(), &|k| std::env::var(k).ok())?;
        if let Some(url) = &self.url {
            settings.url = url.clone();
        }
        if let Some(mode) = &self.mode {
            settings.options.mode = if mode.eq_ignore_ascii_case("auto") {
                None
            } else {
                Some(mode.parse()?)
            };
        }
        if let Some(n) = self.max_connections {
            if n == 0 {
                return Err(Error::invalid("--max-connections must be at least 1"));
            }
            settings.options.pool.max_connections = n;
        }
        if let Some(secs) = self.connection_timeout {
            if !(secs > 0.0 && secs.is_finite()) {
                return Err(Error::invalid(format!(
                    "--connection-timeout must be a positive number of seconds, got {secs}"
                )));
            }
            settings.options.pool.connection_timeout = Duration::from_secs_f64(secs);
        }
        Ok(settings)
    }
}
