//! Change notices for the in-process caches (settings, sessions): what a
//! committed write changed. A write publishes its notices to this process's
//! handlers right after it commits; on PostgreSQL the same transaction also
//! sends them with NOTIFY, and one listener connection per replica hands
//! every replica's notices to that replica's handlers (see `postgres.rs`).
//!
//! PostgreSQL delivers notifications in commit order, and each replica
//! sends itself a heartbeat through the same queue every
//! [`HEARTBEAT_EVERY`]: once its own heartbeat sent at time `t` is back, every
//! notice committed before `t` has been handled. A replica that has not
//! heard a heartbeat sent within [`STALE_AFTER`] does not trust its caches
//! ([`Bus::trusted`] is false) and reads the store instead, so a change is
//! seen everywhere within that bound of its commit even when the listener
//! connection silently stalls. A lost connection is a [`Notice::Lost`]:
//! handlers drop everything they hold.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How often each replica sends itself a heartbeat (PostgreSQL).
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(250);
/// Longest a replica trusts its caches after the send time of the last
/// heartbeat it heard back; the stated bound for a change to reach every
/// replica.
pub const STALE_AFTER: Duration = Duration::from_millis(1000);

/// What a committed write changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A provider's API settings were written (`version`: the version
    /// written) or deleted (`None`). PostgreSQL only; every replica hears
    /// its own writes' notices too.
    Settings {
        provider: String,
        version: Option<i64>,
    },
    /// A session ended (by its SHA-256, hex).
    SessionEnded(String),
    /// A user changed in a way forward auth answers with (disabled,
    /// grants, groups, profile) or all its sessions ended.
    UserChanged(String),
    /// Something that may touch every session changed (a group deleted).
    AllSessions,
    /// Notices may have been missed (the listener reconnected): drop everything.
    Lost,
}

impl Notice {
    /// The payload on the sessions channel; None for the other kinds.
    pub fn session_payload(&self) -> Option<String> {
        match self {
            Notice::SessionEnded(h) => Some(format!("s:{h}")),
            Notice::UserChanged(u) => Some(format!("u:{u}")),
            Notice::AllSessions => Some("*".into()),
            _ => None,
        }
    }

    /// The payload on the settings channel: "provider version", or the
    /// provider alone for a delete (slugs have no spaces).
    pub fn settings_payload(provider: &str, version: Option<i64>) -> String {
        match version {
            Some(v) => format!("{provider} {v}"),
            None => provider.to_owned(),
        }
    }

    /// Reads a settings-channel payload; a version that does not read is
    /// treated as none (the provider's cache entry is dropped either way).
    pub fn from_settings_payload(payload: &str) -> Notice {
        let (provider, version) = match payload.split_once(' ') {
            Some((p, v)) => (p, v.parse().ok()),
            None => (payload, None),
        };
        Notice::Settings {
            provider: provider.to_owned(),
            version,
        }
    }

    /// Reads a sessions-channel payload; an unreadable one is treated as
    /// [`Notice::AllSessions`] (dropping too much is safe, too little is not).
    pub fn from_session_payload(payload: &str) -> Notice {
        if let Some(h) = payload.strip_prefix("s:") {
            Notice::SessionEnded(h.to_owned())
        } else if let Some(u) = payload.strip_prefix("u:") {
            Notice::UserChanged(u.to_owned())
        } else {
            Notice::AllSessions
        }
    }
}

type Handler = Arc<dyn Fn(&Notice) + Send + Sync>;

/// This process's handlers, and how current they are with the other replicas.
pub struct Bus {
    handlers: RwLock<Vec<(u64, Handler)>>,
    next_id: AtomicU64,
    origin: Instant,
    /// Milliseconds since `origin` until which the caches may be trusted
    /// (`u64::MAX`: always, there are no other replicas).
    trusted_until: AtomicU64,
    /// Tells this replica's heartbeats from the others'.
    pub(crate) nonce: String,
}

impl Bus {
    /// A store no other process writes to (SQLite): always current.
    pub fn local() -> Bus {
        Bus::with_trust(u64::MAX)
    }

    /// A store shared with other replicas: untrusted until a heartbeat is heard.
    pub fn replicated() -> Bus {
        Bus::with_trust(0)
    }

    fn with_trust(until: u64) -> Bus {
        use rand::Rng;
        Bus {
            handlers: RwLock::default(),
            next_id: AtomicU64::new(1),
            origin: Instant::now(),
            trusted_until: AtomicU64::new(until),
            nonce: format!("{:016x}", rand::thread_rng().gen::<u64>()),
        }
    }

    /// Calls `handler` for every notice, in order, until the returned guard drops.
    pub fn subscribe(
        self: &Arc<Self>,
        handler: impl Fn(&Notice) + Send + Sync + 'static,
    ) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.handlers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((id, Arc::new(handler)));
        Subscription {
            bus: Arc::clone(self),
            id,
        }
    }

    /// Hands `notice` to every handler, synchronously: when this returns,
    /// every cache of this process has applied it.
    pub fn publish(&self, notice: &Notice) {
        let handlers: Vec<Handler> = self
            .handlers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(_, h)| Arc::clone(h))
            .collect();
        for h in handlers {
            h(notice);
        }
    }

    /// Whether the caches are current with every replica's writes, up to
    /// [`STALE_AFTER`].
    pub fn trusted(&self) -> bool {
        self.trusted_at(Instant::now())
    }

    pub fn trusted_at(&self, now: Instant) -> bool {
        let until = self.trusted_until.load(Ordering::Acquire);
        until == u64::MAX || self.millis(now) < until
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// A heartbeat payload to send now.
    pub(crate) fn heartbeat(&self) -> String {
        format!("{}:{}", self.nonce, self.millis(Instant::now()))
    }

    /// A heartbeat came back: every notice committed before it was sent has
    /// been handled. Other replicas' heartbeats are ignored.
    pub(crate) fn heard(&self, payload: &str) {
        let Some(sent) = payload
            .strip_prefix(self.nonce.as_str())
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|ms| ms.parse::<u64>().ok())
        else {
            return;
        };
        let until = sent.saturating_add(u64::try_from(STALE_AFTER.as_millis()).unwrap_or(0));
        self.trusted_until.fetch_max(until, Ordering::AcqRel);
    }

    /// The listener lost its connection: nothing is trusted until it is back
    /// and a heartbeat is heard again; handlers drop everything.
    pub(crate) fn lost(&self) {
        if self.trusted_until.load(Ordering::Acquire) != u64::MAX {
            self.trusted_until.store(0, Ordering::Release);
        }
        self.publish(&Notice::Lost);
    }
}

/// Unsubscribes its handler when dropped.
pub struct Subscription {
    bus: Arc<Bus>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.bus
            .handlers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|(id, _)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn payloads_round_trip_and_garbage_drops_everything() {
        for n in [
            Notice::SessionEnded("ab12".into()),
            Notice::UserChanged("u-1".into()),
            Notice::AllSessions,
        ] {
            let p = n.session_payload().unwrap();
            assert_eq!(Notice::from_session_payload(&p), n);
        }
        assert_eq!(Notice::from_session_payload("x:1"), Notice::AllSessions);
        assert_eq!(Notice::from_session_payload(""), Notice::AllSessions);
        let written = Notice::Settings {
            provider: "p".into(),
            version: Some(7),
        };
        assert_eq!(written.session_payload(), None);
        assert_eq!(
            Notice::from_settings_payload(&Notice::settings_payload("p", Some(7))),
            written
        );
        assert_eq!(
            Notice::from_settings_payload("p"),
            Notice::Settings {
                provider: "p".into(),
                version: None
            }
        );
        assert_eq!(
            Notice::from_settings_payload("p x"),
            Notice::Settings {
                provider: "p".into(),
                version: None
            }
        );
    }

    #[test]
    fn trust_follows_own_heartbeats_only() {
        let bus = Bus::replicated();
        assert!(!bus.trusted(), "untrusted before the first heartbeat");
        bus.heard("someone-else:999999999");
        assert!(!bus.trusted(), "another replica's heartbeat proves nothing");
        bus.heard(&bus.heartbeat());
        assert!(bus.trusted());
        let later = Instant::now() + STALE_AFTER + Duration::from_millis(1);
        assert!(
            !bus.trusted_at(later),
            "a silent listener is trusted for STALE_AFTER at most"
        );
        bus.lost();
        assert!(!bus.trusted());
        assert!(Bus::local().trusted_at(later));
    }

    #[test]
    fn handlers_see_notices_until_unsubscribed() {
        let bus = Arc::new(Bus::local());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = {
            let seen = Arc::clone(&seen);
            bus.subscribe(move |n| seen.lock().unwrap().push(n.clone()))
        };
        bus.publish(&Notice::AllSessions);
        bus.lost();
        drop(s);
        bus.publish(&Notice::AllSessions);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![Notice::AllSessions, Notice::Lost]
        );
    }
}
