//! `recordstore bench`: the peer's workload (`shared/peer/peer_bench.py`), line for line.
//!
//! N records of about 200 bytes (id, status — "done" for every 10th —, attempts, payload) in
//! schema "bench": insert N, get N, update N, exists N, count ×1000, filter status=done ×5,
//! delete N. Records are built before the clock starts, as the peer builds its objects; names
//! are validated inside the timed calls.

use clap::Args;
use recordstore::config::Settings;
use recordstore::{Document, Error, Filter, KeyValueStore, RecordKey, Result, SchemaName};
use serde_json::json;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

const SCHEMA: &str = "bench";

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Number of records.
    #[arg(long, default_value_t = 20_000)]
    pub records: usize,
    /// Concurrent clients sharing the store.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Use the batch calls (insert_many, get_many, delete_many) with this many records each.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Only these operations (comma-separated: insert,get,update,exists,count,filter,delete);
    /// insert always runs first and delete last so the store ends clean.
    #[arg(long, value_delimiter = ',')]
    pub ops: Vec<String>,
    /// Print one JSON object per operation, then the connection stats.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy)]
enum Op {
    Insert,
    Get,
    Update,
    Exists,
    Delete,
}

struct Workload {
    store: Arc<dyn KeyValueStore>,
    records: Arc<Vec<(String, Document)>>,
    concurrency: usize,
    batch: Option<usize>,
    errors: Arc<AtomicU64>,
}

fn record(i: usize) -> (String, Document) {
    let id = format!("r{i}");
    let doc = json!({
        "id": id,
        "status": if i % 10 == 0 { "done" } else { "running" },
        "attempts": i % 7,
        "payload": "x".repeat(150),
    });
    (id, Document::from_value(doc).expect("an object"))
}

impl Workload {
    /// Runs `op` over every record, split across the clients; returns the seconds taken.
    async fn run(&self, op: Op) -> Result<f64> {
        let started = Instant::now();
        if self.concurrency <= 1 {
            run_slice(
                &*self.store,
                &self.records,
                0,
                1,
                op,
                self.batch,
                &self.errors,
            )
            .await?;
        } else {
            let mut tasks = Vec::with_capacity(self.concurrency);
            for client in 0..self.concurrency {
                let store = self.store.clone();
                let records = self.records.clone();
                let (n, batch, errors) = (self.concurrency, self.batch, self.errors.clone());
                tasks.push(tokio::spawn(async move {
                    run_slice(&*store, &records, client, n, op, batch, &errors).await
                }));
            }
            for t in tasks {
                t.await
                    .map_err(|e| Error::invalid(format!("a bench client panicked: {e}")))??;
            }
        }
        Ok(started.elapsed().as_secs_f64())
    }
}

/// One client's share: records `client`, `client + clients`, …
async fn run_slice(
    store: &dyn KeyValueStore,
    records: &[(String, Document)],
    client: usize,
    clients: usize,
    op: Op,
    batch: Option<usize>,
    errors: &AtomicU64,
) -> Result<()> {
    let schema = SchemaName::new(SCHEMA)?;
    let mine = records.iter().skip(client).step_by(clients);
    let fail = |e: Error| -> Result<()> {
        if e.is_temporary() {
            return Err(e);
        }
        errors.fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    if let Some(size) = batch.filter(|_| !matches!(op, Op::Update | Op::Exists)) {
        let mine: Vec<&(String, Document)> = mine.collect();
        for chunk in mine.chunks(size.max(1)) {
            let keys: Vec<RecordKey<'_>> = chunk
                .iter()
                .map(|(k, _)| RecordKey::new(k))
                .collect::<Result<_>>()?;
            let results: Vec<Result<()>> = match op {
                Op::Insert => {
                    let items: Vec<_> = keys
                        .iter()
                        .zip(chunk)
                        .map(|(k, (_, d))| (*k, d.clone()))
                        .collect();
                    store.insert_many(schema, &items).await?
                }
                Op::Get => store
                    .get_many(schema, &keys)
                    .await?
                    .into_iter()
                    .map(|r| r.map(drop))
                    .collect(),
                _ => store.delete_many(schema, &keys).await?,
            };
            for r in results {
                if let Err(e) = r {
                    fail(e)?;
                }
            }
        }
        return Ok(());
    }
    for (key, doc) in mine {
        let key = RecordKey::new(key)?;
        let outcome = match op {
            Op::Insert => store.insert_record(schema, key, doc).await,
            Op::Get => store.get_record(schema, key).await.map(drop),
            Op::Update => store.update_record(schema, key, doc).await,
            Op::Exists => match store.exists(schema, key).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(Error::not_found(SCHEMA, key.as_str())),
                Err(e) => Err(e),
            },
            Op::Delete => store.delete_record(schema, key).await,
        };
        if let Err(e) = outcome {
            fail(e)?;
        }
    }
    Ok(())
}

/// Prints one result line. A closed stdout (`| head`) does not stop the run, so the bench
/// still deletes what it wrote.
fn report(json: bool, op: &str, ops: usize, seconds: f64) {
    let rate = ops as f64 / seconds.max(1e-9);
    let line = if json {
        json!({"op": op, "ops": ops, "seconds": seconds, "ops_per_sec": rate.round()}).to_string()
    } else {
        format!("{op}\t{ops}\t{seconds:.3}\t{rate:.0}")
    };
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Deletes what an earlier, interrupted run left in the bench schema.
async fn clear(store: &dyn KeyValueStore) -> Result<()> {
    let schema = SchemaName::new(SCHEMA)?;
    let left = store.filter_record(schema, &Filter::all()).await?;
    for chunk in left.chunks(1000) {
        let keys: Vec<RecordKey<'_>> = chunk
            .iter()
            .map(|(k, _)| RecordKey::new(k))
            .collect::<Result<_>>()?;
        store.delete_many(schema, &keys).await?;
    }
    Ok(())
}

pub async fn run(settings: &Settings, a: BenchArgs) -> Result<()> {
    if a.records == 0 || a.concurrency == 0 {
        return Err(Error::invalid(
            "--records and --concurrency must be at least 1",
        ));
    }
    let store = settings.open().await?;
    clear(&*store).await?;
    let wanted = |op: &str| a.ops.is_empty() || a.ops.iter().any(|o| o == op);
    let w = Workload {
        store: store.clone(),
        records: Arc::new((0..a.records).map(record).collect()),
        concurrency: a.concurrency,
        batch: a.batch,
        errors: Arc::new(AtomicU64::new(0)),
    };
    let n = a.records;
    report(a.json, "insert", n, w.run(Op::Insert).await?);
    if wanted("get") {
        report(a.json, "get", n, w.run(Op::Get).await?);
    }
    if wanted("update") {
        report(a.json, "update", n, w.run(Op::Update).await?);
    }
    if wanted("exists") {
        report(a.json, "exists", n, w.run(Op::Exists).await?);
    }
    let schema = SchemaName::new(SCHEMA)?;
    if wanted("count") {
        let started = Instant::now();
        for _ in 0..1000 {
            let c = store.count(schema).await?;
            if c != n as u64 {
                return Err(Error::invalid(format!(
                    "bench: count gave {c}, expected {n}"
                )));
            }
        }
        report(a.json, "count", 1000, started.elapsed().as_secs_f64());
    }
    if wanted("filter") {
        let filter = Filter::parse_args(&["status=done"])?;
        let started = Instant::now();
        for _ in 0..5 {
            let found = store.filter_record(schema, &filter).await?.len();
            let expected = n.div_ceil(10);
            if found != expected {
                return Err(Error::invalid(format!(
                    "bench: filter found {found} records, expected {expected}"
                )));
            }
        }
        report(a.json, "filter", 5 * n, started.elapsed().as_secs_f64());
    }
    report(a.json, "delete", n, w.run(Op::Delete).await?);
    let errors = w.errors.load(Ordering::Relaxed);
    if a.json {
        let mut stats = serde_json::to_value(store.stats().unwrap_or_default()).unwrap_or_default();
        if let Some(obj) = stats.as_object_mut() {
            obj.insert("backend".into(), json!(store.backend()));
            obj.insert("errors".into(), json!(errors));
        }
        let _ = writeln!(std::io::stdout(), "{stats}");
    }
    if errors > 0 {
        return Err(Error::invalid(format!(
            "bench: {errors} operations gave a wrong answer"
        )));
    }
    Ok(())
}
