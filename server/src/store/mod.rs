//! Storage: the rows ssoplane keeps and the one `Store` the rest of the server
//! talks to, backed by SQLite (embedded default) or PostgreSQL.
//!
//! Both backends run the same SQL (written once in `sql.rs`); only connection
//! setup and migrations differ.

pub mod notify;
mod postgres;
mod sql;
mod sqlite;
mod tx;

use serde::{Deserialize, Serialize};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use tx::Tx;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error("a logout names {0} SessionIndex values; at most {MAX_SESSION_INDEXES} are accepted")]
    TooManySessionIndexes(usize),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("could not prepare the database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
}

/// A provider's settings as set through the API. `settings_json` has secret
/// fields blanked; `secrets_json` holds them encrypted with their fingerprints.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingsRow {
    pub provider: String,
    pub settings_json: String,
    pub secrets_json: String,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
    /// The client that made the last write (`terraform`), empty for others.
    pub managed_by: String,
}

/// One write of a provider's settings: the new row, the version it replaces
/// (0: none) and what its history entry records besides the row.
#[derive(Debug, Clone)]
pub struct SettingsWrite {
    pub row: SettingsRow,
    pub expected: i64,
    pub correlation_id: String,
    pub changes_json: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub provider: String,
    pub version: i64,
    pub action: String,
    pub actor: String,
    pub at: String,
    pub correlation_id: String,
    pub changes_json: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    /// Stable across renames (SCIM's `id`).
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    pub members: i64,
    /// Revision of the last write, from one counter for all groups.
    pub version: i64,
    pub updated_by: String,
    pub managed_by: String,
    /// The provider whose SCIM client manages the group ('' for none).
    pub scim_provider: String,
}

/// A group write: what to store and who stores it.
#[derive(Debug, Clone, Copy)]
pub struct GroupWrite<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub at: &'a str,
    pub actor: &'a str,
    pub managed_by: &'a str,
}

/// What a conditional group write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupWritten {
    Created,
    Updated,
    /// The precondition did not hold (or a concurrent creator won); nothing was written.
    Refused,
}

/// The precondition of a write, from `If-Match` / `If-None-Match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No header: last writer wins, but every write is versioned.
    None,
    /// `If-Match: *`: the row must exist.
    Exists,
    /// `If-Match: "N"`: the version must be N (0: the row must not exist).
    Version(i64),
    /// `If-None-Match: *`: the row must not exist (an atomic create).
    Absent,
}

impl Precondition {
    /// Whether a write may go ahead on a row at `current` (0 when absent).
    pub fn holds(self, current: i64, exists: bool) -> bool {
        match self {
            Precondition::None => true,
            Precondition::Exists => exists,
            Precondition::Version(v) => v == current,
            Precondition::Absent => !exists,
        }
    }
}

pub use ssoplane_schema::api::OrgMembership;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub login: String,
    pub email: String,
    pub name: String,
    pub external_uid: String,
    pub provider: String,
    pub role: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_login_at: Option<String>,
    /// The effective memberships over every source's grant.
    #[sqlx(json)]
    pub organizations: Vec<OrgMembership>,
    /// The API token that created the user; empty when a login did.
    pub created_by: String,
}

/// One identity of a user: `(provider, kind, subject)` names one user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkRow {
    /// A provider slug, or `local` for the break-glass administrator.
    pub provider: String,
    /// `external_uid`, `name_id` or `login`.
    pub kind: String,
    pub subject: String,
    pub user_id: String,
    pub created_at: String,
}

/// What one source (provider slug, `api`, `scim`, `local`) grants a user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GrantRow {
    pub source: String,
    pub role: String,
    pub is_admin: bool,
    #[sqlx(json)]
    pub organizations: Vec<OrgMembership>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Reader,
    /// SCIM provisioning: `/scim/v2` only, bound to one provider.
    Scim,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reader => "reader",
            Role::Scim => "scim",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "reader" => Some(Role::Reader),
            "scim" => Some(Role::Scim),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The provider a scim token is bound to; empty for other roles.
    pub provider: String,
}

/// An AuthnRequest we sent, bound to the browser (cookie) that started it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SamlRequestRow {
    pub id: String,
    pub provider: String,
    pub browser: String,
    /// Where to send the user after login (a validated same-origin path or allowed URL).
    pub relay_state: String,
    pub expires_at: i64,
    /// The client address key that started it (see `web::client::key`).
    pub source: String,
}

/// A strictly increasing creation stamp for pending requests in this
/// process (microseconds since the epoch, bumped past the last one handed
/// out), so "a browser's newest requests" has one answer even for a burst
/// within one clock tick; across replicas the wall clocks order them.
pub fn next_request_seq() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last.saturating_add(1));
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// What one unauthenticated client may hold in pending requests, as of `now`.
#[derive(Debug, Clone, Copy)]
pub struct PendingBounds {
    pub per_browser: i64,
    pub per_source: i64,
    pub now: i64,
}

/// [`Store::session_with_user`]: what forward auth needs on a cache miss.
#[derive(Debug, Clone)]
pub struct SessionWithUser {
    pub session: SessionRow,
    pub user: Option<UserRow>,
    /// Empty unless the user exists and is enabled.
    pub groups: Vec<String>,
}

/// A login session; only the SHA-256 of the cookie value is stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub provider: String,
    /// The asserted NameID's value and, beside it, its attributes as
    /// asserted (`None`: absent), for single logout
    /// (`identity::subject::NameId` from `SessionRow::name_id`).
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub name_qualifier: Option<String>,
    pub sp_name_qualifier: Option<String>,
    pub sp_provided_id: Option<String>,
    pub session_index: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// Most SessionIndex values one single-logout call may name.
pub const MAX_SESSION_INDEXES: usize = 64;

/// An administrator's test sign-in report (the console shows it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TestSigninRow {
    pub id: String,
    pub provider: String,
    pub admin_user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub report_json: String,
}

/// A member of a group, and which source (provider, `api`, `scim`) holds
/// the membership.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: String,
    pub login: String,
    pub name: String,
    pub source: String,
}

/// Which login events to find; empty fields match everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventFilter<'a> {
    pub provider: &'a str,
    pub outcome: &'a str,
    pub login: &'a str,
}

/// One login attempt, for `GET /api/v1/login-events`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginEventRow {
    pub id: String,
    pub provider: String,
    pub at: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Which check failed, or what happened; never secrets or assertions.
    pub reason: String,
    pub login: String,
    pub correlation_id: String,
}

impl LoginEventRow {
    /// An event of `provider` happening now, under a fresh id.
    pub fn new(provider: &str, outcome: &str, reason: String, login: &str, cid: &str) -> Self {
        LoginEventRow {
            id: uuid::Uuid::new_v4().to_string(),
            provider: provider.to_owned(),
            at: crate::settings::now(),
            outcome: outcome.to_owned(),
            reason,
            login: login.to_owned(),
            correlation_id: cid.to_owned(),
        }
    }
}

/// Result of a compare-and-swap write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Done,
    /// The row was not at the expected version; nothing was written.
    Conflict,
}

/// The store the server uses: one of the two backends.
#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
            Store::Postgres($s) => $call,
        }
    };
}

impl Store {
    /// Opens (and migrates) the database named by `url`: `sqlite://path` or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(SqliteStore::connect(url).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(PgStore::connect(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        dispatch!(self, s => s.pool.close().await)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, s => s.ping().await)
    }

    /// Watches the replicas' settings writes (PostgreSQL only; a SQLite file
    /// has a single server). See [`PgStore::watch_changes`].
    pub fn watch_changes(
        &self,
        on_change: impl Fn(&notify::Notice) + Send + Sync + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        match self {
            Store::Sqlite(_) => None,
            Store::Postgres(s) => Some(s.watch_changes(on_change)),
        }
    }

    /// Moves SQLite's write-ahead log into the database file (see
    /// `SqliteStore::checkpoint`); PostgreSQL checkpoints by itself.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => Ok(s.checkpoint().await?),
            Store::Postgres(_) => Ok(()),
        }
    }

    /// The notices of committed writes, for this process's caches; see [`notify`].
    pub fn bus(&self) -> &std::sync::Arc<notify::Bus> {
        dispatch!(self, s => &s.bus)
    }

    /// Starts hearing the other replicas' notices (PostgreSQL; idempotent).
    pub fn start_listening(&self) {
        if let Store::Postgres(s) = self {
            s.start_listening();
        }
    }

    pub async fn get_settings(&self, provider: &str) -> Result<Option<SettingsRow>, StoreError> {
        dispatch!(self, s => s.get_settings(provider).await)
    }

    pub async fn list_settings(&self) -> Result<Vec<SettingsRow>, StoreError> {
        dispatch!(self, s => s.list_settings().await)
    }

    /// The highest version this provider ever had (0 if never written), so a
    /// provider re-created after a DELETE never reuses an old ETag.
    pub async fn last_version(&self, provider: &str) -> Result<i64, StoreError> {
        dispatch!(self, s => s.last_version(provider).await)
    }

    /// Stores `writes` to one provider in order, all or none, each if the
    /// stored row is then at its `expected` version (0: must not exist), with
    /// its history entry (action "put", the row's version, actor and time,
    /// with its `correlation_id` and `changes_json`).
    pub async fn put_settings(&self, writes: &[SettingsWrite]) -> Result<Write, StoreError> {
        dispatch!(self, s => s.put_settings(writes).await)
    }

    pub async fn delete_settings(
        &self,
        provider: &str,
        expected: i64,
        history: &HistoryRow,
    ) -> Result<Write, StoreError> {
        dispatch!(self, s => s.delete_settings(provider, expected, history).await)
    }

    pub async fn history(&self, provider: &str, limit: i64) -> Result<Vec<HistoryRow>, StoreError> {
        dispatch!(self, s => s.history(provider, limit).await)
    }

    pub async fn group_names(&self) -> Result<Vec<String>, StoreError> {
        dispatch!(self, s => s.group_names().await)
    }

    pub async fn list_groups(&self) -> Result<Vec<GroupRow>, StoreError> {
        dispatch!(self, s => s.list_groups().await)
    }

    pub async fn get_group(&self, name: &str) -> Result<Option<GroupRow>, StoreError> {
        dispatch!(self, s => s.get_group(name).await)
    }

    /// Creates or updates a group if `pre` holds, giving it the next revision.
    pub async fn put_group(
        &self,
        g: &GroupWrite<'_>,
        pre: Precondition,
    ) -> Result<GroupWritten, StoreError> {
        dispatch!(self, s => s.put_group(g, pre).await)
    }

    /// Deletes a group (and its memberships) if `pre` holds; false when
    /// nothing was deleted (absent, or at another version).
    pub async fn delete_group(&self, name: &str, pre: Precondition) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete_group(name, pre).await)
    }

    pub async fn list_users(&self, limit: i64, offset: i64) -> Result<Vec<UserRow>, StoreError> {
        dispatch!(self, s => s.list_users(limit, offset).await)
    }

    pub async fn get_user(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        dispatch!(self, s => s.get_user(id).await)
    }

    pub async fn user_groups(&self, id: &str) -> Result<Vec<String>, StoreError> {
        dispatch!(self, s => s.user_groups(id).await)
    }

    pub async fn insert_user(&self, user: &UserRow, groups: &[String]) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_user(user, groups).await)
    }

    pub async fn set_user_disabled(
        &self,
        id: &str,
        disabled: bool,
        now: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.set_user_disabled(id, disabled, now).await)
    }

    pub async fn insert_token(&self, token: &TokenRow, hash: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_token(token, hash).await)
    }

    pub async fn find_token(&self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        dispatch!(self, s => s.find_token(hash).await)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        dispatch!(self, s => s.list_tokens().await)
    }

    pub async fn revoke_token(&self, name: &str, now: &str) -> Result<bool, StoreError> {
        dispatch!(self, s => s.revoke_token(name, now).await)
    }

    /// False: `r.source` already holds its bound of live requests.
    pub async fn insert_saml_request(
        &self,
        r: &SamlRequestRow,
        bounds: PendingBounds,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.insert_saml_request(r, bounds).await)
    }

    pub async fn pending_saml_requests(
        &self,
        provider: &str,
        browser: &str,
        now: i64,
    ) -> Result<Vec<SamlRequestRow>, StoreError> {
        dispatch!(self, s => s.pending_saml_requests(provider, browser, now).await)
    }

    pub async fn take_saml_request(&self, id: &str) -> Result<bool, StoreError> {
        dispatch!(self, s => s.take_saml_request(id).await)
    }

    pub async fn remember_assertion(
        &self,
        id: &str,
        provider: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.remember_assertion(id, provider, expires_at).await)
    }

    /// See `purge_expired` in `sql.rs`; returns how many rows were deleted.
    pub async fn purge_expired(&self, now: i64, idle_before: i64) -> Result<u64, StoreError> {
        dispatch!(self, s => s.purge_expired(now, idle_before).await)
    }

    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<UserRow>, StoreError> {
        dispatch!(self, s => s.find_user_by_login(login).await)
    }

    pub async fn links_of(&self, user_id: &str) -> Result<Vec<LinkRow>, StoreError> {
        dispatch!(self, s => s.links_of(user_id).await)
    }

    /// Opens a write transaction for a login or a user's creation; see [`Tx`].
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => Tx::new(tx::Inner::Sqlite(s.begin_write().await?), &s.bus),
            Store::Postgres(s) => Tx::new(tx::Inner::Postgres(s.begin_write().await?), &s.bus),
        })
    }

    pub async fn insert_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_session(session).await)
    }

    pub async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        dispatch!(self, s => s.get_session(id_hash).await)
    }

    /// A session, its user (if still stored) and, for an enabled user, the
    /// user's groups, on one connection.
    pub async fn session_with_user(
        &self,
        id_hash: &str,
    ) -> Result<Option<SessionWithUser>, StoreError> {
        dispatch!(self, s => s.session_with_user(id_hash).await)
    }

    /// Records when sessions were last used (`(id_hash, at)`), in one transaction.
    pub async fn touch_sessions(&self, touches: &[(String, i64)]) -> Result<(), StoreError> {
        dispatch!(self, s => s.touch_sessions(touches).await)
    }

    /// Ends one session, and tells every replica's session cache.
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.delete_session(id_hash).await)
    }

    /// Ends every session of a user, and tells every replica's session cache;
    /// use [`crate::identity::sessions::end_all_for_user`].
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_user_sessions(user_id).await)
    }

    /// Ends the sessions of a SAML subject (single logout, SAML profiles
    /// 4.4.4.2): those whose SessionIndex is in `session_indexes`, or every
    /// session of the NameID when the list is empty. Returns how many ended.
    pub async fn delete_sessions_of(
        &self,
        provider: &str,
        name_id: &str,
        session_indexes: &[String],
    ) -> Result<u64, StoreError> {
        if session_indexes.len() > MAX_SESSION_INDEXES {
            return Err(StoreError::TooManySessionIndexes(session_indexes.len()));
        }
        dispatch!(self, s => s.delete_sessions_of(provider, name_id, session_indexes).await)
    }

    pub async fn insert_login_event(&self, e: &LoginEventRow) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_login_event(e).await)
    }

    pub async fn login_events(
        &self,
        provider: &str,
        limit: i64,
    ) -> Result<Vec<LoginEventRow>, StoreError> {
        dispatch!(self, s => s.login_events(provider, limit).await)
    }

    pub async fn find_login_events(
        &self,
        f: &EventFilter<'_>,
        limit: i64,
    ) -> Result<Vec<LoginEventRow>, StoreError> {
        dispatch!(self, s => s.find_login_events(f, limit).await)
    }

    pub async fn group_members(
        &self,
        name: &str,
        limit: i64,
    ) -> Result<Vec<MemberRow>, StoreError> {
        dispatch!(self, s => s.group_members(name, limit).await)
    }

    pub async fn insert_test_signin(&self, t: &TestSigninRow) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_test_signin(t).await)
    }

    /// A report that has not expired.
    pub async fn test_signin(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<TestSigninRow>, StoreError> {
        dispatch!(self, s => s.test_signin(id, now).await)
    }

    pub async fn login_event(&self, id: &str) -> Result<Option<LoginEventRow>, StoreError> {
        dispatch!(self, s => s.login_event(id).await)
    }

    pub async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, s => s.get_meta(key).await)
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.set_meta(key, value).await)
    }

    /// Sets `key` unless it is already set; returns the value now stored.
    pub async fn init_meta(&self, key: &str, value: &str) -> Result<String, StoreError> {
        dispatch!(self, s => s.init_meta(key, value).await)
    }
}

mod scim;
pub use scim::{
    ScimAuditRow, ScimGroupRow, ScimGroupWrite, ScimMemberRow, ScimUserRow, ScimUserWrite,
};

/// A database URL fit for logs and errors: the password is replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("REDACTED"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

/// True for a unique-constraint violation (a concurrent writer won the race).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl StoreError {
    /// A unique constraint refused the write: another writer got there first.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(e) if is_unique_violation(e))
    }
}
