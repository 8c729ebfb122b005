//! Acquisition timeouts: bounded by `connection_timeout`, and the error names the real cause.

mod pool_common;

use pool_common::*;
use recordstore::connection::{ConnectionMode, ConnectorManager, RetryOptions};
use recordstore::ErrorKind;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test]
async fn a_refused_connect_is_retried_then_reported_with_its_cause() {
    for mode in [ConnectionMode::Pooled, ConnectionMode::Single] {
        let (fake, log) = Fake::new();
        log.refuse_always.store(true, SeqCst);
        let m = ConnectorManager::new(fake, mode, options(4));
        let e = m.acquire().await.err().expect("connect is refused");
        assert_eq!(e.kind(), ErrorKind::Connection, "{mode}: {e}");
        assert!(e.to_string().contains("fake.invalid"), "{e}");
        let cause = std::error::Error::source(&e)
            .expect("keeps the io error")
            .to_string();
        assert!(cause.contains("refused"), "{cause}");
        assert_eq!(connects(&log), 3, "{mode}: tried `attempts` times");
        let s = m.stats();
        assert_eq!(
            (s.connect_errors, s.retries, s.created),
            (3, 2, 0),
            "{mode}: {s:?}"
        );
        assert_eq!((s.open, s.in_use), (0, 0), "{mode}: {s:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_timeout_while_refused_carries_the_refusal() {
    for mode in [ConnectionMode::Pooled, ConnectionMode::Single] {
        let (fake, log) = Fake::new();
        log.refuse_always.store(true, SeqCst);
        let mut opts = options(2);
        opts.connection_timeout = Duration::from_millis(300);
        opts.retry = RetryOptions {
            attempts: 1000,
            backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(50),
        };
        let m = ConnectorManager::new(fake, mode, opts);
        let start = Instant::now();
        let e = m.acquire().await.err().expect("never connects");
        assert!(
            start.elapsed() <= Duration::from_millis(300),
            "{mode}: bounded by the timeout"
        );
        // Out of time before the next retry: the refusal itself comes back, not "timed out".
        assert!(e.to_string().contains("connection failed"), "{mode}: {e}");
        assert!(connects(&log) >= 5, "{mode}: retried while time allowed");
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_pool_times_out_saying_all_connections_are_in_use() {
    let (fake, _log) = Fake::new();
    let mut opts = options(2);
    opts.connection_timeout = Duration::from_secs(2);
    let m = ConnectorManager::new(fake, ConnectionMode::Pooled, opts);
    let a = m.acquire().await.unwrap();
    let b = m.acquire().await.unwrap();
    let start = Instant::now();
    let e = m.acquire().await.err().expect("pool is full");
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        e.to_string().contains("all 2 connections stayed in use"),
        "{e}"
    );
    let s = m.stats();
    assert_eq!(
        (s.timeouts, s.waits, s.in_use, s.open),
        (1, 1, 2, 2),
        "{s:?}"
    );
    drop((a, b));
}

#[tokio::test(start_paused = true)]
async fn a_busy_single_connection_times_out() {
    let (m, _log) = single();
    let held = m.acquire().await.unwrap();
    let e = m.acquire().await.err().expect("held exclusively");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.to_string().contains("stayed busy"), "{e}");
    let s = m.stats();
    assert_eq!(
        (s.timeouts, s.waits, s.open, s.in_use),
        (1, 1, 1, 1),
        "{s:?}"
    );
    drop(held);
}

#[tokio::test]
async fn waits_count_only_callers_that_queued() {
    let (m, _log) = pooled(2);
    for _ in 0..5 {
        let mut a = m.acquire().await.unwrap();
        let mut b = m.acquire().await.unwrap();
        a.release();
        b.release();
    }
    let s = m.stats();
    assert_eq!(
        (s.waits, s.created, s.idle, s.in_use),
        (0, 2, 2, 0),
        "{s:?}"
    );
}
