//! The TOML config file: keys, defaults, layering (defaults < file < environment), errors
//! that name the key and value, and passwords that are never printed.

use recordstore::config::{Settings, EXAMPLE};
use recordstore::connection::{ConnectionMode, PoolOptions};
use recordstore::{ErrorKind, DEFAULT_URL};
use std::collections::HashMap;
use std::time::Duration;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn parse(text: &str) -> recordstore::Result<Settings> {
    Settings::from_toml(text, &env(&[]))
}

fn err(text: &str) -> String {
    let e = parse(text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    e.to_string()
}

#[test]
fn every_key_has_a_default() {
    let s = Settings::load(None, &env(&[])).unwrap();
    assert_eq!(s.url, DEFAULT_URL);
    assert_eq!(s.options.mode, None, "auto");
    assert_eq!(s.options.pool, PoolOptions::default());
    assert!(s.options.extras.is_empty());
    assert!(s.password.is_none());
    let empty = parse("").unwrap();
    assert_eq!(empty.url, DEFAULT_URL);
    assert_eq!(empty.options.pool, PoolOptions::default());
}

#[test]
fn the_example_parses() {
    let s = parse(EXAMPLE).unwrap();
    assert_eq!(s.url, "redis://app@localhost:6379/0");
    assert_eq!(s.options.mode, None);
    assert_eq!(
        s.options.pool,
        PoolOptions {
            max_lifetime: None,
            ..PoolOptions::default()
        }
    );
    assert_eq!(
        s.options.extras.get("prefix").map(String::as_str),
        Some("myapp")
    );
}

#[test]
fn every_key_is_read() {
    let s = parse(
        r#"
        URL = "sqlite:///tmp/x.db"
        CONNECTION_MODE = "single"
        MAX_CONNECTIONS = 4
        CONNECTION_TIMEOUT = 2.5
        IDLE_TIMEOUT = 0
        MAX_LIFETIME = 600
        MIN_IDLE = 1
        TEST_BEFORE_ACQUIRE = true
        RETRY_ATTEMPTS = 1
        RETRY_BACKOFF_MS = 10
        "#,
    )
    .unwrap();
    assert_eq!(s.url, "sqlite:///tmp/x.db");
    assert_eq!(s.options.mode, Some(ConnectionMode::Single));
    let p = &s.options.pool;
    assert_eq!(p.max_connections, 4);
    assert_eq!(p.connection_timeout, Duration::from_millis(2500));
    assert_eq!(p.idle_timeout, None);
    assert_eq!(p.max_lifetime, Some(Duration::from_secs(600)));
    assert_eq!(p.min_idle, 1);
    assert!(p.test_before_acquire);
    assert_eq!(p.retry.attempts, 1);
    assert_eq!(p.retry.backoff, Duration::from_millis(10));
}

#[test]
fn keys_are_case_insensitive() {
    let s = parse("max_connections = 3\nConnection_Mode = \"POOLED\"").unwrap();
    assert_eq!(s.options.pool.max_connections, 3);
    assert_eq!(s.options.mode, Some(ConnectionMode::Pooled));
    let e = err("MAX_CONNECTIONS = 3\nmax_connections = 4");
    assert!(e.contains("set twice"), "{e}");
}

#[test]
fn bad_values_name_the_key_and_the_value() {
    assert_eq!(
        err(r#"MAX_CONNECTIONS = "ten""#),
        "invalid input: config key MAX_CONNECTIONS: expected a positive integer, got \"ten\""
    );
    for (text, needle) in [
        (
            "MAX_CONNECTIONS = 0",
            "MAX_CONNECTIONS: expected a positive integer, got 0",
        ),
        ("MAX_CONNECTIONS = -3", "got -3"),
        (
            "CONNECTION_TIMEOUT = 0",
            "CONNECTION_TIMEOUT: expected a positive number of seconds",
        ),
        (
            "IDLE_TIMEOUT = \"soon\"",
            "IDLE_TIMEOUT: expected a number of seconds",
        ),
        (
            "CONNECTION_MODE = \"sometimes\"",
            "CONNECTION_MODE: expected auto, single or pooled, got \"sometimes\"",
        ),
        (
            "ENGINE = \"oracle\"",
            "ENGINE: expected one of memory, sqlite, redis, hdfs, webhdfs",
        ),
        (
            "TEST_BEFORE_ACQUIRE = \"maybe\"",
            "TEST_BEFORE_ACQUIRE: expected true or false",
        ),
        (
            "RETRY_ATTEMPTS = 0",
            "RETRY_ATTEMPTS: expected a positive integer",
        ),
        ("URL = \"recordstore.db\"", "URL: expected a store URL"),
        (
            "MIN_IDLE = 20",
            "MIN_IDLE: must not exceed MAX_CONNECTIONS (10), got 20",
        ),
        ("CONNECTOR_CONFIG = 3", "CONNECTOR_CONFIG: expected a table"),
        (
            "[CONNECTOR_CONFIG]\nport = 70000",
            "CONNECTOR_CONFIG.port: expected a port number",
        ),
        (
            "[CONNECTOR_CONFIG]\nprefix = [1]",
            "CONNECTOR_CONFIG.prefix: expected a string",
        ),
        ("MAX_CONNECTIONS = ", "not valid TOML"),
    ] {
        let e = err(text);
        assert!(e.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn unknown_keys_are_errors() {
    let e = err("MAX_CONECTIONS = 3");
    assert!(e.contains("unknown config key \"MAX_CONECTIONS\""), "{e}");
    assert!(e.contains("MAX_CONNECTIONS"), "lists the known keys: {e}");
}

#[test]
fn engine_and_connector_config_build_the_url() {
    for (text, url) in [
        ("ENGINE = \"memory\"", "memory://"),
        ("ENGINE = \"sqlite\"", "sqlite://recordstore.db"),
        (
            "ENGINE = \"sqlite\"\n[CONNECTOR_CONFIG]\ndb = \"/data/r.db\"",
            "sqlite:///data/r.db",
        ),
        ("ENGINE = \"redis\"", "redis://localhost:6379"),
        (
            "ENGINE = \"redis\"\n[CONNECTOR_CONFIG]\nhost = \"r1\"\nport = 7000\ndb = 2",
            "redis://r1:7000/2",
        ),
        (
            "ENGINE = \"hdfs\"\n[CONNECTOR_CONFIG]\nhost = \"nn\"",
            "hdfs://nn:8020",
        ),
        (
            "ENGINE = \"webhdfs\"\n[CONNECTOR_CONFIG]\nhost = \"::1\"\nusername = \"hd fs\"",
            "webhdfs://hd%20fs@[::1]:9870",
        ),
    ] {
        assert_eq!(parse(text).unwrap().url, url, "{text}");
    }
    let s =
        parse("ENGINE = \"hdfs\"\n[CONNECTOR_CONFIG]\nbase_path = \"/records\"\nreplication = 2")
            .unwrap();
    assert_eq!(s.options.extras.get("base_path").unwrap(), "/records");
    assert_eq!(s.options.extras.get("replication").unwrap(), "2");
}

#[test]
fn conflicting_url_settings_are_errors() {
    let e = err("URL = \"redis://a\"\nENGINE = \"redis\"");
    assert!(
        e.contains("URL") && e.contains("ENGINE") && e.contains("both"),
        "{e}"
    );
    let e = err("URL = \"redis://a\"\n[CONNECTOR_CONFIG]\nhost = \"b\"");
    assert!(
        e.contains("CONNECTOR_CONFIG.host has no effect with config key URL"),
        "{e}"
    );
    let e = err("[CONNECTOR_CONFIG]\nhost = \"b\"");
    assert!(e.contains("needs ENGINE"), "{e}");
    let e = err("ENGINE = \"sqlite\"\n[CONNECTOR_CONFIG]\nport = 1");
    assert!(e.contains("ENGINE sqlite has no port"), "{e}");
}

#[test]
fn the_environment_overrides_the_file() {
    let file = "ENGINE = \"redis\"\nMAX_CONNECTIONS = 4\nIDLE_TIMEOUT = 60\n[CONNECTOR_CONFIG]\nhost = \"filehost\"\nprefix = \"p\"";
    let vars = env(&[
        ("RECORDSTORE_MAX_CONNECTIONS", "8"),
        ("RECORDSTORE_CONNECTION_MODE", "single"),
        ("RECORDSTORE_CONNECTION_TIMEOUT", "1"),
        ("RECORDSTORE_RETRY_ATTEMPTS", "5"),
        ("RECORDSTORE_HOST", "envhost"),
        ("RECORDSTORE_TEST_BEFORE_ACQUIRE", "yes"),
    ]);
    let s = Settings::from_toml(file, &vars).unwrap();
    assert_eq!(s.url, "redis://envhost:6379");
    assert_eq!(s.options.pool.max_connections, 8);
    assert_eq!(
        s.options.pool.idle_timeout,
        Some(Duration::from_secs(60)),
        "file value kept"
    );
    assert_eq!(s.options.pool.connection_timeout, Duration::from_secs(1));
    assert_eq!(s.options.pool.retry.attempts, 5);
    assert!(s.options.pool.test_before_acquire);
    assert_eq!(s.options.mode, Some(ConnectionMode::Single));
    assert_eq!(s.options.extras.get("prefix").unwrap(), "p");

    // An environment URL replaces the file's ENGINE and its host.
    let s = Settings::from_toml(file, &env(&[("RECORDSTORE_URL", "memory://")])).unwrap();
    assert_eq!(s.url, "memory://");

    let e = Settings::from_toml("", &env(&[("RECORDSTORE_MAX_CONNECTIONS", "ten")])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid input: environment variable RECORDSTORE_MAX_CONNECTIONS: expected a positive integer, got \"ten\""
    );
}

#[test]
fn passwords_are_used_but_never_printed() {
    let text = "ENGINE = \"redis\"\n[CONNECTOR_CONFIG]\nusername = \"app\"\npassword = \"hunter2:@/\"\napi_token = \"tok-123\"";
    let s = parse(text).unwrap();
    assert_eq!(
        s.url, "redis://app@localhost:6379",
        "the URL field holds no password"
    );
    assert_eq!(
        s.connect_url(),
        "redis://app:hunter2%3A%40%2F@localhost:6379"
    );
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("tok-123"),
        "{shown}"
    );
    assert!(shown.contains("***"), "{shown}");

    // From the environment, over a URL from the file.
    let s = Settings::from_toml(
        "URL = \"redis://cache:6379/1\"",
        &env(&[("RECORDSTORE_PASSWORD", "s3cret")]),
    )
    .unwrap();
    assert_eq!(s.connect_url(), "redis://:s3cret@cache:6379/1");
    assert!(!format!("{s:?}").contains("s3cret"));

    // A password written into the URL is redacted in Debug too.
    let s = parse("URL = \"redis://u:inline-pw@h:1/0\"").unwrap();
    assert!(!format!("{s:?}").contains("inline-pw"));

    // A bad password value is reported without echoing it.
    let e = Settings::from_toml("[CONNECTOR_CONFIG]\npassword = 12345678", &env(&[])).unwrap_err();
    assert!(!e.to_string().contains("12345678"), "{e}");
    // A local store ignores the password.
    let s = parse("ENGINE = \"sqlite\"\n[CONNECTOR_CONFIG]\npassword = \"x\"").unwrap();
    assert_eq!(s.connect_url(), "sqlite://recordstore.db");
}

#[test]
fn the_file_comes_from_the_path_or_recordstore_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rs.toml");
    std::fs::write(&path, "MAX_CONNECTIONS = 7\nURL = \"memory://\"").unwrap();
    let s = Settings::load(Some(&path), &env(&[])).unwrap();
    assert_eq!(
        (s.url.as_str(), s.options.pool.max_connections),
        ("memory://", 7)
    );
    let p = path.display().to_string();
    let s = Settings::load(None, &env(&[("RECORDSTORE_CONFIG", &p)])).unwrap();
    assert_eq!(s.options.pool.max_connections, 7);
    let e = Settings::load(Some(&dir.path().join("missing.toml")), &env(&[])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("missing.toml"), "{e}");
    std::fs::write(&path, "BOGUS = 1").unwrap();
    let e = Settings::load(Some(&path), &env(&[])).unwrap_err();
    assert!(e.to_string().contains("rs.toml"), "names the file: {e}");
}

#[tokio::test]
async fn settings_open_the_store() {
    let s = parse("URL = \"memory://\"").unwrap();
    let store = s.open().await.unwrap();
    assert_eq!(store.backend(), "memory");
}

#[test]
fn the_codec_is_a_key_an_extra_and_a_variable() {
    let codec = |s: &Settings| s.options.extras.get("codec").cloned();
    let s = parse("URL = \"redis://h:1/0\"\ncodec = \"pickle\"").unwrap();
    assert_eq!(codec(&s).as_deref(), Some("pickle"));
    let s = parse("URL = \"redis://h:1/0\"\n[CONNECTOR_CONFIG]\ncodec = \"PICKLE\"").unwrap();
    assert_eq!(codec(&s).as_deref(), Some("pickle"));
    let s = Settings::from_toml(
        "URL = \"redis://h:1/0\"\nCODEC = \"pickle\"",
        &env(&[("RECORDSTORE_CODEC", "json")]),
    )
    .unwrap();
    assert_eq!(codec(&s).as_deref(), Some("json"), "the environment wins");
    assert_eq!(codec(&parse("URL = \"redis://h:1/0\"").unwrap()), None);

    // An unknown codec is a configuration error that names the key and the known codecs.
    for text in [
        "URL = \"redis://h:1/0\"\nCODEC = \"xml\"",
        "URL = \"redis://h:1/0\"\n[CONNECTOR_CONFIG]\ncodec = \"xml\"",
        "URL = \"redis://h:1/0\"\nCODEC = 3",
    ] {
        let e = parse(text).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        let m = e.to_string();
        assert!(m.contains("CODEC") || m.contains("codec"), "{m}");
        assert!(m.contains("json, pickle"), "{m}");
    }
    let m = err("URL = \"redis://h:1/0\"\nCODEC = \"json\"\n[CONNECTOR_CONFIG]\ncodec = \"json\"");
    assert!(m.contains("set one"), "{m}");
    // The URL may still change after loading (--url, url=), so the codec is the backend's to
    // apply: stores that hold only JSON ignore it.
    let s = parse("URL = \"sqlite://x.db\"\nCODEC = \"pickle\"").unwrap();
    assert_eq!(codec(&s).as_deref(), Some("pickle"));
}

#[tokio::test]
async fn an_unknown_codec_in_a_url_is_a_configuration_error() {
    let e = recordstore::open("redis://127.0.0.1:1/0?codec=msgpack")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("json, pickle"), "{e}");
    let s = recordstore::open("redis://127.0.0.1:1/0?codec=pickle")
        .await
        .unwrap();
    assert!(format!("{s:?}").contains("Pickle"), "{s:?}");
}
