//! Connection settings: [`ConnectorConfig`], [`ConnectionMode`], [`PoolOptions`] and
//! [`RetryOptions`].

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A password or token. Its `Debug` and `Display` never show it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for handing to a client library.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The seed's connector attributes: host, port, username, password and db, plus
/// backend-specific extras such as `base_path` or `prefix`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectorConfig {
    /// Server host.
    pub host: Option<String>,
    /// Server port.
    pub port: Option<u16>,
    /// User name.
    pub username: Option<String>,
    /// Password; never printed.
    pub password: Option<Secret>,
    /// Database name or number.
    pub db: Option<String>,
    /// Backend-specific settings, such as `base_path` (HDFS) or `prefix` (Redis).
    pub extras: BTreeMap<String, String>,
}

/// Whether an extra's name says its value is secret (`password`, `secret`, `token` in it).
fn secret_extra(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|s| n.contains(s))
}

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extras: BTreeMap<&str, &str> = self
            .extras
            .iter()
            .map(|(k, v)| (k.as_str(), if secret_extra(k) { "***" } else { v.as_str() }))
            .collect();
        f.debug_struct("ConnectorConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("db", &self.db)
            .field("extras", &extras)
            .finish()
    }
}

impl fmt::Display for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.username {
            write!(f, "{u}")?;
            if self.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host.as_deref().unwrap_or("localhost"))?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        if let Some(db) = &self.db {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

/// How a manager holds its connections (seed: `ConnectionMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionMode {
    /// One shared connection.
    Single,
    /// A pool of exclusively checked-out connections.
    Pooled,
}

impl fmt::Display for ConnectionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionMode::Single => "single",
            ConnectionMode::Pooled => "pooled",
        })
    }
}

impl FromStr for ConnectionMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "single" => Ok(ConnectionMode::Single),
            "pooled" | "pool" => Ok(ConnectionMode::Pooled),
            other => Err(Error::invalid(format!(
                "connection mode {other:?} is not one of auto, single, pooled"
            ))),
        }
    }
}

/// Retry of transient failures (a refused, reset or timed-out connection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryOptions {
    /// How many times an operation is tried in all; 1 means no retry. Default 3.
    pub attempts: u32,
    /// The first backoff; it doubles each time. Default 50 ms.
    pub backoff: Duration,
    /// The longest backoff. Default 1 s.
    pub max_backoff: Duration,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            attempts: 3,
            backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
        }
    }
}

impl RetryOptions {
    /// The backoff before try number `attempt` (1-based: the wait after the first failure is
    /// `backoff(1)`).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// Settings of a connection manager, in the vocabulary of the peer and of sqlx's `PoolOptions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolOptions {
    /// The most connections a pool opens. Default 10.
    pub max_connections: usize,
    /// How long an acquisition may wait, connecting included. Default 30 s.
    pub connection_timeout: Duration,
    /// A connection unused for this long is closed by the pool's reaper, at most a quarter
    /// of it later; never while checked out, and never below `min_idle`. Default 300 s;
    /// `None` keeps them.
    pub idle_timeout: Option<Duration>,
    /// A connection older than this is closed at its next checkout or by the reaper; never
    /// while checked out. Default none.
    pub max_lifetime: Option<Duration>,
    /// Idle connections the pool keeps open (opened by the reaper). Default 0.
    pub min_idle: usize,
    /// Run the connector's health check on checkout. Default false: a broken connection is
    /// noticed by the failing operation, replaced, and the operation retried if safe.
    pub test_before_acquire: bool,
    /// Retry of transient failures.
    pub retry: RetryOptions,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: 10,
            connection_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(300)),
            max_lifetime: None,
            min_idle: 0,
            test_before_acquire: false,
            retry: RetryOptions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        let cfg = ConnectorConfig {
            host: Some("h".into()),
            username: Some("u".into()),
            password: Some(Secret::new("hunter2")),
            ..Default::default()
        };
        assert!(!format!("{cfg:?}").contains("hunter2"));
        let mut cfg = cfg;
        cfg.extras.insert("api_token".into(), "tok-1".into());
        cfg.extras.insert("prefix".into(), "app".into());
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("tok-1") && shown.contains("app"), "{shown}");
        assert!(!format!("{cfg}").contains("hunter2"));
        assert_eq!(cfg.to_string(), "u:***@h");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = RetryOptions::default();
        assert_eq!(r.backoff(1), Duration::from_millis(50));
        assert_eq!(r.backoff(2), Duration::from_millis(100));
        assert_eq!(r.backoff(30), Duration::from_secs(1));
    }
}
