//! Core errors as the Python exceptions of `recordstore.exceptions`.

use crate::convert::ConvertError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use recordstore::{Error, ErrorKind};

/// The Python class name of each core error kind (see `recordstore/exceptions.py`).
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "NotFound",
        ErrorKind::AlreadyExists => "AlreadyExists",
        ErrorKind::InvalidInput => "InvalidInput",
        ErrorKind::Corrupt => "Corrupt",
        ErrorKind::Connection => "ConnectionFailed",
        ErrorKind::Timeout => "Timeout",
        ErrorKind::Auth => "AuthFailed",
        ErrorKind::Closed => "StoreClosed",
        ErrorKind::Config => "ConfigurationError",
        ErrorKind::Protocol => "ProtocolMismatch",
        _ => "BackendError",
    }
}

/// The module holding the exception classes, imported once.
fn exceptions(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static MODULE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let m = MODULE.get_or_try_init(py, || {
        py.import("recordstore.exceptions")
            .map(|m| m.into_any().unbind())
    })?;
    Ok(m.bind(py))
}

/// The schema and key an operation was about, for errors that do not carry their own.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    /// The schema the call named.
    pub schema: Option<&'a str>,
    /// The key the call named.
    pub key: Option<&'a str>,
}

impl<'a> Context<'a> {
    /// A call on one schema.
    pub fn schema(schema: &'a str) -> Self {
        Context {
            schema: Some(schema),
            key: None,
        }
    }

    /// A call on one record.
    pub fn record(schema: &'a str, key: &'a str) -> Self {
        Context {
            schema: Some(schema),
            key: Some(key),
        }
    }
}

/// The Python exception for a core error. The message is the core's, which never contains a
/// password (URLs are redacted by the core).
pub fn to_py_err(py: Python<'_>, err: &Error, ctx: Context<'_>) -> PyErr {
    match build(py, err, ctx) {
        Ok(e) => e,
        Err(e) => e,
    }
}

fn build(py: Python<'_>, err: &Error, ctx: Context<'_>) -> PyResult<PyErr> {
    let (schema, key) = match err {
        Error::NotFound { schema, key }
        | Error::AlreadyExists { schema, key }
        | Error::Corrupt { schema, key, .. } => (Some(schema.as_str()), Some(key.as_str())),
        _ => (ctx.schema, ctx.key),
    };
    let backend = match err {
        Error::Connection { backend, .. }
        | Error::Timeout { backend, .. }
        | Error::Auth { backend, .. }
        | Error::Config { backend, .. }
        | Error::Protocol { backend, .. }
        | Error::Backend { backend, .. } => Some(*backend),
        _ => None,
    };
    let cls = exceptions(py)?.getattr(class_name(err.kind()))?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("schema", schema)?;
    kwargs.set_item("key", key)?;
    kwargs.set_item("temporary", err.is_temporary())?;
    kwargs.set_item("backend", backend)?;
    let value = cls.call(PyTuple::new(py, [err.to_string()])?, Some(&kwargs))?;
    Ok(PyErr::from_value(value))
}

/// A conversion failure as a Python exception.
pub fn convert_err(py: Python<'_>, err: ConvertError, ctx: Context<'_>) -> PyErr {
    match err {
        ConvertError::Invalid(e) => to_py_err(py, &e, ctx),
        ConvertError::Python(e) => e,
    }
}
