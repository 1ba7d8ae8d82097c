//! API bearer tokens: `ssp_` + 256 random bits, shown once at creation and
//! stored only as a SHA-256 hash. A fast hash is right here (unlike for
//! passwords): the token is random, so there is nothing to brute-force.
//! Lookups are cached for a few seconds so a GET costs no extra query.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::identity::sessions::Clock;
use crate::store::{Role, Store, StoreError, TokenRow};

pub const PREFIX: &str = "ssp_";
/// Longest a revoked token keeps working on a server that had it cached.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token name must be 1-64 characters: letters, digits, '-', '_', '.'")]
    BadName,
    #[error("a token named {0:?} already exists")]
    Exists(String),
    #[error("a scim token needs --provider: the SAML provider whose users it provisions")]
    ProviderRequired,
    #[error("--provider is for scim tokens only (admin and reader tokens reach every provider)")]
    ProviderNotAllowed,
    #[error("{0}")]
    BadProvider(#[from] ssoplane_schema::slug::InvalidSlug),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The authenticated caller of an API request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    /// The provider a scim token is bound to; empty for other roles.
    pub provider: String,
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Creates an admin or reader token; returns the plaintext, which is never stored.
pub async fn create(store: &Store, name: &str, role: Role) -> Result<String, TokenError> {
    create_bound(store, name, role, "").await
}

/// Creates a token; a scim token is bound to `provider` (a provider slug,
/// which need not be configured yet), other roles take none.
pub async fn create_bound(
    store: &Store,
    name: &str,
    role: Role,
    provider: &str,
) -> Result<String, TokenError> {
    if !valid_name(name) {
        return Err(TokenError::BadName);
    }
    match (role, provider.is_empty()) {
        (Role::Scim, true) => return Err(TokenError::ProviderRequired),
        (Role::Scim, false) => ssoplane_schema::slug::check(provider)?,
        (_, false) => return Err(TokenError::ProviderNotAllowed),
        (_, true) => {}
    }
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
    let row = TokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        created_at: crate::settings::now(),
        revoked_at: None,
        provider: provider.to_owned(),
    };
    match store.insert_token(&row, &hash(&token)).await {
        Ok(()) => Ok(token),
        Err(StoreError::Db(e)) if crate::store::is_unique_violation(&e) => {
            Err(TokenError::Exists(name.to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}

pub struct TokenService {
    store: Store,
    cache: Mutex<HashMap<String, (Caller, Instant)>>,
    /// Ages cache entries (the sessions' clock, so tests can move it).
    clock: Clock,
}

impl TokenService {
    pub fn new(store: Store, clock: Clock) -> Self {
        TokenService {
            store,
            cache: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// The caller a presented token stands for, or None when it is unknown or revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>, StoreError> {
        if !token.starts_with(PREFIX) || token.len() > 128 {
            return Ok(None);
        }
        let key = hash(token);
        if let Ok(cache) = self.cache.lock() {
            if let Some((caller, at)) = cache.get(&key) {
                if self.clock.instant().saturating_duration_since(*at) < CACHE_TTL {
                    return Ok(Some(caller.clone()));
                }
            }
        }
        let Some(row) = self.store.find_token(&key).await? else {
            return Ok(None);
        };
        let Some(role) = Role::parse(&row.role) else {
            return Ok(None);
        };
        let caller = Caller {
            name: row.name,
            role,
            provider: row.provider,
        };
        if let Ok(mut cache) = self.cache.lock() {
            let now = self.clock.instant();
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (_, at)| now.saturating_duration_since(*at) < CACHE_TTL);
            }
            cache.insert(key, (caller.clone(), now));
        }
        Ok(Some(caller))
    }
}
