//! The few file-system operations the store needs, over either transport, with one error
//! vocabulary.

use super::native::NativeFs;
use super::webhdfs::WebHdfs;
use crate::error::Error;
use std::future::Future;
use std::time::Duration;

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

/// One connection to HDFS, over either transport. Cheap to clone: clones share the client.
#[derive(Clone, Debug)]
pub struct HdfsConnection {
    pub(crate) inner: Transported,
    pub(crate) request_timeout: Duration,
}

#[derive(Clone, Debug)]
pub(crate) enum Transported {
    Native(NativeFs),
    Web(WebHdfs),
}

macro_rules! dispatch {
    ($self:ident, $what:expr, $c:ident => $call:expr) => {
        $self
            .timed($what, async {
                match &$self.inner {
                    Transported::Native($c) => $call.await,
                    Transported::Web($c) => $call.await,
                }
            })
            .await
    };
}

impl HdfsConnection {
    /// Bounds one call, so a NameNode or DataNode that stops answering (but keeps its socket
    /// open) is a timeout rather than a hang.
    async fn timed<T>(
        &self,
        what: String,
        fut: impl Future<Output = Result<T, FsError>>,
    ) -> Result<T, FsError> {
        match tokio::time::timeout(self.request_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(FsError::Failed(Error::Timeout {
                backend: "hdfs",
                message: format!("{what} got no answer within {:?}", self.request_timeout),
            })),
        }
    }

    /// Whether a file or directory exists.
    pub(crate) async fn exists(&self, path: &str) -> Result<bool, FsError> {
        dispatch!(self, format!("stat {path}"), c => c.exists(path))
    }

    /// The names of the files (not directories) in `dir`; `NotFound` if there is no `dir`.
    pub(crate) async fn list(&self, dir: &str) -> Result<Vec<String>, FsError> {
        dispatch!(self, format!("list {dir}"), c => c.list(dir, false))
    }

    /// The names of the directories in `dir`; `NotFound` if there is no `dir`.
    pub(crate) async fn list_dirs(&self, dir: &str) -> Result<Vec<String>, FsError> {
        dispatch!(self, format!("list {dir}"), c => c.list(dir, true))
    }

    /// A whole file.
    pub(crate) async fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        dispatch!(self, format!("read {path}"), c => c.read(path))
    }

    /// Creates a new file with `data`, never overwriting; missing parent directories are
    /// created if `create_parent`, else `NotFound`.
    pub(crate) async fn create(
        &self,
        path: &str,
        data: Vec<u8>,
        create_parent: bool,
    ) -> Result<(), FsError> {
        dispatch!(self, format!("create {path}"), c => c.create(path, data, create_parent))
    }

    /// Renames `src` to `dst`; without `overwrite`, an existing `dst` is `Exists`.
    pub(crate) async fn rename(
        &self,
        src: &str,
        dst: &str,
        overwrite: bool,
    ) -> Result<(), FsError> {
        dispatch!(self, format!("rename {src}"), c => c.rename(src, dst, overwrite))
    }

    /// Deletes a file; `false` if there was none.
    pub(crate) async fn delete(&self, path: &str) -> Result<bool, FsError> {
        dispatch!(self, format!("delete {path}"), c => c.delete(path))
    }
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
