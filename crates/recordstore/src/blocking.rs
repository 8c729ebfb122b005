//! [`BlockingStore`]: the store for synchronous callers, with the seed's method names.
//!
//! It sits above [`crate::open()`] (it can open a URL itself), so it lives beside the router, not
//! in `store.rs` below it.

use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::store::{KeyValueStore, KeyValueStoreExt};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt;
use std::sync::Arc;

/// A synchronous facade for callers without an async runtime, with the seed's method names.
///
/// It owns a small tokio runtime; do not use it from inside an async context.
pub struct BlockingStore {
    store: Arc<dyn KeyValueStore>,
    runtime: tokio::runtime::Runtime,
}

impl fmt::Debug for BlockingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingStore")
            .field("store", &self.store)
            .finish()
    }
}

impl BlockingStore {
    /// Wraps an async store.
    pub fn new(store: Arc<dyn KeyValueStore>) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Backend {
                backend: store.backend(),
                message: format!("cannot start a runtime: {e}"),
                temporary: false,
                source: None,
            })?;
        Ok(BlockingStore { store, runtime })
    }

    /// Opens a store from a URL (see [`crate::open`]).
    pub fn open(url: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::invalid(format!("cannot start a runtime: {e}")))?;
        let store = runtime.block_on(crate::open(url))?;
        Ok(BlockingStore { store, runtime })
    }

    /// The async store behind this facade.
    pub fn inner(&self) -> &Arc<dyn KeyValueStore> {
        &self.store
    }

    /// Whether a record exists.
    pub fn exists(&self, schema: &str, key: &str) -> Result<bool> {
        self.runtime.block_on(self.store.contains(schema, key))
    }

    /// The number of records in a schema.
    pub fn count(&self, schema: &str) -> Result<u64> {
        self.runtime.block_on(self.store.count_in(schema))
    }

    /// Inserts a new record.
    pub fn insert_record<T: Serialize + Sync + ?Sized>(
        &self,
        schema: &str,
        key: &str,
        record: &T,
    ) -> Result<()> {
        self.runtime
            .block_on(self.store.insert(schema, key, record))
    }

    /// Replaces an existing record.
    pub fn update_record<T: Serialize + Sync + ?Sized>(
        &self,
        schema: &str,
        key: &str,
        record: &T,
    ) -> Result<()> {
        self.runtime
            .block_on(self.store.update(schema, key, record))
    }

    /// Inserts or replaces a record.
    pub fn save_record<T: Serialize + Sync + ?Sized>(
        &self,
        schema: &str,
        key: &str,
        record: &T,
    ) -> Result<()> {
        self.runtime.block_on(self.store.save(schema, key, record))
    }

    /// Deletes a record.
    pub fn delete_record(&self, schema: &str, key: &str) -> Result<()> {
        self.runtime.block_on(self.store.delete(schema, key))
    }

    /// Reads a record.
    pub fn get_record<T: DeserializeOwned>(&self, schema: &str, key: &str) -> Result<T> {
        self.runtime.block_on(self.store.get(schema, key))
    }

    /// Reads a record in place of `record`.
    pub fn reload_record<T: DeserializeOwned + Send>(
        &self,
        schema: &str,
        key: &str,
        record: &mut T,
    ) -> Result<()> {
        self.runtime
            .block_on(self.store.reload(schema, key, record))
    }

    /// The matching records of a schema, with their keys.
    pub fn filter_record<T: DeserializeOwned>(
        &self,
        schema: &str,
        filter: &Filter,
    ) -> Result<Vec<(String, T)>> {
        self.runtime.block_on(self.store.filter(schema, filter))
    }
}
