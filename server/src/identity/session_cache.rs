//! The in-process session cache behind forward auth: by the SHA-256 of the
//! session cookie, what `/auth/verify` answers (the user's forward-auth
//! headers) and the session's deadlines. Bounded in entries and bytes.
//!
//! It never answers for a session that ended: every write that ends a
//! session or changes what forward auth says about a user publishes a
//! notice ([`crate::store::notify`]) that reaches this cache before the
//! write's caller returns (this replica) or within the bus's stated bound
//! (other replicas), and the cache is not consulted while the bus is not
//! trusted. An entry loaded from the store is inserted only if no notice
//! arrived since the load began (the epoch), so a load racing a change
//! cannot put the old state back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use axum::http::HeaderValue;

use crate::store::notify::{Bus, Notice, Subscription};

/// SHA-256 of a session cookie value.
pub type Key = [u8; 32];

/// What forward auth answers for a user, as ready-made header values.
#[derive(Debug)]
pub struct Principal {
    pub user_id: String,
    pub login: HeaderValue,
    pub email: HeaderValue,
    pub groups: HeaderValue,
    pub role: HeaderValue,
    pub orgs: HeaderValue,
    /// Set when a notice says the user changed: every session pointing
    /// here is reloaded from the store.
    stale: AtomicBool,
}

impl Principal {
    pub fn new(
        user_id: String,
        login: HeaderValue,
        email: HeaderValue,
        groups: HeaderValue,
        role: HeaderValue,
        orgs: HeaderValue,
    ) -> Principal {
        Principal {
            user_id,
            login,
            email,
            groups,
            role,
            orgs,
            stale: AtomicBool::new(false),
        }
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Principal>()
            + self.user_id.len()
            + [
                &self.login,
                &self.email,
                &self.groups,
                &self.role,
                &self.orgs,
            ]
            .iter()
            .map(|h| h.len() + 32)
            .sum::<usize>()
    }
}

/// One cached session.
#[derive(Debug)]
pub struct Entry {
    pub principal: Arc<Principal>,
    /// Absolute expiry (unix seconds).
    pub expires_at: i64,
    /// Latest use known here (stored, or served by this replica).
    last_seen: AtomicI64,
    /// Latest use written to the store, or queued to be.
    stored_seen: AtomicI64,
    bytes: usize,
}

impl Entry {
    pub fn last_seen(&self) -> i64 {
        self.last_seen.load(Ordering::Relaxed)
    }

    /// Records a use at `now`; true when the store should hear of it (its
    /// last use is a minute old or more), claimed by this caller only.
    pub fn seen(&self, now: i64) -> bool {
        if self.last_seen.load(Ordering::Relaxed) < now {
            self.last_seen.fetch_max(now, Ordering::Relaxed);
        }
        let stored = self.stored_seen.load(Ordering::Relaxed);
        now - stored >= super::sessions::TOUCH_EVERY_SECS
            && self
                .stored_seen
                .compare_exchange(stored, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<Key, Arc<Entry>>,
    /// The live principal of each cached user, to mark stale by user id.
    users: HashMap<String, Weak<Principal>>,
    bytes: usize,
}

pub struct SessionCache {
    inner: RwLock<Inner>,
    /// Bumped by every notice; see the module header.
    epoch: AtomicU64,
    max_entries: usize,
    max_bytes: usize,
    bus: Arc<Bus>,
    subscription: std::sync::Mutex<Option<Subscription>>,
}

impl SessionCache {
    /// A cache of at most `max_entries` sessions and about `max_bytes`,
    /// kept current by `bus`.
    pub fn new(bus: &Arc<Bus>, max_entries: usize, max_bytes: usize) -> Arc<SessionCache> {
        let cache = Arc::new(SessionCache {
            inner: RwLock::default(),
            epoch: AtomicU64::new(0),
            max_entries,
            max_bytes,
            bus: Arc::clone(bus),
            subscription: std::sync::Mutex::new(None),
        });
        let weak = Arc::downgrade(&cache);
        let subscription = bus.subscribe(move |n| {
            if let Some(cache) = weak.upgrade() {
                cache.apply(n);
            }
        });
        *cache
            .subscription
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(subscription);
        cache
    }

    /// Whether the cache may be used now (the bus is current).
    pub fn usable(&self) -> bool {
        self.max_entries > 0 && self.bus.trusted()
    }

    /// The cached session, unless absent or its user changed.
    pub fn get(&self, key: &Key) -> Option<Arc<Entry>> {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = inner.sessions.get(key)?;
        if e.principal.stale.load(Ordering::Acquire) {
            return None;
        }
        Some(Arc::clone(e))
    }

    /// Take this before reading the store for [`SessionCache::insert`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches a session read from the store since `epoch`; nothing happens
    /// when a notice arrived meanwhile (the read may predate it).
    pub fn insert(
        &self,
        key: Key,
        principal: Principal,
        expires_at: i64,
        last_seen: i64,
        epoch: u64,
    ) {
        if self.max_entries == 0 {
            return;
        }
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        // Sessions of one user share one principal.
        let principal = match inner.users.get(&principal.user_id).and_then(Weak::upgrade) {
            Some(p) if !p.stale.load(Ordering::Acquire) && same(&p, &principal) => p,
            previous => {
                // A principal no longer in `users` could not be reached by
                // the user's notices: the sessions still on it reload.
                if let Some(old) = previous {
                    old.stale.store(true, Ordering::Release);
                }
                let p = Arc::new(principal);
                inner.users.insert(p.user_id.clone(), Arc::downgrade(&p));
                p
            }
        };
        let bytes = std::mem::size_of::<Entry>() + 64 + principal.bytes();
        if bytes > self.max_bytes {
            return;
        }
        // One round may free less than the newcomer needs (entries differ
        // in size), so evict until it fits: the bounds are hard.
        while !inner.sessions.is_empty()
            && (inner.sessions.len() >= self.max_entries || inner.bytes + bytes > self.max_bytes)
        {
            evict(&mut inner);
        }
        inner.bytes += bytes;
        let entry = Arc::new(Entry {
            principal,
            expires_at,
            last_seen: AtomicI64::new(last_seen),
            stored_seen: AtomicI64::new(last_seen),
            bytes,
        });
        if let Some(old) = inner.sessions.insert(key, entry) {
            inner.bytes -= old.bytes;
        }
        metrics::gauge!("ssoplane_session_cache_entries").set(inner.sessions.len() as f64);
    }

    pub fn remove(&self, key: &Key) {
        self.bump();
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = inner.sessions.remove(key) {
            inner.bytes -= old.bytes;
        }
    }

    fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    fn apply(&self, notice: &Notice) {
        match notice {
            Notice::SessionEnded(hex_key) => {
                let mut key = [0u8; 32];
                if hex::decode_to_slice(hex_key, &mut key).is_ok() {
                    self.remove(&key);
                } else {
                    self.clear();
                }
            }
            Notice::UserChanged(user_id) => {
                self.bump();
                let mut inner = self
                    .inner
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some(p) = inner.users.remove(user_id).and_then(|w| w.upgrade()) {
                    p.stale.store(true, Ordering::Release);
                }
            }
            Notice::AllSessions | Notice::Lost => self.clear(),
            Notice::Settings { .. } => {}
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        self.bump();
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for p in inner.users.values().filter_map(Weak::upgrade) {
            p.stale.store(true, Ordering::Release);
        }
        *inner = Inner::default();
    }

    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .sessions
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn same(a: &Principal, b: &Principal) -> bool {
    a.login == b.login
        && a.email == b.email
        && a.groups == b.groups
        && a.role == b.role
        && a.orgs == b.orgs
}

/// Makes room: drops about a sixteenth of the sessions, in the map's
/// (randomly seeded) order, and the users no session points to any more. A
/// dropped session is only read from the store again.
fn evict(inner: &mut Inner) {
    let n = (inner.sessions.len() / 16).max(1);
    let victims: Vec<Key> = inner.sessions.keys().take(n).copied().collect();
    for k in victims {
        if let Some(old) = inner.sessions.remove(&k) {
            inner.bytes -= old.bytes;
        }
    }
    inner.users.retain(|_, w| w.strong_count() > 0);
    metrics::counter!("ssoplane_session_cache_evictions_total").increment(n as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(user: &str, role: &'static str) -> Principal {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        Principal::new(
            user.into(),
            h(user),
            h("e@x"),
            h("g"),
            HeaderValue::from_static(role),
            h(""),
        )
    }

    #[test]
    fn notices_end_sessions_and_users() {
        let bus = Arc::new(Bus::local());
        let c = SessionCache::new(&bus, 100, 1 << 20);
        let (k1, k2, k3) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        for k in [k1, k2] {
            c.insert(k, principal("ada", "Admin"), 100, 0, c.epoch());
        }
        c.insert(k3, principal("bob", "Viewer"), 100, 0, c.epoch());
        assert!(Arc::ptr_eq(
            &c.get(&k1).unwrap().principal,
            &c.get(&k2).unwrap().principal
        ));
        bus.publish(&Notice::SessionEnded(hex::encode(k1)));
        assert!(c.get(&k1).is_none());
        assert!(c.get(&k2).is_some());
        bus.publish(&Notice::UserChanged("ada".into()));
        assert!(
            c.get(&k2).is_none(),
            "every session of a changed user is reloaded"
        );
        assert!(c.get(&k3).is_some());
        bus.publish(&Notice::Lost);
        assert!(c.is_empty());
    }

    #[test]
    fn a_load_racing_a_notice_is_not_cached() {
        let bus = Arc::new(Bus::local());
        let c = SessionCache::new(&bus, 100, 1 << 20);
        let before = c.epoch();
        // The user is disabled while a request is reading the store...
        bus.publish(&Notice::UserChanged("ada".into()));
        // ...and that request's (older) reading must not be cached.
        c.insert([1; 32], principal("ada", "Admin"), 100, 0, before);
        assert!(c.get(&[1; 32]).is_none());
        c.insert([1; 32], principal("ada", "Admin"), 100, 0, c.epoch());
        assert!(c.get(&[1; 32]).is_some());
    }

    #[test]
    fn bounded_in_entries_and_bytes() {
        let bus = Arc::new(Bus::local());
        let c = SessionCache::new(&bus, 64, 1 << 30);
        for i in 0..10_000u32 {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&i.to_le_bytes());
            c.insert(k, principal(&format!("u{i}"), "Viewer"), 100, 0, c.epoch());
            assert!(c.len() <= 64);
        }
        let one = std::mem::size_of::<Entry>() + 64 + principal("u1", "Viewer").bytes();
        let c = SessionCache::new(&bus, 1_000_000, one * 10);
        for i in 0..10_000u32 {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&i.to_le_bytes());
            c.insert(k, principal(&format!("u{i}"), "Viewer"), 100, 0, c.epoch());
            assert!(c.len() <= 10);
            let inner = c.inner.read().unwrap();
            assert!(inner.bytes <= one * 10, "the byte bound is hard");
            assert!(
                inner.users.len() <= 2 * 10 + 1,
                "dead users are dropped too"
            );
        }
    }

    #[test]
    fn an_entry_over_the_byte_budget_is_not_cached() {
        let bus = Arc::new(Bus::local());
        let c = SessionCache::new(&bus, 100, 64);
        c.insert([1; 32], principal("ada", "Admin"), 100, 0, c.epoch());
        assert!(c.is_empty());
    }

    #[test]
    fn untrusted_bus_means_unusable_and_touches_are_claimed_once() {
        let bus = Arc::new(Bus::replicated());
        let c = SessionCache::new(&bus, 10, 1 << 20);
        assert!(!c.usable());
        c.insert([1; 32], principal("ada", "Admin"), 1000, 100, c.epoch());
        let e = c.get(&[1; 32]).unwrap();
        assert!(!e.seen(130), "used 30 s after the stored use: no write");
        assert_eq!(e.last_seen(), 130);
        assert!(e.seen(160), "a minute after: one write...");
        assert!(!e.seen(161), "...claimed once");
    }
}
