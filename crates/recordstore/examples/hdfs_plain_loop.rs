//! The baseline for the HDFS benchmark: the same work as recordstore's insert and get, done
//! with plain `hdfs-native` calls and no recordstore at all.
//!
//! ```text
//! cargo run --release --example hdfs_plain_loop -- hdfs://127.0.0.1:9000/bench-plain 1000 [concurrency]
//! ```
//!
//! For N records of about 200 bytes of JSON: create (overwrite off), write and close
//! `{base}/{i}.json`; then open and read each file fully. The base directory is deleted
//! first. Prints `op\tN\tseconds\tops_per_sec` for `insert` and `get`.

mod common;

// The same allocator as the recordstore CLI, so that the comparison is of the layers alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(feature = "hdfs"))]
fn main() {
    eprintln!("hdfs_plain_loop needs the `hdfs` feature");
    std::process::exit(2);
}

#[cfg(feature = "hdfs")]
#[tokio::main]
async fn main() {
    use futures::stream::{self, StreamExt};
    use hdfs_native::WriteOptions;
    use std::time::Instant;

    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: {} hdfs://HOST:PORT/BASE N [CONCURRENCY]", args[0]);
        std::process::exit(2);
    }
    let n: usize = args[2].parse().expect("N must be a number");
    let concurrency: usize = args.get(3).map_or(1, |c| c.parse().expect("CONCURRENCY"));
    let (client, base) = common::fresh_hdfs_base(&args[1]).await;

    let record = |i: usize| {
        let mut text = format!(
            r#"{{"id":"task-{i:08}","status":"running","attempts":3,"owner":"bench","created":"2024-01-01T00:00:00Z","tags":["a","b","c"],"pad":""#
        );
        while text.len() < 198 {
            text.push('x');
        }
        text.push_str("\"}");
        text.into_bytes()
    };

    let start = Instant::now();
    let inserted = stream::iter(0..n)
        .map(|i| {
            let (client, path, data) = (&client, format!("{base}/{i}.json"), record(i));
            async move {
                let options = WriteOptions::default().overwrite(false);
                let mut w = client.create(&path, options).await?;
                w.write_bytes(bytes::Bytes::from(data)).await?;
                w.close().await
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let insert_secs = start.elapsed().as_secs_f64();
    for r in inserted {
        r.expect("insert");
    }

    let start = Instant::now();
    let read = stream::iter(0..n)
        .map(|i| {
            let (client, path) = (&client, format!("{base}/{i}.json"));
            async move {
                let reader = client.read(&path).await?;
                reader.read_range(0, reader.file_length()).await
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let get_secs = start.elapsed().as_secs_f64();
    for r in read {
        let bytes = r.expect("get");
        assert!(bytes.len() >= 200, "short read");
    }

    for (op, secs) in [("insert", insert_secs), ("get", get_secs)] {
        println!("{op}\t{n}\t{secs:.3}\t{:.1}", n as f64 / secs);
    }
}
