//! Idle reaping, `max_lifetime` and `min_idle`, on tokio's paused clock: the reaper is a
//! tokio task, so `sleep` under a paused clock runs it at exactly its ticks.

mod pool_common;

use pool_common::*;
use recordstore::connection::{ConnectionMode, ConnectorManager, PoolOptions};
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use tokio::time::sleep;

fn manager(opts: PoolOptions) -> (ConnectorManager<Fake>, std::sync::Arc<Log>) {
    let (fake, log) = Fake::new();
    (
        ConnectorManager::new(fake, ConnectionMode::Pooled, opts),
        log,
    )
}

async fn use_n_at_once(m: &ConnectorManager<Fake>, n: usize) {
    let mut leases = futures::future::try_join_all((0..n).map(|_| m.acquire()))
        .await
        .unwrap();
    for l in &mut leases {
        l.release();
    }
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_closed_after_idle_timeout() {
    let mut opts = options(4);
    opts.idle_timeout = Some(Duration::from_secs(10));
    let (m, log) = manager(opts);
    use_n_at_once(&m, 3).await;
    assert_eq!(m.stats().idle, 3);
    sleep(Duration::from_secs(9)).await;
    assert_eq!(m.stats().idle, 3, "not yet idle for 10 s");
    sleep(Duration::from_secs(7)).await; // the reaper ticks every 5 s
    let s = m.stats();
    assert_eq!((s.open, s.closed_idle, s.closed_broken), (0, 3, 0), "{s:?}");
    assert_eq!(live(&log), 0);
    assert_eq!(
        log.disconnects.load(SeqCst),
        3,
        "reaped connections are disconnected"
    );
}

#[tokio::test(start_paused = true)]
async fn checked_out_connections_are_never_reaped() {
    let mut opts = options(4);
    opts.idle_timeout = Some(Duration::from_secs(10));
    opts.max_lifetime = Some(Duration::from_secs(20));
    let (m, log) = manager(opts);
    let mut held = m.acquire().await.unwrap();
    sleep(Duration::from_secs(60)).await; // far past both limits, while held
    let s = m.stats();
    assert_eq!(
        (s.open, s.in_use, s.closed_idle, s.closed_lifetime),
        (1, 1, 0, 0),
        "{s:?}"
    );
    assert_eq!(live(&log), 1);
    assert_eq!(held.id(), 1, "still the same, usable connection");
    held.release();
    drop(held);
    // Back in the pool, it is past max_lifetime: the next checkout or reaper tick closes it.
    let mut next = m.acquire().await.unwrap();
    assert_eq!(next.id(), 2);
    next.release();
    assert_eq!(m.stats().closed_lifetime, 1);
}

#[tokio::test(start_paused = true)]
async fn idle_connections_older_than_max_lifetime_are_closed() {
    let mut opts = options(4);
    opts.idle_timeout = None;
    opts.max_lifetime = Some(Duration::from_secs(30));
    let (m, log) = manager(opts);
    use_n_at_once(&m, 2).await;
    sleep(Duration::from_secs(20)).await;
    use_n_at_once(&m, 2).await; // in use recently, but still as old
    sleep(Duration::from_secs(26)).await;
    let s = m.stats();
    assert_eq!(
        (s.open, s.closed_lifetime, s.closed_idle),
        (0, 2, 0),
        "{s:?}"
    );
    assert_eq!(live(&log), 0);
}

#[tokio::test(start_paused = true)]
async fn min_idle_connections_are_opened_and_kept() {
    let mut opts = options(4);
    opts.idle_timeout = Some(Duration::from_secs(10));
    opts.min_idle = 2;
    let (m, log) = manager(opts);
    sleep(Duration::from_millis(1)).await;
    let s = m.stats();
    assert_eq!((s.open, s.idle), (2, 2), "warmed up without any use: {s:?}");
    use_n_at_once(&m, 4).await;
    assert_eq!(m.stats().open, 4);
    sleep(Duration::from_secs(60)).await;
    let s = m.stats();
    assert_eq!(
        (s.open, s.idle, s.closed_idle),
        (2, 2, 2),
        "down to min_idle: {s:?}"
    );
    assert_eq!(live(&log), 2);
}

#[tokio::test(start_paused = true)]
async fn a_broken_idle_connection_is_reaped() {
    let mut opts = options(4);
    opts.idle_timeout = Some(Duration::from_secs(10));
    let (m, log) = manager(opts);
    let mut l = m.acquire().await.unwrap();
    let conn = (*l).clone();
    l.release();
    drop(l);
    conn.break_it();
    drop(conn);
    sleep(Duration::from_secs(6)).await; // one tick, well before idle_timeout
    let s = m.stats();
    assert_eq!((s.open, s.closed_broken, s.closed_idle), (0, 1, 0), "{s:?}");
    assert_eq!(live(&log), 0);
}

#[test]
fn a_pool_built_outside_a_runtime_reaps_once_used_inside_one() {
    let mut opts = options(4);
    opts.idle_timeout = Some(Duration::from_secs(10));
    let (m, log) = manager(opts);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        use_n_at_once(&m, 1).await;
        sleep(Duration::from_secs(16)).await;
        assert_eq!(m.stats().closed_idle, 1);
        assert_eq!(live(&log), 0);
    });
}
