//! PostgreSQL backend, for replicated deployments: `--database-url postgres://...`.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use super::notify::{Bus, Notice, HEARTBEAT_EVERY};
use super::sql::{sql_scim_methods, sql_store_methods, Backend};
use super::StoreError;

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    pub(crate) bus: Arc<Bus>,
    listening: Arc<std::sync::Once>,
}

impl Backend for PgStore {
    type Db = sqlx::Postgres;
    // Read committed: a racing writer is stopped by the unique constraints
    // (the caller retries once) and by the lock on the user's row.
    const BEGIN_WRITE: &'static str = "BEGIN";
    // `= ANY(ARRAY(...))`, not `IN (SELECT ...)`: the planner guesses 100
    // rows for the function and hash-joins a scan of every group; an array
    // is looked up in the primary key.
    const GROUPS_AMONG: &'static str =
        "SELECT name FROM groups WHERE name = ANY(ARRAY(SELECT json_array_elements_text($1::json)))";
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx's default pings the server before every acquire: a
            // second round trip per query, doubling the cost of forward
            // auth's cache misses. A connection the server dropped fails
            // its next query instead and leaves the pool; connections are
            // also recycled after a while, so a restarted PostgreSQL costs
            // a few failed requests, not a stuck pool.
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(60))
            .max_lifetime(Duration::from_secs(30 * 60))
            .connect(url)
            .await?;
        // sqlx takes an advisory lock while migrating, so replicas starting
        // together do not race.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore {
            pool,
            bus: Arc::new(Bus::replicated()),
            listening: Arc::new(std::sync::Once::new()),
        })
    }
}

/// Channel on which every settings write is announced (payload:
/// [`Notice::settings_payload`]), delivered to every replica, the writer's
/// included, when the writing transaction commits (migration 0011).
pub const WRITES_CHANNEL: &str = "ssoplane_settings_written";
/// The provider-only channel of the previous release, still sent for its
/// replicas during a rolling upgrade; nobody here listens to it.
pub const CHANGES_CHANNEL: &str = "ssoplane_settings_changed";
/// Channel of session and user notices (payloads: [`Notice::session_payload`]).
pub const SESSIONS_CHANNEL: &str = "ssoplane_sessions";
/// Channel of the replicas' heartbeats (payload: nonce and send time).
pub const HEARTBEAT_CHANNEL: &str = "ssoplane_heartbeat";

impl PgStore {
    async fn announce(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        provider: &str,
    ) -> Result<(), sqlx::Error> {
        // No version: a delete voids what every replica holds of the provider.
        sqlx::query("SELECT pg_notify($1, $3), pg_notify($2, $3)")
            .bind(WRITES_CHANNEL)
            .bind(CHANGES_CHANNEL)
            .bind(Notice::settings_payload(provider, None))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Sends session notices with the transaction: delivered to every
    /// replica when (and only if) it commits.
    pub(crate) async fn notify(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        notices: &[Notice],
    ) -> Result<(), sqlx::Error> {
        for payload in notices.iter().filter_map(Notice::session_payload) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(SESSIONS_CHANNEL)
                .bind(payload)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Starts (once) the listener connection that hands every replica's
    /// notices to this process's bus, and the heartbeat that tells how
    /// current it is. Both stop when the pool closes.
    pub fn start_listening(&self) {
        self.listening.call_once(|| {
            tokio::spawn(listen(self.pool.clone(), Arc::clone(&self.bus)));
            tokio::spawn(heartbeat(self.pool.clone(), Arc::clone(&self.bus)));
        });
    }

    /// Calls `on_change` with every settings notice of any replica (this
    /// one's included) and with [`Notice::Lost`] when notices may have been
    /// missed (connection lost), until the returned task is aborted.
    pub fn watch_changes(
        &self,
        on_change: impl Fn(&Notice) + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let subscription = self.bus.subscribe(move |n| {
            if matches!(n, Notice::Settings { .. } | Notice::Lost) {
                on_change(n);
            }
        });
        self.start_listening();
        // Aborting the task drops the subscription.
        tokio::spawn(async move {
            let _subscription = subscription;
            std::future::pending::<()>().await
        })
    }
}

async fn listen(pool: PgPool, bus: Arc<Bus>) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(_) if pool.is_closed() => return,
            Err(e) => {
                tracing::warn!(error = %e, "change listener cannot connect; retrying");
                bus.lost();
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener
            .listen_all([WRITES_CHANNEL, SESSIONS_CHANNEL, HEARTBEAT_CHANNEL])
            .await
        {
            tracing::warn!(error = %e, "cannot LISTEN for changes; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Anything written before LISTEN took effect may have been missed.
        bus.lost();
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => match n.channel() {
                    HEARTBEAT_CHANNEL => bus.heard(n.payload()),
                    SESSIONS_CHANNEL => bus.publish(&Notice::from_session_payload(n.payload())),
                    _ => bus.publish(&Notice::from_settings_payload(n.payload())),
                },
                // The connection was lost and re-established.
                Ok(None) => bus.lost(),
                Err(_) if pool.is_closed() => return,
                Err(e) => {
                    tracing::warn!(error = %e, "change listener failed; reconnecting");
                    bus.lost();
                    break;
                }
            }
        }
    }
}

/// Sends the heartbeat on a connection of its own. Through the pool it
/// would queue behind requests when the pool is busy, and a late heartbeat
/// turns the caches off, which makes every request a store read and the
/// pool busier still: under load the caches would never come back.
async fn heartbeat(pool: PgPool, bus: Arc<Bus>) {
    use sqlx::Connection;
    let mut conn: Option<sqlx::PgConnection> = None;
    while !pool.is_closed() {
        tokio::time::sleep(HEARTBEAT_EVERY).await;
        if conn.is_none() {
            conn = sqlx::PgConnection::connect_with(&pool.connect_options())
                .await
                .ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        // A failed heartbeat is simply not heard: the caches stop being
        // trusted after STALE_AFTER and the store is read instead.
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(HEARTBEAT_CHANNEL)
            .bind(bus.heartbeat())
            .execute(&mut *c)
            .await;
        if sent.is_err() {
            conn = None;
        }
    }
}

sql_store_methods!(PgStore);
sql_scim_methods!(PgStore);
