//! Server-side sessions: the browser holds a random 256-bit id, the store
//! holds its SHA-256 with the user, the SAML subject (for single logout) and
//! the idle and absolute deadlines. Forward auth ([`Sessions::verify`]) is
//! answered from the session cache when it can be; the idle timeout slides
//! without a write per request: a session's last use reaches the store at
//! most once a minute, in batches written in the background.
//!
//! Sessions begin in one place, [`Sessions::issue`] (a SAML login, the
//! break-glass login), and end in one place: [`Sessions::end`],
//! [`Sessions::end_of_subject`] (single logout), [`end_all_for_user`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::session_cache::{Key, Principal, SessionCache};
use super::subject::NameId;
use crate::store::{OrgMembership, SessionRow, Store, StoreError, UserRow};
use crate::web::cookies;

/// A session's last use is written at most this often.
pub const TOUCH_EVERY_SECS: i64 = 60;
/// How often queued last-use times are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
}

/// How large the session cache may grow.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    pub entries: usize,
    pub bytes: usize,
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The server's time: the system's, or for tests a hand-moved one that
/// stands still ([`Clock::manual`]) or the system's moved forward by hand
/// ([`Clock::shifted`]). Only Rust code can make a test clock (no setting or
/// request does), so a release build always runs on the system's.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    test: Option<Arc<TestTime>>,
}

#[derive(Debug)]
struct TestTime {
    /// Where a manual clock stands before any advance; None: the system's time.
    start: Option<i64>,
    /// Seconds moved forward by [`Clock::advance`].
    advanced: AtomicI64,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands at `start` until [`Clock::advance`]d.
    pub fn manual(start: i64) -> Clock {
        Clock::test(Some(start))
    }

    /// The system's time plus however far [`Clock::advance`] moved it: for
    /// tests that run against real parts (an IdP signing with the real time)
    /// and need time to pass without waiting for it.
    pub fn shifted() -> Clock {
        Clock::test(None)
    }

    fn test(start: Option<i64>) -> Clock {
        Clock {
            test: Some(Arc::new(TestTime {
                start,
                advanced: AtomicI64::new(0),
            })),
        }
    }

    fn advanced(&self) -> i64 {
        self.test
            .as_ref()
            .map_or(0, |t| t.advanced.load(Ordering::Relaxed))
    }

    /// Unix time in seconds.
    pub fn now(&self) -> i64 {
        match self.test.as_ref().and_then(|t| t.start) {
            Some(start) => start + self.advanced(),
            None => now_secs() + self.advanced(),
        }
    }

    /// The time to the sub-second (whole seconds on a manual clock).
    pub fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        match self.test.as_ref().and_then(|t| t.start) {
            Some(_) => chrono::DateTime::from_timestamp(self.now(), 0).unwrap_or_default(),
            None => chrono::Utc::now() + chrono::Duration::seconds(self.advanced()),
        }
    }

    /// A monotonic instant for measuring ages (caches), moved forward with
    /// the clock.
    pub fn instant(&self) -> std::time::Instant {
        std::time::Instant::now() + Duration::from_secs(self.advanced().max(0) as u64)
    }

    /// Moves a test clock on (no effect on the system clock).
    pub fn advance(&self, secs: i64) {
        if let Some(t) = &self.test {
            t.advanced.fetch_add(secs, Ordering::Relaxed);
        }
    }
}

/// THE way to end every session of a user (a user disabled or deprovisioned,
/// by the API or SCIM): deleted from the store, and every replica's session
/// cache told, within the bound of [`crate::store::notify`]. Returns how many
/// sessions ended.
pub async fn end_all_for_user(store: &Store, user_id: &str) -> Result<u64, StoreError> {
    store.delete_user_sessions(user_id).await
}

/// Names and groups may be UTF-8: sent as the raw bytes (RFC 9110 obs-text),
/// which proxies pass through; control characters still blank the value.
pub fn header_value(v: &str) -> HeaderValue {
    HeaderValue::from_bytes(v.as_bytes()).unwrap_or(HeaderValue::from_static(""))
}

/// `name:role` pairs, comma-separated; `%`, `,` and `:` in names escaped.
pub fn orgs_header(orgs: &[OrgMembership]) -> String {
    orgs.iter()
        .map(|o| {
            let name = o
                .name
                .replace('%', "%25")
                .replace(',', "%2C")
                .replace(':', "%3A");
            format!("{name}:{}", o.role)
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn principal(user: &UserRow, groups: &[String]) -> Principal {
    Principal::new(
        user.id.clone(),
        header_value(&user.login),
        header_value(&user.email),
        header_value(&groups.join(",")),
        header_value(&user.role),
        header_value(&orgs_header(&user.organizations)),
    )
}

impl SessionRow {
    /// The NameID this session was created for, as the IdP asserted it.
    pub fn name_id(&self) -> NameId {
        NameId {
            value: self.name_id.clone(),
            format: self.name_id_format.clone(),
            name_qualifier: self.name_qualifier.clone(),
            sp_name_qualifier: self.sp_name_qualifier.clone(),
            sp_provided_id: self.sp_provided_id.clone(),
        }
    }
}

pub struct Sessions {
    store: Store,
    cache: Arc<SessionCache>,
    pub timeouts: Timeouts,
    clock: Clock,
    /// Last uses waiting to be written: id hash -> time.
    touches: Mutex<HashMap<String, i64>>,
    max_touches: usize,
}

impl Sessions {
    pub fn new(store: Store, timeouts: Timeouts, limits: CacheLimits, clock: Clock) -> Sessions {
        let cache = SessionCache::new(store.bus(), limits.entries, limits.bytes);
        Sessions {
            store,
            cache,
            timeouts,
            clock,
            touches: Mutex::default(),
            max_touches: limits.entries.max(1024),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn cache(&self) -> &SessionCache {
        &self.cache
    }

    /// Signs `user` in: creates the session and returns the `Set-Cookie`
    /// that gives the browser its id (`HttpOnly`, `SameSite=Lax`, `Secure`
    /// when `secure`, kept as long as the absolute timeout). `name_id` and
    /// `session_index` are the assertion's, for single logout (empty when no
    /// SAML assertion made the session).
    pub async fn issue(
        &self,
        user: &UserRow,
        provider: &str,
        name_id: &NameId,
        session_index: &str,
        secure: bool,
    ) -> Result<HeaderValue, StoreError> {
        let token = self.create(user, provider, name_id, session_index).await?;
        Ok(self.cookie(&token, secure))
    }

    /// The session cookie carrying `token`, for as long as a session lives.
    pub fn cookie(&self, token: &str, secure: bool) -> HeaderValue {
        let max_age = i64::try_from(self.timeouts.absolute.as_secs()).unwrap_or(i64::MAX);
        cookies::set(
            cookies::SESSION,
            token,
            max_age,
            secure,
            cookies::SameSite::Lax,
        )
    }

    /// Creates a session; returns the cookie value ([`Sessions::issue`] wraps
    /// it in the cookie). `name_id` is the asserted NameID (empty for
    /// sessions no SAML assertion made).
    pub async fn create(
        &self,
        user: &UserRow,
        provider: &str,
        name_id: &NameId,
        session_index: &str,
    ) -> Result<String, StoreError> {
        let (token, row) = self.new_session(user, provider, name_id, session_index);
        self.store.insert_session(&row).await?;
        Ok(token)
    }

    /// A new session's cookie value and the row to store for it (the ACS
    /// stores it in the login's own transaction).
    pub fn new_session(
        &self,
        user: &UserRow,
        provider: &str,
        name_id: &NameId,
        session_index: &str,
    ) -> (String, SessionRow) {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        let now = self.clock.now();
        let row = SessionRow {
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
            expires_at: now + self.timeouts.absolute.as_secs() as i64,
        };
        (token, row)
    }

    fn key(token: &str) -> Option<Key> {
        if token.is_empty() || token.len() > 64 {
            return None;
        }
        Some(Sha256::digest(token.as_bytes()).into())
    }

    fn alive(&self, expires_at: i64, last_seen: i64, now: i64) -> bool {
        now < expires_at && now - last_seen < self.timeouts.idle.as_secs() as i64
    }

    /// Forward auth: what to answer for a cookie value, or None when it
    /// names no live session of an enabled user.
    pub async fn verify(&self, token: &str) -> Result<Option<Arc<Principal>>, StoreError> {
        let Some(key) = Self::key(token) else {
            return Ok(None);
        };
        let now = self.clock.now();
        let usable = self.cache.usable();
        if usable {
            if let Some(e) = self.cache.get(&key) {
                // Expired here may still be alive in the store (another
                // replica's use): the store decides below.
                if self.alive(e.expires_at, e.last_seen(), now) {
                    if e.seen(now) {
                        self.touch(hex::encode(key), now).await?;
                    }
                    return Ok(Some(Arc::clone(&e.principal)));
                }
            }
        }
        let epoch = self.cache.epoch();
        let hex_key = hex::encode(key);
        let Some(found) = self.store.session_with_user(&hex_key).await? else {
            return Ok(None);
        };
        let Some((session, user)) = self.check(&hex_key, found.session, found.user, now).await?
        else {
            return Ok(None);
        };
        let groups = found.groups;
        let p = principal(&user, &groups);
        if usable {
            let last_seen = self.last_seen(&hex_key, session.last_seen_at);
            self.cache
                .insert(key, p, session.expires_at, last_seen, epoch);
            if let Some(e) = self.cache.get(&key) {
                return Ok(Some(Arc::clone(&e.principal)));
            }
        }
        Ok(Some(Arc::new(principal(&user, &groups))))
    }

    /// The live session and its (enabled) user for a cookie value, read
    /// from the store.
    pub async fn lookup(&self, token: &str) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let Some(key) = Self::key(token) else {
            return Ok(None);
        };
        self.load(&hex::encode(key), self.clock.now()).await
    }

    fn last_seen(&self, hex_key: &str, stored: i64) -> i64 {
        let queued = self
            .touches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(hex_key)
            .copied()
            .unwrap_or(0);
        stored.max(queued)
    }

    /// Session and user from the store, with the deadlines checked (an
    /// expired session is deleted) and the last use queued when due.
    async fn load(
        &self,
        hex_key: &str,
        now: i64,
    ) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let Some(session) = self.store.get_session(hex_key).await? else {
            return Ok(None);
        };
        let user = self.store.get_user(&session.user_id).await?;
        self.check(hex_key, session, user, now).await
    }

    /// The deadlines and the user's state of a stored session: an expired
    /// session is deleted, and the last use is queued when due.
    async fn check(
        &self,
        hex_key: &str,
        session: SessionRow,
        user: Option<UserRow>,
        now: i64,
    ) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let last_seen = self.last_seen(hex_key, session.last_seen_at);
        if !self.alive(session.expires_at, last_seen, now) {
            self.store.delete_session(hex_key).await?;
            return Ok(None);
        }
        let Some(user) = user else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        if now - last_seen >= TOUCH_EVERY_SECS {
            self.touch(hex_key.to_owned(), now).await?;
        }
        Ok(Some((session, user)))
    }

    /// Queues a session's last use for the next flush; written at once when
    /// the queue is full.
    async fn touch(&self, hex_key: String, at: i64) -> Result<(), StoreError> {
        {
            let mut t = self
                .touches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if t.len() < self.max_touches || t.contains_key(&hex_key) {
                let v = t.entry(hex_key).or_insert(at);
                *v = (*v).max(at);
                return Ok(());
            }
        }
        self.store.touch_sessions(&[(hex_key, at)]).await
    }

    /// Writes the queued last uses (every [`FLUSH_EVERY`], and at shutdown).
    pub async fn flush_touches(&self) -> Result<usize, StoreError> {
        let batch: Vec<(String, i64)> = std::mem::take(
            &mut *self
                .touches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_iter()
        .collect();
        if batch.is_empty() {
            return Ok(0);
        }
        // Bounded statements per transaction, so one flush never holds the
        // SQLite write lock for long.
        for chunk in batch.chunks(500) {
            self.store.touch_sessions(chunk).await?;
        }
        Ok(batch.len())
    }

    /// Single logout: ends the sessions of `provider`'s subject `name_id`
    /// whose SessionIndex is in `session_indexes` (all of its sessions when
    /// the list is empty), here and on every replica. Returns how many ended.
    pub async fn end_of_subject(
        &self,
        provider: &str,
        name_id: &str,
        session_indexes: &[String],
    ) -> Result<u64, StoreError> {
        self.store
            .delete_sessions_of(provider, name_id, session_indexes)
            .await
    }

    /// Ends the session named by a cookie value, here and on every replica.
    pub async fn end(&self, token: &str) -> Result<(), StoreError> {
        let Some(key) = Self::key(token) else {
            return Ok(());
        };
        let hex_key = hex::encode(key);
        self.touches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&hex_key);
        self.store.delete_session(&hex_key).await
    }
}
