//! PostgreSQL backend, for replicated deployments: `--database-url postgres://...`.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use super::sql::{sql_store_methods, Backend};
use super::StoreError;

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl Backend for PgStore {
    type Db = sqlx::Postgres;
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

sql_store_methods!(PgStore);
