//! The in-memory backend (seed: `InMemoryKeyValueStoreBackend`): per instance, thread-safe, and
//! never aliasing what callers hold.
//!
//! Records are kept as [`Document`]s, which are copy-on-write: a caller that changes a record it
//! got back changes its own copy, never the stored one. Unlike the peer, the store is not a
//! process-wide global: two `MemoryStore`s share nothing.

use crate::document::Document;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::names::{RecordKey, SchemaName};
use crate::store::{KeyValueStore, KeyedDocument};
use async_trait::async_trait;
use compact_str::CompactString;
use hashbrown::hash_map::Entry;
use hashbrown::HashMap;
use parking_lot::RwLock;

/// Keys are compact strings: a key of up to 24 bytes is stored inline, so an insert of a
/// typical key allocates nothing for it.
type Schema = HashMap<CompactString, Document>;

/// A new schema starts with room for this many records (128 KiB), so that a filling schema
/// skips its first, most frequent regrowths.
const INITIAL_CAPACITY: usize = 4096;

/// An in-memory record store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    schemas: RwLock<HashMap<String, Schema>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl KeyValueStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn exists(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<bool> {
        let schemas = self.schemas.read();
        Ok(schemas
            .get(schema.as_str())
            .is_some_and(|s| s.contains_key(key.as_str())))
    }

    async fn count(&self, schema: SchemaName<'_>) -> Result<u64> {
        let schemas = self.schemas.read();
        Ok(schemas.get(schema.as_str()).map_or(0, |s| s.len() as u64))
    }

    async fn insert_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        let mut schemas = self.schemas.write();
        let records = match schemas.get_mut(schema.as_str()) {
            Some(records) => records,
            None => schemas
                .entry(schema.as_str().to_string())
                .or_insert_with(|| Schema::with_capacity(INITIAL_CAPACITY)),
        };
        match records.entry(CompactString::new(key.as_str())) {
            Entry::Occupied(_) => Err(Error::already_exists(schema.as_str(), key.as_str())),
            Entry::Vacant(v) => {
                v.insert(record.clone());
                Ok(())
            }
        }
    }

    async fn update_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        let mut schemas = self.schemas.write();
        match schemas
            .get_mut(schema.as_str())
            .and_then(|s| s.get_mut(key.as_str()))
        {
            Some(slot) => {
                *slot = record.clone();
                Ok(())
            }
            None => Err(Error::not_found(schema.as_str(), key.as_str())),
        }
    }

    async fn delete_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<()> {
        let mut schemas = self.schemas.write();
        let removed = schemas
            .get_mut(schema.as_str())
            .and_then(|s| s.remove(key.as_str()));
        match removed {
            Some(_) => Ok(()),
            None => Err(Error::not_found(schema.as_str(), key.as_str())),
        }
    }

    async fn get_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<Document> {
        let schemas = self.schemas.read();
        schemas
            .get(schema.as_str())
            .and_then(|s| s.get(key.as_str()))
            .cloned()
            .ok_or_else(|| Error::not_found(schema.as_str(), key.as_str()))
    }

    async fn filter_record(
        &self,
        schema: SchemaName<'_>,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>> {
        let schemas = self.schemas.read();
        let Some(records) = schemas.get(schema.as_str()) else {
            return Ok(Vec::new());
        };
        Ok(records
            .iter()
            .filter(|(_, doc)| filter.matches(doc))
            .map(|(k, doc)| (k.to_string(), doc.clone()))
            .collect())
    }

    async fn list_schemas(&self) -> Result<Vec<String>> {
        let schemas = self.schemas.read();
        let mut names: Vec<String> = schemas
            .iter()
            .filter(|(_, records)| !records.is_empty())
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        Ok(names)
    }
}
