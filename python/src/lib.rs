//! `recordstore._native`: the Rust core of the Python package `recordstore`.
//!
//! One class, [`Store`], wraps an `Arc<dyn KeyValueStore>` from [`recordstore::open_with`]
//! together with the tokio runtime that drives it. Every call converts its Python arguments
//! while holding the GIL, releases the GIL for the I/O (`Python::detach`), and converts the
//! answer back. The pure-Python part of the package (`python/recordstore/`) builds the seed's
//! classes on top of it.
//!
//! Runtimes: by default a store has its own *current-thread* runtime, driven by whichever
//! calling thread is inside the store (no cross-thread wake-up per round trip, which costs a
//! lone caller 10-20 µs). `runtime="multi"` gives it a multi-thread runtime instead, and
//! `runtime="asyncio"` puts it on `pyo3-async-runtimes`' shared runtime, which the `a*`
//! methods (awaitables for asyncio) require.

mod convert;
mod errors;

use convert::{filter_value, map_to_py, py_to_document};
use errors::convert_err;
use errors::{to_py_err, Context};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use recordstore::config::Settings;
use recordstore::connection::ConnectionMode;
use recordstore::{Document, Filter, KeyValueStore, OpenOptions, RecordKey, SchemaName};
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Which tokio runtime drives a store.
enum Rt {
    /// The store's own runtime (current-thread or multi-thread).
    Owned(tokio::runtime::Runtime),
    /// `pyo3-async-runtimes`' process-wide runtime (for asyncio).
    Shared,
}

impl Rt {
    fn get(&self) -> &tokio::runtime::Runtime {
        match self {
            Rt::Owned(rt) => rt,
            Rt::Shared => pyo3_async_runtimes::tokio::get_runtime(),
        }
    }
}

/// The store and its runtime. Dropping it drops the store inside its runtime, then stops the
/// runtime without waiting for idle worker threads.
struct Inner {
    store: ManuallyDrop<Arc<dyn KeyValueStore>>,
    rt: ManuallyDrop<Rt>,
    url: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let rt = self.rt.get();
        {
            let _guard = rt.enter();
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.store) };
        }
        // SAFETY: as above.
        if let Rt::Owned(rt) = unsafe { ManuallyDrop::take(&mut self.rt) } {
            rt.shutdown_background();
        }
    }
}

/// A record store: one backend, opened from a URL, safe to share across threads.
///
/// Names are checked before any I/O; records are `dict`s with `str` keys holding JSON values
/// (`dict`, `list`, `tuple`, `str`, `int`, `float`, `bool`, `None`).
#[pyclass(frozen, module = "recordstore._native")]
pub struct Store {
    inner: Arc<Inner>,
}

fn names<'a>(
    py: Python<'_>,
    schema: &'a str,
    key: &'a str,
) -> PyResult<(SchemaName<'a>, RecordKey<'a>)> {
    let ctx = Context::record(schema, key);
    let s = SchemaName::new(schema).map_err(|e| to_py_err(py, &e, ctx))?;
    let k = RecordKey::new(key).map_err(|e| to_py_err(py, &e, ctx))?;
    Ok((s, k))
}

fn schema_name<'a>(py: Python<'_>, schema: &'a str) -> PyResult<SchemaName<'a>> {
    SchemaName::new(schema).map_err(|e| to_py_err(py, &e, Context::schema(schema)))
}

fn document(
    py: Python<'_>,
    record: &Bound<'_, PyAny>,
    schema: &str,
    key: &str,
) -> PyResult<Document> {
    py_to_document(record).map_err(|e| convert_err(py, e, Context::record(schema, key)))
}

/// Builds a filter from `field__lookup=value` keyword arguments.
fn build_filter(
    py: Python<'_>,
    schema: &str,
    conditions: Option<&Bound<'_, PyDict>>,
) -> PyResult<Filter> {
    let mut filter = Filter::all();
    if let Some(conds) = conditions {
        for (k, v) in conds.iter() {
            let lhs = k.cast::<PyString>()?.to_cow()?.into_owned();
            let value =
                filter_value(&v, &lhs).map_err(|e| convert_err(py, e, Context::schema(schema)))?;
            let cond = Filter::parse_pair(&lhs, value)
                .map_err(|e| to_py_err(py, &e, Context::schema(schema)))?;
            filter = filter.and(cond);
        }
    }
    Ok(filter)
}

/// `(key, record)` pairs from a `dict` of records or an iterable of pairs.
fn keyed_records(
    py: Python<'_>,
    schema: &str,
    records: &Bound<'_, PyAny>,
) -> PyResult<Vec<(String, Document)>> {
    let mut out = Vec::new();
    if let Ok(d) = records.cast::<PyDict>() {
        for (k, v) in d.iter() {
            let key: String = k.extract()?;
            let doc = document(py, &v, schema, &key)?;
            out.push((key, doc));
        }
    } else {
        for item in records.try_iter()? {
            let item = item?;
            let (k, v): (String, Bound<'_, PyAny>) = item.extract()?;
            let doc = document(py, &v, schema, &k)?;
            out.push((k, doc));
        }
    }
    Ok(out)
}

fn parse_mode(mode: Option<&str>) -> PyResult<Option<ConnectionMode>> {
    match mode.map(|m| m.to_ascii_lowercase()) {
        None => Ok(None),
        Some(m) if m == "auto" => Ok(None),
        Some(m) if m == "single" => Ok(Some(ConnectionMode::Single)),
        Some(m) if m == "pooled" => Ok(Some(ConnectionMode::Pooled)),
        Some(m) => Err(PyValueError::new_err(format!(
            "connection mode {m:?} is not one of auto, single, pooled"
        ))),
    }
}

/// Everything `open` needs, gathered while holding the GIL.
struct OpenArgs {
    url: String,
    options: OpenOptions,
}

#[allow(clippy::too_many_arguments)]
fn open_args(
    py: Python<'_>,
    url: Option<String>,
    config: Option<PathBuf>,
    load_settings: bool,
    mode: Option<&str>,
    max_connections: Option<usize>,
    connection_timeout: Option<f64>,
    idle_timeout: Option<f64>,
    extras: Option<HashMap<String, String>>,
) -> PyResult<OpenArgs> {
    let mut settings = if load_settings {
        Settings::load(config.as_deref(), &|k| std::env::var(k).ok())
            .map_err(|e| to_py_err(py, &e, Context::default()))?
    } else {
        Settings::default()
    };
    if let Some(url) = url {
        settings.url = url;
    }
    if let Some(m) = parse_mode(mode)? {
        settings.options.mode = Some(m);
    } else if mode.is_some() {
        settings.options.mode = None;
    }
    if let Some(n) = max_connections {
        if n == 0 {
            return Err(PyValueError::new_err("max_connections must be at least 1"));
        }
        settings.options.pool.max_connections = n;
    }
    let secs = |name: &str, s: f64| -> PyResult<Duration> {
        Duration::try_from_secs_f64(s).map_err(|_| {
            PyValueError::new_err(format!(
                "{name} must be a non-negative number of seconds, not {s}"
            ))
        })
    };
    if let Some(s) = connection_timeout {
        settings.options.pool.connection_timeout = secs("connection_timeout", s)?;
    }
    if let Some(s) = idle_timeout {
        settings.options.pool.idle_timeout = if s == 0.0 {
            None
        } else {
            Some(secs("idle_timeout", s)?)
        };
    }
    if let Some(extras) = extras {
        settings.options.extras.extend(extras);
    }
    Ok(OpenArgs {
        url: settings.connect_url(),
        options: settings.options,
    })
}

fn new_runtime(runtime: &str, threads: Option<usize>) -> PyResult<Rt> {
    let mut builder = match runtime {
        "current" => tokio::runtime::Builder::new_current_thread(),
        "multi" => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(threads.unwrap_or(2).max(1));
            b
        }
        "asyncio" => return Ok(Rt::Shared),
        other => {
            return Err(PyValueError::new_err(format!(
                "runtime {other:?} is not one of current, multi, asyncio"
            )))
        }
    };
    builder
        .enable_all()
        .thread_name("recordstore")
        .build()
        .map(Rt::Owned)
        .map_err(|e| PyValueError::new_err(format!("cannot start a tokio runtime: {e}")))
}

/// Opens a store. See `recordstore.open` for the parameters.
#[pyfunction]
#[pyo3(signature = (url=None, *, config=None, load_settings=true, mode=None, max_connections=None,
    connection_timeout=None, idle_timeout=None, extras=None, runtime="current", threads=None))]
#[allow(clippy::too_many_arguments)]
fn open(
    py: Python<'_>,
    url: Option<String>,
    config: Option<PathBuf>,
    load_settings: bool,
    mode: Option<&str>,
    max_connections: Option<usize>,
    connection_timeout: Option<f64>,
    idle_timeout: Option<f64>,
    extras: Option<HashMap<String, String>>,
    runtime: &str,
    threads: Option<usize>,
) -> PyResult<Store> {
    let args = open_args(
        py,
        url,
        config,
        load_settings,
        mode,
        max_connections,
        connection_timeout,
        idle_timeout,
        extras,
    )?;
    let rt = new_runtime(runtime, threads)?;
    let opened = py.detach(|| {
        rt.get()
            .block_on(recordstore::open_with(&args.url, &args.options))
    });
    let store = opened.map_err(|e| to_py_err(py, &e, Context::default()))?;
    Ok(Store {
        inner: Arc::new(Inner {
            store: ManuallyDrop::new(store),
            rt: ManuallyDrop::new(rt),
            url: recordstore::redact_url(&args.url),
        }),
    })
}

/// `[(key, reason)]` of a copy report's problems.
fn problems(items: &[recordstore::transfer::Problem]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|p| (p.key.clone(), p.reason.clone()))
        .collect()
}

/// Copies schemas between two stores (see `recordstore.copy`). Returns the per-schema report
/// as dicts, its text summary, and the error that stopped the copy (an exception object, not
/// raised), if any.
#[pyfunction]
#[pyo3(signature = (source, destination, schemas, on_conflict, on_error, verify))]
fn copy<'py>(
    py: Python<'py>,
    source: String,
    destination: String,
    schemas: Vec<String>,
    on_conflict: &str,
    on_error: &str,
    verify: bool,
) -> PyResult<(Bound<'py, PyList>, String, Option<Py<PyAny>>)> {
    use recordstore::transfer;
    let err = |e: recordstore::Error| to_py_err(py, &e, Context::default());
    let options = transfer::CopyOptions {
        schemas,
        on_conflict: on_conflict.parse().map_err(err)?,
        on_error: on_error.parse().map_err(err)?,
        verify,
    };
    let rt = new_runtime("current", None)?;
    let Rt::Owned(rt) = rt else {
        unreachable!("a current-thread runtime is owned")
    };
    let report = py.detach(|| {
        rt.block_on(async {
            let open = OpenOptions::default();
            let to = recordstore::open_with(&destination, &open).await?;
            let from = transfer::open_source(&source, &open).await?;
            transfer::copy(&*from, &*to, &options, &|_| {}).await
        })
    });
    let report = report.map_err(err)?;
    let out = PyList::empty(py);
    for s in &report.schemas {
        let d = PyDict::new(py);
        d.set_item("schema", &s.schema)?;
        d.set_item("read", s.read)?;
        d.set_item("written", s.written)?;
        d.set_item("skipped", s.skipped)?;
        d.set_item("conflicting", problems(&s.conflicting))?;
        d.set_item("failed", problems(&s.failed))?;
        match &s.verify {
            Some(v) => {
                let vd = PyDict::new(py);
                vd.set_item("source_count", v.source_count)?;
                vd.set_item("destination_count", v.destination_count)?;
                vd.set_item("compared", v.compared)?;
                vd.set_item("differences", problems(&v.differences))?;
                d.set_item("verify", vd)?;
            }
            None => d.set_item("verify", py.None())?,
        }
        out.append(d)?;
    }
    let stopped = report.stopped.as_ref().map(|e| {
        to_py_err(py, e, Context::default())
            .into_value(py)
            .into_any()
    });
    Ok((out, report.to_string(), stopped))
}

/// Opens a store on the asyncio runtime; an awaitable of a `Store`.
#[pyfunction]
#[pyo3(signature = (url=None, *, config=None, load_settings=true, mode=None, max_connections=None,
    connection_timeout=None, idle_timeout=None, extras=None))]
#[allow(clippy::too_many_arguments)]
fn open_async<'py>(
    py: Python<'py>,
    url: Option<String>,
    config: Option<PathBuf>,
    load_settings: bool,
    mode: Option<&str>,
    max_connections: Option<usize>,
    connection_timeout: Option<f64>,
    idle_timeout: Option<f64>,
    extras: Option<HashMap<String, String>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = open_args(
        py,
        url,
        config,
        load_settings,
        mode,
        max_connections,
        connection_timeout,
        idle_timeout,
        extras,
    )?;
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        let store = recordstore::open_with(&args.url, &args.options)
            .await
            .map_err(|e| Python::attach(|py| to_py_err(py, &e, Context::default())))?;
        Ok(Store {
            inner: Arc::new(Inner {
                store: ManuallyDrop::new(store),
                rt: ManuallyDrop::new(Rt::Shared),
                url: recordstore::redact_url(&args.url),
            }),
        })
    })
}

impl Store {
    /// Runs a future on the store's runtime with the GIL released.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl std::future::Future<Output = recordstore::Result<T>> + Send,
        ctx: Context<'_>,
    ) -> PyResult<T> {
        let rt = self.inner.rt.get();
        py.detach(|| rt.block_on(f))
            .map_err(|e| to_py_err(py, &e, ctx))
    }

    fn store(&self) -> &dyn KeyValueStore {
        &**self.inner.store
    }

    fn async_store(&self) -> PyResult<Arc<dyn KeyValueStore>> {
        match &*self.inner.rt {
            Rt::Shared => Ok(Arc::clone(&self.inner.store)),
            Rt::Owned(_) => Err(PyValueError::new_err(
                "this store was opened for threads; open one with recordstore.aio.open() for asyncio",
            )),
        }
    }
}

/// Owned names for async calls, checked before the future starts.
fn owned_names(py: Python<'_>, schema: &str, key: &str) -> PyResult<(String, String)> {
    names(py, schema, key)?;
    Ok((schema.to_owned(), key.to_owned()))
}

/// A document, converted to a `dict` when the awaitable completes.
struct PyDocument(Document);

impl<'py> IntoPyObject<'py> for PyDocument {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, &self.0)
    }
}

/// Filter results as `(key, dict)` pairs, sorted by key.
struct PyMatches(Vec<(String, Document)>);

impl<'py> IntoPyObject<'py> for PyMatches {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        matches_to_py(py, self.0)
    }
}

fn matches_to_py(py: Python<'_>, mut rows: Vec<(String, Document)>) -> PyResult<Bound<'_, PyList>> {
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let list = PyList::empty(py);
    for (k, doc) in rows {
        let pair = PyTuple::new(
            py,
            [
                PyString::new(py, &k).into_any(),
                map_to_py(py, &doc)?.into_any(),
            ],
        )?;
        list.append(pair)?;
    }
    Ok(list)
}

/// Errors of per-record batch results: NotFound and AlreadyExists become `False`/`None`;
/// anything else is raised.
fn batch_flags(
    py: Python<'_>,
    schema: &str,
    results: Vec<recordstore::Result<()>>,
) -> PyResult<Vec<bool>> {
    results
        .into_iter()
        .map(|r| match r {
            Ok(()) => Ok(true),
            Err(recordstore::Error::NotFound { .. } | recordstore::Error::AlreadyExists { .. }) => {
                Ok(false)
            }
            Err(e) => Err(to_py_err(py, &e, Context::schema(schema))),
        })
        .collect()
}

#[pymethods]
impl Store {
    /// The backend's short name: `memory`, `sqlite`, `redis` or `hdfs`.
    #[getter]
    fn backend(&self) -> &'static str {
        self.store().backend()
    }

    /// The store's URL, with any password replaced by `***`.
    #[getter]
    fn url(&self) -> &str {
        &self.inner.url
    }

    fn __repr__(&self) -> String {
        format!(
            "<recordstore.Store {} {:?}>",
            self.store().backend(),
            self.inner.url
        )
    }

    /// Whether a record exists.
    fn exists(&self, py: Python<'_>, schema: &str, key: &str) -> PyResult<bool> {
        let (s, k) = names(py, schema, key)?;
        self.run(py, self.store().exists(s, k), Context::record(schema, key))
    }

    /// The number of records in a schema; 0 for a schema that does not exist.
    fn count(&self, py: Python<'_>, schema: &str) -> PyResult<u64> {
        let s = schema_name(py, schema)?;
        self.run(py, self.store().count(s), Context::schema(schema))
    }

    /// Inserts a new record; `AlreadyExists` if the key is taken.
    fn insert(
        &self,
        py: Python<'_>,
        schema: &str,
        key: &str,
        record: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (s, k) = names(py, schema, key)?;
        let doc = document(py, record, schema, key)?;
        self.run(
            py,
            self.store().insert_record(s, k, &doc),
            Context::record(schema, key),
        )
    }

    /// Replaces an existing record; `NotFound` if there is none.
    fn update(
        &self,
        py: Python<'_>,
        schema: &str,
        key: &str,
        record: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (s, k) = names(py, schema, key)?;
        let doc = document(py, record, schema, key)?;
        self.run(
            py,
            self.store().update_record(s, k, &doc),
            Context::record(schema, key),
        )
    }

    /// Inserts a record, or replaces it if the key exists.
    fn save(
        &self,
        py: Python<'_>,
        schema: &str,
        key: &str,
        record: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (s, k) = names(py, schema, key)?;
        let doc = document(py, record, schema, key)?;
        self.run(
            py,
            self.store().save_record(s, k, &doc),
            Context::record(schema, key),
        )
    }

    /// Deletes a record; `NotFound` if there is none.
    fn delete(&self, py: Python<'_>, schema: &str, key: &str) -> PyResult<()> {
        let (s, k) = names(py, schema, key)?;
        self.run(
            py,
            self.store().delete_record(s, k),
            Context::record(schema, key),
        )
    }

    /// Reads a record as a new `dict`; `NotFound` if there is none.
    fn get<'py>(&self, py: Python<'py>, schema: &str, key: &str) -> PyResult<Bound<'py, PyDict>> {
        let (s, k) = names(py, schema, key)?;
        let doc = self.run(
            py,
            self.store().get_record(s, k),
            Context::record(schema, key),
        )?;
        map_to_py(py, &doc)
    }

    /// The records matching every `field__lookup=value` condition, as `(key, dict)` pairs
    /// sorted by key.
    #[pyo3(signature = (schema, /, **conditions))]
    fn filter<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        conditions: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let s = schema_name(py, schema)?;
        let f = build_filter(py, schema, conditions)?;
        let rows = self.run(
            py,
            self.store().filter_record(s, &f),
            Context::schema(schema),
        )?;
        matches_to_py(py, rows)
    }

    /// The records matching the conditions, each built as `klass` would be by the peer:
    /// `klass.__new__(klass)` then `__setstate__(dict)` (or `__dict__.update` when the class
    /// has no `__setstate__` of its own). Sorted by key.
    #[pyo3(signature = (schema, klass, conditions=None))]
    fn filter_objects<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        klass: &Bound<'py, PyAny>,
        conditions: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let s = schema_name(py, schema)?;
        let f = build_filter(py, schema, conditions)?;
        let mut rows = self.run(
            py,
            self.store().filter_record(s, &f),
            Context::schema(schema),
        )?;
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let new = klass.getattr(pyo3::intern!(py, "__new__"))?;
        let list = PyList::empty(py);
        for (_, doc) in rows {
            let obj = new.call1((klass,))?;
            obj.call_method1(pyo3::intern!(py, "__setstate__"), (map_to_py(py, &doc)?,))?;
            list.append(obj)?;
        }
        Ok(list)
    }

    /// Inserts many records (a `dict` of key to record, or `(key, record)` pairs); for each,
    /// `True` if inserted, `False` if its key was taken.
    fn insert_many(
        &self,
        py: Python<'_>,
        schema: &str,
        records: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<bool>> {
        let s = schema_name(py, schema)?;
        let owned = keyed_records(py, schema, records)?;
        let mut batch = Vec::with_capacity(owned.len());
        for (k, d) in &owned {
            let key =
                RecordKey::new(k).map_err(|e| to_py_err(py, &e, Context::record(schema, k)))?;
            batch.push((key, d.clone()));
        }
        let results = self.run(
            py,
            self.store().insert_many(s, &batch),
            Context::schema(schema),
        )?;
        batch_flags(py, schema, results)
    }

    /// Reads many records; for each key, a `dict`, or `None` if there is no such record.
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        keys: Vec<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        let s = schema_name(py, schema)?;
        let mut checked = Vec::with_capacity(keys.len());
        for k in &keys {
            checked.push(
                RecordKey::new(k).map_err(|e| to_py_err(py, &e, Context::record(schema, k)))?,
            );
        }
        let results = self.run(
            py,
            self.store().get_many(s, &checked),
            Context::schema(schema),
        )?;
        let list = PyList::empty(py);
        for r in results {
            match r {
                Ok(doc) => list.append(map_to_py(py, &doc)?)?,
                Err(recordstore::Error::NotFound { .. }) => list.append(py.None())?,
                Err(e) => return Err(to_py_err(py, &e, Context::schema(schema))),
            }
        }
        Ok(list)
    }

    /// Deletes many records; for each key, `True` if deleted, `False` if there was none.
    fn delete_many(&self, py: Python<'_>, schema: &str, keys: Vec<String>) -> PyResult<Vec<bool>> {
        let s = schema_name(py, schema)?;
        let mut checked = Vec::with_capacity(keys.len());
        for k in &keys {
            checked.push(
                RecordKey::new(k).map_err(|e| to_py_err(py, &e, Context::record(schema, k)))?,
            );
        }
        let results = self.run(
            py,
            self.store().delete_many(s, &checked),
            Context::schema(schema),
        )?;
        batch_flags(py, schema, results)
    }

    /// The names of the schemas the store holds, sorted.
    fn list_schemas(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.run(py, self.store().list_schemas(), Context::default())
    }

    /// Checks that the backend answers; `ConnectionFailed` (a `ConnectionError`) if not.
    fn ping(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, self.store().ping(), Context::default())
    }

    /// Closes the store's connections.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.run(
            py,
            async {
                self.store().close().await;
                Ok(())
            },
            Context::default(),
        )
    }

    // ---- asyncio: awaitables, for stores opened with `open_async` ----

    /// Awaitable `exists`.
    fn aexists<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        key: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        let (schema, key) = owned_names(py, schema, key)?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let (s, k) = checked(&schema, &key)?;
            st.exists(s, k)
                .await
                .map_err(|e| attach_err(&e, &schema, Some(&key)))
        })
    }

    /// Awaitable `count`.
    fn acount<'py>(&self, py: Python<'py>, schema: &str) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        schema_name(py, schema)?;
        let schema = schema.to_owned();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let s = SchemaName::new(&schema).map_err(|e| attach_err(&e, &schema, None))?;
            st.count(s).await.map_err(|e| attach_err(&e, &schema, None))
        })
    }

    /// Awaitable `insert`.
    fn ainsert<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        key: &str,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.awrite(py, schema, key, record, Write::Insert)
    }

    /// Awaitable `update`.
    fn aupdate<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        key: &str,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.awrite(py, schema, key, record, Write::Update)
    }

    /// Awaitable `save`.
    fn asave<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        key: &str,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.awrite(py, schema, key, record, Write::Save)
    }

    /// Awaitable `delete`.
    fn adelete<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        key: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        let (schema, key) = owned_names(py, schema, key)?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let (s, k) = checked(&schema, &key)?;
            st.delete_record(s, k)
                .await
                .map_err(|e| attach_err(&e, &schema, Some(&key)))
        })
    }

    /// Awaitable `get`.
    fn aget<'py>(&self, py: Python<'py>, schema: &str, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        let (schema, key) = owned_names(py, schema, key)?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let (s, k) = checked(&schema, &key)?;
            st.get_record(s, k)
                .await
                .map(PyDocument)
                .map_err(|e| attach_err(&e, &schema, Some(&key)))
        })
    }

    /// Awaitable `filter`.
    #[pyo3(signature = (schema, /, **conditions))]
    fn afilter<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        conditions: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        schema_name(py, schema)?;
        let f = build_filter(py, schema, conditions)?;
        let schema = schema.to_owned();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let s = SchemaName::new(&schema).map_err(|e| attach_err(&e, &schema, None))?;
            st.filter_record(s, &f)
                .await
                .map(PyMatches)
                .map_err(|e| attach_err(&e, &schema, None))
        })
    }

    /// Awaitable `insert_many`.
    fn ainsert_many<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        records: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        schema_name(py, schema)?;
        let owned = keyed_records(py, schema, records)?;
        let keys: Vec<String> = owned.iter().map(|(k, _)| k.clone()).collect();
        checked_keys(py, schema, &keys)?;
        let schema = schema.to_owned();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let s = SchemaName::new(&schema).map_err(|e| attach_err(&e, &schema, None))?;
            let mut batch = Vec::with_capacity(owned.len());
            for (k, d) in &owned {
                let key = RecordKey::new(k).map_err(|e| attach_err(&e, &schema, Some(k)))?;
                batch.push((key, d.clone()));
            }
            let results = st
                .insert_many(s, &batch)
                .await
                .map_err(|e| attach_err(&e, &schema, None))?;
            async_flags(&schema, results)
        })
    }

    /// Awaitable `get_many`.
    fn aget_many<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        keys: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        checked_keys(py, schema, &keys)?;
        let schema = schema.to_owned();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let s = SchemaName::new(&schema).map_err(|e| attach_err(&e, &schema, None))?;
            let checked = keys_in_future(&schema, &keys)?;
            let results = st
                .get_many(s, &checked)
                .await
                .map_err(|e| attach_err(&e, &schema, None))?;
            let docs = results
                .into_iter()
                .map(|r| match r {
                    Ok(d) => Ok(Some(d)),
                    Err(recordstore::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(attach_err(&e, &schema, None)),
                })
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyMaybeDocuments(docs))
        })
    }

    /// Awaitable `delete_many`.
    fn adelete_many<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        keys: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        checked_keys(py, schema, &keys)?;
        let schema = schema.to_owned();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let s = SchemaName::new(&schema).map_err(|e| attach_err(&e, &schema, None))?;
            let checked = keys_in_future(&schema, &keys)?;
            let results = st
                .delete_many(s, &checked)
                .await
                .map_err(|e| attach_err(&e, &schema, None))?;
            async_flags(&schema, results)
        })
    }

    /// Awaitable `list_schemas`.
    fn alist_schemas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            st.list_schemas()
                .await
                .map_err(|e| Python::attach(|py| to_py_err(py, &e, Context::default())))
        })
    }

    /// Awaitable `ping`.
    fn aping<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            st.ping()
                .await
                .map_err(|e| Python::attach(|py| to_py_err(py, &e, Context::default())))
        })
    }

    /// Awaitable `close`.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            st.close().await;
            Ok(())
        })
    }
}

/// Documents or gaps (`None` for a missing record), converted when the awaitable completes.
struct PyMaybeDocuments(Vec<Option<Document>>);

impl<'py> IntoPyObject<'py> for PyMaybeDocuments {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for doc in self.0 {
            match doc {
                Some(d) => list.append(map_to_py(py, &d)?)?,
                None => list.append(py.None())?,
            }
        }
        Ok(list)
    }
}

/// Per-record outcomes of an awaited batch, as `batch_flags` makes them.
fn async_flags(schema: &str, results: Vec<recordstore::Result<()>>) -> PyResult<Vec<bool>> {
    results
        .into_iter()
        .map(|r| match r {
            Ok(()) => Ok(true),
            Err(recordstore::Error::NotFound { .. } | recordstore::Error::AlreadyExists { .. }) => {
                Ok(false)
            }
            Err(e) => Err(attach_err(&e, schema, None)),
        })
        .collect()
}

/// Keys checked before an awaited batch starts.
fn checked_keys(py: Python<'_>, schema: &str, keys: &[String]) -> PyResult<()> {
    schema_name(py, schema)?;
    for k in keys {
        RecordKey::new(k).map_err(|e| to_py_err(py, &e, Context::record(schema, k)))?;
    }
    Ok(())
}

/// Record keys for use inside a future (already checked by `checked_keys`).
fn keys_in_future<'a>(schema: &str, keys: &'a [String]) -> PyResult<Vec<RecordKey<'a>>> {
    keys.iter()
        .map(|k| RecordKey::new(k).map_err(|e| attach_err(&e, schema, Some(k))))
        .collect()
}

#[derive(Clone, Copy)]
enum Write {
    Insert,
    Update,
    Save,
}

impl Store {
    fn awrite<'py>(
        &self,
        py: Python<'py>,
        schema: &str,
        key: &str,
        record: &Bound<'py, PyAny>,
        op: Write,
    ) -> PyResult<Bound<'py, PyAny>> {
        let st = self.async_store()?;
        let (schema, key) = owned_names(py, schema, key)?;
        let doc = document(py, record, &schema, &key)?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let (s, k) = checked(&schema, &key)?;
            let r = match op {
                Write::Insert => st.insert_record(s, k, &doc).await,
                Write::Update => st.update_record(s, k, &doc).await,
                Write::Save => st.save_record(s, k, &doc).await,
            };
            r.map_err(|e| attach_err(&e, &schema, Some(&key)))
        })
    }
}

/// Names already checked by `owned_names`, checked again inside a future (cheap, and no
/// `unwrap`).
fn checked<'a>(schema: &'a str, key: &'a str) -> PyResult<(SchemaName<'a>, RecordKey<'a>)> {
    let s = SchemaName::new(schema).map_err(|e| attach_err(&e, schema, Some(key)))?;
    let k = RecordKey::new(key).map_err(|e| attach_err(&e, schema, Some(key)))?;
    Ok((s, k))
}

/// A core error as a Python exception, from inside a future (takes the GIL).
fn attach_err(e: &recordstore::Error, schema: &str, key: Option<&str>) -> PyErr {
    Python::attach(|py| {
        to_py_err(
            py,
            e,
            Context {
                schema: Some(schema),
                key,
            },
        )
    })
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Store>()?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_function(wrap_pyfunction!(open_async, m)?)?;
    m.add_function(wrap_pyfunction!(copy, m)?)?;
    m.add("SUPPORTED_SCHEMES", recordstore::supported_schemes())?;
    Ok(())
}
