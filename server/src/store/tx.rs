//! One write transaction over either backend, for the services that must
//! read and write several rows atomically (login resolution, creating a
//! user). Dropping a `Tx` without [`Tx::commit`] rolls it back.

use std::sync::Arc;

use super::notify::{Bus, Notice};
use super::{
    GrantRow, LinkRow, LoginEventRow, PgStore, SessionRow, SqliteStore, StoreError, UserRow,
};

pub enum Inner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

pub struct Tx {
    pub(super) inner: Inner,
    bus: Arc<Bus>,
    /// Sent with the commit, handed to this process's caches after it.
    notices: Vec<Notice>,
}

/// Calls the backend's `tx_*` function (written once in `sql.rs`) on the open transaction.
macro_rules! on_tx {
    ($self:ident, $f:ident($($arg:expr),*)) => {
        match &mut $self.inner {
            Inner::Sqlite(t) => SqliteStore::$f(t, $($arg),*).await,
            Inner::Postgres(t) => PgStore::$f(t, $($arg),*).await,
        }
    };
}

/// Calls a statement written once in `sql.rs` for any executor (`*_on`)
/// on the open transaction's connection; the pool's methods call the same.
macro_rules! on_conn {
    ($self:ident, $f:ident($($arg:expr),*)) => {
        match &mut $self.inner {
            Inner::Sqlite(t) => SqliteStore::$f(&mut **t, $($arg),*).await,
            Inner::Postgres(t) => PgStore::$f(&mut **t, $($arg),*).await,
        }
    };
}

impl Tx {
    pub(crate) fn new(inner: Inner, bus: &Arc<Bus>) -> Tx {
        Tx {
            inner,
            bus: Arc::clone(bus),
            notices: Vec::new(),
        }
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            Inner::Sqlite(mut t) => {
                SqliteStore::notify(&mut t, &self.notices).await?;
                t.commit().await?
            }
            Inner::Postgres(mut t) => {
                PgStore::notify(&mut t, &self.notices).await?;
                t.commit().await?
            }
        }
        for n in &self.notices {
            self.bus.publish(n);
        }
        Ok(())
    }

    /// Tells every replica's session cache, once this commits, that the
    /// user's forward-auth view (grants, groups, profile) changed.
    pub fn user_changed(&mut self, user_id: &str) {
        let n = Notice::UserChanged(user_id.to_owned());
        if !self.notices.contains(&n) {
            self.notices.push(n);
        }
    }

    /// Tells every replica's session cache, once this commits, that
    /// something every session may answer with changed (a group renamed or
    /// deleted).
    pub fn all_sessions_changed(&mut self) {
        if !self.notices.contains(&Notice::AllSessions) {
            self.notices.push(Notice::AllSessions);
        }
    }

    /// The user a link names.
    pub async fn user_by_link(
        &mut self,
        provider: &str,
        kind: &str,
        subject: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        on_tx!(self, tx_user_by_link(provider, kind, subject))
    }

    pub async fn links_of(&mut self, user_id: &str) -> Result<Vec<LinkRow>, StoreError> {
        on_tx!(self, tx_links_of(user_id))
    }

    /// Exact (byte) equality, like every identity comparison.
    pub async fn user_by_login(&mut self, login: &str) -> Result<Option<UserRow>, StoreError> {
        on_tx!(self, tx_user_by_login(login))
    }

    /// At most `limit` users with exactly this email.
    pub async fn users_by_email(
        &mut self,
        email: &str,
        limit: i64,
    ) -> Result<Vec<UserRow>, StoreError> {
        on_tx!(self, tx_users_by_email(email, limit))
    }

    pub async fn insert_user(&mut self, u: &UserRow) -> Result<(), StoreError> {
        on_tx!(self, tx_insert_user(u))
    }

    pub async fn insert_link(&mut self, l: &LinkRow) -> Result<(), StoreError> {
        on_tx!(self, tx_insert_link(l))
    }

    /// Stamps a login on the user's row and returns the row as locked
    /// (`None` if the user is gone); call it before reading the user's
    /// grants, as it serialises concurrent logins of one user.
    pub async fn touch_login(
        &mut self,
        user_id: &str,
        now: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        on_tx!(self, tx_touch_login(user_id, now))
    }

    pub async fn update_profile(
        &mut self,
        user_id: &str,
        email: &str,
        name: &str,
        external_uid: &str,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx_update_profile(user_id, email, name, external_uid))
    }

    pub async fn put_grant(
        &mut self,
        user_id: &str,
        grant: &GrantRow,
        now: &str,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx_put_grant(user_id, grant, now))
    }

    /// Replaces the memberships `source` gives the user.
    pub async fn set_groups(
        &mut self,
        user_id: &str,
        source: &str,
        groups: &[String],
    ) -> Result<(), StoreError> {
        on_tx!(self, tx_set_groups(user_id, source, groups))
    }

    /// The groups `source` gives the user, sorted by name.
    pub async fn groups_from(
        &mut self,
        user_id: &str,
        source: &str,
    ) -> Result<Vec<String>, StoreError> {
        on_tx!(self, tx_groups_from(user_id, source))
    }

    pub async fn grants_of(&mut self, user_id: &str) -> Result<Vec<GrantRow>, StoreError> {
        on_tx!(self, tx_grants_of(user_id))
    }

    /// Stores the effective role, admin flag and organizations on the user's row.
    pub async fn set_effective(&mut self, user_id: &str, g: &GrantRow) -> Result<(), StoreError> {
        on_tx!(self, tx_set_effective(user_id, g))
    }

    /// Consumes a pending login request; false when it is gone (another
    /// ACS call took it, or it expired and was purged).
    pub async fn take_saml_request(&mut self, id: &str) -> Result<bool, StoreError> {
        on_conn!(self, take_saml_request_on(id))
    }

    /// Records an accepted assertion ID; false when it was already seen.
    pub async fn remember_assertion(
        &mut self,
        id: &str,
        provider: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        on_conn!(self, remember_assertion_on(id, provider, expires_at))
    }

    pub async fn group_names(&mut self) -> Result<Vec<String>, StoreError> {
        on_conn!(self, group_names_on())
    }

    /// Which of `names` are groups (exact names), each found by its key.
    pub async fn groups_among(&mut self, names: &[String]) -> Result<Vec<String>, StoreError> {
        on_conn!(self, groups_among_on(names))
    }

    pub async fn insert_session(&mut self, session: &SessionRow) -> Result<(), StoreError> {
        on_conn!(self, insert_session_on(session))
    }

    pub async fn insert_login_event(&mut self, e: &LoginEventRow) -> Result<(), StoreError> {
        on_conn!(self, insert_login_event_on(e))
    }
}
