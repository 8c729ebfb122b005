//! Filter pushdown: a [`Filter`] as a SQL condition on `json_extract`/`json_type`, with bound
//! parameters.
//!
//! The SQL selects a superset of the matches (each condition it cannot express exactly only
//! checks that the field exists); the store then applies [`Filter::matches`] to what comes
//! back, so results are identical to every other backend.

use crate::filter::{Condition, Filter, Lookup};
use rusqlite::types::Value as Sql;
use serde_json::Value;

/// A whole `WHERE` clause (`schema = ?1 AND ...`) and its parameters.
pub(crate) struct Pushdown {
    pub sql: String,
    pub params: Vec<Sql>,
}

pub(crate) fn pushdown(schema: &str, filter: &Filter) -> Pushdown {
    let mut out = Pushdown {
        sql: "schema = ?1".to_string(),
        params: vec![Sql::Text(schema.to_string())],
    };
    for c in filter.conditions() {
        out.sql.push_str(" AND ");
        condition(c, &mut out);
    }
    out
}

fn condition(c: &Condition, out: &mut Pushdown) {
    let path: String = std::iter::once("$".to_string())
        .chain(c.path().iter().map(|p| format!(".\"{p}\"")))
        .collect();
    out.params.push(Sql::Text(path));
    let p = out.params.len();
    let ty = format!("json_type(doc, ?{p})");
    let val = format!("json_extract(doc, ?{p})");
    let exists = format!("{ty} IS NOT NULL");
    let sql = match c.lookup() {
        Lookup::Eq => equal(&ty, &val, c.value(), out).unwrap_or(exists),
        Lookup::Ne => match equal(&ty, &val, c.value(), out) {
            Some(eq) => format!("({exists} AND NOT ({eq}))"),
            None => exists,
        },
        Lookup::Gt | Lookup::Gte | Lookup::Lt | Lookup::Lte => {
            let op = match c.lookup() {
                Lookup::Gt => ">",
                Lookup::Gte => ">=",
                Lookup::Lt => "<",
                _ => "<=",
            };
            match scalar(c.value()) {
                Some((types, v)) => {
                    let n = bind(out, v);
                    format!("({ty} IN ({types}) AND {val} {op} ?{n})")
                }
                None => exists,
            }
        }
        Lookup::In => {
            let options = c.value().as_array().cloned().unwrap_or_default();
            let mut parts = Vec::new();
            for o in &options {
                match equal(&ty, &val, o, out) {
                    Some(eq) => parts.push(eq),
                    None => {
                        parts.clear();
                        parts.push(exists.clone());
                        break;
                    }
                }
            }
            if parts.is_empty() {
                format!("(0 AND {exists})") // names the path, so every parameter is used
            } else {
                format!("({})", parts.join(" OR "))
            }
        }
        Lookup::Contains => match c.value() {
            Value::String(s) => {
                let n = bind(out, Sql::Text(s.clone()));
                format!(
                    "(CASE {ty} WHEN 'text' THEN instr({val}, ?{n}) > 0 WHEN 'array' THEN 1 ELSE 0 END)"
                )
            }
            _ => format!("{ty} = 'array'"),
        },
        Lookup::StartsWith | Lookup::EndsWith => match c.value() {
            Value::String(s) if !s.is_empty() => {
                let n = bind(out, Sql::Text(s.clone()));
                let piece = if c.lookup() == Lookup::StartsWith {
                    format!("substr({val}, 1, length(?{n}))")
                } else {
                    format!("substr({val}, -length(?{n}))")
                };
                format!("({ty} = 'text' AND {piece} = ?{n})")
            }
            _ => format!("{ty} = 'text'"),
        },
        Lookup::IsNull => {
            if c.value() == &Value::Bool(true) {
                // Django: null or missing (json_type is SQL NULL for a missing path).
                format!("({ty} IS NULL OR {ty} = 'null')")
            } else {
                format!("({exists} AND {ty} != 'null')")
            }
        }
        // A lookup added later is checked in Rust only.
        #[allow(unreachable_patterns)]
        _ => exists,
    };
    out.sql.push_str(&sql);
}

/// `field = value` for scalar values; `None` when SQL cannot say it exactly.
fn equal(ty: &str, val: &str, value: &Value, out: &mut Pushdown) -> Option<String> {
    match value {
        Value::Null => Some(format!("{ty} = 'null'")),
        Value::Bool(true) => Some(format!("{ty} = 'true'")),
        Value::Bool(false) => Some(format!("{ty} = 'false'")),
        _ => {
            let (types, v) = scalar(value)?;
            let n = bind(out, v);
            Some(format!("({ty} IN ({types}) AND {val} = ?{n})"))
        }
    }
}

/// The JSON types to compare with and the bound value, for numbers and strings.
fn scalar(value: &Value) -> Option<(&'static str, Sql)> {
    match value {
        Value::String(s) => Some(("'text'", Sql::Text(s.clone()))),
        Value::Number(n) => {
            let v = match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Sql::Integer(i),
                (None, Some(f)) if n.as_u64().is_none() => Sql::Real(f),
                _ => return None, // beyond i64: compare in Rust only
            };
            Some(("'integer','real'", v))
        }
        _ => None,
    }
}

fn bind(out: &mut Pushdown, v: Sql) -> usize {
    out.params.push(v);
    out.params.len()
}
