//! The one rule for schema names and record keys, shared by every backend.
//!
//! Names are checked here, before any I/O, so data written through one backend can be moved
//! to any other, and no name can escape its place (a path on HDFS, a hash on Redis).
//!
//! **Schema names**: 1 to [`MAX_SCHEMA_LEN`] bytes of ASCII letters, digits, `_`, `-` and `.`,
//! not starting with `.` or `-`. So `.`, `..`, `../x`, `a/b`, `a:b` and the empty name are
//! refused.
//!
//! **Record keys**: 1 to [`MAX_KEY_LEN`] bytes of any Unicode text without control characters.
//! A key such as `a/b`, `..` or `über` is valid; a backend that cannot use it verbatim (a file
//! name on HDFS) encodes it reversibly.

use crate::error::{Error, Result};
use std::fmt;

/// The longest schema name, in bytes.
pub const MAX_SCHEMA_LEN: usize = 128;

/// The longest record key, in bytes. Chosen so that the longest key still fits one HDFS file
/// name (255 bytes) after base64 encoding.
pub const MAX_KEY_LEN: usize = 180;

/// A validated schema name. Build it with [`SchemaName::new`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaName<'a>(&'a str);

/// A validated record key. Build it with [`RecordKey::new`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey<'a>(&'a str);

impl<'a> SchemaName<'a> {
    /// Checks `name` against the schema rule.
    pub fn new(name: &'a str) -> Result<Self> {
        let ok_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
        let bytes = name.as_bytes();
        let problem = if bytes.is_empty() {
            Some("it is empty")
        } else if bytes.len() > MAX_SCHEMA_LEN {
            Some("it is longer than 128 bytes")
        } else if matches!(bytes[0], b'.' | b'-') {
            Some("it starts with '.' or '-'")
        } else if !bytes.iter().all(|&b| ok_char(b)) {
            Some("only ASCII letters, digits, '_', '-' and '.' are allowed")
        } else {
            None
        };
        match problem {
            None => Ok(SchemaName(name)),
            Some(why) => Err(Error::invalid(format!(
                "schema name {:?} is not valid: {why}",
                truncate(name)
            ))),
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl<'a> RecordKey<'a> {
    /// Checks `key` against the key rule.
    pub fn new(key: &'a str) -> Result<Self> {
        let problem = if key.is_empty() {
            Some("it is empty")
        } else if key.len() > MAX_KEY_LEN {
            Some("it is longer than 180 bytes")
        } else if has_control(key) {
            Some("it contains a control character")
        } else {
            None
        };
        match problem {
            None => Ok(RecordKey(key)),
            Some(why) => Err(Error::invalid(format!(
                "record key {:?} is not valid: {why}",
                truncate(key)
            ))),
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// Whether text has a control character; ASCII keys (the common case) skip UTF-8 decoding.
fn has_control(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        s.chars().any(char::is_control)
    }
}

/// Keeps error messages readable when the offending name is huge.
fn truncate(s: &str) -> String {
    const SHOWN: usize = 40;
    if s.chars().count() <= SHOWN {
        s.to_string()
    } else {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{head}… ({} bytes)", s.len())
    }
}

macro_rules! name_impls {
    ($t:ident) => {
        impl fmt::Display for $t<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        impl fmt::Debug for $t<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.0, f)
            }
        }
        impl AsRef<str> for $t<'_> {
            fn as_ref(&self) -> &str {
                self.0
            }
        }
    };
}
name_impls!(SchemaName);
name_impls!(RecordKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_rule() {
        for ok in ["tasks", "Task_1", "a.b-c", "_x", "9"] {
            assert!(SchemaName::new(ok).is_ok(), "{ok}");
        }
        let huge = "a".repeat(129);
        for bad in [
            "", ".", "..", "../x", "a/b", "/", "a:b", "-x", "a b", "ü", &huge,
        ] {
            let e = SchemaName::new(bad).unwrap_err();
            assert!(e.to_string().contains("schema name"), "{e}");
        }
    }

    #[test]
    fn key_rule() {
        for ok in [
            "k",
            "a/b",
            "..",
            ".",
            "../../etc/passwd",
            "über",
            "with space",
        ] {
            assert!(RecordKey::new(ok).is_ok(), "{ok}");
        }
        let huge = "k".repeat(181);
        for bad in [
            "", "a\nb", "\u{0}", "tab\t", "\u{7f}", "ü\u{85}", "ü\n", &huge,
        ] {
            let e = RecordKey::new(bad).unwrap_err();
            assert!(e.to_string().contains("record key"), "{e}");
        }
    }

    #[test]
    fn huge_names_are_truncated_in_errors() {
        let huge = "x".repeat(100_000);
        let msg = RecordKey::new(&huge).unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
    }
}
