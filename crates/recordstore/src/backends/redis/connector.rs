//! The Redis connector (seed: `RedisConnector`): opens connections to one server or a cluster,
//! checks them and closes them.

use super::connection::{Inner, RedisConnection};
use super::direct::{DirectLane, LaneTarget};
use super::errors::map_error;
use super::settings::RedisSettings;
use crate::connection::{ConnectionMode, Connector, ConnectorConfig, PoolOptions};
use crate::error::{Error, Result};
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{
    AsyncConnectionConfig, Client, ConnectionInfo, ProtocolVersion, PushInfo, PushKind, RedisError,
};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A push sender that clears `alive` when the connection reports its socket closed.
fn disconnect_flag() -> (Arc<AtomicBool>, impl redis::aio::AsyncPushSender) {
    let alive = Arc::new(AtomicBool::new(true));
    let flag = alive.clone();
    let sender = move |info: PushInfo| -> std::result::Result<(), std::convert::Infallible> {
        if info.kind == PushKind::Disconnection {
            flag.store(false, Ordering::Release);
        }
        Ok(())
    };
    (alive, sender)
}

enum Target {
    Server {
        /// RESP3, with disconnection notices.
        resp3: Client,
        /// RESP2, for servers older than Redis 6 (no `HELLO`).
        resp2: Client,
        /// Set once the server turned out not to speak RESP3.
        resp2_only: AtomicBool,
    },
    Cluster(redis::cluster::ClusterClient),
}

/// Whether a connect failed because the server has no `HELLO` (Redis 5 or older, or HELLO
/// renamed away), so that RESP2 may work.
fn hello_unsupported(e: &RedisError) -> bool {
    e.kind() == redis::ErrorKind::RESP3NotSupported
        || (e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError)
            && e.detail().is_some_and(|d| {
                d.to_ascii_lowercase().contains("unknown command") && d.contains("HELLO")
            }))
}

/// Opens connections to one Redis server or cluster (seed: `RedisConnector`, host/port/db,
/// here also username, password, TLS and cluster nodes).
///
/// In single mode each connection is a [`ConnectionManager`] (multiplexed, reconnecting by
/// itself), plus, over plain TCP, a direct lane for a caller that is alone (see
/// [`RedisStore`](super::RedisStore)); in pooled mode each pooled connection is a plain
/// [`MultiplexedConnection`](redis::aio::MultiplexedConnection); a `redis+cluster://` URL gives
/// [`ClusterConnection`](redis::cluster_async::ClusterConnection)s.
pub struct RedisConnector {
    target: Target,
    config: ConnectorConfig,
    address: String,
    managed: bool,
    timeout: Duration,
    /// Plain TCP to one server: where single-mode connections open their direct lane.
    lane: Option<Arc<LaneTarget>>,
    /// The database number, for messages.
    db: i64,
    /// The password when it is the default user's (no user name): each new connection checks
    /// that the server has one, since a server without a password accepts any.
    default_password: Option<crate::connection::Secret>,
}

impl fmt::Debug for RedisConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConnector")
            .field("address", &self.address)
            .field("config", &self.config)
            .field("cluster", &matches!(self.target, Target::Cluster(_)))
            .finish()
    }
}

impl RedisConnector {
    /// A connector for a Redis URL (see the module docs), for connections of `mode`, with
    /// `options.connection_timeout` as connect and response timeout.
    pub fn from_url(url: &str, mode: ConnectionMode, options: &PoolOptions) -> Result<Self> {
        let settings = RedisSettings::parse(url, &BTreeMap::new())?;
        Ok(Self::new(&settings, options)?.for_mode(mode))
    }

    /// Makes connections suited to `mode`: auto-reconnecting in single mode, plain
    /// multiplexed ones in a pool.
    pub(crate) fn for_mode(mut self, mode: ConnectionMode) -> Self {
        self.managed = mode == ConnectionMode::Single;
        self
    }

    pub(crate) fn new(settings: &RedisSettings, options: &PoolOptions) -> Result<Self> {
        let address = settings.address();
        let invalid = |e: RedisError| {
            Error::invalid(format!("Redis settings for {address} are not usable: {e}"))
        };
        let timeout = options.connection_timeout;
        let certs = match &settings.tls_ca {
            None => None,
            Some(path) => Some(redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(std::fs::read(path).map_err(|e| {
                    Error::invalid(format!(
                        "cannot read the TLS CA file {path:?} for {address}: {e}"
                    ))
                })?),
            }),
        };
        let open = |info: ConnectionInfo| match &certs {
            None => Client::open(info),
            Some(c) => Client::build_with_tls(info, c.clone()),
        };
        let target = if settings.cluster {
            let nodes: Vec<ConnectionInfo> = settings
                .nodes
                .iter()
                .map(|(h, p)| settings.connection_info(h, *p))
                .collect();
            let mut builder = redis::cluster::ClusterClient::builder(nodes);
            if let Some(c) = &certs {
                builder = builder.certs(c.clone());
            }
            let client = builder
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .retries(options.retry.attempts.clamp(2, 6))
                .build()
                .map_err(invalid)?;
            Target::Cluster(client)
        } else {
            let (h, p) = &settings.nodes[0];
            let info = settings.connection_info(h, *p);
            let resp2 = info
                .redis_settings()
                .clone()
                .set_protocol(ProtocolVersion::RESP2);
            let info2 = info.clone().set_redis_settings(resp2);
            Target::Server {
                resp3: open(info).map_err(invalid)?,
                resp2: open(info2).map_err(invalid)?,
                resp2_only: AtomicBool::new(false),
            }
        };
        let (host, port) = settings.nodes[0].clone();
        let lane = (!settings.cluster && !settings.tls).then(|| {
            let mut handshake = redis::pipe();
            if let Some(password) = &settings.password {
                let auth = handshake.cmd("AUTH");
                if let Some(user) = &settings.username {
                    auth.arg(user);
                }
                auth.arg(password.expose());
            }
            if settings.db != 0 {
                handshake.cmd("SELECT").arg(settings.db);
            }
            Arc::new(LaneTarget {
                host: host.clone(),
                port,
                handshake,
                db: settings.db,
                timeout,
            })
        });
        let mut extras = BTreeMap::new();
        if let Some(p) = &settings.prefix {
            extras.insert("prefix".to_string(), p.clone());
        }
        if settings.cluster {
            extras.insert("nodes".to_string(), address.clone());
        }
        if settings.tls {
            extras.insert("tls".to_string(), "true".to_string());
        }
        if let Some(ca) = &settings.tls_ca {
            extras.insert("tls_ca".to_string(), ca.clone());
        }
        let config = ConnectorConfig {
            host: Some(host),
            port: Some(port),
            username: settings.username.clone(),
            password: settings.password.clone(),
            db: Some(settings.db.to_string()),
            extras,
        };
        let default_password = match (&settings.password, &settings.username, settings.cluster) {
            (Some(p), None, false) => Some(p.clone()),
            _ => None,
        };
        Ok(RedisConnector {
            target,
            config,
            address,
            managed: true,
            timeout,
            lane,
            db: settings.db,
            default_password,
        })
    }

    /// Maps a failed connect: a server that does not speak RESP is [`Error::Protocol`], a
    /// database number it does not have is [`Error::Config`], the rest as any command's.
    fn connect_error(&self, e: RedisError) -> Error {
        // A cluster client wraps the nodes' parse errors in its own, as text.
        if e.kind() == redis::ErrorKind::Parse || e.to_string().contains("Incompatible type -") {
            return Error::Protocol {
                backend: "redis",
                protocol: "Redis",
                address: self.address.clone(),
                message: "its reply was not in Redis's protocol (RESP): check the host and \
                          port in the URL (Redis listens on 6379 unless configured otherwise)"
                    .to_string(),
            };
        }
        if e.to_string().contains("refused to switch database") {
            let why = e.detail().unwrap_or("refused");
            return Error::Config {
                backend: "redis",
                message: format!(
                    "{} has no database {} ({why}): use a database number below the server's \
                     `databases` setting (16 unless configured otherwise) in the URL's path",
                    self.address, self.db
                ),
            };
        }
        map_error(e, &self.address, "connect", None)
    }

    /// A server without a password accepts any password for the default user, so a URL with
    /// one would go on silently: the one-argument `AUTH` tells, as Redis answers it with an
    /// error naming the missing password. That is [`Error::Config`]: the settings are wrong.
    async fn check_password_is_needed(
        &self,
        conn: &mut RedisConnection,
        password: &crate::connection::Secret,
    ) -> Result<()> {
        let reply = redis::cmd("AUTH")
            .arg(password.expose())
            .query_async::<()>(conn)
            .await;
        match reply {
            Ok(()) => Ok(()),
            Err(e)
                if e.detail().is_some_and(|d| {
                    d.contains("without any password configured")
                        || d.contains("no password is set")
                }) =>
            {
                Err(Error::Config {
                    backend: "redis",
                    message: format!(
                        "{} has no password, but the settings give one: remove the password \
                         from the URL (or RECORDSTORE_PASSWORD), or set one on the server \
                         (requirepass)",
                        self.address
                    ),
                })
            }
            Err(e) => Err(map_error(e, &self.address, "AUTH", None)),
        }
    }

    /// `host:port` (or the cluster's nodes), for messages.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether this connector talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(_))
    }

    /// One connection to a single server; `notices`: watch for disconnection (RESP3 only).
    async fn connect_server(
        &self,
        client: &Client,
        notices: bool,
    ) -> std::result::Result<RedisConnection, RedisError> {
        let t = self.timeout;
        let (alive, sender) = disconnect_flag();
        let alive = notices.then_some(alive);
        if self.managed {
            // No retries inside the manager's first connect: our ConnectorManager retries
            // within connection_timeout, and a refused connection must fail fast.
            let mut config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(t))
                .set_response_timeout(Some(t))
                .set_number_of_retries(0);
            if notices {
                config = config.set_push_sender(sender);
            }
            let c = ConnectionManager::new_with_config(client.clone(), config).await?;
            Ok(RedisConnection {
                inner: Inner::Managed(c),
                alive,
                lane: self.lane.clone().map(DirectLane::new),
            })
        } else {
            let mut config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(t))
                .set_response_timeout(Some(t));
            if notices {
                config = config.set_push_sender(sender);
            }
            let c = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            Ok(RedisConnection {
                inner: Inner::Multiplexed(c),
                alive,
                lane: None,
            })
        }
    }
}

#[async_trait]
impl Connector for RedisConnector {
    type Connection = RedisConnection;

    fn backend(&self) -> &'static str {
        "redis"
    }

    fn config(&self) -> &ConnectorConfig {
        &self.config
    }

    async fn connect(&self) -> Result<RedisConnection> {
        let conn = match &self.target {
            Target::Server {
                resp3,
                resp2,
                resp2_only,
            } => {
                if resp2_only.load(Ordering::Relaxed) {
                    self.connect_server(resp2, false).await
                } else {
                    match self.connect_server(resp3, true).await {
                        Err(e) if hello_unsupported(&e) => {
                            resp2_only.store(true, Ordering::Relaxed);
                            self.connect_server(resp2, false).await
                        }
                        other => other,
                    }
                }
            }
            Target::Cluster(client) => {
                client
                    .get_async_connection()
                    .await
                    .map(|c| RedisConnection {
                        inner: Inner::Cluster(c),
                        alive: None,
                        lane: None,
                    })
            }
        };
        let mut conn = conn.map_err(|e| self.connect_error(e))?;
        if let Some(password) = &self.default_password {
            self.check_password_is_needed(&mut conn, password).await?;
        }
        Ok(conn)
    }

    /// Whether the socket is still open, as the client library last reported it; no I/O.
    fn is_connected(&self, conn: &RedisConnection) -> bool {
        conn.is_open()
    }

    async fn check(&self, conn: &mut RedisConnection) -> Result<()> {
        redis::cmd("PING")
            .query_async::<()>(conn)
            .await
            .map_err(|e| map_error(e, &self.address, "PING", None))
    }

    /// Every Redis connection here is a multiplexed handle: clones share one socket.
    fn share(&self, conn: &RedisConnection) -> Option<RedisConnection> {
        Some(conn.clone())
    }

    /// Single: one multiplexed connection pipelines concurrent requests over one socket, and
    /// Redis runs commands one at a time on one thread, so more sockets add checkout and
    /// connection overhead but no server parallelism (BENCHMARKS.md: 2x a pool of 4 at 16
    /// clients).
    fn auto_mode(&self) -> ConnectionMode {
        ConnectionMode::Single
    }
}
