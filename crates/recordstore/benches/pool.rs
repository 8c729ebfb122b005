//! Checkout-and-return overhead per operation: our managers against a bare deadpool pool,
//! all with a no-op connection, in the same run.
//!
//! `cargo bench --bench pool -- --warm-up-time 1 --measurement-time 2`

use async_trait::async_trait;
use criterion::{criterion_group, criterion_main, Criterion};
use deadpool::managed::{self, Metrics, RecycleResult};
use recordstore::connection::{
    ConnectionMode, Connector, ConnectorConfig, ConnectorManager, Idempotency, PoolOptions,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A connector whose connection is nothing.
struct Noop(ConnectorConfig);

#[async_trait]
impl Connector for Noop {
    type Connection = ();
    fn backend(&self) -> &'static str {
        "noop"
    }
    fn config(&self) -> &ConnectorConfig {
        &self.0
    }
    async fn connect(&self) -> recordstore::Result<()> {
        Ok(())
    }
}

/// The trivial deadpool manager to compare with.
struct Bare;

impl managed::Manager for Bare {
    type Type = ();
    type Error = std::convert::Infallible;
    async fn create(&self) -> Result<(), Self::Error> {
        Ok(())
    }
    async fn recycle(&self, _: &mut (), _: &Metrics) -> RecycleResult<Self::Error> {
        Ok(())
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Times `iters` operations inside one `block_on`, so the runtime's entry cost is not
/// counted per operation.
fn per_op<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, op: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            op().await;
        }
        start.elapsed()
    })
}

fn checkout(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("checkout_and_return");

    let bare: managed::Pool<Bare> = managed::Pool::builder(Bare).max_size(10).build().unwrap();
    g.bench_function("bare_deadpool", |b| {
        b.iter_custom(|iters| {
            per_op(&rt, iters, || async {
                let object = bare.get().await.unwrap();
                black_box(&*object);
                drop(object);
            })
        })
    });

    let pooled = rt.block_on(async {
        ConnectorManager::new(
            Noop(ConnectorConfig::default()),
            ConnectionMode::Pooled,
            PoolOptions::default(),
        )
    });
    g.bench_function("pooled_manager", |b| {
        b.iter_custom(|iters| {
            per_op(&rt, iters, || async {
                let mut lease = pooled.acquire().await.unwrap();
                black_box(&*lease);
                lease.release();
            })
        })
    });
    g.bench_function("pooled_manager_run", |b| {
        b.iter_custom(|iters| {
            per_op(&rt, iters, || async {
                pooled
                    .with_connection(Idempotency::Idempotent, |c| {
                        black_box(&*c);
                        Ok(())
                    })
                    .await
                    .unwrap();
            })
        })
    });

    let single = ConnectorManager::new(
        Noop(ConnectorConfig::default()),
        ConnectionMode::Single,
        PoolOptions::default(),
    );
    g.bench_function("single_manager", |b| {
        b.iter_custom(|iters| {
            per_op(&rt, iters, || async {
                let mut lease = single.acquire().await.unwrap();
                black_box(&*lease);
                lease.release();
            })
        })
    });
    g.finish();
}

criterion_group!(benches, checkout);
criterion_main!(benches);
