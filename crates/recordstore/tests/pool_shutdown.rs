//! Shutdown returns at once, even with connections checked out; waiters fail with
//! `Error::Closed`. Also: releasing twice is harmless.

mod pool_common;

use pool_common::*;
use recordstore::connection::{ConnectionMode, ConnectorManager};
use recordstore::ErrorKind;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const MODES: [ConnectionMode; 2] = [ConnectionMode::Pooled, ConnectionMode::Single];

#[tokio::test(start_paused = true)]
async fn close_with_checked_out_connections_returns_at_once_and_fails_waiters() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        let m = Arc::new(ConnectorManager::new(fake, mode, options(1)));
        let mut held = m.acquire().await.unwrap();
        let waiter = {
            let m = m.clone();
            tokio::spawn(async move { m.acquire().await.map(|_| ()) })
        };
        tokio::task::yield_now().await; // the waiter queues
        let start = Instant::now();
        // Under a paused clock, a close that slept or waited for the lease would never end
        // before the 1 s timeout.
        tokio::time::timeout(Duration::from_secs(1), m.close())
            .await
            .expect("close returns");
        assert_eq!(start.elapsed(), Duration::ZERO, "{mode}");
        let e = waiter.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Closed, "{mode}: {e}");
        assert_eq!(
            m.acquire().await.err().unwrap().kind(),
            ErrorKind::Closed,
            "{mode}"
        );
        // The held connection still works until given back, then it is closed.
        assert_eq!(held.id(), 1);
        held.release();
        drop(held);
        assert_eq!(live(&log), 0, "{mode}");
        assert_eq!(m.stats().open, 0, "{mode}");
    }
}

#[tokio::test]
async fn close_disconnects_idle_connections() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        let mut l = m.acquire().await.unwrap();
        l.release();
        drop(l);
        assert_eq!(m.stats().open, 1, "{mode}");
        m.close().await;
        assert_eq!(live(&log), 0, "{mode}");
        assert_eq!(
            log.disconnects.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{mode}"
        );
        assert_eq!(m.stats().open, 0, "{mode}");
    }
}

#[tokio::test]
async fn releasing_twice_is_harmless() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        let mut l = m.acquire().await.unwrap();
        l.release();
        l.release();
        drop(l);
        let s = m.stats();
        assert_eq!(
            (s.open, s.idle, s.in_use, s.closed_broken),
            (1, 1, 0, 0),
            "{mode}: {s:?}"
        );
        let mut again = m.acquire().await.unwrap();
        assert_eq!(again.id(), 1, "{mode}: reused");
        again.release();
        drop(again);
        assert_eq!(live(&log), 1);
        assert_eq!(m.stats().created, 1);
    }
}

#[tokio::test]
async fn single_stats_say_whether_the_connection_is_open() {
    let (mut fake, _log) = Fake::shareable();
    fake.shareable = true;
    let m = ConnectorManager::new(fake, ConnectionMode::Single, options(1));
    assert_eq!(m.stats().open, 0, "connects on first use");
    let a = m.acquire().await.unwrap();
    let b = m.acquire().await.unwrap();
    let s = m.stats();
    assert_eq!((s.open, s.in_use, s.idle, s.waits), (1, 1, 0, 0), "{s:?}");
    drop((a, b));
    m.close().await;
    assert_eq!(m.stats().open, 0);
}
