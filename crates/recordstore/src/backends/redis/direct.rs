//! The direct lane: a second socket to the server, for one caller at a time, with no driver
//! task between the caller and the socket.
//!
//! redis-rs's multiplexed connection hands every command to a driver task over a channel and
//! the reply back over another. That lets many callers share one socket, but it costs a
//! lone caller up to a tenth of each round trip (BENCHMARKS.md, `examples/redis_layers.rs`).
//! So in single mode a caller that is alone writes its command on the lane and reads the
//! reply itself. Callers that are not alone, or find the lane broken or not yet open, use the
//! shared `ConnectionManager` as before: there, concurrent commands share the server's reads
//! and writes, while the lane would cost the server a wake-up per command. Each caller waits
//! for its own reply before its next command, so which socket a command takes never reorders
//! one caller's commands.
//!
//! Only plain commands and pipelines of them take the lane (see `RedisStore::query`), never
//! scripts or scans, and the lane speaks RESP2: for those commands the replies are the same
//! values as in RESP3.
//!
//! A lane whose call was cancelled, timed out or failed is closed, never reused: its socket
//! may still carry the old reply. It is opened again in the background: at once after a
//! cancellation, [`REOPEN_AFTER`] after a failure, and twice as late after each failed
//! attempt to open it (up to [`REOPEN_AT_MOST`]), so that a lane that cannot log in does not
//! knock once a second forever.
//!
//! The lane names itself `recordstore-direct` (`CLIENT SETNAME`, where the user may) so that
//! `CLIENT LIST` tells it from the shared connection.

use redis::{RedisError, RedisFuture, Value};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// How long a lane that failed stays closed before a caller reopens it.
pub(crate) const REOPEN_AFTER: Duration = Duration::from_secs(1);

/// The longest a lane that keeps failing to open waits before the next attempt.
pub(crate) const REOPEN_AT_MOST: Duration = Duration::from_secs(60);

/// The lane's `CLIENT SETNAME`.
pub(crate) const LANE_NAME: &str = "recordstore-direct";

/// The longest bulk string accepted in a reply (Redis's own `proto-max-bulk-len` default).
const MAX_BULK: usize = 512 * 1024 * 1024;

/// The longest line (a simple string, an error, a length) accepted before its CRLF, so that a
/// peer that never ends a line cannot grow the buffer without bound.
const MAX_LINE: usize = 1024 * 1024;

/// Where the lane connects and how it logs in.
pub(crate) struct LaneTarget {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `AUTH` and `SELECT`, as one pipeline; empty when neither is needed.
    pub(crate) handshake: redis::Pipeline,
    /// The database `SELECT`ed.
    pub(crate) db: i64,
    /// The connect and response timeout.
    pub(crate) timeout: Duration,
}

/// One lane, shared by the clones of a single-mode connection.
pub(crate) struct DirectLane {
    target: Arc<LaneTarget>,
    state: Mutex<State>,
    /// Callers inside [`DirectLane::turn`]'s turns, on either path.
    callers: AtomicUsize,
}

enum State {
    /// Never asked for: the first lone caller only marks it wanted, the second opens it, so
    /// that a one-shot command (`recordstore get`) does not open a socket it will not use.
    Unused,
    /// Open and free.
    Idle(Socket),
    /// A caller is using it, or it is being opened.
    Busy,
    /// Closed; the first caller from `reopen_at` on starts opening it.
    Closed { reopen_at: Instant, failed: u32 },
}

impl State {
    /// Closed after a broken exchange or a cancelled one (`at_once`).
    fn closed(at_once: bool) -> Self {
        let wait = if at_once {
            Duration::ZERO
        } else {
            REOPEN_AFTER
        };
        State::Closed {
            reopen_at: Instant::now() + wait,
            failed: 0,
        }
    }
}

impl DirectLane {
    /// A lane that opens at the second lone call.
    pub(crate) fn new(target: Arc<LaneTarget>) -> Arc<Self> {
        Arc::new(DirectLane {
            target,
            state: Mutex::new(State::Unused),
            callers: AtomicUsize::new(0),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is replaced whole under the lock, so a poisoned lock still holds one.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A caller's turn: counts the caller until it ends, and holds the lane if the caller is
    /// alone and the lane open ([`LaneTurn::is_direct`]).
    pub(crate) fn turn(self: &Arc<Self>) -> LaneTurn {
        let alone = self.callers.fetch_add(1, Ordering::AcqRel) == 0;
        LaneTurn {
            lane: self.clone(),
            socket: if alone { self.take() } else { None },
        }
    }

    /// The socket, if it is open and free. If the lane is closed and due, starts opening it
    /// in the background (the caller goes on through the shared connection meanwhile).
    fn take(self: &Arc<Self>) -> Option<Socket> {
        let mut state = self.state();
        match std::mem::replace(&mut *state, State::Busy) {
            State::Idle(socket) => return Some(socket),
            State::Unused => *state = State::closed(true),
            State::Closed { reopen_at, failed } if Instant::now() >= reopen_at => {
                // Busy while it opens; outside a runtime it stays closed.
                match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => drop(runtime.spawn(self.clone().reopen(failed))),
                    Err(_) => *state = State::Closed { reopen_at, failed },
                }
            }
            other => *state = other,
        }
        None
    }

    /// Opens the socket; on failure, closes the lane for twice as long as the last time.
    async fn reopen(self: Arc<Self>, failed: u32) {
        let opened = tokio::time::timeout(self.target.timeout, Socket::open(&self.target)).await;
        *self.state() = match opened {
            Ok(Ok(socket)) => State::Idle(socket),
            _ => State::Closed {
                reopen_at: Instant::now()
                    + REOPEN_AFTER
                        .saturating_mul(1 << failed.min(16))
                        .min(REOPEN_AT_MOST),
                failed: failed.saturating_add(1),
            },
        };
    }

    /// Whether the lane is open and free (for tests).
    #[cfg(test)]
    fn is_idle(&self) -> bool {
        matches!(*self.state(), State::Idle(_))
    }
}

/// One caller's turn on a single-mode connection, for one command or pipeline: with the
/// lane's socket, or without it (then the caller uses the shared connection).
///
/// A finished exchange gives the socket back. Dropped in the middle (cancelled), the turn
/// closes the lane instead.
pub(crate) struct LaneTurn {
    lane: Arc<DirectLane>,
    socket: Option<Socket>,
}

impl LaneTurn {
    /// Whether this turn holds the lane (else the caller sends through the shared connection).
    pub(crate) fn is_direct(&self) -> bool {
        self.socket.is_some()
    }

    /// Writes `packed`, reads `skip + keep` replies and returns the last `keep`. In a
    /// transaction, an error among the skipped replies (the queued commands) is the outcome.
    async fn exchange(
        &mut self,
        packed: &[u8],
        skip: usize,
        keep: usize,
        transaction: bool,
    ) -> Result<Vec<Value>, RedisError> {
        let Some(socket) = self.socket.as_mut() else {
            return Err(RedisError::from((
                redis::ErrorKind::Client,
                "this turn does not hold the direct lane",
            )));
        };
        let timeout = self.lane.target.timeout;
        // The socket's one timer, pushed later: cheaper than a new timer per exchange.
        socket.timer.as_mut().reset(Instant::now() + timeout);
        let outcome = tokio::select! {
            biased;
            outcome = socket.io.exchange(packed, skip + keep) => outcome,
            () = socket.timer.as_mut() => Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no reply within {timeout:?}"),
            ))),
        };
        let next = match &outcome {
            Ok(_) => State::Idle(self.socket.take().expect("the socket")),
            Err(_) => {
                self.socket = None;
                State::closed(false)
            }
        };
        *self.lane.state() = next;
        let mut values = outcome?;
        let kept = values.split_off(skip);
        if transaction {
            for skipped in values {
                skipped.extract_error()?;
            }
        }
        Ok(kept)
    }
}

impl Drop for LaneTurn {
    fn drop(&mut self) {
        if self.socket.take().is_some() {
            // Cancelled mid-exchange (or never used): the reply may still come, so the socket
            // goes.
            *self.lane.state() = State::closed(true);
        }
        self.lane.callers.fetch_sub(1, Ordering::AcqRel);
    }
}

impl redis::aio::ConnectionLike for LaneTurn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let mut replies = self
                .exchange(&cmd.get_packed_command(), 0, 1, false)
                .await?;
            Ok(replies.pop().unwrap_or(Value::Nil))
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let packed = pipeline.get_packed_pipeline();
            self.exchange(&packed, offset, count, pipeline.is_transaction())
                .await
        })
    }

    fn get_db(&self) -> i64 {
        self.lane.target.db
    }
}

/// An open, logged-in socket and its response timer.
struct Socket {
    io: Io,
    timer: Pin<Box<Sleep>>,
}

/// The stream and the bytes read from it but not yet consumed.
struct Io {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Socket {
    async fn open(target: &LaneTarget) -> Result<Self, RedisError> {
        let stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
        stream.set_nodelay(true)?;
        let mut io = Io {
            stream,
            buf: Vec::with_capacity(4096),
        };
        let mut handshake = target.handshake.clone();
        handshake.cmd("CLIENT").arg("SETNAME").arg(LANE_NAME);
        let replies = io
            .exchange(&handshake.get_packed_pipeline(), handshake.len())
            .await?;
        // AUTH and SELECT must succeed; the name is a courtesy a restricted user may lack.
        for reply in replies.into_iter().take(target.handshake.len()) {
            reply.extract_error()?;
        }
        Ok(Socket {
            io,
            timer: Box::pin(tokio::time::sleep(target.timeout)),
        })
    }
}

impl Io {
    /// Writes `packed` and reads `count` whole replies.
    async fn exchange(&mut self, packed: &[u8], count: usize) -> Result<Vec<Value>, RedisError> {
        self.stream.write_all(packed).await?;
        let mut replies = Vec::with_capacity(count);
        let mut start = 0;
        while replies.len() < count {
            match frame_len(&self.buf[start..]).map_err(protocol_error)? {
                Frame::Complete(len) => {
                    replies.push(decode(&self.buf[start..start + len])?);
                    start += len;
                }
                Frame::Partial { need } => {
                    self.buf.drain(..start);
                    start = 0;
                    self.buf
                        .reserve(need.saturating_sub(self.buf.len()).max(4096));
                    if self.stream.read_buf(&mut self.buf).await? == 0 {
                        return Err(RedisError::from(std::io::Error::from(
                            std::io::ErrorKind::UnexpectedEof,
                        )));
                    }
                }
            }
        }
        if start != self.buf.len() {
            // Nothing was asked that these bytes could answer.
            return Err(protocol_error("more replies than commands".into()));
        }
        self.buf.clear();
        Ok(replies)
    }
}

fn protocol_error(why: String) -> RedisError {
    RedisError::from((
        redis::ErrorKind::Parse,
        "the server's reply is not RESP",
        why,
    ))
}

/// What the start of a read buffer holds.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// One whole reply of this many bytes.
    Complete(usize),
    /// Part of a reply; it cannot be complete before the buffer holds `need` bytes.
    Partial { need: usize },
}

/// Finds where the first reply in `buf` ends, without decoding it (RESP2, and RESP3's types
/// for safety). Errs on bytes that are not a reply.
fn frame_len(buf: &[u8]) -> Result<Frame, String> {
    let mut pos = 0;
    // Values still to read, counting every element of every open aggregate.
    let mut remaining: usize = 1;
    while remaining > 0 {
        let Some(&kind) = buf.get(pos) else {
            return Ok(Frame::Partial { need: pos + 1 });
        };
        let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') else {
            if buf.len() - pos > MAX_LINE {
                return Err(format!("a line of over {MAX_LINE} bytes at byte {pos}"));
            }
            return Ok(Frame::Partial {
                need: buf.len() + 1,
            });
        };
        let line_end = pos + nl;
        if nl < 2 || buf[line_end - 1] != b'\r' {
            return Err(format!("a line without CRLF at byte {pos}"));
        }
        let line = &buf[pos + 1..line_end - 1];
        pos = line_end + 1;
        remaining -= 1;
        let length = || -> Result<Option<usize>, String> {
            let text = std::str::from_utf8(line).map_err(|_| "a length that is not text")?;
            let n: i64 = text
                .parse()
                .map_err(|_| format!("a length {text:?} that is not a number"))?;
            match n {
                -1 => Ok(None),
                n if n < 0 => Err(format!("a negative length {n}")),
                n => usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= MAX_BULK)
                    .map(Some)
                    .ok_or_else(|| format!("a length {n} over the limit")),
            }
        };
        match kind {
            b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => {}
            b'$' | b'!' | b'=' => {
                if let Some(n) = length()? {
                    let end = pos + n + 2;
                    if buf.len() < end {
                        return Ok(Frame::Partial { need: end });
                    }
                    if &buf[end - 2..end] != b"\r\n" {
                        return Err(format!("a bulk string of {n} bytes without CRLF after it"));
                    }
                    pos = end;
                }
            }
            b'*' | b'~' | b'>' => remaining += length()?.unwrap_or(0),
            b'%' => remaining += 2 * length()?.unwrap_or(0),
            // Attributes: pairs, then the value they describe.
            b'|' => remaining += 2 * length()?.unwrap_or(0) + 1,
            other => return Err(format!("an unknown reply type {:?}", other as char)),
        }
    }
    Ok(Frame::Complete(pos))
}

/// Decodes one whole reply, as [`frame_len`] found it. The common types are decoded here;
/// errors and anything else go to the `redis` crate's parser, which builds their values.
fn decode(frame: &[u8]) -> Result<Value, RedisError> {
    let mut pos = 0;
    match decode_simple(frame, &mut pos, 0) {
        Some(value) if pos == frame.len() => Ok(value),
        _ => redis::parse_redis_value(frame),
    }
}

/// Decodes the value at `pos` (a complete, framed reply) and moves `pos` past it; `None` for
/// anything but simple strings, integers, bulk strings and arrays of those.
fn decode_simple(buf: &[u8], pos: &mut usize, depth: usize) -> Option<Value> {
    let kind = *buf.get(*pos)?;
    let nl = *pos + buf[*pos..].iter().position(|&b| b == b'\n')?;
    let line = buf.get(*pos + 1..nl.checked_sub(1)?)?;
    *pos = nl + 1;
    let number = || std::str::from_utf8(line).ok()?.parse::<i64>().ok();
    Some(match kind {
        b'+' if line == b"OK" => Value::Okay,
        b'+' => Value::SimpleString(String::from_utf8(line.to_vec()).ok()?),
        b':' => Value::Int(number()?),
        b'$' => match number()? {
            -1 => Value::Nil,
            n => {
                let n = usize::try_from(n).ok()?;
                let bytes = buf.get(*pos..*pos + n)?.to_vec();
                *pos += n + 2;
                Value::BulkString(bytes)
            }
        },
        b'*' if depth < 64 => match number()? {
            -1 => Value::Nil,
            n => {
                let n = usize::try_from(n).ok()?;
                let mut items = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    items.push(decode_simple(buf, pos, depth + 1)?);
                }
                Value::Array(items)
            }
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let whole = |b: &[u8]| frame_len(b).unwrap();
        assert_eq!(whole(b"+OK\r\n"), Frame::Complete(5));
        assert_eq!(whole(b":12\r\n+OK\r\n"), Frame::Complete(5));
        assert_eq!(whole(b"$3\r\nabc\r\n"), Frame::Complete(9));
        assert_eq!(whole(b"$-1\r\n"), Frame::Complete(5));
        assert_eq!(whole(b"*-1\r\n"), Frame::Complete(5));
        assert_eq!(whole(b"*0\r\n"), Frame::Complete(4));
        let nested = b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nk\r\n$2\r\nvv\r\n";
        assert_eq!(whole(nested), Frame::Complete(nested.len()));
        for cut in 0..nested.len() {
            assert!(
                matches!(whole(&nested[..cut]), Frame::Partial { need } if need > cut),
                "{cut}"
            );
        }
        // The bulk's length says how much must arrive before scanning again.
        assert_eq!(whole(b"$100\r\nab"), Frame::Partial { need: 108 });
        assert_eq!(whole(b"-ERR no\r\n"), Frame::Complete(9));
        assert_eq!(whole(b"%1\r\n+a\r\n:1\r\n"), Frame::Complete(12));
    }

    #[test]
    fn decodes_like_the_redis_crate() {
        for reply in [
            &b"+OK\r\n"[..],
            b"+PONG\r\n",
            b":-42\r\n",
            b"$-1\r\n",
            b"$0\r\n\r\n",
            b"$5\r\nh\r\nlo\r\n",
            b"*-1\r\n",
            b"*0\r\n",
            b"*3\r\n$1\r\n0\r\n*2\r\n$1\r\nk\r\n$-1\r\n:7\r\n",
            b"-ERR wrong\r\n",
            b"-NOAUTH Authentication required.\r\n",
            b"*2\r\n+OK\r\n-EXECABORT no\r\n",
            b"%1\r\n+a\r\n:1\r\n",
            b"#t\r\n",
        ] {
            assert_eq!(
                decode(reply).unwrap(),
                redis::parse_redis_value(reply).unwrap(),
                "{}",
                String::from_utf8_lossy(reply)
            );
        }
    }

    #[test]
    fn bad_frames() {
        for bad in [
            &b"?x\r\n"[..],
            b"+OK\n",
            b"$abc\r\n",
            b"$-5\r\n",
            b"$3\r\nabcd\r\n",
            b"$99999999999\r\n",
        ] {
            assert!(frame_len(bad).is_err(), "{bad:?}");
        }
        let endless = [b"+".as_slice(), &vec![b'x'; MAX_LINE + 1]].concat();
        assert!(frame_len(&endless).is_err());
        assert!(frame_len(&endless[..MAX_LINE]).is_ok());
    }

    /// A lane to a port where nothing listens stays closed, callers are told to go elsewhere
    /// rather than wait, and each failed open doubles the wait before the next.
    #[tokio::test]
    async fn an_unreachable_lane_is_skipped() {
        let lane = DirectLane::new(Arc::new(LaneTarget {
            host: "127.0.0.1".into(),
            port: 1,
            handshake: redis::pipe(),
            db: 0,
            timeout: Duration::from_secs(1),
        }));
        let failures = || match &*lane.state() {
            State::Closed { failed, .. } => Some(*failed),
            _ => None,
        };
        assert!(!lane.turn().is_direct()); // marks it wanted
        assert_eq!(failures(), Some(0));
        assert!(!lane.turn().is_direct()); // starts opening it
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!lane.turn().is_direct());
        assert_eq!(failures(), Some(1));
        assert!(!lane.is_idle());
    }
}
