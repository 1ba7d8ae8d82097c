//! Providers in the console: the list (state, IdP, last logins, certificate
//! expiry), one provider's page (the wiring an admin pastes into the IdP,
//! its IdP as resolved, actions), the edit form, enable/disable, delete,
//! and the history with field-by-field changes. Every write goes through
//! the settings service with the version the page was loaded at, exactly as
//! an API `PUT` with `If-Match` does: a newer version is never overwritten.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use ssoplane_schema::api::{HistoryEntry, Source, SsoSettingsDoc};
use ssoplane_schema::FieldError;

use super::access::{ConsoleUser, ConsoleWrite};
use super::certs::{self, CertInfo};
use super::form::{self, Section};
use super::render::{page, Chrome, Nav};
use crate::settings::{Actor, Precondition, SettingsError};
use crate::state::AppState;
use crate::store::LoginEventRow;

/// One row of the provider list.
pub struct Row {
    pub doc: SsoSettingsDoc,
    pub enabled: bool,
    pub name: String,
    pub idp: Result<String, String>,
    pub last_success: Option<LoginEventRow>,
    pub last_failure: Option<LoginEventRow>,
    pub certs: Vec<CertInfo>,
}

impl Row {
    pub fn source(&self) -> &'static str {
        source_name(self.doc.source)
    }

    /// The earliest-expiring IdP certificate, for the list.
    pub fn soonest(&self) -> Option<&CertInfo> {
        self.certs.iter().min_by_key(|c| c.days_left)
    }
}

pub fn source_name(s: Source) -> &'static str {
    match s {
        Source::System => "config file / environment",
        Source::Database => "API / console",
    }
}

fn flag(doc: &SsoSettingsDoc, name: &str) -> bool {
    doc.settings
        .get(name)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

fn text(doc: &SsoSettingsDoc, name: &str) -> String {
    doc.settings
        .get(name)
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// The IdP as resolved right now (entity ID and certificates), or why not.
async fn idp_of(state: &AppState, provider: &str) -> (Result<String, String>, Vec<CertInfo>) {
    match state.saml.inspect(provider).await {
        Ok(rt) => (
            Ok(rt.idp.entity_id.clone()),
            rt.idp
                .entity
                .signing_certs
                .iter()
                .map(certs::describe)
                .collect(),
        ),
        Err(e) => (Err(e.to_string()), Vec::new()),
    }
}

async fn last_logins(
    state: &AppState,
    provider: &str,
) -> (Option<LoginEventRow>, Option<LoginEventRow>) {
    let events = state
        .store
        .login_events(provider, 200)
        .await
        .unwrap_or_default();
    let success = events.iter().find(|e| e.outcome == "success").cloned();
    let failure = events.iter().find(|e| e.outcome == "failure").cloned();
    (success, failure)
}

#[derive(Template)]
#[template(path = "console/providers.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    error: Option<String>,
    warn_days: i32,
}

pub async fn list(State(state): State<AppState>, user: ConsoleUser) -> Response {
    let (docs, error) = match state.settings.list().await {
        Ok(d) => (d, None),
        Err(e) => {
            tracing::error!(error = %e, "cannot list providers");
            (
                Vec::new(),
                Some("The providers could not be read.".to_owned()),
            )
        }
    };
    let mut rows = Vec::new();
    for doc in docs {
        let (idp, certs) = idp_of(&state, &doc.provider).await;
        let (last_success, last_failure) = last_logins(&state, &doc.provider).await;
        rows.push(Row {
            enabled: flag(&doc, "enabled"),
            name: text(&doc, "name"),
            idp,
            certs,
            last_success,
            last_failure,
            doc,
        });
    }
    page(
        &user,
        StatusCode::OK,
        &ListPage {
            chrome: Chrome::new(&user, Nav::Providers, "Providers"),
            rows,
            error,
            warn_days: certs::WARN_DAYS,
        },
    )
}

#[derive(Template)]
#[template(path = "console/provider.html")]
struct ProviderPage {
    chrome: Chrome,
    row: Row,
    notice: Option<String>,
    sp_metadata_path: String,
    has_system: bool,
    warn_days: i32,
}

#[derive(Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    saved: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(provider): Path<String>,
    axum::extract::Query(query): axum::extract::Query<Shown>,
) -> Response {
    let doc = match state.settings.get(&provider).await {
        Ok(d) => d,
        Err(e) => return settings_error(&user, &e),
    };
    let (idp, certs) = idp_of(&state, &provider).await;
    let (last_success, last_failure) = last_logins(&state, &provider).await;
    let notice = query
        .saved
        .map(|v| format!("Saved: the settings are now at version {v}."));
    page(
        &user,
        StatusCode::OK,
        &ProviderPage {
            chrome: Chrome::new(&user, Nav::Providers, format!("Provider {provider}")),
            sp_metadata_path: format!("/saml/{provider}/metadata"),
            has_system: state.settings.has_system(&provider),
            row: Row {
                enabled: flag(&doc, "enabled"),
                name: text(&doc, "name"),
                idp,
                certs,
                last_success,
                last_failure,
                doc,
            },
            notice,
            warn_days: certs::WARN_DAYS,
        },
    )
}

#[derive(Template)]
#[template(path = "console/provider_form.html")]
struct FormPage {
    chrome: Chrome,
    /// None: a new provider (the slug is asked for).
    provider: Option<String>,
    slug: String,
    slug_error: Option<String>,
    version: i64,
    managed_by: String,
    source: &'static str,
    sections: Vec<Section>,
    general: Vec<String>,
    /// Set when the save lost to a newer version: what changed meanwhile.
    conflict: Option<Conflict>,
    admin: bool,
}

pub struct Conflict {
    pub loaded: i64,
    pub current: i64,
    pub changes: Vec<Change>,
}

/// One history entry as shown: values rendered as text (secrets arrive as
/// fingerprints already).
pub struct Change {
    pub version: i64,
    pub action: String,
    pub actor: String,
    pub at: String,
    pub correlation_id: String,
    pub changes: Vec<FieldChange>,
}

pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

impl From<HistoryEntry> for Change {
    fn from(h: HistoryEntry) -> Change {
        Change {
            version: h.version,
            action: h.action,
            actor: h.actor,
            at: h.at,
            correlation_id: h.correlation_id,
            changes: h
                .changes
                .into_iter()
                .map(|c| FieldChange {
                    field: c.field,
                    old: shown(&c.old),
                    new: shown(&c.new),
                })
                .collect(),
        }
    }
}

fn form_page(
    user: &ConsoleUser,
    provider: Option<&str>,
    doc: Option<&SsoSettingsDoc>,
    settings: &ssoplane_schema::validate::Settings,
    errors: &[FieldError],
) -> FormPage {
    FormPage {
        chrome: Chrome::new(
            user,
            Nav::Providers,
            match provider {
                Some(p) => format!("Edit {p}"),
                None => "New provider".to_owned(),
            },
        ),
        provider: provider.map(str::to_owned),
        slug: String::new(),
        slug_error: None,
        version: doc.map_or(0, |d| d.version),
        managed_by: doc.and_then(|d| d.managed_by.clone()).unwrap_or_default(),
        source: doc.map_or("new", |d| source_name(d.source)),
        sections: form::sections(settings, errors),
        general: form::general_errors(errors),
        conflict: None,
        admin: user.is_admin(),
    }
}

pub async fn edit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(provider): Path<String>,
) -> Response {
    let doc = match state.settings.get(&provider).await {
        Ok(d) => d,
        Err(e) => return settings_error(&user, &e),
    };
    let p = form_page(&user, Some(&provider), Some(&doc), &doc.settings, &[]);
    page(&user, StatusCode::OK, &p)
}

pub async fn new_form(user: ConsoleUser) -> Response {
    let defaults = ssoplane_schema::validate::normalize(&Default::default()).unwrap_or_default();
    let p = form_page(&user, None, None, &defaults, &[]);
    page(&user, StatusCode::OK, &p)
}

fn settings_error(user: &ConsoleUser, e: &SettingsError) -> Response {
    match e {
        SettingsError::NotFound(_) | SettingsError::BadProvider(_) => super::render::refusal_page(
            StatusCode::NOT_FOUND,
            "No such provider",
            &e.to_string(),
            &user.correlation_id,
        ),
        other => {
            tracing::error!(error = %other, "console settings error");
            super::render::refusal_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Settings unavailable",
                "The settings could not be read or written; nothing was changed.",
                &user.correlation_id,
            )
        }
    }
}

/// What the history shows of the changes since `loaded`.
async fn changes_since(state: &AppState, provider: &str, loaded: i64) -> Vec<Change> {
    state
        .settings
        .history(provider, 50)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|h| h.version > loaded)
        .map(Change::from)
        .collect()
}

/// Saves a submitted form for `provider` (None: a new one, named by the
/// form's slug), re-showing it with errors when the settings are refused.
async fn save(
    state: &AppState,
    user: &ConsoleUser,
    headers: &HeaderMap,
    provider: Option<String>,
    multipart: Multipart,
) -> Response {
    let submitted = match form::read(multipart).await {
        Ok(s) => s,
        Err(e) => {
            return super::render::refusal_page(
                StatusCode::BAD_REQUEST,
                "The form could not be read",
                &e.to_string(),
                &user.correlation_id,
            )
        }
    };
    let meta = |k: &str| submitted.meta.get(k).map(String::as_str).unwrap_or("");
    if let Err(r) = user.check_write(headers, meta("csrf"), state.settings.root_url()) {
        return r.into_response(&user.correlation_id);
    }
    let slug = provider.clone().unwrap_or_else(|| meta("slug").to_owned());
    let version: i64 = meta("version").parse().unwrap_or(-1);
    let current = state.settings.get(&slug).await.ok();
    let rerender = |errors: &[FieldError]| {
        let mut p = form_page(
            user,
            provider.as_deref(),
            current.as_ref(),
            &submitted.settings,
            errors,
        );
        p.version = version.max(0);
        p.slug = slug.clone();
        p
    };
    if provider.is_none() {
        if let Err(e) = ssoplane_schema::slug::check(&slug) {
            let mut p = rerender(&[]);
            p.slug_error = Some(e.to_string());
            return page(user, StatusCode::BAD_REQUEST, &p);
        }
    }
    // Settings Terraform manages are reverted by its next apply: saving
    // over them takes an explicit confirmation.
    if current
        .as_ref()
        .and_then(|d| d.managed_by.as_deref())
        .is_some_and(|m| m == "terraform")
        && meta("confirm_managed").is_empty()
    {
        let p = rerender(
            &[FieldError {
                field: "confirm_managed".into(),
                message: "These settings are managed by Terraform: confirm that you want to change them here (the next terraform apply will revert the change unless the Terraform configuration changes too).".into(),
            }],
        );
        return page(user, StatusCode::CONFLICT, &p);
    }
    let precondition = match (&provider, version) {
        (None, _) => Precondition::Absent,
        (Some(_), v) if v >= 0 => Precondition::Version(v),
        _ => Precondition::Version(0),
    };
    let actor_name = user.actor();
    let actor = Actor {
        name: &actor_name,
        correlation_id: &user.correlation_id,
        managed_by: "",
    };
    match state
        .settings
        .put(&slug, &submitted.settings, precondition, &actor)
        .await
    {
        Ok(doc) => {
            tracing::info!(
                provider = slug,
                version = doc.version,
                actor = actor_name,
                "provider saved from the console"
            );
            Redirect::to(&format!("/admin/providers/{slug}?saved={}", doc.version)).into_response()
        }
        Err(SettingsError::Invalid(errors)) => {
            let p = rerender(&errors);
            page(user, StatusCode::BAD_REQUEST, &p)
        }
        Err(
            SettingsError::VersionMismatch { current: now }
            | SettingsError::AlreadyExists { current: now },
        ) if provider.is_some() => {
            // Someone saved meanwhile: show what changed, keep the admin's
            // input, and make saving again a decision taken with that in view.
            let changes = changes_since(state, &slug, version).await;
            let mut p = rerender(&[]);
            p.conflict = Some(Conflict {
                loaded: version,
                current: now,
                changes,
            });
            p.version = now;
            page(user, StatusCode::CONFLICT, &p)
        }
        Err(SettingsError::AlreadyExists { current: now }) => {
            let mut p = rerender(&[]);
            p.slug_error = Some(format!(
                "a provider named {slug:?} already has settings (version {now}); edit it instead"
            ));
            page(user, StatusCode::CONFLICT, &p)
        }
        Err(e) => settings_error(user, &e),
    }
}

pub async fn update(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(provider): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    save(&state, &user, &headers, Some(provider), multipart).await
}

pub async fn create(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    save(&state, &user, &headers, None, multipart).await
}

#[derive(Deserialize)]
pub struct Toggle {
    version: i64,
    enabled: String,
}

/// Enable or disable: a full write of the loaded settings with one change.
pub async fn set_enabled(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ConsoleWrite { user, form: f }: ConsoleWrite<Toggle>,
) -> Response {
    let doc = match state.settings.get(&provider).await {
        Ok(d) => d,
        Err(e) => return settings_error(&user, &e),
    };
    let mut settings = doc.settings.clone();
    settings.insert(
        "enabled".into(),
        serde_json::Value::Bool(f.enabled == "true"),
    );
    let actor_name = user.actor();
    let actor = Actor {
        name: &actor_name,
        correlation_id: &user.correlation_id,
        managed_by: "",
    };
    match state
        .settings
        .put(&provider, &settings, Precondition::Version(f.version), &actor)
        .await
    {
        Ok(doc) => Redirect::to(&format!("/admin/providers/{provider}?saved={}", doc.version))
            .into_response(),
        Err(SettingsError::VersionMismatch { current }) => super::render::refusal_page(
            StatusCode::CONFLICT,
            "Changed meanwhile",
            &format!("The settings changed since this page was loaded (now version {current}); nothing was changed. Reload the provider's page and try again."),
            &user.correlation_id,
        ),
        Err(SettingsError::Invalid(errors)) => super::render::refusal_page(
            StatusCode::BAD_REQUEST,
            "Cannot be enabled as it is",
            &errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            &user.correlation_id,
        ),
        Err(e) => settings_error(&user, &e),
    }
}

#[derive(Template)]
#[template(path = "console/provider_delete.html")]
struct DeletePage {
    chrome: Chrome,
    provider: String,
    version: i64,
    has_system: bool,
    managed_by: String,
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(provider): Path<String>,
) -> Response {
    let doc = match state.settings.get(&provider).await {
        Ok(d) => d,
        Err(e) => return settings_error(&user, &e),
    };
    if doc.source == Source::System {
        return super::render::refusal_page(
            StatusCode::CONFLICT,
            "Nothing to delete",
            "This provider comes from the config file or environment only; change it there.",
            &user.correlation_id,
        );
    }
    page(
        &user,
        StatusCode::OK,
        &DeletePage {
            chrome: Chrome::new(&user, Nav::Providers, format!("Delete {provider}")),
            has_system: state.settings.has_system(&provider),
            managed_by: doc.managed_by.clone().unwrap_or_default(),
            version: doc.version,
            provider,
        },
    )
}

#[derive(Deserialize)]
pub struct Delete {
    version: i64,
}

pub async fn delete(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ConsoleWrite { user, form: f }: ConsoleWrite<Delete>,
) -> Response {
    let actor_name = user.actor();
    let actor = Actor {
        name: &actor_name,
        correlation_id: &user.correlation_id,
        managed_by: "",
    };
    match state
        .settings
        .delete(&provider, Precondition::Version(f.version), &actor)
        .await
    {
        Ok(()) if state.settings.has_system(&provider) => {
            Redirect::to(&format!("/admin/providers/{provider}")).into_response()
        }
        Ok(()) => Redirect::to("/admin/providers").into_response(),
        Err(SettingsError::VersionMismatch { current }) => super::render::refusal_page(
            StatusCode::CONFLICT,
            "Changed meanwhile",
            &format!("The settings changed since this page was loaded (now version {current}); nothing was deleted. Review the provider and try again."),
            &user.correlation_id,
        ),
        Err(e) => settings_error(&user, &e),
    }
}

#[derive(Template)]
#[template(path = "console/history.html")]
struct HistoryPage {
    chrome: Chrome,
    provider: String,
    entries: Vec<Change>,
}

/// A history value as shown: strings as they are (secrets arrive as
/// fingerprints), the rest as JSON.
fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(unset)".into(),
        other => other.to_string(),
    }
}

pub async fn history(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(provider): Path<String>,
) -> Response {
    match state.settings.history(&provider, 200).await {
        Ok(entries) => page(
            &user,
            StatusCode::OK,
            &HistoryPage {
                chrome: Chrome::new(&user, Nav::Providers, format!("History of {provider}")),
                provider,
                entries: entries.into_iter().map(Change::from).collect(),
            },
        ),
        Err(e) => settings_error(&user, &e),
    }
}
