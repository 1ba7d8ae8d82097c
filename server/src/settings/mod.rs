//! The SSO settings service: effective settings per provider (API over
//! file/env over defaults), full-replace writes with optimistic concurrency,
//! secrets encrypted at rest and masked on the way out, and the audit trail.

mod cache;
pub mod diff;
pub mod files;
pub mod system;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;
use ssoplane_schema::api::{HistoryEntry, Source, SsoSettingsDoc};
use ssoplane_schema::{
    secrets, slug, validate, FieldError, FieldSpec, Settings, SpEndpoints, FIELDS,
};

use crate::saml::idp::check_metadata;
use crate::secrets::{SecretBox, SecretError};
pub use crate::store::Precondition;
use crate::store::{HistoryRow, SettingsRow, SettingsWrite, Store, StoreError, Write};
use cache::RowCache;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid settings")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    BadProvider(#[from] slug::InvalidSlug),
    #[error("provider {0:?} has no SSO settings")]
    NotFound(String),
    #[error("provider {0:?} is configured by the config file or environment only; there are no API settings to delete")]
    NothingToDelete(String),
    #[error("version mismatch: the settings are at version {current}")]
    VersionMismatch { current: i64 },
    #[error("settings set through the API already exist (version {current})")]
    AlreadyExists { current: i64 },
    #[error("gave up after {0} concurrent writes to the same provider; retry")]
    Contended(u32),
    #[error("the settings writer stopped before storing this write; it may not have been stored")]
    WriterStopped,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("stored settings are corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// Who made a change, for the audit trail.
pub struct Actor<'a> {
    pub name: &'a str,
    pub correlation_id: &'a str,
    /// The client that claims the write (`terraform`), empty for others; a
    /// write without it clears the stored marker.
    pub managed_by: &'a str,
}

/// Settings in effect for a provider, secrets in plaintext: for the SAML
/// endpoints, never for the API.
#[derive(Debug, Clone)]
pub struct Effective {
    pub source: Source,
    pub version: i64,
    pub settings: Settings,
}

const MAX_WRITE_ATTEMPTS: u32 = 8;

/// A validated write and its stored form (see [`SettingsService::put`]).
struct Prepared {
    settings: Settings,
    settings_json: String,
    secrets_json: String,
}

/// A stored row and its API document, serialized.
type Rendered = (Arc<SettingsRow>, Arc<[u8]>);

pub struct SettingsService {
    store: Store,
    /// What this process knows of each provider's stored row: written
    /// through by local writes and, on PostgreSQL, kept coherent by every
    /// replica's notices. A stale entry can never cause a lost write because
    /// every write is a compare-and-swap on the stored version.
    cache: Arc<RowCache>,
    watcher: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Serializes writes to one provider within this process, so concurrent
    /// blind writes queue instead of retrying against each other; the
    /// compare-and-swap in the store still guards against other replicas.
    write_locks: std::sync::Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// PUTs waiting for their provider's writer task (see `writer`).
    queued: writer::Queues,
    /// The API document of a stored row, serialized, with the very row it
    /// was made from: see [`SettingsService::get_json`].
    rendered: std::sync::RwLock<HashMap<String, Rendered>>,
    system: BTreeMap<String, Settings>,
    root_url: String,
    secrets: Arc<SecretBox>,
}

/// Secrets as stored: ciphertext bound to provider+field, and the fingerprint.
#[derive(serde::Serialize, serde::Deserialize)]
struct SealedSecret {
    ciphertext: String,
    fingerprint: String,
}

impl SettingsService {
    pub fn new(
        store: Store,
        system: BTreeMap<String, Settings>,
        root_url: String,
        secrets: Arc<SecretBox>,
    ) -> Self {
        let cache: Arc<RowCache> = Arc::default();
        let invalidate = Arc::clone(&cache);
        let watcher = store.watch_changes(move |notice| invalidate.on_notice(notice));
        SettingsService {
            store,
            cache,
            watcher: std::sync::Mutex::new(watcher),
            write_locks: Default::default(),
            queued: Default::default(),
            rendered: Default::default(),
            system,
            root_url,
            secrets,
        }
    }

    fn provider_lock(&self, provider: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .write_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(provider.to_owned()).or_default().clone()
    }

    async fn lock_provider(&self, provider: &str) -> tokio::sync::OwnedMutexGuard<()> {
        self.provider_lock(provider).lock_owned().await
    }

    /// Stops watching other replicas' writes (at shutdown, before the store closes).
    pub fn shutdown(&self) {
        if let Some(w) = self
            .watcher
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            w.abort();
        }
    }

    fn forget(&self, provider: &str) {
        self.cache.forget(provider);
    }

    /// The stored row, from the cache when this process knows it and has
    /// heard every replica's notices within the stated bound (see
    /// `store::notify`); otherwise from the store.
    async fn current_row(&self, provider: &str) -> Result<Option<Arc<SettingsRow>>, SettingsError> {
        if self.store.bus().trusted() {
            if let Some(row) = self.cache.get(provider) {
                return Ok(row);
            }
        }
        let ticket = self.cache.ticket();
        let row = self.store.get_settings(provider).await?.map(Arc::new);
        self.cache.offer(provider, row.clone(), ticket);
        Ok(row)
    }

    /// The version in effect (0 for file/env settings), or None for an unknown provider.
    pub async fn version_of(&self, provider: &str) -> Result<Option<i64>, SettingsError> {
        slug::check(provider)?;
        Ok(match self.current_row(provider).await? {
            Some(row) => Some(row.version),
            None => self.system.contains_key(provider).then_some(0),
        })
    }

    /// Another writer (another replica) won the compare-and-swap. With a
    /// precondition the client must re-read (412); without one the caller
    /// redoes its read-modify-write on the newer version.
    async fn lost_race(
        &self,
        provider: &str,
        precondition: Precondition,
    ) -> Result<(), SettingsError> {
        self.forget(provider);
        if precondition == Precondition::None {
            return Ok(());
        }
        Err(refused(precondition, self.stored_version(provider).await?))
    }

    async fn stored_version(&self, provider: &str) -> Result<i64, SettingsError> {
        Ok(self
            .store
            .get_settings(provider)
            .await?
            .map_or(0, |r| r.version))
    }

    /// Whether the config file or environment configures `provider` (what
    /// it falls back to when its API settings are deleted).
    pub fn has_system(&self, provider: &str) -> bool {
        self.system.contains_key(provider)
    }

    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    pub async fn list(&self) -> Result<Vec<SsoSettingsDoc>, SettingsError> {
        let rows = self.store.list_settings().await?;
        let mut docs = BTreeMap::new();
        for (provider, settings) in &self.system {
            docs.insert(provider.clone(), self.system_doc(provider, settings));
        }
        for row in &rows {
            docs.insert(row.provider.clone(), self.row_doc(row)?);
        }
        Ok(docs.into_values().collect())
    }

    /// Every provider's settings in effect, secrets left empty (neither
    /// decrypted nor masked): for readers of non-secret fields.
    pub async fn list_public(&self) -> Result<Vec<(String, Settings)>, SettingsError> {
        let mut out: BTreeMap<String, Settings> = self
            .system
            .iter()
            .map(|(provider, settings)| {
                let mut plain = settings.clone();
                for f in FIELDS.iter().filter(|f| f.secret) {
                    plain.insert(f.name.to_owned(), Value::String(String::new()));
                }
                (provider.clone(), plain)
            })
            .collect();
        for row in self.store.list_settings().await? {
            // Stored without secrets: they live sealed in `secrets_json`.
            out.insert(row.provider, serde_json::from_str(&row.settings_json)?);
        }
        Ok(out.into_iter().collect())
    }

    pub async fn get(&self, provider: &str) -> Result<SsoSettingsDoc, SettingsError> {
        slug::check(provider)?;
        if let Some(row) = self.current_row(provider).await? {
            return self.row_doc(&row);
        }
        match self.system.get(provider) {
            Some(settings) => Ok(self.system_doc(provider, settings)),
            None => Err(SettingsError::NotFound(provider.to_owned())),
        }
    }

    /// [`SettingsService::get`] as JSON, with its version. A stored row's
    /// document is serialized once and kept with the row it came from:
    /// reused only while the cache still hands out that same row (the same
    /// allocation, held here, so it cannot be another row at the same
    /// address), so a write or another replica's change is never answered
    /// with the old document. Parsing the stored JSON and serializing the
    /// document again on every read halved the admin API's GET throughput.
    pub async fn get_json(&self, provider: &str) -> Result<(i64, Arc<[u8]>), SettingsError> {
        slug::check(provider)?;
        let Some(row) = self.current_row(provider).await? else {
            let doc = self.get(provider).await?;
            return Ok((doc.version, serde_json::to_vec(&doc)?.into()));
        };
        if let Some((from, json)) = self
            .rendered
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(provider)
        {
            if Arc::ptr_eq(from, &row) {
                return Ok((row.version, Arc::clone(json)));
            }
        }
        // Rendered outside the lock. Two first readers may both render; a
        // rendering of an older row stored last is only a miss for the next
        // reader (it compares rows), never a stale answer.
        let json: Arc<[u8]> = serde_json::to_vec(&self.row_doc(&row)?)?.into();
        let mut rendered = self
            .rendered
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if rendered.len() >= cache::MAX_PROVIDERS {
            rendered.clear();
        }
        rendered.insert(provider.to_owned(), (Arc::clone(&row), Arc::clone(&json)));
        Ok((row.version, json))
    }

    /// Settings in effect with secrets decrypted, or None for an unknown provider.
    pub async fn effective(&self, provider: &str) -> Result<Option<Effective>, SettingsError> {
        if let Some(row) = self.current_row(provider).await? {
            return Ok(Some(Effective {
                source: Source::Database,
                version: row.version,
                settings: self.decrypt_row(&row)?,
            }));
        }
        Ok(self.system.get(provider).map(|s| Effective {
            source: Source::System,
            version: 0,
            settings: s.clone(),
        }))
    }

    /// Replaces a provider's settings (full replace) if `precondition`
    /// holds. Writes to one provider are stored in arrival order by its
    /// writer task, several queued ones in one transaction (see `writer`).
    pub async fn put(
        self: &Arc<Self>,
        provider: &str,
        input: &Settings,
        precondition: Precondition,
        actor: &Actor<'_>,
    ) -> Result<SsoSettingsDoc, SettingsError> {
        slug::check(provider)?;
        // What depends on the input alone (validation, the IdP metadata
        // parse, files, sealing) is done before the write is queued, so
        // concurrent writers do it in parallel and the writer does only the
        // read-modify-write. An input that keeps a stored secret (sends the
        // mask) needs the stored row and is prepared by the writer. Its
        // errors are reported after the precondition's, as if prepared
        // there.
        let early = if keeps_stored_secret(input) {
            None
        } else {
            Some(self.prepare(provider, input).await)
        };
        let (job, answer) = writer::Job::new(input.clone(), early, precondition, actor);
        if self.queued.push(provider, job) {
            let this = Arc::clone(self);
            let provider = provider.to_owned();
            tokio::spawn(async move { this.drain(&provider).await });
        }
        answer.await.unwrap_or(Err(SettingsError::WriterStopped))
    }

    /// One PUT on its own: the read-modify-write and compare-and-swap,
    /// redone on top of another replica's newer version when it has no
    /// precondition. The caller holds the provider's lock.
    async fn write_one(
        &self,
        provider: &str,
        job: &mut writer::Job,
    ) -> Result<SsoSettingsDoc, SettingsError> {
        let precondition = job.precondition;
        let mut prepared_early = None;
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            backoff(attempt).await;
            let row = self.current_row(provider).await?;
            let current = row.as_ref().map_or(0, |r| r.version);
            if !precondition.holds(current, row.is_some()) {
                if attempt == 0 {
                    // The cache may be behind another replica: decide on a fresh read.
                    self.forget(provider);
                    continue;
                }
                return Err(refused(precondition, current));
            }
            // The stored row, decrypted once: the secrets a masked input
            // keeps, and the "before" of the audit trail.
            let before = row.as_ref().map(|r| self.decrypt_row(r)).transpose()?;
            if let Some(result) = job.early.take() {
                prepared_early = Some(result?);
            }
            let prepared_here;
            let prepared = match &prepared_early {
                Some(p) => p,
                None => {
                    prepared_here = self
                        .prepare_over(provider, &job.input, before.as_ref())
                        .await?;
                    &prepared_here
                }
            };
            let version = match &row {
                Some(r) => r.version + 1,
                None => self.store.last_version(provider).await? + 1,
            };
            let write = self.new_write(
                provider,
                before.as_ref(),
                prepared,
                version,
                current,
                &job.actor,
            )?;
            let ticket = self.cache.ticket();
            match self
                .store
                .put_settings(std::slice::from_ref(&write))
                .await?
            {
                Write::Done => {
                    let new_row = Arc::new(write.row);
                    self.puts_stored(provider, 1, Arc::clone(&new_row), ticket);
                    return self.row_doc(&new_row);
                }
                // Someone (another replica) wrote between our read and our
                // write. With a precondition the client must re-read; without
                // one we redo the read-modify-write on top of the newer
                // version, so the other write stays in the history and is
                // never silently lost.
                Write::Conflict => self.lost_race(provider, precondition).await?,
            }
        }
        Err(SettingsError::Contended(MAX_WRITE_ATTEMPTS))
    }

    /// After `count` PUTs of `provider` committed, `last` the newest: counted,
    /// and offered to the cache under the `ticket` taken before the write.
    fn puts_stored(
        &self,
        provider: &str,
        count: usize,
        last: Arc<SettingsRow>,
        ticket: cache::Ticket,
    ) {
        metrics::counter!("ssoplane_sso_settings_writes_total", "action" => "put")
            .increment(count as u64);
        self.cache.offer(provider, Some(last), ticket);
    }

    /// `input` prepared on top of `previous` (the settings it replaces, in
    /// plaintext; the config file's when none are stored): a masked secret
    /// keeps the previous value.
    async fn prepare_over(
        &self,
        provider: &str,
        input: &Settings,
        previous: Option<&Settings>,
    ) -> Result<Prepared, SettingsError> {
        let previous = previous.or_else(|| self.system.get(provider));
        self.prepare(provider, &unmask(input, previous)?).await
    }

    /// The stored form of one write: `prepared` as version `version`,
    /// replacing `before` (stored at `expected`, 0: none), with its changes.
    fn new_write(
        &self,
        provider: &str,
        before: Option<&Settings>,
        prepared: &Prepared,
        version: i64,
        expected: i64,
        actor: &writer::Author,
    ) -> Result<SettingsWrite, SettingsError> {
        let changes = diff::changes(before, Some(&prepared.settings));
        Ok(SettingsWrite {
            row: SettingsRow {
                provider: provider.to_owned(),
                settings_json: prepared.settings_json.clone(),
                secrets_json: prepared.secrets_json.clone(),
                version,
                updated_at: now(),
                updated_by: actor.name.clone(),
                managed_by: actor.managed_by.clone(),
            },
            expected,
            correlation_id: actor.correlation_id.clone(),
            changes_json: serde_json::to_string(&changes)?,
        })
    }

    /// The one normalisation of a write (everything after it reads the
    /// result), the checks of the files it names, and its sealed form.
    async fn prepare(
        &self,
        provider: &str,
        resolved: &Settings,
    ) -> Result<Prepared, SettingsError> {
        let settings =
            validate::check_with(resolved, check_metadata).map_err(SettingsError::Invalid)?;
        let file_errors = files::check_paths(&settings).await;
        if !file_errors.is_empty() {
            return Err(SettingsError::Invalid(file_errors));
        }
        let (settings_json, secrets_json) = self.seal(provider, &settings)?;
        Ok(Prepared {
            settings,
            settings_json,
            secrets_json,
        })
    }

    pub async fn delete(
        &self,
        provider: &str,
        precondition: Precondition,
        actor: &Actor<'_>,
    ) -> Result<(), SettingsError> {
        slug::check(provider)?;
        let _guard = self.lock_provider(provider).await;
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            backoff(attempt).await;
            let Some(row) = self.current_row(provider).await? else {
                if attempt == 0 {
                    self.forget(provider);
                    continue;
                }
                return Err(if self.system.contains_key(provider) {
                    SettingsError::NothingToDelete(provider.to_owned())
                } else {
                    SettingsError::NotFound(provider.to_owned())
                });
            };
            if !precondition.holds(row.version, true) {
                if attempt == 0 {
                    self.forget(provider);
                    continue;
                }
                return Err(SettingsError::VersionMismatch {
                    current: row.version,
                });
            }
            let before = self.decrypt_row(&row)?;
            let changes = diff::changes(Some(&before), self.system.get(provider));
            let history = HistoryRow {
                provider: provider.to_owned(),
                version: row.version + 1,
                action: "delete".into(),
                actor: actor.name.to_owned(),
                at: now(),
                correlation_id: actor.correlation_id.to_owned(),
                changes_json: serde_json::to_string(&changes)?,
            };
            let ticket = self.cache.ticket();
            match self
                .store
                .delete_settings(provider, row.version, &history)
                .await?
            {
                Write::Done => {
                    metrics::counter!("ssoplane_sso_settings_writes_total", "action" => "delete")
                        .increment(1);
                    self.cache.deleted(provider, history.version, ticket);
                    return Ok(());
                }
                Write::Conflict => self.lost_race(provider, precondition).await?,
            }
        }
        Err(SettingsError::Contended(MAX_WRITE_ATTEMPTS))
    }

    pub async fn history(
        &self,
        provider: &str,
        limit: i64,
    ) -> Result<Vec<HistoryEntry>, SettingsError> {
        slug::check(provider)?;
        let rows = self.store.history(provider, limit).await?;
        if rows.is_empty() && !self.system.contains_key(provider) {
            return Err(SettingsError::NotFound(provider.to_owned()));
        }
        rows.into_iter()
            .map(|r| {
                Ok(HistoryEntry {
                    version: r.version,
                    action: r.action,
                    actor: r.actor,
                    at: r.at,
                    correlation_id: r.correlation_id,
                    changes: serde_json::from_str(&r.changes_json)?,
                })
            })
            .collect()
    }

    fn sp(&self, provider: &str, settings: &Settings) -> SpEndpoints {
        let entity_id = settings
            .get("entity_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        SpEndpoints::derive(&self.root_url, provider, entity_id)
    }

    fn system_doc(&self, provider: &str, settings: &Settings) -> SsoSettingsDoc {
        SsoSettingsDoc {
            provider: provider.to_owned(),
            source: Source::System,
            version: 0,
            settings: mask(settings),
            sp: self.sp(provider, settings),
            updated_at: None,
            updated_by: None,
            managed_by: None,
        }
    }

    fn row_doc(&self, row: &SettingsRow) -> Result<SsoSettingsDoc, SettingsError> {
        let mut settings: Settings = serde_json::from_str(&row.settings_json)?;
        let sealed: BTreeMap<String, SealedSecret> = serde_json::from_str(&row.secrets_json)?;
        for f in FIELDS.iter().filter(|f| f.secret) {
            let fp = f.fingerprint_name().unwrap_or_default();
            match sealed.get(f.name) {
                Some(s) => {
                    settings.insert(f.name.to_owned(), Value::String(secrets::MASK.to_owned()));
                    settings.insert(fp, Value::String(s.fingerprint.clone()));
                }
                None => {
                    settings.insert(f.name.to_owned(), Value::String(String::new()));
                    settings.insert(fp, Value::String(String::new()));
                }
            }
        }
        let sp = self.sp(&row.provider, &settings);
        Ok(SsoSettingsDoc {
            provider: row.provider.clone(),
            source: Source::Database,
            version: row.version,
            settings,
            sp,
            updated_at: Some(row.updated_at.clone()),
            updated_by: Some(row.updated_by.clone()),
            managed_by: Some(row.managed_by.clone()).filter(|m| !m.is_empty()),
        })
    }

    fn seal(&self, provider: &str, settings: &Settings) -> Result<(String, String), SettingsError> {
        let mut plain = settings.clone();
        let mut sealed = BTreeMap::new();
        for f in FIELDS.iter().filter(|f| f.secret) {
            let value = plain.insert(f.name.to_owned(), Value::String(String::new()));
            if let Some(Value::String(secret)) =
                value.filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            {
                sealed.insert(
                    f.name,
                    SealedSecret {
                        ciphertext: self.secrets.seal(&aad(provider, f.name), &secret),
                        fingerprint: secrets::fingerprint(&secret),
                    },
                );
            }
        }
        Ok((
            serde_json::to_string(&plain)?,
            serde_json::to_string(&sealed)?,
        ))
    }

    fn decrypt_row(&self, row: &SettingsRow) -> Result<Settings, SettingsError> {
        let mut settings: Settings = serde_json::from_str(&row.settings_json)?;
        let sealed: BTreeMap<String, SealedSecret> = serde_json::from_str(&row.secrets_json)?;
        for (name, s) in sealed {
            let plain = self
                .secrets
                .open(&aad(&row.provider, &name), &s.ciphertext)?;
            settings.insert(name, Value::String(plain));
        }
        Ok(settings)
    }
}

/// The error for a write whose precondition failed at version `current`.
fn refused(precondition: Precondition, current: i64) -> SettingsError {
    if precondition == Precondition::Absent {
        SettingsError::AlreadyExists { current }
    } else {
        SettingsError::VersionMismatch { current }
    }
}

/// Random, growing pause before retrying a compare-and-swap another replica won.
async fn backoff(attempt: u32) {
    if attempt > 0 {
        use rand::Rng;
        let max = 5u64 << attempt.min(6);
        let millis = rand::thread_rng().gen_range(1..=max);
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }
}

fn aad(provider: &str, field: &str) -> String {
    format!("sso-settings:{provider}:{field}")
}

/// Replaces secret values with the mask and adds their fingerprints.
pub fn mask(settings: &Settings) -> Settings {
    let mut out = settings.clone();
    for f in FIELDS.iter().filter(|f| f.secret) {
        let value = settings.get(f.name).and_then(Value::as_str).unwrap_or("");
        let (shown, fp) = if value.is_empty() {
            (String::new(), String::new())
        } else {
            (secrets::MASK.to_owned(), secrets::fingerprint(value))
        };
        out.insert(f.name.to_owned(), Value::String(shown));
        out.insert(f.fingerprint_name().unwrap_or_default(), Value::String(fp));
    }
    out
}

/// Whether `input` sends a secret as the mask, keeping the stored value.
fn keeps_stored_secret(input: &Settings) -> bool {
    FIELDS.iter().any(|f| is_masked(input, f))
}

fn is_masked(input: &Settings, f: &FieldSpec) -> bool {
    f.secret && input.get(f.name).and_then(Value::as_str) == Some(secrets::MASK)
}

/// A secret sent back as the mask keeps the value in effect; the mask with
/// nothing behind it is an error rather than a silently stored "********".
fn unmask(input: &Settings, previous: Option<&Settings>) -> Result<Settings, SettingsError> {
    let mut out = input.clone();
    let mut errors = Vec::new();
    for f in FIELDS.iter().filter(|f| is_masked(input, f)) {
        match previous
            .and_then(|p| p.get(f.name))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(secret) => {
                out.insert(f.name.to_owned(), Value::String(secret.to_owned()));
            }
            None => errors.push(FieldError {
                field: validate::path(f.name),
                message: format!(
                    "is the mask {:?} but no secret is stored to keep; send the value",
                    secrets::MASK
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SettingsError::Invalid(errors))
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
