//! The embedded default: a SQLite file in WAL mode, created and migrated on first run.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::notify::{Bus, Notice};
use super::sql::{sql_scim_methods, sql_store_methods, Backend};
use super::StoreError;

#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    pub(crate) bus: Arc<Bus>,
}

impl Backend for SqliteStore {
    type Db = sqlx::Sqlite;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const GROUPS_AMONG: &'static str =
        "SELECT name FROM groups WHERE name IN (SELECT value FROM json_each($1))";
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL is durable against process crashes (not power loss
            // of the last transactions), the usual trade-off for a server.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Checkpoints run in the background (`checkpoint`, every second
            // from housekeeping), where each hot page is copied once per
            // second; left to SQLite, the commit that crosses 1,000 WAL
            // frames copies them and fsyncs inside a request. The inline
            // checkpoint stays as a bound on the WAL if housekeeping stalls.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::Directory {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            // sqlx pings every connection before handing it out; for a
            // file opened in this process that is one more round trip to
            // the connection's worker thread per query, and a SQLite
            // connection cannot silently die.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore {
            pool,
            bus: Arc::new(Bus::local()),
        })
    }
}

/// The WAL size (in pages) at which a commit checkpoints inline: about
/// 40 MiB, reached only if the background checkpoints fall behind.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

impl SqliteStore {
    /// Copies the WAL's committed pages into the database file without
    /// waiting for readers or writers (PASSIVE): what cannot be copied now
    /// is copied at the next call.
    pub(crate) async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// One process owns a SQLite file, so there are no other replicas to tell.
    async fn announce(
        _tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        _provider: &str,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Nothing to send: this process's bus is the only one.
    pub(crate) async fn notify(
        _tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        _notices: &[Notice],
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

sql_store_methods!(SqliteStore);
sql_scim_methods!(SqliteStore);
