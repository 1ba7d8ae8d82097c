//! The writer of one provider's settings. PUTs wait in the provider's queue;
//! one writer task per provider stores them in arrival order, and everything
//! that queued while the previous batch was being stored goes into one
//! transaction, each write with its own version and history entry. A write
//! costs mostly its commit (on PostgreSQL a WAL flush), so writers that queue
//! share one. Every write is still a compare-and-swap on the stored version:
//! when another replica wrote in between, the whole batch is rolled back and
//! each of its writes is done on its own, exactly as if it had not queued.
//! The writer is a task of its own, so a client hanging up cannot cancel the
//! writes of the others queued behind it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use ssoplane_schema::api::SsoSettingsDoc;
use ssoplane_schema::Settings;
use tokio::sync::oneshot;

use super::{refused, Actor, Precondition, Prepared, SettingsError, SettingsService};
use crate::store::{SettingsWrite, Write};

/// At most this many writes share one transaction; the rest wait for the
/// next one, so a flood of writers cannot make one transaction unbounded.
const MAX_BATCH: usize = 64;

/// Who asked for a queued write (an owned [`Actor`]).
pub(super) struct Author {
    pub name: String,
    pub correlation_id: String,
    pub managed_by: String,
}

/// One queued PUT and where its answer goes.
pub(super) struct Job {
    pub input: Settings,
    /// The write prepared before it was queued (validated and sealed); `None`
    /// when it keeps a stored secret and so is prepared on the row it replaces.
    pub early: Option<Result<Prepared, SettingsError>>,
    pub precondition: Precondition,
    pub actor: Author,
    answer: oneshot::Sender<Result<SsoSettingsDoc, SettingsError>>,
}

type Answer = oneshot::Receiver<Result<SsoSettingsDoc, SettingsError>>;

impl Job {
    pub fn new(
        input: Settings,
        early: Option<Result<Prepared, SettingsError>>,
        precondition: Precondition,
        actor: &Actor<'_>,
    ) -> (Job, Answer) {
        let (answer, receiver) = oneshot::channel();
        let actor = Author {
            name: actor.name.to_owned(),
            correlation_id: actor.correlation_id.to_owned(),
            managed_by: actor.managed_by.to_owned(),
        };
        let job = Job {
            input,
            early,
            precondition,
            actor,
            answer,
        };
        (job, receiver)
    }
}

/// Queued writes per provider. A provider has an entry exactly while its
/// writer task runs; the entry is made by the PUT that starts the task and
/// removed by the task, under this lock, when it finds the queue empty.
#[derive(Default)]
pub(super) struct Queues(Mutex<HashMap<String, Vec<Job>>>);

impl Queues {
    /// Queues `job`; true when no writer runs for `provider`, so the caller
    /// must start one.
    pub fn push(&self, provider: &str, job: Job) -> bool {
        let mut queues = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match queues.get_mut(provider) {
            Some(queue) => {
                queue.push(job);
                false
            }
            None => {
                queues.insert(provider.to_owned(), vec![job]);
                true
            }
        }
    }

    /// The next batch (the oldest writes, at most [`MAX_BATCH`]), or `None`
    /// when nothing is queued, which ends the provider's writer.
    fn take(&self, provider: &str) -> Option<Vec<Job>> {
        let mut queues = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let queue = queues.get_mut(provider)?;
        if queue.is_empty() {
            queues.remove(provider);
            return None;
        }
        let rest = queue.split_off(queue.len().min(MAX_BATCH));
        Some(std::mem::replace(queue, rest))
    }

    #[cfg(test)]
    fn len(&self, provider: &str) -> usize {
        let queues = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        queues.get(provider).map_or(0, Vec::len)
    }
}

/// Removes the provider's queue if its writer unwinds, so the next PUT
/// starts a new writer; the queued writes are dropped and their callers
/// told [`SettingsError::WriterStopped`].
struct Running<'a> {
    queues: &'a Queues,
    provider: &'a str,
    ended: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let mut queues = self.queues.0.lock().unwrap_or_else(PoisonError::into_inner);
            queues.remove(self.provider);
        }
    }
}

/// What became of one write of a batch that was stored.
enum Outcome {
    /// Stored: the index of its write in the batch.
    Stored(usize),
    /// Its precondition did not hold at this version.
    Refused(i64),
    Failed(SettingsError),
}

impl SettingsService {
    /// The writer task of `provider`: stores its queued writes, a batch at a
    /// time, each under the provider's lock (which deletes take too).
    pub(super) async fn drain(&self, provider: &str) {
        let mut running = Running {
            queues: &self.queued,
            provider,
            ended: false,
        };
        while let Some(batch) = self.queued.take(provider) {
            let _guard = self.lock_provider(provider).await;
            self.write_batch(provider, batch).await;
        }
        running.ended = true;
    }

    /// Stores `jobs` and answers each; true when they went into one
    /// transaction together.
    async fn write_batch(&self, provider: &str, mut jobs: Vec<Job>) -> bool {
        if jobs.len() > 1 {
            if let Some((writes, outcomes)) = self.write_together(provider, &mut jobs).await {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let result = match outcome {
                        Outcome::Stored(i) => self.row_doc(&writes[i].row),
                        Outcome::Refused(current) => Err(refused(job.precondition, current)),
                        Outcome::Failed(e) => Err(e),
                    };
                    // A caller that hung up no longer wants the answer.
                    let _ = job.answer.send(result);
                }
                return true;
            }
        }
        for mut job in jobs {
            let result = self.write_one(provider, &mut job).await;
            let _ = job.answer.send(result);
        }
        false
    }

    /// Stores `jobs` in one transaction, each on top of the one before. `None`
    /// when that cannot be decided together (nothing to store, or the store
    /// refused or failed the batch): the caller then writes each on its own.
    /// A precondition refused against the first stored row is only reported
    /// once the commit has shown that row was current.
    async fn write_together(
        &self,
        provider: &str,
        jobs: &mut [Job],
    ) -> Option<(Vec<SettingsWrite>, Vec<Outcome>)> {
        let row = self.current_row(provider).await.ok()?;
        let mut previous = match &row {
            Some(r) => Some(self.decrypt_row(r).ok()?),
            None => None,
        };
        let mut current = row.as_ref().map_or(0, |r| r.version);
        let mut exists = row.is_some();
        // A re-created provider never reuses a version of its history.
        let mut next = match &row {
            Some(r) => r.version,
            None => self.store.last_version(provider).await.ok()?,
        };
        let mut writes = Vec::with_capacity(jobs.len());
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs.iter_mut() {
            if !job.precondition.holds(current, exists) {
                outcomes.push(Outcome::Refused(current));
                continue;
            }
            // Taken, not copied: when the batch falls back to single writes,
            // those prepare it again (the input alone decides the result).
            let prepared = match job.early.take() {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    outcomes.push(Outcome::Failed(e));
                    continue;
                }
                None => match self
                    .prepare_over(provider, &job.input, previous.as_ref())
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        outcomes.push(Outcome::Failed(e));
                        continue;
                    }
                },
            };
            next += 1;
            let expected = if exists { current } else { 0 };
            let write = self
                .new_write(
                    provider,
                    previous.as_ref(),
                    &prepared,
                    next,
                    expected,
                    &job.actor,
                )
                .ok()?;
            outcomes.push(Outcome::Stored(writes.len()));
            writes.push(write);
            current = next;
            exists = true;
            previous = Some(prepared.settings);
        }
        if writes.is_empty() {
            return None;
        }
        let ticket = self.cache.ticket();
        match self.store.put_settings(&writes).await {
            Ok(Write::Done) => {}
            Ok(Write::Conflict) => {
                self.forget(provider);
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, provider, writes = writes.len(), "batched settings write failed; writing one by one");
                return None;
            }
        }
        if let Some(last) = writes.last() {
            let last = std::sync::Arc::new(last.row.clone());
            self.puts_stored(provider, writes.len(), last, ticket);
        }
        Some((writes, outcomes))
    }
}

#[cfg(test)]
mod tests {
    //! The writer against a real SQLite file and a real PostgreSQL database:
    //! batches are built by hand (or queued behind a held lock), so which
    //! writes share a transaction is decided by the test, not by timing.

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;
    use crate::secrets::SecretBox;
    use crate::store::{SettingsRow, Store};

    async fn stores(dir: &std::path::Path) -> Vec<Store> {
        let mut urls = vec![format!("sqlite://{}", dir.join("w.db").display())];
        if ssoplane_testkit::required(ssoplane_testkit::postgres::is_available(), "PostgreSQL") {
            urls.push(ssoplane_testkit::postgres::fresh_database().await);
        }
        let mut stores = Vec::new();
        for url in urls {
            stores.push(Store::connect(&url).await.unwrap());
        }
        stores
    }

    fn service(store: Store) -> Arc<SettingsService> {
        let key = Arc::new(SecretBox::from_key_bytes(&[7; 32]));
        Arc::new(SettingsService::new(
            store,
            BTreeMap::new(),
            "https://sso.example.com".into(),
            key,
        ))
    }

    fn settings(v: Value) -> Settings {
        serde_json::from_value(v).unwrap()
    }

    async fn job(
        svc: &SettingsService,
        input: Value,
        precondition: Precondition,
        cid: &str,
    ) -> (Job, Answer) {
        let input = settings(input);
        let early = if super::super::keeps_stored_secret(&input) {
            None
        } else {
            Some(svc.prepare("okta", &input).await)
        };
        let actor = Actor {
            name: "tester",
            correlation_id: cid,
            managed_by: "",
        };
        Job::new(input, early, precondition, &actor)
    }

    async fn answer(a: Answer) -> Result<SsoSettingsDoc, SettingsError> {
        a.await.unwrap()
    }

    async fn put(svc: &Arc<SettingsService>, input: Value) -> SsoSettingsDoc {
        let actor = Actor {
            name: "tester",
            correlation_id: "setup",
            managed_by: "",
        };
        svc.put("okta", &settings(input), Precondition::None, &actor)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_batch_is_stored_in_order_with_a_version_and_history_entry_each() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(dir.path()).await {
            let svc = service(store.clone());
            let (key, cert) = ssoplane_testkit::pki::key_and_cert("sp");
            put(
                &svc,
                json!({"name": "first", "certificate": cert, "private_key": key}),
            )
            .await;

            let mut answers = Vec::new();
            let mut jobs = Vec::new();
            for (input, pre, cid) in [
                (
                    json!({"name": "a", "certificate": cert, "private_key": secrets_mask()}),
                    Precondition::Version(1),
                    "keeps-secret",
                ),
                (json!({"name": "b"}), Precondition::Version(1), "stale"),
                (
                    json!({"name": "b", "max_issue_delay": "soon"}),
                    Precondition::None,
                    "invalid",
                ),
                (
                    json!({"name": "c", "certificate": cert, "private_key": secrets_mask()}),
                    Precondition::Version(2),
                    "on-a",
                ),
                (json!({"name": "d"}), Precondition::Absent, "absent"),
                (
                    json!({"name": "e", "certificate": cert, "private_key": secrets_mask()}),
                    Precondition::None,
                    "blind",
                ),
            ] {
                let (j, a) = job(&svc, input, pre, cid).await;
                jobs.push(j);
                answers.push(a);
            }
            assert!(
                svc.write_batch("okta", jobs).await,
                "{}: stored together",
                store.backend()
            );

            let mut results = Vec::new();
            for a in answers {
                results.push(answer(a).await);
            }
            let a = results[0].as_ref().unwrap();
            assert_eq!((a.version, a.settings["name"].clone()), (2, json!("a")));
            assert_eq!(
                a.settings["private_key"],
                ssoplane_schema::secrets::MASK,
                "the stored secret is kept"
            );
            assert!(matches!(
                results[1],
                Err(SettingsError::VersionMismatch { current: 2 })
            ));
            assert!(
                matches!(&results[2], Err(SettingsError::Invalid(e)) if e[0].field == "saml.max_issue_delay"),
                "{:?}",
                results[2]
            );
            assert_eq!(results[3].as_ref().unwrap().version, 3);
            assert!(matches!(
                results[4],
                Err(SettingsError::AlreadyExists { current: 3 })
            ));
            assert_eq!(results[5].as_ref().unwrap().version, 4);

            let stored = svc.effective("okta").await.unwrap().unwrap();
            assert_eq!(stored.version, 4);
            assert_eq!(stored.settings["name"], "e");
            assert_eq!(stored.settings["private_key"].as_str(), Some(key.as_str()));
            let history = svc.history("okta", 100).await.unwrap();
            let seen: Vec<_> = history
                .iter()
                .map(|h| (h.version, h.correlation_id.as_str()))
                .collect();
            assert_eq!(
                seen,
                [(4, "blind"), (3, "on-a"), (2, "keeps-secret"), (1, "setup")]
            );
            // Each entry's changes are against the version before it.
            let name_change = |h: &ssoplane_schema::api::HistoryEntry| {
                let c = h.changes.iter().find(|c| c.field == "name").unwrap();
                (c.old.clone(), c.new.clone())
            };
            assert_eq!(name_change(&history[0]), (json!("c"), json!("e")));
            assert_eq!(name_change(&history[1]), (json!("a"), json!("c")));
            assert_eq!(name_change(&history[2]), (json!("first"), json!("a")));
            store.close().await;
        }
    }

    #[tokio::test]
    async fn a_batch_another_replica_overtook_is_written_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(dir.path()).await {
            let svc = service(store.clone());
            put(&svc, json!({"name": "first"})).await;
            // Another replica writes version 2 behind this one's cache.
            let other = SettingsWrite {
                row: SettingsRow {
                    version: 2,
                    updated_by: "other replica".into(),
                    ..store.get_settings("okta").await.unwrap().unwrap()
                },
                expected: 1,
                correlation_id: "other".into(),
                changes_json: "[]".into(),
            };
            assert_eq!(store.put_settings(&[other]).await.unwrap(), Write::Done);

            let (j1, a1) = job(&svc, json!({"name": "blind"}), Precondition::None, "blind").await;
            let (j2, a2) = job(
                &svc,
                json!({"name": "if-1"}),
                Precondition::Version(1),
                "if-1",
            )
            .await;
            let together = svc.write_batch("okta", vec![j1, j2]).await;
            // Nothing tells a SQLite server of a write behind its back, so
            // its batch conflicts; on PostgreSQL the other replica's notice
            // may reach the cache first. The outcome must be the same.
            if store.backend() == "sqlite" {
                assert!(!together, "the batch must conflict");
            }
            assert_eq!(
                answer(a1).await.unwrap().version,
                3,
                "redone on top of the other write"
            );
            assert!(matches!(
                answer(a2).await,
                Err(SettingsError::VersionMismatch { current: 3 })
            ));
            let history = svc.history("okta", 100).await.unwrap();
            let seen: Vec<_> = history.iter().map(|h| h.correlation_id.as_str()).collect();
            assert_eq!(
                seen,
                ["blind", "other", "setup"],
                "nothing lost, nothing doubled"
            );
            store.close().await;
        }
    }

    #[tokio::test]
    async fn writes_queued_behind_a_held_provider_share_a_batch() {
        let dir = tempfile::tempdir().unwrap();
        for store in stores(dir.path()).await {
            let svc = service(store.clone());
            put(&svc, json!({"name": "first"})).await;
            let lock = svc.lock_provider("okta").await;
            let mut tasks = Vec::new();
            for i in 0..10 {
                let svc = Arc::clone(&svc);
                tasks.push(tokio::spawn(async move {
                    let actor = Actor {
                        name: "tester",
                        correlation_id: &format!("w{i}"),
                        managed_by: "",
                    };
                    svc.put(
                        "okta",
                        &settings(json!({"name": format!("w{i}")})),
                        Precondition::None,
                        &actor,
                    )
                    .await
                    .unwrap()
                    .version
                }));
            }
            // The writer holds the first write, waiting for the lock, and the
            // other nine wait in the queue (unless the writer started late
            // and took more: the outcome must be the same).
            for _ in 0..200 {
                if svc.queued.len("okta") >= 9 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            drop(lock);
            let mut versions = Vec::new();
            for t in tasks {
                versions.push(t.await.unwrap());
            }
            versions.sort_unstable();
            assert_eq!(versions, (2..=11).collect::<Vec<_>>());
            assert_eq!(svc.queued.len("okta"), 0);
            assert_eq!(svc.history("okta", 100).await.unwrap().len(), 11);
            store.close().await;
        }
    }

    fn secrets_mask() -> &'static str {
        ssoplane_schema::secrets::MASK
    }
}
