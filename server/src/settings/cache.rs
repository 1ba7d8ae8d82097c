//! What this process knows of each provider's stored settings row, kept
//! coherent with every replica's writes by their change notices.
//!
//! A row observed in the store (read, or written by this process) is only
//! kept if nothing newer was announced while it was being observed: a read
//! that started before another replica's commit can return the older row
//! after that commit's notice was handled, and caching it would serve the
//! old settings until the next write. Notices carry the version written, so
//! a replica's own write is not dropped by its own notice (which arrives on
//! the listener connection after, or before, the writer remembers it).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::store::notify::Notice;
use crate::store::SettingsRow;

/// Most providers remembered; past it the cache starts over.
pub const MAX_PROVIDERS: usize = 10_000;

/// A stored row as observed: `None` when the provider has no API settings.
pub type Observed = Option<Arc<SettingsRow>>;

/// Taken before observing the store; see [`RowCache::offer`].
#[derive(Clone, Copy)]
pub struct Ticket(u64);

#[derive(Default)]
struct State {
    /// Each observation with the version it reflects (see [`RowCache::offer`]).
    rows: HashMap<String, (Observed, i64)>,
    /// Highest version announced per provider since its last delete notice.
    announced: HashMap<String, i64>,
    /// Bumped by every notice that no version describes (a delete, a lost
    /// listener, the cache starting over): observations begun before it
    /// are not kept.
    epoch: u64,
}

impl State {
    /// Forgets everything, and voids observations in flight.
    fn start_over(&mut self) {
        self.rows.clear();
        self.announced.clear();
        self.epoch += 1;
    }
}

#[derive(Default)]
pub struct RowCache {
    state: RwLock<State>,
}

impl RowCache {
    /// The remembered observation, if any.
    pub fn get(&self, provider: &str) -> Option<Observed> {
        self.read().rows.get(provider).map(|(o, _)| o.clone())
    }

    /// Take before reading or writing the store.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.read().epoch)
    }

    /// Remembers a row read (or written) after `ticket` was taken, unless a
    /// notice since says it may be old, or what is remembered is newer.
    pub fn offer(&self, provider: &str, observed: Observed, ticket: Ticket) {
        let at = observed.as_ref().map_or(0, |r| r.version);
        self.offer_at(provider, observed, at, ticket);
    }

    /// Remembers that `provider` has no row since this process deleted it,
    /// the delete being version `at` of its history.
    pub fn deleted(&self, provider: &str, at: i64, ticket: Ticket) {
        self.offer_at(provider, None, at, ticket);
    }

    fn offer_at(&self, provider: &str, observed: Observed, at: i64, ticket: Ticket) {
        let mut s = self.write();
        if s.epoch != ticket.0 || at < s.announced.get(provider).copied().unwrap_or(0) {
            return;
        }
        if matches!(s.rows.get(provider), Some((_, kept)) if *kept > at) {
            return;
        }
        if s.rows.len() >= MAX_PROVIDERS && !s.rows.contains_key(provider) {
            s.start_over();
            return;
        }
        s.rows.insert(provider.to_owned(), (observed, at));
    }

    /// Drops what is remembered of `provider` (the next read goes to the store).
    pub fn forget(&self, provider: &str) {
        self.write().rows.remove(provider);
    }

    /// Applies a change notice from any replica, this one included.
    pub fn on_notice(&self, notice: &Notice) {
        let mut s = self.write();
        match notice {
            Notice::Settings {
                provider,
                version: Some(v),
            } => {
                if s.announced.len() >= MAX_PROVIDERS && !s.announced.contains_key(provider) {
                    s.start_over();
                }
                let announced = s.announced.entry(provider.clone()).or_insert(0);
                *announced = (*announced).max(*v);
                if !matches!(s.rows.get(provider), Some((_, kept)) if *kept >= *v) {
                    s.rows.remove(provider);
                }
            }
            Notice::Settings {
                provider,
                version: None,
            } => {
                s.rows.remove(provider);
                s.announced.remove(provider);
                s.epoch += 1;
            }
            Notice::Lost => s.start_over(),
            Notice::SessionEnded(_) | Notice::UserChanged(_) | Notice::AllSessions => {}
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: i64) -> Observed {
        Some(Arc::new(SettingsRow {
            provider: "okta".into(),
            settings_json: "{}".into(),
            secrets_json: "{}".into(),
            version,
            updated_at: String::new(),
            updated_by: String::new(),
            managed_by: String::new(),
        }))
    }

    fn put(version: i64) -> Notice {
        Notice::Settings {
            provider: "okta".into(),
            version: Some(version),
        }
    }

    fn version(c: &RowCache) -> Option<i64> {
        c.get("okta").map(|o| o.map_or(0, |r| r.version))
    }

    #[test]
    fn a_read_overtaken_by_a_newer_write_is_not_kept() {
        let c = RowCache::default();
        let t = c.ticket();
        // The read returns version 1; version 2 commits elsewhere and its
        // notice is handled before the reader gets to remember.
        c.on_notice(&put(2));
        c.offer("okta", row(1), t);
        assert_eq!(
            version(&c),
            None,
            "served version 1 after version 2 was announced"
        );
        let t = c.ticket();
        c.offer("okta", row(2), t);
        assert_eq!(version(&c), Some(2));
    }

    #[test]
    fn own_writes_survive_their_own_notice_in_either_order() {
        let c = RowCache::default();
        c.offer("okta", row(1), c.ticket());
        // The notice first, then the writer remembers.
        let t = c.ticket();
        c.on_notice(&put(2));
        c.offer("okta", row(2), t);
        assert_eq!(version(&c), Some(2));
        // The writer first, then its notice.
        let t = c.ticket();
        c.offer("okta", row(3), t);
        c.on_notice(&put(3));
        assert_eq!(version(&c), Some(3));
    }

    #[test]
    fn another_replicas_newer_write_drops_ours() {
        let c = RowCache::default();
        let t = c.ticket();
        c.offer("okta", row(3), t);
        c.on_notice(&put(4));
        assert_eq!(version(&c), None);
        // A slower writer of version 3 must not put it back.
        c.offer("okta", row(3), t);
        assert_eq!(version(&c), None);
    }

    #[test]
    fn an_older_observation_never_replaces_a_newer_one() {
        let c = RowCache::default();
        let t = c.ticket();
        c.offer("okta", row(5), t);
        c.offer("okta", row(4), t);
        assert_eq!(version(&c), Some(5));
    }

    #[test]
    fn a_local_delete_replaces_the_row_it_deleted() {
        let c = RowCache::default();
        c.offer("okta", row(4), c.ticket());
        let t = c.ticket();
        c.deleted("okta", 5, t);
        assert_eq!(version(&c), Some(0), "still served the deleted row");
        // A re-creation elsewhere after the delete is newer than it.
        c.on_notice(&put(6));
        assert_eq!(version(&c), None);
    }

    #[test]
    fn deletes_and_lost_listeners_void_observations_in_flight() {
        let c = RowCache::default();
        c.on_notice(&put(7));
        let t = c.ticket();
        c.on_notice(&Notice::Settings {
            provider: "okta".into(),
            version: None,
        });
        c.offer("okta", row(7), t);
        assert_eq!(version(&c), None, "kept a row read before its delete");
        // After the delete, "no row" is a current observation again.
        let t = c.ticket();
        c.offer("okta", None, t);
        assert_eq!(version(&c), Some(0));
        let t = c.ticket();
        c.on_notice(&Notice::Lost);
        assert_eq!(version(&c), None);
        c.offer("okta", row(8), t);
        assert_eq!(version(&c), None);
    }
    #[test]
    fn the_cache_starts_over_past_its_bound() {
        let c = RowCache::default();
        for i in 0..MAX_PROVIDERS {
            c.offer(&format!("p{i}"), row(1), c.ticket());
        }
        assert!(c.get("p0").is_some());
        let t = c.ticket();
        c.offer("okta", row(1), t);
        assert!(c.get("p0").is_none(), "grew past its bound");
        assert_eq!(version(&c), None);
        // Observations begun before it are void; later ones are kept.
        c.offer("okta", row(1), t);
        assert_eq!(version(&c), None);
        c.offer("okta", row(1), c.ticket());
        assert_eq!(version(&c), Some(1));
    }
}
