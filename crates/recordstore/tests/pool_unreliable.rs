//! Unreliable servers: connects that fail a few times, connections that break mid-use, and
//! connects that hang.

mod pool_common;

use pool_common::*;
use recordstore::connection::{ConnectionMode, ConnectorManager, Idempotency};
use recordstore::ErrorKind;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use tokio::time::Instant;

const MODES: [ConnectionMode; 2] = [ConnectionMode::Pooled, ConnectionMode::Single];

#[tokio::test]
async fn a_connect_failing_twice_then_succeeding_is_retried() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        log.refuse_next.store(2, SeqCst);
        let m = ConnectorManager::new(fake, mode, options(2));
        // A write is retried too: nothing was sent while connecting.
        let mut calls = 0;
        let id = m
            .run(Idempotency::NotIdempotent, |c| {
                calls += 1;
                async move { Ok(c.id()) }
            })
            .await
            .unwrap();
        assert_eq!((id, calls, connects(&log)), (1, 1, 3), "{mode}");
        let s = m.stats();
        assert_eq!(
            (s.connect_errors, s.retries, s.created),
            (2, 2, 1),
            "{mode}: {s:?}"
        );
    }
}

#[tokio::test]
async fn a_connection_broken_mid_use_is_replaced() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        let mut lease = m.acquire().await.unwrap();
        lease.break_it(); // the server went away; the op itself did not notice
        lease.release();
        drop(lease);
        let mut again = m.acquire().await.unwrap();
        assert_eq!(again.id(), 2, "{mode}: replaced");
        again.release();
        drop(again);
        let s = m.stats();
        assert_eq!(
            (s.closed_broken, s.created, s.open),
            (1, 2, 1),
            "{mode}: {s:?}"
        );
        assert_eq!(live(&log), 1, "{mode}");
    }
}

#[tokio::test]
async fn a_broken_shared_single_connection_is_replaced() {
    let (mut fake, log) = Fake::shareable();
    fake.shareable = true;
    let m = ConnectorManager::new(fake, ConnectionMode::Single, options(1));
    // Two leases at once on the one connection.
    let a = m.acquire().await.unwrap();
    let mut b = m.acquire().await.unwrap();
    assert_eq!(a.id(), b.id());
    b.release();
    drop(b);
    a.break_it();
    drop(a);
    let id = m
        .run(Idempotency::Idempotent, |c| async move { Ok(c.id()) })
        .await
        .unwrap();
    assert_eq!(id, 2);
    assert_eq!(live(&log), 1);
    let s = m.stats();
    assert_eq!((s.closed_broken, s.open, s.in_use), (1, 1, 0), "{s:?}");
}

#[tokio::test(start_paused = true)]
async fn a_hanging_connect_is_bounded_by_connection_timeout() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        log.hang.store(true, SeqCst);
        let m = ConnectorManager::new(fake, mode, options(2));
        let start = Instant::now();
        let e = m.acquire().await.err().expect("connect hangs");
        assert_eq!(start.elapsed(), Duration::from_secs(5), "{mode}");
        assert_eq!(e.kind(), ErrorKind::Timeout, "{mode}: {e}");
        assert!(e.to_string().contains("fake.invalid"), "{mode}: {e}");
        assert_eq!(m.stats().timeouts, 1, "{mode}");
        // The server comes back.
        log.hang.store(false, SeqCst);
        let mut l = m.acquire().await.unwrap();
        l.release();
    }
}

#[tokio::test(start_paused = true)]
async fn a_hang_after_refusals_names_the_refusal() {
    let (fake, log) = Fake::new();
    log.refuse_next.store(1, SeqCst);
    let m = ConnectorManager::new(fake, ConnectionMode::Single, options(1));
    // First attempt refused; the retry hangs.
    log.hang_from.store(2, SeqCst);
    let e = m.acquire().await.err().expect("hangs");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    let msg = e.to_string();
    assert!(
        msg.contains("earlier error") && msg.contains("connection failed"),
        "{msg}"
    );
}

#[tokio::test]
async fn the_health_check_runs_only_when_asked() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        for _ in 0..10 {
            m.run(Idempotency::Idempotent, |_c| async { Ok(()) })
                .await
                .unwrap();
        }
        assert_eq!(
            log.checks.load(SeqCst),
            0,
            "{mode}: no round trip per operation"
        );

        let (fake, log) = Fake::new();
        let mut opts = options(2);
        opts.test_before_acquire = true;
        let m = ConnectorManager::new(fake, mode, opts);
        m.run(Idempotency::Idempotent, |_c| async { Ok(()) })
            .await
            .unwrap();
        log.check_fails.store(true, SeqCst);
        // The idle connection fails its check on checkout and is replaced by a new one.
        let id = m
            .run(Idempotency::Idempotent, |c| async move { Ok(c.id()) })
            .await
            .unwrap();
        assert_eq!(id, 2, "{mode}");
        assert_eq!(log.checks.load(SeqCst), 1, "{mode}");
        let s = m.stats();
        assert_eq!((s.closed_broken, s.open), (1, 1), "{mode}: {s:?}");
        assert_eq!(live(&log), 1, "{mode}");
    }
}
