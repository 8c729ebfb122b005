//! Copying records from one store to another, safely enough for a migration: the engine under
//! `recordstore copy` and the Python package's `recordstore.copy`.
//!
//! Per schema, [`copy`] lists the source's keys, reads the records in batches and inserts
//! them at the destination. A key the destination already holds is compared: an equal record
//! is *skipped* (so rerunning an interrupted copy finishes it without duplicates), a different
//! one is a *conflict*, handled by [`OnConflict`]. A record that cannot be read or written is a
//! *failure*, handled by [`OnError`]; an error of the whole store (a lost connection, refused
//! credentials) always stops the copy. With [`CopyOptions::verify`], every record is read back
//! from both stores and compared afterwards.

use crate::document::Document;
use crate::error::{Error, Result};
use crate::names::{RecordKey, SchemaName};
use crate::open::open_with;
use crate::options::OpenOptions;
use crate::store::KeyValueStore;
use std::fmt;
use std::sync::Arc;

/// Records per batch call: large enough to pipeline, small enough to bound memory per call.
pub const BATCH: usize = 500;

/// What to do with a key that the destination holds with a different record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnConflict {
    /// Stop the copy at the first conflict (the default: nothing is replaced unasked).
    #[default]
    Fail,
    /// Leave the destination's record, list the key and go on.
    Skip,
    /// Replace the destination's record with the source's.
    Overwrite,
}

impl std::str::FromStr for OnConflict {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fail" => Ok(OnConflict::Fail),
            "skip" => Ok(OnConflict::Skip),
            "overwrite" => Ok(OnConflict::Overwrite),
            other => Err(Error::invalid(format!(
                "on-conflict {other:?}: expected fail, skip or overwrite"
            ))),
        }
    }
}

/// What to do with a record that cannot be read from the source or written to the
/// destination (corrupt, or rejected by the destination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnError {
    /// Stop the copy at the first such record (the default).
    #[default]
    Stop,
    /// List the key and the reason, and go on.
    Skip,
}

impl std::str::FromStr for OnError {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "stop" => Ok(OnError::Stop),
            "skip" => Ok(OnError::Skip),
            other => Err(Error::invalid(format!(
                "on-error {other:?}: expected stop or skip"
            ))),
        }
    }
}

/// How to copy.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// The schemas to copy; every schema of the source when empty.
    pub schemas: Vec<String>,
    /// What to do with a key the destination holds with a different record.
    pub on_conflict: OnConflict,
    /// What to do with a record that cannot be read or written.
    pub on_error: OnError,
    /// After copying, read every record back from both stores and compare.
    pub verify: bool,
}

/// What the copy is doing, for a progress bar.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// Copying of a schema starts, with its number of records.
    Start {
        /// The schema.
        schema: &'a str,
        /// Its number of keys at the source.
        total: u64,
        /// `"copy"` or `"verify"`.
        phase: &'static str,
    },
    /// This many more records of the current schema are done.
    Advance(u64),
    /// The current schema is done.
    Finish,
}

/// One record that did not arrive, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The record's key.
    pub key: String,
    /// Why, in words.
    pub reason: String,
}

/// What `verify` found in one schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records at the source.
    pub source_count: u64,
    /// Records at the destination.
    pub destination_count: u64,
    /// Records compared.
    pub compared: u64,
    /// Source records missing at the destination, or different there.
    pub differences: Vec<Problem>,
}

impl VerifyReport {
    /// Whether the destination holds every source record, equal, and no more.
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty() && self.source_count == self.destination_count
    }
}

/// The outcome for one schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaReport {
    /// The schema.
    pub schema: String,
    /// Records read from the source (including those that failed to read).
    pub read: u64,
    /// Records written to the destination (inserted, or replaced with `overwrite`).
    pub written: u64,
    /// Records the destination already held, equal: left as they were.
    pub skipped: u64,
    /// Keys the destination holds with a different record, left unchanged.
    pub conflicting: Vec<Problem>,
    /// Records that could not be read or written.
    pub failed: Vec<Problem>,
    /// What `verify` found, when asked.
    pub verify: Option<VerifyReport>,
}

impl SchemaReport {
    /// Whether every source record is at the destination, equal.
    pub fn is_complete(&self) -> bool {
        self.conflicting.is_empty()
            && self.failed.is_empty()
            && self.verify.as_ref().is_none_or(VerifyReport::is_clean)
    }
}

/// The outcome of a copy: one report per schema, and the error that stopped it, if any.
#[derive(Debug, Default)]
pub struct CopyReport {
    /// One entry per schema that was started, in order.
    pub schemas: Vec<SchemaReport>,
    /// The error that stopped the copy early (a lost connection, a conflict with
    /// [`OnConflict::Fail`], a bad record with [`OnError::Stop`]).
    pub stopped: Option<Error>,
}

impl CopyReport {
    /// Whether the copy ran to the end and every record arrived.
    pub fn is_complete(&self) -> bool {
        self.stopped.is_none() && self.schemas.iter().all(SchemaReport::is_complete)
    }
}

impl fmt::Display for CopyReport {
    /// The summary table, then the listed problems (at most 20 of each kind per schema). The
    /// error in [`stopped`](Self::stopped) is not repeated: the caller reports it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .schemas
            .iter()
            .map(|s| s.schema.chars().count())
            .chain(std::iter::once(6))
            .max()
            .unwrap_or(6);
        writeln!(
            f,
            "{:<width$}  {:>10}  {:>10}  {:>10}  {:>11}  {:>8}",
            "schema", "read", "written", "skipped", "conflicting", "failed"
        )?;
        for s in &self.schemas {
            writeln!(
                f,
                "{:<width$}  {:>10}  {:>10}  {:>10}  {:>11}  {:>8}",
                s.schema,
                s.read,
                s.written,
                s.skipped,
                s.conflicting.len(),
                s.failed.len()
            )?;
        }
        for s in &self.schemas {
            list(f, &s.schema, "conflicting", &s.conflicting)?;
            list(f, &s.schema, "failed", &s.failed)?;
            if let Some(v) = &s.verify {
                if v.is_clean() {
                    writeln!(
                        f,
                        "{}: verified: {} records, all equal",
                        s.schema, v.compared
                    )?;
                } else {
                    writeln!(
                        f,
                        "{}: verify: source has {} records, destination {}; {} of {} compared differ",
                        s.schema,
                        v.source_count,
                        v.destination_count,
                        v.differences.len(),
                        v.compared
                    )?;
                    list(f, &s.schema, "different", &v.differences)?;
                }
            }
        }
        Ok(())
    }
}

fn list(f: &mut fmt::Formatter<'_>, schema: &str, what: &str, items: &[Problem]) -> fmt::Result {
    const SHOWN: usize = 20;
    for p in items.iter().take(SHOWN) {
        writeln!(f, "{schema}: {what}: key {:?}: {}", p.key, p.reason)?;
    }
    if items.len() > SHOWN {
        writeln!(f, "{schema}: {what}: … and {} more", items.len() - SHOWN)?;
    }
    Ok(())
}

/// Opens a store to read from: like [`open_with`], but a store that does not exist is an
/// error rather than created empty. That concerns `sqlite://`, the one scheme that creates its
/// file on open (`sqlite+peer://` never creates one).
pub async fn open_source(url: &str, options: &OpenOptions) -> Result<Arc<dyn KeyValueStore>> {
    if let Some(path) = crate::open::sqlite_file(url) {
        if !std::path::Path::new(path).is_file() {
            return Err(Error::Config {
                backend: "sqlite",
                message: format!(
                    "the source {path} does not exist or is not a file: a copy source is never created; check the path"
                ),
            });
        }
    }
    open_with(url, options).await
}

/// Copies schemas from `source` to `destination`; see the [module docs](self).
///
/// The destination is pinged before the first read, so an unreachable destination fails
/// before anything is read. An error before any schema starts (the destination unreachable,
/// the source's schemas cannot be listed, a bad schema name) is the `Err`; an error once
/// copying has started is [`CopyReport::stopped`], with the reports so far.
pub async fn copy(
    source: &dyn KeyValueStore,
    destination: &dyn KeyValueStore,
    options: &CopyOptions,
    progress: &(dyn Fn(Progress<'_>) + Send + Sync),
) -> Result<CopyReport> {
    destination.ping().await?;
    source.ping().await?;
    let names = if options.schemas.is_empty() {
        let names = source.list_schemas().await?;
        if names.is_empty() {
            return Err(Error::invalid(
                "the source holds no schemas: nothing to copy (check the source URL)",
            ));
        }
        names
    } else {
        options.schemas.clone()
    };
    for name in &names {
        SchemaName::new(name)?;
    }
    let mut report = CopyReport::default();
    for name in &names {
        let schema = SchemaName::new(name)?;
        let mut s = SchemaReport {
            schema: name.clone(),
            ..SchemaReport::default()
        };
        let outcome = copy_schema(source, destination, schema, options, progress, &mut s).await;
        progress(Progress::Finish);
        report.schemas.push(s);
        if let Err(e) = outcome {
            report.stopped = Some(e);
            return Ok(report);
        }
    }
    if options.verify {
        for s in &mut report.schemas {
            let schema = SchemaName::new(&s.schema)?;
            let outcome = verify_schema(source, destination, schema, progress).await;
            progress(Progress::Finish);
            match outcome {
                Ok(v) => s.verify = Some(v),
                Err(e) => {
                    report.stopped = Some(e);
                    return Ok(report);
                }
            }
        }
    }
    Ok(report)
}

/// Whether an error of one record stops the copy whatever `on_error` says: it is not about
/// the record but the store (unreachable, closed, credentials, time).
fn stops_everything(e: &Error) -> bool {
    e.is_store_wide() || e.is_temporary()
}

async fn copy_schema(
    source: &dyn KeyValueStore,
    destination: &dyn KeyValueStore,
    schema: SchemaName<'_>,
    options: &CopyOptions,
    progress: &(dyn Fn(Progress<'_>) + Send + Sync),
    s: &mut SchemaReport,
) -> Result<()> {
    let mut keys = source.list_keys(schema).await?;
    keys.sort();
    progress(Progress::Start {
        schema: schema.as_str(),
        total: keys.len() as u64,
        phase: "copy",
    });
    for chunk in keys.chunks(BATCH) {
        let names: Vec<RecordKey<'_>> = chunk
            .iter()
            .map(|k| RecordKey::new(k))
            .collect::<Result<_>>()?;
        let read = source.get_many(schema, &names).await?;
        let mut batch = Vec::with_capacity(chunk.len());
        // A record that stops the copy: the records before it are still written.
        let mut stop = None;
        for (key, doc) in names.iter().zip(read) {
            match doc {
                Ok(doc) => {
                    s.read += 1;
                    batch.push((*key, doc));
                }
                // Deleted at the source since the listing: nothing to copy.
                Err(Error::NotFound { .. }) => {}
                Err(e) => {
                    s.read += 1;
                    if let Err(e) = record_failure(s, key.as_str(), e, options.on_error) {
                        stop = Some(e);
                        break;
                    }
                }
            }
        }
        let written = destination.insert_many(schema, &batch).await?;
        let mut taken = Vec::new();
        for ((key, doc), outcome) in batch.iter().zip(written) {
            match outcome {
                Ok(()) => s.written += 1,
                Err(Error::AlreadyExists { .. }) => taken.push((*key, doc)),
                Err(e) if stops_everything(&e) => return Err(e),
                Err(e) => record_failure(s, key.as_str(), e, options.on_error)?,
            }
        }
        if !taken.is_empty() {
            resolve_taken(destination, schema, &taken, options, s).await?;
        }
        if let Some(e) = stop {
            return Err(e);
        }
        progress(Progress::Advance(chunk.len() as u64));
    }
    Ok(())
}

/// Keys the destination already holds: equal records are skipped, others follow
/// `on_conflict`.
async fn resolve_taken(
    destination: &dyn KeyValueStore,
    schema: SchemaName<'_>,
    taken: &[(RecordKey<'_>, &Document)],
    options: &CopyOptions,
    s: &mut SchemaReport,
) -> Result<()> {
    let keys: Vec<RecordKey<'_>> = taken.iter().map(|(k, _)| *k).collect();
    let present = destination.get_many(schema, &keys).await?;
    for ((key, doc), there) in taken.iter().zip(present) {
        let reason = match there {
            Ok(there) if there == **doc => {
                s.skipped += 1;
                continue;
            }
            Ok(_) => "the destination holds a different record".to_string(),
            // Deleted since the insert said it was there: insert it again below.
            Err(Error::NotFound { .. }) => String::new(),
            Err(e) if stops_everything(&e) => return Err(e),
            Err(e) => format!("the destination's record cannot be read: {e}"),
        };
        match options.on_conflict {
            OnConflict::Overwrite => match destination.save_record(schema, *key, doc).await {
                Ok(()) => s.written += 1,
                Err(e) if stops_everything(&e) => return Err(e),
                Err(e) => record_failure(s, key.as_str(), e, options.on_error)?,
            },
            _ if reason.is_empty() => match destination.insert_record(schema, *key, doc).await {
                Ok(()) => s.written += 1,
                Err(e) if stops_everything(&e) => return Err(e),
                Err(e) => record_failure(s, key.as_str(), e, options.on_error)?,
            },
            OnConflict::Skip => s.conflicting.push(Problem {
                key: key.to_string(),
                reason,
            }),
            OnConflict::Fail => {
                s.conflicting.push(Problem {
                    key: key.to_string(),
                    reason,
                });
                return Err(Error::already_exists(schema.as_str(), key.as_str()));
            }
        }
    }
    Ok(())
}

/// Lists a record that failed, and stops with its error unless told to skip it.
fn record_failure(s: &mut SchemaReport, key: &str, e: Error, on_error: OnError) -> Result<()> {
    s.failed.push(Problem {
        key: key.to_string(),
        reason: e.to_string(),
    });
    if stops_everything(&e) || on_error == OnError::Stop {
        return Err(e);
    }
    Ok(())
}

async fn verify_schema(
    source: &dyn KeyValueStore,
    destination: &dyn KeyValueStore,
    schema: SchemaName<'_>,
    progress: &(dyn Fn(Progress<'_>) + Send + Sync),
) -> Result<VerifyReport> {
    let mut keys = source.list_keys(schema).await?;
    keys.sort();
    let mut v = VerifyReport {
        source_count: keys.len() as u64,
        destination_count: destination.count(schema).await?,
        ..VerifyReport::default()
    };
    progress(Progress::Start {
        schema: schema.as_str(),
        total: keys.len() as u64,
        phase: "verify",
    });
    for chunk in keys.chunks(BATCH) {
        let names: Vec<RecordKey<'_>> = chunk
            .iter()
            .map(|k| RecordKey::new(k))
            .collect::<Result<_>>()?;
        let (ours, theirs) = tokio::join!(
            source.get_many(schema, &names),
            destination.get_many(schema, &names)
        );
        for ((key, a), b) in names.iter().zip(ours?).zip(theirs?) {
            v.compared += 1;
            let reason = match (a, b) {
                (Ok(a), Ok(b)) if a == b => continue,
                (Ok(_), Ok(_)) => "the records differ".to_string(),
                (Ok(_), Err(Error::NotFound { .. })) => "missing at the destination".to_string(),
                (Err(Error::NotFound { .. }), _) => {
                    // Deleted at the source since the listing.
                    v.compared -= 1;
                    continue;
                }
                (Err(e), _) => format!("unreadable at the source: {e}"),
                (_, Err(e)) => format!("unreadable at the destination: {e}"),
            };
            v.differences.push(Problem {
                key: key.to_string(),
                reason,
            });
        }
        progress(Progress::Advance(chunk.len() as u64));
    }
    Ok(v)
}
