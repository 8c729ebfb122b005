//! The conformance suite on the in-memory backend, plus its own cases.

mod conformance;

use conformance::Store;
use recordstore::backends::memory::MemoryStore;
use recordstore::KeyValueStoreExt;
use std::sync::Arc;

async fn open() -> Store {
    Arc::new(MemoryStore::new())
}

conformance_tests!(open);

#[tokio::test]
async fn instances_share_nothing() {
    let (a, b) = (open().await, open().await);
    a.insert("s", "k", &serde_json::json!({})).await.unwrap();
    assert!(!b.contains("s", "k").await.unwrap());
}

#[tokio::test]
async fn url_opens_memory() {
    let store = recordstore::open("memory://").await.unwrap();
    assert_eq!(store.backend(), "memory");
}
