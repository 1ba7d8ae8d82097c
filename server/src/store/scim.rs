//! The rows SCIM provisioning reads and writes, and the `Store` / `Tx`
//! methods over them (SQL in `sql.rs`, `sql_scim_methods!`). Every read is
//! scoped to the provider the SCIM token is bound to: a client never sees
//! another client's users or groups.

use super::tx::Inner;
use super::{PgStore, SqliteStore, Store, StoreError, Tx, UserRow};

/// A user as SCIM sees it: the row, the SCIM attributes kept beside it and
/// the resource version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScimUserRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub scim_provider: String,
    /// A JSON object: the attributes stored as sent beyond the columns.
    pub scim_json: String,
    pub version: i64,
}

/// What a SCIM write stores on a user's row.
#[derive(Debug, Clone, Copy)]
pub struct ScimUserWrite<'a> {
    pub id: &'a str,
    pub login: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub external_uid: &'a str,
    pub disabled: bool,
    pub scim_json: &'a str,
    pub version: i64,
    pub at: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScimGroupRow {
    pub id: String,
    pub name: String,
    pub external_id: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub scim_provider: String,
}

#[derive(Debug, Clone, Copy)]
pub struct ScimGroupWrite<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub external_id: &'a str,
    pub provider: &'a str,
    pub version: i64,
    pub at: &'a str,
    pub actor: &'a str,
}

/// A member of a group as SCIM manages it (memberships of source `scim`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScimMemberRow {
    pub user_id: String,
    pub login: String,
}

/// One change a SCIM client made, for `GET /api/v1/audit`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScimAuditRow {
    pub id: i64,
    pub at: String,
    /// The token's name.
    pub actor: String,
    /// The provider the token is bound to.
    pub provider: String,
    pub correlation_id: String,
    /// `create`, `replace`, `patch` or `delete`.
    pub action: String,
    /// `User` or `Group`.
    pub resource_type: String,
    pub resource_id: String,
    pub version: i64,
    /// What changed: attribute names, members added and removed; never values
    /// of attributes beyond the ids.
    pub changes_json: String,
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
            Store::Postgres($s) => $call,
        }
    };
}

macro_rules! on_tx {
    ($self:ident, $f:ident($($arg:expr),*)) => {
        match &mut $self.inner {
            Inner::Sqlite(t) => SqliteStore::$f(t, $($arg),*).await,
            Inner::Postgres(t) => PgStore::$f(t, $($arg),*).await,
        }
    };
}

impl Store {
    pub async fn scim_user(
        &self,
        provider: &str,
        id: &str,
    ) -> Result<Option<ScimUserRow>, StoreError> {
        dispatch!(self, s => s.scim_user(provider, id).await)
    }

    /// At most `limit` of the provider's users after `after_id`, in id order.
    pub async fn scim_users_after(
        &self,
        provider: &str,
        after_id: &str,
        limit: i64,
    ) -> Result<Vec<ScimUserRow>, StoreError> {
        dispatch!(self, s => s.scim_users_after(provider, after_id, limit).await)
    }

    pub async fn scim_users_page(
        &self,
        provider: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ScimUserRow>, StoreError> {
        dispatch!(self, s => s.scim_users_page(provider, limit, offset).await)
    }

    pub async fn scim_users_count(&self, provider: &str) -> Result<i64, StoreError> {
        dispatch!(self, s => s.scim_users_count(provider).await)
    }

    /// Exact (byte) equality on the login, through its unique index.
    pub async fn scim_user_by_login(
        &self,
        provider: &str,
        login: &str,
    ) -> Result<Option<ScimUserRow>, StoreError> {
        dispatch!(self, s => s.scim_user_by_login(provider, login).await)
    }

    pub async fn scim_users_by_external_id(
        &self,
        provider: &str,
        external_id: &str,
    ) -> Result<Vec<ScimUserRow>, StoreError> {
        dispatch!(self, s => s.scim_users_by_external_id(provider, external_id).await)
    }

    /// The query plan of the `userName eq` lookup for these values, one
    /// line per step (the benchmark prints it).
    pub async fn explain_scim_user_by_login(
        &self,
        provider: &str,
        login: &str,
    ) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                s.explain_scim_user_by_login("EXPLAIN QUERY PLAN ", provider, login)
                    .await
            }
            Store::Postgres(s) => {
                s.explain_scim_user_by_login("EXPLAIN ", provider, login)
                    .await
            }
        }
    }

    /// The groups a user is in through SCIM (source `scim`): (id, name).
    pub async fn scim_groups_of(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        dispatch!(self, s => s.scim_groups_of(user_id).await)
    }

    pub async fn scim_group(
        &self,
        provider: &str,
        id: &str,
    ) -> Result<Option<ScimGroupRow>, StoreError> {
        dispatch!(self, s => s.scim_group(provider, id).await)
    }

    pub async fn scim_groups_after(
        &self,
        provider: &str,
        after_id: &str,
        limit: i64,
    ) -> Result<Vec<ScimGroupRow>, StoreError> {
        dispatch!(self, s => s.scim_groups_after(provider, after_id, limit).await)
    }

    pub async fn scim_groups_page(
        &self,
        provider: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ScimGroupRow>, StoreError> {
        dispatch!(self, s => s.scim_groups_page(provider, limit, offset).await)
    }

    pub async fn scim_groups_count(&self, provider: &str) -> Result<i64, StoreError> {
        dispatch!(self, s => s.scim_groups_count(provider).await)
    }

    pub async fn scim_group_by_name(
        &self,
        provider: &str,
        name: &str,
    ) -> Result<Option<ScimGroupRow>, StoreError> {
        dispatch!(self, s => s.scim_group_by_name(provider, name).await)
    }

    pub async fn scim_members(&self, group_name: &str) -> Result<Vec<ScimMemberRow>, StoreError> {
        dispatch!(self, s => s.scim_members(group_name).await)
    }

    /// The newest entries first; `resource_id` empty for every resource.
    pub async fn scim_audit(
        &self,
        resource_id: &str,
        limit: i64,
    ) -> Result<Vec<ScimAuditRow>, StoreError> {
        dispatch!(self, s => s.scim_audit(resource_id, limit).await)
    }
}

impl Tx {
    pub async fn scim_user(
        &mut self,
        provider: &str,
        id: &str,
    ) -> Result<Option<ScimUserRow>, StoreError> {
        on_tx!(self, tx_scim_user(provider, id))
    }

    /// Locks the user's row for this transaction (PostgreSQL; SQLite's write
    /// transaction already excludes other writers); false when the provider
    /// manages no such user.
    pub async fn lock_scim_user(&mut self, provider: &str, id: &str) -> Result<bool, StoreError> {
        on_tx!(self, tx_lock_scim_user(provider, id))
    }

    /// Puts a user created in this transaction under the provider's SCIM client.
    pub async fn claim_scim_user(
        &mut self,
        id: &str,
        provider: &str,
        scim_json: &str,
        version: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx_claim_scim_user(id, provider, scim_json, version))
    }

    /// Every write that changes what forward auth answers for a user (its
    /// login, name, disabled flag, SCIM memberships) tells the session
    /// caches of every replica when it commits.
    pub async fn update_scim_user(&mut self, w: &ScimUserWrite<'_>) -> Result<(), StoreError> {
        self.user_changed(w.id);
        on_tx!(self, tx_update_scim_user(w))
    }

    /// SCIM DELETE: the user is disabled and leaves the client's view; its
    /// row, links and history stay.
    pub async fn release_scim_user(
        &mut self,
        id: &str,
        version: i64,
        at: &str,
    ) -> Result<(), StoreError> {
        self.user_changed(id);
        on_tx!(self, tx_release_scim_user(id, version, at))
    }

    pub async fn delete_link(
        &mut self,
        provider: &str,
        kind: &str,
        subject: &str,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx_delete_link(provider, kind, subject))
    }

    pub async fn scim_groups_of(
        &mut self,
        user_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        on_tx!(self, tx_scim_groups_of(user_id))
    }

    pub async fn next_group_revision(&mut self) -> Result<i64, StoreError> {
        on_tx!(self, tx_next_group_revision())
    }

    pub async fn scim_group(
        &mut self,
        provider: &str,
        id: &str,
    ) -> Result<Option<ScimGroupRow>, StoreError> {
        on_tx!(self, tx_scim_group(provider, id))
    }

    /// Locks the group's row for this transaction; false when the provider
    /// manages no such group.
    pub async fn lock_scim_group(&mut self, provider: &str, id: &str) -> Result<bool, StoreError> {
        on_tx!(self, tx_lock_scim_group(provider, id))
    }

    /// Any group with this name, whoever manages it: (id, scim_provider).
    pub async fn group_by_name(
        &mut self,
        name: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        on_tx!(self, tx_group_by_name(name))
    }

    pub async fn insert_scim_group(&mut self, g: &ScimGroupWrite<'_>) -> Result<(), StoreError> {
        on_tx!(self, tx_insert_scim_group(g))
    }

    /// Renames follow into the memberships (ON UPDATE CASCADE).
    pub async fn update_scim_group(&mut self, g: &ScimGroupWrite<'_>) -> Result<(), StoreError> {
        on_tx!(self, tx_update_scim_group(g))
    }

    pub async fn delete_scim_group(
        &mut self,
        provider: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        self.all_sessions_changed();
        on_tx!(self, tx_delete_scim_group(provider, id))
    }

    /// Adds a `scim` membership; false when it was there already.
    pub async fn add_scim_member(
        &mut self,
        user_id: &str,
        group_name: &str,
    ) -> Result<bool, StoreError> {
        self.user_changed(user_id);
        on_tx!(self, tx_add_scim_member(user_id, group_name))
    }

    /// Removes a `scim` membership (never another source's); false when absent.
    pub async fn remove_scim_member(
        &mut self,
        user_id: &str,
        group_name: &str,
    ) -> Result<bool, StoreError> {
        self.user_changed(user_id);
        on_tx!(self, tx_remove_scim_member(user_id, group_name))
    }

    pub async fn scim_members(
        &mut self,
        group_name: &str,
    ) -> Result<Vec<ScimMemberRow>, StoreError> {
        on_tx!(self, tx_scim_members(group_name))
    }

    pub async fn insert_scim_audit(&mut self, a: &ScimAuditRow) -> Result<(), StoreError> {
        on_tx!(self, tx_insert_scim_audit(a))
    }
}
