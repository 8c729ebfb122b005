//! The SQLite backend: embedded and persistent, in WAL mode, the default store
//! (`sqlite://PATH`, `./recordstore.db` when no URL is given).
//!
//! A path that cannot hold the database (no such directory, a directory, no permission, a
//! read-only file system) and a file that is not a SQLite database are [`Error::Config`],
//! naming the cause: they are the settings' fault, and retrying cannot help.
//!
//! Layout: one table `records (schema, key, doc)` with primary key `(schema, key)`, the record
//! as JSON text in `doc`. Insert relies on the primary key, so it is atomic across processes;
//! update and delete check the number of changed rows. Filters are pushed down as
//! `json_extract`/`json_type` conditions with bound parameters.

mod connector;
mod peer;
mod pushdown;
mod pyliteral;

pub use connector::SqliteConnector;
pub use peer::PeerSqliteStore;

use crate::connection::{
    ConnectionMode, ConnectorManager, ConnectorManagerFactory, Idempotency, ManagerStats,
    PoolOptions,
};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::names::{RecordKey, SchemaName};
use crate::store::{KeyValueStore, KeyedDocument};
use async_trait::async_trait;
use rusqlite::{params, params_from_iter, Connection, ErrorCode, OptionalExtension};
use std::fmt;
use std::path::Path;

use Idempotency::{Idempotent, NotIdempotent};

/// A record store in one SQLite file.
pub struct SqliteStore {
    manager: ConnectorManager<SqliteConnector>,
    /// The file's path as text, for error messages.
    path: String,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.manager.connector().path())
            .field("mode", &self.manager.mode())
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, pooled, with default options.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::with_options(path, None, PoolOptions::default()).await
    }

    /// Opens the database at `path` with a connection mode (`None`: auto, which is pooled)
    /// and options. Connects once, so a path that cannot be opened fails here.
    pub async fn with_options(
        path: impl AsRef<Path>,
        mode: Option<ConnectionMode>,
        options: PoolOptions,
    ) -> Result<Self> {
        let connector = SqliteConnector::new(path);
        let path = connector.path().display().to_string();
        let manager = ConnectorManagerFactory::create_manager(connector, mode, options);
        manager.ping().await?;
        Ok(SqliteStore { manager, path })
    }

    /// The connection manager.
    pub fn manager(&self) -> &ConnectorManager<SqliteConnector> {
        &self.manager
    }

    async fn with<T>(
        &self,
        idempotency: Idempotency,
        op: impl FnMut(&mut Connection) -> rusqlite::Result<Result<T>>,
    ) -> Result<T> {
        let mut op = op;
        self.manager
            .with_connection(idempotency, |conn| {
                op(conn).unwrap_or_else(|e| Err(map_error(e, &self.path)))
            })
            .await
    }
}

/// Maps SQLite's errors onto ours: busy and locked are temporary, a damaged file is a backend
/// error that says so;
/// a file that cannot be opened or written, or that is not a database, is a configuration
/// error that names the cause.
pub(crate) fn map_error(e: rusqlite::Error, path: &str) -> Error {
    let code = e.sqlite_error_code();
    match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Timeout {
            backend: "sqlite",
            message: format!("{path} stayed locked: {e}"),
        },
        Some(ErrorCode::NotADatabase) => Error::Config {
            backend: "sqlite",
            message: format!(
                "{path} is not a recordstore (SQLite) database: point the URL at a recordstore \
                 database, or at a new file to create one"
            ),
        },
        // The file itself, not one record: no schema or key to name.
        Some(ErrorCode::DatabaseCorrupt) => Error::Backend {
            backend: "sqlite",
            message: format!(
                "the database file {path} is damaged ({e}): restore it from a backup, or \
                 salvage what is left with `sqlite3 {path} .recover`"
            ),
            temporary: false,
            source: Some(Box::new(e)),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            connector::unusable_path(Path::new(path), &e)
        }
        _ => Error::Backend {
            backend: "sqlite",
            message: format!("{path}: {e}"),
            temporary: matches!(code, Some(ErrorCode::SystemIoFailure | ErrorCode::DiskFull)),
            source: Some(Box::new(e)),
        },
    }
}

fn decode(text: &str, schema: &str, key: &str) -> Result<Document> {
    Document::decode_stored(text.as_bytes(), schema, key)
}

#[async_trait]
impl KeyValueStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn exists(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<bool> {
        self.with(Idempotent, |c| {
            let mut st =
                c.prepare_cached("SELECT 1 FROM records WHERE schema = ?1 AND key = ?2")?;
            Ok(Ok(st.exists(params![schema.as_str(), key.as_str()])?))
        })
        .await
    }

    async fn count(&self, schema: SchemaName<'_>) -> Result<u64> {
        self.with(Idempotent, |c| {
            let mut st = c.prepare_cached("SELECT COUNT(*) FROM records WHERE schema = ?1")?;
            let n: i64 = st.query_row(params![schema.as_str()], |r| r.get(0))?;
            Ok(Ok(n as u64))
        })
        .await
    }

    async fn insert_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        let text = record.to_json();
        self.with(NotIdempotent, |c| {
            let mut st = c.prepare_cached(
                "INSERT OR IGNORE INTO records (schema, key, doc) VALUES (?1, ?2, ?3)",
            )?;
            let changed = st.execute(params![schema.as_str(), key.as_str(), text])?;
            Ok(if changed == 1 {
                Ok(())
            } else {
                Err(Error::already_exists(schema.as_str(), key.as_str()))
            })
        })
        .await
    }

    async fn update_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        let text = record.to_json();
        self.with(NotIdempotent, |c| {
            let mut st =
                c.prepare_cached("UPDATE records SET doc = ?3 WHERE schema = ?1 AND key = ?2")?;
            let changed = st.execute(params![schema.as_str(), key.as_str(), text])?;
            Ok(if changed == 1 {
                Ok(())
            } else {
                Err(Error::not_found(schema.as_str(), key.as_str()))
            })
        })
        .await
    }

    async fn delete_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<()> {
        self.with(NotIdempotent, |c| {
            let mut st = c.prepare_cached("DELETE FROM records WHERE schema = ?1 AND key = ?2")?;
            let changed = st.execute(params![schema.as_str(), key.as_str()])?;
            Ok(if changed == 1 {
                Ok(())
            } else {
                Err(Error::not_found(schema.as_str(), key.as_str()))
            })
        })
        .await
    }

    async fn get_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<Document> {
        self.with(Idempotent, |c| {
            let mut st =
                c.prepare_cached("SELECT doc FROM records WHERE schema = ?1 AND key = ?2")?;
            let text: Option<String> = st
                .query_row(params![schema.as_str(), key.as_str()], |r| r.get(0))
                .optional()?;
            Ok(match text {
                Some(t) => decode(&t, schema.as_str(), key.as_str()),
                None => Err(Error::not_found(schema.as_str(), key.as_str())),
            })
        })
        .await
    }

    async fn filter_record(
        &self,
        schema: SchemaName<'_>,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>> {
        let pushed = pushdown::pushdown(schema.as_str(), filter);
        let sql = format!("SELECT key, doc FROM records WHERE {}", pushed.sql);
        self.with(Idempotent, |c| {
            let scan = |sql: &str, params: &[rusqlite::types::Value]| {
                let mut st = c.prepare_cached(sql)?;
                let rows = st.query_map(params_from_iter(params), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            };
            let rows = match scan(&sql, &pushed.params) {
                Ok(rows) => rows,
                // A malformed stored document makes json_type fail for the whole query, without
                // naming it. Scan plainly so that the error below names the record.
                Err(e) if e.to_string().contains("malformed JSON") => scan(
                    "SELECT key, doc FROM records WHERE schema = ?1",
                    &pushed.params[..1],
                )?,
                Err(e) => return Err(e),
            };
            let mut out = Vec::new();
            for (key, text) in rows {
                let doc = match decode(&text, schema.as_str(), &key) {
                    Ok(doc) => doc,
                    Err(e) => return Ok(Err(e)),
                };
                if filter.matches(&doc) {
                    out.push((key, doc));
                }
            }
            Ok(Ok(out))
        })
        .await
    }

    async fn insert_many(
        &self,
        schema: SchemaName<'_>,
        records: &[(RecordKey<'_>, Document)],
    ) -> Result<Vec<Result<()>>> {
        let texts: Vec<String> = records.iter().map(|(_, d)| d.to_json()).collect();
        self.with(NotIdempotent, |c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(records.len());
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR IGNORE INTO records (schema, key, doc) VALUES (?1, ?2, ?3)",
                )?;
                for ((key, _), text) in records.iter().zip(&texts) {
                    let changed = st.execute(params![schema.as_str(), key.as_str(), text])?;
                    out.push(if changed == 1 {
                        Ok(())
                    } else {
                        Err(Error::already_exists(schema.as_str(), key.as_str()))
                    });
                }
            }
            tx.commit()?;
            Ok(Ok(out))
        })
        .await
    }

    async fn get_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<Document>>> {
        self.with(Idempotent, |c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(keys.len());
            {
                let mut st =
                    tx.prepare_cached("SELECT doc FROM records WHERE schema = ?1 AND key = ?2")?;
                for key in keys {
                    let text: Option<String> = st
                        .query_row(params![schema.as_str(), key.as_str()], |r| r.get(0))
                        .optional()?;
                    out.push(match text {
                        Some(t) => decode(&t, schema.as_str(), key.as_str()),
                        None => Err(Error::not_found(schema.as_str(), key.as_str())),
                    });
                }
            }
            tx.commit()?;
            Ok(Ok(out))
        })
        .await
    }

    async fn delete_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<()>>> {
        self.with(NotIdempotent, |c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(keys.len());
            {
                let mut st =
                    tx.prepare_cached("DELETE FROM records WHERE schema = ?1 AND key = ?2")?;
                for key in keys {
                    let changed = st.execute(params![schema.as_str(), key.as_str()])?;
                    out.push(if changed == 1 {
                        Ok(())
                    } else {
                        Err(Error::not_found(schema.as_str(), key.as_str()))
                    });
                }
            }
            tx.commit()?;
            Ok(Ok(out))
        })
        .await
    }

    async fn list_keys(&self, schema: SchemaName<'_>) -> Result<Vec<String>> {
        self.with(Idempotent, |c| {
            let mut st = c.prepare_cached("SELECT key FROM records WHERE schema = ?1")?;
            let keys = st.query_map(params![schema.as_str()], |r| r.get(0))?;
            Ok(Ok(keys.collect::<rusqlite::Result<Vec<String>>>()?))
        })
        .await
    }

    async fn list_schemas(&self) -> Result<Vec<String>> {
        self.with(Idempotent, |c| {
            let mut st = c.prepare_cached("SELECT DISTINCT schema FROM records ORDER BY schema")?;
            let names = st.query_map([], |r| r.get(0))?;
            Ok(Ok(names.collect::<rusqlite::Result<Vec<String>>>()?))
        })
        .await
    }

    async fn ping(&self) -> Result<()> {
        self.manager.ping().await
    }

    fn stats(&self) -> Option<ManagerStats> {
        Some(self.manager.stats())
    }

    async fn close(&self) {
        self.manager.close().await
    }
}
