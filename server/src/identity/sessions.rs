//! Server-side sessions: the browser holds a random 256-bit id, the store
//! holds its SHA-256 with the user, the SAML subject (for single logout) and
//! the idle and absolute deadlines.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::saml::assertion::NameId;
use crate::store::{SessionRow, Store, StoreError, UserRow};

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Creates a session; returns the cookie value. `name_id` is the asserted
/// NameID (empty for sessions no SAML assertion made).
pub async fn create(
    store: &Store,
    user: &UserRow,
    provider: &str,
    name_id: &NameId,
    session_index: &str,
    t: Timeouts,
) -> Result<String, StoreError> {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let now = now_secs();
    store
        .insert_session(&SessionRow {
            id_hash: hash(&token),
            user_id: user.id.clone(),
            provider: provider.to_owned(),
            name_id: name_id.value.clone(),
            name_id_format: name_id.format.clone(),
            name_qualifier: name_id.name_qualifier.clone(),
            sp_name_qualifier: name_id.sp_name_qualifier.clone(),
            sp_provided_id: name_id.sp_provided_id.clone(),
            session_index: session_index.to_owned(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + t.absolute.as_secs() as i64,
        })
        .await?;
    Ok(token)
}

/// The live session and its (enabled) user for a cookie value.
pub async fn lookup(
    store: &Store,
    token: &str,
    t: Timeouts,
) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
    if token.is_empty() || token.len() > 64 {
        return Ok(None);
    }
    let key = hash(token);
    let Some(session) = store.get_session(&key).await? else {
        return Ok(None);
    };
    let now = now_secs();
    if now >= session.expires_at || now - session.last_seen_at >= t.idle.as_secs() as i64 {
        store.delete_session(&key).await?;
        return Ok(None);
    }
    let Some(user) = store.get_user(&session.user_id).await? else {
        return Ok(None);
    };
    if user.disabled {
        return Ok(None);
    }
    // Sliding idle timeout, written at most once a minute per session.
    if now - session.last_seen_at >= 60 {
        store.touch_session(&key, now).await?;
    }
    Ok(Some((session, user)))
}

/// Ends every session of a user at once (sign-out everywhere, a disabled
/// or deprovisioned user): the one way to do it, so every place that must
/// end a user's sessions ends them the same way.
pub async fn end_all_for_user(store: &Store, user_id: &str) -> Result<u64, StoreError> {
    store.delete_sessions_of_user(user_id).await
}
