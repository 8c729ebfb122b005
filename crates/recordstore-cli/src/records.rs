//! The record commands: insert, update, save, get, delete, exists, count, filter, ping.

use clap::Args;
use recordstore::config::Settings;
use recordstore::{Document, Error, Filter, KeyValueStore, RecordKey, Result, SchemaName};
use std::io::{Read, Write as _};

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Schema name.
    pub schema: String,
}

#[derive(Args, Debug)]
pub struct KeyArgs {
    /// Schema name.
    pub schema: String,
    /// Record key.
    pub key: String,
}

#[derive(Args, Debug)]
pub struct WriteArgs {
    /// Schema name.
    pub schema: String,
    /// Record key.
    pub key: String,
    /// The record as a JSON object; read from stdin when omitted or `-`.
    pub json: Option<String>,
}

#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Schema name.
    pub schema: String,
    /// Conditions `field__lookup=value`; the value is JSON when it parses, else a string.
    /// Lookups: ne gt gte lt lte in contains startswith endswith isnull; fields may be dotted.
    pub lookups: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PingArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub enum Write {
    Insert,
    Update,
    Save,
}

fn names<'a>(schema: &'a str, key: &'a str) -> Result<(SchemaName<'a>, RecordKey<'a>)> {
    Ok((SchemaName::new(schema)?, RecordKey::new(key)?))
}

/// Reads the record argument, or stdin; everything is checked before the store is opened.
fn read_record(json: Option<String>) -> Result<Document> {
    let text = match json.as_deref() {
        Some("-") | None => {
            let mut buf = String::new();
            std::io::stdin()
                .read_to_string(&mut buf)
                .map_err(|e| Error::invalid(format!("cannot read the record from stdin: {e}")))?;
            buf
        }
        Some(text) => text.to_string(),
    };
    Document::from_json(text.trim())
}

pub async fn write(settings: &Settings, a: WriteArgs, how: Write) -> Result<()> {
    let (schema, key) = names(&a.schema, &a.key)?;
    let doc = read_record(a.json)?;
    let store = settings.open().await?;
    match how {
        Write::Insert => store.insert_record(schema, key, &doc).await,
        Write::Update => store.update_record(schema, key, &doc).await,
        Write::Save => store.save_record(schema, key, &doc).await,
    }
}

pub async fn get(settings: &Settings, a: KeyArgs) -> Result<()> {
    let (schema, key) = names(&a.schema, &a.key)?;
    let store = settings.open().await?;
    let doc = store.get_record(schema, key).await?;
    println!("{doc}");
    Ok(())
}

pub async fn delete(settings: &Settings, a: KeyArgs) -> Result<()> {
    let (schema, key) = names(&a.schema, &a.key)?;
    settings.open().await?.delete_record(schema, key).await
}

pub async fn exists(settings: &Settings, a: KeyArgs) -> Result<()> {
    let (schema, key) = names(&a.schema, &a.key)?;
    let found = settings.open().await?.exists(schema, key).await?;
    println!("{found}");
    Ok(())
}

pub async fn count(settings: &Settings, a: SchemaArgs) -> Result<()> {
    let schema = SchemaName::new(&a.schema)?;
    println!("{}", settings.open().await?.count(schema).await?);
    Ok(())
}

pub async fn filter(settings: &Settings, a: FilterArgs) -> Result<()> {
    let schema = SchemaName::new(&a.schema)?;
    let filter = Filter::parse_args(&a.lookups)?;
    let store = settings.open().await?;
    let mut found = store.filter_record(schema, &filter).await?;
    found.sort_by(|x, y| x.0.cmp(&y.0));
    print_lines(&found)
}

/// Prints `{"key": KEY, "record": {...}}` lines, stopping quietly if stdout is closed.
pub fn print_lines(records: &[recordstore::KeyedDocument]) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (key, doc) in records {
        let line = serde_json::json!({"key": key, "record": doc});
        if writeln!(out, "{line}").is_err() {
            return Ok(()); // a closed pipe (`| head`) is not an error
        }
    }
    let _ = out.flush();
    Ok(())
}

pub async fn ping(settings: &Settings, a: PingArgs) -> Result<()> {
    let store = settings.open().await?;
    let started = std::time::Instant::now();
    store.ping().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let stats = store.stats();
    let url = recordstore::redact_url(&settings.url);
    if a.json {
        let line = serde_json::json!({
            "ok": true,
            "url": url,
            "backend": store.backend(),
            "ping_ms": ms,
            "stats": stats,
        });
        println!("{line}");
    } else {
        println!("ok: {} ({}) answered in {ms:.2} ms", url, store.backend());
        match stats {
            Some(s) => println!(
                "mode {}: open {}, idle {}, in use {}, created {}, closed (broken {}, idle {}, lifetime {}), waits {}, timeouts {}, retries {}",
                s.mode, s.open, s.idle, s.in_use, s.created, s.closed_broken, s.closed_idle,
                s.closed_lifetime, s.waits, s.timeouts, s.retries
            ),
            None => println!("mode: in-process (no connections)"),
        }
    }
    Ok(())
}
