//! The client's errors, mapped onto ours, in words: never the client's `Debug` text.

use crate::error::Error;
use redis::RedisError;

/// The client's error as one line of text: a server error as the server worded it
/// (`ERR unknown command ...`), anything else without the client's `Debug` names.
pub(crate) fn describe(e: &RedisError) -> String {
    use redis::ErrorKind as K;
    let text = match (e.kind(), e.code(), e.detail()) {
        (K::Server(_) | K::Extension, Some(code), Some(detail)) => format!("{code} {detail}"),
        (K::Parse, _, _) => e.to_string(),
        // "description - Kind: detail" without the `Debug` name of the kind.
        (kind, _, _) => e
            .to_string()
            .replacen(&format!(" - {kind:?}"), "", 1)
            .replace('"', ""),
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

/// Whether the server refused the command because the key holds another type of value.
fn is_wrongtype(e: &RedisError) -> bool {
    e.code() == Some("WRONGTYPE") || e.to_string().contains("WRONGTYPE")
}

/// Maps a client error onto ours. `address` names the server, `what` the command, `hash` the
/// schema's Redis key when the command had one.
///
/// I/O failures (refused, reset, dropped, timed out) are `Connection` or `Timeout`, so they are
/// retried where safe and never read as "not found"; refused credentials are `Auth`; a
/// schema's key that holds another type is `Config`; the rest is `Backend`, temporary when the
/// server says so (loading, cluster down, try again).
pub(crate) fn map_error(e: RedisError, address: &str, what: &str, hash: Option<&str>) -> Error {
    use redis::{ErrorKind as K, ServerErrorKind as S};
    let code = e.code().unwrap_or("").to_string();
    if e.kind() == K::AuthenticationFailed
        || matches!(code.as_str(), "NOAUTH" | "WRONGPASS" | "NOPERM")
    {
        let detail = e.detail().map(|d| format!(" ({d})")).unwrap_or_default();
        let cause = match code.as_str() {
            "NOAUTH" => "the server requires a password and none was given: add it to the URL \
                         (redis://:PASSWORD@host) or set RECORDSTORE_PASSWORD"
                .to_string(),
            "NOPERM" => format!(
                "the user lacks a permission{detail}: grant it with ACL SETUSER, or connect as \
                 another user"
            ),
            _ => format!(
                "the server rejected the user name or password{detail}: check the user and \
                 password in the URL or RECORDSTORE_PASSWORD"
            ),
        };
        return Error::Auth {
            backend: "redis",
            message: format!("{address}: {what}: {cause}"),
        };
    }
    if is_wrongtype(&e) {
        let key = hash.map_or_else(
            || "a schema's key".to_string(),
            |h| format!("the key {h:?}"),
        );
        return Error::Config {
            backend: "redis",
            message: format!(
                "{address}: {what}: {key} holds a value of another type, not a hash of records \
                 (WRONGTYPE): another program uses that key; use another schema name, or a \
                 ?prefix= in the URL to keep this application's keys apart"
            ),
        };
    }
    if e.is_connection_refusal() {
        return Error::Connection {
            backend: "redis",
            message: format!(
                "{what} {address}: connection refused: is a Redis server running there?"
            ),
            source: Some(Box::new(e)),
        };
    }
    if e.is_timeout() {
        return Error::Timeout {
            backend: "redis",
            message: format!("{what} {address}: no answer within the connection timeout"),
        };
    }
    if e.is_io_error() || e.kind() == K::ClusterConnectionNotFound {
        let why = if e.is_connection_dropped() {
            "connection lost"
        } else {
            "I/O error"
        };
        return Error::Connection {
            backend: "redis",
            message: format!("{what} {address}: {why}: {}", describe(&e)),
            source: Some(Box::new(e)),
        };
    }
    // BUSY: a script is running; READONLY: a failover demoted the node. Parse: the reply is
    // not RESP or not the shape the command answers (the redis crate has one kind for both),
    // which on a well-behaved server means the connection lost its place: replace it.
    let temporary = matches!(code.as_str(), "BUSY" | "READONLY")
        || matches!(
            e.kind(),
            K::Server(
                S::BusyLoading | S::TryAgain | S::ClusterDown | S::MasterDown | S::Moved | S::Ask
            ) | K::Parse
        );
    Error::Backend {
        backend: "redis",
        message: format!("{what} {address}: {}", describe(&e)),
        temporary,
        source: Some(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::{ErrorKind as K, ServerErrorKind as S};

    #[test]
    fn messages_carry_no_debug_text() {
        let refused: RedisError = (
            K::Server(S::ResponseError),
            "Redis server refused to switch database",
            "DB index is out of range".to_string(),
        )
            .into();
        let text = describe(&refused);
        assert!(!text.contains("ResponseError"), "{text}");
        assert!(text.contains("DB index is out of range"), "{text}");
        let e = map_error(refused, "h:1", "connect", None);
        assert!(!e.to_string().contains("ResponseError"), "{e}");
        let plain: RedisError = (K::Client, "a reply line longer than 1 MiB").into();
        assert_eq!(describe(&plain), "a reply line longer than 1 MiB");
    }
}
