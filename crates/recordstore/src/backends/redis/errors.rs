//! The client's errors, mapped onto ours.

use crate::error::Error;
use redis::RedisError;

/// Maps a client error onto ours. `address` names the server, `what` the command.
///
/// I/O failures (refused, reset, dropped, timed out) are `Connection` or `Timeout`, so they are
/// retried where safe and never read as "not found"; refused credentials are `Auth`; the rest
/// is `Backend`, temporary when the server says so (loading, cluster down, try again).
pub(crate) fn map_error(e: RedisError, address: &str, what: &str) -> Error {
    use redis::{ErrorKind as K, ServerErrorKind as S};
    let code = e.code().unwrap_or("").to_string();
    if e.kind() == K::AuthenticationFailed
        || matches!(code.as_str(), "NOAUTH" | "WRONGPASS" | "NOPERM")
    {
        let detail = e.detail().map(|d| format!(" ({d})")).unwrap_or_default();
        let cause = match code.as_str() {
            "NOAUTH" => "the server requires a password and none was given".to_string(),
            "NOPERM" => format!("the user lacks a permission{detail}"),
            _ => format!("the server rejected the user name or password{detail}"),
        };
        return Error::Auth {
            backend: "redis",
            message: format!("{address}: {what}: {cause}"),
        };
    }
    if e.is_connection_refusal() {
        return Error::Connection {
            backend: "redis",
            message: format!("{what} {address}: connection refused"),
            source: Some(Box::new(e)),
        };
    }
    if e.is_timeout() {
        return Error::Timeout {
            backend: "redis",
            message: format!("{what} {address}: no answer within the timeout"),
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
            message: format!("{what} {address}: {why}: {e}"),
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
        message: format!("{what} {address}: {e}"),
        temporary,
        source: Some(Box::new(e)),
    }
}
