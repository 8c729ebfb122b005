//! The native transport: HDFS's own RPC protocol through the `hdfs-native` crate.

use super::transport::{FileSystem, FsError};
use crate::error::Error;
use bytes::Bytes;
use hdfs_native::{Client, ClientBuilder, HdfsError, WriteOptions};
use std::sync::Arc;

/// One runtime for every hdfs-native client of the process. hdfs-native spawns its RPC
/// listener tasks and registers its sockets (and a process-wide DataNode connection cache) on
/// the runtime it is built in; if that were the caller's runtime, a client or cached
/// connection would break when that runtime ends (each `#[tokio::test]` has its own).
///
/// "Of the process": a child made by `fork()` (the peer runs events in forked processes)
/// inherits the parent's runtime without its threads, and a task spawned there would never
/// run, so a process whose id differs from the runtime's owner builds its own. The parent's is
/// leaked in the child, not dropped: dropping would wait for threads that do not exist there.
/// No lock is held across a fork this way (a lock taken by a parent's thread would never be
/// released in the child).
fn io_runtime() -> tokio::runtime::Handle {
    use std::sync::atomic::{AtomicPtr, Ordering};
    struct Owned {
        pid: u32,
        runtime: tokio::runtime::Runtime,
    }
    static RT: AtomicPtr<Owned> = AtomicPtr::new(std::ptr::null_mut());
    let pid = std::process::id();
    loop {
        let current = RT.load(Ordering::Acquire);
        // SAFETY: a non-null pointer in RT comes from `Box::into_raw` below and is never freed.
        if let Some(owned) = unsafe { current.as_ref() } {
            if owned.pid == pid {
                return owned.runtime.handle().clone();
            }
        }
        let fresh = Box::into_raw(Box::new(Owned {
            pid,
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("recordstore-hdfs-io")
                .enable_all()
                .build()
                .expect("cannot start the HDFS I/O runtime"),
        }));
        if RT
            .compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Another thread built one first. Ours never ran a task; `shutdown_background`,
            // unlike a drop, may be called from async code.
            // SAFETY: `fresh` never left this function.
            unsafe { Box::from_raw(fresh) }
                .runtime
                .shutdown_background();
        }
    }
}

/// How long hdfs-native keeps an idle DataNode read connection in its process-wide cache.
const DATANODE_CACHE_EXPIRY: std::time::Duration = std::time::Duration::from_millis(3_200);

/// When this process was forked, as nanoseconds after [`fork_clock`]'s base; 0 if never.
static FORKED_AT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn fork_clock() -> std::time::Instant {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(std::time::Instant::now)
}

/// Records the moment of every `fork()` in the child (once registered, for the whole process).
fn watch_forks() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        extern "C" fn in_child() {
            // Only an atomic store and a clock read: safe between fork and exec.
            let nanos = fork_clock().elapsed().as_nanos().max(1) as u64;
            FORKED_AT.store(nanos, std::sync::atomic::Ordering::Release);
        }
        ONCE.call_once(|| {
            fork_clock();
            // SAFETY: registers a handler that only reads a clock and stores an atomic.
            unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        });
    }
}

/// A forked child inherits hdfs-native's cache of idle DataNode connections: sockets the
/// parent may take up again, registered with a runtime that no longer runs here. Using one
/// would hang (and could read the parent's bytes), so a child's reads wait until every
/// inherited entry has expired, at most [`DATANODE_CACHE_EXPIRY`] after the fork.
async fn wait_out_inherited_connections() {
    let forked = FORKED_AT.load(std::sync::atomic::Ordering::Acquire);
    if forked == 0 {
        return;
    }
    let clear_at = fork_clock() + std::time::Duration::from_nanos(forked) + DATANODE_CACHE_EXPIRY;
    tokio::time::sleep_until(clear_at.into()).await;
}

/// A native HDFS client and the address it talks to (for messages).
#[derive(Clone, Debug)]
pub(crate) struct NativeFs {
    client: Client,
    addr: Arc<str>,
}

impl NativeFs {
    /// Builds a client; does no I/O (hdfs-native connects on first call).
    pub(crate) fn build(host: &str, port: u16, user: &str) -> Result<Self, Error> {
        watch_forks();
        let addr = format!("{host}:{port}");
        let client = ClientBuilder::new()
            .with_url(format!("hdfs://{addr}"))
            .with_user(user)
            .with_io_runtime(io_runtime())
            .with_config([
                // Our connection manager retries; hdfs-native's own failover loop would sleep
                // up to minutes against a NameNode that is down.
                ("dfs.client.failover.max.attempts", "0"),
                ("dfs.client.failover.sleep.base.millis", "10"),
                ("dfs.client.failover.sleep.max.millis", "100"),
            ])
            .build()
            .map_err(|e| Error::invalid(format!("hdfs client for {addr}: {e}")))?;
        Ok(NativeFs {
            client,
            addr: addr.into(),
        })
    }

    fn map(&self, op: &str, path: &str, e: HdfsError) -> FsError {
        map_error(&self.addr, op, path, e)
    }
}

impl FileSystem for NativeFs {
    async fn exists(&self, path: &str) -> Result<bool, FsError> {
        match self.client.get_file_info(path).await {
            Ok(_) => Ok(true),
            Err(e) => match self.map("stat", path, e) {
                FsError::NotFound => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn list(&self, dir: &str) -> Result<Vec<(String, bool)>, FsError> {
        let statuses = self
            .client
            .list_status(dir, false)
            .await
            .map_err(|e| self.map("list", dir, e))?;
        Ok(statuses
            .into_iter()
            .map(|s| {
                let name = match s.path.rsplit_once('/') {
                    Some((_, name)) => name.to_string(),
                    None => s.path,
                };
                (name, s.isdir)
            })
            .collect())
    }

    async fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        wait_out_inherited_connections().await;
        let mut reader = self
            .client
            .read(path)
            .await
            .map_err(|e| self.map("open", path, e))?;
        // A NameNode that lets a file close while its last block is only committed
        // (`dfs.namenode.file.close.num-committed-allowed`) leaves that block out of the length
        // it reports until a DataNode confirms it, a few milliseconds later; hdfs-native then
        // sees an empty file. Records are never empty and fit one block, so an empty length
        // means "not yet": ask again briefly rather than report a corrupt record.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while reader.file_length() == 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            reader = self
                .client
                .read(path)
                .await
                .map_err(|e| self.map("open", path, e))?;
        }
        let len = reader.file_length();
        let bytes = reader
            .read_range(0, len)
            .await
            .map_err(|e| self.map("read", path, e))?;
        Ok(bytes.to_vec())
    }

    /// Creates a new file (never overwriting) with `data`, and closes it.
    async fn create(&self, path: &str, data: Vec<u8>, create_parent: bool) -> Result<(), FsError> {
        let options = WriteOptions::default()
            .overwrite(false)
            .create_parent(create_parent);
        let mut writer = self
            .client
            .create(path, options)
            .await
            .map_err(|e| self.map("create", path, e))?;
        let written = async {
            writer.write_bytes(Bytes::from(data)).await?;
            writer.close().await
        }
        .await;
        written.map_err(|e| self.map("write", path, e))
    }

    async fn rename(&self, src: &str, dst: &str, overwrite: bool) -> Result<(), FsError> {
        self.client
            .rename(src, dst, overwrite)
            .await
            .map_err(|e| self.map("rename", dst, e))
    }

    /// Deletes a file; `false` if there was none.
    async fn delete(&self, path: &str) -> Result<bool, FsError> {
        match self.client.delete(path, false).await {
            Ok(done) => Ok(done),
            Err(e) => match self.map("delete", path, e) {
                FsError::NotFound => Ok(false),
                other => Err(other),
            },
        }
    }
}

/// Maps hdfs-native's errors onto ours. Only a NameNode *answer* can mean "not found" or
/// "exists"; every transport failure is a connection error.
fn map_error(addr: &str, op: &str, path: &str, e: HdfsError) -> FsError {
    let msg = |what: &str| format!("{op} {path} on NameNode {addr}: {what}");
    match e {
        HdfsError::FileNotFound(_) => FsError::NotFound,
        HdfsError::AlreadyExists(_) => FsError::Exists,
        HdfsError::IOError(io) => FsError::Failed(Error::connection(
            "hdfs",
            msg(&format!("I/O error: {io}")),
            io,
        )),
        HdfsError::RPCError(class, text) | HdfsError::FatalRPCError(class, text) => {
            let short = class.rsplit('.').next().unwrap_or(&class).to_string();
            let first_line = text.lines().next().unwrap_or_default().to_string();
            super::transport::remote_exception(
                "hdfs",
                &short,
                &msg(&format!("{short}: {first_line}")),
            )
        }
        HdfsError::SASLError(_) | HdfsError::GSSAPIError(..) | HdfsError::NoSASLMechanism => {
            FsError::Failed(Error::Auth {
                backend: "hdfs",
                message: msg(&e.to_string()),
            })
        }
        // The DataNode connection broke or no DataNode could be reached.
        HdfsError::DataTransferError(_) => {
            FsError::Failed(Error::connection("hdfs", msg(&e.to_string()), e))
        }
        HdfsError::ChecksumError | HdfsError::BlocksNotFound(_) => {
            FsError::Failed(Error::Backend {
                backend: "hdfs",
                message: msg(&e.to_string()),
                temporary: true,
                source: Some(Box::new(e)),
            })
        }
        other => FsError::Failed(Error::Backend {
            backend: "hdfs",
            message: msg(&other.to_string()),
            temporary: false,
            source: Some(Box::new(other)),
        }),
    }
}
