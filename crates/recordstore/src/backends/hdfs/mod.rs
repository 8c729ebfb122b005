//! The HDFS backend (seed: `HDFSStoreBackend` over `HDFSConnector`): one JSON file per
//! record, `{base_path}/{schema}/{key}.json`, over the native RPC protocol (`hdfs://`) or
//! WebHDFS (`webhdfs://`).
//!
//! URL: `hdfs://[user@]host[:port][/base_path]` or `webhdfs://…` (ports default to 8020 and
//! 9870). The base path comes from the URL path, else the `base_path` extra, else
//! `/event_pipeline`; the user from the URL, else the `username` extra, else
//! `$HADOOP_USER_NAME`, else `root`.
//!
//! File names: see [`layout`]. A key is written verbatim (`über.json`) when it is a valid
//! file name, else encoded (`~eC95.json` for `x/y`); it is read from that name, the previous
//! version's name (`~w7xiZXI.json`) and the peer's subdirectory path (`x/y.json`), in that
//! order ([`layout::candidates`]). Most keys (`[A-Za-z0-9_.-]`) have one name, and cost one
//! NameNode call as before; others cost one more call when the first name is missing.
//!
//! Consistency:
//! - **insert** writes the record to a hidden temporary file in the schema directory, closes
//!   it, checks that no other name of the key exists, then renames the file to the key's name
//!   with HDFS's `rename2` *without* overwrite. The NameNode does that rename atomically and
//!   refuses an existing destination, so of many concurrent inserts exactly one wins, and a
//!   reader never sees a half-written record (a file created in place would be visible, empty
//!   or partial, while it is being written).
//! - **update** writes a temporary file the same way, then finds the key's first existing
//!   name and renames over it (`rename2` with overwrite): readers see the old or the new
//!   record, never a partial one; a record stays under the name it has (an old `~…` name is
//!   not moved), and a missing key is `NotFound` (the temporary file is removed). HDFS has
//!   no conditional rename, so one race remains: a delete that lands between the existence
//!   check and the rename (one NameNode round trip, about a millisecond) is undone by the
//!   update, which then re-creates the record with the new content.
//! - **delete** removes every name of the key (one NameNode call for most keys); the answers
//!   tell whether there was a record. A subdirectory the peer made (`x/` of `x/y`) stays, as
//!   the peer leaves it.
//! - **count**, **filter** (and so export) walk the schema directory and its subdirectories
//!   and agree on what a record is: each key once, however many names hold it. Temporary
//!   files are skipped; files that are no record ("foreign": `notes.txt`, a `.json` whose name
//!   is no valid key) are skipped with a `tracing` warning naming the path, once per path and
//!   process. filter reads up to 16 files at once; a record file with bad content is
//!   [`Error::Corrupt`] naming the key and the file, never a shorter list. count reads no
//!   file, so such a record still counts, as `HLEN` or `COUNT(*)` would.
//! - A NameNode that cannot be reached is [`Error::Connection`] or [`Error::Timeout`], never
//!   `NotFound` or an empty result.
//!
//! A writer that dies between writing and renaming leaves a hidden `.….tmp-…` file behind;
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
use std::collections::hash_map::{self, HashMap};
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};
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

    /// The file a new record is written to: `{base_path}/{schema}/{name}`, with the name
    /// [`layout::file_name`] gives the key.
    pub fn record_path(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> String {
        layout::record_path(&self.base_path, schema.as_str(), key.as_str())
    }

    /// Every file that may hold a record, in the order they are tried; the first is
    /// [`HdfsStore::record_path`]. See [`layout::candidates`].
    pub fn record_paths(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Vec<String> {
        let dir = self.schema_dir(schema);
        layout::candidates(key.as_str())
            .into_iter()
            .map(|p| format!("{dir}/{p}"))
            .collect()
    }

    fn schema_dir(&self, schema: SchemaName<'_>) -> String {
        layout::schema_dir(&self.base_path, schema.as_str())
    }

    /// Reads every record under `dir`, up to [`CONCURRENCY`] files at once.
    async fn read_all(
        c: &HdfsConnection,
        schema: &str,
        dir: &str,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>> {
        let records = list_records(c, dir).await?;
        stream::iter(records)
            .map(|(key, rel)| async move {
                let path = format!("{dir}/{rel}");
                match c.read(&path).await {
                    Ok(bytes) => {
                        let doc = decode_record(&bytes, schema, &key, &path)?;
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

/// The files under `dir` and its subdirectories, as paths relative to `dir`; none if there is
/// no `dir`. A subdirectory too deep to hold a key is not walked (and is warned about).
async fn list_tree(c: &HdfsConnection, dir: &str) -> Result<Vec<String>> {
    let join = |rel: &str| {
        if rel.is_empty() {
            dir.to_string()
        } else {
            format!("{dir}/{rel}")
        }
    };
    let mut files = Vec::new();
    // One level at a time, its directories listed up to CONCURRENCY at once; "" is `dir`.
    let mut level = vec![String::new()];
    while !level.is_empty() {
        let listings: Vec<_> = stream::iter(level)
            .map(|rel| async move {
                let listing = c.list(&join(&rel)).await;
                (rel, listing)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut next = Vec::new();
        for (rel, listing) in listings {
            let entries = match listing {
                Ok(entries) => entries,
                // Removed since it was listed (or no schema directory yet): nothing there.
                Err(FsError::NotFound) => continue,
                Err(e) => return Err(unexpected(e, "list", &join(&rel))),
            };
            for (name, is_dir) in entries {
                let child = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                if !is_dir {
                    files.push(child);
                } else if child.len() + 2 <= crate::names::MAX_KEY_LEN {
                    next.push(child);
                } else {
                    // `child/x` would already be longer than any key.
                    warn_foreign(&join(&child), "a directory too deep to hold a record key");
                }
            }
        }
        level = next;
    }
    Ok(files)
}

/// The records under a schema directory: each key once, with the path (relative to `dir`) of
/// the file that holds it, its first candidate when several do. Temporary files are skipped;
/// foreign ones too, with a warning.
async fn list_records(c: &HdfsConnection, dir: &str) -> Result<HashMap<String, String>> {
    let files = list_tree(c, dir).await?;
    let mut records: HashMap<String, String> = HashMap::with_capacity(files.len());
    for path in files {
        match layout::decode_path(&path) {
            Entry::Temp => {}
            Entry::Foreign(why) => warn_foreign(&format!("{dir}/{path}"), &why),
            Entry::Record(key) => match records.entry(key) {
                hash_map::Entry::Vacant(v) => {
                    v.insert(path);
                }
                // Two names of one key (see `layout`): the earlier candidate is the record.
                hash_map::Entry::Occupied(mut o) => {
                    let order = layout::candidates(o.key());
                    let rank = |p: &str| order.iter().position(|c| c == p);
                    if rank(&path) < rank(o.get()) {
                        o.insert(path);
                    }
                }
            },
        }
    }
    Ok(records)
}

/// Logs a file that is not a record, once per path and process: count and filter run often,
/// and one stray file should not flood the log.
fn warn_foreign(path: &str, why: &str) {
    static SEEN: OnceLock<parking_lot::Mutex<HashSet<String>>> = OnceLock::new();
    let mut seen = SEEN.get_or_init(Default::default).lock();
    if seen.len() >= 10_000 {
        seen.clear(); // bounded: a directory full of strays warns again, not forever more memory
    }
    if seen.insert(path.to_string()) {
        tracing::warn!(path, "skipped a file that is not a record: {why}");
    }
}

/// Decodes a record file; a corrupt one names the file as well as the key.
fn decode_record(bytes: &[u8], schema: &str, key: &str, path: &str) -> Result<Document> {
    Document::decode_stored(bytes, schema, key).map_err(|e| match e {
        Error::Corrupt {
            schema,
            key,
            message,
        } => Error::Corrupt {
            schema,
            key,
            message: format!("{message} (file {path})"),
        },
        other => other,
    })
}

/// The first of `paths` that exists.
async fn find_first<'p>(c: &HdfsConnection, paths: &'p [String]) -> Result<Option<&'p str>> {
    for path in paths {
        match c.exists(path).await {
            Ok(true) => return Ok(Some(path)),
            Ok(false) => {}
            Err(e) => return Err(unexpected(e, "stat", path)),
        }
    }
    Ok(None)
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
        let paths = &self.record_paths(schema, key);
        self.manager
            .run(Idempotent, |c| async move {
                Ok(find_first(&c, paths).await?.is_some())
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

    /// The keys that `count` counts, from the same listing (foreign names skipped with a
    /// warning); no file is read.
    async fn list_keys(&self, schema: SchemaName<'_>) -> Result<Vec<String>> {
        let dir = &self.schema_dir(schema);
        self.manager
            .run(Idempotent, |c| async move {
                Ok(list_records(&c, dir).await?.into_keys().collect())
            })
            .await
    }

    /// The keys under the schema's directory (and its subdirectories), without reading the
    /// files: the records `filter_record` would list, each key once. Like `HLEN` or
    /// `COUNT(*)`, a record whose content is corrupt still counts (`filter_record` reports it
    /// as [`Error::Corrupt`]); temporary and foreign files do not.
    async fn count(&self, schema: SchemaName<'_>) -> Result<u64> {
        let dir = &self.schema_dir(schema);
        self.manager
            .run(Idempotent, |c| async move {
                Ok(list_records(&c, dir).await?.len() as u64)
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
        let paths = &self.record_paths(schema, key);
        let (target, others) = paths.split_first().expect("a key has a name");
        let data = &record.to_json().into_bytes();
        let exists = || Error::already_exists(schema.as_str(), key.as_str());
        self.manager
            .run(NotIdempotent, |c| async move {
                let tmp = write_temp(&c, dir, name, data, None).await?;
                // The previous version's or the peer's name of the key may hold it already.
                let outcome = match find_first(&c, others).await {
                    Ok(Some(_)) => Err(exists()),
                    Ok(None) => c.rename(&tmp, target, false).await.map_err(|e| match e {
                        FsError::Exists => exists(),
                        other => unexpected(other, "rename to", target),
                    }),
                    Err(e) => Err(e),
                };
                if outcome.is_err() {
                    discard(&c, &tmp).await;
                }
                outcome
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
        let paths = &self.record_paths(schema, key);
        let data = &record.to_json().into_bytes();
        let not_found = || Error::not_found(schema.as_str(), key.as_str());
        self.manager
            .run(NotIdempotent, |c| async move {
                let tmp = write_temp(&c, dir, name, data, Some(&not_found)).await?;
                // Checked after the write, right before the rename, to keep the window in which
                // a concurrent delete could be undone as short as possible. The record keeps
                // the name it has (an old `~…` name, the peer's subdirectory): the rename may
                // cross into a subdirectory, which HDFS does atomically too.
                let outcome = match find_first(&c, paths).await {
                    Ok(Some(target)) => c
                        .rename(&tmp, target, true)
                        .await
                        .map_err(|e| unexpected(e, "rename to", target)),
                    Ok(None) => Err(not_found()),
                    Err(e) => Err(e),
                };
                if outcome.is_err() {
                    discard(&c, &tmp).await;
                }
                outcome
            })
            .await
    }

    /// Removes every name of the key, the later candidates first: a reader sees the record
    /// until it is gone, never a shadowed older one in its place.
    async fn delete_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<()> {
        let paths = &self.record_paths(schema, key);
        self.manager
            .run(NotIdempotent, |c| async move {
                let mut found = false;
                for path in paths.iter().rev() {
                    match c.delete(path).await {
                        Ok(deleted) => found |= deleted,
                        Err(e) => return Err(unexpected(e, "delete", path)),
                    }
                }
                if found {
                    Ok(())
                } else {
                    Err(Error::not_found(schema.as_str(), key.as_str()))
                }
            })
            .await
    }

    async fn get_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<Document> {
        let paths = &self.record_paths(schema, key);
        let (schema, key) = (schema.as_str(), key.as_str());
        self.manager
            .run(Idempotent, |c| async move {
                for path in paths {
                    match c.read(path).await {
                        Ok(bytes) => return decode_record(&bytes, schema, key, path),
                        Err(FsError::NotFound) => {}
                        Err(e) => return Err(unexpected(e, "read", path)),
                    }
                }
                Err(Error::not_found(schema, key))
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
