//! Python objects to JSON documents and back, walked directly (no JSON text in between).

use pyo3::exceptions::PyRecursionError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use recordstore::{Document, Error};
use serde_json::{Map, Number, Value};

/// Nesting deeper than this is refused (a cycle would otherwise recurse forever).
const MAX_DEPTH: usize = 128;

/// Why a Python value could not become a record: a core error, or a Python error raised while
/// reading the value (a `__getstate__`-free object whose `__str__` fails, a recursion limit).
pub enum ConvertError {
    /// The value cannot be stored: reported as `InvalidInput`.
    Invalid(Error),
    /// A Python exception, passed through as it is.
    Python(PyErr),
}

impl From<PyErr> for ConvertError {
    fn from(e: PyErr) -> Self {
        ConvertError::Python(e)
    }
}

fn invalid(path: &str, what: String) -> ConvertError {
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" at field {path:?}")
    };
    ConvertError::Invalid(Error::invalid(format!("{what}{at}")))
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// A record (a `dict` with `str` keys) as a [`Document`].
pub fn py_to_document(obj: &Bound<'_, PyAny>) -> Result<Document, ConvertError> {
    match obj.cast::<PyDict>() {
        Ok(d) => Ok(Document::new(dict_to_map(d, "", 0)?)),
        Err(_) => Err(ConvertError::Invalid(Error::invalid(format!(
            "a record must be a dict (or an object with __getstate__ returning a dict), not {}",
            type_name(obj)
        )))),
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

fn dict_to_map(
    d: &Bound<'_, PyDict>,
    path: &str,
    depth: usize,
) -> Result<Map<String, Value>, ConvertError> {
    let mut map = Map::with_capacity(d.len());
    for (k, v) in d.iter() {
        let key = match k.cast::<PyString>() {
            Ok(s) => s.to_cow()?.into_owned(),
            Err(_) => {
                return Err(invalid(
                    path,
                    format!(
                        "record field names must be str, not {} ({})",
                        type_name(&k),
                        k.repr().map(|r| r.to_string()).unwrap_or_default()
                    ),
                ))
            }
        };
        let value = py_to_value(&v, &key, path, depth + 1)?;
        map.insert(key, value);
    }
    Ok(map)
}

/// One Python value as JSON: `dict`, `list`, `tuple`, `str`, `int`, `float`, `bool`, `None`.
pub fn py_to_value(
    v: &Bound<'_, PyAny>,
    name: &str,
    parent: &str,
    depth: usize,
) -> Result<Value, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(ConvertError::Python(PyRecursionError::new_err(format!(
            "record nested deeper than {MAX_DEPTH} levels at field {:?}",
            child(parent, name)
        ))));
    }
    if v.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = v.cast_exact::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    // bool before int: bool is a subclass of int.
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = v.cast::<PyInt>() {
        if let Ok(n) = i.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = i.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        return Err(invalid(
            &child(parent, name),
            "integer out of the 64-bit range JSON records hold".into(),
        ));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        return Number::from_f64(x).map(Value::Number).ok_or_else(|| {
            invalid(
                &child(parent, name),
                format!("{x} is not a finite number, which JSON cannot hold"),
            )
        });
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    let path = child(parent, name);
    if let Ok(d) = v.cast::<PyDict>() {
        return Ok(Value::Object(dict_to_map(d, &path, depth)?));
    }
    if let Ok(l) = v.cast::<PyList>() {
        let mut out = Vec::with_capacity(l.len());
        for (i, item) in l.iter().enumerate() {
            out.push(py_to_value(&item, &i.to_string(), &path, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        let mut out = Vec::with_capacity(t.len());
        for (i, item) in t.iter().enumerate() {
            out.push(py_to_value(&item, &i.to_string(), &path, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    Err(invalid(
        &path,
        format!(
            "a value of type {} cannot be stored (records hold dict, list, tuple, str, int, float, bool and None)",
            type_name(v)
        ),
    ))
}

/// A JSON value as a Python object.
pub fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => map_to_py(py, map)?.into_any(),
    })
}

/// A JSON object as a Python `dict`.
pub fn map_to_py<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in map {
        d.set_item(PyString::new(py, k), value_to_py(py, v)?)?;
    }
    Ok(d)
}

/// A Python value as a filter's comparison value.
pub fn filter_value(v: &Bound<'_, PyAny>, lhs: &str) -> Result<Value, ConvertError> {
    py_to_value(v, lhs, "", 0)
}
