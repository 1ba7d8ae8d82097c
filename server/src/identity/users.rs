//! Users created ahead of their first login, through the admin API (later
//! SCIM). Their values meet the same rules as asserted ones, and an external
//! uid is linked at once to the one provider named with it, so the first
//! login of that provider asserting it signs the user in — and no other
//! provider's, whatever it asserts. Without an external uid, only a
//! provider's `link_existing_users` can link the user: never silently.

use std::collections::BTreeSet;

use ssoplane_schema::api::CreateUser;
use ssoplane_schema::{slug, FieldError};

use super::subject::LinkKind;
use super::values::{self, ValueKind};
use crate::store::{LinkRow, Store, StoreError, UserRow};

/// Most groups one request may name (as for settings lists).
const MAX_GROUPS: usize = 256;
const MAX_NAME_CHARS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("the login {login:?} already belongs to user {user_id}")]
    LoginTaken { login: String, user_id: String },
    #[error("provider {provider:?} already links external uid {external_uid:?} to user {user_id}")]
    LinkTaken {
        provider: String,
        external_uid: String,
        user_id: String,
    },
    #[error("another request created this login or link at the same time; nothing was written")]
    Raced,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn field(name: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
    }
}

/// Every failing field of the request, in field order.
fn check(req: &CreateUser, existing_groups: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut value = |name: &str, kind: ValueKind, v: &str| {
        if let Err(why) = values::check(kind, v) {
            errors.push(field(name, format!("is refused: {why}")));
        }
    };
    value("login", ValueKind::Login, &req.login);
    if !req.email.is_empty() {
        value("email", ValueKind::Email, &req.email);
    }
    if !req.external_uid.is_empty() {
        value("external_uid", ValueKind::ExternalUid, &req.external_uid);
    }
    if req.name.chars().any(char::is_control) {
        errors.push(field("name", "must not contain control characters"));
    } else if req.name.chars().count() > MAX_NAME_CHARS {
        errors.push(field(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    match (req.external_uid.is_empty(), req.provider.is_empty()) {
        (false, true) => errors.push(field(
            "provider",
            "is required with external_uid: the provider whose assertions carry it",
        )),
        (true, false) => errors.push(field("provider", "is only used with external_uid")),
        (false, false) => {
            if let Err(e) = slug::check(&req.provider) {
                errors.push(field("provider", e.to_string()));
            }
        }
        (true, true) => {}
    }
    if req.groups.len() > MAX_GROUPS {
        errors.push(field(
            "groups",
            format!("must have at most {MAX_GROUPS} items"),
        ));
        return errors;
    }
    let mut seen = BTreeSet::new();
    for (i, g) in req.groups.iter().enumerate() {
        if !seen.insert(g) {
            errors.push(field(format!("groups[{i}]"), "is listed twice"));
        } else if !existing_groups.contains(g) {
            errors.push(field(
                format!("groups[{i}]"),
                "names no group: create it first (PUT /api/v1/groups/{name})",
            ));
        }
    }
    errors
}

/// Creates the user as `source` (`api`) on behalf of `actor` (the token's name).
pub async fn create(
    store: &Store,
    req: &CreateUser,
    source: &str,
    actor: &str,
) -> Result<UserRow, CreateError> {
    let errors = check(req, &store.group_names().await?);
    if !errors.is_empty() {
        return Err(CreateError::Invalid(errors));
    }
    match insert(store, req, source, actor).await {
        Err(CreateError::Store(e)) if e.is_unique_violation() => Err(CreateError::Raced),
        other => other,
    }
}

async fn insert(
    store: &Store,
    req: &CreateUser,
    source: &str,
    actor: &str,
) -> Result<UserRow, CreateError> {
    let mut tx = store.begin_write().await?;
    if let Some(u) = tx.user_by_login(&req.login).await? {
        return Err(CreateError::LoginTaken {
            login: req.login.clone(),
            user_id: u.id,
        });
    }
    let kind = LinkKind::ExternalUid.as_str();
    if !req.external_uid.is_empty() {
        if let Some(u) = tx
            .user_by_link(&req.provider, kind, &req.external_uid)
            .await?
        {
            return Err(CreateError::LinkTaken {
                provider: req.provider.clone(),
                external_uid: req.external_uid.clone(),
                user_id: u.id,
            });
        }
    }
    let now = crate::settings::now();
    let user = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        login: req.login.clone(),
        email: req.email.clone(),
        name: req.name.clone(),
        external_uid: req.external_uid.clone(),
        provider: source.to_owned(),
        // No grant until a source grants one: the API grants groups only.
        role: "none".into(),
        is_admin: false,
        disabled: false,
        created_at: now.clone(),
        updated_at: now.clone(),
        last_login_at: None,
        organizations: Vec::new(),
        created_by: actor.to_owned(),
    };
    tx.insert_user(&user).await?;
    tx.set_groups(&user.id, source, &req.groups).await?;
    if !req.external_uid.is_empty() {
        tx.insert_link(&LinkRow {
            provider: req.provider.clone(),
            kind: kind.to_owned(),
            subject: req.external_uid.clone(),
            user_id: user.id.clone(),
            created_at: now,
        })
        .await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// Disables or enables a user; disabling ends their sessions at once.
/// Returns the updated user, or None when there is no such user.
pub async fn set_disabled(
    store: &Store,
    id: &str,
    disabled: bool,
) -> Result<Option<UserRow>, StoreError> {
    if !store
        .set_user_disabled(id, disabled, &crate::settings::now())
        .await?
    {
        return Ok(None);
    }
    if disabled {
        super::sessions::end_all_for_user(store, id).await?;
    }
    store.get_user(id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(req: &CreateUser) -> Vec<String> {
        check(req, &["eng".to_owned()])
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn every_failing_field_is_named() {
        let ok = CreateUser {
            login: "grace".into(),
            email: "grace@corp.example".into(),
            external_uid: "oid-7".into(),
            provider: "okta".into(),
            groups: vec!["eng".into()],
            ..CreateUser::default()
        };
        assert!(fields(&ok).is_empty());
        let bad = CreateUser {
            login: "grace\u{3000}".into(),
            email: "grace".into(),
            name: "\u{1b}[31m".into(),
            external_uid: "\u{feff}oid".into(),
            provider: "scim".into(),
            groups: vec!["eng".into(), "eng".into(), "ops".into()],
        };
        assert_eq!(
            fields(&bad),
            [
                "login",
                "email",
                "external_uid",
                "name",
                "provider",
                "groups[1]",
                "groups[2]"
            ]
        );
        let lone_provider = CreateUser {
            login: "grace".into(),
            provider: "okta".into(),
            ..CreateUser::default()
        };
        assert_eq!(fields(&lone_provider), ["provider"]);
        let many = CreateUser {
            login: "grace".into(),
            groups: vec!["eng".into(); MAX_GROUPS + 1],
            ..CreateUser::default()
        };
        assert_eq!(fields(&many), ["groups"]);
    }
}
