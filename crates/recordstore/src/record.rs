//! The [`Record`] trait (seed: `BackendIntegrationMixin`): typed records with their own schema
//! name and key, and the operations that run them against a store.

use crate::document::Document;
use crate::error::Result;
use crate::filter::Filter;
use crate::names::{RecordKey, SchemaName};
use crate::store::{KeyValueStore, KeyValueStoreExt};
use serde::{de::DeserializeOwned, Serialize};
use std::borrow::Cow;
use std::future::Future;

/// A typed record: any serde type that serializes to a JSON object, with a key.
///
/// ```
/// use recordstore::{Record, open, KeyValueStore};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Task { id: String, status: String }
///
/// impl Record for Task {
///     fn key(&self) -> Cow<'_, str> { Cow::Borrowed(&self.id) }
/// }
/// # use std::borrow::Cow;
/// # tokio_test_block_on(async {
/// let store = open("memory://").await?;
/// let mut task = Task { id: "t1".into(), status: "running".into() };
/// task.save(&*store).await?;
/// task.status = "done".into();
/// task.update(&*store).await?;
/// let back = Task::get(&*store, "t1").await?;
/// assert_eq!(back.status, "done");
/// # Ok::<(), recordstore::Error>(())
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub trait Record: Serialize + DeserializeOwned + Send + Sync {
    /// The schema this type is stored in: the type's own name by default (`Task`).
    fn schema_name() -> Cow<'static, str> {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        Cow::Borrowed(base.rsplit("::").next().unwrap_or(base))
    }

    /// The record's key.
    fn key(&self) -> Cow<'_, str>;

    /// Inserts the record, or replaces it if its key exists.
    fn save<S: KeyValueStore + ?Sized>(
        &self,
        store: &S,
    ) -> impl Future<Output = Result<()>> + Send {
        async move {
            let schema = Self::schema_name();
            let key = self.key();
            let doc = Document::from_serialize(self)?;
            store
                .save_record(SchemaName::new(&schema)?, RecordKey::new(&key)?, &doc)
                .await
        }
    }

    /// Inserts the record; `AlreadyExists` if its key is taken.
    fn insert<S: KeyValueStore + ?Sized>(
        &self,
        store: &S,
    ) -> impl Future<Output = Result<()>> + Send {
        async move { store.insert(&Self::schema_name(), &self.key(), self).await }
    }

    /// Replaces the stored record; `NotFound` if there is none.
    fn update<S: KeyValueStore + ?Sized>(
        &self,
        store: &S,
    ) -> impl Future<Output = Result<()>> + Send {
        async move { store.update(&Self::schema_name(), &self.key(), self).await }
    }

    /// Deletes the stored record; `NotFound` if there is none.
    fn delete<S: KeyValueStore + ?Sized>(
        &self,
        store: &S,
    ) -> impl Future<Output = Result<()>> + Send {
        async move { store.delete(&Self::schema_name(), &self.key()).await }
    }

    /// Refreshes this record in place from the store; `NotFound` if it is gone.
    fn reload<S: KeyValueStore + ?Sized>(
        &mut self,
        store: &S,
    ) -> impl Future<Output = Result<()>> + Send {
        async move {
            let key = self.key().into_owned();
            *self = store.get(&Self::schema_name(), &key).await?;
            Ok(())
        }
    }

    /// Reads the record stored under `key`.
    fn get<S: KeyValueStore + ?Sized>(
        store: &S,
        key: &str,
    ) -> impl Future<Output = Result<Self>> + Send {
        async move { store.get(&Self::schema_name(), key).await }
    }

    /// Whether a record is stored under `key`.
    fn exists<S: KeyValueStore + ?Sized>(
        store: &S,
        key: &str,
    ) -> impl Future<Output = Result<bool>> + Send {
        async move { store.contains(&Self::schema_name(), key).await }
    }

    /// How many records of this type are stored.
    fn count<S: KeyValueStore + ?Sized>(store: &S) -> impl Future<Output = Result<u64>> + Send {
        async move { store.count_in(&Self::schema_name()).await }
    }

    /// The stored records of this type that match `filter`.
    fn filter<S: KeyValueStore + ?Sized>(
        store: &S,
        filter: &Filter,
    ) -> impl Future<Output = Result<Vec<Self>>> + Send {
        async move {
            let found = store.filter::<Self>(&Self::schema_name(), filter).await?;
            Ok(found.into_iter().map(|(_, r)| r).collect())
        }
    }
}
