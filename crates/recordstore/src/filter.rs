//! [`Filter`]: conditions on a record's fields, in the `field__lookup=value` form that users of
//! the Python ecosystem know.
//!
//! The semantics are the same on every backend; backends that push a filter down must give
//! exactly what [`Filter::matches`] gives.
//!
//! - A field is a dotted path (`meta.tag`) into nested objects.
//! - A condition on a field that the record does not have is false, whatever the lookup
//!   (`__ne` included): an unknown field matches nothing. The one exception is Django's rule
//!   for JSON keys: `__isnull=true` holds when the field is null *or missing* (a path through
//!   a non-object is missing too), and `__isnull=false` only when it is present and not null.
//! - Numbers compare by value (`1 == 1.0`). Ordering lookups (`gt`, `gte`, `lt`, `lte`) compare
//!   two numbers or two strings; any other pair is false.
//! - `contains` is a substring test on strings and a membership test on arrays.
//! - An unknown lookup, or a value of the wrong type for its lookup, is
//!   [`Error::InvalidInput`]: a filter is never silently widened.

use crate::document::{json_type_name, Document};
use crate::error::{Error, Result};
use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;

/// How a condition compares a field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lookup {
    /// `field=value`: equal.
    Eq,
    /// `field__ne=value`: present and not equal.
    Ne,
    /// `field__gt=value`: greater than.
    Gt,
    /// `field__gte=value`: greater than or equal.
    Gte,
    /// `field__lt=value`: less than.
    Lt,
    /// `field__lte=value`: less than or equal.
    Lte,
    /// `field__in=[a, b]`: equal to one of the values of an array.
    In,
    /// `field__contains=value`: substring of a string, or element of an array.
    Contains,
    /// `field__startswith=prefix` on strings.
    StartsWith,
    /// `field__endswith=suffix` on strings.
    EndsWith,
    /// `field__isnull=true|false`: as in Django, `true` when the field is JSON null or missing,
    /// `false` when it is present and not null.
    IsNull,
}

impl Lookup {
    /// Every lookup, in the order of the docs.
    pub const ALL: [Lookup; 11] = [
        Lookup::Eq,
        Lookup::Ne,
        Lookup::Gt,
        Lookup::Gte,
        Lookup::Lt,
        Lookup::Lte,
        Lookup::In,
        Lookup::Contains,
        Lookup::StartsWith,
        Lookup::EndsWith,
        Lookup::IsNull,
    ];

    /// The suffix after `__`, e.g. `gte`; `eq` for equality.
    pub fn name(self) -> &'static str {
        match self {
            Lookup::Eq => "eq",
            Lookup::Ne => "ne",
            Lookup::Gt => "gt",
            Lookup::Gte => "gte",
            Lookup::Lt => "lt",
            Lookup::Lte => "lte",
            Lookup::In => "in",
            Lookup::Contains => "contains",
            Lookup::StartsWith => "startswith",
            Lookup::EndsWith => "endswith",
            Lookup::IsNull => "isnull",
        }
    }

    /// The lookup named by a suffix, if any.
    pub fn from_name(name: &str) -> Option<Lookup> {
        Lookup::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// One condition: a field path, a lookup and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    path: Vec<String>,
    lookup: Lookup,
    value: Value,
}

impl Condition {
    /// A checked condition: the path must be valid and the value must fit the lookup.
    pub fn new(field: &str, lookup: Lookup, value: Value) -> Result<Self> {
        let path = parse_path(field)?;
        check_value(field, lookup, &value)?;
        Ok(Condition {
            path,
            lookup,
            value,
        })
    }

    /// The field path, one element per nesting level.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The lookup.
    pub fn lookup(&self) -> Lookup {
        self.lookup
    }

    /// The value compared against.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Whether a document satisfies this condition.
    pub fn matches(&self, doc: &Document) -> bool {
        match doc.lookup(&self.path) {
            // Django: a missing key "is null"; every other lookup on it is false.
            None => self.lookup == Lookup::IsNull && self.value == Value::Bool(true),
            Some(field) => eval(self.lookup, field, &self.value),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.path.join(".");
        match self.lookup {
            Lookup::Eq => write!(f, "{field}={}", self.value),
            l => write!(f, "{field}__{}={}", l.name(), self.value),
        }
    }
}

/// A conjunction of conditions. The empty filter matches every record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    conditions: Vec<Condition>,
}

impl Filter {
    /// The filter that matches everything.
    pub fn all() -> Self {
        Filter::default()
    }

    /// Adds a condition built from parts. Panics never; errors are returned.
    pub fn with(mut self, field: &str, lookup: Lookup, value: impl Into<Value>) -> Result<Self> {
        self.conditions
            .push(Condition::new(field, lookup, value.into())?);
        Ok(self)
    }

    /// Adds `field = value`.
    pub fn eq(self, field: &str, value: impl Into<Value>) -> Result<Self> {
        self.with(field, Lookup::Eq, value)
    }

    /// Parses one `field__lookup=value` string, as the CLI takes it. The value is parsed as
    /// JSON when it is valid JSON, else taken as a string.
    pub fn parse_arg(arg: &str) -> Result<Condition> {
        let (lhs, raw) = arg.split_once('=').ok_or_else(|| {
            Error::invalid(format!(
                "filter {arg:?} is not of the form field__lookup=value"
            ))
        })?;
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
        Filter::parse_pair(lhs, value)
    }

    /// Builds a condition from a `field__lookup` name and a value, as in Python's
    /// `filter(**kwargs)`.
    pub fn parse_pair(lhs: &str, value: Value) -> Result<Condition> {
        let (field, lookup) = match lhs.rsplit_once("__") {
            Some((field, name)) => {
                let lookup = Lookup::from_name(name).ok_or_else(|| {
                    let known: Vec<_> = Lookup::ALL.iter().map(|l| l.name()).collect();
                    Error::invalid(format!(
                        "unknown lookup {name:?} in {lhs:?}; known lookups: {}",
                        known.join(", ")
                    ))
                })?;
                (field, lookup)
            }
            None => (lhs, Lookup::Eq),
        };
        Condition::new(field, lookup, value)
    }

    /// Parses a list of `field__lookup=value` strings.
    pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Result<Self> {
        let conditions = args
            .iter()
            .map(|a| Filter::parse_arg(a.as_ref()))
            .collect::<Result<_>>()?;
        Ok(Filter { conditions })
    }

    /// Adds a parsed condition.
    pub fn and(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// The conditions, all of which must hold.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// True for the filter that matches everything.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// Whether a document satisfies every condition.
    pub fn matches(&self, doc: &Document) -> bool {
        self.conditions.iter().all(|c| c.matches(doc))
    }

    /// A cheap test on raw JSON text that rules out some records without decoding them.
    pub fn prefilter(&self) -> RawPrefilter {
        RawPrefilter::new(self, RawFormat::Json)
    }

    /// The same test for records stored as Python pickles (`codec=pickle`): it looks for the
    /// ASCII pieces a match must contain, without JSON's quotes, in the pickle's bytes.
    pub fn pickle_prefilter(&self) -> RawPrefilter {
        RawPrefilter::new(self, RawFormat::Pickle)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.conditions.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A cheap test on a record's raw JSON text that rules out records a [`Filter`] cannot match,
/// so that a scan builds [`Document`]s only for the rest ([`Filter::prefilter`]).
///
/// Sound, never exact: [`RawPrefilter::may_match`] is `false` only when no record with this
/// text can match. It looks for literal pieces a match must contain (the field's name, a
/// string value); text with any backslash escape may spell them differently, so it is always
/// "may match". The caller must still check that skipped text is a valid record.
///
/// [`Filter::pickle_prefilter`] makes one for pickled records: every str of a pickle is in its
/// bytes (UTF-8 in the binary opcodes, and printable ASCII verbatim even in protocol 0's text
/// opcode; a str used twice is stored once and referenced), so the pieces are the bare ASCII
/// strings, and pieces with other characters are not looked for.
#[derive(Debug)]
pub struct RawPrefilter {
    /// One entry per condition: at least one of these must occur (`In` has several).
    needles: Vec<Vec<memchr::memmem::Finder<'static>>>,
    /// JSON text may spell a piece with escapes; a pickle's ASCII pieces never are.
    escapes: bool,
}

/// What raw bytes a [`RawPrefilter`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RawFormat {
    Json,
    Pickle,
}

/// A string as it must appear in JSON text without escapes; `None` if it needs escapes.
fn literal(s: &str) -> Option<&str> {
    (!s.contains(['"', '\\']) && !s.chars().any(char::is_control)).then_some(s)
}

/// [`literal`], and for a pickle only printable ASCII.
fn piece(s: &str, pickle: bool) -> Option<&str> {
    literal(s).filter(|s| !pickle || s.is_ascii())
}

fn finder(text: String) -> memchr::memmem::Finder<'static> {
    memchr::memmem::Finder::new(text.as_bytes()).into_owned()
}

impl RawPrefilter {
    fn new(filter: &Filter, format: RawFormat) -> Self {
        let pickle = format == RawFormat::Pickle;
        // Pickle pieces: printable ASCII only, the one form every string opcode keeps verbatim.
        let mut needles = Vec::new();
        for c in &filter.conditions {
            let may_be_missing = c.lookup == Lookup::IsNull && c.value == Value::Bool(true);
            // Every other lookup needs the field, so its last name appears as a key.
            if !may_be_missing {
                if let Some(name) = c.path.last().and_then(|n| piece(n, pickle)) {
                    needles.push(vec![finder(if pickle {
                        name.to_string()
                    } else {
                        format!("\"{name}\"")
                    })]);
                }
            }
            let value_piece = |v: &Value, lookup: Lookup| -> Option<String> {
                let s = piece(v.as_str()?, pickle)?;
                match lookup {
                    Lookup::Eq
                    | Lookup::In
                    | Lookup::StartsWith
                    | Lookup::EndsWith
                    | Lookup::Contains
                        if pickle && !s.is_empty() =>
                    {
                        Some(s.to_string())
                    }
                    _ if pickle => None,
                    Lookup::Eq | Lookup::In => Some(format!("\"{s}\"")),
                    Lookup::StartsWith => Some(format!("\"{s}")),
                    Lookup::EndsWith => Some(format!("{s}\"")),
                    Lookup::Contains if !s.is_empty() => Some(s.to_string()),
                    _ => None,
                }
            };
            match c.lookup {
                Lookup::In => {
                    let options = c.value.as_array().map(Vec::as_slice).unwrap_or_default();
                    let pieces: Option<Vec<_>> =
                        options.iter().map(|o| value_piece(o, Lookup::Eq)).collect();
                    if let Some(pieces) = pieces.filter(|p| !p.is_empty()) {
                        needles.push(pieces.into_iter().map(finder).collect());
                    }
                }
                l => {
                    if let Some(piece) = value_piece(&c.value, l) {
                        needles.push(vec![finder(piece)]);
                    }
                }
            }
        }
        RawPrefilter {
            needles,
            escapes: !pickle,
        }
    }

    /// Whether a record whose raw bytes (JSON text, or a pickle for
    /// [`Filter::pickle_prefilter`]) are `raw` may match; `false` means it cannot.
    pub fn may_match(&self, raw: &[u8]) -> bool {
        if self.needles.is_empty() || (self.escapes && memchr::memchr(b'\\', raw).is_some()) {
            return true;
        }
        self.needles
            .iter()
            .all(|any| any.iter().any(|f| f.find(raw).is_some()))
    }

    /// Whether this prefilter can ever rule a record out.
    pub fn is_useful(&self) -> bool {
        !self.needles.is_empty()
    }
}

/// Field names are dotted paths of non-empty parts without quotes, backslashes or control
/// characters, so that every backend can address them safely.
fn parse_path(field: &str) -> Result<Vec<String>> {
    let bad = |why: &str| {
        Err(Error::invalid(format!(
            "filter field {field:?} is not valid: {why}"
        )))
    };
    if field.is_empty() {
        return bad("it is empty");
    }
    if field.len() > 256 {
        return bad("it is longer than 256 bytes");
    }
    let mut path = Vec::new();
    for part in field.split('.') {
        if part.is_empty() {
            return bad("it has an empty part");
        }
        if part
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return bad("quotes, backslashes and control characters are not allowed");
        }
        path.push(part.to_string());
    }
    Ok(path)
}

fn check_value(field: &str, lookup: Lookup, value: &Value) -> Result<()> {
    let wrong = |wanted: &str| {
        Err(Error::invalid(format!(
            "filter {field}__{} needs {wanted}, got {}",
            lookup.name(),
            json_type_name(value)
        )))
    };
    match lookup {
        Lookup::In if !value.is_array() => wrong("an array"),
        Lookup::IsNull if !value.is_boolean() => wrong("true or false"),
        Lookup::StartsWith | Lookup::EndsWith if !value.is_string() => wrong("a string"),
        Lookup::Gt | Lookup::Gte | Lookup::Lt | Lookup::Lte
            if !(value.is_number() || value.is_string()) =>
        {
            wrong("a number or a string")
        }
        _ => Ok(()),
    }
}

/// JSON equality where numbers compare by value.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn compare_numbers(x: &serde_json::Number, y: &serde_json::Number) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return Some(a.cmp(&b));
    }
    x.as_f64()?.partial_cmp(&y.as_f64()?)
}

fn order(field: &Value, value: &Value) -> Option<Ordering> {
    match (field, value) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => None,
    }
}

fn eval(lookup: Lookup, field: &Value, value: &Value) -> bool {
    match lookup {
        Lookup::Eq => json_eq(field, value),
        Lookup::Ne => !json_eq(field, value),
        Lookup::Gt => order(field, value) == Some(Ordering::Greater),
        Lookup::Gte => matches!(
            order(field, value),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        Lookup::Lt => order(field, value) == Some(Ordering::Less),
        Lookup::Lte => matches!(order(field, value), Some(Ordering::Less | Ordering::Equal)),
        Lookup::In => value
            .as_array()
            .is_some_and(|options| options.iter().any(|o| json_eq(field, o))),
        Lookup::Contains => match (field, value) {
            (Value::String(s), Value::String(sub)) => s.contains(sub.as_str()),
            (Value::Array(items), v) => items.iter().any(|i| json_eq(i, v)),
            _ => false,
        },
        Lookup::StartsWith => match (field, value) {
            (Value::String(s), Value::String(p)) => s.starts_with(p.as_str()),
            _ => false,
        },
        Lookup::EndsWith => match (field, value) {
            (Value::String(s), Value::String(p)) => s.ends_with(p.as_str()),
            _ => false,
        },
        Lookup::IsNull => field.is_null() == (value == &Value::Bool(true)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Document {
        Document::from_value(v).unwrap()
    }

    fn m(arg: &str, v: Value) -> bool {
        Filter::parse_args(&[arg]).unwrap().matches(&doc(v))
    }

    #[test]
    fn lookups() {
        let d = json!({"n": 5, "s": "hello", "tags": ["a", "b"], "z": null, "meta": {"tag": "x"}});
        assert!(m("n=5", d.clone()));
        assert!(m("n=5.0", d.clone()));
        assert!(!m("n=\"5\"", d.clone()));
        assert!(m("n__ne=4", d.clone()));
        assert!(m("n__gt=4", d.clone()) && !m("n__gt=5", d.clone()));
        assert!(m("n__gte=5", d.clone()) && m("n__lte=5", d.clone()));
        assert!(m("n__lt=5.5", d.clone()));
        assert!(m("n__in=[1,5]", d.clone()) && !m("n__in=[1]", d.clone()));
        assert!(m("s__contains=ell", d.clone()));
        assert!(m("tags__contains=a", d.clone()) && !m("tags__contains=c", d.clone()));
        assert!(m("s__startswith=he", d.clone()) && m("s__endswith=lo", d.clone()));
        assert!(m("z__isnull=true", d.clone()) && m("s__isnull=false", d.clone()));
        assert!(m("meta.tag=x", d.clone()));
        assert!(m("s__gt=a", d.clone()) && !m("s__gt=3", d.clone()));
    }

    #[test]
    fn unknown_fields_match_nothing() {
        let d = json!({"n": 5});
        for arg in [
            "x=1",
            "x__ne=1",
            "x__isnull=false",
            "n.deeper=1",
            "n.deeper__isnull=false",
        ] {
            assert!(!m(arg, d.clone()), "{arg}");
        }
    }

    /// Filters that exercise every raw prefilter rule (quotes, unicode, nesting, negation):
    /// the JSON and the pickle prefilter tests both run them.
    pub(crate) const PREFILTER_SAMPLES: [&str; 14] = [
        "status=done",
        "status__in=[\"done\",\"x\"]",
        "status__startswith=do",
        "status__endswith=ne",
        "status__contains=un",
        "tags__contains=done",
        "n__gte=1",
        "n__isnull=true",
        "n__isnull=false",
        "meta.tag=x",
        "status__ne=done",
        "nope=1",
        "status=d\u{e9}j\u{e0}",
        "status__contains=\"",
    ];

    #[test]
    fn the_prefilter_never_rules_out_a_match() {
        let records = [
            json!({"status": "done", "n": 5, "tags": ["a", "done"], "meta": {"tag": "x"}}),
            json!({"status": "running", "payload": "xxxx"}),
            json!({"status": "do\"ne", "n": null}),
            json!({"status": "d\u{e9}j\u{e0}"}),
            json!({"other": 1}),
        ];
        let filters = PREFILTER_SAMPLES;
        let mut ruled_out = 0;
        for f in filters {
            let f = Filter::parse_args(&[f]).unwrap();
            let pre = f.prefilter();
            for r in &records {
                let text = r.to_string();
                if !pre.may_match(text.as_bytes()) {
                    ruled_out += 1;
                    assert!(!f.matches(&doc(r.clone())), "{f} ruled out {text}");
                }
            }
        }
        assert!(
            ruled_out > 10,
            "the prefilter rules out almost nothing: {ruled_out}"
        );
        // Escapes can spell anything: text with a backslash always may match.
        let pre = Filter::parse_args(&["status=done"]).unwrap().prefilter();
        assert!(pre.may_match(br#"{"status":"\u0064one"}"#));
        assert!(!pre.may_match(br#"{"status":"running"}"#));
    }

    #[test]
    fn isnull_follows_django() {
        // true: null or missing (also through a non-object); false: present and not null.
        let null = json!({"v": null});
        let one = json!({"v": 1, "n": 5});
        let missing = json!({"w": 1});
        assert!(m("v__isnull=true", null.clone()) && !m("v__isnull=false", null));
        assert!(!m("v__isnull=true", one.clone()) && m("v__isnull=false", one.clone()));
        assert!(m("v__isnull=true", missing.clone()) && !m("v__isnull=false", missing));
        assert!(m("n.deeper__isnull=true", one));
    }

    #[test]
    fn bad_filters_are_invalid_input() {
        for arg in [
            "n__bogus=1",
            "noequals",
            "n__in=1",
            "n__isnull=maybe",
            "n__isnull=1",
            "n__startswith=1",
            "=1",
            "a..b=1",
            "a\"b=1",
            "n__gt=[1]",
        ] {
            let e = Filter::parse_args(&[arg]).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{arg}: {e}");
        }
    }

    #[test]
    fn values_that_are_not_json_are_strings() {
        let c = Filter::parse_arg("status=done").unwrap();
        assert_eq!(c.value(), &json!("done"));
        let c = Filter::parse_arg("n=10").unwrap();
        assert_eq!(c.value(), &json!(10));
    }
}
