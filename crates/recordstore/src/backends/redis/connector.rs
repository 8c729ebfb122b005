//! The Redis connector: URL parsing, connections (auto-reconnecting, multiplexed or cluster)
//! and the mapping of the client's errors onto ours.

use super::direct::{DirectLane, LaneTarget, LaneTurn};
use crate::connection::{ConnectionMode, Connector, ConnectorConfig, PoolOptions, Secret};
use crate::error::{Error, Result};
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo,
    ProtocolVersion, PushInfo, PushKind, RedisConnectionInfo, RedisError, RedisFuture,
};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How `filter_record` evaluates a filter.
///
/// The default is [`FilterMode::Client`]: measured on one machine (BENCHMARKS.md), decoding in
/// Rust scans several times as many records per second as the Lua script, and keeps the JSON
/// work off the server's single thread, which every other client of the server shares.
/// [`FilterMode::Server`] pays off when the network is slow and the filter selective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FilterMode {
    /// A Lua script applies the filter on the server, batch by batch, so that only candidate
    /// records cross the network; the client then checks each one with `Filter::matches`.
    Server,
    /// Plain `HSCAN` of every record, filtered on the client only.
    #[default]
    Client,
}

/// What a Redis URL and the open options say, checked.
#[derive(Clone, Debug)]
pub(crate) struct RedisSettings {
    pub(crate) tls: bool,
    /// A PEM file of the certificate authorities to trust for TLS, instead of the usual
    /// public roots (for servers with a private CA).
    pub(crate) tls_ca: Option<String>,
    pub(crate) cluster: bool,
    pub(crate) nodes: Vec<(String, u16)>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) db: i64,
    pub(crate) prefix: Option<String>,
    pub(crate) filter: FilterMode,
    pub(crate) scan_count: usize,
}

/// The batch size of `HSCAN` (and of the filter script) unless the URL says otherwise.
pub(crate) const DEFAULT_SCAN_COUNT: usize = 1000;

impl RedisSettings {
    /// Parses `redis://[user:pass@]host[:port][/db][?prefix=..&filter=server|client&scan_count=N]`,
    /// `rediss://…[?tls_ca=PEM_FILE]` (TLS) and `redis+cluster://host:port[,host:port…]`
    /// (`rediss+cluster://`). Values in the URL win over `extras` (`username`, `password`,
    /// `db`, `prefix`, `filter`, `scan_count`, `tls_ca`); other extras belong to other
    /// backends and are ignored.
    pub(crate) fn parse(url: &str, extras: &BTreeMap<String, String>) -> Result<Self> {
        let shown = crate::open::redact_url(url);
        let bad = |why: String| Error::invalid(format!("bad Redis URL {shown:?}: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("no scheme".into()))?;
        let (tls, cluster) = match scheme.to_ascii_lowercase().as_str() {
            "redis" => (false, false),
            "rediss" => (true, false),
            "redis+cluster" => (false, true),
            "rediss+cluster" => (true, true),
            other => return Err(bad(format!("unknown scheme {other:?}"))),
        };
        let (rest, fragment) = match rest.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (rest, None),
        };
        if let Some(f) = fragment {
            return Err(bad(format!("unexpected fragment #{f}")));
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let (userinfo, hosts) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (mut username, mut password) = (None, None);
        if let Some(info) = userinfo {
            let (u, p) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            let u =
                percent_decode(u).ok_or_else(|| bad("the user name is not valid UTF-8".into()))?;
            if !u.is_empty() {
                username = Some(u);
            }
            if let Some(p) = p {
                let p = percent_decode(p)
                    .ok_or_else(|| bad("the password is not valid UTF-8".into()))?;
                if !p.is_empty() {
                    password = Some(Secret::new(p));
                }
            }
        }
        let mut nodes = Vec::new();
        for node in hosts.split(',') {
            nodes.push(parse_host_port(node).map_err(|why| bad(format!("host {node:?}: {why}")))?);
        }
        if nodes.len() > 1 && !cluster {
            return Err(bad("several hosts need the redis+cluster:// scheme".into()));
        }

        let mut params: BTreeMap<String, String> = BTreeMap::new();
        if let Some(q) = query {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                match k.as_ref() {
                    "prefix" | "filter" | "scan_count" | "tls_ca" => {
                        params.insert(k.into_owned(), v.into_owned());
                    }
                    other => {
                        return Err(bad(format!(
                            "unknown parameter {other:?}; known: prefix, filter, scan_count, tls_ca"
                        )))
                    }
                }
            }
        }
        let setting = |name: &str| params.get(name).or_else(|| extras.get(name)).cloned();

        if username.is_none() {
            username = extras.get("username").filter(|u| !u.is_empty()).cloned();
        }
        if password.is_none() {
            password = extras
                .get("password")
                .filter(|p| !p.is_empty())
                .map(|p| Secret::new(p.clone()));
        }
        let db_text = match path.trim_end_matches('/') {
            "" => extras.get("db").cloned().unwrap_or_else(|| "0".into()),
            p => p.to_string(),
        };
        let db: i64 = db_text
            .parse()
            .ok()
            .filter(|d| *d >= 0)
            .ok_or_else(|| bad(format!("database {db_text:?} is not a number >= 0")))?;
        if cluster && db != 0 {
            return Err(bad("a Redis Cluster has only database 0".into()));
        }
        let prefix = match setting("prefix") {
            None => None,
            Some(p) if p.is_empty() => None,
            Some(p) => {
                if p.len() > 128 || p.chars().any(|c| c.is_control() || c.is_whitespace()) {
                    return Err(bad(format!(
                        "prefix {p:?} must be at most 128 bytes without spaces or control characters"
                    )));
                }
                Some(p)
            }
        };
        let filter = match setting("filter").as_deref() {
            Some("server") => FilterMode::Server,
            None | Some("client") => FilterMode::Client,
            Some(other) => {
                return Err(bad(format!(
                    "filter={other:?} is not one of server, client"
                )))
            }
        };
        let scan_count = match setting("scan_count") {
            None => DEFAULT_SCAN_COUNT,
            Some(n) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| bad(format!("scan_count={n:?} is not a number in 1..=100000")))?,
        };
        let tls_ca = setting("tls_ca").filter(|p| !p.is_empty());
        if tls_ca.is_some() && !tls {
            return Err(bad(
                "tls_ca is for TLS connections: use the rediss:// scheme".into(),
            ));
        }
        Ok(RedisSettings {
            tls,
            tls_ca,
            cluster,
            nodes,
            username,
            password,
            db,
            prefix,
            filter,
            scan_count,
        })
    }

    /// RESP3 for single servers, whose disconnection notices let a dead connection be
    /// replaced before a write is sent on it (Redis 6 or newer); RESP2 for clusters.
    fn connection_info(&self, host: &str, port: u16) -> ConnectionInfo {
        let addr = if self.tls {
            ConnectionAddr::TcpTls {
                host: host.to_string(),
                port,
                insecure: false,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(host.to_string(), port)
        };
        let mut redis =
            RedisConnectionInfo::default()
                .set_db(self.db)
                .set_protocol(if self.cluster {
                    ProtocolVersion::RESP2
                } else {
                    ProtocolVersion::RESP3
                });
        if let Some(user) = &self.username {
            redis = redis.set_username(user);
        }
        if let Some(password) = &self.password {
            redis = redis.set_password(password.expose());
        }
        addr.into_connection_info()
            .expect("a TCP address is always a connection info")
            .set_redis_settings(redis)
    }

    /// `host:port`, or every node of a cluster, for messages.
    pub(crate) fn address(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|(h, p)| {
                if h.contains(':') {
                    format!("[{h}]:{p}")
                } else {
                    format!("{h}:{p}")
                }
            })
            .collect();
        nodes.join(",")
    }
}

fn parse_host_port(node: &str) -> std::result::Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = node.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unclosed '['")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("expected ':' after ']'")?),
        };
        (h, port)
    } else {
        match node.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (node, None),
        }
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    let port = match port {
        None => 6379,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("port {p:?} is not a number in 1..=65535"))?,
    };
    Ok((host.to_string(), port))
}

/// Decodes `%XX` escapes; `None` if the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// One connection: a handle that many callers can use at once (clones share the socket).
#[derive(Clone)]
pub struct RedisConnection {
    inner: Inner,
    /// Cleared when the client library reports the socket closed (a RESP3 disconnection
    /// push), so that the manager replaces the connection before sending on it.
    alive: Option<Arc<AtomicBool>>,
    /// Single mode over plain TCP: the socket a lone caller uses directly (see
    /// [`super::direct`]).
    lane: Option<Arc<DirectLane>>,
}

#[derive(Clone)]
enum Inner {
    /// Single mode: a multiplexed connection that reconnects by itself.
    Managed(ConnectionManager),
    /// Pooled mode: one multiplexed connection per pool slot.
    Multiplexed(MultiplexedConnection),
    /// Redis Cluster: routes each command to the node owning its key's slot.
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Whether the client library still considers the socket open (always true for a
    /// cluster connection, which manages its nodes' connections itself).
    pub fn is_open(&self) -> bool {
        self.alive
            .as_ref()
            .is_none_or(|a| a.load(Ordering::Acquire))
    }

    /// This connection for plain commands and pipelines of them, not scripts or scans: it
    /// sends on the direct lane when the caller is alone and the lane open, else as usual (see
    /// [`super::direct`]). One per call: it counts the caller until it is dropped.
    pub(crate) fn plain_commands(&mut self) -> PlainCommands<'_> {
        let turn = self.lane.as_ref().map(|lane| lane.turn());
        PlainCommands { conn: self, turn }
    }

    /// The names of the hashes matching `pattern`, by `SCAN`: on the server, or on every
    /// master of a cluster (each holds its own slots, and `SCAN` does not cross nodes).
    pub(crate) async fn scan_hashes(
        &mut self,
        pattern: &str,
    ) -> std::result::Result<Vec<String>, RedisError> {
        let scan = |cursor: u64| {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .arg("TYPE")
                .arg("hash");
            cmd
        };
        // On a cluster, every master in turn; on a server, the server (no routing).
        let nodes: Vec<Option<RoutingInfo>> = match &mut self.inner {
            Inner::Cluster(c) => cluster_masters(c)
                .await?
                .into_iter()
                .map(|(host, port)| {
                    Some(RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                        host,
                        port,
                    }))
                })
                .collect(),
            _ => vec![None],
        };
        let mut found = Vec::new();
        for node in &nodes {
            let mut cursor = 0;
            loop {
                let reply = self.send_to(node.as_ref(), &scan(cursor)).await?;
                let (next, keys): (u64, Vec<String>) = redis::from_redis_value(reply)?;
                found.extend(keys);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(found)
    }

    /// Sends `cmd` to one node of a cluster (`node`), or as usual.
    async fn send_to(
        &mut self,
        node: Option<&RoutingInfo>,
        cmd: &redis::Cmd,
    ) -> std::result::Result<redis::Value, RedisError> {
        if let (Some(node), Inner::Cluster(c)) = (node, &mut self.inner) {
            return c.route_command(cmd.clone(), node.clone()).await;
        }
        cmd.query_async(self).await
    }
}

/// The masters' addresses, from `CLUSTER SLOTS` (one entry per slot range: start, end, then
/// the master's host and port first, replicas after).
async fn cluster_masters(
    c: &mut ClusterConnection,
) -> std::result::Result<Vec<(String, u16)>, RedisError> {
    let reply = c
        .route_command(
            redis::cmd("CLUSTER").arg("SLOTS").clone(),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        )
        .await?;
    let ranges: Vec<redis::Value> = redis::from_redis_value(reply)?;
    let mut masters = Vec::new();
    for range in ranges {
        let fields: Vec<redis::Value> = redis::from_redis_value(range)?;
        let Some(master) = fields.into_iter().nth(2) else {
            continue;
        };
        let mut node = redis::from_redis_value::<Vec<redis::Value>>(master)?.into_iter();
        let (Some(host), Some(port)) = (node.next(), node.next()) else {
            return Err(RedisError::from((
                redis::ErrorKind::UnexpectedReturnType,
                "a CLUSTER SLOTS entry without the master's host and port",
            )));
        };
        let host: String = redis::from_redis_value(host)?;
        let port: u16 = redis::from_redis_value(port)?;
        if !masters.contains(&(host.clone(), port)) {
            masters.push((host, port));
        }
    }
    Ok(masters)
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner {
            Inner::Managed(_) => "managed",
            Inner::Multiplexed(_) => "multiplexed",
            Inner::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisConnection")
            .field("kind", &kind)
            .field("open", &self.is_open())
            .finish()
    }
}

impl redis::aio::ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, redis::Value> {
        match &mut self.inner {
            Inner::Managed(c) => c.req_packed_command(cmd),
            Inner::Multiplexed(c) => c.req_packed_command(cmd),
            Inner::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        match &mut self.inner {
            Inner::Managed(c) => c.req_packed_commands(cmd, offset, count),
            Inner::Multiplexed(c) => c.req_packed_commands(cmd, offset, count),
            Inner::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.inner {
            Inner::Managed(c) => c.get_db(),
            Inner::Multiplexed(c) => c.get_db(),
            Inner::Cluster(c) => c.get_db(),
        }
    }
}

/// A [`RedisConnection`] for one plain command or pipeline ([`RedisConnection::plain_commands`]).
pub(crate) struct PlainCommands<'a> {
    conn: &'a mut RedisConnection,
    turn: Option<LaneTurn>,
}

impl redis::aio::ConnectionLike for PlainCommands<'_> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, redis::Value> {
        match self.turn.as_mut().filter(|t| t.is_direct()) {
            Some(lane) => lane.req_packed_command(cmd),
            None => self.conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        match self.turn.as_mut().filter(|t| t.is_direct()) {
            Some(lane) => lane.req_packed_commands(cmd, offset, count),
            None => self.conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        self.conn.get_db()
    }
}

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
/// [`MultiplexedConnection`]; a `redis+cluster://` URL gives [`ClusterConnection`]s.
pub struct RedisConnector {
    target: Target,
    config: ConnectorConfig,
    address: String,
    managed: bool,
    timeout: Duration,
    /// Plain TCP to one server: where single-mode connections open their direct lane.
    lane: Option<Arc<LaneTarget>>,
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
        Ok(RedisConnector {
            target,
            config,
            address,
            managed: true,
            timeout,
            lane,
        })
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
        conn.map_err(|e| map_error(e, &self.address, "connect"))
    }

    /// Whether the socket is still open, as the client library last reported it; no I/O.
    fn is_connected(&self, conn: &RedisConnection) -> bool {
        conn.is_open()
    }

    async fn check(&self, conn: &mut RedisConnection) -> Result<()> {
        redis::cmd("PING")
            .query_async::<()>(conn)
            .await
            .map_err(|e| map_error(e, &self.address, "PING"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<RedisSettings> {
        RedisSettings::parse(url, &BTreeMap::new())
    }

    #[test]
    fn urls() {
        let s = parse("redis://u%40x:p%3Ass@h:6380/2?prefix=app1&filter=client").unwrap();
        assert_eq!(s.nodes, vec![("h".to_string(), 6380)]);
        assert_eq!(s.username.as_deref(), Some("u@x"));
        assert_eq!(s.password.as_ref().unwrap().expose(), "p:ss");
        assert_eq!(
            (s.db, s.prefix.as_deref(), s.filter),
            (2, Some("app1"), FilterMode::Client)
        );
        let s = parse("rediss://:pw@[::1]").unwrap();
        assert!(s.tls && s.username.is_none());
        assert_eq!(s.nodes, vec![("::1".to_string(), 6379)]);
        let s = parse("rediss://h/0?tls_ca=/etc/ca.pem").unwrap();
        assert_eq!(s.tls_ca.as_deref(), Some("/etc/ca.pem"));
        let e = parse("redis://h/0?tls_ca=/etc/ca.pem").unwrap_err();
        assert!(e.to_string().contains("rediss://"), "{e}");
        let s = parse("redis+cluster://a:1,b:2").unwrap();
        assert!(s.cluster);
        assert_eq!(s.address(), "a:1,b:2");
        for bad in [
            "redis://h:0",
            "redis://h:x",
            "redis://h/x",
            "redis://a:1,b:2",
            "redis+cluster://a:1/3",
            "redis://h?bogus=1",
            "redis://h?filter=maybe",
            "redis://h?prefix=a%20b",
            "redis://h#frag",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn url_values_win_over_extras() {
        let mut extras = BTreeMap::new();
        extras.insert("prefix".to_string(), "fromconfig".to_string());
        extras.insert("password".to_string(), "cfgpw".to_string());
        let s = RedisSettings::parse("redis://h?prefix=fromurl", &extras).unwrap();
        assert_eq!(s.prefix.as_deref(), Some("fromurl"));
        assert_eq!(s.password.unwrap().expose(), "cfgpw");
    }

    #[test]
    fn passwords_never_print() {
        let e = parse("redis://u:hunter2@h:1/x").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let c = RedisConnector::from_url(
            "redis://u:hunter2@h:1/0",
            ConnectionMode::Single,
            &PoolOptions::default(),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
