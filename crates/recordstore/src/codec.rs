//! [`Codec`]: how a backend turns a [`Document`] into stored bytes and back.
//!
//! - [`Codec::Json`] (the default): compact UTF-8 JSON text, what every backend has always
//!   stored.
//! - [`Codec::Pickle`]: a Python pickle of a dict, what event-pipeline's `RedisStoreBackend`
//!   stores (`pickle.dumps(record.__getstate__(), pickle.HIGHEST_PROTOCOL)`), so that the peer
//!   and recordstore can share one live Redis. Redis stores take it (`?codec=pickle`); the
//!   other backends store JSON.
//!
//! # What a pickle may hold
//!
//! Only plain data, the types that mean the same in JSON:
//!
//! | Python | JSON (a [`Document`]) | back to Python |
//! |---|---|---|
//! | `dict` with `str` keys | object | `dict` |
//! | `list` | array | `list` |
//! | `tuple` | array | `list` (a tuple comes back as a list) |
//! | `str` | string | `str` |
//! | `int` from -2**63 to 2**63-1 | number | `int` |
//! | `float`, finite | number | `float` |
//! | `bool` | `true`/`false` | `bool` |
//! | `None` | `null` | `None` |
//!
//! Anything else is [`Error::Corrupt`] naming the schema and key, and
//! saying what was found: a class instance, a `datetime`, a `set` or `frozenset`, `bytes`, a
//! dict key that is not a `str`, NaN or an infinity, an `int` beyond 64 bits. Nothing is ever
//! silently changed (a pickled class instance is not read as its attribute dict). Writing a
//! number above 2**63-1 with the pickle codec is [`Error::InvalidInput`](crate::Error), since
//! it could not be read back.
//!
//! Pickles are read in every protocol (0 to 5) and written in protocol 3, which every Python 3
//! reads; `pickle.loads` of what recordstore writes gives the same dict as the record.
//!
//! Decoding uses the `serde-pickle` crate, straight into the document's map. Because that crate
//! reads a pickled object as its bare state (and a set as a list), every pickle is first
//! scanned opcode by opcode: the scan decodes no value, it only refuses the opcodes that build
//! objects, globals and sets, and tells a filter's scan when a record it rules out needs no
//! decoding at all to be known valid.

use crate::document::Document;
use crate::error::{Error, Result};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Number, Value};
use std::fmt;

/// How records are stored as bytes. See the [module docs](self).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// Compact UTF-8 JSON text (the default).
    #[default]
    Json,
    /// A Python pickle of a dict with str keys, as event-pipeline's Redis store writes.
    Pickle,
}

/// The names [`Codec::from_name`] knows, for messages.
pub const CODEC_NAMES: &[&str] = &["json", "pickle"];

/// What every pickle error says plain data is.
const PLAIN: &str = "plain data is a dict with str keys, list, tuple, str, int, float, bool, None";

impl Codec {
    /// The codec named `name` (`json` or `pickle`, any case). An unknown name is
    /// [`Error::Config`] for `backend`, naming the known codecs.
    pub fn from_name(name: &str, backend: &'static str) -> Result<Codec> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Codec::Json),
            "pickle" => Ok(Codec::Pickle),
            _ => Err(Error::Config {
                backend,
                message: format!(
                    "unknown codec {name:?}; known codecs: {}",
                    CODEC_NAMES.join(", ")
                ),
            }),
        }
    }

    /// The codec's name, as [`Codec::from_name`] takes it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Json => "json",
            Codec::Pickle => "pickle",
        }
    }

    /// The stored bytes of a record. With [`Codec::Pickle`], a number above 2**63-1 is
    /// [`Error::InvalidInput`]: no reader could take it back as a JSON number.
    pub fn encode(self, record: &Document) -> Result<Vec<u8>> {
        match self {
            Codec::Json => Ok(record.to_json().into_bytes()),
            Codec::Pickle => encode_pickle(record),
        }
    }

    /// Decodes stored bytes into a record. Anything but a record in this codec (for pickle:
    /// anything but plain data, see the [module docs](self)) is [`Error::Corrupt`] naming
    /// `schema` and `key`.
    pub fn decode(self, bytes: &[u8], schema: &str, key: &str) -> Result<Document> {
        match self {
            Codec::Json => Document::decode_stored(bytes, schema, key),
            Codec::Pickle => {
                scan(bytes).map_err(|why| not_plain(schema, key, &why))?;
                decode_pickle(bytes, schema, key)
            }
        }
    }

    /// Checks that stored bytes are a record without building it where it can: what a scan
    /// does with a record its filter rules out. It accepts exactly what [`Codec::decode`]
    /// accepts, and fails with the same error.
    pub fn check(self, bytes: &[u8], schema: &str, key: &str) -> Result<()> {
        match self {
            Codec::Json => Document::check_stored(bytes, schema, key),
            Codec::Pickle => match scan(bytes) {
                Ok(Scan::Plain) => Ok(()),
                Ok(Scan::Unsure) => decode_pickle(bytes, schema, key).map(|_| ()),
                Err(why) => Err(not_plain(schema, key, &why)),
            },
        }
    }

    /// The raw-bytes prefilter of `filter` for this codec.
    pub fn prefilter(self, filter: &crate::Filter) -> crate::filter::RawPrefilter {
        match self {
            Codec::Json => filter.prefilter(),
            Codec::Pickle => filter.pickle_prefilter(),
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Codec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Codec> {
        Codec::from_name(s, "recordstore")
    }
}

fn not_plain(schema: &str, key: &str, why: &str) -> Error {
    Error::corrupt(
        schema,
        key,
        format!("codec=pickle: the pickle holds {why}, which is not plain data ({PLAIN})"),
    )
}

// ---- encoding ----

fn encode_pickle(record: &Document) -> Result<Vec<u8>> {
    // About the JSON length: str headers are 5 bytes where JSON has quotes and a colon.
    let mut out = Vec::with_capacity(64 + 8 * record.len() + record.values().len() * 16);
    serde_pickle::to_writer(&mut out, &PlainMap(record), serde_pickle::SerOptions::new()).map_err(
        |e| {
            Error::invalid(format!(
                "the record cannot be stored with codec=pickle: {}",
                pickle_message(&e)
            ))
        },
    )?;
    Ok(out)
}

/// A map serialized as serde_json would, but refusing integers that pickle would write and no
/// reader could take back (above `i64::MAX`).
struct PlainMap<'a>(&'a Map<String, Value>);
struct PlainValue<'a>(&'a Value);

impl Serialize for PlainMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, &PlainValue(v))?;
        }
        map.end()
    }
}

impl Serialize for PlainValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    s.serialize_i64(i)
                } else if let Some(f) = n.as_f64().filter(|_| !n.is_u64()) {
                    s.serialize_f64(f)
                } else {
                    Err(ser::Error::custom(format_args!(
                        "the number {n} is above 2**63-1, the largest int a pickle can carry \
                         back to a JSON number"
                    )))
                }
            }
            Value::String(t) => s.serialize_str(t),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&PlainValue(item))?;
                }
                seq.end()
            }
            Value::Object(map) => PlainMap(map).serialize(s),
        }
    }
}

// ---- decoding ----

/// serde-pickle's message without its "decoding error: " frame, which says nothing here.
fn pickle_message(e: &serde_pickle::Error) -> String {
    match e {
        serde_pickle::Error::Syntax(serde_pickle::ErrorCode::Structure(s)) => s.clone(),
        other => other.to_string(),
    }
}

fn decode_pickle(bytes: &[u8], schema: &str, key: &str) -> Result<Document> {
    let map = serde_pickle::from_slice::<Record>(bytes, serde_pickle::DeOptions::new())
        .map_err(|e| Error::corrupt(schema, key, format!("codec=pickle: {}", pickle_message(&e))))?
        .0;
    Ok(Document::new(map))
}

/// The deepest nesting a pickled record may have, as serde_json allows.
const MAX_DEPTH: usize = 128;

/// A whole record: a dict with str keys.
struct Record(Map<String, Value>);

impl<'de> de::Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ValueSeed { depth: 0 })
            .and_then(|v| match v {
                Value::Object(map) => Ok(Record(map)),
                other => Err(de::Error::custom(format_args!(
                    "the pickle holds {}, not a dict",
                    python_type_name(&other)
                ))),
            })
    }
}

fn python_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "None",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a str",
        Value::Array(_) => "a list or tuple",
        Value::Object(_) => "a dict",
    }
}

/// One plain value, at a nesting depth.
#[derive(Clone, Copy)]
struct ValueSeed {
    depth: usize,
}

fn refuse<E: de::Error>(what: &str) -> E {
    E::custom(format_args!(
        "the pickle holds {what}, which is not plain data ({PLAIN})"
    ))
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PLAIN)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> std::result::Result<Value, E> {
        Ok(Value::Number(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> std::result::Result<Value, E> {
        Ok(Value::Number(u.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> std::result::Result<Value, E> {
        Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| refuse("a float that is NaN or infinite"))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> std::result::Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> std::result::Result<Value, E> {
        Err(refuse("bytes"))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(inner)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

impl ValueSeed {
    fn deeper<E: de::Error>(self) -> std::result::Result<ValueSeed, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "the pickle nests deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(ValueSeed {
            depth: self.depth + 1,
        })
    }
}

/// A dict key, which must be a str.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a str dict key")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<String, E> {
        Ok(s.to_string())
    }
    fn visit_string<E: de::Error>(self, s: String) -> std::result::Result<String, E> {
        Ok(s)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<String, E> {
        Err(refuse("a dict key that is a bool, not a str"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<String, E> {
        Err(refuse("a dict key that is an int, not a str"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<String, E> {
        Err(refuse("a dict key that is an int, not a str"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<String, E> {
        Err(refuse("a dict key that is a float, not a str"))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> std::result::Result<String, E> {
        Err(refuse("a dict key that is bytes, not a str"))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<String, E> {
        Err(refuse("a dict key that is None, not a str"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> std::result::Result<String, A::Error> {
        Err(refuse("a dict key that is a tuple, not a str"))
    }
}

// ---- the opcode scan ----

/// What [`scan`] found in a pickle with nothing forbidden in it.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// A dict of plain data that serde-pickle decodes, for sure: a filter's scan may skip it
    /// without decoding it.
    Plain,
    /// Nothing forbidden, but only the full decode can judge the rest (protocol 0's text
    /// opcodes, a container used twice, a malformed stream, …).
    Unsure,
}

/// What the type-level stack of [`scan`] holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Str,
    /// None, a bool, an int that fits i64, a finite float.
    Scalar,
    Dict,
    List,
    Tuple,
}

/// How many items, marks and memo slots the type-level tracking follows; a pickle that needs
/// more is [`Scan::Unsure`] (and still scanned for forbidden opcodes).
const STACK: usize = 256;
const MARKS: usize = 32;
const MEMO: usize = 256;

/// The type-level state of a scan: the kinds on the stack, the marks, the memo.
struct Shape {
    stack: [Kind; STACK],
    len: usize,
    marks: [usize; MARKS],
    nmarks: usize,
    memo: [Option<Kind>; MEMO],
    memo_len: usize,
}

impl Shape {
    fn push(&mut self, k: Kind) -> Option<()> {
        *self.stack.get_mut(self.len)? = k;
        self.len += 1;
        Some(())
    }
    /// The bottom of the items above the topmost mark (0 without a mark).
    fn floor(&self) -> usize {
        if self.nmarks == 0 {
            0
        } else {
            self.marks[self.nmarks - 1]
        }
    }
    fn pop(&mut self) -> Option<Kind> {
        if self.len <= self.floor() {
            return None;
        }
        self.len -= 1;
        Some(self.stack[self.len])
    }
    fn top(&self) -> Option<Kind> {
        (self.len > self.floor()).then(|| self.stack[self.len - 1])
    }
    fn mark(&mut self) -> Option<()> {
        *self.marks.get_mut(self.nmarks)? = self.len;
        self.nmarks += 1;
        Some(())
    }
    /// Pops everything above the topmost mark and the mark itself: the items' range.
    fn pop_mark(&mut self) -> Option<std::ops::Range<usize>> {
        self.nmarks = self.nmarks.checked_sub(1)?;
        let from = self.marks[self.nmarks];
        let range = from..self.len;
        self.len = from;
        Some(range)
    }
    /// Pops the items above the topmost mark as dict items: pairs, with str keys. `Ok(false)`
    /// where the tracking cannot follow (no mark, an odd count); `Err` for a key of another
    /// kind.
    fn pop_dict_items(&mut self) -> std::result::Result<bool, String> {
        let Some(items) = self.pop_mark() else {
            return Ok(false);
        };
        if items.len() % 2 != 0 {
            return Ok(false);
        }
        for i in items.step_by(2) {
            check_key(self.stack[i])?;
        }
        Ok(true)
    }
    fn memoize(&mut self, id: usize) -> Option<()> {
        let k = self.top()?;
        let slot = self.memo.get_mut(id)?;
        if slot.is_some() {
            // A slot written twice changes what earlier references to it mean.
            return None;
        }
        self.memo_len += 1;
        *slot = Some(k);
        Some(())
    }
    fn get(&mut self, id: usize) -> Option<()> {
        match (*self.memo.get(id)?)? {
            // A container used twice may be shared or recursive: the full decode judges.
            Kind::Dict | Kind::List | Kind::Tuple => None,
            k => self.push(k),
        }
    }
}

fn check_key(k: Kind) -> std::result::Result<(), String> {
    match k {
        Kind::Str => Ok(()),
        Kind::Scalar => Err("a dict key that is not a str".into()),
        Kind::Tuple => Err("a dict key that is a tuple, not a str".into()),
        Kind::Dict | Kind::List => Err("a dict key that is not a str".into()),
    }
}

/// Whether a little-endian two's-complement integer fits an i64.
fn fits_i64(le: &[u8]) -> bool {
    if le.len() <= 8 {
        return true;
    }
    let sign = if le[7] & 0x80 != 0 { 0xff } else { 0 };
    le[8..].iter().all(|b| *b == sign)
}

/// What a global names, for the message.
fn global_name(module: &[u8], name: &[u8]) -> String {
    let (m, n) = (
        String::from_utf8_lossy(module),
        String::from_utf8_lossy(name),
    );
    match (m.as_ref(), n.as_ref()) {
        ("builtins" | "__builtin__", "set") => "a set".into(),
        ("builtins" | "__builtin__", "frozenset") => "a frozenset".into(),
        ("builtins" | "__builtin__", "bytearray") | ("_codecs", "encode") => "bytes".into(),
        ("datetime", t @ ("datetime" | "date" | "time" | "timedelta" | "timezone")) => {
            format!("a datetime.{t}")
        }
        _ => format!("an object of {m}.{n} (a class instance or another Python object)"),
    }
}

/// Walks a pickle's opcodes. `Err` names something that is not plain data: an opcode that
/// builds an object, names a global or makes a set; bytes; a float that is NaN or infinite;
/// an int beyond 64 bits; a dict key that is not a str. Otherwise it tells whether the pickle
/// is certainly a plain dict that serde-pickle decodes ([`Scan::Plain`]).
///
/// It decodes nothing: the values come from serde-pickle. Where the scan cannot follow the
/// opcodes (an unknown opcode, a cut-off argument) it answers [`Scan::Unsure`], and
/// serde-pickle, which cannot read them either, reports the error.
fn scan(b: &[u8]) -> std::result::Result<Scan, String> {
    let mut shape = Shape {
        stack: [Kind::Scalar; STACK],
        len: 0,
        marks: [0; MARKS],
        nmarks: 0,
        memo: [None; MEMO],
        memo_len: 0,
    };
    // Whether the type-level tracking still holds; once it does not, only forbidden opcodes
    // are looked for.
    let mut sure = true;
    // The last two strs pushed, and how many of the latest pushes were strs in a row, for the
    // name of a STACK_GLOBAL.
    let mut strs: [&[u8]; 2] = [b"", b""];
    let mut nstrs = 0usize;
    let mut i = 0;
    macro_rules! track {
        ($e:expr) => {
            if sure && ($e).is_none() {
                sure = false;
            }
        };
    }
    macro_rules! take {
        ($n:expr) => {{
            let n: usize = $n;
            match i.checked_add(n).filter(|end| *end <= b.len()) {
                Some(end) => {
                    let s = &b[i..end];
                    i = end;
                    s
                }
                None => return Ok(Scan::Unsure),
            }
        }};
    }
    macro_rules! line {
        () => {{
            match memchr::memchr(b'\n', &b[i..]) {
                Some(n) => {
                    let s = &b[i..i + n];
                    i += n + 1;
                    s
                }
                None => return Ok(Scan::Unsure),
            }
        }};
    }
    macro_rules! le {
        ($n:expr) => {{
            let s = take!($n);
            let mut v: u64 = 0;
            for (k, byte) in s.iter().enumerate() {
                v |= (*byte as u64) << (8 * k);
            }
            v
        }};
    }
    loop {
        let Some(&op) = b.get(i) else {
            return Ok(Scan::Unsure);
        };
        i += 1;
        if !matches!(
            op,
            0x8c | b'X' | 0x8d | b'V' | 0x94 | b'q' | b'r' | b'p' | 0x95 | 0x80 | 0x93
        ) {
            nstrs = 0;
        }
        match op {
            0x80 => {
                take!(1); // PROTO
            }
            0x95 => {
                take!(8); // FRAME
            }
            b'.' => {
                // STOP: one dict left, nothing after it.
                let plain = sure
                    && i == b.len()
                    && shape.nmarks == 0
                    && shape.len == 1
                    && shape.stack[0] == Kind::Dict;
                return Ok(if plain { Scan::Plain } else { Scan::Unsure });
            }
            b'(' => track!(shape.mark()),
            b'0' | b'1' | b'2' => sure = false, // POP, POP_MARK, DUP
            // The memo.
            b'p' => {
                line!(); // PUT: protocol 0
                sure = false;
            }
            b'g' => {
                line!(); // GET
                sure = false;
            }
            b'q' => {
                let id = le!(1) as usize; // BINPUT
                track!(shape.memoize(id));
            }
            b'r' => {
                let id = le!(4) as usize; // LONG_BINPUT
                track!(shape.memoize(id));
            }
            0x94 => {
                let id = shape.memo_len; // MEMOIZE
                track!(shape.memoize(id));
            }
            b'h' => {
                let id = le!(1) as usize; // BINGET
                track!(shape.get(id));
            }
            b'j' => {
                let id = le!(4) as usize; // LONG_BINGET
                track!(shape.get(id));
            }
            // Scalars.
            b'N' | 0x88 | 0x89 => track!(shape.push(Kind::Scalar)), // None, True, False
            b'K' => {
                take!(1); // BININT1
                track!(shape.push(Kind::Scalar));
            }
            b'M' => {
                take!(2); // BININT2
                track!(shape.push(Kind::Scalar));
            }
            b'J' => {
                take!(4); // BININT
                track!(shape.push(Kind::Scalar));
            }
            0x8a | 0x8b => {
                // LONG1, LONG4
                let n = if op == 0x8a { le!(1) } else { le!(4) };
                if n > i32::MAX as u64 {
                    return Ok(Scan::Unsure); // a negative LONG4 length
                }
                if !fits_i64(take!(n as usize)) {
                    return Err("an int too big for JSON (beyond 64 bits)".into());
                }
                track!(shape.push(Kind::Scalar));
            }
            b'G' => {
                // BINFLOAT, big-endian
                let s = take!(8);
                let f = f64::from_be_bytes(s.try_into().expect("8 bytes"));
                if !f.is_finite() {
                    return Err("a float that is NaN or infinite".into());
                }
                track!(shape.push(Kind::Scalar));
            }
            b'I' | b'L' | b'F' => {
                line!(); // INT, LONG, FLOAT as text: protocol 0
                sure = false;
            }
            // Strings.
            0x8c | b'X' | 0x8d => {
                // SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
                let n = match op {
                    0x8c => le!(1),
                    b'X' => le!(4),
                    _ => le!(8),
                };
                let s = take!(usize::try_from(n).unwrap_or(usize::MAX));
                if std::str::from_utf8(s).is_err() {
                    sure = false; // serde-pickle reports it
                }
                strs = [strs[1], s];
                nstrs += 1;
                track!(shape.push(Kind::Str));
            }
            b'V' => {
                let s = line!(); // UNICODE, raw-unicode-escape: protocol 0
                strs = [strs[1], s];
                nstrs += 1;
                sure = false;
            }
            b'C' | b'B' | 0x8e | 0x96 | b'U' | b'T' => {
                return Err("bytes".into()); // (SHORT_)BINBYTES(8), BYTEARRAY8, py2 strs
            }
            b'S' => return Err("bytes".into()), // STRING: a py2 str, read as bytes
            // Containers.
            b')' => track!(shape.push(Kind::Tuple)), // EMPTY_TUPLE
            0x85..=0x87 => {
                // TUPLE1..3
                let n = (op - 0x84) as usize;
                track!((0..n).try_for_each(|_| shape.pop().map(|_| ())));
                track!(shape.push(Kind::Tuple));
            }
            b't' => {
                track!(shape.pop_mark()); // TUPLE
                track!(shape.push(Kind::Tuple));
            }
            b']' => track!(shape.push(Kind::List)), // EMPTY_LIST
            b'l' => {
                track!(shape.pop_mark()); // LIST
                track!(shape.push(Kind::List));
            }
            b'a' => {
                // APPEND
                track!(shape.pop());
                track!(shape.top().filter(|k| *k == Kind::List));
            }
            b'e' => {
                // APPENDS
                track!(shape.pop_mark());
                track!(shape.top().filter(|k| *k == Kind::List));
            }
            b'}' => track!(shape.push(Kind::Dict)), // EMPTY_DICT
            b'd' => {
                // DICT
                if sure && !shape.pop_dict_items()? {
                    sure = false;
                }
                track!(shape.push(Kind::Dict));
            }
            b's' => {
                // SETITEM
                if sure {
                    let value = shape.pop();
                    let key = shape.pop();
                    match (key, value) {
                        (Some(k), Some(_)) => check_key(k)?,
                        _ => sure = false,
                    }
                }
                track!(shape.top().filter(|k| *k == Kind::Dict));
            }
            b'u' => {
                // SETITEMS
                if sure && !shape.pop_dict_items()? {
                    sure = false;
                }
                track!(shape.top().filter(|k| *k == Kind::Dict));
            }
            // Everything that is not plain data.
            0x8f | 0x90 => return Err("a set".into()), // EMPTY_SET, ADDITEMS
            0x91 => return Err("a frozenset".into()),  // FROZENSET
            b'c' => {
                let module = line!(); // GLOBAL
                let name = b[i..].split(|c| *c == b'\n').next().unwrap_or_default();
                return Err(global_name(module, name));
            }
            0x93 => {
                // STACK_GLOBAL: the module and name are the two strs just pushed, unless they
                // came from the memo.
                return Err(if nstrs >= 2 {
                    global_name(strs[0], strs[1])
                } else {
                    "an object (a class instance or another Python object)".into()
                });
            }
            b'i' | b'o' | 0x81 | 0x92 | b'R' | b'b' => {
                return Err("a class instance (or another object a callable builds)".into());
            }
            b'P' | b'Q' => return Err("a persistent id".into()),
            0x82..=0x84 => return Err("an object from the extension registry".into()),
            0x97 | 0x98 => return Err("an out-of-band buffer".into()),
            // Not a pickle opcode: serde-pickle reports it.
            _ => return Ok(Scan::Unsure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Document {
        Document::from_value(v).unwrap()
    }

    /// `pickle.dumps(x, 5)` by CPython 3.11, for records the peer writes.
    fn py(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    /// {"id": "r1", "status": "done", "n": 3, "f": 1.5, "ok": True, "none": None,
    ///  "tags": ["a", "b"], "t": (1, "x"), "meta": {"k": "v"}, "big": 2**40, "neg": -7,
    ///  "s2": "done"} (the second "done" is the same object: a memo reference)
    const PY_PLAIN: &str = include_str!("codec_fixtures/plain.hex");

    #[test]
    fn names() {
        assert_eq!(Codec::from_name("PICKLE", "redis").unwrap(), Codec::Pickle);
        assert_eq!(Codec::from_name("json", "redis").unwrap(), Codec::Json);
        let e = Codec::from_name("xml", "redis").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.to_string().contains("json, pickle"), "{e}");
        assert_eq!(Codec::default(), Codec::Json);
        assert_eq!("pickle".parse::<Codec>().unwrap().to_string(), "pickle");
    }

    #[test]
    fn our_pickles_round_trip() {
        let records = [
            json!({}),
            json!({"id": "r1", "status": "running", "attempts": 4, "payload": "x".repeat(150)}),
            json!({"n": -1, "big": 1u64 << 40, "min": i64::MIN, "max": i64::MAX, "f": -0.25,
                   "e": 1e300, "b": true, "z": null, "s": "d\u{e9}j\u{e0} \u{1f600}",
                   "l": [1, [2, {"x": []}], "s"], "o": {"deep": {"er": {}}}, "": "empty key"}),
            json!({"long": "y".repeat(70_000), "many": (0..2500).collect::<Vec<_>>()}),
        ];
        for (i, r) in records.into_iter().enumerate() {
            let d = doc(r);
            let bytes = Codec::Pickle.encode(&d).unwrap();
            // The last one has a list of 2500 items, more than the scan follows.
            let want = if i == 3 { Scan::Unsure } else { Scan::Plain };
            assert_eq!(scan(&bytes), Ok(want), "record {i}");
            assert!(
                Codec::Pickle.decode(&bytes, "s", "k").unwrap() == d,
                "record {i}"
            );
            Codec::Pickle.check(&bytes, "s", "k").unwrap();
            let j = Codec::Json.encode(&d).unwrap();
            assert_eq!(Codec::Json.decode(&j, "s", "k").unwrap(), d);
        }
        // 100 fields the scan follows; 2500 (SETITEMS of 1000 pairs) it leaves to the decode.
        for (fields, want) in [(100, Scan::Plain), (2500, Scan::Unsure)] {
            let many: Map<String, Value> =
                (0..fields).map(|i| (format!("k{i}"), json!(i))).collect();
            let d = Document::new(many);
            let bytes = Codec::Pickle.encode(&d).unwrap();
            assert_eq!(scan(&bytes), Ok(want), "{fields} fields");
            assert!(Codec::Pickle.decode(&bytes, "s", "k").unwrap() == d);
            Codec::Pickle.check(&bytes, "s", "k").unwrap();
        }
    }

    #[test]
    fn numbers_a_pickle_cannot_carry_back_are_refused_on_write() {
        let d = doc(json!({"n": u64::MAX}));
        let e = Codec::Pickle.encode(&d).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("2**63-1"), "{e}");
        assert!(Codec::Json.encode(&d).is_ok());
    }

    #[test]
    fn the_peers_pickles_decode() {
        let bytes = py(PY_PLAIN.trim());
        assert_eq!(scan(&bytes), Ok(Scan::Plain));
        let d = Codec::Pickle.decode(&bytes, "s", "k").unwrap();
        assert_eq!(
            d.clone().into_value(),
            json!({"id": "r1", "status": "done", "n": 3, "f": 1.5, "ok": true, "none": null,
                   "tags": ["a", "b"], "t": [1, "x"], "meta": {"k": "v"}, "big": 1u64 << 40,
                   "neg": -7, "s2": "done"})
        );
        Codec::Pickle.check(&bytes, "s", "k").unwrap();
    }

    /// Each fixture is `pickle.dumps(x, protocol)` by CPython 3.11; the name says what x is.
    /// Every one must fail to decode and to check, with the same error naming the key.
    #[test]
    fn what_is_not_plain_data_is_refused_naming_the_key() {
        let fixtures = include_str!("codec_fixtures/refused.txt");
        let mut n = 0;
        for line in fixtures.lines().filter(|l| !l.trim().is_empty()) {
            let (want, hex) = line.split_once('|').unwrap();
            let hex = hex.trim();
            let bytes = py(hex);
            let e = Codec::Pickle.decode(&bytes, "tasks", "t-9").unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Corrupt, "{line}: {e}");
            let text = e.to_string();
            assert!(
                text.contains("\"tasks\"") && text.contains("\"t-9\""),
                "{text}"
            );
            assert!(text.contains(want), "{line}: {text}");
            let c = Codec::Pickle.check(&bytes, "tasks", "t-9").unwrap_err();
            assert_eq!(c.to_string(), text, "{line}");
            n += 1;
        }
        assert!(n >= 30, "only {n} fixtures");
    }

    /// The same plain dict pickled by CPython in every protocol, 0 to 5.
    #[test]
    fn every_protocol_decodes() {
        let want = Codec::Pickle
            .decode(&py(PY_PLAIN.trim()), "s", "k")
            .unwrap();
        let fixtures = include_str!("codec_fixtures/plain_protocols.txt");
        let lines: Vec<&str> = fixtures.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines.len(), 6);
        for (protocol, hex) in lines.iter().enumerate() {
            let bytes = py(hex.trim());
            let got = Codec::Pickle.decode(&bytes, "s", "k");
            assert_eq!(
                got.as_ref().ok(),
                Some(&want),
                "protocol {protocol}: {got:?}"
            );
            Codec::Pickle.check(&bytes, "s", "k").unwrap();
        }
    }

    #[test]
    fn broken_pickles_are_corrupt() {
        let good = Codec::Pickle
            .encode(&doc(json!({"a": "b", "n": [1, 2]})))
            .unwrap();
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            b"not a pickle".to_vec(),
            good[..good.len() - 1].to_vec(),
            [good.as_slice(), b"x"].concat(),
            Codec::Json.encode(&doc(json!({"a": 1}))).unwrap(),
        ];
        // A list at the top, a str that is not UTF-8.
        cases.push(b"\x80\x03]q\x00K\x01a.".to_vec());
        cases.push(b"\x80\x03}q\x00X\x01\x00\x00\x00aX\x01\x00\x00\x00\xffs.".to_vec());
        for bytes in cases {
            let d = Codec::Pickle.decode(&bytes, "s", "k");
            let c = Codec::Pickle.check(&bytes, "s", "k");
            let e = d.expect_err("decoded");
            assert_eq!(e.kind(), crate::ErrorKind::Corrupt, "{bytes:?}");
            assert_eq!(c.unwrap_err().to_string(), e.to_string());
        }
        // Every cut of a good pickle fails, never panics.
        for cut in 0..good.len() {
            assert!(Codec::Pickle.decode(&good[..cut], "s", "k").is_err());
            assert!(Codec::Pickle.check(&good[..cut], "s", "k").is_err());
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let mut b = b"\x80\x03}X\x01\x00\x00\x00a".to_vec();
        b.extend(std::iter::repeat_n(b']', 5000));
        b.extend(std::iter::repeat_n(b'a', 4999));
        b.extend(b"s.");
        let e = Codec::Pickle.decode(&b, "s", "k").unwrap_err();
        assert!(e.to_string().contains("deeper"), "{e}");
    }

    /// A scan that says Plain must be right: every mutation of a good pickle that the scan
    /// calls Plain decodes. (Plain is what lets a filter skip decoding.)
    #[test]
    fn plain_scans_always_decode() {
        let seeds = [
            Codec::Pickle
                .encode(&doc(
                    json!({"a": "b", "n": [1, 2.5, null], "m": {"x": true}}),
                ))
                .unwrap(),
            py(PY_PLAIN.trim()),
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut plain = 0;
        for seed in &seeds {
            for _ in 0..20_000 {
                let mut b = seed.clone();
                for _ in 0..1 + rand() % 3 {
                    let at = (rand() as usize) % b.len();
                    match rand() % 3 {
                        0 => b[at] = rand() as u8,
                        1 => {
                            b.remove(at);
                        }
                        _ => b.insert(at, rand() as u8),
                    }
                }
                if scan(&b) == Ok(Scan::Plain) {
                    plain += 1;
                    let decoded = Codec::Pickle.decode(&b, "s", "k");
                    assert!(decoded.is_ok(), "{b:?}: {decoded:?}");
                }
            }
        }
        assert!(plain > 100, "the mutations were all refused: {plain}");
    }

    #[test]
    fn the_pickle_prefilter_never_rules_out_a_match() {
        let records = [
            json!({"status": "done", "n": 5, "tags": ["a", "done"], "meta": {"tag": "x"}}),
            json!({"status": "running", "payload": "xxxx"}),
            json!({"status": "do\"ne", "n": null}),
            json!({"status": "d\u{e9}j\u{e0}"}),
            json!({"other": 1, "s2": "undone"}),
        ];
        let filters = crate::filter::tests::PREFILTER_SAMPLES;
        let mut pickles: Vec<(Document, Vec<u8>)> = records
            .iter()
            .map(|r| {
                let d = doc(r.clone());
                let b = Codec::Pickle.encode(&d).unwrap();
                (d, b)
            })
            .collect();
        let peer = py(PY_PLAIN.trim());
        pickles.push((Codec::Pickle.decode(&peer, "s", "k").unwrap(), peer));
        let mut ruled_out = 0;
        for f in filters {
            let f = crate::Filter::parse_args(&[f]).unwrap();
            let pre = Codec::Pickle.prefilter(&f);
            for (d, b) in &pickles {
                if !pre.may_match(b) {
                    ruled_out += 1;
                    assert!(!f.matches(d), "{f} ruled out {d}");
                }
            }
        }
        assert!(
            ruled_out > 20,
            "the prefilter rules out almost nothing: {ruled_out}"
        );
    }
}
