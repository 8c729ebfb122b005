//! The SQLite connector: opens a database file in WAL mode with the records table.

use crate::connection::{ConnectionMode, Connector, ConnectorConfig};
use crate::error::{Error, Result};
use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use std::io::ErrorKind as Io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One table holds every schema; the primary key makes insert atomic.
const SCHEMA_SQL: &str = "CREATE TABLE IF NOT EXISTS records (
    schema TEXT NOT NULL,
    key    TEXT NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (schema, key)
) WITHOUT ROWID;";

/// Why SQLite could not open or write `path`, asked of the file system (SQLite's own message
/// is only "unable to open database file"): [`Error::Config`] naming the cause and the fix.
pub(crate) fn unusable_path(path: &Path, e: &rusqlite::Error) -> Error {
    let shown = path.display();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let cause = if path.is_dir() {
        format!("{shown} is a directory: give a file path, such as {shown}/recordstore.db")
    } else if !parent.exists() {
        format!(
            "the directory {} does not exist: create it, or fix the path in the URL",
            parent.display()
        )
    } else if !parent.is_dir() {
        format!(
            "{} is not a directory: fix the path in the URL",
            parent.display()
        )
    } else {
        // Ask the file system what SQLite met: open the file for writing, creating it only
        // if it is missing (and then removing it again).
        let existed = path.exists();
        let probe = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(!existed)
            .open(path);
        match probe {
            Ok(_) => {
                if !existed {
                    let _ = std::fs::remove_file(path);
                }
                format!("cannot open {shown}: {e}")
            }
            Err(io) => {
                let why = match io.kind() {
                    Io::PermissionDenied => "permission denied".to_string(),
                    Io::ReadOnlyFilesystem => "read-only file system".to_string(),
                    Io::NotFound => format!("{} does not accept new files", parent.display()),
                    _ => io.to_string(),
                };
                let fix = "choose a path in a directory this user can write to";
                format!("cannot open {shown} for writing: {why}: {fix}")
            }
        }
    };
    Error::Config {
        backend: "sqlite",
        message: cause,
    }
}

/// Opens connections to one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteConnector {
    path: PathBuf,
    config: ConnectorConfig,
    busy_timeout: Duration,
}

impl SqliteConnector {
    /// A connector for the database file at `path`, created on first connect.
    pub fn new(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        let config = ConnectorConfig {
            db: Some(path.display().to_string()),
            ..ConnectorConfig::default()
        };
        SqliteConnector {
            path,
            config,
            busy_timeout: Duration::from_secs(5),
        }
    }

    /// How long a statement waits for another writer's lock before failing. Default 5 s.
    pub fn with_busy_timeout(mut self, busy_timeout: Duration) -> Self {
        self.busy_timeout = busy_timeout;
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl Connector for SqliteConnector {
    type Connection = Connection;

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn config(&self) -> &ConnectorConfig {
        &self.config
    }

    async fn connect(&self) -> Result<Connection> {
        let path = self.path.display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| unusable_path(&self.path, &e))?;
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(self.busy_timeout)?;
            // WAL: readers never block the writer. NORMAL: durable across a process crash,
            // and a commit costs no fsync.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch(SCHEMA_SQL)?;
            Ok(())
        };
        setup().map_err(|e| super::map_error(e, &path))?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    async fn check(&self, conn: &mut Connection) -> Result<()> {
        conn.query_row("SELECT 1", [], |_| Ok(()))
            .map_err(|e| super::map_error(e, &self.path.display().to_string()))
    }

    /// A SQLite connection cannot serve two threads at once: pooled.
    fn auto_mode(&self) -> ConnectionMode {
        ConnectionMode::Pooled
    }
}
