//! A Redis URL and the open options, checked: servers, database, credentials, TLS, key
//! prefix, filter mode and record codec.

use crate::codec::Codec;
use crate::connection::Secret;
use crate::error::{Error, Result};
use redis::{
    ConnectionAddr, ConnectionInfo, IntoConnectionInfo, ProtocolVersion, RedisConnectionInfo,
};
use std::collections::BTreeMap;

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
    /// How values are stored: JSON text, or the peer's pickles.
    pub(crate) codec: Codec,
}

/// The batch size of `HSCAN` (and of the filter script) unless the URL says otherwise.
pub(crate) const DEFAULT_SCAN_COUNT: usize = 1000;

impl RedisSettings {
    /// Parses `redis://[user:pass@]host[:port][/db][?prefix=..&filter=server|client&scan_count=N&codec=json|pickle]`,
    /// `rediss://…[?tls_ca=PEM_FILE]` (TLS) and `redis+cluster://host:port[,host:port…]`
    /// (`rediss+cluster://`). Values in the URL win over `extras` (`username`, `password`,
    /// `db`, `prefix`, `filter`, `scan_count`, `tls_ca`, `codec`); other extras belong to other
    /// backends and are ignored. An unknown codec is [`Error::Config`] naming the known ones.
    pub(crate) fn parse(url: &str, extras: &BTreeMap<String, String>) -> Result<Self> {
        let shown = crate::options::redact_url(url);
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
                    "prefix" | "filter" | "scan_count" | "tls_ca" | "codec" => {
                        params.insert(k.into_owned(), v.into_owned());
                    }
                    other => {
                        return Err(bad(format!(
                            "unknown parameter {other:?}; known: prefix, filter, scan_count, tls_ca, codec"
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
        let codec = match setting("codec").filter(|c| !c.is_empty()) {
            None => Codec::default(),
            Some(c) => Codec::from_name(&c, "redis").map_err(|e| match e {
                Error::Config { backend, message } => Error::Config {
                    backend,
                    message: format!("{shown}: {message}"),
                },
                other => other,
            })?,
        };
        if codec == Codec::Pickle && filter == FilterMode::Server {
            return Err(bad(
                "filter=server runs in Lua, which cannot read pickles: with codec=pickle, \
                 filters run on the client (filter=client, the default)"
                    .into(),
            ));
        }
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
            codec,
        })
    }

    /// RESP3 for single servers, whose disconnection notices let a dead connection be
    /// replaced before a write is sent on it (Redis 6 or newer); RESP2 for clusters.
    pub(super) fn connection_info(&self, host: &str, port: u16) -> ConnectionInfo {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::redis::RedisConnector;
    use crate::connection::{ConnectionMode, PoolOptions};

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
            "redis://h?codec=pickle&filter=server",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn codecs() {
        assert_eq!(parse("redis://h").unwrap().codec, Codec::Json);
        assert_eq!(
            parse("redis://h?codec=pickle").unwrap().codec,
            Codec::Pickle
        );
        assert_eq!(parse("redis://h?codec=json").unwrap().codec, Codec::Json);
        let s = parse("redis+cluster://a:1,b:2?codec=pickle&prefix=p").unwrap();
        assert_eq!((s.codec, s.prefix.as_deref()), (Codec::Pickle, Some("p")));
        let e = parse("redis://u:hunter2@h?codec=xml").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        let text = e.to_string();
        assert!(
            text.contains("\"xml\"") && text.contains("json, pickle"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
        let mut extras = BTreeMap::new();
        extras.insert("codec".to_string(), "pickle".to_string());
        let s = RedisSettings::parse("redis://h", &extras).unwrap();
        assert_eq!(s.codec, Codec::Pickle);
        let s = RedisSettings::parse("redis://h?codec=json", &extras).unwrap();
        assert_eq!(s.codec, Codec::Json, "the URL wins");
        extras.insert("codec".to_string(), "yaml".to_string());
        let e = RedisSettings::parse("redis://h", &extras).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
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
