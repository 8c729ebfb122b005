//! The conformance suite on SQLite, pooled and single, plus SQLite's own cases.

mod conformance;

use conformance::Store;
use recordstore::backends::sqlite::SqliteStore;
use recordstore::connection::{ConnectionMode, PoolOptions};
use recordstore::{ErrorKind, Filter, KeyValueStore, KeyValueStoreExt, SchemaName};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// A fresh database file in a directory that lives as long as the test process.
fn db_path() -> PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    dir.join("test.db")
}

async fn open_mode(mode: ConnectionMode) -> Store {
    Arc::new(
        SqliteStore::with_options(db_path(), Some(mode), PoolOptions::default())
            .await
            .unwrap(),
    )
}

mod pooled {
    use super::*;
    async fn open() -> Store {
        open_mode(ConnectionMode::Pooled).await
    }
    conformance_tests!(open);
}

mod single {
    use super::*;
    async fn open() -> Store {
        open_mode(ConnectionMode::Single).await
    }
    conformance_tests!(open);
}

#[tokio::test]
async fn data_persists_across_opens() {
    let path = db_path();
    let url = format!("sqlite://{}", path.display());
    let store = recordstore::open(&url).await.unwrap();
    store.insert("s", "k", &json!({"v": 1})).await.unwrap();
    store.close().await;
    drop(store);
    let again = recordstore::open(&url).await.unwrap();
    let v: Value = again.get("s", "k").await.unwrap();
    assert_eq!(v, json!({"v": 1}));
}

#[tokio::test]
async fn wal_mode_is_on() {
    let path = db_path();
    let _store = SqliteStore::open(&path).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn corrupt_stored_json_is_an_error_naming_the_key() {
    let path = db_path();
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .insert("s", "good", &json!({"status": "done"}))
        .await
        .unwrap();
    store
        .insert("s", "bad", &json!({"status": "done"}))
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE records SET doc = '{not json' WHERE key = 'bad'", [])
        .unwrap();
    let e = store.get::<Value>("s", "bad").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert!(e.to_string().contains("\"bad\""), "{e}");
    for f in [Filter::all(), Filter::parse_args(&["status=done"]).unwrap()] {
        let e = store
            .filter_record(SchemaName::new("s").unwrap(), &f)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
        assert!(e.to_string().contains("\"bad\""), "{e}");
    }
    // The good record is still readable.
    let v: Value = store.get("s", "good").await.unwrap();
    assert_eq!(v["status"], "done");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_reported() {
    let path = db_path();
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let e = recordstore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(
        e.to_string()
            .contains("is not a recordstore (SQLite) database"),
        "{e}"
    );
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
}

#[tokio::test]
async fn a_damaged_database_file_is_reported_as_such_not_as_a_corrupt_record() {
    let path = db_path();
    let url = format!("sqlite://{}", path.display());
    {
        let store = recordstore::open(&url).await.unwrap();
        for i in 0..400 {
            let rec = json!({"n": i, "payload": "x".repeat(400)});
            store.insert("jobs", &format!("k{i}"), &rec).await.unwrap();
        }
        store.close().await;
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    // Keep the header and the first pages (the schema), overwrite the table's pages.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 16 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[4 * 4096..] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();

    let store = recordstore::open(&url).await.unwrap();
    let e = store
        .filter_record(SchemaName::new("jobs").unwrap(), &Filter::all())
        .await
        .expect_err("a damaged file cannot be read in full");
    assert_eq!(e.kind(), ErrorKind::Backend, "{e}");
    let text = e.to_string();
    assert!(text.contains("is damaged"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(!text.contains("corrupt record"), "{text}");
    assert!(!e.is_temporary(), "{e}");
}

#[tokio::test]
async fn an_unusable_path_is_a_configuration_error_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent-dir/sub/x.db");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"").unwrap();
    let cases = [
        (missing.clone(), "does not exist"),
        (dir.path().to_path_buf(), "is a directory"),
        (file.join("x.db"), "is not a directory"),
    ];
    for (path, cause) in cases {
        let started = std::time::Instant::now();
        let e = recordstore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert_eq!(e.exit_code(), 8);
        assert!(!e.is_temporary(), "{e}");
        assert!(e.to_string().contains(cause), "{}: {e}", path.display());
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
        // Not retried: the answer comes at once.
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{e}");
    }
    assert!(!missing.parent().unwrap().exists());
}

#[tokio::test]
async fn filters_are_pushed_down_to_sql() {
    // Pushdown must select a superset that the Rust check then trims; a record that only
    // the Rust check could reject proves both run.
    let store = SqliteStore::open(db_path()).await.unwrap();
    for i in 0..100 {
        let status = if i % 10 == 0 { "done" } else { "running" };
        store
            .insert(
                "bench",
                &format!("r{i}"),
                &json!({"status": status, "i": i}),
            )
            .await
            .unwrap();
    }
    let f = Filter::parse_args(&["status=done", "i__lt=50"]).unwrap();
    let found = store
        .filter_record(SchemaName::new("bench").unwrap(), &f)
        .await
        .unwrap();
    assert_eq!(found.len(), 5);
}
