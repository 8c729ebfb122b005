//! Cancellation: a dropped waiter never leaks a slot, and a lease dropped without release
//! (an operation cancelled or failed midway) is closed, never handed out again.

mod pool_common;

use pool_common::*;
use recordstore::connection::{ConnectionMode, ConnectorManager, Idempotency};
use recordstore::Error;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn cancelled_waiters_never_leak_a_slot() {
    let (m, _log) = pooled(3);
    let m = Arc::new(m);
    let held: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            let mut l = m.acquire().await.unwrap();
            l.release();
            v.push(l);
        }
        v
    };
    // Waiters dropped by a timeout, and spawned waiters aborted.
    for _ in 0..10 {
        assert!(tokio::time::timeout(Duration::from_millis(10), m.acquire())
            .await
            .is_err());
    }
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let m = m.clone();
            tokio::spawn(async move { m.acquire().await.map(|_| ()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        assert!(t.await.unwrap_err().is_cancelled());
    }
    drop(held);
    // All three can still be had at once.
    let all = futures::future::try_join_all((0..3).map(|_| m.acquire()))
        .await
        .unwrap();
    let s = m.stats();
    assert_eq!(
        (s.in_use, s.open, s.created, s.closed_broken),
        (3, 3, 3, 0),
        "{s:?}"
    );
    drop(all);
}

#[tokio::test(start_paused = true)]
async fn a_waiter_cancelled_while_connecting_leaks_nothing() {
    let (m, log) = pooled(2);
    log.hang.store(true, SeqCst);
    for _ in 0..5 {
        assert!(tokio::time::timeout(Duration::from_millis(10), m.acquire())
            .await
            .is_err());
    }
    log.hang.store(false, SeqCst);
    let both = futures::future::try_join_all((0..2).map(|_| m.acquire()))
        .await
        .unwrap();
    assert_eq!(m.stats().open, 2);
    assert_eq!(live(&log), 2);
    drop(both);
}

#[tokio::test]
async fn a_lease_dropped_without_release_is_closed_not_reused() {
    for mode in [ConnectionMode::Pooled, ConnectionMode::Single] {
        let (fake, log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        let mut lease = m.acquire().await.unwrap();
        let first = lease.id();
        lease.release();
        drop(lease);
        // Dropped without release: cancelled midway.
        let lease = m.acquire().await.unwrap();
        let second = lease.id();
        assert_eq!(first, second, "{mode}: the released one was reused");
        drop(lease);
        let s = m.stats();
        assert_eq!((s.closed_broken, s.open), (1, 0), "{mode}: {s:?}");
        assert_eq!(live(&log), 0, "{mode}: closed");
        let mut next = m.acquire().await.unwrap();
        assert_ne!(next.id(), second, "{mode}: a new connection");
        next.release();
        drop(next);
        assert_eq!(m.stats().created, 2, "{mode}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_operation_cancelled_midway_closes_its_connection() {
    let cases = [
        ("pooled", Fake::new().0, ConnectionMode::Pooled),
        ("single", Fake::new().0, ConnectionMode::Single),
        ("single-shared", Fake::shareable().0, ConnectionMode::Single),
    ];
    for (name, fake, mode) in cases {
        let log = fake.log.clone();
        let m = ConnectorManager::new(fake, mode, options(2));
        let op = m.run(Idempotency::Idempotent, |_conn| async {
            futures::future::pending::<recordstore::Result<()>>().await
        });
        assert!(tokio::time::timeout(Duration::from_secs(1), op)
            .await
            .is_err());
        // The next operation runs on a new connection.
        let id = m
            .run(Idempotency::Idempotent, |c| async move { Ok(c.id()) })
            .await
            .unwrap();
        assert_eq!(id, 2, "{name}");
        assert_eq!(connects(&log), 2, "{name}");
        assert_eq!(live(&log), 1, "{name}: the cancelled one is closed");
        let s = m.stats();
        assert_eq!(
            (s.open, s.in_use, s.closed_broken),
            (1, 0, 1),
            "{name}: {s:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_operation_is_not_reused_but_a_permanent_answer_is() {
    let (m, log) = pooled(2);
    let e = m
        .run(Idempotency::NotIdempotent, |_c| async {
            Err::<(), _>(Error::connection("fake", "reset mid-write", "reset"))
        })
        .await
        .unwrap_err();
    assert!(e.is_connection());
    assert_eq!(m.stats().closed_broken, 1);
    let e = m
        .run(Idempotency::Idempotent, |_c| async {
            Err::<(), _>(Error::not_found("s", "k"))
        })
        .await
        .unwrap_err();
    assert!(e.is_not_found());
    let s = m.stats();
    assert_eq!((s.closed_broken, s.idle, s.created), (1, 1, 2), "{s:?}");
    assert_eq!(live(&log), 1);
}
