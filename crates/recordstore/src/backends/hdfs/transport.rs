//! What both HDFS transports share, below them: the error vocabulary of a file-system call,
//! the mapping of Java exception names, and the [`FileSystem`] trait they implement.

use crate::error::Error;

/// The outcome of a file-system call, before the store adds the schema and key.
#[derive(Debug)]
pub(crate) enum FsError {
    /// The NameNode answered that the path does not exist.
    NotFound,
    /// The NameNode answered that the path exists (or is being created by another client).
    Exists,
    /// Anything else, already mapped (connection, timeout, auth, backend).
    Failed(Error),
}

impl FsError {
    /// The error for a path that was expected to exist or not; `NotFound`/`Exists` become
    /// the given fallbacks.
    pub(crate) fn into_error(
        self,
        not_found: impl FnOnce() -> Error,
        exists: impl FnOnce() -> Error,
    ) -> Error {
        match self {
            FsError::NotFound => not_found(),
            FsError::Exists => exists(),
            FsError::Failed(e) => e,
        }
    }
}

/// Maps a Java exception name (short, e.g. `FileNotFoundException`) from either transport.
pub(crate) fn remote_exception(backend: &'static str, exception: &str, message: &str) -> FsError {
    match exception {
        "FileNotFoundException" => FsError::NotFound,
        "FileAlreadyExistsException" | "AlreadyBeingCreatedException" => FsError::Exists,
        "AccessControlException"
        | "SecurityException"
        | "AuthorizationException"
        | "InvalidToken"
        | "SecretManager$InvalidToken" => FsError::Failed(Error::Auth {
            backend,
            message: message.to_string(),
        }),
        // The NameNode is starting, failing over or busy: trying again later can work.
        "SafeModeException"
        | "RetriableException"
        | "StandbyException"
        | "ObserverRetryOnActiveException"
        | "ServerTooBusyException"
        | "NotReplicatedYetException" => FsError::Failed(Error::Backend {
            backend,
            message: message.to_string(),
            temporary: true,
            source: None,
        }),
        _ => FsError::Failed(Error::Backend {
            backend,
            message: message.to_string(),
            temporary: false,
            source: None,
        }),
    }
}

/// The file-system calls the store makes, which each transport implements. Paths are absolute
/// HDFS paths; only a NameNode *answer* may be `NotFound` or `Exists`.
pub(crate) trait FileSystem {
    /// Whether a file or directory exists.
    async fn exists(&self, path: &str) -> Result<bool, FsError>;
    /// The entries of `dir`: each name, and whether it is a directory.
    async fn list(&self, dir: &str) -> Result<Vec<(String, bool)>, FsError>;
    /// A whole file.
    async fn read(&self, path: &str) -> Result<Vec<u8>, FsError>;
    /// Creates a new file with `data`, never overwriting.
    async fn create(&self, path: &str, data: Vec<u8>, create_parent: bool) -> Result<(), FsError>;
    /// Renames `src` to `dst`; without `overwrite`, an existing `dst` is `Exists`.
    async fn rename(&self, src: &str, dst: &str, overwrite: bool) -> Result<(), FsError>;
    /// Deletes a file; `false` if there was none.
    async fn delete(&self, path: &str) -> Result<bool, FsError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn java_exceptions_map_to_our_errors() {
        let kind = |ex: &str| match remote_exception("hdfs", ex, "m") {
            FsError::NotFound => "not found".to_string(),
            FsError::Exists => "exists".to_string(),
            FsError::Failed(e) => format!("{:?} {}", e.kind(), e.is_temporary()),
        };
        assert_eq!(kind("FileNotFoundException"), "not found");
        assert_eq!(kind("FileAlreadyExistsException"), "exists");
        assert_eq!(kind("AlreadyBeingCreatedException"), "exists");
        assert_eq!(
            kind("AccessControlException"),
            format!("{:?} false", ErrorKind::Auth)
        );
        assert_eq!(
            kind("SafeModeException"),
            format!("{:?} true", ErrorKind::Backend)
        );
        assert_eq!(
            kind("StandbyException"),
            format!("{:?} true", ErrorKind::Backend)
        );
        assert_eq!(
            kind("ParentNotDirectoryException"),
            format!("{:?} false", ErrorKind::Backend)
        );
    }
}
