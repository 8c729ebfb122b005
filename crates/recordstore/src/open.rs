//! From a URL to a store: `memory://`, `sqlite://PATH`, `redis://…`, `rediss://…`,
//! `redis+cluster://…`, `hdfs://…` and `webhdfs://…`, as this build's features allow.

use crate::connection::{ConnectionMode, PoolOptions};
use crate::error::{Error, Result};
use crate::store::KeyValueStore;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The store used when no URL is given: an SQLite file in the current directory.
pub const DEFAULT_URL: &str = "sqlite://recordstore.db";

/// How to open a store: the connection mode, pool options and backend extras.
///
/// `Debug` shows extras whose names mention a password, secret or token as `***`.
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// Single, pooled, or `None` for the backend's auto choice.
    pub mode: Option<ConnectionMode>,
    /// Pool and retry settings.
    pub pool: PoolOptions,
    /// Backend extras from the config file (`base_path`, `prefix`, `username`, `password`, …);
    /// values in the URL win.
    pub extras: BTreeMap<String, String>,
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extras: BTreeMap<&str, &str> = self
            .extras
            .iter()
            .map(|(k, v)| {
                let shown = if crate::config::is_secret_name(k) {
                    "***"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("OpenOptions")
            .field("mode", &self.mode)
            .field("pool", &self.pool)
            .field("extras", &extras)
            .finish()
    }
}

/// The URL schemes this build supports.
pub fn supported_schemes() -> Vec<&'static str> {
    let mut s = Vec::new();
    if cfg!(feature = "memory") {
        s.push("memory://");
    }
    if cfg!(feature = "sqlite") {
        s.push("sqlite://");
    }
    if cfg!(feature = "redis") {
        s.extend(["redis://", "rediss://", "redis+cluster://"]);
    }
    if cfg!(feature = "hdfs") {
        s.extend(["hdfs://", "webhdfs://"]);
    }
    s
}

/// Opens the store a URL names, with default options.
pub async fn open(url: &str) -> Result<Arc<dyn KeyValueStore>> {
    open_with(url, &OpenOptions::default()).await
}

/// Opens the store a URL names. An unknown scheme is `InvalidInput`, listing the schemes this
/// build supports.
pub async fn open_with(url: &str, options: &OpenOptions) -> Result<Arc<dyn KeyValueStore>> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        #[cfg(feature = "memory")]
        Some("memory") => Ok(Arc::new(crate::backends::memory::MemoryStore::new())),
        #[cfg(feature = "sqlite")]
        Some("sqlite") => {
            let rest = &url["sqlite://".len()..];
            let path = rest.split('?').next().unwrap_or_default();
            let path = if path.is_empty() {
                "recordstore.db"
            } else {
                path
            };
            let store = crate::backends::sqlite::SqliteStore::with_options(
                path,
                options.mode,
                options.pool.clone(),
            )
            .await?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "redis")]
        Some("redis" | "rediss" | "redis+cluster" | "rediss+cluster") => {
            crate::backends::redis::open_url(url, options).await
        }
        #[cfg(feature = "hdfs")]
        Some("hdfs" | "webhdfs") => crate::backends::hdfs::open_url(url, options).await,
        _ => Err(Error::invalid(format!(
            "unsupported store URL {:?}; this build supports: {}",
            redact_url(url),
            supported_schemes().join(", ")
        ))),
    }
}

/// A URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparseable: cut any userinfo rather than risk printing a password.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
            _ => url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_scheme_lists_the_supported_ones() {
        let e = open("ftp://x").await.unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("memory://"), "{e}");
        let e = open("no-scheme").await.unwrap_err();
        assert!(e.to_string().contains("supports"), "{e}");
    }

    #[test]
    fn secret_extras_never_print() {
        let mut o = OpenOptions::default();
        o.extras.insert("password".into(), "hunter2".into());
        o.extras.insert("api_token".into(), "tok-123".into());
        o.extras.insert("prefix".into(), "app".into());
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok-123"),
            "{shown}"
        );
        assert!(shown.contains("app"));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("redis://u:hunter2@h:1/0"), "redis://u:***@h:1/0");
        assert!(!redact_url("weird://u:hunter2@[bad").contains("hunter2"));
    }
}
