//! The SQL both backends run, written once. SQLite and PostgreSQL both accept
//! `$N` placeholders, `ON CONFLICT` and the column types we use (text, integer,
//! boolean), so a macro stamps out the same methods for each pool type; sqlx
//! has no ergonomic way to be generic over the database for this.

/// Column lists read into `UserRow` and `SettingsRow`, written once.
macro_rules! user_columns {
    () => {
        "id, login, email, name, external_uid, provider, role, is_admin, disabled, created_at, updated_at, last_login_at, organizations, created_by"
    };
}

macro_rules! session_columns {
    () => {
        "id_hash, user_id, provider, name_id, name_id_format, name_qualifier, sp_name_qualifier, sp_provided_id, session_index, created_at, last_seen_at, expires_at"
    };
}

macro_rules! settings_columns {
    () => {
        "provider, settings_json, secrets_json, version, updated_at, updated_by, managed_by"
    };
}

macro_rules! group_columns {
    () => {
        "g.id, g.name, g.description, g.created_at, g.updated_at, g.version, g.updated_by, g.managed_by, g.scim_provider, \
         (SELECT COUNT(DISTINCT ug.user_id) FROM user_groups ug WHERE ug.group_name = g.name) AS members"
    };
}

macro_rules! sql_store_methods {
    ($store:ty) => {
        impl $store {
            pub async fn ping(&self) -> Result<(), $crate::store::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            pub async fn get_settings(
                &self,
                provider: &str,
            ) -> Result<Option<$crate::store::SettingsRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    concat!("SELECT ", $crate::store::sql::settings_columns!(), " FROM sso_settings WHERE provider = $1"),
                )
                .bind(provider)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn list_settings(
                &self,
            ) -> Result<Vec<$crate::store::SettingsRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    concat!("SELECT ", $crate::store::sql::settings_columns!(), " FROM sso_settings ORDER BY provider"),
                )
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn last_version(&self, provider: &str) -> Result<i64, $crate::store::StoreError> {
                let row: (Option<i64>,) = sqlx::query_as(
                    "SELECT MAX(version) FROM sso_settings_history WHERE provider = $1",
                )
                .bind(provider)
                .fetch_one(&self.pool)
                .await?;
                Ok(row.0.unwrap_or(0))
            }

            /// Stores writes to one provider, each if the stored version is
            /// still its `expected` (0: no row), all or none: one write is one
            /// statement, several are one transaction, so queued writers share
            /// a commit. The database's trigger writes each history entry from
            /// its row (version, actor, time) with its `correlation_id` and
            /// `changes_json`, and, on PostgreSQL, tells the other replicas
            /// (migration 0010).
            pub async fn put_settings(
                &self,
                writes: &[$crate::store::SettingsWrite],
            ) -> Result<$crate::store::Write, $crate::store::StoreError> {
                if let [one] = writes {
                    return Self::put_settings_on(&self.pool, one).await;
                }
                let mut tx = self.pool.begin().await?;
                for w in writes {
                    if Self::put_settings_on(&mut *tx, w).await? == $crate::store::Write::Conflict {
                        tx.rollback().await?;
                        return Ok($crate::store::Write::Conflict);
                    }
                }
                tx.commit().await?;
                Ok($crate::store::Write::Done)
            }

            async fn put_settings_on<'c, E>(
                e: E,
                w: &$crate::store::SettingsWrite,
            ) -> Result<$crate::store::Write, $crate::store::StoreError>
            where
                E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
            {
                let statement = if w.expected == 0 {
                    sqlx::query(
                        "INSERT INTO sso_settings \
                         (provider, settings_json, secrets_json, version, updated_at, updated_by, managed_by, \
                          change_correlation_id, changes_json) \
                         VALUES ($1, $2, $3, $4, $5, $6, $8, $9, $10) ON CONFLICT (provider) DO NOTHING",
                    )
                } else {
                    sqlx::query(
                        "UPDATE sso_settings SET settings_json = $2, secrets_json = $3, version = $4, \
                         updated_at = $5, updated_by = $6, managed_by = $8, \
                         change_correlation_id = $9, changes_json = $10 \
                         WHERE provider = $1 AND version = $7",
                    )
                };
                let row = &w.row;
                let result = statement
                    .bind(&row.provider)
                    .bind(&row.settings_json)
                    .bind(&row.secrets_json)
                    .bind(row.version)
                    .bind(&row.updated_at)
                    .bind(&row.updated_by)
                    .bind(w.expected)
                    .bind(&row.managed_by)
                    .bind(&w.correlation_id)
                    .bind(&w.changes_json)
                    .execute(e)
                    .await;
                match result {
                    Ok(r) if r.rows_affected() == 0 => Ok($crate::store::Write::Conflict),
                    Ok(_) => Ok($crate::store::Write::Done),
                    // The version is in the history already (a delete and a
                    // re-create racing on another replica): a lost race.
                    Err(e) if $crate::store::is_unique_violation(&e) => Ok($crate::store::Write::Conflict),
                    Err(e) => Err(e.into()),
                }
            }

            pub async fn delete_settings(
                &self,
                provider: &str,
                expected: i64,
                history: &$crate::store::HistoryRow,
            ) -> Result<$crate::store::Write, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let deleted = sqlx::query("DELETE FROM sso_settings WHERE provider = $1 AND version = $2")
                    .bind(provider)
                    .bind(expected)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if deleted == 0 {
                    tx.rollback().await?;
                    return Ok($crate::store::Write::Conflict);
                }
                Self::insert_history(&mut tx, history).await?;
                Self::announce(&mut tx, provider).await?;
                tx.commit().await?;
                Ok($crate::store::Write::Done)
            }

            async fn insert_history(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                h: &$crate::store::HistoryRow,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO sso_settings_history \
                     (provider, version, action, actor, at, correlation_id, changes_json) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&h.provider)
                .bind(h.version)
                .bind(&h.action)
                .bind(&h.actor)
                .bind(&h.at)
                .bind(&h.correlation_id)
                .bind(&h.changes_json)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            pub async fn history(
                &self,
                provider: &str,
                limit: i64,
            ) -> Result<Vec<$crate::store::HistoryRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT provider, version, action, actor, at, correlation_id, changes_json \
                     FROM sso_settings_history WHERE provider = $1 ORDER BY version DESC LIMIT $2",
                )
                .bind(provider)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn list_groups(&self) -> Result<Vec<$crate::store::GroupRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    concat!("SELECT ", $crate::store::sql::group_columns!(), " FROM groups g ORDER BY g.name"),
                )
                .fetch_all(&self.pool)
                .await?)
            }

            /// Names only: what a login needs, without the member counts.
            pub async fn group_names(&self) -> Result<Vec<String>, $crate::store::StoreError> {
                Self::group_names_on(&self.pool).await
            }

            pub(crate) async fn group_names_on<'c, E>(e: E) -> Result<Vec<String>, $crate::store::StoreError>
            where
                E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
            {
                Ok(sqlx::query_scalar("SELECT name FROM groups").fetch_all(e).await?)
            }

            pub(crate) async fn groups_among_on<'c, E>(
                e: E,
                names: &[String],
            ) -> Result<Vec<String>, $crate::store::StoreError>
            where
                E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
            {
                let names = serde_json::Value::from(names.to_vec()).to_string();
                Ok(sqlx::query_scalar(<$store as $crate::store::sql::Backend>::GROUPS_AMONG)
                    .bind(names)
                    .fetch_all(e)
                    .await?)
            }

            pub async fn get_group(
                &self,
                name: &str,
            ) -> Result<Option<$crate::store::GroupRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    concat!("SELECT ", $crate::store::sql::group_columns!(), " FROM groups g WHERE g.name = $1"),
                )
                .bind(name)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn put_group(
                &self,
                g: &$crate::store::GroupWrite<'_>,
                pre: $crate::store::Precondition,
            ) -> Result<$crate::store::GroupWritten, $crate::store::StoreError> {
                use $crate::store::{GroupWritten, Precondition};
                let mut tx = self.pool.begin().await?;
                // The next revision; the first statement writes, so SQLite
                // takes its write lock here.
                let rev = Self::tx_next_group_revision(&mut tx).await?;
                let (update, only_version, insert) = match pre {
                    Precondition::None => (true, None, true),
                    Precondition::Exists => (true, None, false),
                    Precondition::Version(0) | Precondition::Absent => (false, None, true),
                    Precondition::Version(v) => (true, Some(v), false),
                };
                if update {
                    let sql = if only_version.is_some() {
                        "UPDATE groups SET description = $2, updated_at = $3, updated_by = $4, managed_by = $5, version = $6 \
                         WHERE name = $1 AND version = $7"
                    } else {
                        "UPDATE groups SET description = $2, updated_at = $3, updated_by = $4, managed_by = $5, version = $6 \
                         WHERE name = $1"
                    };
                    let mut q = sqlx::query(sql)
                        .bind(g.name)
                        .bind(g.description)
                        .bind(g.at)
                        .bind(g.actor)
                        .bind(g.managed_by)
                        .bind(rev);
                    if let Some(v) = only_version {
                        q = q.bind(v);
                    }
                    if q.execute(&mut *tx).await?.rows_affected() > 0 {
                        tx.commit().await?;
                        return Ok(GroupWritten::Updated);
                    }
                }
                if insert {
                    let n = sqlx::query(
                        "INSERT INTO groups (name, description, created_at, updated_at, updated_by, managed_by, version, id) \
                         VALUES ($1, $2, $3, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(g.name)
                    .bind(g.description)
                    .bind(g.at)
                    .bind(g.actor)
                    .bind(g.managed_by)
                    .bind(rev)
                    .bind(uuid::Uuid::new_v4().to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n > 0 {
                        tx.commit().await?;
                        return Ok(GroupWritten::Created);
                    }
                }
                tx.rollback().await?;
                Ok(GroupWritten::Refused)
            }

            pub async fn delete_group(
                &self,
                name: &str,
                pre: $crate::store::Precondition,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::Precondition;
                let mut tx = self.pool.begin().await?;
                let n = match pre {
                    Precondition::Version(v) => sqlx::query("DELETE FROM groups WHERE name = $1 AND version = $2")
                        .bind(name)
                        .bind(v)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                    Precondition::Absent => 0,
                    Precondition::None | Precondition::Exists => sqlx::query("DELETE FROM groups WHERE name = $1")
                        .bind(name)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                };
                if n == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query("DELETE FROM user_groups WHERE group_name = $1").bind(name).execute(&mut *tx).await?;
                // Every member's X-Auth-Groups changes.
                let notices = [$crate::store::notify::Notice::AllSessions];
                Self::notify(&mut tx, &notices).await?;
                tx.commit().await?;
                self.publish(&notices);
                Ok(true)
            }

            pub async fn list_users(
                &self,
                limit: i64,
                offset: i64,
            ) -> Result<Vec<$crate::store::UserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    concat!("SELECT ", $crate::store::sql::user_columns!(), " FROM users ORDER BY login LIMIT $1 OFFSET $2"),
                )
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn get_user(&self, id: &str) -> Result<Option<$crate::store::UserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    concat!("SELECT ", $crate::store::sql::user_columns!(), " FROM users WHERE id = $1"),
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn user_groups(&self, id: &str) -> Result<Vec<String>, $crate::store::StoreError> {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT DISTINCT group_name FROM user_groups WHERE user_id = $1 ORDER BY group_name")
                        .bind(id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            /// Inserts a user with its creating source's grant (the row's
            /// role, admin flag and organizations) and group memberships.
            pub async fn insert_user(
                &self,
                u: &$crate::store::UserRow,
                groups: &[String],
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                Self::tx_insert_user(&mut tx, u).await?;
                let grant = $crate::store::GrantRow {
                    source: u.provider.clone(),
                    role: u.role.clone(),
                    is_admin: u.is_admin,
                    organizations: u.organizations.clone(),
                };
                Self::tx_put_grant(&mut tx, &u.id, &grant, &u.updated_at).await?;
                Self::tx_set_groups(&mut tx, &u.id, &u.provider, groups).await?;
                tx.commit().await?;
                Ok(())
            }

            /// A user's identity links, for the API.
            pub async fn links_of(
                &self,
                user_id: &str,
            ) -> Result<Vec<$crate::store::LinkRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT provider, kind, subject, user_id, created_at FROM identity_links \
                     WHERE user_id = $1 ORDER BY provider, kind, subject",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            /// A write transaction; on SQLite it takes the write lock at once
            /// (`BEGIN IMMEDIATE`), so reads made in it cannot be overtaken by
            /// another writer before it writes.
            pub(crate) async fn begin_write(
                &self,
            ) -> Result<sqlx::Transaction<'static, <$store as $crate::store::sql::Backend>::Db>, $crate::store::StoreError> {
                Ok(self.pool.begin_with(<$store as $crate::store::sql::Backend>::BEGIN_WRITE).await?)
            }

            pub(crate) async fn tx_user_by_link(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                provider: &str,
                kind: &str,
                subject: &str,
            ) -> Result<Option<$crate::store::UserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::user_columns!(), " FROM users WHERE id = \
                     (SELECT user_id FROM identity_links WHERE provider = $1 AND kind = $2 AND subject = $3)",
                ))
                .bind(provider)
                .bind(kind)
                .bind(subject)
                .fetch_optional(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_links_of(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
            ) -> Result<Vec<$crate::store::LinkRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT provider, kind, subject, user_id, created_at FROM identity_links WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_all(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_user_by_login(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                login: &str,
            ) -> Result<Option<$crate::store::UserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::user_columns!(), " FROM users WHERE login = $1",
                ))
                .bind(login)
                .fetch_optional(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_users_by_email(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                email: &str,
                limit: i64,
            ) -> Result<Vec<$crate::store::UserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::user_columns!(), " FROM users WHERE email = $1 ORDER BY id LIMIT $2",
                ))
                .bind(email)
                .bind(limit)
                .fetch_all(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_insert_user(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                u: &$crate::store::UserRow,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO users (", $crate::store::sql::user_columns!(), ") \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                ))
                .bind(&u.id)
                .bind(&u.login)
                .bind(&u.email)
                .bind(&u.name)
                .bind(&u.external_uid)
                .bind(&u.provider)
                .bind(&u.role)
                .bind(u.is_admin)
                .bind(u.disabled)
                .bind(&u.created_at)
                .bind(&u.updated_at)
                .bind(&u.last_login_at)
                .bind(sqlx::types::Json(&u.organizations))
                .bind(&u.created_by)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            pub(crate) async fn tx_insert_link(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                l: &$crate::store::LinkRow,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO identity_links (provider, kind, subject, user_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&l.provider)
                .bind(&l.kind)
                .bind(&l.subject)
                .bind(&l.user_id)
                .bind(&l.created_at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Records a login; as the first write on the user's row it also
            /// locks that row (PostgreSQL), so two logins of one user apply
            /// their grants one after the other. Returns the row as locked:
            /// what a login compares against to write only what it changes.
            pub(crate) async fn tx_touch_login(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
                now: &str,
            ) -> Result<Option<$crate::store::UserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "UPDATE users SET updated_at = $2, last_login_at = $2 WHERE id = $1 RETURNING ",
                    $crate::store::sql::user_columns!(),
                ))
                .bind(user_id)
                .bind(now)
                .fetch_optional(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_update_profile(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
                email: &str,
                name: &str,
                external_uid: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query("UPDATE users SET email = $2, name = $3, external_uid = $4 WHERE id = $1")
                    .bind(user_id)
                    .bind(email)
                    .bind(name)
                    .bind(external_uid)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            pub(crate) async fn tx_put_grant(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
                g: &$crate::store::GrantRow,
                now: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO user_grants (user_id, source, role, is_admin, organizations, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, source) DO UPDATE SET \
                     role = excluded.role, is_admin = excluded.is_admin, \
                     organizations = excluded.organizations, updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(&g.source)
                .bind(&g.role)
                .bind(g.is_admin)
                .bind(sqlx::types::Json(&g.organizations))
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Replaces the memberships `source` gives the user.
            pub(crate) async fn tx_set_groups(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
                source: &str,
                groups: &[String],
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query("DELETE FROM user_groups WHERE user_id = $1 AND source = $2")
                    .bind(user_id)
                    .bind(source)
                    .execute(&mut **tx)
                    .await?;
                for g in groups {
                    sqlx::query("INSERT INTO user_groups (user_id, group_name, source) VALUES ($1, $2, $3)")
                        .bind(user_id)
                        .bind(g)
                        .bind(source)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// The groups `source` gives the user, by name.
            pub(crate) async fn tx_groups_from(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
                source: &str,
            ) -> Result<Vec<String>, $crate::store::StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT group_name FROM user_groups WHERE user_id = $1 AND source = $2 ORDER BY group_name",
                )
                .bind(user_id)
                .bind(source)
                .fetch_all(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_grants_of(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
            ) -> Result<Vec<$crate::store::GrantRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT source, role, is_admin, organizations FROM user_grants WHERE user_id = $1 ORDER BY source",
                )
                .bind(user_id)
                .fetch_all(&mut **tx)
                .await?)
            }

            /// Writes the effective values (over every source's grant) to the user's row.
            pub(crate) async fn tx_set_effective(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
                g: &$crate::store::GrantRow,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query("UPDATE users SET role = $2, is_admin = $3, organizations = $4 WHERE id = $1")
                    .bind(user_id)
                    .bind(&g.role)
                    .bind(g.is_admin)
                    .bind(sqlx::types::Json(&g.organizations))
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Disables or enables a user; every replica's session cache hears of it.
            pub async fn set_user_disabled(
                &self,
                id: &str,
                disabled: bool,
                now: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let n = sqlx::query("UPDATE users SET disabled = $2, updated_at = $3, version = version + 1 WHERE id = $1")
                    .bind(id)
                    .bind(disabled)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let notices = [$crate::store::notify::Notice::UserChanged(id.to_owned())];
                Self::notify(&mut tx, &notices).await?;
                tx.commit().await?;
                self.publish(&notices);
                Ok(n > 0)
            }

            /// Hands `notices` of a committed write to this process's caches.
            fn publish(&self, notices: &[$crate::store::notify::Notice]) {
                for n in notices {
                    self.bus.publish(n);
                }
            }

            pub async fn insert_token(
                &self,
                t: &$crate::store::TokenRow,
                hash: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, name, role, token_hash, created_at, revoked_at, provider) \
                     VALUES ($1, $2, $3, $4, $5, NULL, $6)",
                )
                .bind(&t.id)
                .bind(&t.name)
                .bind(&t.role)
                .bind(hash)
                .bind(&t.created_at)
                .bind(&t.provider)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            pub async fn find_token(&self, hash: &str) -> Result<Option<$crate::store::TokenRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, name, role, created_at, revoked_at, provider FROM api_tokens \
                     WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn list_tokens(&self) -> Result<Vec<$crate::store::TokenRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as("SELECT id, name, role, created_at, revoked_at, provider FROM api_tokens ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?)
            }

            pub async fn revoke_token(&self, name: &str, now: &str) -> Result<bool, $crate::store::StoreError> {
                let n = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL")
                    .bind(name)
                    .bind(now)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            /// Stores a pending request within its bounds: first the
            /// browser's oldest requests beyond `per_browser - 1` go, then
            /// the row is inserted unless its source already holds
            /// `per_source` live ones (counted by the index, at most that
            /// many rows read). False: the source is full, nothing stored.
            /// Concurrent inserts may each pass the count, so a source can
            /// exceed its bound by the requests in flight at that moment.
            pub async fn insert_saml_request(
                &self,
                r: &$crate::store::SamlRequestRow,
                bounds: $crate::store::PendingBounds,
            ) -> Result<bool, $crate::store::StoreError> {
                // One connection for both statements: each trip through the
                // pool costs a hand-off to the connection and, on its return,
                // the ping sqlx always sends.
                let mut c = self.pool.acquire().await?;
                sqlx::query(
                    "DELETE FROM saml_requests WHERE browser = $1 AND id NOT IN \
                     (SELECT id FROM saml_requests WHERE browser = $1 ORDER BY seq DESC LIMIT $2)",
                )
                .bind(&r.browser)
                .bind(bounds.per_browser.saturating_sub(1))
                .execute(&mut *c)
                .await?;
                let n = sqlx::query(
                    "INSERT INTO saml_requests (id, provider, browser, relay_state, expires_at, source, seq) \
                     SELECT $1, $2, $3, $4, $5, $6, $9 WHERE (SELECT count(*) FROM \
                     (SELECT 1 FROM saml_requests WHERE source = $6 AND expires_at > $7 LIMIT $8) AS live) < $8",
                )
                .bind(&r.id)
                .bind(&r.provider)
                .bind(&r.browser)
                .bind(&r.relay_state)
                .bind(r.expires_at)
                .bind(&r.source)
                .bind(bounds.now)
                .bind(bounds.per_source)
                .bind($crate::store::next_request_seq())
                .execute(&mut *c)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            pub async fn pending_saml_requests(
                &self,
                provider: &str,
                browser: &str,
                now: i64,
            ) -> Result<Vec<$crate::store::SamlRequestRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, provider, browser, relay_state, expires_at, source FROM saml_requests \
                     WHERE browser = $2 AND provider = $1 AND expires_at > $3",
                )
                .bind(provider)
                .bind(browser)
                .bind(now)
                .fetch_all(&self.pool)
                .await?)
            }

            /// Consumes a pending request; false when another ACS call already did.
            pub async fn take_saml_request(&self, id: &str) -> Result<bool, $crate::store::StoreError> {
                Self::take_saml_request_on(&self.pool, id).await
            }

            pub(crate) async fn take_saml_request_on<'c, E>(e: E, id: &str) -> Result<bool, $crate::store::StoreError>
            where
                E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
            {
                let n = sqlx::query("DELETE FROM saml_requests WHERE id = $1")
                    .bind(id)
                    .execute(e)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            /// Records an accepted assertion ID; false when it was already seen (a replay).
            pub async fn remember_assertion(
                &self,
                id: &str,
                provider: &str,
                expires_at: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                Self::remember_assertion_on(&self.pool, id, provider, expires_at).await
            }

            pub(crate) async fn remember_assertion_on<'c, E>(
                e: E,
                id: &str,
                provider: &str,
                expires_at: i64,
            ) -> Result<bool, $crate::store::StoreError>
            where
                E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
            {
                let n = sqlx::query(
                    "INSERT INTO saml_assertions (id, provider, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(provider)
                .bind(expires_at)
                .execute(e)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            /// Deletes what can no longer be used: pending requests and
            /// remembered assertions past their expiry, sessions past their
            /// absolute expiry or idle since `idle_before`. No notices: every
            /// cache checks the same deadlines itself. Returns rows deleted.
            pub async fn purge_expired(&self, now: i64, idle_before: i64) -> Result<u64, $crate::store::StoreError> {
                let mut n = 0;
                n += sqlx::query("DELETE FROM saml_requests WHERE expires_at <= $1").bind(now).execute(&self.pool).await?.rows_affected();
                n += sqlx::query("DELETE FROM saml_assertions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?.rows_affected();
                n += sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?.rows_affected();
                n += sqlx::query("DELETE FROM sessions WHERE last_seen_at <= $1").bind(idle_before).execute(&self.pool).await?.rows_affected();
                n += sqlx::query("DELETE FROM test_signins WHERE expires_at <= $1").bind(now).execute(&self.pool).await?.rows_affected();
                Ok(n)
            }

            pub async fn insert_test_signin(&self, t: &$crate::store::TestSigninRow) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO test_signins (id, provider, admin_user_id, created_at, expires_at, report_json) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&t.id)
                .bind(&t.provider)
                .bind(&t.admin_user_id)
                .bind(t.created_at)
                .bind(t.expires_at)
                .bind(&t.report_json)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            pub async fn test_signin(&self, id: &str, now: i64) -> Result<Option<$crate::store::TestSigninRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, provider, admin_user_id, created_at, expires_at, report_json FROM test_signins \
                     WHERE id = $1 AND expires_at > $2",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn find_user_by_login(
                &self,
                login: &str,
            ) -> Result<Option<$crate::store::UserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    concat!("SELECT ", $crate::store::sql::user_columns!(), " FROM users WHERE login = $1"),
                )
                .bind(login)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn insert_session(&self, s: &$crate::store::SessionRow) -> Result<(), $crate::store::StoreError> {
                Self::insert_session_on(&self.pool, s).await
            }

            pub(crate) async fn insert_session_on<'c, E>(e: E, s: &$crate::store::SessionRow) -> Result<(), $crate::store::StoreError>
            where
                E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
            {
                sqlx::query(concat!(
                    "INSERT INTO sessions (", $crate::store::sql::session_columns!(), ") \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                ))
                .bind(&s.id_hash)
                .bind(&s.user_id)
                .bind(&s.provider)
                .bind(&s.name_id)
                .bind(&s.name_id_format)
                .bind(&s.name_qualifier)
                .bind(&s.sp_name_qualifier)
                .bind(&s.sp_provided_id)
                .bind(&s.session_index)
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(s.expires_at)
                .execute(e)
                .await?;
                Ok(())
            }

            pub async fn get_session(
                &self,
                id_hash: &str,
            ) -> Result<Option<$crate::store::SessionRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::session_columns!(), " FROM sessions WHERE id_hash = $1",
                ))
                .bind(id_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            /// A session with its user and the user's groups, read on one
            /// pooled connection: forward auth's cache miss. (Each
            /// acquire/release costs sqlx a ping round trip, so three
            /// lookups on one connection are about half the work of three
            /// pool queries.)
            pub async fn session_with_user(
                &self,
                id_hash: &str,
            ) -> Result<Option<$crate::store::SessionWithUser>, $crate::store::StoreError> {
                let mut c = self.pool.acquire().await?;
                let Some(session): Option<$crate::store::SessionRow> = sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::session_columns!(), " FROM sessions WHERE id_hash = $1",
                ))
                .bind(id_hash)
                .fetch_optional(&mut *c)
                .await?
                else {
                    return Ok(None);
                };
                let user: Option<$crate::store::UserRow> = sqlx::query_as(
                    concat!("SELECT ", $crate::store::sql::user_columns!(), " FROM users WHERE id = $1"),
                )
                .bind(&session.user_id)
                .fetch_optional(&mut *c)
                .await?;
                let groups: Vec<(String,)> = match &user {
                    Some(u) if !u.disabled => {
                        sqlx::query_as("SELECT DISTINCT group_name FROM user_groups WHERE user_id = $1 ORDER BY group_name")
                            .bind(&u.id)
                            .fetch_all(&mut *c)
                            .await?
                    }
                    _ => Vec::new(),
                };
                Ok(Some($crate::store::SessionWithUser {
                    session,
                    user,
                    groups: groups.into_iter().map(|g| g.0).collect(),
                }))
            }

            /// Records when sessions were last used, in one statement; a
            /// time never moves backwards. `touches` names each session once
            /// (with two rows for one session, which one wins is undefined).
            pub async fn touch_sessions(&self, touches: &[(String, i64)]) -> Result<(), $crate::store::StoreError> {
                // One statement per batch, not one per session: a busy
                // replica touches every active session once a minute, and
                // each statement is a round trip (to SQLite's worker thread,
                // or to PostgreSQL). Both name a VALUES list's columns
                // column1, column2.
                if touches.is_empty() {
                    return Ok(());
                }
                let rows: Vec<String> = (0..touches.len())
                    .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                    .collect();
                let sql = format!(
                    "UPDATE sessions SET last_seen_at = t.column2 FROM (VALUES {}) AS t \
                     WHERE sessions.id_hash = t.column1 AND sessions.last_seen_at < t.column2",
                    rows.join(", ")
                );
                let mut query = sqlx::query(&sql);
                for (id_hash, at) in touches {
                    query = query.bind(id_hash).bind(at);
                }
                query.execute(&self.pool).await?;
                Ok(())
            }

            /// Ends one session; every replica's session cache hears of it.
            pub async fn delete_session(&self, id_hash: &str) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&mut *tx).await?;
                let notices = [$crate::store::notify::Notice::SessionEnded(id_hash.to_owned())];
                Self::notify(&mut tx, &notices).await?;
                tx.commit().await?;
                self.publish(&notices);
                Ok(())
            }

            /// Ends every session of a user; every replica's session cache hears of it.
            pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let notices = [$crate::store::notify::Notice::UserChanged(user_id.to_owned())];
                Self::notify(&mut tx, &notices).await?;
                tx.commit().await?;
                self.publish(&notices);
                Ok(n)
            }

            /// See [`crate::store::Store::delete_sessions_of`]; the caller bounds the list.
            pub async fn delete_sessions_of(
                &self,
                provider: &str,
                name_id: &str,
                session_indexes: &[String],
            ) -> Result<u64, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                // The users whose sessions ended, for the caches' notices.
                let mut users: Vec<String> = if session_indexes.is_empty() {
                    sqlx::query_scalar("DELETE FROM sessions WHERE provider = $1 AND name_id = $2 RETURNING user_id")
                        .bind(provider)
                        .bind(name_id)
                        .fetch_all(&mut *tx)
                        .await?
                } else {
                    // One statement per index keeps the SQL fixed for both
                    // backends; the list is short and bounded.
                    let mut users = Vec::new();
                    for index in session_indexes {
                        users.extend(
                            sqlx::query_scalar::<_, String>(
                                "DELETE FROM sessions WHERE provider = $1 AND name_id = $2 AND session_index = $3 RETURNING user_id",
                            )
                            .bind(provider)
                            .bind(name_id)
                            .bind(index)
                            .fetch_all(&mut *tx)
                            .await?,
                        );
                    }
                    users
                };
                let ended = users.len() as u64;
                users.sort();
                users.dedup();
                let notices: Vec<_> = users.into_iter().map($crate::store::notify::Notice::UserChanged).collect();
                Self::notify(&mut tx, &notices).await?;
                tx.commit().await?;
                self.publish(&notices);
                Ok(ended)
            }

            pub async fn insert_login_event(&self, e: &$crate::store::LoginEventRow) -> Result<(), $crate::store::StoreError> {
                Self::insert_login_event_on(&self.pool, e).await
            }

            pub(crate) async fn insert_login_event_on<'c, X>(x: X, e: &$crate::store::LoginEventRow) -> Result<(), $crate::store::StoreError>
            where
                X: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
            {
                sqlx::query(
                    "INSERT INTO login_events (id, provider, at, outcome, reason, login, correlation_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&e.id)
                .bind(&e.provider)
                .bind(&e.at)
                .bind(&e.outcome)
                .bind(&e.reason)
                .bind(&e.login)
                .bind(&e.correlation_id)
                .execute(x)
                .await?;
                Ok(())
            }

            pub async fn login_events(
                &self,
                provider: &str,
                limit: i64,
            ) -> Result<Vec<$crate::store::LoginEventRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, provider, at, outcome, reason, login, correlation_id FROM login_events \
                     WHERE provider = $1 OR $1 = '' ORDER BY at DESC LIMIT $2",
                )
                .bind(provider)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            /// Ends every session of a user; returns how many.
            /// Members of a group with the sources of their membership.
            pub async fn group_members(
                &self,
                name: &str,
                limit: i64,
            ) -> Result<Vec<$crate::store::MemberRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT u.id AS user_id, u.login, u.name, ug.source FROM user_groups ug \
                     JOIN users u ON u.id = ug.user_id WHERE ug.group_name = $1 ORDER BY u.login, ug.source LIMIT $2",
                )
                .bind(name)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            /// The newest events matching every non-empty filter.
            pub async fn find_login_events(
                &self,
                f: &$crate::store::EventFilter<'_>,
                limit: i64,
            ) -> Result<Vec<$crate::store::LoginEventRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, provider, at, outcome, reason, login, correlation_id FROM login_events \
                     WHERE ($1 = '' OR provider = $1) AND ($2 = '' OR outcome = $2) AND ($3 = '' OR login = $3) \
                     ORDER BY at DESC LIMIT $4",
                )
                .bind(f.provider)
                .bind(f.outcome)
                .bind(f.login)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn login_event(&self, id: &str) -> Result<Option<$crate::store::LoginEventRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, provider, at, outcome, reason, login, correlation_id FROM login_events WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn get_meta(&self, key: &str) -> Result<Option<String>, $crate::store::StoreError> {
                let row: Option<(String,)> = sqlx::query_as("SELECT value FROM meta WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| r.0))
            }

            pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            pub async fn init_meta(&self, key: &str, value: &str) -> Result<String, $crate::store::StoreError> {
                sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                let row: (String,) = sqlx::query_as("SELECT value FROM meta WHERE key = $1")
                    .bind(key)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(row.0)
            }
        }
    };
}

/// User columns with the SCIM ones, read into `ScimUserRow`.
macro_rules! scim_user_columns {
    () => {
        concat!(
            $crate::store::sql::user_columns!(),
            ", scim_provider, scim_json, version"
        )
    };
}

/// The `userName eq` lookup, also explained by the benchmark.
macro_rules! scim_user_by_login {
    () => {
        concat!(
            "SELECT ",
            $crate::store::sql::scim_user_columns!(),
            " FROM users WHERE login = $1 AND scim_provider = $2"
        )
    };
}

macro_rules! scim_group_columns {
    () => {
        "id, name, external_id, version, created_at, updated_at, scim_provider"
    };
}

/// The SQL of SCIM provisioning (see `store/scim.rs`); every statement on
/// users or groups is scoped to the SCIM client's provider.
macro_rules! sql_scim_methods {
    ($store:ty) => {
        impl $store {
            pub async fn scim_user(
                &self,
                provider: &str,
                id: &str,
            ) -> Result<Option<$crate::store::ScimUserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_user_columns!(), " FROM users WHERE id = $1 AND scim_provider = $2",
                ))
                .bind(id)
                .bind(provider)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn scim_users_after(
                &self,
                provider: &str,
                after_id: &str,
                limit: i64,
            ) -> Result<Vec<$crate::store::ScimUserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_user_columns!(),
                    " FROM users WHERE scim_provider = $1 AND id > $2 ORDER BY id LIMIT $3",
                ))
                .bind(provider)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn scim_users_page(
                &self,
                provider: &str,
                limit: i64,
                offset: i64,
            ) -> Result<Vec<$crate::store::ScimUserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_user_columns!(),
                    " FROM users WHERE scim_provider = $1 ORDER BY id LIMIT $2 OFFSET $3",
                ))
                .bind(provider)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn scim_users_count(&self, provider: &str) -> Result<i64, $crate::store::StoreError> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE scim_provider = $1")
                    .bind(provider)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            pub async fn scim_user_by_login(
                &self,
                provider: &str,
                login: &str,
            ) -> Result<Option<$crate::store::ScimUserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as($crate::store::sql::scim_user_by_login!())
                .bind(login)
                .bind(provider)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn explain_scim_user_by_login(
                &self,
                prefix: &str,
                provider: &str,
                login: &str,
            ) -> Result<Vec<String>, $crate::store::StoreError> {
                use sqlx::Row;
                let sql = format!("{prefix}{}", $crate::store::sql::scim_user_by_login!());
                let rows = sqlx::query(&sql)
                    .bind(login)
                    .bind(provider)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .iter()
                    .filter_map(|r| {
                        r.try_get::<String, _>("detail")
                            .or_else(|_| r.try_get::<String, _>("QUERY PLAN"))
                            .ok()
                    })
                    .collect())
            }

            pub async fn scim_users_by_external_id(
                &self,
                provider: &str,
                external_id: &str,
            ) -> Result<Vec<$crate::store::ScimUserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_user_columns!(),
                    " FROM users WHERE scim_provider = $1 AND external_uid = $2 ORDER BY id",
                ))
                .bind(provider)
                .bind(external_id)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn scim_groups_of(
                &self,
                user_id: &str,
            ) -> Result<Vec<(String, String)>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT g.id, g.name FROM user_groups ug JOIN groups g ON g.name = ug.group_name \
                     WHERE ug.user_id = $1 AND ug.source = 'scim' ORDER BY g.name",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn scim_group(
                &self,
                provider: &str,
                id: &str,
            ) -> Result<Option<$crate::store::ScimGroupRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_group_columns!(), " FROM groups WHERE id = $1 AND scim_provider = $2",
                ))
                .bind(id)
                .bind(provider)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn scim_groups_after(
                &self,
                provider: &str,
                after_id: &str,
                limit: i64,
            ) -> Result<Vec<$crate::store::ScimGroupRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_group_columns!(),
                    " FROM groups WHERE scim_provider = $1 AND id > $2 ORDER BY id LIMIT $3",
                ))
                .bind(provider)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn scim_groups_page(
                &self,
                provider: &str,
                limit: i64,
                offset: i64,
            ) -> Result<Vec<$crate::store::ScimGroupRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_group_columns!(),
                    " FROM groups WHERE scim_provider = $1 ORDER BY id LIMIT $2 OFFSET $3",
                ))
                .bind(provider)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn scim_groups_count(&self, provider: &str) -> Result<i64, $crate::store::StoreError> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM groups WHERE scim_provider = $1")
                    .bind(provider)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            pub async fn scim_group_by_name(
                &self,
                provider: &str,
                name: &str,
            ) -> Result<Option<$crate::store::ScimGroupRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_group_columns!(), " FROM groups WHERE name = $1 AND scim_provider = $2",
                ))
                .bind(name)
                .bind(provider)
                .fetch_optional(&self.pool)
                .await?)
            }

            pub async fn scim_members(
                &self,
                group_name: &str,
            ) -> Result<Vec<$crate::store::ScimMemberRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT u.id AS user_id, u.login FROM user_groups ug JOIN users u ON u.id = ug.user_id \
                     WHERE ug.group_name = $1 AND ug.source = 'scim' ORDER BY u.id",
                )
                .bind(group_name)
                .fetch_all(&self.pool)
                .await?)
            }

            pub async fn scim_audit(
                &self,
                resource_id: &str,
                limit: i64,
            ) -> Result<Vec<$crate::store::ScimAuditRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, at, actor, provider, correlation_id, action, resource_type, resource_id, version, changes_json \
                     FROM scim_audit WHERE resource_id = $1 OR $1 = '' ORDER BY id DESC LIMIT $2",
                )
                .bind(resource_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            pub(crate) async fn tx_scim_user(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                provider: &str,
                id: &str,
            ) -> Result<Option<$crate::store::ScimUserRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_user_columns!(), " FROM users WHERE id = $1 AND scim_provider = $2",
                ))
                .bind(id)
                .bind(provider)
                .fetch_optional(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_lock_scim_user(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                provider: &str,
                id: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                // A write to the row, even one changing nothing, holds its lock
                // (PostgreSQL) until the transaction ends.
                let n = sqlx::query("UPDATE users SET version = version WHERE id = $1 AND scim_provider = $2")
                    .bind(id)
                    .bind(provider)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            pub(crate) async fn tx_claim_scim_user(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                id: &str,
                provider: &str,
                scim_json: &str,
                version: i64,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query("UPDATE users SET scim_provider = $2, scim_json = $3, version = $4 WHERE id = $1")
                    .bind(id)
                    .bind(provider)
                    .bind(scim_json)
                    .bind(version)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            pub(crate) async fn tx_update_scim_user(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                w: &$crate::store::ScimUserWrite<'_>,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "UPDATE users SET login = $2, email = $3, name = $4, external_uid = $5, disabled = $6, \
                     scim_json = $7, version = $8, updated_at = $9 WHERE id = $1",
                )
                .bind(w.id)
                .bind(w.login)
                .bind(w.email)
                .bind(w.name)
                .bind(w.external_uid)
                .bind(w.disabled)
                .bind(w.scim_json)
                .bind(w.version)
                .bind(w.at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            pub(crate) async fn tx_release_scim_user(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                id: &str,
                version: i64,
                at: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "UPDATE users SET scim_provider = '', disabled = $2, version = $3, updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(true)
                .bind(version)
                .bind(at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            pub(crate) async fn tx_delete_link(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                provider: &str,
                kind: &str,
                subject: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query("DELETE FROM identity_links WHERE provider = $1 AND kind = $2 AND subject = $3")
                    .bind(provider)
                    .bind(kind)
                    .bind(subject)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            pub(crate) async fn tx_scim_groups_of(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
            ) -> Result<Vec<(String, String)>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT g.id, g.name FROM user_groups ug JOIN groups g ON g.name = ug.group_name \
                     WHERE ug.user_id = $1 AND ug.source = 'scim' ORDER BY g.name",
                )
                .bind(user_id)
                .fetch_all(&mut **tx)
                .await?)
            }

            /// The next group revision, from the one counter all group
            /// writes share (so a version is never reused).
            pub(crate) async fn tx_next_group_revision(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
            ) -> Result<i64, $crate::store::StoreError> {
                let (rev,): (String,) = sqlx::query_as(
                    "INSERT INTO meta (key, value) VALUES ('group_revision', '2') \
                     ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT) \
                     RETURNING value",
                )
                .fetch_one(&mut **tx)
                .await?;
                rev.parse()
                    .map_err(|_| $crate::store::StoreError::Corrupt(format!("meta group_revision is {rev:?}")))
            }

            pub(crate) async fn tx_scim_group(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                provider: &str,
                id: &str,
            ) -> Result<Option<$crate::store::ScimGroupRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ", $crate::store::sql::scim_group_columns!(), " FROM groups WHERE id = $1 AND scim_provider = $2",
                ))
                .bind(id)
                .bind(provider)
                .fetch_optional(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_lock_scim_group(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                provider: &str,
                id: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let n = sqlx::query("UPDATE groups SET version = version WHERE id = $1 AND scim_provider = $2")
                    .bind(id)
                    .bind(provider)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            pub(crate) async fn tx_group_by_name(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                name: &str,
            ) -> Result<Option<(String, String)>, $crate::store::StoreError> {
                Ok(sqlx::query_as("SELECT id, scim_provider FROM groups WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut **tx)
                    .await?)
            }

            pub(crate) async fn tx_insert_scim_group(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                g: &$crate::store::ScimGroupWrite<'_>,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO groups (id, name, description, created_at, updated_at, updated_by, managed_by, version, \
                     scim_provider, external_id) VALUES ($1, $2, '', $3, $3, $4, 'scim', $5, $6, $7)",
                )
                .bind(g.id)
                .bind(g.name)
                .bind(g.at)
                .bind(g.actor)
                .bind(g.version)
                .bind(g.provider)
                .bind(g.external_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            pub(crate) async fn tx_update_scim_group(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                g: &$crate::store::ScimGroupWrite<'_>,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "UPDATE groups SET name = $2, external_id = $3, version = $4, updated_at = $5, updated_by = $6 \
                     WHERE id = $1 AND scim_provider = $7",
                )
                .bind(g.id)
                .bind(g.name)
                .bind(g.external_id)
                .bind(g.version)
                .bind(g.at)
                .bind(g.actor)
                .bind(g.provider)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            pub(crate) async fn tx_delete_scim_group(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                provider: &str,
                id: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                // Memberships of every source go with the group (ON DELETE CASCADE).
                let n = sqlx::query("DELETE FROM groups WHERE id = $1 AND scim_provider = $2")
                    .bind(id)
                    .bind(provider)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            pub(crate) async fn tx_add_scim_member(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
                group_name: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let n = sqlx::query(
                    "INSERT INTO user_groups (user_id, group_name, source) VALUES ($1, $2, 'scim') \
                     ON CONFLICT (user_id, group_name, source) DO NOTHING",
                )
                .bind(user_id)
                .bind(group_name)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            pub(crate) async fn tx_remove_scim_member(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                user_id: &str,
                group_name: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let n = sqlx::query(
                    "DELETE FROM user_groups WHERE user_id = $1 AND group_name = $2 AND source = 'scim'",
                )
                .bind(user_id)
                .bind(group_name)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            pub(crate) async fn tx_scim_members(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                group_name: &str,
            ) -> Result<Vec<$crate::store::ScimMemberRow>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT u.id AS user_id, u.login FROM user_groups ug JOIN users u ON u.id = ug.user_id \
                     WHERE ug.group_name = $1 AND ug.source = 'scim' ORDER BY u.id",
                )
                .bind(group_name)
                .fetch_all(&mut **tx)
                .await?)
            }

            pub(crate) async fn tx_insert_scim_audit(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
                a: &$crate::store::ScimAuditRow,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO scim_audit (at, actor, provider, correlation_id, action, resource_type, resource_id, \
                     version, changes_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&a.at)
                .bind(&a.actor)
                .bind(&a.provider)
                .bind(&a.correlation_id)
                .bind(&a.action)
                .bind(&a.resource_type)
                .bind(&a.resource_id)
                .bind(a.version)
                .bind(&a.changes_json)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use {
    group_columns, scim_group_columns, scim_user_by_login, scim_user_columns, session_columns,
    settings_columns, sql_scim_methods, sql_store_methods, user_columns,
};

/// Names the sqlx database type of a store, for transaction signatures.
pub(crate) trait Backend {
    type Db: sqlx::Database;
    /// The statement that opens a write transaction.
    const BEGIN_WRITE: &'static str;
    /// The names of the groups among `$1`, a JSON array of names, each
    /// found through the primary key. The one statement written per
    /// backend: each has its own function for a JSON array's elements.
    const GROUPS_AMONG: &'static str;
}
