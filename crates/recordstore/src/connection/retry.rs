//! Connecting with retry, shared by the single and the pooled manager (both below
//! `manager.rs`, which wraps them).

use super::stats::Counters;
use super::{Connector, PoolOptions};
use crate::error::{Error, Result};

/// Connects with retry of transient failures, within `deadline`; on timeout the error carries
/// the last real cause.
pub(crate) async fn connect_with_retry<C: Connector>(
    connector: &C,
    options: &PoolOptions,
    counters: &Counters,
    deadline: tokio::time::Instant,
) -> Result<C::Connection> {
    let mut attempt = 1;
    let mut last_cause: Option<Error> = None;
    loop {
        let outcome = tokio::time::timeout_at(deadline, connector.connect()).await;
        let err = match outcome {
            Ok(Ok(conn)) => {
                Counters::bump(&counters.created);
                return Ok(conn);
            }
            Ok(Err(e)) => e,
            Err(_) => {
                Counters::bump(&counters.connect_errors);
                Counters::bump(&counters.timeouts);
                let cause = match &last_cause {
                    Some(e) => format!("; earlier error: {e}"),
                    None => String::new(),
                };
                return Err(Error::Timeout {
                    backend: connector.backend(),
                    message: format!(
                        "connecting to {} did not finish within {:?}{cause}",
                        connector.config(),
                        options.connection_timeout
                    ),
                });
            }
        };
        Counters::bump(&counters.connect_errors);
        let wait = options.retry.backoff(attempt);
        let out_of_time = tokio::time::Instant::now() + wait >= deadline;
        if !err.is_temporary() || attempt >= options.retry.attempts || out_of_time {
            return Err(err);
        }
        Counters::bump(&counters.retries);
        last_cause = Some(err);
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}
