//! From a URL to a store: `memory://`, `sqlite://PATH`, `sqlite+peer://PATH` (event-pipeline's
//! SQLite store, read-only), `redis://…`, `rediss://…`,
//! `redis+cluster://…`, `hdfs://…` and `webhdfs://…`, as this build's features allow.
//!
//! The top of the library: it dispatches to every backend, and nothing below imports it.

use crate::error::{Error, Result};
use crate::options::{redact_url, OpenOptions};
use crate::store::KeyValueStore;
use std::sync::Arc;

/// The URL schemes this build supports.
pub fn supported_schemes() -> Vec<&'static str> {
    let mut s = Vec::new();
    if cfg!(feature = "memory") {
        s.push("memory://");
    }
    if cfg!(feature = "sqlite") {
        s.extend(["sqlite://", "sqlite+peer://"]);
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
    if !matches!(
        scheme.as_deref(),
        Some("redis" | "rediss" | "redis+cluster" | "rediss+cluster")
    ) {
        refuse_url_codec(url)?;
    }
    match scheme.as_deref() {
        #[cfg(feature = "memory")]
        Some("memory") => Ok(Arc::new(crate::backends::memory::MemoryStore::new())),
        #[cfg(feature = "sqlite")]
        Some("sqlite") => {
            let path = sqlite_file(url).expect("a sqlite:// URL");
            let store = crate::backends::sqlite::SqliteStore::with_options(
                path,
                options.mode,
                options.pool.clone(),
            )
            .await?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "sqlite")]
        Some("sqlite+peer") => {
            let rest = &url["sqlite+peer://".len()..];
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(Error::invalid(
                    "sqlite+peer:// needs the path of event-pipeline's database file",
                ));
            }
            let store = crate::backends::sqlite::PeerSqliteStore::open(path).await?;
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

/// The file of a `sqlite://PATH` URL, `recordstore.db` when it names none; `None` for a URL
/// of another scheme.
pub(crate) fn sqlite_file(url: &str) -> Option<&str> {
    const SCHEME: &str = "sqlite://";
    let rest = url
        .get(..SCHEME.len())
        .filter(|s| s.eq_ignore_ascii_case(SCHEME))
        .map(|_| &url[SCHEME.len()..])?;
    match rest.split('?').next().unwrap_or_default() {
        "" => Some("recordstore.db"),
        path => Some(path),
    }
}

/// Only Redis stores values in more than one way. A codec other than JSON written into the URL
/// of any other store (`sqlite://a.db?codec=pickle`) is a mistake worth naming, not a setting
/// to ignore. (A config file's `CODEC` stays ignored there: one config may serve a Redis source
/// and the SQLite or HDFS destination of a copy.)
fn refuse_url_codec(url: &str) -> Result<()> {
    let Some((_, query)) = url.split_once('?') else {
        return Ok(());
    };
    let query = query.split('#').next().unwrap_or_default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name.eq_ignore_ascii_case("codec") && !value.eq_ignore_ascii_case("json") {
            return Err(Error::invalid(format!(
                "codec={value} in {:?}: only Redis stores (redis://, rediss://, redis+cluster://) \
                 take a codec; this store holds JSON",
                redact_url(url)
            )));
        }
    }
    Ok(())
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

    #[tokio::test]
    async fn a_codec_in_the_url_of_a_json_only_store_is_refused() {
        for url in [
            "memory://?codec=pickle",
            "sqlite:///nonexistent-dir/a.db?codec=pickle",
            "sqlite+peer:///nonexistent.db?x=1&CODEC=Pickle",
            "hdfs://127.0.0.1:1/base?codec=yaml",
            "webhdfs://u:secret@127.0.0.1:1/base?codec=pickle",
        ] {
            let Err(e) = open(url).await else {
                panic!("{url} opened");
            };
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{url}: {e}");
            assert!(e.to_string().contains("only Redis stores"), "{url}: {e}");
            assert!(!e.to_string().contains("secret"), "{url}: {e}");
        }
        // JSON is what these stores hold, so naming it is fine.
        let store = open("memory://?codec=json").await.unwrap();
        assert_eq!(store.backend(), "memory");
    }
}
