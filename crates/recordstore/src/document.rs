//! [`Document`]: a stored record, which is always a JSON object.

use crate::error::{Error, Result};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A record as stored: a JSON object.
///
/// A `Document` is an immutable, cheaply cloned value. Changing one through
/// [`Document::make_mut`] copies it first if anyone else holds it, so a document returned by a
/// store never aliases what the store keeps: callers always work on their own copy.
#[derive(Clone, PartialEq)]
pub struct Document(Arc<Map<String, Value>>);

impl Document {
    /// Wraps a JSON object.
    pub fn new(map: Map<String, Value>) -> Self {
        Document(Arc::new(map))
    }

    /// Takes any JSON value, refusing anything that is not an object.
    pub fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Document::new(map)),
            other => Err(Error::invalid(format!(
                "a record must be a JSON object, not {}",
                json_type_name(&other)
            ))),
        }
    }

    /// Serializes any serde type, refusing one that does not serialize to a JSON object.
    pub fn from_serialize<T: Serialize + ?Sized>(record: &T) -> Result<Self> {
        let value = serde_json::to_value(record)
            .map_err(|e| Error::invalid(format!("the record cannot be serialized: {e}")))?;
        Document::from_value(value)
    }

    /// Parses JSON text, refusing malformed JSON and anything but an object.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("malformed JSON: {e}")))?;
        Document::from_value(value)
    }

    /// Decodes JSON text read from a backend. A failure is [`Error::Corrupt`], naming the record.
    pub fn decode_stored(bytes: &[u8], schema: &str, key: &str) -> Result<Self> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Document::new(map)),
            Ok(other) => Err(Error::corrupt(
                schema,
                key,
                format!("stored value is {}, not an object", json_type_name(&other)),
            )),
            Err(e) => Err(Error::corrupt(schema, key, format!("invalid JSON: {e}"))),
        }
    }

    /// Checks that JSON text read from a backend is a record (an object) without building it:
    /// what a scan does with text its filter rules out. It accepts exactly what
    /// [`Document::decode_stored`] accepts, and fails with the same error.
    pub fn check_stored(bytes: &[u8], schema: &str, key: &str) -> Result<()> {
        match serde_json::from_slice::<valid::Object>(bytes) {
            Ok(_) => Ok(()),
            Err(_) => Document::decode_stored(bytes, schema, key).map(|_| ()),
        }
    }

    /// Deserializes into a typed record. A failure is [`Error::Corrupt`], naming the record.
    pub fn to_record<T: DeserializeOwned>(&self, schema: &str, key: &str) -> Result<T> {
        T::deserialize(&*self.0).map_err(|e| Error::corrupt(schema, key, e))
    }

    /// The JSON text of this document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&*self.0).expect("a JSON map always serializes")
    }

    /// A mutable view, copying the object first if it is shared.
    pub fn make_mut(&mut self) -> &mut Map<String, Value> {
        Arc::make_mut(&mut self.0)
    }

    /// The object itself, copied if it is shared.
    pub fn into_map(self) -> Map<String, Value> {
        Arc::unwrap_or_clone(self.0)
    }

    /// The object as a [`Value`].
    pub fn into_value(self) -> Value {
        Value::Object(self.into_map())
    }

    /// The value at a dotted path of field names, if every step exists.
    pub fn lookup<'a>(&'a self, path: &[String]) -> Option<&'a Value> {
        let (first, rest) = path.split_first()?;
        let mut value = self.0.get(first)?;
        for field in rest {
            value = value.as_object()?.get(field)?;
        }
        Some(value)
    }
}

impl Deref for Document {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<Map<String, Value>> for Document {
    fn from(map: Map<String, Value>) -> Self {
        Document::new(map)
    }
}

impl TryFrom<Value> for Document {
    type Error = Error;
    fn try_from(value: Value) -> Result<Self> {
        Document::from_value(value)
    }
}

impl Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The JSON type of a value, in words, for error messages.
/// JSON validation without building values: the same parser calls as a `serde_json::Value`
/// (`deserialize_any`, so numbers are range-checked and strings unescaped), nothing kept.
mod valid {
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    /// Any JSON value.
    pub(super) struct Any;
    /// A JSON object.
    pub(super) struct Object;

    struct AnyVisitor;
    struct ObjectVisitor;

    impl<'de> Deserialize<'de> for Any {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(AnyVisitor)
        }
    }

    impl<'de> Deserialize<'de> for Object {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ObjectVisitor)
        }
    }

    fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<Any, Any>()?.is_some() {}
        Ok(())
    }

    impl<'de> Visitor<'de> for AnyVisitor {
        type Value = Any;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E: Error>(self, _: bool) -> Result<Any, E> {
            Ok(Any)
        }
        fn visit_i64<E: Error>(self, _: i64) -> Result<Any, E> {
            Ok(Any)
        }
        fn visit_u64<E: Error>(self, _: u64) -> Result<Any, E> {
            Ok(Any)
        }
        fn visit_f64<E: Error>(self, _: f64) -> Result<Any, E> {
            Ok(Any)
        }
        fn visit_str<E: Error>(self, _: &str) -> Result<Any, E> {
            Ok(Any)
        }
        fn visit_unit<E: Error>(self) -> Result<Any, E> {
            Ok(Any)
        }
        fn visit_none<E: Error>(self) -> Result<Any, E> {
            Ok(Any)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Any, A::Error> {
            while seq.next_element::<Any>()?.is_some() {}
            Ok(Any)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Any, A::Error> {
            skip_map(map).map(|()| Any)
        }
    }

    impl<'de> Visitor<'de> for ObjectVisitor {
        type Value = Object;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object, A::Error> {
            skip_map(map).map(|()| Object)
        }
    }
}

pub(crate) fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_objects_are_records() {
        for bad in [json!(1), json!("s"), json!([1]), json!(null), json!(true)] {
            let e = Document::from_value(bad).unwrap_err();
            assert!(e.to_string().contains("must be a JSON object"), "{e}");
        }
        assert!(Document::from_json("{not json").is_err());
        assert!(Document::from_json(r#"{"a":1}"#).is_ok());
    }

    #[test]
    fn mutation_copies_a_shared_document() {
        let a = Document::from_value(json!({"n": 1})).unwrap();
        let mut b = a.clone();
        b.make_mut().insert("n".into(), json!(2));
        assert_eq!(a["n"], json!(1));
        assert_eq!(b["n"], json!(2));
    }

    #[test]
    fn checking_accepts_what_decoding_accepts() {
        for text in [
            r#"{"a":1}"#,
            r#"{}"#,
            r#"{"a":[1,{"b":null}],"c":"\u00e9"}"#,
            r#"[1]"#,
            r#"1"#,
            r#"{"a":1e400}"#,
            r#"{"a":"#,
            r#"{"a":1} x"#,
            r#"{"a":"\ud800"}"#,
            "",
            r#"{"a":18446744073709551616}"#,
        ] {
            let checked = Document::check_stored(text.as_bytes(), "s", "k");
            let decoded = Document::decode_stored(text.as_bytes(), "s", "k");
            assert_eq!(checked.is_ok(), decoded.is_ok(), "{text}");
            if let (Err(c), Err(d)) = (checked, decoded) {
                assert_eq!(c.to_string(), d.to_string());
            }
        }
    }

    #[test]
    fn corrupt_stored_data_names_the_record() {
        let e = Document::decode_stored(b"[1,2", "s", "k").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Corrupt);
        assert!(e.to_string().contains("\"k\""));
    }
}
