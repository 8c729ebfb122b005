//! The Redis backend (seed: `RedisStoreBackend` over `RedisConnector`).
//!
//! # Redis layout
//!
//! One Redis hash per schema, as in the seed:
//!
//! - hash key: the schema name (`tasks`), or `{prefix}:{schema}` (`app1:tasks`) when a prefix
//!   is set (`?prefix=app1` in the URL, or `prefix` in the config), so that several
//!   applications can share one server; schema names cannot contain `:`, so the two never
//!   collide;
//! - field: the record key, verbatim;
//! - value: the record's JSON text (compact, UTF-8), or with `?codec=pickle` (or the `codec`
//!   extra) a Python pickle of the record's dict, as event-pipeline's `RedisStoreBackend`
//!   stores it (see [`crate::codec`] for the types that round-trip), so that the peer and
//!   recordstore can share one live Redis: give no prefix, since the peer's hashes are the bare
//!   schema names.
//!
//! So `redis-cli HGET app1:tasks t-1` prints a record and `redis-cli HLEN tasks` counts them.
//!
//! Every operation is one round trip and atomic, with no PING: insert is `HSETNX` (0 means
//! the key is taken), update is a Lua script that runs `HSET` only if `HEXISTS` (`EVALSHA`),
//! delete is `HDEL`, get is `HGET`, exists is `HEXISTS`, count is `HLEN`. Batches are one
//! pipeline (`HSETNX`, `HDEL`) or one `HMGET` per 1000 records. `filter_record` walks the hash
//! with `HSCAN` in batches of `scan_count` (default 1000) so that a huge hash never blocks the
//! server. By default every record crosses the network and is decoded and matched in Rust
//! (`?filter=client`), which scanned 6–8x as many records per second as decoding in Lua
//! (BENCHMARKS.md) and keeps that work off the server's single thread; `?filter=server` runs a
//! Lua script that applies the filter on the server so that only candidates cross the network,
//! for slow networks and selective filters. The client checks every record either way, so both
//! give the same answer. With `codec=pickle` the Lua script cannot read the values, so filters
//! always run on the client (`filter=server` is refused). A stored value that is not a record
//! in the store's codec is reported as `Corrupt`, naming its key, never skipped. `list_schemas` scans for hashes (on every master of a
//! cluster).
//!
//! URLs: `redis://[user:password@]host[:port][/db]`, `rediss://…` for TLS,
//! `redis+cluster://host:port[,host:port…]` for Redis Cluster (a schema's hash lives in one
//! slot, so every operation on one schema goes to one node). Query parameters: `prefix`,
//! `filter=server|client`, `scan_count`, `codec=json|pickle`, and `tls_ca=PEM_FILE` to trust a private CA on a
//! `rediss://` server. The store connects on first use, so opening never
//! fails for an unreachable server; the first operation does, with `Error::Connection`.
//! Single servers are spoken to in RESP3 (Redis 6 or newer), whose disconnection notices let
//! a connection that died while idle be replaced before a write is sent on it; servers without
//! `HELLO` get RESP2, without that early notice.
//!
//! In single mode over plain TCP, the store also opens a second socket, the *direct lane*
//! (named `recordstore-direct` in `CLIENT LIST`): a caller that is alone sends its command
//! (not scripts or scans) on it and reads the reply itself, without the multiplexer's driver
//! task, which costs a lone caller several percent of each round trip. Concurrent callers share
//! the multiplexed connection, as before. See the `direct` module.

mod connection;
mod connector;
mod direct;
mod errors;
mod scripts;
mod settings;

pub use connection::RedisConnection;
pub use connector::RedisConnector;
pub use settings::FilterMode;

use crate::codec::Codec;
use crate::connection::{
    ConnectionMode, Connector, ConnectorManager, ConnectorManagerFactory, Idempotency,
    ManagerStats, PoolOptions,
};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::names::{RecordKey, SchemaName};
use crate::options::OpenOptions;
use crate::store::{KeyValueStore, KeyedDocument};
use async_trait::async_trait;
use errors::map_error;
use redis::{FromRedisValue, RedisError};
use settings::RedisSettings;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use Idempotency::{Idempotent, NotIdempotent};

/// How many records one pipeline or `HMGET` carries.
const BATCH: usize = 1000;

/// Opens a Redis store from a URL.
pub(crate) async fn open_url(url: &str, options: &OpenOptions) -> Result<Arc<dyn KeyValueStore>> {
    Ok(Arc::new(RedisStore::open_with(url, options)?))
}

/// A record store in Redis hashes (see the module docs for the layout).
pub struct RedisStore {
    manager: ConnectorManager<RedisConnector>,
    prefix: Option<String>,
    filter_mode: FilterMode,
    scan_count: usize,
    codec: Codec,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("address", &self.manager.connector().address())
            .field("mode", &self.manager.mode())
            .field("prefix", &self.prefix)
            .field("filter", &self.filter_mode)
            .field("codec", &self.codec)
            .finish()
    }
}

impl RedisStore {
    /// A store for a Redis URL with default options. Does no I/O: the first operation
    /// connects.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, &OpenOptions::default())
    }

    /// A store for a Redis URL with a connection mode (`None`: single, see
    /// [`RedisConnector`]'s `auto_mode`), pool options and extras (`prefix`, `filter`,
    /// `scan_count`, `codec`, `username`, `password`, `db`; the URL wins). Does no I/O.
    pub fn open_with(url: &str, options: &OpenOptions) -> Result<Self> {
        let settings = RedisSettings::parse(url, &options.extras)?;
        let connector = RedisConnector::new(&settings, &options.pool)?;
        let mode = options.mode.unwrap_or_else(|| connector.auto_mode());
        let connector = connector.for_mode(mode);
        Ok(Self::with_connector(
            connector,
            Some(mode),
            options.pool.clone(),
            &settings,
        ))
    }

    fn with_connector(
        connector: RedisConnector,
        mode: Option<ConnectionMode>,
        pool: PoolOptions,
        settings: &RedisSettings,
    ) -> Self {
        RedisStore {
            manager: ConnectorManagerFactory::create_manager(connector, mode, pool),
            prefix: settings.prefix.clone(),
            filter_mode: settings.filter,
            scan_count: settings.scan_count,
            codec: settings.codec,
        }
    }

    /// The connection manager.
    pub fn manager(&self) -> &ConnectorManager<RedisConnector> {
        &self.manager
    }

    /// The key prefix (namespace), if any.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// How filters are evaluated.
    pub fn filter_mode(&self) -> FilterMode {
        self.filter_mode
    }

    /// How records are stored: JSON text (the default) or the peer's pickles.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    fn decode(&self, bytes: &[u8], schema: SchemaName<'_>, key: &str) -> Result<Document> {
        self.codec.decode(bytes, schema.as_str(), key)
    }

    /// The Redis key of a schema's hash: `schema`, or `prefix:schema`.
    pub fn hash_key(&self, schema: SchemaName<'_>) -> String {
        match &self.prefix {
            Some(p) => format!("{p}:{}", schema.as_str()),
            None => schema.as_str().to_string(),
        }
    }

    /// Runs one operation on a connection handle, mapping the client's errors; `hash` is the
    /// schema's Redis key, for messages.
    async fn run<T, F, Fut>(
        &self,
        idempotency: Idempotency,
        what: &str,
        hash: Option<&str>,
        mut op: F,
    ) -> Result<T>
    where
        F: FnMut(RedisConnection) -> Fut,
        Fut: Future<Output = std::result::Result<T, RedisError>>,
    {
        let address = self.manager.connector().address();
        self.manager
            .run(idempotency, |conn| {
                let fut = op(conn);
                async move { fut.await.map_err(|e| map_error(e, address, what, hash)) }
            })
            .await
    }

    /// Runs one command (a pipeline: [`query_pipeline`](Self::query_pipeline)); a retry sends
    /// it again whole.
    async fn query<T: FromRedisValue + Send>(
        &self,
        idempotency: Idempotency,
        what: &str,
        cmd: &redis::Cmd,
    ) -> Result<T> {
        self.run(idempotency, what, first_key(cmd), |mut c| async move {
            cmd.query_async(&mut c.plain_commands()).await
        })
        .await
    }

    /// Runs one pipeline, as [`query`](Self::query) runs one command.
    async fn query_pipeline<T: FromRedisValue + Send>(
        &self,
        idempotency: Idempotency,
        what: &str,
        pipe: &redis::Pipeline,
    ) -> Result<T> {
        let hash = pipe.cmd_iter().next().and_then(first_key);
        self.run(idempotency, what, hash, |mut c| async move {
            pipe.query_async(&mut c.plain_commands()).await
        })
        .await
    }

    /// `name hash key`: a command on one field of a schema's hash.
    fn field_cmd(&self, name: &str, schema: SchemaName<'_>, key: RecordKey<'_>) -> redis::Cmd {
        let mut cmd = redis::cmd(name);
        cmd.arg(self.hash_key(schema)).arg(key.as_str());
        cmd
    }

    fn map_err<'a>(&'a self, what: &str, hash: &'a str) -> impl Fn(RedisError) -> Error + 'a {
        let address = self.manager.connector().address();
        let what = what.to_string();
        move |e| map_error(e, address, &what, Some(hash))
    }

    /// One batch of a filter: `(next cursor, [(field, value)])`, filtered on the server
    /// unless the mode or the filter says otherwise.
    async fn scan_batch(
        &self,
        conn: &mut RedisConnection,
        hash: &str,
        cursor: &str,
        encoded: Option<&str>,
    ) -> std::result::Result<(String, Vec<Vec<u8>>), RedisError> {
        match encoded {
            Some(filter) => {
                let mut out: Vec<Vec<u8>> = scripts::FILTER
                    .key(hash)
                    .arg(cursor)
                    .arg(self.scan_count)
                    .arg(filter)
                    .invoke_async(conn)
                    .await?;
                if out.is_empty() {
                    return Err(RedisError::from((
                        redis::ErrorKind::UnexpectedReturnType,
                        "the filter script returned no cursor",
                    )));
                }
                let next = String::from_utf8_lossy(&out.remove(0)).into_owned();
                Ok((next, out))
            }
            None => {
                redis::cmd("HSCAN")
                    .arg(hash)
                    .arg(cursor)
                    .arg("COUNT")
                    .arg(self.scan_count)
                    .query_async(conn)
                    .await
            }
        }
    }
}

/// A command's first argument (the key of the commands here), for messages.
fn first_key(cmd: &redis::Cmd) -> Option<&str> {
    match cmd.args_iter().nth(1)? {
        redis::Arg::Simple(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

#[async_trait]
impl KeyValueStore for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn exists(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<bool> {
        let cmd = self.field_cmd("HEXISTS", schema, key);
        self.query(Idempotent, "HEXISTS", &cmd).await
    }

    /// `SCAN` for hashes (under `prefix:` when a prefix is set) whose names are valid schema
    /// names, on every master of a cluster. Without a prefix every hash on the server counts,
    /// so give applications that share a server a prefix.
    async fn list_schemas(&self) -> Result<Vec<String>> {
        let pattern = match &self.prefix {
            Some(p) => format!("{p}:*"),
            None => "*".to_string(),
        };
        let names: Vec<String> = self
            .run(Idempotent, "SCAN", None, |mut c| {
                let pattern = pattern.clone();
                async move { c.scan_hashes(&pattern).await }
            })
            .await?;
        let strip = self.prefix.as_ref().map(|p| format!("{p}:"));
        let mut schemas: Vec<String> = names
            .into_iter()
            .filter_map(|n| match &strip {
                Some(pre) => n.strip_prefix(pre.as_str()).map(str::to_string),
                None => Some(n),
            })
            .filter(|n| SchemaName::new(n).is_ok())
            .collect();
        schemas.sort();
        schemas.dedup();
        Ok(schemas)
    }

    async fn list_keys(&self, schema: SchemaName<'_>) -> Result<Vec<String>> {
        let mut cmd = redis::cmd("HKEYS");
        cmd.arg(self.hash_key(schema));
        self.query(Idempotent, "HKEYS", &cmd).await
    }

    async fn count(&self, schema: SchemaName<'_>) -> Result<u64> {
        let mut cmd = redis::cmd("HLEN");
        cmd.arg(self.hash_key(schema));
        self.query(Idempotent, "HLEN", &cmd).await
    }

    async fn insert_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        let mut cmd = self.field_cmd("HSETNX", schema, key);
        cmd.arg(self.codec.encode(record)?);
        let added: bool = self.query(NotIdempotent, "HSETNX", &cmd).await?;
        if added {
            Ok(())
        } else {
            Err(Error::already_exists(schema.as_str(), key.as_str()))
        }
    }

    async fn update_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        let (hash, text) = (self.hash_key(schema), self.codec.encode(record)?);
        let replaced: bool = self
            .run(NotIdempotent, "update script", Some(&hash), |mut c| {
                let (hash, text) = (hash.clone(), text.clone());
                async move {
                    scripts::UPDATE
                        .key(hash)
                        .arg(key.as_str())
                        .arg(text)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await?;
        if replaced {
            Ok(())
        } else {
            Err(Error::not_found(schema.as_str(), key.as_str()))
        }
    }

    async fn delete_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<()> {
        let cmd = self.field_cmd("HDEL", schema, key);
        let removed: i64 = self.query(NotIdempotent, "HDEL", &cmd).await?;
        if removed == 1 {
            Ok(())
        } else {
            Err(Error::not_found(schema.as_str(), key.as_str()))
        }
    }

    async fn get_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<Document> {
        let cmd = self.field_cmd("HGET", schema, key);
        let value: Option<Vec<u8>> = self.query(Idempotent, "HGET", &cmd).await?;
        match value {
            Some(bytes) => self.decode(&bytes, schema, key.as_str()),
            None => Err(Error::not_found(schema.as_str(), key.as_str())),
        }
    }

    async fn filter_record(
        &self,
        schema: SchemaName<'_>,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>> {
        let hash = self.hash_key(schema);
        let encoded = match self.filter_mode {
            FilterMode::Server if !filter.is_empty() && self.codec == Codec::Json => {
                Some(scripts::encode_filter(filter))
            }
            _ => None,
        };
        let what = if encoded.is_some() {
            "filter script"
        } else {
            "HSCAN"
        };
        let map_err = self.map_err(what, &hash);
        let (codec, prefilter) = (self.codec, self.codec.prefilter(filter));
        self.manager
            .run(Idempotent, |mut conn| {
                let (hash, encoded, map_err) = (&hash, encoded.as_deref(), &map_err);
                let prefilter = &prefilter;
                async move {
                    let mut out = Vec::new();
                    // HSCAN may return a field twice; every field counts once.
                    let mut seen = HashSet::new();
                    let mut ahead = conn.clone();
                    let (mut cursor, mut items) = self
                        .scan_batch(&mut conn, hash, "0", encoded)
                        .await
                        .map_err(map_err)?;
                    loop {
                        // Ask for the next batch before decoding this one, so the server
                        // scans while the client decodes.
                        let next = async {
                            if cursor == "0" {
                                return Ok(None);
                            }
                            self.scan_batch(&mut ahead, hash, &cursor, encoded)
                                .await
                                .map(Some)
                        };
                        let decode_batch = async {
                            tokio::task::yield_now().await; // let the request go out first
                            let mut pairs = std::mem::take(&mut items).into_iter();
                            while let (Some(field), Some(value)) = (pairs.next(), pairs.next()) {
                                let key = match String::from_utf8(field) {
                                    Ok(k) => k,
                                    Err(e) => {
                                        let k = String::from_utf8_lossy(e.as_bytes()).into_owned();
                                        return Err(Error::corrupt(
                                            schema.as_str(),
                                            k,
                                            "the field name is not UTF-8",
                                        ));
                                    }
                                };
                                // Every value is checked, so a corrupt one is always
                                // reported; text that cannot match is not built into a
                                // document; only matches are remembered for HSCAN's repeats.
                                if !prefilter.may_match(&value) {
                                    codec.check(&value, schema.as_str(), &key)?;
                                    continue;
                                }
                                let doc = codec.decode(&value, schema.as_str(), &key)?;
                                if filter.matches(&doc) && seen.insert(key.clone()) {
                                    out.push((key, doc));
                                }
                            }
                            Ok(())
                        };
                        let (fetched, decoded) = tokio::join!(next, decode_batch);
                        decoded?;
                        match fetched.map_err(map_err)? {
                            Some((c, batch)) => {
                                cursor = c;
                                items = batch;
                            }
                            None => return Ok(out),
                        }
                    }
                }
            })
            .await
    }

    async fn insert_many(
        &self,
        schema: SchemaName<'_>,
        records: &[(RecordKey<'_>, Document)],
    ) -> Result<Vec<Result<()>>> {
        let hash = self.hash_key(schema);
        let mut out = Vec::with_capacity(records.len());
        for chunk in records.chunks(BATCH) {
            // A record this codec cannot store fails alone; the others are sent.
            let encoded: Vec<Result<Vec<u8>>> = chunk
                .iter()
                .map(|(_, doc)| self.codec.encode(doc))
                .collect();
            let mut pipe = redis::pipe();
            for ((key, _), value) in chunk.iter().zip(&encoded) {
                if let Ok(value) = value {
                    pipe.cmd("HSETNX").arg(&hash).arg(key.as_str()).arg(value);
                }
            }
            let added: Vec<bool> = if pipe.cmd_iter().next().is_some() {
                self.query_pipeline(NotIdempotent, "HSETNX pipeline", &pipe)
                    .await?
            } else {
                Vec::new()
            };
            let mut added = added.into_iter();
            for ((key, _), value) in chunk.iter().zip(encoded) {
                out.push(match value {
                    Err(e) => Err(e),
                    Ok(_) if added.next() == Some(true) => Ok(()),
                    Ok(_) => Err(Error::already_exists(schema.as_str(), key.as_str())),
                });
            }
        }
        Ok(out)
    }

    async fn get_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<Document>>> {
        let hash = self.hash_key(schema);
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(&hash);
            for key in chunk {
                cmd.arg(key.as_str());
            }
            let values: Vec<Option<Vec<u8>>> = self.query(Idempotent, "HMGET", &cmd).await?;
            for (key, value) in chunk.iter().zip(values) {
                out.push(match value {
                    Some(bytes) => self.decode(&bytes, schema, key.as_str()),
                    None => Err(Error::not_found(schema.as_str(), key.as_str())),
                });
            }
        }
        Ok(out)
    }

    async fn delete_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<()>>> {
        let hash = self.hash_key(schema);
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            let mut pipe = redis::pipe();
            for key in chunk {
                pipe.cmd("HDEL").arg(&hash).arg(key.as_str());
            }
            let removed: Vec<i64> = self
                .query_pipeline(NotIdempotent, "HDEL pipeline", &pipe)
                .await?;
            for (key, n) in chunk.iter().zip(removed) {
                out.push(if n == 1 {
                    Ok(())
                } else {
                    Err(Error::not_found(schema.as_str(), key.as_str()))
                });
            }
        }
        Ok(out)
    }

    /// A real `PING` (on every node of a cluster); no other operation sends one.
    async fn ping(&self) -> Result<()> {
        self.manager.ping().await
    }

    fn stats(&self) -> Option<ManagerStats> {
        Some(self.manager.stats())
    }

    /// Closes the connections; later operations fail with [`Error::Closed`].
    async fn close(&self) {
        self.manager.close().await
    }
}
