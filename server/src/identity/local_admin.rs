//! The break-glass local administrator: one account that can sign in at
//! `/login?noSSO=true` when every IdP is down or misconfigured. Off unless
//! `server.local_login` is true and a password was set with
//! `ssoplane local-admin set-password`. The password is stored as an argon2id
//! hash (one hash at a time in bounded memory: see [`super::argon`]); failed
//! attempts are throttled.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use ssoplane_schema::saml::LinkExisting;

use super::argon;
use super::provision::ProvisionError;
use super::resolve::{self, LoginRequest};
use super::subject::{LinkKind, Subject};
use super::values::LOCAL_LOGIN_PREFIX;
use crate::store::{GrantRow, Store, StoreError, UserRow};

/// The source name of the break-glass administrator's link and grant.
pub const SOURCE: &str = "local";

const META_KEY: &str = "local_admin";
/// Failed attempts tolerated per window before the login locks for the rest of it.
const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum LocalAdminError {
    #[error("the password must be at least 12 characters")]
    WeakPassword,
    #[error("the username must be 1-64 letters, digits, '-', '_' or '.'")]
    BadUsername,
    #[error("wrong username or password")]
    Denied,
    #[error("too many failed attempts; try again in a minute")]
    Throttled,
    #[error("no local administrator password is set (ssoplane local-admin set-password)")]
    NotSet,
    #[error(transparent)]
    Hash(#[from] argon::HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot sign the local administrator in: {0}")]
    Provision(ProvisionError),
    #[error("stored local administrator is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
}

#[derive(Serialize, Deserialize)]
struct Stored {
    username: String,
    hash: String,
}

pub async fn set_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(), LocalAdminError> {
    if !(1..=64).contains(&username.len())
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(LocalAdminError::BadUsername);
    }
    if password.chars().count() < 12 {
        return Err(LocalAdminError::WeakPassword);
    }
    let hash = argon::hash(password).await?;
    let value = serde_json::to_string(&Stored {
        username: username.to_owned(),
        hash,
    })?;
    store.set_meta(META_KEY, &value).await?;
    Ok(())
}

/// Failed attempts in the current window, shared by every request to this process.
#[derive(Default)]
pub struct Throttle {
    state: Mutex<Option<(Instant, u32)>>,
}

impl Throttle {
    fn blocked(&self) -> bool {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        matches!(*state, Some((start, n)) if start.elapsed() < WINDOW && n >= MAX_FAILURES)
    }

    fn fail(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state = match *state {
            Some((start, n)) if start.elapsed() < WINDOW => Some((start, n + 1)),
            _ => Some((Instant::now(), 1)),
        };
    }
}

/// Checks the credentials and returns the local administrator's user row (created on first use).
pub async fn sign_in(
    store: &Store,
    throttle: &Throttle,
    username: &str,
    password: &str,
) -> Result<UserRow, LocalAdminError> {
    if throttle.blocked() {
        return Err(LocalAdminError::Throttled);
    }
    let stored: Stored = match store.get_meta(META_KEY).await? {
        Some(v) => serde_json::from_str(&v)?,
        None => return Err(LocalAdminError::NotSet),
    };
    // Verify even for a wrong username, so timing does not tell which part was wrong.
    let password_ok = argon::verify(password, &stored.hash).await?;
    if !password_ok || username != stored.username {
        throttle.fail();
        return Err(LocalAdminError::Denied);
    }
    // The same resolution as SAML logins, from the `local` source: found by
    // its link, never by a login some IdP or API client might have taken
    // (they cannot: `local:` logins are reserved), granted admin by `local`
    // alone, its other sources' grants and groups left as they are.
    let login = format!("{LOCAL_LOGIN_PREFIX}{}", stored.username);
    let request = LoginRequest {
        source: SOURCE.to_owned(),
        subjects: vec![Subject {
            kind: LinkKind::Login,
            value: login.clone(),
        }],
        login,
        email: String::new(),
        name: "Local administrator".into(),
        external_uid: String::new(),
        link_existing: LinkExisting::None,
        sign_up: Ok(()),
        grant: GrantRow {
            source: SOURCE.to_owned(),
            role: "admin".into(),
            is_admin: true,
            organizations: Vec::new(),
        },
        groups: None,
    };
    match resolve::resolve(store, &request).await {
        Ok(user) => Ok(user),
        Err(ProvisionError::Disabled(_)) => Err(LocalAdminError::Denied),
        Err(e) => Err(LocalAdminError::Provision(e)),
    }
}
