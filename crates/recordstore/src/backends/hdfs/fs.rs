//! [`HdfsConnection`]: the store's file system over either transport, each call bounded by a
//! timeout. It sits above both transports; what they share is in `transport.rs`, below them.

use super::native::NativeFs;
use super::transport::{FileSystem, FsError};
use super::webhdfs::WebHdfs;
use crate::error::Error;
use std::future::Future;
use std::time::Duration;

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

    /// The entries of `dir`, each a name and whether it is a directory; `NotFound` if there
    /// is no `dir`.
    pub(crate) async fn list(&self, dir: &str) -> Result<Vec<(String, bool)>, FsError> {
        dispatch!(self, format!("list {dir}"), c => c.list(dir))
    }

    /// The names of the directories in `dir`; `NotFound` if there is no `dir`.
    pub(crate) async fn list_dirs(&self, dir: &str) -> Result<Vec<String>, FsError> {
        let entries = self.list(dir).await?;
        Ok(entries
            .into_iter()
            .filter_map(|(name, is_dir)| is_dir.then_some(name))
            .collect())
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
