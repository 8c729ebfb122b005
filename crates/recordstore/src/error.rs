//! The one error type of the crate.
//!
//! Every variant carries enough context to act on it (the schema and key, the backend, the
//! cause), and [`Error::is_temporary`] tells a retry loop whether trying again can help.

use std::fmt;

/// A boxed error from a client library, kept as the cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in recordstore.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The record does not exist (update, delete, get or reload of a missing key).
    #[error("record not found: schema {schema:?}, key {key:?}")]
    NotFound {
        /// The schema that was searched.
        schema: String,
        /// The key that was not found.
        key: String,
    },

    /// An insert found the key taken.
    #[error("record already exists: schema {schema:?}, key {key:?}")]
    AlreadyExists {
        /// The schema of the record.
        schema: String,
        /// The key that is already taken.
        key: String,
    },

    /// The caller's input was rejected before any I/O: a bad name, a record that is not a
    /// JSON object, a malformed filter, a bad URL or config value.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What was wrong, naming the offending value.
        message: String,
    },

    /// Stored data could not be decoded. It is reported, never skipped.
    #[error("corrupt record: schema {schema:?}, key {key:?}: {message}")]
    Corrupt {
        /// The schema of the corrupt record.
        schema: String,
        /// The key (or file name) of the corrupt record.
        key: String,
        /// Why it could not be decoded.
        message: String,
    },

    /// The backend could not be reached, or the connection broke mid-operation.
    #[error("{backend}: connection failed: {message}")]
    Connection {
        /// The backend, e.g. `redis`.
        backend: &'static str,
        /// What failed, in words.
        message: String,
        /// The client library's error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// An operation or a connection acquisition ran out of time.
    #[error("{backend}: timed out: {message}")]
    Timeout {
        /// The backend, e.g. `sqlite`.
        backend: &'static str,
        /// What timed out, and the last cause seen while waiting.
        message: String,
    },

    /// The backend refused the credentials.
    #[error("{backend}: authentication failed: {message}")]
    Auth {
        /// The backend, e.g. `redis`.
        backend: &'static str,
        /// The server's reason.
        message: String,
    },

    /// The settings point at something that cannot serve as a store, and trying again will
    /// not change that: a SQLite path in a missing directory, a directory, a file without
    /// permission or on a read-only file system, a file that is not a recordstore database; a
    /// Redis database number the server does not have, a password for a server that has none,
    /// or a schema whose Redis key holds a value of another type.
    #[error("{backend}: {message}")]
    Config {
        /// The backend, e.g. `sqlite`.
        backend: &'static str,
        /// What is wrong, naming the file, server or key, and what to change.
        message: String,
    },

    /// The server at the address answered, but not in the backend's protocol: an HTTP server
    /// at a `redis://` URL, say. Permanent: the URL names the wrong port or host.
    #[error("{address} did not answer as a {protocol} server: {message}")]
    Protocol {
        /// The backend, e.g. `redis`.
        backend: &'static str,
        /// The protocol that was expected, e.g. `Redis`.
        protocol: &'static str,
        /// The server's `host:port`.
        address: String,
        /// What was seen instead, and what to check.
        message: String,
    },

    /// Any other backend failure.
    #[error("{backend}: {message}")]
    Backend {
        /// The backend, e.g. `hdfs`.
        backend: &'static str,
        /// What failed.
        message: String,
        /// Whether trying again may succeed.
        temporary: bool,
        /// The client library's error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// The store or its connection manager has been closed.
    #[error("the store is closed")]
    Closed,
}

/// What a retry loop should do with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryMethod {
    /// Do not retry: the answer will not change (not found, exists, bad input, corrupt data).
    NoRetry,
    /// Retry on a fresh connection, after a backoff.
    Reconnect,
}

/// The kind of an error, without its context, for matching in tests and CLIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::AlreadyExists`].
    AlreadyExists,
    /// See [`Error::InvalidInput`].
    InvalidInput,
    /// See [`Error::Corrupt`].
    Corrupt,
    /// See [`Error::Connection`].
    Connection,
    /// See [`Error::Timeout`].
    Timeout,
    /// See [`Error::Auth`].
    Auth,
    /// See [`Error::Config`].
    Config,
    /// See [`Error::Protocol`].
    Protocol,
    /// See [`Error::Backend`].
    Backend,
    /// See [`Error::Closed`].
    Closed,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Error {
    /// An [`Error::InvalidInput`] with the given message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// An [`Error::NotFound`] for `schema` and `key`.
    pub fn not_found(schema: impl Into<String>, key: impl Into<String>) -> Self {
        Error::NotFound {
            schema: schema.into(),
            key: key.into(),
        }
    }

    /// An [`Error::AlreadyExists`] for `schema` and `key`.
    pub fn already_exists(schema: impl Into<String>, key: impl Into<String>) -> Self {
        Error::AlreadyExists {
            schema: schema.into(),
            key: key.into(),
        }
    }

    /// An [`Error::Corrupt`] for `schema` and `key`.
    pub fn corrupt(
        schema: impl Into<String>,
        key: impl Into<String>,
        message: impl fmt::Display,
    ) -> Self {
        Error::Corrupt {
            schema: schema.into(),
            key: key.into(),
            message: message.to_string(),
        }
    }

    /// An [`Error::Connection`] with a cause.
    pub fn connection(
        backend: &'static str,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Connection {
            backend,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::Connection { .. } => ErrorKind::Connection,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::Config { .. } => ErrorKind::Config,
            Error::Protocol { .. } => ErrorKind::Protocol,
            Error::Backend { .. } => ErrorKind::Backend,
            Error::Closed => ErrorKind::Closed,
        }
    }

    /// True when trying again may succeed: a refused, reset or timed-out connection.
    ///
    /// NotFound, AlreadyExists, InvalidInput, Corrupt, Auth, Config and Protocol are permanent:
    /// retrying them only delays the same answer.
    pub fn is_temporary(&self) -> bool {
        match self {
            Error::Connection { .. } | Error::Timeout { .. } => true,
            Error::Backend { temporary, .. } => *temporary,
            _ => false,
        }
    }

    /// True for a failure to reach the backend or a dropped connection.
    pub fn is_connection(&self) -> bool {
        matches!(self, Error::Connection { .. })
    }

    /// True for a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// True for [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// What a retry loop should do with this error.
    pub fn retry_method(&self) -> RetryMethod {
        if self.is_temporary() {
            RetryMethod::Reconnect
        } else {
            RetryMethod::NoRetry
        }
    }

    /// True for an error that no retry or other input can fix, only a change to the store's
    /// settings or the store itself: [`Error::Auth`], [`Error::Config`], [`Error::Protocol`]
    /// and [`Error::Closed`]. A batch call fails whole on these rather than record by record.
    pub fn is_store_wide(&self) -> bool {
        matches!(
            self,
            Error::Auth { .. } | Error::Config { .. } | Error::Protocol { .. } | Error::Closed
        )
    }

    /// The process exit code the CLI uses for this error (the README's table).
    ///
    /// | code | kind |
    /// |---|---|
    /// | 3 | [`ErrorKind::NotFound`] |
    /// | 4 | [`ErrorKind::AlreadyExists`] |
    /// | 5 | [`ErrorKind::Connection`], [`ErrorKind::Timeout`], [`ErrorKind::Protocol`]: no usable server at the address |
    /// | 6 | [`ErrorKind::InvalidInput`], [`ErrorKind::Corrupt`] |
    /// | 7 | [`ErrorKind::Auth`] |
    /// | 8 | [`ErrorKind::Config`] |
    /// | 1 | [`ErrorKind::Backend`], [`ErrorKind::Closed`], and any kind added later |
    ///
    /// (2 is the CLI's own: a usage error.)
    pub fn exit_code(&self) -> i32 {
        match self.kind() {
            ErrorKind::NotFound => 3,
            ErrorKind::AlreadyExists => 4,
            ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Protocol => 5,
            ErrorKind::InvalidInput | ErrorKind::Corrupt => 6,
            ErrorKind::Auth => 7,
            ErrorKind::Config => 8,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_errors_are_never_retried() {
        for e in [
            Error::not_found("s", "k"),
            Error::already_exists("s", "k"),
            Error::invalid("x"),
            Error::corrupt("s", "k", "bad"),
        ] {
            assert!(!e.is_temporary(), "{e}");
            assert_eq!(e.retry_method(), RetryMethod::NoRetry);
        }
        let e = Error::connection("redis", "refused", "io");
        assert!(e.is_temporary());
        assert_eq!(e.exit_code(), 5);
    }

    #[test]
    fn settings_errors_are_permanent_and_have_their_own_exit_codes() {
        let auth = Error::Auth {
            backend: "redis",
            message: "wrong password".into(),
        };
        let config = Error::Config {
            backend: "sqlite",
            message: "no such directory".into(),
        };
        let protocol = Error::Protocol {
            backend: "redis",
            protocol: "Redis",
            address: "127.0.0.1:9870".into(),
            message: "it sent something else".into(),
        };
        for (e, kind, code) in [
            (&auth, ErrorKind::Auth, 7),
            (&config, ErrorKind::Config, 8),
            (&protocol, ErrorKind::Protocol, 5),
        ] {
            assert_eq!(e.kind(), kind);
            assert!(!e.is_temporary(), "{e}");
            assert!(e.is_store_wide(), "{e}");
            assert_eq!(e.retry_method(), RetryMethod::NoRetry);
            assert_eq!(e.exit_code(), code, "{e}");
        }
        assert!(protocol
            .to_string()
            .starts_with("127.0.0.1:9870 did not answer as a Redis server"));
        assert!(!Error::not_found("s", "k").is_store_wide());
    }

    #[test]
    fn messages_name_schema_and_key() {
        let e = Error::not_found("tasks", "t-1");
        assert_eq!(
            e.to_string(),
            "record not found: schema \"tasks\", key \"t-1\""
        );
    }
}
