//! Moving many records: import (JSON Lines in), export (JSON Lines out) and copy (store to
//! store), with a progress bar on a terminal.

use crate::progress;
use crate::records::print_lines;
use clap::Args;
use indicatif::ProgressBar;
use recordstore::config::Settings;
use recordstore::{Document, Error, Filter, KeyValueStore, RecordKey, Result, SchemaName};
use serde_json::Value;
use std::collections::HashSet;
use std::io::BufRead;

/// Records per batch call: large enough to pipeline, small enough to bound memory per call.
const CHUNK: usize = 500;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Schema name.
    pub schema: String,
    /// JSON Lines file, or `-` for stdin.
    pub file: String,
    /// The field of each record that holds its key (a string or a number).
    #[arg(long)]
    pub key_field: String,
    /// Replace records whose key exists instead of failing on them.
    #[arg(long)]
    pub upsert: bool,
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Destination store URL: sqlite://PATH, redis://user:pass@host:port/db (credentials
    /// optional), rediss://…, redis+cluster://host:port,…, hdfs://host:port/base_path,
    /// webhdfs://host:port/base_path or memory://.
    ///
    /// The source is --url (or its defaults); --mode, --max-connections and
    /// --connection-timeout apply to both stores.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Schemas to copy; every schema of the source when none are named.
    pub schemas: Vec<String>,
    /// Replace records whose key exists at the destination instead of failing on them.
    #[arg(long)]
    pub overwrite: bool,
}

pub async fn export(settings: &Settings, a: crate::records::SchemaArgs) -> Result<()> {
    let schema = SchemaName::new(&a.schema)?;
    let store = settings.open().await?;
    // One scan reads the whole schema, so a spinner shows it is alive; counting first to size
    // a bar would scan twice.
    let spinner = progress::counter(&format!("export {schema}: reading"));
    let mut all = store.filter_record(schema, &Filter::all()).await?;
    all.sort_by(|x, y| x.0.cmp(&y.0));
    spinner.finish_and_clear();
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
        let key = match doc.get(&a.key_field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(x)) => x.to_string(),
            Some(other) => {
                return Err(Error::invalid(format!(
                    "{}: line {n}: key field {:?} must be a string or a number, got {other}",
                    a.file, a.key_field
                )))
            }
            None => {
                return Err(Error::invalid(format!(
                    "{}: line {n}: no key field {:?}",
                    a.file, a.key_field
                )))
            }
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

pub async fn copy(settings: &Settings, a: CopyArgs) -> Result<()> {
    let source = settings.open().await?;
    let target = recordstore::open_with(&a.to, &settings.options).await?;
    let schemas = if a.schemas.is_empty() {
        source.list_schemas().await?
    } else {
        a.schemas.clone()
    };
    for name in &schemas {
        let schema = SchemaName::new(name)?;
        let records = source.filter_record(schema, &Filter::all()).await?;
        let bar = progress::bar(records.len() as u64, &format!("copy {schema}"));
        let conflicts = write_all(&*target, schema, &records, a.overwrite, &bar).await?;
        bar.finish_and_clear();
        report(records.len(), conflicts, name, "--overwrite")?;
    }
    Ok(())
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
