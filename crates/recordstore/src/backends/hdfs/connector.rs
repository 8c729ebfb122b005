//! The HDFS connector (seed: `HDFSConnector`): NameNode host, port and user name, over the
//! native RPC protocol or WebHDFS.

use super::fs::{HdfsConnection, Transported};
use super::native::NativeFs;
use super::transport::FsError;
use super::webhdfs::WebHdfs;
use crate::connection::{ConnectionMode, Connector, ConnectorConfig};
use crate::error::{Error, Result};
use async_trait::async_trait;
use std::fmt;
use std::time::Duration;

/// How the store talks to HDFS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// HDFS's RPC protocol to the NameNode and the DataNode protocol (`hdfs://`), default port
    /// 8020.
    Native,
    /// The WebHDFS REST API over HTTP (`webhdfs://`), default port 9870.
    WebHdfs,
}

impl Transport {
    /// The URL scheme: `hdfs` or `webhdfs`.
    pub fn scheme(self) -> &'static str {
        match self {
            Transport::Native => "hdfs",
            Transport::WebHdfs => "webhdfs",
        }
    }

    /// The NameNode's usual port for this transport.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Native => 8020,
            Transport::WebHdfs => 9870,
        }
    }
}

/// A stat of `/`: the cheapest call that proves the NameNode answers.
async fn probe(conn: &HdfsConnection) -> Result<()> {
    match conn.exists("/").await {
        Ok(_) => Ok(()),
        Err(FsError::Failed(e)) => Err(e),
        Err(other) => Err(Error::Backend {
            backend: "hdfs",
            message: format!("stat / gave an unexpected answer: {other:?}"),
            temporary: false,
            source: None,
        }),
    }
}

/// How long the first native stat may take before [`check_rpc_port`] looks at the port.
const SLOW_ANSWER: Duration = Duration::from_secs(2);

/// Asks the port whether it speaks Hadoop RPC, when hdfs-native got no answer or lost the
/// connection: it reads any reply as a length-prefixed frame, so a Redis or HTTP server there
/// (a wrong port in the URL) leaves it waiting for a frame that never comes, or hangs up, which
/// would be reported as a timeout or a (temporary) connection error.
/// A line that no Hadoop client sends makes a NameNode answer at once with a framed
/// `RPC$VersionMismatch`, a Redis server with `+PONG`, an HTTP server with `HTTP/1.1 400`.
/// Only a reply that is plainly something else is refused; silence, a closed connection or a
/// refused one are left to the real connect, which reports them as before.
async fn check_rpc_port(host: &str, port: u16, timeout: Duration) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = format!("{host}:{port}");
    let wait = timeout.min(Duration::from_secs(5));
    let exchange = async {
        let mut socket = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        socket.write_all(b"PING\r\n\r\n").await.ok()?;
        let mut reply = vec![0u8; 256];
        let n = socket.read(&mut reply).await.ok()?;
        reply.truncate(n);
        Some(reply)
    };
    let Ok(Some(reply)) = tokio::time::timeout(wait, exchange).await else {
        return Ok(());
    };
    if reply.is_empty() || reply.windows(17).any(|w| w == b"org.apache.hadoop") {
        return Ok(());
    }
    let seen = if reply.starts_with(b"HTTP/") {
        format!(
            "it is an HTTP server; for WebHDFS use webhdfs://{address}, for native RPC the \
             NameNode's RPC port (8020 unless configured otherwise)"
        )
    } else if matches!(reply[0], b'+' | b'-') && reply.ends_with(b"\r\n") {
        "it answered like a Redis server; check the port in the URL (a NameNode's RPC port is \
         8020 unless configured otherwise)"
            .to_string()
    } else {
        format!(
            "its reply ({:?}) is not Hadoop RPC; check the host and port in the URL",
            String::from_utf8_lossy(&reply[..reply.len().min(40)])
        )
    };
    Err(Error::Protocol {
        backend: "hdfs",
        protocol: "Hadoop RPC",
        address,
        message: seen,
    })
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme())
    }
}

/// Opens connections to one NameNode.
#[derive(Clone, Debug)]
pub struct HdfsConnector {
    transport: Transport,
    config: ConnectorConfig,
    user: String,
    connect_timeout: Duration,
    request_timeout: Duration,
}

/// The user name when none is given: `$HADOOP_USER_NAME`, else `root`.
pub fn default_user() -> String {
    std::env::var("HADOOP_USER_NAME")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".to_string())
}

impl HdfsConnector {
    /// A connector for the NameNode at `host:port`, acting as `username` (default: see
    /// [`default_user`]).
    pub fn new(transport: Transport, host: &str, port: u16, username: Option<&str>) -> Self {
        let user = username
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .unwrap_or_else(default_user);
        let config = ConnectorConfig {
            host: Some(host.to_string()),
            port: Some(port),
            username: Some(user.clone()),
            ..ConnectorConfig::default()
        };
        HdfsConnector {
            transport,
            config,
            user,
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
        }
    }

    /// Bounds each TCP connect (WebHDFS; the manager bounds the whole connect for both).
    /// Default 30 s; [`super::HdfsStore`] sets it from `PoolOptions::connection_timeout`.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Bounds each file-system call, so a server that stops answering is a timeout rather
    /// than a hang. Default 60 s.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The user name sent to HDFS.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// `host:port` of the NameNode.
    pub fn address(&self) -> String {
        format!(
            "{}:{}",
            self.config.host.as_deref().unwrap_or("localhost"),
            self.config.port.unwrap_or(self.transport.default_port())
        )
    }

    fn host_port(&self) -> (&str, u16) {
        (
            self.config.host.as_deref().unwrap_or("localhost"),
            self.config.port.unwrap_or(self.transport.default_port()),
        )
    }
}

#[async_trait]
impl Connector for HdfsConnector {
    type Connection = HdfsConnection;

    fn backend(&self) -> &'static str {
        "hdfs"
    }

    fn config(&self) -> &ConnectorConfig {
        &self.config
    }

    /// Builds a client and proves the NameNode answers (a stat of `/`), so an unreachable
    /// NameNode fails here, as a connection error naming it.
    async fn connect(&self) -> Result<HdfsConnection> {
        let (host, port) = self.host_port();
        let inner = match self.transport {
            Transport::Native => Transported::Native(NativeFs::build(host, port, &self.user)?),
            Transport::WebHdfs => Transported::Web(WebHdfs::build(
                host,
                port,
                &self.user,
                self.connect_timeout,
            )?),
        };
        let conn = HdfsConnection {
            inner,
            request_timeout: self.request_timeout,
        };
        // The manager bounds the whole connect, probe included, by the connection timeout.
        {
            let answered = probe(&conn);
            tokio::pin!(answered);
            // A NameNode answers within milliseconds; only a slow answer or a broken connection
            // is worth a look at what listens on the port (the look costs a NameNode a logged
            // warning).
            let outcome = if self.transport == Transport::Native {
                match tokio::time::timeout(SLOW_ANSWER, &mut answered).await {
                    // A broken connection may be a server that hung up on hdfs-native.
                    Ok(Err(e)) if e.kind() == crate::ErrorKind::Connection => {
                        check_rpc_port(host, port, self.connect_timeout).await?;
                        Err(e)
                    }
                    Ok(outcome) => outcome,
                    Err(_slow) => {
                        check_rpc_port(host, port, self.connect_timeout).await?;
                        answered.await
                    }
                }
            } else {
                answered.await
            };
            outcome?;
        }
        Ok(conn)
    }

    async fn check(&self, conn: &mut HdfsConnection) -> Result<()> {
        probe(conn).await
    }

    fn share(&self, conn: &HdfsConnection) -> Option<HdfsConnection> {
        Some(conn.clone())
    }

    /// One hdfs-native client (or one HTTP client) multiplexes concurrent calls: single.
    fn auto_mode(&self) -> ConnectionMode {
        ConnectionMode::Single
    }
}
