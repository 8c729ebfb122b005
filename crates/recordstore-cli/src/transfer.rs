//! Moving many records: import (JSON Lines in), export (JSON Lines out) and copy (store to
//! store), with a progress bar on a terminal.

use crate::progress;
use crate::records::print_lines;
use clap::Args;
use indicatif::ProgressBar;
use recordstore::config::Settings;
use recordstore::transfer::{self, CopyOptions, OnConflict, Progress, SchemaReport};
use recordstore::{Document, Error, KeyValueStore, RecordKey, Result, SchemaName};
use serde_json::Value;
use std::collections::HashSet;
use std::io::BufRead;
use std::sync::Mutex;

/// Records per batch call: large enough to pipeline, small enough to bound memory per call.
const CHUNK: usize = 500;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Schema name.
    pub schema: String,
    /// JSON Lines file, or `-` for stdin.
    pub file: String,
    /// The field of each record that holds its key (a string or a number). Without it, each
    /// line is one of `export`'s: `{"key": KEY, "record": {...}}`.
    #[arg(long)]
    pub key_field: Option<String>,
    /// Replace records whose key exists instead of failing on them.
    #[arg(long)]
    pub upsert: bool,
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Destination store URL: sqlite://PATH, redis://user:pass@host:port/db (credentials
    /// optional), rediss://…, redis+cluster://host:port,…, hdfs://host:port/base_path,
    /// webhdfs://host:port/base_path or memory://; add `?codec=pickle` to a Redis URL to write
    /// what event-pipeline reads.
    ///
    /// The source is --url (or its defaults), and it must exist: a missing SQLite file is an
    /// error, never created. `sqlite+peer://PATH` reads event-pipeline's own SQLite store.
    /// --mode, --max-connections and --connection-timeout apply to both stores.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Schemas to copy; every schema of the source when none are named.
    pub schemas: Vec<String>,
    /// A key the destination holds with a different record: stop the copy (fail), leave it
    /// and list it (skip), or replace it (overwrite). Equal records are always skipped, so a
    /// rerun finishes an interrupted copy.
    #[arg(long, value_name = "POLICY", default_value = "fail", value_parser = ["fail", "skip", "overwrite"])]
    pub on_conflict: String,
    /// A record that cannot be read or written (corrupt, or refused): stop the copy, or list
    /// its key and reason and go on.
    #[arg(long, value_name = "POLICY", default_value = "stop", value_parser = ["stop", "skip"])]
    pub on_error: String,
    /// After copying, read every record back from both stores and compare; report any
    /// difference.
    #[arg(long)]
    pub verify: bool,
    /// Same as --on-conflict overwrite.
    #[arg(long, hide = true)]
    pub overwrite: bool,
}

/// The exit code of a copy that ran to the end but did not bring every record across.
pub const INCOMPLETE: u8 = 9;

pub async fn export(settings: &Settings, a: crate::records::SchemaArgs) -> Result<()> {
    let schema = SchemaName::new(&a.schema)?;
    let store = settings.open().await?;
    // Keys first (cheap, and sizes the bar), then the records in batches: the same records
    // that copy and count see, and a corrupt one is named.
    let mut keys = store.list_keys(schema).await?;
    keys.sort();
    let bar = progress::bar(keys.len() as u64, &format!("export {schema}"));
    let mut all = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(CHUNK) {
        let names: Vec<RecordKey<'_>> = chunk
            .iter()
            .map(|k| RecordKey::new(k))
            .collect::<Result<_>>()?;
        for (key, doc) in chunk.iter().zip(store.get_many(schema, &names).await?) {
            match doc {
                Ok(doc) => all.push((key.clone(), doc)),
                Err(Error::NotFound { .. }) => {} // deleted since the listing
                Err(e) => return Err(e),
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    print_lines(&all)
}

/// Reads and checks every line before writing anything: a malformed line, a missing or bad
/// key, or a key repeated in the input changes nothing in the store.
fn read_import(a: &ImportArgs) -> Result<Vec<(String, Document)>> {
    let reader: Box<dyn BufRead> = if a.file == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(&a.file)
            .map_err(|e| Error::invalid(format!("cannot open {}: {e}", a.file)))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut records = Vec::new();
    let mut seen = HashSet::new();
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| Error::invalid(format!("{}: line {n}: {e}", a.file)))?;
        if line.trim().is_empty() {
            continue;
        }
        let at_line = |e: Error| match e {
            Error::InvalidInput { message } => {
                let (position, message) = input_position(n, &message);
                Error::invalid(format!("{}: {position}: {message}", a.file))
            }
            other => other,
        };
        let doc = Document::from_json(&line).map_err(at_line)?;
        let (key, doc) = match &a.key_field {
            Some(field) => (key_of(&doc, field, &a.file, n)?, doc),
            None => exported_line(doc, &a.file, n)?,
        };
        RecordKey::new(&key).map_err(at_line)?;
        if !seen.insert(key.clone()) {
            return Err(Error::invalid(format!(
                "{}: line {n}: key {key:?} appears twice in the input",
                a.file
            )));
        }
        records.push((key, doc));
    }
    Ok(records)
}

/// The key of a record from its key field.
fn key_of(doc: &Document, field: &str, file: &str, n: usize) -> Result<String> {
    match doc.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(x)) => Ok(x.to_string()),
        Some(other) => Err(Error::invalid(format!(
            "{file}: line {n}: key field {field:?} must be a string or a number, got {other}"
        ))),
        None => Err(Error::invalid(format!(
            "{file}: line {n}: no key field {field:?} (give --key-field the field that holds each record's key)"
        ))),
    }
}

/// A line as `export` writes it: `{"key": KEY, "record": {...}}`.
fn exported_line(doc: Document, file: &str, n: usize) -> Result<(String, Document)> {
    let mut map = doc.into_map();
    let shape = || {
        Error::invalid(format!(
            "{file}: line {n}: expected {{\"key\": KEY, \"record\": {{...}}}} as export writes; for plain records give --key-field"
        ))
    };
    if map.len() != 2 {
        return Err(shape());
    }
    let key = match map.remove("key") {
        Some(Value::String(s)) => s,
        _ => return Err(shape()),
    };
    match map.remove("record") {
        Some(record @ Value::Object(_)) => Ok((key, Document::from_value(record)?)),
        _ => Err(shape()),
    }
}

/// `line N` of the input, with the column when serde's message has one: each input line is
/// parsed alone, so serde's "at line 1 column C" is the input line's column C. Returns the
/// position and the message without serde's.
fn input_position(line: usize, message: &str) -> (String, String) {
    if let Some((text, at)) = message.rsplit_once(" at line ") {
        if let Some((_, column)) = at.split_once(" column ") {
            if column.bytes().all(|b| b.is_ascii_digit()) {
                return (format!("line {line}, column {column}"), text.to_string());
            }
        }
    }
    (format!("line {line}"), message.to_string())
}

pub async fn import(settings: &Settings, a: ImportArgs) -> Result<()> {
    let schema = SchemaName::new(&a.schema)?;
    let records = read_import(&a)?;
    let store = settings.open().await?;
    let bar = progress::bar(records.len() as u64, &format!("import {schema}"));
    let conflicts = write_all(&*store, schema, &records, a.upsert, &bar).await?;
    bar.finish_and_clear();
    report(records.len(), conflicts, &a.schema, "--upsert")
}

/// Writes records in batches; returns the keys that already existed (when not overwriting).
async fn write_all(
    store: &dyn KeyValueStore,
    schema: SchemaName<'_>,
    records: &[(String, Document)],
    overwrite: bool,
    bar: &ProgressBar,
) -> Result<Vec<String>> {
    let mut conflicts = Vec::new();
    for chunk in records.chunks(CHUNK) {
        if overwrite {
            for (key, doc) in chunk {
                store.save_record(schema, RecordKey::new(key)?, doc).await?;
            }
        } else {
            let batch: Vec<(RecordKey<'_>, Document)> = chunk
                .iter()
                .map(|(k, d)| Ok((RecordKey::new(k)?, d.clone())))
                .collect::<Result<_>>()?;
            let results = store.insert_many(schema, &batch).await?;
            for ((key, _), r) in chunk.iter().zip(results) {
                match r {
                    Ok(()) => {}
                    Err(Error::AlreadyExists { .. }) => conflicts.push(key.clone()),
                    Err(e) => return Err(e),
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    Ok(conflicts)
}

fn report(total: usize, conflicts: Vec<String>, schema: &str, flag: &str) -> Result<()> {
    if conflicts.is_empty() {
        eprintln!("{schema}: {total} records written");
        return Ok(());
    }
    eprintln!(
        "{schema}: {} of {total} keys existed and were left unchanged (use {flag} to replace them)",
        conflicts.len()
    );
    Err(Error::already_exists(schema, conflicts[0].clone()))
}

pub async fn copy(settings: &Settings, a: CopyArgs) -> Result<u8> {
    let options = CopyOptions {
        schemas: a.schemas.clone(),
        on_conflict: if a.overwrite {
            OnConflict::Overwrite
        } else {
            a.on_conflict.parse()?
        },
        on_error: a.on_error.parse()?,
        verify: a.verify,
    };
    // The destination first: an unreachable one fails before the source is even opened.
    let target = recordstore::open_with(&a.to, &settings.options).await?;
    let source = transfer::open_source(&settings.url, &settings.options).await?;
    let bar = Mutex::new(None::<ProgressBar>);
    let on_progress = |p: Progress<'_>| {
        let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Start {
                schema,
                total,
                phase,
            } => *bar = Some(progress::bar(total, &format!("{phase} {schema}"))),
            Progress::Advance(n) => {
                if let Some(b) = bar.as_ref() {
                    b.inc(n)
                }
            }
            _ => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear()
                }
            }
        }
    };
    let report = transfer::copy(&*source, &*target, &options, &on_progress).await?;
    eprint!("{report}");
    if let Some(e) = report.stopped {
        return Err(e);
    }
    if report.schemas.iter().all(SchemaReport::is_complete) {
        return Ok(0);
    }
    eprintln!(
        "recordstore: copy incomplete: not every record arrived equal (see above); exit {INCOMPLETE}"
    );
    Ok(INCOMPLETE)
}

#[cfg(test)]
mod tests {
    use super::input_position;

    #[test]
    fn one_position_the_inputs() {
        let (at, text) = input_position(
            2,
            "malformed JSON: EOF while parsing an object at line 1 column 9",
        );
        assert_eq!(at, "line 2, column 9");
        assert_eq!(text, "malformed JSON: EOF while parsing an object");
        let (at, text) = input_position(3, "the record is an array, not an object");
        assert_eq!(at, "line 3");
        assert_eq!(text, "the record is an array, not an object");
    }
}
