//! Retry: transient failures of reads are retried with backoff; permanent answers never are;
//! a write that may have reached the server is never sent twice.

mod pool_common;

use pool_common::*;
use recordstore::connection::{ConnectionMode, ConnectorManager, Idempotency};
use recordstore::{Error, ErrorKind};
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use tokio::time::Instant;

const MODES: [ConnectionMode; 2] = [ConnectionMode::Pooled, ConnectionMode::Single];

#[tokio::test(start_paused = true)]
async fn permanent_answers_are_never_retried() {
    for mode in MODES {
        let (fake, _log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        let permanent: [(fn() -> Error, ErrorKind); 3] = [
            (|| Error::not_found("s", "missing"), ErrorKind::NotFound),
            (|| Error::already_exists("s", "k"), ErrorKind::AlreadyExists),
            (|| Error::invalid("bad"), ErrorKind::InvalidInput),
        ];
        for (make, kind) in permanent {
            for idem in [Idempotency::Idempotent, Idempotency::NotIdempotent] {
                let start = Instant::now();
                let mut calls = 0;
                let e = m
                    .run(idem, |_c| {
                        calls += 1;
                        async move { Err::<(), _>(make()) }
                    })
                    .await
                    .unwrap_err();
                assert_eq!((e.kind(), calls), (kind, 1), "{mode} {idem:?}");
                assert_eq!(
                    start.elapsed(),
                    Duration::ZERO,
                    "no backoff before the answer"
                );
                let mut calls = 0;
                let e = m
                    .with_connection(idem, |_c| {
                        calls += 1;
                        Err::<(), _>(make())
                    })
                    .await
                    .unwrap_err();
                assert_eq!((e.kind(), calls), (kind, 1), "{mode} {idem:?}");
            }
        }
        let s = m.stats();
        assert_eq!(
            (s.retries, s.closed_broken, s.created),
            (0, 0, 1),
            "{mode}: {s:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_temporary_failure_of_a_read_is_retried_up_to_attempts() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        let mut calls = 0;
        let start = Instant::now();
        let e = m
            .run(Idempotency::Idempotent, |_c| {
                calls += 1;
                async { Err::<(), _>(Error::connection("fake", "reset", "io")) }
            })
            .await
            .unwrap_err();
        assert!(e.is_connection(), "{e}");
        assert_eq!(calls, 3, "{mode}: attempts = 3");
        // Backoff 1 ms then 2 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(3), "{mode}");
        let s = m.stats();
        assert_eq!(
            (s.retries, s.closed_broken, s.created),
            (2, 3, 3),
            "{mode}: {s:?}"
        );
        assert_eq!(live(&log), 0);

        // Succeeds on the second try, on a fresh connection.
        let mut calls = 0;
        let id = m
            .with_connection(Idempotency::Idempotent, |c| {
                calls += 1;
                if calls == 1 {
                    Err(Error::Timeout {
                        backend: "fake",
                        message: "slow".into(),
                    })
                } else {
                    Ok(c.id())
                }
            })
            .await
            .unwrap();
        assert_eq!((calls, id), (2, 5), "{mode}");
    }
}

#[tokio::test]
async fn a_write_failing_after_send_is_not_retried() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        let mut calls = 0;
        let e = m
            .run(Idempotency::NotIdempotent, |_c| {
                calls += 1;
                async { Err::<(), _>(Error::connection("fake", "reset after send", "io")) }
            })
            .await
            .unwrap_err();
        assert!(e.is_connection());
        assert_eq!(calls, 1, "{mode}: never sent twice");
        let mut calls = 0;
        let _ = m
            .with_connection(Idempotency::NotIdempotent, |_c| {
                calls += 1;
                Err::<(), _>(Error::Timeout {
                    backend: "fake",
                    message: "no reply".into(),
                })
            })
            .await;
        assert_eq!(calls, 1, "{mode}");
        let s = m.stats();
        assert_eq!((s.retries, s.closed_broken), (0, 2), "{mode}: {s:?}");
        assert_eq!(connects(&log), 2);
    }
}

#[tokio::test]
async fn a_write_whose_connect_failed_is_sent_once_after_reconnecting() {
    for mode in MODES {
        let (fake, log) = Fake::new();
        log.refuse_next.store(2, SeqCst);
        let m = ConnectorManager::new(fake, mode, options(2));
        let mut calls = 0;
        m.with_connection(Idempotency::NotIdempotent, |_c| {
            calls += 1;
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(calls, 1, "{mode}");
        assert_eq!(connects(&log), 3, "{mode}");
    }
}

#[tokio::test]
async fn an_auth_failure_is_not_retried() {
    let (fake, log) = Fake::new();
    let m = ConnectorManager::new(fake, ConnectionMode::Pooled, options(2));
    let mut calls = 0;
    let e = m
        .run(Idempotency::Idempotent, |_c| {
            calls += 1;
            async {
                Err::<(), _>(Error::Auth {
                    backend: "fake",
                    message: "WRONGPASS".into(),
                })
            }
        })
        .await
        .unwrap_err();
    assert_eq!((e.kind(), calls), (ErrorKind::Auth, 1));
    assert_eq!(connects(&log), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_stay_within_the_connection_timeout() {
    for mode in MODES {
        let (fake, _log) = Fake::new();
        let m = ConnectorManager::new(fake, mode, options(2));
        // A read that times out only after the whole budget (5 s) is not tried again: the
        // caller has waited as long as it allowed.
        let start = Instant::now();
        let mut calls = 0;
        let e = m
            .run(Idempotency::Idempotent, |_c| {
                calls += 1;
                async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Err::<(), _>(Error::Timeout {
                        backend: "fake",
                        message: "no reply".into(),
                    })
                }
            })
            .await
            .unwrap_err();
        assert_eq!((e.kind(), calls), (ErrorKind::Timeout, 1), "{mode}");
        assert_eq!(start.elapsed(), Duration::from_secs(5), "{mode}");
        // One that fails fast is retried as usual, within the same budget.
        let mut calls = 0;
        let e = m
            .run(Idempotency::Idempotent, |_c| {
                calls += 1;
                async {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Err::<(), _>(Error::connection("fake", "reset", "io"))
                }
            })
            .await
            .unwrap_err();
        assert!(e.is_connection(), "{mode}: {e}");
        assert_eq!(
            calls, 3,
            "{mode}: tries at 0 s, 2 s and 4 s all start in time"
        );
    }
}
