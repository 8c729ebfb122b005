//! Where records live on HDFS: `{base_path}/{schema}/{name}.json`, and how a key becomes a
//! file name and back.
//!
//! A key that is already a safe file name (non-empty, only `[A-Za-z0-9_.-]`, not starting with
//! `.` or `~`) is used as is, so directories written by the seed's backend stay readable.
//! Any other key is stored as `~` + base64url without padding of its UTF-8 bytes. Names that
//! start with `.` are never records: they are temporary files of a write in progress.
//!
//! The longest key ([`MAX_KEY_LEN`] = 180 bytes) encodes to 1 + 240 characters, so the file
//! name (with `.json`) stays under HDFS's 255-byte component limit, and no key can name `.`,
//! `..` or contain `/`: no record can land outside its schema directory.

use crate::names::MAX_KEY_LEN;

/// The suffix of every record file.
pub const SUFFIX: &str = ".json";

/// HDFS's longest path component, in bytes (`dfs.namenode.fs-limits.max-component-length`).
pub const MAX_COMPONENT_LEN: usize = 255;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Whether a key can be a file name verbatim.
pub fn is_safe(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && !matches!(b[0], b'.' | b'~')
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// The file name stem of a key (without `.json`): the key itself if safe, else `~` + base64url.
pub fn encode_key(key: &str) -> String {
    if is_safe(key) {
        key.to_string()
    } else {
        let mut out = String::with_capacity(1 + key.len().div_ceil(3) * 4);
        out.push('~');
        base64url_encode(key.as_bytes(), &mut out);
        out
    }
}

/// The record file name of a key: its stem plus `.json`.
pub fn file_name(key: &str) -> String {
    let mut name = encode_key(key);
    name.push_str(SUFFIX);
    name
}

/// What a file name in a schema directory is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A record file, with its decoded key.
    Record(String),
    /// A record file whose name does not decode to a valid key in its canonical encoding
    /// (written by hand or by another program); the message says why.
    Undecodable(String),
    /// Not a record: a temporary file (`.…`) or a file without the `.json` suffix.
    Other,
}

/// Decodes a file name found in a schema directory.
pub fn decode_file_name(name: &str) -> Entry {
    if name.starts_with('.') {
        return Entry::Other;
    }
    let Some(stem) = name.strip_suffix(SUFFIX) else {
        return Entry::Other;
    };
    let key = match stem.strip_prefix('~') {
        None => stem.to_string(),
        Some(b64) => match base64url_decode(b64).map(String::from_utf8) {
            Some(Ok(k)) => k,
            Some(Err(_)) => return Entry::Undecodable(format!("{name:?} is not UTF-8 text")),
            None => return Entry::Undecodable(format!("{name:?} is not valid base64url")),
        },
    };
    // One key, one name: a name that is not the canonical encoding of its key would be listed
    // by filter but missed by get, so it is reported instead.
    if crate::names::RecordKey::new(&key).is_err() || encode_key(&key) != stem {
        return Entry::Undecodable(format!(
            "{name:?} is not a record file name this store writes"
        ));
    }
    Entry::Record(key)
}

/// A temporary file name next to `final_name`: hidden (leading `.`), unique, and short enough
/// for HDFS even for the longest key.
pub fn temp_name(final_name: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    // Stems are ASCII, so any byte is a char boundary.
    let head = &final_name[..final_name.len().min(200)];
    format!(".{head}.tmp-{:016x}", h.finish())
}

/// Normalizes a base path: absolute, no empty, `.` or `..` components, no trailing slash.
pub fn normalize_base_path(path: &str) -> Result<String, String> {
    if !path.starts_with('/') {
        return Err(format!(
            "base path {path:?} must be absolute (start with '/')"
        ));
    }
    let mut out = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part == "." || part == ".." {
            return Err(format!("base path {path:?} must not contain '.' or '..'"));
        }
        if part.len() > MAX_COMPONENT_LEN || part.chars().any(|c| c.is_control() || c == ':') {
            return Err(format!(
                "base path {path:?} has an invalid component {part:?}"
            ));
        }
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        return Err(format!("base path {path:?} must not be the root directory"));
    }
    Ok(out)
}

/// The directory of a schema.
pub fn schema_dir(base: &str, schema: &str) -> String {
    format!("{base}/{schema}")
}

/// The file of a record.
pub fn record_path(base: &str, schema: &str, key: &str) -> String {
    format!("{base}/{schema}/{}", file_name(key))
}

fn base64url_encode(bytes: &[u8], out: &mut String) {
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
}

/// Strict decoding: `None` for a bad character, a bad length or non-zero padding bits.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32);
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let produced = chunk.len() - 1;
        let used_bits = 8 * produced;
        if n & ((1 << (24 - used_bits)) - 1) != 0 {
            return None; // non-canonical trailing bits
        }
        for i in 0..produced {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

const _: () = assert!(1 + MAX_KEY_LEN.div_ceil(3) * 4 + SUFFIX.len() <= MAX_COMPONENT_LEN);

#[cfg(test)]
mod tests {
    use super::*;

    fn tricky_keys() -> Vec<String> {
        let mut keys: Vec<String> = [
            "..",
            ".",
            "a/b",
            "~x",
            "~",
            "/",
            "../../x",
            ".hidden",
            "a b",
            "über",
            "🙂",
            "a.json",
            "x.tmp-1",
            "per%cent",
            "q?a=1#f",
            "back\\slash",
            "colon:key",
            "*",
            "-",
            "_",
            "a",
            "ab",
            "abc",
            "abcd",
            "plain_key-1.2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        keys.push("k".repeat(MAX_KEY_LEN));
        keys.push("é".repeat(MAX_KEY_LEN / 2));
        keys.push("/".repeat(MAX_KEY_LEN));
        keys.push("\u{10FFFF}".repeat(MAX_KEY_LEN / 4));
        keys
    }

    #[test]
    fn round_trip_over_tricky_keys() {
        for key in tricky_keys() {
            let name = file_name(&key);
            assert!(
                name.len() <= MAX_COMPONENT_LEN,
                "{key:?} -> {} bytes",
                name.len()
            );
            assert!(!name.contains('/'), "{name}");
            assert!(!name.starts_with('.'), "{name}");
            assert_ne!(name, "..");
            assert_eq!(
                decode_file_name(&name),
                Entry::Record(key.clone()),
                "{name}"
            );
        }
    }

    #[test]
    fn safe_keys_are_verbatim_and_others_encoded() {
        assert_eq!(file_name("task-1"), "task-1.json");
        assert_eq!(file_name("a.json"), "a.json.json");
        assert_eq!(file_name("a/b"), "~YS9i.json");
        assert_eq!(file_name(".."), "~Li4.json");
        assert_eq!(file_name("~x"), "~fng.json");
        assert!(!is_safe(".x") && !is_safe("~x") && !is_safe("") && !is_safe("a b"));
        assert!(is_safe("-x") && is_safe("x.") && is_safe("A_9"));
    }

    #[test]
    fn longest_key_fits_hdfs() {
        let name = file_name(&"/".repeat(MAX_KEY_LEN));
        assert_eq!(name.len(), 1 + 240 + 5);
        let tmp = temp_name(&name);
        assert!(
            tmp.len() <= MAX_COMPONENT_LEN && tmp.starts_with('.'),
            "{tmp}"
        );
        assert_eq!(decode_file_name(&tmp), Entry::Other);
        assert_ne!(temp_name("a.json"), temp_name("a.json"));
    }

    #[test]
    fn non_records_and_bad_names() {
        assert_eq!(decode_file_name(".a.json.tmp-00"), Entry::Other);
        assert_eq!(decode_file_name("readme.txt"), Entry::Other);
        assert_eq!(decode_file_name("_SUCCESS"), Entry::Other);
        for bad in [
            "~!!.json",
            "~a.json",
            "~YR.json",
            "~.json",
            "~YWJj.json",
            "a b.json",
        ] {
            assert!(
                matches!(decode_file_name(bad), Entry::Undecodable(_)),
                "{bad}: {:?}",
                decode_file_name(bad)
            );
        }
        // Invalid UTF-8 (0xff).
        assert!(matches!(
            decode_file_name("~_w.json"),
            Entry::Undecodable(_)
        ));
    }

    #[test]
    fn base64_matches_the_standard_vectors() {
        for (plain, enc) in [
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            base64url_encode(plain.as_bytes(), &mut s);
            assert_eq!(s, enc);
            assert_eq!(base64url_decode(enc).unwrap(), plain.as_bytes());
        }
        let mut s = String::new();
        base64url_encode(&[0xfb, 0xff], &mut s);
        assert_eq!(s, "-_8");
    }

    #[test]
    fn base_paths() {
        assert_eq!(
            normalize_base_path("/event_pipeline").unwrap(),
            "/event_pipeline"
        );
        assert_eq!(normalize_base_path("//a//b/").unwrap(), "/a/b");
        for bad in ["", "rel", "/", "/a/../b", "/./a", "/a:b"] {
            assert!(normalize_base_path(bad).is_err(), "{bad}");
        }
        assert_eq!(record_path("/b", "s", "a/b"), "/b/s/~YS9i.json");
        assert_eq!(schema_dir("/b", "s"), "/b/s");
    }
}
