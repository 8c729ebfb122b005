//! `recordstore bench`: the peer's workload (`shared/peer/peer_bench.py`), line for line.
//!
//! N records of about 200 bytes (id, status — "done" for every 10th —, attempts, payload) in
//! schema "bench": insert N, get N, update N, exists N, count ×1000, filter status=done ×5,
//! delete N. Records are built before the clock starts, as the peer builds its objects; names
//! are validated inside the timed calls.
//!
//! Text output: a line naming the store (password hidden), the mode and the concurrency, then
//! a header and one tab-separated line per operation (`op ops seconds ops/s`, the lines
//! `scripts/bench.py` reads). On a terminal each operation shows a progress bar on stderr
//! while it runs. `--json` prints one JSON object per operation, then the stats.
//!
//! Without `--url` (or `RECORDSTORE_URL`, or a URL in the config file) the bench runs on a
//! temporary SQLite file that is removed afterwards.

use crate::progress;
use clap::Args;
use indicatif::ProgressBar;
use recordstore::config::Settings;
use recordstore::{Document, Error, Filter, KeyValueStore, RecordKey, Result, SchemaName};
use serde_json::json;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCHEMA: &str = "bench";

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Number of records.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub records: usize,
    /// Concurrent clients sharing the store.
    #[arg(long, default_value_t = 1, value_name = "C")]
    pub concurrency: usize,
    /// Use the batch calls (insert_many, get_many, delete_many) with this many records each.
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,
    /// Only these operations (comma-separated: insert,get,update,exists,count,filter,delete);
    /// insert always runs first and delete last so the store ends clean.
    #[arg(long, value_delimiter = ',', value_name = "OPS")]
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

/// Records a client does between two additions to the progress counter.
const PROGRESS_STEP: usize = 64;

/// A progress bar fed from a counter by a thread of its own: the timed loops only add to an
/// atomic, and drawing (which, done from the loop, slowed a fast store down many times over)
/// happens off their path, five times a second. No terminal, no thread.
struct Meter {
    bar: ProgressBar,
    done: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    drawer: Option<std::thread::JoinHandle<()>>,
}

impl Meter {
    fn new(len: u64, name: &str) -> Self {
        let bar = progress::bar(len, &format!("bench {name}"));
        let (done, stop) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let drawer = (!bar.is_hidden()).then(|| {
            let (bar, done, stop) = (bar.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    bar.set_position(done.load(Ordering::Relaxed));
                    std::thread::park_timeout(Duration::from_millis(200));
                }
            })
        });
        Meter {
            bar,
            done,
            stop,
            drawer,
        }
    }

    /// Stops drawing and clears the bar.
    fn finish(self) {
        self.stop.store(true, Ordering::Release);
        if let Some(drawer) = self.drawer {
            drawer.thread().unpark();
            let _ = drawer.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Workload {
    /// Runs `op` over every record, split across the clients, with a progress bar; returns
    /// the seconds taken.
    async fn run(&self, op: Op, name: &str) -> Result<f64> {
        let meter = Meter::new(self.records.len() as u64, name);
        let started = Instant::now();
        if self.concurrency <= 1 {
            run_slice(
                &*self.store,
                &self.records,
                Slice {
                    client: 0,
                    clients: 1,
                },
                op,
                self.batch,
                &self.errors,
                &meter.done,
            )
            .await?;
        } else {
            let mut tasks = Vec::with_capacity(self.concurrency);
            for client in 0..self.concurrency {
                let store = self.store.clone();
                let records = self.records.clone();
                let (clients, batch, errors) = (self.concurrency, self.batch, self.errors.clone());
                let done = meter.done.clone();
                tasks.push(tokio::spawn(async move {
                    let slice = Slice { client, clients };
                    run_slice(&*store, &records, slice, op, batch, &errors, &done).await
                }));
            }
            for t in tasks {
                t.await
                    .map_err(|e| Error::invalid(format!("a bench client panicked: {e}")))??;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        meter.finish();
        Ok(seconds)
    }
}

/// Which records a client works on: `client`, `client + clients`, …
#[derive(Clone, Copy)]
struct Slice {
    client: usize,
    clients: usize,
}

/// One client's share of the records.
async fn run_slice(
    store: &dyn KeyValueStore,
    records: &[(String, Document)],
    slice: Slice,
    op: Op,
    batch: Option<usize>,
    errors: &AtomicU64,
    done: &AtomicU64,
) -> Result<()> {
    let schema = SchemaName::new(SCHEMA)?;
    let mine = records.iter().skip(slice.client).step_by(slice.clients);
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
            done.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        return Ok(());
    }
    for (i, (key, doc)) in mine.enumerate() {
        if i % PROGRESS_STEP == PROGRESS_STEP - 1 {
            done.fetch_add(PROGRESS_STEP as u64, Ordering::Relaxed);
        }
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

/// Prints one line. A closed stdout (`| head`) does not stop the run, so the bench still
/// deletes what it wrote.
fn print(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Prints one result line.
fn report(json: bool, op: &str, ops: usize, seconds: f64) {
    let rate = ops as f64 / seconds.max(1e-9);
    if json {
        print(
            &json!({"op": op, "ops": ops, "seconds": seconds, "ops_per_sec": rate.round()})
                .to_string(),
        );
    } else {
        print(&format!("{op}\t{ops}\t{seconds:.3}\t{rate:.0}"));
    }
}

/// The text output's first lines: where the bench runs, how, and the columns.
fn header(store: &dyn KeyValueStore, url: &str, temporary: bool, a: &BenchArgs) {
    let mode = store
        .stats()
        .map_or("in-process".to_string(), |s| s.mode.to_string());
    let temporary = if temporary {
        " (a temporary file, removed afterwards; --url to choose the store)"
    } else {
        ""
    };
    let batch = a
        .batch
        .map_or(String::new(), |b| format!(", batches of {b}"));
    print(&format!(
        "bench: {} records on {url}{temporary}, {} backend, mode {mode}, concurrency {}{batch}",
        progress::thousands(a.records as u64),
        store.backend(),
        a.concurrency,
    ));
    print("op\tops\tseconds\tops/s");
}

/// Runs `times` calls of `call` with a progress bar; returns the seconds taken.
async fn repeat<F, Fut>(name: &str, times: u64, mut call: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let meter = Meter::new(times, name);
    let started = Instant::now();
    for _ in 0..times {
        call().await?;
        meter.done.fetch_add(1, Ordering::Relaxed);
    }
    let seconds = started.elapsed().as_secs_f64();
    meter.finish();
    Ok(seconds)
}

/// Deletes what an earlier, interrupted run left in the bench schema. By key, without reading
/// the records: what a run with the other codec left would not decode.
async fn clear(store: &dyn KeyValueStore) -> Result<()> {
    let schema = SchemaName::new(SCHEMA)?;
    let left = store.list_keys(schema).await?;
    for chunk in left.chunks(1000) {
        let keys: Vec<RecordKey<'_>> = chunk
            .iter()
            .map(|k| RecordKey::new(k))
            .collect::<Result<_>>()?;
        store.delete_many(schema, &keys).await?;
    }
    Ok(())
}

/// Runs the bench on the store of `settings`, or, when `default_store` (no URL was given
/// anywhere), on a temporary SQLite file removed afterwards.
pub async fn run(settings: &Settings, a: BenchArgs, default_store: bool) -> Result<()> {
    if a.records == 0 || a.concurrency == 0 {
        return Err(Error::invalid(
            "--records and --concurrency must be at least 1",
        ));
    }
    let scratch = if default_store {
        let dir = tempfile::Builder::new()
            .prefix("recordstore-bench-")
            .tempdir()
            .map_err(|e| {
                Error::invalid(format!(
                    "cannot create a temporary directory for the bench store: {e}; give one with --url"
                ))
            })?;
        Some(dir)
    } else {
        None
    };
    let mut settings = settings.clone();
    if let Some(dir) = &scratch {
        settings.url = format!("sqlite://{}", dir.path().join("bench.db").display());
    }
    let store = settings.open().await?;
    let outcome = bench(store.clone(), &settings, &a, scratch.is_some()).await;
    store.close().await;
    drop(store);
    if let Some(dir) = scratch {
        let _ = dir.close();
    }
    outcome
}

async fn bench(
    store: Arc<dyn KeyValueStore>,
    settings: &Settings,
    a: &BenchArgs,
    temporary: bool,
) -> Result<()> {
    clear(&*store).await?;
    if !a.json {
        let url = recordstore::redact_url(&settings.url);
        header(&*store, &url, temporary, a);
    }
    let wanted = |op: &str| a.ops.is_empty() || a.ops.iter().any(|o| o == op);
    let w = Workload {
        store: store.clone(),
        records: Arc::new((0..a.records).map(record).collect()),
        concurrency: a.concurrency,
        batch: a.batch,
        errors: Arc::new(AtomicU64::new(0)),
    };
    let n = a.records;
    report(a.json, "insert", n, w.run(Op::Insert, "insert").await?);
    for (name, op) in [
        ("get", Op::Get),
        ("update", Op::Update),
        ("exists", Op::Exists),
    ] {
        if wanted(name) {
            report(a.json, name, n, w.run(op, name).await?);
        }
    }
    let schema = SchemaName::new(SCHEMA)?;
    if wanted("count") {
        let seconds = repeat("count", 1000, || async {
            let c = store.count(schema).await?;
            if c != n as u64 {
                return Err(Error::invalid(format!(
                    "bench: count gave {c}, expected {n}"
                )));
            }
            Ok(())
        })
        .await?;
        report(a.json, "count", 1000, seconds);
    }
    if wanted("filter") {
        let filter = Filter::parse_args(&["status=done"])?;
        let expected = n.div_ceil(10);
        let seconds = repeat("filter", 5, || async {
            let found = store.filter_record(schema, &filter).await?.len();
            if found != expected {
                return Err(Error::invalid(format!(
                    "bench: filter found {found} records, expected {expected}"
                )));
            }
            Ok(())
        })
        .await?;
        report(a.json, "filter", 5 * n, seconds);
    }
    report(a.json, "delete", n, w.run(Op::Delete, "delete").await?);
    let errors = w.errors.load(Ordering::Relaxed);
    if a.json {
        let mut stats = serde_json::to_value(store.stats().unwrap_or_default()).unwrap_or_default();
        if let Some(obj) = stats.as_object_mut() {
            obj.insert("backend".into(), json!(store.backend()));
            obj.insert("errors".into(), json!(errors));
        }
        print(&stats.to_string());
    }
    if errors > 0 {
        return Err(Error::invalid(format!(
            "bench: {errors} operations gave a wrong answer"
        )));
    }
    Ok(())
}
