//! Where one client's Redis round trip goes: the same `HGET` of a ~200-byte record through
//! each layer in turn, interleaved in small chunks so that every layer sees the same machine.
//!
//! ```text
//! cargo run --release --example redis_layers -- [127.0.0.1:6392] [ROUNDS]
//! ```
//!
//! Layers: a blocking std socket (write, then a blocking read: two syscalls, no event loop,
//! the floor for any client); a raw tokio socket (write the command, read the reply, nothing
//! else: the floor for a tokio client); redis-rs's multiplexed connection; its
//! `ConnectionManager`, with and without a response timeout (ours sets one); and
//! recordstore's `get_record` (names, connection manager, the direct lane, JSON decoding;
//! the lane opens in the background at the second call, before the timed chunks). Prints µs per
//! operation and each layer's speed relative to the raw tokio socket, overall and as the
//! median of the per-chunk ratios (each chunk against the raw socket's chunk of the same
//! round), which the machine's drift between seconds skews less. Last, if `redis-benchmark`
//! is installed, three clients alternate with `redis-benchmark -c 1 -t set,get -d 200` for
//! nine rounds: the raw tokio socket (the ceiling for any tokio client), the
//! `ConnectionManager` with a timeout (the issue's client, bare) and `get_record`. It also
//! prints the CPU time of a call's own work with no I/O (decoding and encoding the record,
//! building and packing the command).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(feature = "redis"))]
fn main() {
    eprintln!("redis_layers needs the `redis` feature");
    std::process::exit(2);
}

#[cfg(feature = "redis")]
fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // A task, not the block_on future, as in the CLI (see its main).
    runtime.block_on(async { tokio::spawn(layers()).await.expect("the measurement") });
}

#[cfg(feature = "redis")]
async fn layers() {
    use recordstore::{
        Document, KeyValueStore, KeyValueStoreExt, OpenOptions, RecordKey, SchemaName,
    };
    use std::time::{Duration, Instant};

    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:6392".into());
    let rounds: usize = args.get(1).map_or(40, |r| r.parse().expect("ROUNDS"));
    let url = format!("redis://{addr}/0");
    let client = redis::Client::open(url.as_str()).expect("a Redis URL");
    let mut mux = client
        .get_multiplexed_async_connection()
        .await
        .expect("cannot connect; start a server (scripts/bench.py starts one on 6392)");
    let mut mgr = redis::aio::ConnectionManager::new(client.clone())
        .await
        .unwrap();
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(30)));
    let mut mgr_timeout = redis::aio::ConnectionManager::new_with_config(client.clone(), config)
        .await
        .unwrap();
    let store = recordstore::open_with(&url, &OpenOptions::default())
        .await
        .unwrap();
    let (schema, key) = ("redis-layers", "r1");
    let record = serde_json::json!({
        "id": key, "status": "running", "attempts": 3, "payload": "x".repeat(150)
    });
    let _ = store.delete(schema, key).await;
    store.insert(schema, key, &record).await.unwrap();
    let doc = store
        .get_record(
            SchemaName::new(schema).unwrap(),
            RecordKey::new(key).unwrap(),
        )
        .await
        .unwrap();
    let text = doc.to_json();
    let stored_len = text.len();

    // The work of a call with no I/O at all, to set beside a round trip's µs.
    let cpu_ns = |work: &mut dyn FnMut()| {
        let n = 100_000;
        let started = Instant::now();
        for _ in 0..n {
            work();
        }
        started.elapsed().as_secs_f64() * 1e9 / f64::from(n)
    };
    use std::hint::black_box;
    let no_io = [
        (
            "decoding the record",
            cpu_ns(&mut || {
                black_box(
                    Document::decode_stored(black_box(text.as_bytes()), schema, key).unwrap(),
                );
            }),
        ),
        (
            "encoding it",
            cpu_ns(&mut || drop(black_box(doc.to_json()))),
        ),
        (
            "building and packing HGET",
            cpu_ns(&mut || {
                black_box(redis::cmd("HGET").arg(schema).arg(key).get_packed_command());
            }),
        ),
    ];

    let mut blocking = std::net::TcpStream::connect(addr.as_str()).unwrap();
    blocking.set_nodelay(true).unwrap();
    let mut raw = tokio::net::TcpStream::connect(addr.as_str()).await.unwrap();
    raw.set_nodelay(true).unwrap();
    let request = format!(
        "*3\r\n$4\r\nHGET\r\n${}\r\n{schema}\r\n${}\r\n{key}\r\n",
        schema.len(),
        key.len()
    );
    // `$<len>\r\n<value>\r\n`
    let reply_len = format!("${stored_len}\r\n").len() + stored_len + 2;
    let mut buf = vec![0u8; 4096];

    let names = [
        "raw tokio socket",
        "redis-rs multiplexed",
        "ConnectionManager",
        "ConnectionManager + timeout",
        "recordstore get_record",
        "blocking std socket",
    ];
    let mut totals = [Duration::ZERO; 6];
    let mut ratios: [Vec<f64>; 6] = Default::default();
    let chunk = 500;
    for _ in 0..rounds {
        let mut raw_chunk = Duration::ZERO;
        for (layer, total) in totals.iter_mut().enumerate() {
            let started = Instant::now();
            for _ in 0..chunk {
                let hget = || redis::cmd("HGET").arg(schema).arg(key).clone();
                match layer {
                    0 => raw_round_trip(&mut raw, request.as_bytes(), &mut buf[..reply_len]).await,
                    1 => {
                        let _: Vec<u8> = hget().query_async(&mut mux).await.unwrap();
                    }
                    2 => {
                        let _: Vec<u8> = hget().query_async(&mut mgr).await.unwrap();
                    }
                    3 => {
                        let _: Vec<u8> = hget().query_async(&mut mgr_timeout).await.unwrap();
                    }
                    5 => {
                        use std::io::{Read, Write};
                        blocking.write_all(request.as_bytes()).unwrap();
                        blocking.read_exact(&mut buf[..reply_len]).unwrap();
                    }
                    _ => {
                        let (s, k) = (
                            SchemaName::new(schema).unwrap(),
                            RecordKey::new(key).unwrap(),
                        );
                        store.get_record(s, k).await.unwrap();
                    }
                }
            }
            let took = started.elapsed();
            if layer == 0 {
                raw_chunk = took;
            }
            ratios[layer].push(raw_chunk.as_secs_f64() / took.as_secs_f64());
            *total += took;
        }
    }
    // Three clients against redis-benchmark's GET of a 200-byte value (SET first, so that GET
    // hits), alternating: the raw tokio socket (how close any tokio client can come), the
    // `ConnectionManager` with a response timeout (the client the issue asks for, bare), and
    // recordstore's `get_record`.
    let port = addr.rsplit(':').next().unwrap_or("6392");
    let racers = [
        "raw tokio socket",
        "ConnectionManager + timeout",
        "recordstore get_record",
    ];
    let mut against_rb: [Vec<f64>; 3] = Default::default();
    'race: for _ in 0..9 {
        let n = 10_000;
        let mut rates = [0.0; 3];
        for (racer, rate) in rates.iter_mut().enumerate() {
            let started = Instant::now();
            for _ in 0..n {
                match racer {
                    0 => raw_round_trip(&mut raw, request.as_bytes(), &mut buf[..reply_len]).await,
                    1 => {
                        let _: Vec<u8> = redis::cmd("HGET")
                            .arg(schema)
                            .arg(key)
                            .query_async(&mut mgr_timeout)
                            .await
                            .unwrap();
                    }
                    _ => {
                        let (s, k) = (
                            SchemaName::new(schema).unwrap(),
                            RecordKey::new(key).unwrap(),
                        );
                        store.get_record(s, k).await.unwrap();
                    }
                }
            }
            *rate = n as f64 / started.elapsed().as_secs_f64();
        }
        let out = std::process::Command::new("redis-benchmark")
            .args([
                "-p", port, "-n", "10000", "-t", "set,get", "-d", "200", "-q", "--csv",
            ])
            .args(["-c", "1"])
            .output();
        let rb_rate = out.ok().and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let line = text.lines().find(|l| l.starts_with("\"GET\""))?.to_string();
            line.split('"').nth(3)?.parse::<f64>().ok()
        });
        let Some(rb) = rb_rate else { break 'race }; // no redis-benchmark here
        for (ratios, rate) in against_rb.iter_mut().zip(rates) {
            ratios.push(rate / rb);
        }
    }
    store.delete(schema, key).await.unwrap();
    let ops = (rounds * chunk) as f64;
    for ((name, total), mut r) in names.iter().zip(totals).zip(ratios) {
        r.sort_by(f64::total_cmp);
        println!(
            "{name:28} {:6.1} µs/op  {:.2}x the raw tokio socket's speed (median of chunks {:.2}x)",
            total.as_secs_f64() * 1e6 / ops,
            totals[0].as_secs_f64() / total.as_secs_f64(),
            r[r.len() / 2]
        );
    }
    let shown: Vec<String> = no_io
        .iter()
        .map(|(what, ns)| format!("{what} {ns:.0} ns"))
        .collect();
    println!("work per call with no I/O: {}", shown.join(", "));
    for (name, mut r) in racers.iter().zip(against_rb) {
        if r.is_empty() {
            break;
        }
        let shown: Vec<String> = r.iter().map(|x| format!("{x:.2}")).collect();
        r.sort_by(f64::total_cmp);
        println!(
            "{name} HGET vs `redis-benchmark -c 1` GET: median {:.2}x, per round {}",
            r[r.len() / 2],
            shown.join(" ")
        );
    }
}

/// Writes `request` and reads until `reply` (exactly the reply's length) is full: a client
/// with no parsing, no buffering and no bookkeeping.
#[cfg(feature = "redis")]
async fn raw_round_trip(socket: &mut tokio::net::TcpStream, request: &[u8], reply: &mut [u8]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    socket.write_all(request).await.unwrap();
    socket.read_exact(reply).await.unwrap();
}
