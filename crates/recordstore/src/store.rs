//! The store trait ([`KeyValueStore`], seed: `KeyValueStoreBackendBase`), its conveniences
//! ([`KeyValueStoreExt`]) and the blocking facade ([`BlockingStore`]).
//!
//! The core trait is small, async and object-safe, so a backend can be chosen at run time
//! (`Arc<dyn KeyValueStore>`). It takes names that were already validated
//! ([`SchemaName`], [`RecordKey`]) and records that are already JSON objects ([`Document`]): the
//! checks happen once, above every backend.

use crate::connection::ManagerStats;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::names::{RecordKey, SchemaName};
use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt;
use std::sync::Arc;

/// One record of a filter or export result: its key and its document.
pub type KeyedDocument = (String, Document);

/// The record-store API every backend implements.
///
/// Semantics are the same on every backend:
/// - `insert_record` of an existing key is [`Error::AlreadyExists`], atomically: of many
///   concurrent inserts of one key, exactly one succeeds;
/// - `update_record`, `delete_record` and `get_record` of a missing key are
///   [`Error::NotFound`]; update only ever changes an existing record;
/// - `count` of a missing schema is 0 and `filter_record` of a missing schema is empty;
/// - a backend that cannot be reached gives [`Error::Connection`] or [`Error::Timeout`],
///   never `NotFound` or an empty result.
#[async_trait]
pub trait KeyValueStore: Send + Sync + fmt::Debug {
    /// The backend's short name: `memory`, `sqlite`, `redis` or `hdfs`.
    fn backend(&self) -> &'static str;

    /// Whether a record exists.
    async fn exists(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<bool>;

    /// The number of records in a schema; 0 for a schema that does not exist.
    async fn count(&self, schema: SchemaName<'_>) -> Result<u64>;

    /// Inserts a new record; [`Error::AlreadyExists`] if the key is taken.
    async fn insert_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()>;

    /// Replaces an existing record; [`Error::NotFound`] if there is none.
    async fn update_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()>;

    /// Deletes a record; [`Error::NotFound`] if there is none.
    async fn delete_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<()>;

    /// Reads a record; [`Error::NotFound`] if there is none.
    async fn get_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<Document>;

    /// Every record of a schema that matches `filter`, with its key, in no promised order.
    async fn filter_record(
        &self,
        schema: SchemaName<'_>,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>>;

    /// Inserts a record, or replaces it if the key exists: insert, else update, else insert
    /// again. Each step is atomic on every backend, so save never overwrites a record it did
    /// not see and never fails because of a concurrent delete.
    async fn save_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        for _ in 0..8 {
            match self.insert_record(schema, key, record).await {
                Err(Error::AlreadyExists { .. }) => {}
                other => return other,
            }
            match self.update_record(schema, key, record).await {
                Err(Error::NotFound { .. }) => {}
                other => return other,
            }
        }
        Err(Error::Backend {
            backend: self.backend(),
            message: format!("save of {schema}/{key} kept racing with concurrent deletes"),
            temporary: true,
            source: None,
        })
    }

    /// Inserts many records; each inner result is what `insert_record` would have said of that
    /// record.
    ///
    /// The outer error means the batch did not complete (the backend became unreachable, the
    /// store closed, credentials were refused). Records before the failure may have been
    /// written, each as if inserted alone and never half-written; sending the same batch again
    /// is safe, since those answer `AlreadyExists`. SQLite applies a batch in one transaction,
    /// so there it is all or nothing.
    async fn insert_many(
        &self,
        schema: SchemaName<'_>,
        records: &[(RecordKey<'_>, Document)],
    ) -> Result<Vec<Result<()>>> {
        let mut out = Vec::with_capacity(records.len());
        for (key, doc) in records {
            out.push(per_item(self.insert_record(schema, *key, doc).await)?);
        }
        Ok(out)
    }

    /// Reads many records; each inner result is what `get_record` would have said.
    async fn get_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<Document>>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(per_item(self.get_record(schema, *key).await)?);
        }
        Ok(out)
    }

    /// Deletes many records; each inner result is what `delete_record` would have said.
    ///
    /// As with [`insert_many`](Self::insert_many), an outer error means the batch did not
    /// complete: records before the failure may be deleted, and they answer `NotFound` when
    /// the batch is sent again.
    async fn delete_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<()>>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(per_item(self.delete_record(schema, *key).await)?);
        }
        Ok(out)
    }

    /// The keys of a schema's records, in no promised order; empty for a missing schema.
    ///
    /// Unlike [`filter_record`](Self::filter_record) it reads no record, so one corrupt record
    /// does not hide the others: copy and export read the keys, then the records in batches
    /// with [`get_many`](Self::get_many), and can name and skip a record that fails. The
    /// default reads every record; backends override it with a listing of keys alone.
    async fn list_keys(&self, schema: SchemaName<'_>) -> Result<Vec<String>> {
        let all = self.filter_record(schema, &Filter::all()).await?;
        Ok(all.into_iter().map(|(k, _)| k).collect())
    }

    /// The names of the schemas the store holds, sorted. A backend may still list a schema
    /// whose records were all deleted (an empty HDFS directory). Backends that cannot tell
    /// their schemas from other data say so with an error.
    async fn list_schemas(&self) -> Result<Vec<String>> {
        Err(Error::Backend {
            backend: self.backend(),
            message: "this backend cannot list its schemas; name them".into(),
            temporary: false,
            source: None,
        })
    }

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    /// The connection manager's counters, for backends that have one.
    fn stats(&self) -> Option<ManagerStats> {
        None
    }

    /// Closes connections. Later operations fail with [`Error::Closed`] or reconnect, as the
    /// backend documents.
    async fn close(&self) {}
}

/// Splits a per-record outcome from a failure of the whole batch.
pub(crate) fn per_item<T>(r: Result<T>) -> Result<Result<T>> {
    match r {
        Err(e) if e.is_temporary() || e.is_store_wide() => Err(e),
        other => Ok(other),
    }
}

/// Conveniences over [`KeyValueStore`]: names as plain strings (validated here) and records
/// as any serde type.
#[async_trait]
pub trait KeyValueStoreExt: KeyValueStore {
    /// Whether `schema` has a record `key`.
    async fn contains(&self, schema: &str, key: &str) -> Result<bool> {
        self.exists(SchemaName::new(schema)?, RecordKey::new(key)?)
            .await
    }

    /// The number of records in `schema`.
    async fn count_in(&self, schema: &str) -> Result<u64> {
        self.count(SchemaName::new(schema)?).await
    }

    /// Inserts any serde record that serializes to a JSON object.
    async fn insert<T: Serialize + Sync + ?Sized>(
        &self,
        schema: &str,
        key: &str,
        record: &T,
    ) -> Result<()> {
        let (s, k) = (SchemaName::new(schema)?, RecordKey::new(key)?);
        self.insert_record(s, k, &Document::from_serialize(record)?)
            .await
    }

    /// Replaces an existing record.
    async fn update<T: Serialize + Sync + ?Sized>(
        &self,
        schema: &str,
        key: &str,
        record: &T,
    ) -> Result<()> {
        let (s, k) = (SchemaName::new(schema)?, RecordKey::new(key)?);
        self.update_record(s, k, &Document::from_serialize(record)?)
            .await
    }

    /// Inserts, or replaces if the key exists. Each step is atomic; if the record is deleted
    /// between them, save tries again.
    async fn save<T: Serialize + Sync + ?Sized>(
        &self,
        schema: &str,
        key: &str,
        record: &T,
    ) -> Result<()> {
        let (s, k) = (SchemaName::new(schema)?, RecordKey::new(key)?);
        let doc = Document::from_serialize(record)?;
        self.save_record(s, k, &doc).await
    }

    /// Deletes a record.
    async fn delete(&self, schema: &str, key: &str) -> Result<()> {
        self.delete_record(SchemaName::new(schema)?, RecordKey::new(key)?)
            .await
    }

    /// Reads a record as a typed value.
    async fn get<T: DeserializeOwned>(&self, schema: &str, key: &str) -> Result<T> {
        let doc = self
            .get_record(SchemaName::new(schema)?, RecordKey::new(key)?)
            .await?;
        doc.to_record(schema, key)
    }

    /// Reads a record in place of `record`.
    async fn reload<T: DeserializeOwned + Send>(
        &self,
        schema: &str,
        key: &str,
        record: &mut T,
    ) -> Result<()> {
        *record = self.get(schema, key).await?;
        Ok(())
    }

    /// The matching records of a schema as typed values, with their keys.
    async fn filter<T: DeserializeOwned>(
        &self,
        schema: &str,
        filter: &Filter,
    ) -> Result<Vec<(String, T)>> {
        let docs = self.filter_record(SchemaName::new(schema)?, filter).await?;
        docs.into_iter()
            .map(|(key, doc)| {
                let rec = doc.to_record(schema, &key)?;
                Ok((key, rec))
            })
            .collect()
    }
}

impl<S: KeyValueStore + ?Sized> KeyValueStoreExt for S {}

#[async_trait]
impl<S: KeyValueStore + ?Sized> KeyValueStore for Arc<S> {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }
    async fn exists(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<bool> {
        (**self).exists(schema, key).await
    }
    async fn count(&self, schema: SchemaName<'_>) -> Result<u64> {
        (**self).count(schema).await
    }
    async fn insert_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        (**self).insert_record(schema, key, record).await
    }
    async fn update_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        (**self).update_record(schema, key, record).await
    }
    async fn delete_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<()> {
        (**self).delete_record(schema, key).await
    }
    async fn get_record(&self, schema: SchemaName<'_>, key: RecordKey<'_>) -> Result<Document> {
        (**self).get_record(schema, key).await
    }
    async fn filter_record(
        &self,
        schema: SchemaName<'_>,
        filter: &Filter,
    ) -> Result<Vec<KeyedDocument>> {
        (**self).filter_record(schema, filter).await
    }
    async fn save_record(
        &self,
        schema: SchemaName<'_>,
        key: RecordKey<'_>,
        record: &Document,
    ) -> Result<()> {
        (**self).save_record(schema, key, record).await
    }
    async fn insert_many(
        &self,
        schema: SchemaName<'_>,
        records: &[(RecordKey<'_>, Document)],
    ) -> Result<Vec<Result<()>>> {
        (**self).insert_many(schema, records).await
    }
    async fn get_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<Document>>> {
        (**self).get_many(schema, keys).await
    }
    async fn delete_many(
        &self,
        schema: SchemaName<'_>,
        keys: &[RecordKey<'_>],
    ) -> Result<Vec<Result<()>>> {
        (**self).delete_many(schema, keys).await
    }
    async fn list_keys(&self, schema: SchemaName<'_>) -> Result<Vec<String>> {
        (**self).list_keys(schema).await
    }
    async fn list_schemas(&self) -> Result<Vec<String>> {
        (**self).list_schemas().await
    }
    async fn ping(&self) -> Result<()> {
        (**self).ping().await
    }
    fn stats(&self) -> Option<ManagerStats> {
        (**self).stats()
    }
    async fn close(&self) {
        (**self).close().await
    }
}
