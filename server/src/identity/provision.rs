//! Users from SAML logins: the request a verified identity makes (its
//! subjects, this provider's grant from the authorization decision, its
//! groups matched to groups that already exist — logins never create groups
//! — and `default_group`), resolved to a user by [`super::resolve`].

use std::borrow::Cow;
use std::collections::HashSet;

use ssoplane_schema::SamlSettings;

use super::attributes::Identity;
use super::authorize::{group_key, Decision};
use super::resolve::{self, LoginRequest};
use super::subject;
use crate::store::{GrantRow, StoreError, Tx, UserRow};

/// Why an identity collision was refused; worded for the administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollisionReason {
    /// The user has no identity from this provider.
    NotLinked,
    /// The user is linked to a different identity from this provider.
    LinkedToOther,
    /// Several users have this email.
    Shared,
}

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
    #[error("{}", collision_message(provider, what, value, user_id, *reason))]
    Collision {
        provider: String,
        /// `login` or `email`: which asserted value is taken.
        what: &'static str,
        value: String,
        user_id: String,
        reason: CollisionReason,
    },
    #[error("user {0} was deleted while signing in")]
    Vanished(String),
    #[error("the identity offers no subject to link")]
    NoSubject,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ProvisionError {
    /// A concurrent login may have caused this: worth one more resolution.
    pub fn may_be_a_race(&self) -> bool {
        match self {
            ProvisionError::Store(e) => e.is_unique_violation(),
            ProvisionError::Collision { .. } | ProvisionError::Vanished(_) => true,
            _ => false,
        }
    }
}

fn collision_message(
    provider: &str,
    what: &str,
    value: &str,
    user_id: &str,
    reason: CollisionReason,
) -> String {
    let head = format!(
        "the {what} {value:?} asserted by provider {provider:?} already belongs to user {user_id}"
    );
    match reason {
        CollisionReason::NotLinked => format!(
            "{head}, who has no identity from {provider:?}; nothing was changed. If this IdP may \
             vouch for that user, set link_existing_users = \"by_{what}\" on {provider:?}"
        ),
        CollisionReason::LinkedToOther => format!(
            "{head}, who is linked to another identity from {provider:?} (a reused {what}?); \
             nothing was changed"
        ),
        CollisionReason::Shared => format!(
            "{head} and to other users, so link_existing_users cannot choose one; nothing was changed"
        ),
    }
}

/// Why a login may not create a user; checked only when no user is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUpRefusal {
    Disabled,
    NoExistingGroup,
    MissingDefaultGroup(String),
}

impl SignUpRefusal {
    pub fn to_error(&self, login: &str) -> ProvisionError {
        match self {
            SignUpRefusal::Disabled => ProvisionError::SignUpDisabled(login.to_owned()),
            SignUpRefusal::NoExistingGroup => ProvisionError::NoExistingGroup(login.to_owned()),
            SignUpRefusal::MissingDefaultGroup(g) => ProvisionError::MissingDefaultGroup(g.clone()),
        }
    }
}

/// Provisions the user a verified identity names, in the login's write
/// transaction `tx` (the ACS commits it with the session; a rollback leaves
/// no trace of the login). The groups are matched against those that exist
/// as `tx` sees them.
pub async fn provision(
    tx: &mut Tx,
    s: &SamlSettings,
    provider: &str,
    id: &Identity,
    decision: &Decision,
) -> Result<UserRow, ProvisionError> {
    let existing_groups = if s.groups_case_sensitive {
        // Only the groups the login names, each by its key: a login costs
        // the same with ten groups stored or a hundred thousand.
        let mut named = id.groups.clone();
        if !s.default_group.is_empty() {
            named.push(s.default_group.clone());
        }
        tx.groups_among(&named).await?
    } else {
        // Case-insensitive names have no index to find them by (the stores
        // fold case differently from each other and from Rust): every
        // name, matched below in one pass.
        tx.group_names().await?
    };
    resolve::resolve_in(tx, &request(s, provider, id, decision, &existing_groups)).await
}

/// What a login asks of the resolution, with the claimed groups matched to
/// `existing_groups`.
fn request(
    s: &SamlSettings,
    provider: &str,
    id: &Identity,
    decision: &Decision,
    existing_groups: &[String],
) -> LoginRequest {
    // One pass over each list: a set of the claimed names' keys, then every
    // existing group looked up in it (not every pair compared).
    let claimed: HashSet<Cow<'_, str>> = id.groups.iter().map(|g| group_key(s, g)).collect();
    let mut groups: Vec<String> = existing_groups
        .iter()
        .filter(|g| claimed.contains(&group_key(s, g)))
        .cloned()
        .collect();
    let default_exists = existing_groups.contains(&s.default_group);
    let sign_up = if !s.allow_sign_up {
        Err(SignUpRefusal::Disabled)
    } else if s.prohibit_sign_up_if_not_in_group && groups.is_empty() {
        Err(SignUpRefusal::NoExistingGroup)
    } else if !s.default_group.is_empty() && !default_exists {
        Err(SignUpRefusal::MissingDefaultGroup(s.default_group.clone()))
    } else {
        Ok(())
    };
    if !s.default_group.is_empty() && default_exists {
        groups.push(s.default_group.clone());
    }
    groups.sort();
    groups.dedup();
    LoginRequest {
        source: provider.to_owned(),
        subjects: subject::subjects(id),
        login: id.login.clone(),
        email: id.email.clone(),
        name: id.name.clone(),
        external_uid: id.external_uid.clone(),
        link_existing: s.link_existing_users,
        sign_up,
        grant: GrantRow {
            source: provider.to_owned(),
            role: decision.role.clone(),
            is_admin: decision.is_admin,
            organizations: decision.organizations.clone(),
        },
        groups: Some(groups),
    }
}
