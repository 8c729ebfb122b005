//! [`RedisConnection`]: one connection to a server or a cluster, as the store uses it.

use super::direct::{DirectLane, LaneTurn};
use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{RedisError, RedisFuture};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One connection: a handle that many callers can use at once (clones share the socket).
#[derive(Clone)]
pub struct RedisConnection {
    pub(super) inner: Inner,
    /// Cleared when the client library reports the socket closed (a RESP3 disconnection
    /// push), so that the manager replaces the connection before sending on it.
    pub(super) alive: Option<Arc<AtomicBool>>,
    /// Single mode over plain TCP: the socket a lone caller uses directly (see
    /// [`super::direct`]).
    pub(super) lane: Option<Arc<DirectLane>>,
}

#[derive(Clone)]
pub(super) enum Inner {
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
