//! PostgreSQL backend, for replicated deployments: `--database-url postgres://...`.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use super::sql::{sql_scim_methods, sql_store_methods, Backend};
use super::StoreError;

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl Backend for PgStore {
    type Db = sqlx::Postgres;
    // Read committed: a racing writer is stopped by the unique constraints
    // (the caller retries once) and by the lock on the user's row.
    const BEGIN_WRITE: &'static str = "BEGIN";
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        // sqlx takes an advisory lock while migrating, so replicas starting
        // together do not race.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }
}

/// Channel on which every settings write is announced (payload: provider),
/// delivered to the other replicas when the writing transaction commits.
pub const CHANGES_CHANNEL: &str = "ssoplane_settings_changed";

impl PgStore {
    async fn announce(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        provider: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANGES_CHANNEL)
            .bind(provider)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Calls `on_change(Some(provider))` for every write announced by any
    /// replica, and `on_change(None)` when notifications may have been missed
    /// (connection lost), until the pool closes.
    pub fn watch_changes(
        &self,
        on_change: impl Fn(Option<&str>) + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(l) => l,
                    Err(_) if pool.is_closed() => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "settings change listener cannot connect; retrying");
                        on_change(None);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Err(e) = listener.listen(CHANGES_CHANNEL).await {
                    tracing::warn!(error = %e, "cannot LISTEN for settings changes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                // Anything written before LISTEN took effect may have been missed.
                on_change(None);
                loop {
                    match listener.try_recv().await {
                        Ok(Some(n)) => on_change(Some(n.payload())),
                        Ok(None) => on_change(None),
                        Err(_) if pool.is_closed() => return,
                        Err(e) => {
                            tracing::warn!(error = %e, "settings change listener failed; reconnecting");
                            on_change(None);
                            break;
                        }
                    }
                }
            }
        })
    }
}

sql_store_methods!(PgStore);
sql_scim_methods!(PgStore);
