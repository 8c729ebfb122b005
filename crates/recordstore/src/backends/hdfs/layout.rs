//! Where records live on HDFS, `{base_path}/{schema}/{name}.json`, how a key becomes a file
//! name, and how a file found in a schema directory becomes a key again.
//!
//! # The name a key is written to
//!
//! - **Verbatim**, as event-pipeline (the peer) writes it: a key that is a valid HDFS file name
//!   once `.json` is added is that file name. `p0` → `p0.json`, `über` → `über.json`,
//!   `a b` → `a b.json`, `.hidden` → `.hidden.json`. Valid ([`is_verbatim`]): no `/`, no `:`
//!   (the NameNode refuses it in a path), no NUL or other control character (no key has one),
//!   not `.` or `..`, at most [`MAX_COMPONENT_LEN`] bytes with `.json` (every key fits: keys
//!   are at most [`MAX_KEY_LEN`] bytes).
//! - **Encoded**: every other key, and every key that starts with `~`, is `~` + base64url
//!   (without padding) of its UTF-8 bytes: `x/y` → `~eC95.json`, `..` → `~Li4.json`,
//!   `a:b` → `~YTpi.json`, `~x` → `~fng.json`. An encoded name never holds `/`, so no record
//!   lands outside its schema directory. Keys starting with `~` stay encoded so that a name
//!   `~….json` keeps the one meaning it had: an encoded key.
//!
//! # The names a key is read from
//!
//! A key's record may sit at up to three names, tried in this order by get, exists, update and
//! delete ([`candidates`]):
//!
//! 1. the name above, where this version writes;
//! 2. the previous version's name (below), so stores it wrote keep working;
//! 3. the peer's path for a key with `/`: the key `x/y` is the file `y.json` in the
//!    subdirectory `x` (`{schema}/x/y.json`), when every segment is a valid name.
//!
//! count, filter and export walk the schema directory *and its subdirectories* and turn each
//! file back into a key with [`decode_path`]. `candidates(key)` holds exactly the names that
//! decode to `key`, so the single-key operations and the listings always agree on which file is
//! which record.
//!
//! # What changed from the previous version
//!
//! The previous version wrote only keys of `[A-Za-z0-9_.-]` (not starting with `.` or `~`)
//! verbatim, and encoded every other key: `über` was `~w7xiZXI.json`, which the peer cannot
//! find by its key. Such keys are now written verbatim. Keys of that safe alphabet and keys that
//! are still encoded (`/`, `:`, `~`, `.`, `..`) get the same name as before. A store written
//! by the previous version keeps working: an old `~w7xiZXI.json` is the second candidate of
//! `über`, so it is read, counted and listed once, updated *in place* (an update never moves a
//! record to its new name) and deleted. What the previous version cannot do is see a record
//! that this version wrote verbatim (`über.json`): run one version against a store at a time.
//! Files in subdirectories (the peer's `x/y`) used to be invisible; they are now records.
//!
//! # When two names hold one key
//!
//! Only writers that do not look at both names can make that happen: the peer (which writes
//! `über.json` and never looks at `~w7xiZXI.json`) or the previous version (the other way
//! round). Then the *first* candidate is the record: get, filter and export return it, update
//! rewrites it, count counts the key once and a listing names it once. delete removes every
//! name of the key, the later candidates first, so no reader sees the shadowed record come back
//! as the record. insert refuses a key for which any name exists, and creates its name by a
//! rename that never overwrites: among writers of this version exactly one of many concurrent
//! inserts wins. A peer or an older writer that creates the *other* name in that same instant
//! can still leave two names (the peer's own insert is a check, then a write, anyway); the
//! rules above then apply.
//!
//! # Names that are not records
//!
//! - **Temporary files** of a write in progress: `.{name}.tmp-{16 hex digits}` ([`temp_name`]),
//!   in the schema directory. They end in the hex digits, never in `.json`, so no temporary
//!   file can look like a record, even though a record's name may now start with `.`
//!   (`.hidden.json`). Listings skip them silently (the previous version's leftovers too: same
//!   form).
//! - **Foreign files**: anything else, a stray `notes.txt`, a `.json` whose name is no valid
//!   key (`.json`, `..json`, a name longer than a key can be). Listings skip them and log a
//!   warning (once per path and process) instead of failing the whole schema.
//! - A top-level name `~X.json` whose `X` is the canonical base64url of a key that the previous
//!   version would have encoded is that key, never the literal key `~X` (the peer could write
//!   one; that it is also valid base64url of such a key is taken to be chance). Other `~…`
//!   names are the peer's literal keys: `~cDA.json` (`cDA` decodes to `p0`, which was never
//!   encoded) is the key `~cDA`.
//! - The peer's keys `.` and `..` (files `..json` and `...json`) are foreign: this store writes
//!   those keys encoded and cannot tell such a file from a stray one.
//! - A peer directory whose name ends in `.json` (from a key like `a.json/b`) takes the name of
//!   the record `a`: HDFS cannot hold a file and a directory of one name, so inserting `a`
//!   there is `AlreadyExists`.

use crate::names::{RecordKey, MAX_KEY_LEN};

/// The suffix of every record file.
pub const SUFFIX: &str = ".json";

/// HDFS's longest path component, in bytes (`dfs.namenode.fs-limits.max-component-length`).
pub const MAX_COMPONENT_LEN: usize = 255;

/// The prefix of an encoded name's stem.
const ENCODED: char = '~';

/// What a temporary file's name ends with, before its 16 hex digits.
const TEMP_MARK: &str = ".tmp-";

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Whether `name` can be one component of an HDFS path as it is: not empty, not `.` or `..`,
/// no `/`, no `:` (the NameNode refuses it), no control character, at most
/// [`MAX_COMPONENT_LEN`] bytes.
pub fn is_valid_component(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_COMPONENT_LEN
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == ':' || c.is_control())
}

/// Whether a key (or a segment of one) is a name on its own: not `.` or `..`, and a valid
/// component once `.json` is added. (`..json` is a valid component, but `..` is not a name the
/// peer could mean as one, so it stays encoded.)
fn is_name(segment: &str) -> bool {
    segment != "." && segment != ".." && is_valid_component(segment) && {
        segment.len() + SUFFIX.len() <= MAX_COMPONENT_LEN
    }
}

/// Whether a key is written verbatim, as `{key}.json`: it is a valid file name with the
/// suffix and does not start with `~` (see the module docs).
pub fn is_verbatim(key: &str) -> bool {
    !key.starts_with(ENCODED) && is_name(key)
}

/// The previous version's rule for a verbatim key: only `[A-Za-z0-9_.-]`, not starting with
/// `.` or `~`. Every such key is verbatim today too.
fn was_verbatim(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && !matches!(b[0], b'.' | b'~')
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn encoded_name(key: &str) -> String {
    let mut out = String::with_capacity(1 + key.len().div_ceil(3) * 4 + SUFFIX.len());
    out.push(ENCODED);
    base64url_encode(key.as_bytes(), &mut out);
    out.push_str(SUFFIX);
    out
}

/// The file name a key is written to (in its schema directory): `{key}.json` if the key is
/// [verbatim](is_verbatim), else `~` + base64url + `.json`.
pub fn file_name(key: &str) -> String {
    if is_verbatim(key) {
        format!("{key}{SUFFIX}")
    } else {
        encoded_name(key)
    }
}

/// The file name the previous version wrote a key to.
pub fn legacy_file_name(key: &str) -> String {
    if was_verbatim(key) {
        format!("{key}{SUFFIX}")
    } else {
        encoded_name(key)
    }
}

/// The peer's path of a key (relative to the schema directory), `{key}.json` with the key's
/// `/` as directory separators: `x/y` → `x/y.json`. `None` when a segment is empty, `.`, `..`
/// or no valid name: the peer would have written outside the schema directory, or could not.
pub fn peer_path(key: &str) -> Option<String> {
    key.split('/')
        .all(is_name)
        .then(|| format!("{key}{SUFFIX}"))
}

/// The paths (relative to the schema directory) that may hold a key's record, in the order
/// they are tried; the first is where the key is written ([`file_name`]). Each decodes to the
/// key with [`decode_path`], and no other path does.
pub fn candidates(key: &str) -> Vec<String> {
    let mut out = vec![file_name(key)];
    for c in [Some(legacy_file_name(key)), peer_path(key)]
        .into_iter()
        .flatten()
    {
        // The peer's `~w7xiZXI.json` means `über`, not the key `~w7xiZXI`: left out.
        if !out.contains(&c) && decode_path(&c) == Entry::Record(key.to_string()) {
            out.push(c);
        }
    }
    out
}

/// What a file found under a schema directory is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A record file, with its key.
    Record(String),
    /// A temporary file of a write in progress (or of a writer that died): never a record.
    Temp,
    /// A file no record name explains (a stray file, a `.json` whose name is no valid key);
    /// the message says why.
    Foreign(String),
}

/// What the file at `path` (relative to the schema directory, `/`-separated) is.
pub fn decode_path(path: &str) -> Entry {
    let name = path.rsplit('/').next().unwrap_or(path);
    if is_temp_name(name) {
        return Entry::Temp;
    }
    let Some(stem) = path.strip_suffix(SUFFIX) else {
        return Entry::Foreign(format!("{path:?} is not a .json file"));
    };
    // An encoded name of a key the previous version encoded (which includes every key this
    // version encodes) is that key.
    if let Some(text) = stem.strip_prefix(ENCODED).filter(|_| !stem.contains('/')) {
        if let Some(Ok(key)) = base64url_decode(text).map(String::from_utf8) {
            if RecordKey::new(&key).is_ok() && !was_verbatim(&key) {
                return Entry::Record(key);
            }
        }
    }
    if let Err(e) = RecordKey::new(stem) {
        return Entry::Foreign(format!("{path:?}: {e}"));
    }
    if !stem.split('/').all(is_name) {
        return Entry::Foreign(format!("{path:?} is not the name of a record key"));
    }
    Entry::Record(stem.to_string())
}

/// Whether a file name is one of [`temp_name`]'s: `.`, anything, `.tmp-`, 16 hex digits.
pub fn is_temp_name(name: &str) -> bool {
    let Some(head) = name.strip_prefix('.') else {
        return false;
    };
    match head.len().checked_sub(16) {
        Some(split) if head.is_char_boundary(split) => {
            let (rest, digits) = head.split_at(split);
            rest.ends_with(TEMP_MARK)
                && digits
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }
        _ => false,
    }
}

/// A temporary file name for a write to `final_name`: `.{final_name}.tmp-{16 hex digits}`,
/// hidden, unique, never ending in `.json`, and short enough for HDFS even for the longest key
/// (the name is cut at 200 bytes).
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
    // Verbatim names are any UTF-8: cut on a character boundary.
    let mut end = final_name.len().min(200);
    while !final_name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}{TEMP_MARK}{:016x}", &final_name[..end], h.finish())
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
        if !is_valid_component(part) {
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

/// The file a record is written to: `{base}/{schema}/{file_name(key)}`.
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

// The longest key fits one name, encoded or verbatim.
const _: () = assert!(1 + MAX_KEY_LEN.div_ceil(3) * 4 + SUFFIX.len() <= MAX_COMPONENT_LEN);
const _: () = assert!(MAX_KEY_LEN + SUFFIX.len() <= MAX_COMPONENT_LEN);

#[cfg(test)]
mod tests {
    use super::*;

    fn tricky_keys() -> Vec<String> {
        let mut keys: Vec<String> = [
            "..",
            ".",
            "a/b",
            "x/y",
            "x/y/z",
            "x//y",
            "x/",
            "/x",
            "x/./y",
            "x/../y",
            "a:b/c",
            "a.json/b",
            "~x",
            "~",
            "~cDA",
            "~w7xiZXI",
            "~eC95",
            "x/~w7xiZXI",
            "/",
            "../../x",
            ".hidden",
            ".a.tmp-0123456789abcdef",
            "a b",
            " ",
            "über",
            "🙂",
            "a.json",
            "..json",
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
            "p0",
            "plain_key-1.2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        keys.push("k".repeat(MAX_KEY_LEN));
        keys.push("é".repeat(MAX_KEY_LEN / 2));
        keys.push("/".repeat(MAX_KEY_LEN));
        keys.push("a/".repeat(MAX_KEY_LEN / 2 - 1) + "b");
        keys.push("\u{10FFFF}".repeat(MAX_KEY_LEN / 4));
        keys
    }

    #[test]
    fn every_candidate_decodes_to_its_key_and_the_first_is_written() {
        for key in tricky_keys() {
            let all = candidates(&key);
            assert_eq!(all[0], file_name(&key), "{key:?}");
            for (i, path) in all.iter().enumerate() {
                assert_eq!(
                    decode_path(path),
                    Entry::Record(key.clone()),
                    "{key:?}: {path}"
                );
                assert!(!all[..i].contains(path), "{key:?}: {all:?}");
                for part in path.split('/') {
                    assert!(is_valid_component(part), "{key:?}: {path}");
                }
            }
            let name = &all[0];
            assert!(name.len() <= MAX_COMPONENT_LEN, "{key:?} -> {name}");
            assert!(!name.contains('/'), "{name}");
            assert!(!is_temp_name(name), "{name}");
        }
    }

    #[test]
    fn valid_names_are_verbatim_and_others_encoded() {
        for (key, name) in [
            ("p0", "p0.json"),
            ("über", "über.json"),
            ("a b", "a b.json"),
            (".hidden", ".hidden.json"),
            ("a.json", "a.json.json"),
            ("q?a=1#f", "q?a=1#f.json"),
            ("🙂", "🙂.json"),
            ("x/y", "~eC95.json"),
            ("a/b", "~YS9i.json"),
            ("..", "~Li4.json"),
            (".", "~Lg.json"),
            ("a:b", "~YTpi.json"),
            ("~x", "~fng.json"),
            ("~cDA", "~fmNEQQ.json"),
        ] {
            assert_eq!(file_name(key), name, "{key:?}");
        }
        let longest = "é".repeat(MAX_KEY_LEN / 2);
        assert!(is_verbatim(&longest));
        assert!(!is_verbatim("") && !is_verbatim("~") && !is_verbatim("a/b"));
    }

    #[test]
    fn the_previous_versions_names_still_decode() {
        // What the previous version wrote, by its rule, for keys it encoded.
        for (name, key) in [
            ("~w7xiZXI.json", "über"),
            ("~YSBi.json", "a b"),
            ("~LmhpZGRlbg.json", ".hidden"),
            ("~YS9i.json", "a/b"),
            ("~fng.json", "~x"),
        ] {
            assert_eq!(decode_path(name), Entry::Record(key.into()), "{name}");
            assert_eq!(legacy_file_name(key), name);
            assert!(candidates(key).contains(&name.to_string()), "{key}");
        }
        assert_eq!(candidates("über"), vec!["über.json", "~w7xiZXI.json"]);
        assert_eq!(candidates("a b"), vec!["a b.json", "~YSBi.json"]);
        // Same name in both versions: one candidate.
        assert_eq!(candidates("p0"), vec!["p0.json"]);
        assert_eq!(candidates(".."), vec!["~Li4.json"]);
    }

    #[test]
    fn the_peers_subdirectories_and_tilde_keys() {
        assert_eq!(decode_path("x/y.json"), Entry::Record("x/y".into()));
        assert_eq!(decode_path("a/b/c.json"), Entry::Record("a/b/c".into()));
        assert_eq!(candidates("x/y"), vec!["~eC95.json", "x/y.json"]);
        assert_eq!(peer_path("x//y"), None);
        assert_eq!(peer_path("x/../y"), None);
        assert_eq!(peer_path("/x"), None);
        assert_eq!(peer_path("a:b/c"), None);
        // Below the top level a `~` is just text.
        assert_eq!(
            decode_path("x/~w7xiZXI.json"),
            Entry::Record("x/~w7xiZXI".into())
        );
        // `cDA` decodes to `p0`, which was never encoded: the peer's literal key.
        assert_eq!(decode_path("~cDA.json"), Entry::Record("~cDA".into()));
        assert_eq!(candidates("~cDA"), vec!["~fmNEQQ.json", "~cDA.json"]);
        // Not base64 at all: literal too.
        assert_eq!(decode_path("~!!.json"), Entry::Record("~!!".into()));
        // `~w7xiZXI.json` means `über`; the literal key `~w7xiZXI` cannot claim it.
        assert_eq!(candidates("~w7xiZXI"), vec![file_name("~w7xiZXI")]);
    }

    #[test]
    fn temporary_and_foreign_files() {
        let tmp = temp_name("über.json");
        assert!(
            tmp.starts_with(".über.json.tmp-") && is_temp_name(&tmp),
            "{tmp}"
        );
        assert_eq!(decode_path(&tmp), Entry::Temp);
        assert_eq!(decode_path(&format!("x/{tmp}")), Entry::Temp);
        // The previous version's leftovers have the same form.
        assert_eq!(decode_path(".a.json.tmp-00000000deadbeef"), Entry::Temp);
        assert_ne!(temp_name("a.json"), temp_name("a.json"));
        // A key can look like a temporary name, but its file ends in `.json`.
        assert_eq!(
            decode_path(".a.tmp-0123456789abcdef.json"),
            Entry::Record(".a.tmp-0123456789abcdef".into())
        );
        for foreign in [
            "notes.txt",
            "_SUCCESS",
            ".json",
            "..json",
            "...json",
            "x/..json",
            "x/notes.txt",
            ".a.json.tmp-1",
            ".a.json.tmp-0123456789ABCDEF",
            "a.JSON",
        ] {
            assert!(
                matches!(decode_path(foreign), Entry::Foreign(_)),
                "{foreign}: {:?}",
                decode_path(foreign)
            );
        }
        let too_long = format!("{}.json", "k".repeat(MAX_KEY_LEN + 1));
        assert!(matches!(decode_path(&too_long), Entry::Foreign(_)));
        let deep = format!("{}b.json", "a/".repeat(MAX_KEY_LEN / 2));
        assert!(matches!(decode_path(&deep), Entry::Foreign(_)));
    }

    #[test]
    fn longest_key_fits_hdfs() {
        let name = file_name(&"/".repeat(MAX_KEY_LEN));
        assert_eq!(name.len(), 1 + 240 + 5);
        for name in [name, file_name(&"é".repeat(MAX_KEY_LEN / 2))] {
            let tmp = temp_name(&name);
            assert!(
                tmp.len() <= MAX_COMPONENT_LEN && is_temp_name(&tmp),
                "{tmp}"
            );
        }
        // Cut inside a multi-byte character: moved back to its start.
        let tmp = temp_name(&format!("a{}", "é".repeat(150)));
        assert!(is_temp_name(&tmp), "{tmp}");
    }

    proptest::proptest! {
        /// Any key: its candidates decode to it, the first is where it is written.
        #[test]
        fn any_key_round_trips(key in "[a-zA-Z0-9~./: _ü🙂%-]{1,40}") {
            let all = candidates(&key);
            proptest::prop_assert_eq!(&all[0], &file_name(&key));
            for path in &all {
                proptest::prop_assert_eq!(decode_path(path), Entry::Record(key.clone()));
            }
        }

        /// Any file a listing can find: if it is a record, get/exists/delete of its key look
        /// at it, so single-key operations and listings agree.
        #[test]
        fn any_record_file_is_a_candidate_of_its_key(
            path in "(~?[a-zA-Z0-9_ü .-]{0,12}/){0,2}~?[a-zA-Z0-9_~ü .-]{0,16}(\\.json)?"
        ) {
            if let Entry::Record(key) = decode_path(&path) {
                proptest::prop_assert!(RecordKey::new(&key).is_ok());
                proptest::prop_assert!(candidates(&key).contains(&path), "{} -> {}", path, key);
            }
        }
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
        for bad in ["", "a", "YR", "!!", "Zm9vY"] {
            assert!(base64url_decode(bad).is_none(), "{bad}");
        }
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
        assert_eq!(record_path("/b", "s", "über"), "/b/s/über.json");
        assert_eq!(schema_dir("/b", "s"), "/b/s");
    }
}
