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

/// How long the first native stat may take before [`check_port`] looks at the port.
const SLOW_ANSWER: Duration = Duration::from_secs(2);

/// What answered a line that no HDFS client sends (`PING`, then a blank line).
#[derive(Debug, PartialEq)]
enum Listener {
    /// No answer in time, a closed connection, or no connection at all: nothing learned.
    Unknown,
    /// A framed `RPC$VersionMismatch`: a Hadoop RPC port (a NameNode's).
    HadoopRpc,
    /// `HTTP/1.1 400 …`.
    Http,
    /// `+PONG` (or a `-ERR` line).
    Redis,
    /// Something else; its first bytes.
    Other(String),
}

async fn what_listens(host: &str, port: u16, timeout: Duration) -> Listener {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut socket = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        socket.write_all(b"PING\r\n\r\n").await.ok()?;
        let mut reply = vec![0u8; 256];
        let n = socket.read(&mut reply).await.ok()?;
        reply.truncate(n);
        Some(reply)
    };
    let reply = match tokio::time::timeout(timeout.min(Duration::from_secs(5)), exchange).await {
        Ok(Some(reply)) if !reply.is_empty() => reply,
        _ => return Listener::Unknown,
    };
    if reply.windows(17).any(|w| w == b"org.apache.hadoop") {
        Listener::HadoopRpc
    } else if reply.starts_with(b"HTTP/") {
        Listener::Http
    } else if matches!(reply[0], b'+' | b'-') && reply.ends_with(b"\r\n") {
        Listener::Redis
    } else {
        Listener::Other(String::from_utf8_lossy(&reply[..reply.len().min(40)]).into_owned())
    }
}

/// Looks at what listens on the port when the NameNode did not answer as one (slow, or the
/// connection broke), so that a wrong port in the URL is reported as such. hdfs-native reads
/// any reply as a length-prefixed frame: a Redis or HTTP server there leaves it waiting for a
/// frame that never comes, or hangs up, which would read as a timeout or a (temporary)
/// connection error. WebHDFS at a Redis port sees the connection closed. `Ok` when the port
/// may well be right: the caller then reports what it saw itself. The look costs a real
/// NameNode a logged warning, which is why healthy connects never make it.
async fn check_port(transport: Transport, host: &str, port: u16, timeout: Duration) -> Result<()> {
    let address = format!("{host}:{port}");
    let default = "unless configured otherwise";
    let message = match (transport, what_listens(host, port, timeout).await) {
        (_, Listener::Unknown)
        | (Transport::Native, Listener::HadoopRpc)
        | (Transport::WebHdfs, Listener::Http) => return Ok(()),
        (Transport::Native, Listener::Http) => format!(
            "it is an HTTP server; for WebHDFS use webhdfs://{address}, for native RPC the \
             NameNode's RPC port (8020 {default})"
        ),
        (Transport::WebHdfs, Listener::HadoopRpc) => format!(
            "it is a NameNode's RPC port; use hdfs://{address} for native RPC, or the \
             NameNode's HTTP port (9870 {default}) for WebHDFS"
        ),
        (_, Listener::Redis) => format!(
            "it answered like a Redis server; check the port in the URL (a NameNode listens \
             on {} {default})",
            transport.default_port()
        ),
        (_, Listener::Other(seen)) => {
            format!("its reply ({seen:?}) is neither; check the host and port in the URL")
        }
    };
    Err(Error::Protocol {
        backend: "hdfs",
        protocol: match transport {
            Transport::Native => "Hadoop RPC",
            Transport::WebHdfs => "WebHDFS",
        },
        address,
        message,
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

    /// The probe of a new connection. A NameNode answers within milliseconds; only a slow
    /// answer (native RPC) or a broken connection is worth a look at what listens on the port.
    async fn first_probe(&self, conn: &HdfsConnection) -> Result<()> {
        let (host, port) = self.host_port();
        let look = || check_port(self.transport, host, port, self.connect_timeout);
        let answered = probe(conn);
        tokio::pin!(answered);
        match tokio::time::timeout(SLOW_ANSWER, &mut answered).await {
            // A broken connection may be a server that hung up on the client.
            Ok(Err(e)) if e.kind() == crate::ErrorKind::Connection => {
                look().await?;
                Err(e)
            }
            Ok(outcome) => outcome,
            Err(_slow) => {
                if self.transport == Transport::Native {
                    look().await?;
                }
                answered.await
            }
        }
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
        self.first_probe(&conn).await?;
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
