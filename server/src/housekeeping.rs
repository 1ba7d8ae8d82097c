//! Background upkeep of the store while the server runs: every second the
//! queued session last-use times written and SQLite's WAL checkpointed,
//! and every minute the rows that can no longer be used deleted (pending
//! login requests and remembered assertions past their expiry, sessions
//! past their deadlines). Every replica runs it; concurrent purges delete
//! the same rows harmlessly.

use std::sync::Arc;
use std::time::Duration;

use crate::identity::sessions::{Sessions, FLUSH_EVERY, TOUCH_EVERY_SECS};
use crate::store::Store;

pub const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Sessions idle this much longer than the idle timeout in the store are
/// purged: a last use may wait that long to be written (a minute between
/// writes, then the flush), and must not be outrun by the purge.
pub const IDLE_PURGE_MARGIN_SECS: i64 = 2 * TOUCH_EVERY_SECS;

/// Deletes what can no longer be used, as of `now`; returns rows deleted.
pub async fn purge_once(store: &Store, sessions: &Sessions, now: i64) -> u64 {
    let idle = sessions.timeouts.idle.as_secs() as i64;
    match store
        .purge_expired(now, now - idle - IDLE_PURGE_MARGIN_SECS)
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot purge expired rows; retrying later");
            0
        }
    }
}

/// Runs until aborted.
pub async fn run(store: Store, sessions: Arc<Sessions>) {
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    // The first purge a minute after start, not while replicas start together.
    let mut purge =
        tokio::time::interval_at(tokio::time::Instant::now() + PURGE_EVERY, PURGE_EVERY);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    purge.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = flush.tick() => {
                if let Err(e) = sessions.flush_touches().await {
                    tracing::warn!(error = %e, "cannot write session last-use times (each is queued again at its next use)");
                }
                if let Err(e) = store.checkpoint().await {
                    tracing::warn!(error = %e, "cannot checkpoint the SQLite WAL; retrying in a second");
                }
            }
            _ = purge.tick() => {
                let n = purge_once(&store, &sessions, sessions.clock().now()).await;
                if n > 0 {
                    tracing::debug!(rows = n, "expired rows purged");
                }
            }
        }
    }
}
