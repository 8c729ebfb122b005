//! event-pipeline's own SQLite store, read-only (`sqlite+peer://PATH`): a source for
//! `recordstore copy`, so that a peer user can migrate it.
//!
//! What the peer writes (`event_pipeline/backends/stores/sqlite_store.py`, 2.0.0): one table
//! per schema, named as the schema, with `id VARCHAR PRIMARY KEY` (the record key) and one
//! column per annotated field of the record class; each row holds the record's `__dict__`
//! minus `_id` and `_backend`. Values are SQLite's own (text, integer, real, null), except that
//! a `dict` field is stored as Python's `str(value)`, e.g. `{'a': 1}`.
//!
//! How a row reads back as a record, in the shape of the peer's `__getstate__()` (what its
//! Redis and HDFS stores write): every column but `id` is a field, and `_id` is the key; a
//! text value that is
//! a Python dict literal of plain data becomes that object (see [`super::pyliteral`]); a
//! column declared `BOOLEAN` holding 0 or 1 becomes `false` or `true` (in a column declared
//! otherwise, Python's `False` was stored as the integer 0 and reads as 0); a blob is an error
//! naming the record. The peer's own `update_record` and `get_record` fail on these tables (it
//! writes and reads columns its `insert_record` never made), so rows hold what insert wrote.
//!
//! The file is opened read-only and never created; every write is [`Error::Config`].

use crate::document::Document;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::names::{RecordKey, SchemaName};
use crate::store::{KeyValueStore, KeyedDocument};
use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::{Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// event-pipeline's SQLite store, read-only.
pub struct PeerSqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl fmt::Debug for PeerSqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerSqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// A column of a schema's table.
struct Column {
    name: String,
    boolean: bool,
}

impl PeerSqliteStore {
    /// Opens the peer's database at `path`, read-only; a missing file is an error.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(Error::Config {
                backend: "sqlite",
                message: format!(
                    "{} does not exist or is not a file: sqlite+peer:// reads an existing event-pipeline database",
                    path.display()
                ),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let shown = path.display().to_string();
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|e| super::map_error(e, &shown))?;
        // A file that is not SQLite fails on its first read, not on open.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(|e| super::map_error(e, &shown))?;
        Ok(PeerSqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// Runs `f` on the connection on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &str) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = Arc::clone(&self.conn);
        let path = self.path.display().to_string();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&conn, &path)
        })
        .await
        .map_err(|e| Error::Backend {
            backend: "sqlite",
            message: format!("a read of {} panicked: {e}", self.path.display()),
            temporary: false,
            source: None,
        })?
    }

    fn read_only(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Error {
        Error::Config {
            backend: "sqlite",
            message: format!(
                "cannot write {schema}/{key}: sqlite+peer://{} is event-pipeline's store, opened read-only to copy from; write to a recordstore store (sqlite://…)",
                self.path.display()
            ),
        }
    }
}

/// `"name"` quoted as an SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table's columns, or `None` when there is no such table or it has no `id` column (not
/// one of the peer's schemas).
fn columns(c: &Connection, table: &str, path: &str) -> Result<Option<Vec<Column>>> {
    let sql = format!("PRAGMA table_info({})", ident(table));
    let mut st = c.prepare(&sql).map_err(|e| super::map_error(e, path))?;
    let cols = st
        .query_map([], |r| {
            Ok(Column {
                name: r.get::<_, String>(1)?,
                boolean: r
                    .get::<_, Option<String>>(2)?
                    .is_some_and(|t| t.eq_ignore_ascii_case("BOOLEAN")),
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| super::map_error(e, path))?;
    Ok(cols.iter().any(|c| c.name == "id").then_some(cols))
}

/// One row as `(key, record)`.
fn row_to_record(
    row: &rusqlite::Row<'_>,
    cols: &[Column],
    schema: &str,
) -> rusqlite::Result<Result<KeyedDocument>> {
    let mut key = None;
    let mut map = Map::new();
    for (i, col) in cols.iter().enumerate() {
        let v = row.get_ref(i)?;
        if col.name == "id" {
            key = Some(match v {
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Integer(n) => n.to_string(),
                ValueRef::Real(x) => x.to_string(),
                _ => {
                    return Ok(Err(Error::corrupt(
                        schema,
                        "(id)",
                        "a row without a usable id",
                    )))
                }
            });
            continue;
        }
        let value = match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) if col.boolean && (n == 0 || n == 1) => Value::Bool(n == 1),
            ValueRef::Integer(n) => Value::Number(n.into()),
            ValueRef::Real(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            ValueRef::Text(t) => {
                let text = String::from_utf8_lossy(t);
                match text
                    .starts_with('{')
                    .then(|| super::pyliteral::parse(&text))
                {
                    Some(Some(v)) => v,
                    _ => Value::String(text.into_owned()),
                }
            }
            ValueRef::Blob(_) => {
                let key = key.clone().unwrap_or_default();
                return Ok(Err(Error::corrupt(
                    schema,
                    key,
                    format!(
                        "column {:?} holds binary data, which has no JSON form",
                        col.name
                    ),
                )));
            }
        };
        map.insert(col.name.clone(), value);
    }
    Ok(match key {
        Some(k) => {
            // The peer's own state dict carries the key as `_id` (its insert moved it to the
            // `id` column): put it back, so the peer's `__setstate__` finds it after a copy.
            map.entry("_id").or_insert_with(|| Value::String(k.clone()));
            Ok((k, Document::new(map)))
        }
        None => Err(Error::corrupt(schema, "(id)", "a row without an id")),
    })
}

/// Every row of a table whose id is `key` (all rows when `None`).
fn read_rows(
    c: &Connection,
    schema: &str,
    key: Option<&str>,
    path: &str,
) -> Result<Vec<KeyedDocument>> {
    let Some(cols) = columns(c, schema, path)? else {
        return Ok(Vec::new());
    };
    let list: Vec<String> = cols.iter().map(|c| ident(&c.name)).collect();
    let mut sql = format!("SELECT {} FROM {}", list.join(", "), ident(schema));
    if key.is_some() {
        sql.push_str(" WHERE CAST(id AS TEXT) = ?1");
    }
    let mut st = c.prepare(&sql).map_err(|e| super::map_error(e, path))?;
    let params: Vec<&str> = key.into_iter().collect();
    let mut rows = st
        .query(rusqlite::params_from_iter(params))
        .map_err(|e| super::map_error(e, path))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| super::map_error(e, path))? {
        out.push(row_to_record(row, &cols, schema).map_err(|e| super::map_error(e, path))??);
    }
    Ok(out)
}

#[async_trait]
impl KeyValueStore for PeerSqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn exists(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<bool> {
        let (schema, key) = (schema.to_string(), key.to_string());
        self.with(move |c, path| {
            if columns(c, &schema, path)?.is_none() {
                return Ok(false);
            }
            let sql = format!(
                "SELECT 1 FROM {} WHERE CAST(id AS TEXT) = ?1 LIMIT 1",
                ident(&schema)
            );
            c.query_row(&sql, [&key], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
                .map_err(|e| super::map_error(e, path))
        })
        .await
    }

    async fn count(&self, schema: SchemaName<'_>) -> Result<u64> {
        let schema = schema.to_string();
        self.with(move |c, path| {
            if columns(c, &schema, path)?.is_none() {
                return Ok(0);
            }
            let sql = format!("SELECT count(*) FROM {}", ident(&schema));
            c.query_row(&sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|e| super::map_error(e, path))
        })
        .await
    }

    async fn insert_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        _record: &Document,
    ) -> Result<()> {
        Err(self.read_only(schema, key))
    }

    async fn update_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        _record: &Document,
    ) -> Result<()> {
        Err(self.read_only(schema, key))
    }

    async fn delete_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<()> {
        Err(self.read_only(schema, key))
    }

    async fn get_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<Document> {
        let (name, k) = (schema.to_string(), key.to_string());
        let rows = self
            .with(move |c, path| read_rows(c, &name, Some(&k), path))
            .await?;
        rows.into_iter()
            .next()
            .map(|(_, doc)| doc)
            .ok_or_else(|| Error::not_found(schema.as_str(), key.as_str()))
    }

    async fn filter_record(
        &self,
        schema: SchemaName<'_>,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>> {
        let name = schema.to_string();
        let rows = self
            .with(move |c, path| read_rows(c, &name, None, path))
            .await?;
        Ok(rows
            .into_iter()
            .filter(|(_, d)| filter.matches(d))
            .collect())
    }

    async fn list_keys(&self, schema: SchemaName<'_>) -> Result<Vec<String>> {
        let schema = schema.to_string();
        self.with(move |c, path| {
            if columns(c, &schema, path)?.is_none() {
                return Ok(Vec::new());
            }
            let sql = format!("SELECT CAST(id AS TEXT) FROM {}", ident(&schema));
            let mut st = c.prepare(&sql).map_err(|e| super::map_error(e, path))?;
            let keys = st
                .query_map([], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| super::map_error(e, path))?;
            Ok(keys)
        })
        .await
    }

    /// Tables with an `id` column whose names are valid schema names.
    async fn list_schemas(&self) -> Result<Vec<String>> {
        self.with(|c, path| {
            let mut st = c
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                )
                .map_err(|e| super::map_error(e, path))?;
            let tables = st
                .query_map([], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| super::map_error(e, path))?;
            let mut out = Vec::new();
            for t in tables {
                if SchemaName::new(&t).is_ok() && columns(c, &t, path)?.is_some() {
                    out.push(t);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn ping(&self) -> Result<()> {
        self.with(|c, path| {
            c.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(|e| super::map_error(e, path))
        })
        .await
    }
}
