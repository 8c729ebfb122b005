//! The WebHDFS transport: HDFS's REST API over HTTP, with reqwest.
//!
//! CREATE and OPEN are two-step: the NameNode answers `307` with the DataNode's `Location`,
//! and the data goes to (or comes from) that address. Redirects are followed here, by hand,
//! so the body is sent only to the DataNode and errors of each step are read separately.

use super::transport::{remote_exception, FileSystem, FsError};
use crate::error::Error;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Path characters sent as they are; everything else is percent-encoded.
const PATH_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A WebHDFS client for one NameNode.
#[derive(Clone, Debug)]
pub(crate) struct WebHdfs {
    http: reqwest::Client,
    /// `http://host:port`
    origin: Arc<str>,
    /// `host:port`, for messages.
    addr: Arc<str>,
    user: Arc<str>,
}

#[derive(Deserialize)]
struct RemoteExceptionBody {
    #[serde(rename = "RemoteException")]
    remote: RemoteException,
}

#[derive(Deserialize)]
struct RemoteException {
    exception: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Listing {
    #[serde(rename = "FileStatuses")]
    statuses: FileStatuses,
}

#[derive(Deserialize)]
struct FileStatuses {
    #[serde(rename = "FileStatus", default)]
    entries: Vec<FileStatusEntry>,
}

#[derive(Deserialize)]
struct FileStatusEntry {
    #[serde(rename = "pathSuffix")]
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

/// A GETFILESTATUS answer; only its presence matters.
#[derive(Deserialize)]
struct StatusBody {
    #[serde(rename = "FileStatus")]
    _status: serde::de::IgnoredAny,
}

#[derive(Deserialize)]
struct BooleanBody {
    boolean: bool,
}

impl WebHdfs {
    /// Builds a client; does no I/O. `connect_timeout` bounds each TCP connect.
    pub(crate) fn build(
        host: &str,
        port: u16,
        user: &str,
        connect_timeout: Duration,
    ) -> Result<Self, Error> {
        let addr = format!("{host}:{port}");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| Error::invalid(format!("webhdfs client for {addr}: {e}")))?;
        let host_part = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        Ok(WebHdfs {
            http,
            origin: format!("http://{host_part}:{port}").into(),
            addr: addr.into(),
            user: user.into(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/webhdfs/v1{}",
            self.origin,
            utf8_percent_encode(path, PATH_SET)
        )
    }

    fn msg(&self, op: &str, path: &str, what: &str) -> String {
        format!("{op} {path} on WebHDFS {}: {what}", self.addr)
    }

    fn transport_error(&self, op: &str, path: &str, e: reqwest::Error) -> FsError {
        if e.is_timeout() {
            FsError::Failed(Error::Timeout {
                backend: "hdfs",
                message: self.msg(op, path, &e.to_string()),
            })
        } else {
            // Refused, reset, DNS, a body cut short: the server was not (fully) reached.
            let kind = if e.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            let what = format!("{kind}{}", source_chain(&e));
            FsError::Failed(Error::connection("hdfs", self.msg(op, path, &what), e))
        }
    }

    /// Sends one request to the NameNode with `op` and the user.
    async fn call(
        &self,
        method: Method,
        path: &str,
        op: &str,
        params: &[(&str, &str)],
    ) -> Result<Response, FsError> {
        let mut query: Vec<(&str, &str)> = vec![("op", op), ("user.name", &self.user)];
        query.extend_from_slice(params);
        self.http
            .request(method, self.url(path))
            .query(&query)
            .send()
            .await
            .map_err(|e| self.transport_error(op, path, e))
    }

    /// Turns an error response into our error; passes 2xx (and 307 when `redirect_ok`) on.
    async fn check(
        &self,
        resp: Response,
        op: &str,
        path: &str,
        redirect_ok: bool,
    ) -> Result<Response, FsError> {
        let status = resp.status();
        if status.is_success() || (redirect_ok && status == StatusCode::TEMPORARY_REDIRECT) {
            return Ok(resp);
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.transport_error(op, path, e))?;
        if let Ok(b) = serde_json::from_slice::<RemoteExceptionBody>(&body) {
            let first_line = b.remote.message.lines().next().unwrap_or_default();
            let what = format!("{}: {first_line}", b.remote.exception);
            return Err(remote_exception(
                "hdfs",
                &b.remote.exception,
                &self.msg(op, path, &what),
            ));
        }
        let text = excerpt(&body);
        let what = format!("HTTP {status}: {text}");
        Err(FsError::Failed(match status {
            // WebHDFS says "no such file" with a FileNotFoundException (above). A bare 404 is
            // some other HTTP server (or a Hadoop RPC port), and "not found" would be a wrong
            // answer: an empty schema, a missing record.
            StatusCode::NOT_FOUND => self.not_webhdfs(&text),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::Auth {
                backend: "hdfs",
                message: self.msg(op, path, &what),
            },
            _ => Error::Backend {
                backend: "hdfs",
                message: self.msg(op, path, &what),
                temporary: status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
                source: None,
            },
        }))
    }

    /// The error for a server at the URL that answers HTTP but not as WebHDFS.
    fn not_webhdfs(&self, text: &str) -> Error {
        let message = if text.contains("Hadoop IPC port") {
            format!(
                "it is a NameNode's RPC port; use hdfs://{} for native RPC, or the NameNode's \
                 HTTP port (9870 unless configured otherwise) for WebHDFS",
                self.addr
            )
        } else {
            format!(
                "its answers are not WebHDFS's (no FileStatus or RemoteException; it said {text:?}): \
                 check the host and port in the URL (WebHDFS is at the NameNode's HTTP port, 9870 \
                 unless configured otherwise)"
            )
        };
        Error::Protocol {
            backend: "hdfs",
            protocol: "WebHDFS",
            address: self.addr.to_string(),
            message,
        }
    }

    /// The DataNode address of a 307 answer.
    fn location(&self, resp: &Response, op: &str, path: &str) -> Result<String, FsError> {
        let loc = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                FsError::Failed(Error::Backend {
                    backend: "hdfs",
                    message: self.msg(op, path, "NameNode sent a redirect without Location"),
                    temporary: false,
                    source: None,
                })
            })?;
        Ok(if loc.starts_with('/') {
            format!("{}{loc}", self.origin)
        } else {
            loc.to_string()
        })
    }

    async fn read_json<T: for<'de> Deserialize<'de>>(
        &self,
        resp: Response,
        op: &str,
        path: &str,
    ) -> Result<T, FsError> {
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.transport_error(op, path, e))?;
        serde_json::from_slice(&body).map_err(|e| {
            FsError::Failed(Error::Backend {
                backend: "hdfs",
                message: self.msg(op, path, &format!("unexpected answer: {e}")),
                temporary: false,
                source: None,
            })
        })
    }
}

impl FileSystem for WebHdfs {
    async fn exists(&self, path: &str) -> Result<bool, FsError> {
        let resp = self.call(Method::GET, path, "GETFILESTATUS", &[]).await?;
        match self.check(resp, "GETFILESTATUS", path, false).await {
            Ok(resp) => {
                // Any HTTP server answers 200 to something: only a FileStatus means "exists".
                let body = resp
                    .bytes()
                    .await
                    .map_err(|e| self.transport_error("GETFILESTATUS", path, e))?;
                match serde_json::from_slice::<StatusBody>(&body) {
                    Ok(_) => Ok(true),
                    Err(_) => Err(FsError::Failed(self.not_webhdfs(&excerpt(&body)))),
                }
            }
            Err(FsError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn list(&self, dir: &str) -> Result<Vec<(String, bool)>, FsError> {
        let resp = self.call(Method::GET, dir, "LISTSTATUS", &[]).await?;
        let resp = self.check(resp, "LISTSTATUS", dir, false).await?;
        let listing: Listing = self.read_json(resp, "LISTSTATUS", dir).await?;
        Ok(listing
            .statuses
            .entries
            .into_iter()
            .map(|e| (e.name, e.kind == "DIRECTORY"))
            .collect())
    }

    async fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let resp = self.call(Method::GET, path, "OPEN", &[]).await?;
        let resp = self.check(resp, "OPEN", path, true).await?;
        let resp = if resp.status() == StatusCode::TEMPORARY_REDIRECT {
            let loc = self.location(&resp, "OPEN", path)?;
            let resp = self
                .http
                .get(loc)
                .send()
                .await
                .map_err(|e| self.transport_error("OPEN (DataNode)", path, e))?;
            self.check(resp, "OPEN (DataNode)", path, false).await?
        } else {
            resp
        };
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.transport_error("OPEN", path, e))?;
        Ok(body.to_vec())
    }

    async fn create(&self, path: &str, data: Vec<u8>, create_parent: bool) -> Result<(), FsError> {
        let create_parent = if create_parent { "true" } else { "false" };
        let params = [("overwrite", "false"), ("createparent", create_parent)];
        let resp = self.call(Method::PUT, path, "CREATE", &params).await?;
        let resp = self.check(resp, "CREATE", path, true).await?;
        if resp.status() != StatusCode::TEMPORARY_REDIRECT {
            return Err(FsError::Failed(Error::Backend {
                backend: "hdfs",
                message: self.msg(
                    "CREATE",
                    path,
                    &format!("expected a redirect, got {}", resp.status()),
                ),
                temporary: false,
                source: None,
            }));
        }
        let loc = self.location(&resp, "CREATE", path)?;
        let resp = self
            .http
            .put(loc)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(data)
            .send()
            .await
            .map_err(|e| self.transport_error("CREATE (DataNode)", path, e))?;
        self.check(resp, "CREATE (DataNode)", path, false).await?;
        Ok(())
    }

    /// Renames with `rename2` semantics: `renameoptions=NONE` makes the NameNode refuse an
    /// existing destination (FileAlreadyExistsException) instead of answering `false` or
    /// moving the file into a directory of that name, as the old rename does.
    async fn rename(&self, src: &str, dst: &str, overwrite: bool) -> Result<(), FsError> {
        let option = if overwrite { "OVERWRITE" } else { "NONE" };
        let params = [("destination", dst), ("renameoptions", option)];
        let resp = self.call(Method::PUT, src, "RENAME", &params).await?;
        self.check(resp, "RENAME", src, false).await?;
        Ok(())
    }

    async fn delete(&self, path: &str) -> Result<bool, FsError> {
        let resp = self
            .call(Method::DELETE, path, "DELETE", &[("recursive", "false")])
            .await?;
        let resp = match self.check(resp, "DELETE", path, false).await {
            Ok(r) => r,
            Err(FsError::NotFound) => return Ok(false),
            Err(e) => return Err(e),
        };
        let b: BooleanBody = self.read_json(resp, "DELETE", path).await?;
        Ok(b.boolean)
    }
}

/// The start of a response body, for a message.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}

/// What reqwest's message leaves out ("error sending request for url …" says little; the
/// root cause, e.g. "Connection refused", is the point), without repeating the URL.
fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut root = None;
    let mut cur = e.source();
    while let Some(s) = cur {
        root = Some(s);
        cur = s.source();
    }
    root.map(|r| format!(": {r}")).unwrap_or_default()
}
