//! Where one small-file write to HDFS spends its time: create, the first write (add block and
//! the DataNode pipeline), close (last ack and complete), and the rename recordstore's insert
//! adds, each timed over N files with plain `hdfs-native` calls.
//!
//! ```text
//! cargo run --release --example hdfs_write_steps -- hdfs://127.0.0.1:9000/bench-steps [N]
//! ```
//!
//! The JVM of a MiniDFSCluster compiles its hot paths as it goes: run it a few times and read
//! the later runs.

mod common;

#[cfg(not(feature = "hdfs"))]
fn main() {
    eprintln!("hdfs_write_steps needs the `hdfs` feature");
    std::process::exit(2);
}

#[cfg(feature = "hdfs")]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    use hdfs_native::WriteOptions;
    use std::time::{Duration, Instant};

    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .map_or("hdfs://127.0.0.1:9000/bench-steps", |s| s);
    let n: u32 = args
        .get(2)
        .map_or(200, |s| s.parse().expect("N must be a number"));
    let (client, base) = common::fresh_hdfs_base(url).await;

    let data = bytes::Bytes::from(vec![b'x'; 200]);
    let mut steps = [Duration::ZERO; 4];
    for i in 0..n {
        let (path, target) = (format!("{base}/{i}.tmp"), format!("{base}/{i}.json"));
        let t = Instant::now();
        let options = WriteOptions::default().overwrite(false);
        let mut writer = client.create(&path, options).await.expect("create");
        steps[0] += t.elapsed();
        let t = Instant::now();
        writer.write_bytes(data.clone()).await.expect("write");
        steps[1] += t.elapsed();
        let t = Instant::now();
        writer.close().await.expect("close");
        steps[2] += t.elapsed();
        let t = Instant::now();
        client.rename(&path, &target, false).await.expect("rename");
        steps[3] += t.elapsed();
    }
    let _ = client.delete(&base, true).await;
    let names = ["create", "first write", "close", "rename"];
    for (name, total) in names.iter().zip(steps) {
        println!(
            "{name:12} {:.2} ms",
            total.as_secs_f64() * 1e3 / f64::from(n)
        );
    }
}
