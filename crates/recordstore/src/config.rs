//! The TOML config file, in the peer's vocabulary (`URL` or `ENGINE` plus `CONNECTOR_CONFIG`,
//! `CONNECTION_MODE`, `MAX_CONNECTIONS`, …), layered: defaults < file < environment variables
//! (`RECORDSTORE_<KEY>`) < command-line flags (applied by the caller on the returned
//! [`Settings`]).
//!
//! Every key is optional. Keys are documented in UPPERCASE and matched case-insensitively.
//! Unknown keys and bad values are [`Error::InvalidInput`] naming the key and the value.
//!
//! ```
//! use recordstore::config::{Settings, EXAMPLE};
//! let no_env = |_: &str| None;
//! let s = Settings::from_toml(EXAMPLE, &no_env).unwrap();
//! assert_eq!(s.url, "redis://app@localhost:6379/0");
//! assert_eq!(s.options.pool.max_connections, 10);
//! ```

use crate::codec::{Codec, CODEC_NAMES};
use crate::connection::{ConnectionMode, PoolOptions, RetryOptions, Secret};
use crate::error::{Error, Result};
use crate::options::{is_secret_name, redact_url, OpenOptions, DEFAULT_URL};
use crate::store::KeyValueStore;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A commented example config file, with every key at its default (the README shows it).
pub const EXAMPLE: &str = r#"# recordstore.toml: every key is optional; the values shown are the defaults unless noted.
# Environment variables RECORDSTORE_<KEY> (e.g. RECORDSTORE_MAX_CONNECTIONS) override this
# file, and command-line flags override both.

# Where the records live: either a URL ...
# URL = "sqlite://recordstore.db"     # the default when neither URL nor ENGINE is set
# ... or an ENGINE plus CONNECTOR_CONFIG (below) to build the URL from.
ENGINE = "redis"                      # memory | sqlite | redis | hdfs | webhdfs (example)

CONNECTION_MODE = "auto"              # auto | single | pooled
MAX_CONNECTIONS = 10                  # pool size
CONNECTION_TIMEOUT = 30               # seconds to get a connection, connecting included
IDLE_TIMEOUT = 300                    # seconds before an idle connection closes; 0 = never
MAX_LIFETIME = 0                      # seconds before a connection is replaced; 0 = never
MIN_IDLE = 0                          # idle connections kept open
TEST_BEFORE_ACQUIRE = false           # health-check a connection on checkout (a round trip)
RETRY_ATTEMPTS = 3                    # tries in all for a transient failure; 1 = no retry
RETRY_BACKOFF_MS = 50                 # first backoff; doubles after each try
# CODEC = "json"                      # json | pickle: event-pipeline's pickled records (Redis)

[CONNECTOR_CONFIG]                    # all example values
host = "localhost"
port = 6379
username = "app"
# password = "..."                    # prefer RECORDSTORE_PASSWORD; never printed
db = 0                                # Redis database number; the file path for sqlite
prefix = "myapp"                      # backend extras: prefix (redis), base_path (hdfs)
"#;

/// The prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "RECORDSTORE_";

/// The top-level keys, as documented.
const KEYS: &[&str] = &[
    "URL",
    "ENGINE",
    "CONNECTOR_CONFIG",
    "CONNECTION_MODE",
    "MAX_CONNECTIONS",
    "CONNECTION_TIMEOUT",
    "IDLE_TIMEOUT",
    "MAX_LIFETIME",
    "MIN_IDLE",
    "TEST_BEFORE_ACQUIRE",
    "RETRY_ATTEMPTS",
    "RETRY_BACKOFF_MS",
    "CODEC",
];

/// Keys of `CONNECTOR_CONFIG` that also have an environment variable
/// (`RECORDSTORE_HOST`, …).
const CONNECTOR_KEYS: &[&str] = &["host", "port", "username", "password", "db"];

/// Everything needed to open a store: the URL and the [`OpenOptions`].
///
/// The CLI applies its flags on the public fields after [`Settings::load`], then calls
/// [`Settings::open`]. `Debug` redacts the password.
#[derive(Clone)]
pub struct Settings {
    /// The store URL. A password from `CONNECTOR_CONFIG` or `RECORDSTORE_PASSWORD` is kept
    /// apart in [`Settings::password`]; print this with [`redact_url`] anyway, in case the
    /// user wrote one into the URL.
    pub url: String,
    /// Connection mode, pool and retry settings, backend extras.
    pub options: OpenOptions,
    /// The password, merged into the URL by [`Settings::connect_url`] when the URL has none.
    pub password: Option<Secret>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            url: DEFAULT_URL.to_string(),
            options: OpenOptions::default(),
            password: None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extras: BTreeMap<&str, &str> = self
            .options
            .extras
            .iter()
            .map(|(k, v)| {
                let v = if is_secret_name(k) { "***" } else { v.as_str() };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("Settings")
            .field("url", &redact_url(&self.url))
            .field("mode", &self.options.mode)
            .field("pool", &self.options.pool)
            .field("extras", &extras)
            .field("password", &self.password)
            .finish()
    }
}

impl Settings {
    /// Loads the settings: defaults, then the file at `path` (or at `RECORDSTORE_CONFIG` when
    /// `path` is `None`; no file when neither is set), then the `RECORDSTORE_*` variables
    /// that `env` returns (pass `&|k| std::env::var(k).ok()`).
    ///
    /// A file that cannot be read, an unknown key or a bad value is `InvalidInput` naming
    /// the file, key and value.
    pub fn load(path: Option<&Path>, env: &impl Fn(&str) -> Option<String>) -> Result<Settings> {
        let from_env = env(&format!("{ENV_PREFIX}CONFIG")).filter(|p| !p.is_empty());
        let path = path.map(Path::to_path_buf).or(from_env.map(Into::into));
        let file = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    Error::invalid(format!("cannot read config file {}: {e}", p.display()))
                })?;
                Layer::from_toml(&text, Some(p))?
            }
            None => Layer::default(),
        };
        Layer::from_env(env)?.over(file).build()
    }

    /// The settings from the text of a config file, then the `RECORDSTORE_*` variables.
    pub fn from_toml(text: &str, env: &impl Fn(&str) -> Option<String>) -> Result<Settings> {
        Layer::from_env(env)?
            .over(Layer::from_toml(text, None)?)
            .build()
    }

    /// The URL to connect with: [`Settings::url`] with the password merged in when it has
    /// none. Secret: never print it (use [`redact_url`]).
    pub fn connect_url(&self) -> String {
        match &self.password {
            Some(p) if network_scheme(&self.url) => {
                with_userinfo(&self.url, None, Some(p.expose()))
            }
            _ => self.url.clone(),
        }
    }

    /// Opens the store these settings describe.
    pub async fn open(&self) -> Result<Arc<dyn KeyValueStore>> {
        crate::open_with(&self.connect_url(), &self.options).await
    }
}

/// Where a value came from, for error messages and layering.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
enum Source {
    #[default]
    File,
    Env,
}

/// A value with its origin.
#[derive(Clone, Debug)]
struct Set<T> {
    value: T,
    source: Source,
    /// How the user named it: `config key MAX_CONNECTIONS` or `environment variable …`.
    name: String,
}

/// The keys one layer (the file, or the environment) sets.
#[derive(Default)]
struct Layer {
    url: Option<Set<String>>,
    engine: Option<Set<String>>,
    host: Option<Set<String>>,
    port: Option<Set<u16>>,
    username: Option<Set<String>>,
    password: Option<Set<Secret>>,
    db: Option<Set<String>>,
    extras: BTreeMap<String, String>,
    mode: Option<Option<ConnectionMode>>,
    max_connections: Option<Set<usize>>,
    connection_timeout: Option<Duration>,
    idle_timeout: Option<Option<Duration>>,
    max_lifetime: Option<Option<Duration>>,
    min_idle: Option<Set<usize>>,
    test_before_acquire: Option<bool>,
    retry_attempts: Option<u32>,
    retry_backoff_ms: Option<u64>,
    /// `CODEC`, or `CONNECTOR_CONFIG.codec`: handed to the backend as the `codec` extra.
    codec: Option<Set<Codec>>,
}

/// A raw value from the file or the environment.
enum Raw<'a> {
    Toml(&'a toml::Value),
    Env(&'a str),
}

impl Raw<'_> {
    /// The value as the user wrote it, for error messages.
    fn shown(&self) -> String {
        match self {
            Raw::Toml(v) => v.to_string(),
            Raw::Env(s) => format!("{s:?}"),
        }
    }

    /// The value as text: a TOML string, or an environment variable.
    fn text(&self) -> Option<&str> {
        match self {
            Raw::Toml(toml::Value::String(s)) => Some(s.trim()),
            Raw::Toml(_) => None,
            Raw::Env(s) => Some(s.trim()),
        }
    }
}

fn bad(name: &str, expected: &str, raw: &Raw<'_>) -> Error {
    Error::invalid(format!("{name}: expected {expected}, got {}", raw.shown()))
}

fn parse_int(name: &str, raw: &Raw<'_>, min: u64, expected: &str) -> Result<u64> {
    let n = match raw {
        Raw::Toml(toml::Value::Integer(i)) => u64::try_from(*i).ok(),
        _ => raw.text().and_then(|s| s.parse::<u64>().ok()),
    };
    n.filter(|n| *n >= min)
        .ok_or_else(|| bad(name, expected, raw))
}

fn parse_usize(name: &str, raw: &Raw<'_>, min: u64, expected: &str) -> Result<usize> {
    let n = parse_int(name, raw, min, expected)?;
    usize::try_from(n).map_err(|_| bad(name, expected, raw))
}

/// Seconds as an integer or a decimal; `optional` accepts 0 or "none" as "no limit".
fn parse_seconds(name: &str, raw: &Raw<'_>, optional: bool) -> Result<Option<Duration>> {
    let expected = if optional {
        "a number of seconds (0 or \"none\" for no limit)"
    } else {
        "a positive number of seconds"
    };
    if optional
        && raw
            .text()
            .is_some_and(|s| s.eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("off"))
    {
        return Ok(None);
    }
    let secs = match raw {
        Raw::Toml(toml::Value::Integer(i)) => Some(*i as f64),
        Raw::Toml(toml::Value::Float(f)) => Some(*f),
        _ => raw.text().and_then(|s| s.parse::<f64>().ok()),
    };
    let secs = secs
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e12)
        .ok_or_else(|| bad(name, expected, raw))?;
    if secs == 0.0 {
        return if optional {
            Ok(None)
        } else {
            Err(bad(name, expected, raw))
        };
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}

fn parse_bool(name: &str, raw: &Raw<'_>) -> Result<bool> {
    if let Raw::Toml(toml::Value::Boolean(b)) = raw {
        return Ok(*b);
    }
    match raw.text().map(str::to_ascii_lowercase).as_deref() {
        Some("true" | "yes" | "on" | "1") => Ok(true),
        Some("false" | "no" | "off" | "0") => Ok(false),
        _ => Err(bad(name, "true or false", raw)),
    }
}

fn parse_string(name: &str, raw: &Raw<'_>) -> Result<String> {
    match raw.text() {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(bad(name, "a non-empty string", raw)),
    }
}

/// A scalar as text (for `db` and backend extras, where `db = 0` and `db = "0"` mean the
/// same).
fn parse_scalar(name: &str, raw: &Raw<'_>) -> Result<String> {
    match raw {
        Raw::Toml(toml::Value::Integer(i)) => Ok(i.to_string()),
        Raw::Toml(toml::Value::Float(f)) => Ok(f.to_string()),
        Raw::Toml(toml::Value::Boolean(b)) => Ok(b.to_string()),
        _ => parse_string(name, raw),
    }
}

fn parse_mode(name: &str, raw: &Raw<'_>) -> Result<Option<ConnectionMode>> {
    match raw.text().map(str::to_ascii_lowercase).as_deref() {
        Some("auto") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| bad(name, "auto, single or pooled", raw)),
        None => Err(bad(name, "auto, single or pooled", raw)),
    }
}

/// An unknown codec is a [`Error::Config`], naming the known ones.
fn parse_codec(name: &str, raw: &Raw<'_>) -> Result<Codec> {
    raw.text()
        .and_then(|t| Codec::from_name(t, "config").ok())
        .ok_or_else(|| Error::Config {
            backend: "config",
            message: format!(
                "{name}: unknown codec {}; known codecs: {}",
                raw.shown(),
                CODEC_NAMES.join(", ")
            ),
        })
}

const ENGINES: &[&str] = &["memory", "sqlite", "redis", "hdfs", "webhdfs"];

fn parse_engine(name: &str, raw: &Raw<'_>) -> Result<String> {
    let e = raw.text().map(str::to_ascii_lowercase);
    match e {
        Some(e) if ENGINES.contains(&e.as_str()) => Ok(e),
        _ => Err(bad(name, &format!("one of {}", ENGINES.join(", ")), raw)),
    }
}

impl Layer {
    fn from_toml(text: &str, path: Option<&Path>) -> Result<Layer> {
        let file = path
            .map(|p| format!(" in {}", p.display()))
            .unwrap_or_default();
        let table: toml::Table = text
            .parse()
            .map_err(|e| Error::invalid(format!("config file{file} is not valid TOML: {e}")))?;
        let mut layer = Layer::default();
        let mut seen = BTreeMap::new();
        for (key, value) in &table {
            let upper = key.to_ascii_uppercase();
            if let Some(other) = seen.insert(upper.clone(), key.clone()) {
                return Err(Error::invalid(format!(
                    "config key {upper}{file} is set twice ({other:?} and {key:?})"
                )));
            }
            let name = format!("config key {upper}");
            if upper == "CONNECTOR_CONFIG" {
                let toml::Value::Table(t) = value else {
                    return Err(bad(&name, "a table", &Raw::Toml(value)));
                };
                layer.connector_table(t, &file)?;
                continue;
            }
            if !KEYS.contains(&upper.as_str()) {
                return Err(Error::invalid(format!(
                    "unknown config key {key:?}{file}; known keys: {}",
                    KEYS.join(", ")
                )));
            }
            layer.set(&upper, &name, &Raw::Toml(value), Source::File)?;
        }
        Ok(layer)
    }

    fn connector_table(&mut self, t: &toml::Table, file: &str) -> Result<()> {
        let mut seen = BTreeMap::new();
        for (key, value) in t {
            let lower = key.to_ascii_lowercase();
            if let Some(other) = seen.insert(lower.clone(), key.clone()) {
                return Err(Error::invalid(format!(
                    "config key CONNECTOR_CONFIG.{lower}{file} is set twice ({other:?} and {key:?})"
                )));
            }
            let name = format!("config key CONNECTOR_CONFIG.{lower}");
            let raw = Raw::Toml(value);
            let lower = if lower == "user" {
                "username".into()
            } else {
                lower
            };
            if CONNECTOR_KEYS.contains(&lower.as_str()) {
                self.set_connector(&lower, &name, &raw, Source::File)?;
            } else if lower == "codec" {
                self.set_codec(&name, &raw, Source::File)?;
            } else {
                let v = parse_scalar(&name, &raw)
                    .map_err(|_| bad(&name, "a string, number or boolean", &raw))?;
                self.extras.insert(lower, v);
            }
        }
        Ok(())
    }

    fn from_env(env: &impl Fn(&str) -> Option<String>) -> Result<Layer> {
        let mut layer = Layer::default();
        for key in KEYS.iter().filter(|k| **k != "CONNECTOR_CONFIG") {
            let var = format!("{ENV_PREFIX}{key}");
            if let Some(v) = env(&var).filter(|v| !v.is_empty()) {
                let name = format!("environment variable {var}");
                layer.set(key, &name, &Raw::Env(&v), Source::Env)?;
            }
        }
        for key in CONNECTOR_KEYS {
            let var = format!("{ENV_PREFIX}{}", key.to_ascii_uppercase());
            if let Some(v) = env(&var).filter(|v| !v.is_empty()) {
                let name = format!("environment variable {var}");
                layer.set_connector(key, &name, &Raw::Env(&v), Source::Env)?;
            }
        }
        Ok(layer)
    }

    fn set(&mut self, key: &str, name: &str, raw: &Raw<'_>, source: Source) -> Result<()> {
        let set = |value| Set {
            value,
            source,
            name: name.to_string(),
        };
        match key {
            "URL" => {
                let url = parse_string(name, raw)?;
                if !url.contains("://") {
                    return Err(bad(name, "a store URL such as sqlite://PATH", raw));
                }
                self.url = Some(set(url));
            }
            "ENGINE" => self.engine = Some(set(parse_engine(name, raw)?)),
            "CONNECTION_MODE" => self.mode = Some(parse_mode(name, raw)?),
            "MAX_CONNECTIONS" => {
                let n = parse_usize(name, raw, 1, "a positive integer")?;
                self.max_connections = Some(Set {
                    value: n,
                    source,
                    name: name.to_string(),
                });
            }
            "CONNECTION_TIMEOUT" => self.connection_timeout = parse_seconds(name, raw, false)?,
            "IDLE_TIMEOUT" => self.idle_timeout = Some(parse_seconds(name, raw, true)?),
            "MAX_LIFETIME" => self.max_lifetime = Some(parse_seconds(name, raw, true)?),
            "MIN_IDLE" => {
                let n = parse_usize(name, raw, 0, "a non-negative integer")?;
                self.min_idle = Some(Set {
                    value: n,
                    source,
                    name: name.to_string(),
                });
            }
            "TEST_BEFORE_ACQUIRE" => self.test_before_acquire = Some(parse_bool(name, raw)?),
            "RETRY_ATTEMPTS" => {
                let n = parse_int(name, raw, 1, "a positive integer (1 = no retry)")?;
                let n = u32::try_from(n)
                    .map_err(|_| bad(name, "a positive integer (1 = no retry)", raw))?;
                self.retry_attempts = Some(n);
            }
            "RETRY_BACKOFF_MS" => {
                self.retry_backoff_ms = Some(parse_int(name, raw, 0, "a non-negative integer")?)
            }
            "CODEC" => self.set_codec(name, raw, source)?,
            _ => unreachable!("checked against KEYS"),
        }
        Ok(())
    }

    fn set_codec(&mut self, name: &str, raw: &Raw<'_>, source: Source) -> Result<()> {
        let codec = parse_codec(name, raw)?;
        if let Some(other) = &self.codec {
            return Err(Error::invalid(format!(
                "{name} and {} both set the codec; set one",
                other.name
            )));
        }
        self.codec = Some(Set {
            value: codec,
            source,
            name: name.to_string(),
        });
        Ok(())
    }

    fn set_connector(
        &mut self,
        key: &str,
        name: &str,
        raw: &Raw<'_>,
        source: Source,
    ) -> Result<()> {
        let n = name.to_string();
        match key {
            "host" => {
                self.host = Some(Set {
                    value: parse_string(name, raw)?,
                    source,
                    name: n,
                })
            }
            "port" => {
                let p = parse_int(name, raw, 1, "a port number (1-65535)")?;
                let p = u16::try_from(p).map_err(|_| bad(name, "a port number (1-65535)", raw))?;
                self.port = Some(Set {
                    value: p,
                    source,
                    name: n,
                });
            }
            "username" => {
                self.username = Some(Set {
                    value: parse_string(name, raw)?,
                    source,
                    name: n,
                })
            }
            "password" => {
                // Never echo a password, even a malformed one.
                let p = match raw.text() {
                    Some(s) if !s.is_empty() => Secret::new(s),
                    _ => return Err(Error::invalid(format!("{name}: expected a string"))),
                };
                self.password = Some(Set {
                    value: p,
                    source,
                    name: n,
                });
            }
            "db" => {
                self.db = Some(Set {
                    value: parse_scalar(name, raw)?,
                    source,
                    name: n,
                })
            }
            _ => unreachable!("checked against CONNECTOR_KEYS"),
        }
        Ok(())
    }

    /// This layer over a lower one: what this one sets wins. A URL or ENGINE set here
    /// replaces both of the lower layer's.
    fn over(self, lower: Layer) -> Layer {
        let (url, engine) = if self.url.is_some() || self.engine.is_some() {
            (self.url, self.engine)
        } else {
            (lower.url, lower.engine)
        };
        let mut extras = lower.extras;
        extras.extend(self.extras);
        Layer {
            url,
            engine,
            host: self.host.or(lower.host),
            port: self.port.or(lower.port),
            username: self.username.or(lower.username),
            password: self.password.or(lower.password),
            db: self.db.or(lower.db),
            extras,
            mode: self.mode.or(lower.mode),
            max_connections: self.max_connections.or(lower.max_connections),
            connection_timeout: self.connection_timeout.or(lower.connection_timeout),
            idle_timeout: self.idle_timeout.or(lower.idle_timeout),
            max_lifetime: self.max_lifetime.or(lower.max_lifetime),
            min_idle: self.min_idle.or(lower.min_idle),
            test_before_acquire: self.test_before_acquire.or(lower.test_before_acquire),
            retry_attempts: self.retry_attempts.or(lower.retry_attempts),
            retry_backoff_ms: self.retry_backoff_ms.or(lower.retry_backoff_ms),
            codec: self.codec.or(lower.codec),
        }
    }

    fn build(self) -> Result<Settings> {
        let url = match (&self.url, &self.engine) {
            (Some(u), Some(e)) if u.source == e.source => {
                return Err(Error::invalid(format!(
                    "{} and {} are both set; set one",
                    u.name, e.name
                )))
            }
            (Some(u), _) => {
                // host, port and db belong in the URL; from a lower layer they are replaced.
                let same_layer = [
                    self.host.as_ref().map(|s| (s.source, &s.name)),
                    self.port.as_ref().map(|s| (s.source, &s.name)),
                    self.db.as_ref().map(|s| (s.source, &s.name)),
                ];
                if let Some((_, name)) = same_layer
                    .into_iter()
                    .flatten()
                    .find(|(s, _)| *s >= u.source)
                {
                    return Err(Error::invalid(format!(
                        "{name} has no effect with {}: put it in the URL, or use ENGINE",
                        u.name
                    )));
                }
                match &self.username {
                    Some(user) if network_scheme(&u.value) => {
                        with_userinfo(&u.value, Some(&user.value), None)
                    }
                    _ => u.value.clone(),
                }
            }
            (None, Some(e)) => self.engine_url(&e.value)?,
            (None, None) => {
                if let Some(s) = [&self.host, &self.db].into_iter().flatten().next() {
                    return Err(Error::invalid(format!(
                        "{} needs ENGINE (one of {}) or URL",
                        s.name,
                        ENGINES.join(", ")
                    )));
                }
                DEFAULT_URL.to_string()
            }
        };

        // The codec is the backend's business (the URL's `codec` wins over it): Redis reads it,
        // stores that only hold JSON ignore it. It is not checked against the URL here, since
        // the CLI's --url and the Python package's url= replace the URL after loading.
        let mut extras = self.extras;
        if let Some(codec) = &self.codec {
            extras.insert("codec".into(), codec.value.name().into());
        }

        let defaults = PoolOptions::default();
        let max_connections = self
            .max_connections
            .as_ref()
            .map_or(defaults.max_connections, |s| s.value);
        let min_idle = self.min_idle.as_ref().map_or(0, |s| s.value);
        if min_idle > max_connections {
            let name = self.min_idle.as_ref().map_or("MIN_IDLE", |s| &s.name);
            return Err(Error::invalid(format!(
                "{name}: must not exceed MAX_CONNECTIONS ({max_connections}), got {min_idle}"
            )));
        }
        let retry_defaults = RetryOptions::default();
        let pool = PoolOptions {
            max_connections,
            connection_timeout: self
                .connection_timeout
                .unwrap_or(defaults.connection_timeout),
            idle_timeout: self.idle_timeout.unwrap_or(defaults.idle_timeout),
            max_lifetime: self.max_lifetime.unwrap_or(defaults.max_lifetime),
            min_idle,
            test_before_acquire: self.test_before_acquire.unwrap_or(false),
            retry: RetryOptions {
                attempts: self.retry_attempts.unwrap_or(retry_defaults.attempts),
                backoff: self
                    .retry_backoff_ms
                    .map_or(retry_defaults.backoff, Duration::from_millis),
                ..retry_defaults
            },
        };
        Ok(Settings {
            url,
            options: OpenOptions {
                mode: self.mode.unwrap_or(None),
                pool,
                extras,
            },
            password: self.password.map(|s| s.value),
        })
    }

    /// The URL for an ENGINE and the CONNECTOR_CONFIG host, port, username and db.
    fn engine_url(&self, engine: &str) -> Result<String> {
        let unused = |field: &Option<Set<String>>, what: &str| -> Result<()> {
            match field {
                Some(s) => Err(Error::invalid(format!(
                    "{}: ENGINE {engine} has no {what}",
                    s.name
                ))),
                None => Ok(()),
            }
        };
        let no_port = || -> Result<()> {
            match &self.port {
                Some(s) => Err(Error::invalid(format!(
                    "{}: ENGINE {engine} has no port",
                    s.name
                ))),
                None => Ok(()),
            }
        };
        match engine {
            "memory" => {
                unused(&self.host, "host")?;
                unused(&self.db, "db")?;
                no_port()?;
                Ok("memory://".into())
            }
            "sqlite" => {
                unused(&self.host, "host (db is the file path)")?;
                no_port()?;
                let path = self
                    .db
                    .as_ref()
                    .map_or("recordstore.db", |s| s.value.as_str());
                Ok(format!("sqlite://{path}"))
            }
            _ => {
                let default_port = match engine {
                    "redis" => 6379,
                    "hdfs" => 8020,
                    _ => 9870, // webhdfs
                };
                if engine != "redis" {
                    unused(&self.db, "db (use base_path)")?;
                }
                let host = self.host.as_ref().map_or("localhost", |s| s.value.as_str());
                let host = if host.contains(':') && !host.starts_with('[') {
                    format!("[{host}]")
                } else {
                    host.to_string()
                };
                let port = self.port.as_ref().map_or(default_port, |s| s.value);
                let mut url = format!("{engine}://{host}:{port}");
                if let Some(db) = &self.db {
                    url.push('/');
                    url.push_str(&db.value);
                }
                Ok(match &self.username {
                    Some(u) => with_userinfo(&url, Some(&u.value), None),
                    None => url,
                })
            }
        }
    }
}

/// Whether a URL's scheme talks to a server (and so may carry credentials).
fn network_scheme(url: &str) -> bool {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    matches!(
        scheme.as_deref(),
        Some("redis" | "rediss" | "redis+cluster" | "rediss+cluster" | "hdfs" | "webhdfs")
    )
}

/// Percent-encodes everything but unreserved characters, for the userinfo of a URL.
fn encode_userinfo(s: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, RESERVED).to_string()
}

/// `url` with a username and/or password added where it has none. Works on text, so that
/// multi-host URLs (`redis+cluster://h1:1,h2:2`) keep their form.
fn with_userinfo(url: &str, user: Option<&str>, password: Option<&str>) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (info, hosts) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let (mut u, mut p) = match info {
        Some(i) => match i.split_once(':') {
            Some((u, p)) => (u.to_string(), Some(p.to_string())),
            None => (i.to_string(), None),
        },
        None => (String::new(), None),
    };
    if u.is_empty() {
        if let Some(user) = user {
            u = encode_userinfo(user);
        }
    }
    if p.is_none() {
        p = password.map(encode_userinfo);
    }
    let info = match (u.is_empty(), p) {
        (true, None) => String::new(),
        (_, None) => format!("{u}@"),
        (_, Some(p)) => format!("{u}:{p}@"),
    };
    format!("{scheme}://{info}{hosts}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_added_only_where_missing() {
        assert_eq!(
            with_userinfo("redis://h:1/0", Some("u"), None),
            "redis://u@h:1/0"
        );
        assert_eq!(
            with_userinfo("redis://u@h:1/0", None, Some("p@ss:/")),
            "redis://u:p%40ss%3A%2F@h:1/0"
        );
        assert_eq!(with_userinfo("redis://h", None, Some("p")), "redis://:p@h");
        assert_eq!(
            with_userinfo("redis://a:b@h", Some("x"), Some("y")),
            "redis://a:b@h"
        );
        assert_eq!(
            with_userinfo("redis+cluster://h1:1,h2:2", None, Some("p")),
            "redis+cluster://:p@h1:1,h2:2"
        );
    }
}
