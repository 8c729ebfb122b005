//! The pool against the real SQLite connector: many tasks, few connections.

use recordstore::backends::sqlite::{SqliteConnector, SqliteStore};
use recordstore::connection::{
    ConnectionMode, ConnectorManager, ConnectorManagerFactory, Idempotency, PoolOptions,
};
use recordstore::{KeyValueStore, KeyValueStoreExt};
use serde_json::{json, Value};
use std::sync::Arc;

fn db_path() -> std::path::PathBuf {
    tempfile::tempdir().unwrap().keep().join("pool.db")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_tasks_share_four_pooled_connections() {
    let opts = PoolOptions {
        max_connections: 4,
        ..PoolOptions::default()
    };
    let store = Arc::new(
        SqliteStore::with_options(db_path(), Some(ConnectionMode::Pooled), opts)
            .await
            .unwrap(),
    );
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let key = format!("t{t}-{i}");
                    store
                        .insert("jobs", &key, &json!({"t": t, "i": i}))
                        .await
                        .unwrap();
                    let v: Value = store.get("jobs", &key).await.unwrap();
                    assert_eq!(v["i"], i);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        store
            .count(recordstore::SchemaName::new("jobs").unwrap())
            .await
            .unwrap(),
        640
    );
    let s = store.stats().expect("sqlite reports stats");
    assert_eq!(s.mode, "pooled");
    assert!(s.created <= 4, "{s:?}");
    assert_eq!((s.timeouts, s.closed_broken, s.in_use), (0, 0, 0), "{s:?}");
    assert!(s.open <= 4 && s.open >= 1, "{s:?}");
    store.close().await;
    assert_eq!(store.stats().unwrap().open, 0);
}

#[tokio::test]
async fn auto_mode_pools_sqlite_and_a_cancelled_write_is_not_reused() {
    let m: ConnectorManager<SqliteConnector> = ConnectorManagerFactory::create_manager(
        SqliteConnector::new(db_path()),
        None,
        PoolOptions::default(),
    );
    assert_eq!(m.mode(), ConnectionMode::Pooled);
    // A statement that fails on the real connection: the pool drops that connection only
    // when the failure is a connection-level one; a constraint answer keeps it.
    let e = m
        .with_connection(Idempotency::NotIdempotent, |c| {
            c.execute("INSERT INTO nonexistent VALUES (1)", [])
                .map_err(|e| recordstore::Error::invalid(e.to_string()))
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nonexistent"), "{e}");
    let lease = m.acquire().await.unwrap();
    drop(lease); // cancelled midway
    let s = m.stats();
    assert_eq!((s.created, s.closed_broken, s.open), (1, 1, 0), "{s:?}");
    let n: i64 = m
        .with_connection(Idempotency::Idempotent, |c| {
            c.query_row("SELECT count(*) FROM records", [], |r| r.get(0))
                .map_err(|e| recordstore::Error::invalid(e.to_string()))
        })
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(m.stats().created, 2);
}

#[tokio::test]
async fn single_mode_sqlite_serves_concurrent_tasks_in_turn() {
    let store = Arc::new(
        SqliteStore::with_options(
            db_path(),
            Some(ConnectionMode::Single),
            PoolOptions::default(),
        )
        .await
        .unwrap(),
    );
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert("s", &format!("k{t}"), &json!({"t": t}))
                    .await
                    .unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        store
            .count(recordstore::SchemaName::new("s").unwrap())
            .await
            .unwrap(),
        16
    );
    let s = store.stats().unwrap();
    assert_eq!(
        (s.mode.as_str(), s.created, s.open, s.timeouts),
        ("single", 1, 1, 0),
        "{s:?}"
    );
}
