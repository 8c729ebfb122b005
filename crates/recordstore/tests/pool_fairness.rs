//! Fairness: many waiters on few connections all get one, roughly in arrival order.

mod pool_common;

use pool_common::*;
use recordstore::connection::{ConnectorManager, Idempotency};
use std::sync::Arc;
use std::time::Duration;

async fn sixty_four_waiters(m: Arc<ConnectorManager<Fake>>) -> Vec<usize> {
    let order = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let m = m.clone();
            let order = order.clone();
            tokio::spawn(async move {
                m.run(Idempotency::Idempotent, |_c| {
                    order.lock().push(i);
                    async {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        Ok(())
                    }
                })
                .await
            })
        })
        .collect();
    let all = futures::future::join_all(tasks);
    // A liveness bound, not a speed check: 64 x 2 ms of work.
    let results = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("no starvation");
    for r in results {
        r.unwrap().unwrap();
    }
    let order = order.lock().clone();
    order
}

fn max_displacement(order: &[usize]) -> usize {
    order
        .iter()
        .enumerate()
        .map(|(pos, &i)| pos.abs_diff(i))
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_waiters_on_four_connections_all_finish_in_order() {
    let (m, log) = pooled(4);
    let m = Arc::new(m);
    let order = sixty_four_waiters(m.clone()).await;
    assert_eq!(order.len(), 64, "each ran exactly once");
    let s = m.stats();
    assert!(s.created <= 4, "{s:?}");
    assert_eq!((s.timeouts, s.in_use, s.closed_broken), (0, 0, 0), "{s:?}");
    assert!(s.waits >= 1, "most had to wait: {s:?}");
    assert!(live(&log) <= 4);
    // No order check here: which of two threads starts a task first is up to the runtime.
}

#[tokio::test]
async fn sixty_four_waiters_are_served_in_arrival_order() {
    // One thread: tasks start, and so queue, in spawn order.
    let (m, _log) = pooled(4);
    let m = Arc::new(m);
    let order = sixty_four_waiters(m.clone()).await;
    assert_eq!(order.len(), 64);
    assert!(max_displacement(&order) <= 4, "{order:?}");
    assert!(m.stats().created <= 4);
}

#[tokio::test]
async fn sixty_four_waiters_on_one_single_connection_all_finish_in_order() {
    let (m, log) = single();
    let order = sixty_four_waiters(Arc::new(m)).await;
    assert_eq!(order.len(), 64);
    assert_eq!(connects(&log), 1);
    assert!(max_displacement(&order) <= 1, "{order:?}");
}

#[tokio::test]
async fn a_waiter_queued_first_is_served_first() {
    let (m, _log) = pooled(1);
    let m = Arc::new(m);
    let mut held = m.acquire().await.unwrap();
    let order = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (m, order) = (m.clone(), order.clone());
            tokio::spawn(async move {
                let mut l = m.acquire().await.unwrap();
                order.lock().push(i);
                l.release();
            })
        })
        .collect();
    // Let every waiter queue, in spawn order.
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
    held.release();
    drop(held);
    futures::future::join_all(tasks).await;
    assert_eq!(*order.lock(), (0..8).collect::<Vec<_>>());
    assert_eq!(m.stats().waits, 8);
}
