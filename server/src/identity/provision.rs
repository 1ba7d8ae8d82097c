//! Users from logins: created on first login when `allow_sign_up`, updated on
//! every login, their groups synced into groups that already exist (logins
//! never create groups), `default_group` joined by new users.

use ssoplane_schema::SamlSettings;

use super::attributes::Identity;
use super::authorize::{same, Decision};
use crate::store::{Store, StoreError, UserRow};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("user {0:?} does not exist and sign-up is disabled for this provider")]
    SignUpDisabled(String),
    #[error(
        "user {0:?} is in no group that exists here, and prohibit_sign_up_if_not_in_group is on"
    )]
    NoExistingGroup(String),
    #[error("default_group {0:?} does not exist: create it (PUT /api/v1/groups/...) or change default_group")]
    MissingDefaultGroup(String),
    #[error("user {0:?} is disabled")]
    Disabled(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn provision(
    store: &Store,
    s: &SamlSettings,
    provider: &str,
    id: &Identity,
    decision: &Decision,
) -> Result<UserRow, ProvisionError> {
    // Names only (no member counts): this runs on every login.
    let existing_groups = store.group_names().await?;
    let mut groups: Vec<String> = existing_groups
        .iter()
        .filter(|g| id.groups.iter().any(|claimed| same(s, claimed, g)))
        .cloned()
        .collect();
    let now = crate::settings::now();
    if let Some(mut user) = store.find_user_by_login(&id.login).await? {
        if user.disabled {
            return Err(ProvisionError::Disabled(id.login.clone()));
        }
        if !s.default_group.is_empty() && existing_groups.contains(&s.default_group) {
            groups.push(s.default_group.clone());
        }
        groups.sort();
        groups.dedup();
        user.email = id.email.clone();
        user.name = id.name.clone();
        user.external_uid = id.external_uid.clone();
        user.provider = provider.to_owned();
        user.role = decision.role.clone();
        user.is_admin = decision.is_admin;
        user.updated_at = now.clone();
        user.last_login_at = Some(now);
        user.organizations = decision.organizations.clone();
        store.update_user_login(&user, &groups).await?;
        return Ok(user);
    }
    if !s.allow_sign_up {
        return Err(ProvisionError::SignUpDisabled(id.login.clone()));
    }
    if s.prohibit_sign_up_if_not_in_group && groups.is_empty() {
        return Err(ProvisionError::NoExistingGroup(id.login.clone()));
    }
    if !s.default_group.is_empty() {
        if !existing_groups.contains(&s.default_group) {
            return Err(ProvisionError::MissingDefaultGroup(s.default_group.clone()));
        }
        groups.push(s.default_group.clone());
    }
    groups.sort();
    groups.dedup();
    let user = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        login: id.login.clone(),
        email: id.email.clone(),
        name: id.name.clone(),
        external_uid: id.external_uid.clone(),
        provider: provider.to_owned(),
        role: decision.role.clone(),
        is_admin: decision.is_admin,
        disabled: false,
        created_at: now.clone(),
        updated_at: now.clone(),
        last_login_at: Some(now),
        organizations: decision.organizations.clone(),
    };
    store.insert_user(&user, &groups).await?;
    Ok(user)
}
