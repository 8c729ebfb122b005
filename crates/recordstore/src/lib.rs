//! # recordstore
//!
//! One record-store API — exists, count, insert, update, delete, get, reload, filter — over
//! pluggable backends: in-memory, SQLite (the default), Redis and HDFS, with connection
//! management (one shared connection or a pool). Code written against it moves from a laptop
//! (embedded SQLite) to Redis and HDFS clusters by changing a URL.
//!
//! The API follows the storage layer of the Python package `event-pipeline` (the seed's
//! `KeyValueStoreBackendBase` and friends; the README maps every class), with one semantics on
//! every backend: inserts are atomic, errors name the schema and key, and an unreachable backend
//! is a connection error, never "not found".
//!
//! ## Layout
//! - [`KeyValueStore`]: the object-safe async store trait every backend implements;
//!   [`KeyValueStoreExt`] adds string names and serde records; [`BlockingStore`] serves
//!   synchronous callers.
//! - [`Record`]: typed records with save, reload, update and delete.
//! - [`Document`], [`Filter`]: what is stored (a JSON object) and how it is queried;
//!   [`Codec`]: the stored bytes of a record, JSON or a Python pickle (for event-pipeline's
//!   Redis data).
//! - [`names`]: the one rule for schema names and keys. [`Error`]: the one error type.
//! - [`connection`]: connectors, single and pooled managers, retry and stats.
//! - [`backends`]: one folder per backend. [`open()`]: from a URL to a store.
//! - [`transfer`]: copying schemas between stores, for migrations.
//!
//! ## Example
//! ```
//! use recordstore::{open, Filter, KeyValueStoreExt};
//! use serde_json::json;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = open("memory://").await?;
//! store.insert("tasks", "t1", &json!({"status": "done", "attempts": 2})).await?;
//! store.insert("tasks", "t2", &json!({"status": "running", "attempts": 1})).await?;
//! let done = store
//!     .filter::<serde_json::Value>("tasks", &Filter::parse_args(&["status=done"])?)
//!     .await?;
//! assert_eq!(done.len(), 1);
//! assert!(store.insert("tasks", "t1", &json!({})).await.unwrap_err().to_string().contains("already exists"));
//! # Ok::<(), recordstore::Error>(())
//! # }).unwrap();
//! ```
#![warn(missing_docs)]

pub mod backends;
mod blocking;
pub mod codec;
pub mod config;
pub mod connection;
mod document;
mod error;
pub mod filter;
pub mod names;
mod open;
mod options;
mod record;
mod store;
pub mod transfer;

pub use blocking::BlockingStore;
pub use codec::Codec;
pub use document::Document;
pub use error::{BoxError, Error, ErrorKind, Result, RetryMethod};
pub use filter::{Condition, Filter, Lookup};
pub use names::{RecordKey, SchemaName};
pub use open::{open, open_with, supported_schemes};
pub use options::{redact_url, OpenOptions, DEFAULT_URL};
pub use record::Record;
pub use store::{KeyValueStore, KeyValueStoreExt, KeyedDocument};
