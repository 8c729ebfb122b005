//! The HDFS backend (seed: `HDFSStoreBackend` over `HDFSConnector`): one JSON file per
//! record, `{base_path}/{schema}/{key}.json`, over the native RPC protocol (`hdfs://`) or
//! WebHDFS (`webhdfs://`).
//!
//! URL: `hdfs://[user@]host[:port][/base_path]` or `webhdfs://…` (ports default to 8020 and
//! 9870). The base path comes from the URL path, else the `base_path` extra, else
//! `/event_pipeline`; the user from the URL, else the `username` extra, else
//! `$HADOOP_USER_NAME`, else `root`.
//!
//! Key encoding: see [`layout`]. Consistency:
//! - **insert** writes the record to a hidden temporary file in the schema directory, closes
//!   it, then renames it to the record's name with HDFS's `rename2` *without* overwrite. The
//!   NameNode does that rename atomically and refuses an existing destination, so of many
//!   concurrent inserts exactly one wins, and a reader never sees a half-written record (a
//!   file created in place would be visible, empty or partial, while it is being written).
//! - **update** writes a temporary file the same way, then checks that the record exists and
//!   renames over it (`rename2` with overwrite): readers see the old or the new record, never
//!   a partial one, and a missing key is `NotFound` (the temporary file is removed). HDFS has
//!   no conditional rename, so one race remains: a delete that lands between the existence
//!   check and the rename (one NameNode round trip, about a millisecond) is undone by the
//!   update, which then re-creates the record with the new content.
//! - **delete** is one NameNode call; its answer tells whether there was a record.
//! - **count** and **filter** list the schema directory, skipping hidden (temporary) files;
//!   filter reads up to 16 files at once and reports a corrupt or misnamed file as
//!   [`Error::Corrupt`], never a shorter list.
//! - A NameNode that cannot be reached is [`Error::Connection`] or [`Error::Timeout`], never
//!   `NotFound` or an empty result.
//!
//! A writer that dies between writing and renaming leaves a hidden `.…tmp-…` file behind;
//! it is never read as a record.

mod connector;
mod fs;
pub mod layout;
mod native;
mod transport;
mod webhdfs;

pub use connector::{default_user, HdfsConnector, Transport};
pub use fs::HdfsConnection;

use crate::connection::{
    ConnectionMode, ConnectorManager, ConnectorManagerFactory, Idempotency, ManagerStats,
    PoolOptions,
};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::names::{RecordKey, SchemaName};
use crate::options::OpenOptions;
use crate::store::{per_item, KeyValueStore, KeyedDocument};
use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use layout::Entry;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use transport::FsError;

use Idempotency::{Idempotent, NotIdempotent};

/// The base path when neither the URL nor the options name one (the seed's default).
pub const DEFAULT_BASE_PATH: &str = "/event_pipeline";

/// How many files one filter or batch works on at once.
const CONCURRENCY: usize = 16;

/// Opens an HDFS store from a URL, checking that the NameNode answers.
pub(crate) async fn open_url(url: &str, options: &OpenOptions) -> Result<Arc<dyn KeyValueStore>> {
    Ok(Arc::new(HdfsStore::open(url, options).await?))
}

/// A record store in an HDFS directory.
pub struct HdfsStore {
    manager: ConnectorManager<HdfsConnector>,
    base_path: Arc<str>,
}

impl fmt::Debug for HdfsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.manager.connector();
        f.debug_struct("HdfsStore")
            .field("transport", &c.transport())
            .field("namenode", &c.address())
            .field("user", &c.user())
            .field("base_path", &self.base_path)
            .field("mode", &self.manager.mode())
            .finish()
    }
}

impl HdfsStore {
    /// Opens the store a `hdfs://` or `webhdfs://` URL names and checks that the NameNode
    /// answers (an unreachable one is [`Error::Connection`] or [`Error::Timeout`]).
    pub async fn open(url: &str, options: &OpenOptions) -> Result<Self> {
        let store = Self::from_url(url, options)?;
        store.manager.ping().await?;
        Ok(store)
    }

    /// The store a URL names, without any I/O: the first operation connects.
    pub fn from_url(url: &str, options: &OpenOptions) -> Result<Self> {
        let (connector, base_path) = parse_url(url, options)?;
        Self::new(connector, &base_path, options.mode, options.pool.clone())
    }

    /// A store under `base_path` (absolute) on the connector's NameNode, with a connection
    /// mode (`None`: auto, which is single) and pool options. Does no I/O.
    pub fn new(
        connector: HdfsConnector,
        base_path: &str,
        mode: Option<ConnectionMode>,
        options: PoolOptions,
    ) -> Result<Self> {
        let base_path = layout::normalize_base_path(base_path).map_err(Error::invalid)?;
        let connector = connector.with_connect_timeout(options.connection_timeout);
        let manager = ConnectorManagerFactory::create_manager(connector, mode, options);
        Ok(HdfsStore {
            manager,
            base_path: base_path.into(),
        })
    }

    /// The directory that holds the schema directories.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The connection manager.
    pub fn manager(&self) -> &ConnectorManager<HdfsConnector> {
        &self.manager
    }

    /// The file of a record: `{base_path}/{schema}/{encoded key}.json`.
    pub fn record_path(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> String {
        layout::record_path(&self.base_path, schema.as_str(), key.as_str())
    }

    fn schema_dir(&self, schema: SchemaName<'_>) -> String {
        layout::schema_dir(&self.base_path, schema.as_str())
    }

    /// Reads every record file of `dir`, up to [`CONCURRENCY`] at once.
    async fn read_all(
        c: &HdfsConnection,
        schema: &str,
        dir: &str,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>> {
        let names = match c.list(dir).await {
            Ok(names) => names,
            Err(FsError::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(unexpected(e, "list", dir)),
        };
        let reads = names
            .into_iter()
            .filter_map(|name| match layout::decode_file_name(&name) {
                Entry::Other => None,
                Entry::Undecodable(why) => Some(Err(Error::corrupt(schema, name, why))),
                Entry::Record(key) => Some(Ok((name, key))),
            });
        stream::iter(reads)
            .map(|entry| async move {
                let (name, key) = entry?;
                let path = format!("{dir}/{name}");
                match c.read(&path).await {
                    Ok(bytes) => {
                        let doc = Document::decode_stored(&bytes, schema, &key)?;
                        Ok(filter.matches(&doc).then_some((key, doc)))
                    }
                    // Deleted since the listing: not part of the result.
                    Err(FsError::NotFound) => Ok(None),
                    Err(e) => Err(e.into_error(
                        || Error::not_found(schema, &key),
                        || Error::corrupt(schema, &key, "unreadable"),
                    )),
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|found| async move { Ok(found) })
            .try_collect()
            .await
    }
}

/// An error where neither "not found" nor "exists" is a possible answer.
fn unexpected(e: FsError, op: &str, path: &str) -> Error {
    let odd = |what: &str| Error::Backend {
        backend: "hdfs",
        message: format!("{op} {path}: unexpected {what}"),
        temporary: false,
        source: None,
    };
    match e {
        FsError::NotFound => odd("file not found"),
        FsError::Exists => odd("file exists"),
        FsError::Failed(e) => e,
    }
}

/// Best-effort removal of a temporary file after a failed write; a leftover is hidden and
/// never read as a record.
async fn discard(c: &HdfsConnection, tmp: &str) {
    if let Err(e) = c.delete(tmp).await {
        tracing::debug!("could not remove temporary file {tmp}: {e:?}");
    }
}

/// Writes `data` to a new hidden temporary file next to `target`; returns its path. With
/// `parent_must_exist`, a missing schema directory is `NotFound` (an update needs a record),
/// and no directory is created.
async fn write_temp(
    c: &HdfsConnection,
    dir: &str,
    target_name: &str,
    data: &[u8],
    parent_must_exist: Option<&(dyn Fn() -> Error + Sync)>,
) -> Result<String> {
    let tmp = format!("{dir}/{}", layout::temp_name(target_name));
    match c
        .create(&tmp, data.to_vec(), parent_must_exist.is_none())
        .await
    {
        Ok(()) => Ok(tmp),
        Err(FsError::NotFound) if parent_must_exist.is_some() => {
            Err(parent_must_exist.expect("checked")())
        }
        Err(e) => {
            discard(c, &tmp).await;
            Err(match e {
                FsError::Exists => Error::Backend {
                    backend: "hdfs",
                    message: format!("temporary file {tmp} already exists"),
                    temporary: true,
                    source: None,
                },
                other => unexpected(other, "create", &tmp),
            })
        }
    }
}

/// Splits a store URL into a connector and a base path.
fn parse_url(url: &str, options: &OpenOptions) -> Result<(HdfsConnector, String)> {
    let shown = crate::options::redact_url(url);
    let parsed =
        url::Url::parse(url).map_err(|e| Error::invalid(format!("bad HDFS URL {shown:?}: {e}")))?;
    let transport = match parsed.scheme() {
        "hdfs" => Transport::Native,
        "webhdfs" => Transport::WebHdfs,
        other => {
            return Err(Error::invalid(format!(
                "scheme {other:?} is not hdfs or webhdfs in {shown:?}"
            )))
        }
    };
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::invalid(format!("HDFS URL {shown:?} names no NameNode host")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = parsed.port().unwrap_or(transport.default_port());
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let username = Some(decode(parsed.username()))
        .filter(|u| !u.is_empty())
        .or_else(|| options.extras.get("username").cloned());
    let path = decode(parsed.path());
    let base_path = if path.is_empty() || path == "/" {
        options
            .extras
            .get("base_path")
            .cloned()
            .unwrap_or_else(|| DEFAULT_BASE_PATH.to_string())
    } else {
        path
    };
    let mut connector = HdfsConnector::new(transport, host, port, username.as_deref());
    if let Some(t) = options.extras.get("request_timeout") {
        let secs: f64 = t
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
            .ok_or_else(|| {
                Error::invalid(format!("request_timeout {t:?} is not a number of seconds"))
            })?;
        connector = connector.with_request_timeout(Duration::from_secs_f64(secs));
    }
    Ok((connector, base_path))
}

#[async_trait]
impl KeyValueStore for HdfsStore {
    fn backend(&self) -> &'static str {
        "hdfs"
    }

    async fn exists(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<bool> {
        let path = &self.record_path(schema, key);
        self.manager
            .run(Idempotent, |c| async move {
                c.exists(path)
                    .await
                    .map_err(|e| unexpected(e, "stat", path))
            })
            .await
    }

    /// The directories under the base path whose names are valid schema names.
    async fn list_schemas(&self) -> Result<Vec<String>> {
        let base = &*self.base_path;
        let mut names = self
            .manager
            .run(Idempotent, |c| async move {
                match c.list_dirs(base).await {
                    Ok(names) => Ok(names),
                    Err(FsError::NotFound) => Ok(Vec::new()),
                    Err(e) => Err(unexpected(e, "list", base)),
                }
            })
            .await?;
        names.retain(|n| SchemaName::new(n).is_ok());
        names.sort();
        Ok(names)
    }

    /// The record files in the schema's directory, without reading them: like `HLEN` or
    /// `COUNT(*)`, a file whose name or content is corrupt still counts (`filter_record`
    /// reports it as [`Error::Corrupt`]).
    async fn count(&self, schema: SchemaName<'_>) -> Result<u64> {
        let dir = &self.schema_dir(schema);
        self.manager
            .run(Idempotent, |c| async move {
                match c.list(dir).await {
                    Ok(names) => Ok(names
                        .iter()
                        .filter(|n| layout::decode_file_name(n) != Entry::Other)
                        .count() as u64),
                    Err(FsError::NotFound) => Ok(0),
                    Err(e) => Err(unexpected(e, "list", dir)),
                }
            })
            .await
    }

    async fn insert_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        let dir = &self.schema_dir(schema);
        let name = &layout::file_name(key.as_str());
        let target = &format!("{dir}/{name}");
        let data = &record.to_json().into_bytes();
        self.manager
            .run(NotIdempotent, |c| async move {
                let tmp = write_temp(&c, dir, name, data, None).await?;
                match c.rename(&tmp, target, false).await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        discard(&c, &tmp).await;
                        Err(match e {
                            FsError::Exists => Error::already_exists(schema.as_str(), key.as_str()),
                            other => unexpected(other, "rename to", target),
                        })
                    }
                }
            })
            .await
    }

    async fn update_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        let dir = &self.schema_dir(schema);
        let name = &layout::file_name(key.as_str());
        let target = &format!("{dir}/{name}");
        let data = &record.to_json().into_bytes();
        let not_found = || Error::not_found(schema.as_str(), key.as_str());
        self.manager
            .run(NotIdempotent, |c| async move {
                let tmp = write_temp(&c, dir, name, data, Some(&not_found)).await?;
                // Checked after the write, right before the rename, to keep the window in which
                // a concurrent delete could be undone as short as possible.
                let outcome = match c.exists(target).await {
                    Ok(true) => c
                        .rename(&tmp, target, true)
                        .await
                        .map_err(|e| unexpected(e, "rename to", target)),
                    Ok(false) => Err(not_found()),
                    Err(e) => Err(unexpected(e, "stat", target)),
                };
                if outcome.is_err() {
                    discard(&c, &tmp).await;
                }
                outcome
            })
            .await
    }

    async fn delete_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<()> {
        let path = &self.record_path(schema, key);
        self.manager
            .run(NotIdempotent, |c| async move {
                match c.delete(path).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(Error::not_found(schema.as_str(), key.as_str())),
                    Err(e) => Err(unexpected(e, "delete", path)),
                }
            })
            .await
    }

    async fn get_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<Document> {
        let path = &self.record_path(schema, key);
        self.manager
            .run(Idempotent, |c| async move {
                match c.read(path).await {
                    Ok(bytes) => Document::decode_stored(&bytes, schema.as_str(), key.as_str()),
                    Err(FsError::NotFound) => Err(Error::not_found(schema.as_str(), key.as_str())),
                    Err(e) => Err(unexpected(e, "read", path)),
                }
            })
            .await
    }

    async fn filter_record(
        &self,
        schema: SchemaName<'_>,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>> {
        let dir = &self.schema_dir(schema);
        self.manager
            .run(Idempotent, |c| async move {
                Self::read_all(&c, schema.as_str(), dir, filter).await
            })
            .await
    }

    async fn insert_many(
        &self,
        schema: SchemaName<'_>,
        records: &[(RecordKey<'_>, Document)],
    ) -> Result<Vec<Result<()>>> {
        let results: Vec<Result<()>> = stream::iter(0..records.len())
            .map(|i| self.insert_record(schema, records[i].0, &records[i].1))
            .buffered(CONCURRENCY)
            .collect()
            .await;
        results.into_iter().map(per_item).collect()
    }

    async fn get_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<Document>>> {
        let results: Vec<Result<Document>> = stream::iter(0..keys.len())
            .map(|i| self.get_record(schema, keys[i]))
            .buffered(CONCURRENCY)
            .collect()
            .await;
        results.into_iter().map(per_item).collect()
    }

    async fn delete_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<()>>> {
        let results: Vec<Result<()>> = stream::iter(0..keys.len())
            .map(|i| self.delete_record(schema, keys[i]))
            .buffered(CONCURRENCY)
            .collect()
            .await;
        results.into_iter().map(per_item).collect()
    }

    /// A stat of the base path: the NameNode answers (a base path not created yet is fine).
    async fn ping(&self) -> Result<()> {
        let base = &*self.base_path;
        self.manager
            .run(Idempotent, |c| async move {
                c.exists(base)
                    .await
                    .map(|_| ())
                    .map_err(|e| unexpected(e, "stat", base))
            })
            .await
    }

    fn stats(&self) -> Option<ManagerStats> {
        Some(self.manager.stats())
    }

    async fn close(&self) {
        self.manager.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str, extras: &[(&str, &str)]) -> Result<(HdfsConnector, String)> {
        let options = OpenOptions {
            extras: extras
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..OpenOptions::default()
        };
        parse_url(url, &options)
    }

    #[test]
    fn urls() {
        let (c, base) = parse("hdfs://alice@nn:9000/data/rs", &[]).unwrap();
        assert_eq!(
            (c.transport(), c.address(), c.user(), base.as_str()),
            (
                Transport::Native,
                "nn:9000".to_string(),
                "alice",
                "/data/rs"
            )
        );
        let (c, base) = parse("webhdfs://nn", &[("base_path", "/x"), ("username", "bob")]).unwrap();
        assert_eq!(
            (c.transport(), c.address(), c.user(), base.as_str()),
            (Transport::WebHdfs, "nn:9870".to_string(), "bob", "/x")
        );
        let (c, base) = parse("hdfs://nn/", &[]).unwrap();
        assert_eq!(
            (c.address(), base.as_str()),
            ("nn:8020".to_string(), DEFAULT_BASE_PATH)
        );
        assert!(parse("hdfs:///x", &[]).is_err());
        assert!(parse("hdfs://nn/x", &[("request_timeout", "soon")]).is_err());
        let mut options = OpenOptions::default();
        options.extras.insert("base_path".into(), "/a/../b".into());
        let e = HdfsStore::from_url("hdfs://nn", &options).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let e = HdfsStore::from_url("hdfs://nn/a/%2E%2E/b", &OpenOptions::default());
        assert!(e.map(|s| s.base_path() == "/b").unwrap_or(true));
    }
}
