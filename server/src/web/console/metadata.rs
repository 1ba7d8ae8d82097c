//! Loading IdP metadata from the console: pasted, uploaded or fetched from a
//! URL, parsed by the same reader the SAML endpoints use, and previewed
//! (entities, endpoints, NameID formats, certificates with their expiry)
//! before anything is saved. Using it writes the provider's settings like
//! any console edit: with the version the page was loaded at.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::access::{ConsoleUser, ConsoleWrite};
use super::certs::{self, CertInfo};
use super::form::MAX_UPLOAD;
use super::render::{page, refusal_page, Chrome, Nav};
use crate::saml::idp::{self, IdpEntity, POST, REDIRECT};
use crate::settings::{Actor, Precondition, SettingsError};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/metadata.html")]
struct MetadataPage {
    chrome: Chrome,
    provider: String,
    version: i64,
    error: Option<String>,
    /// The previewed document: how it would be stored, and what it holds.
    preview: Option<Preview>,
}

pub struct Preview {
    /// `inline` (base64 of the XML) or `url`.
    pub source: &'static str,
    pub value: String,
    pub entities: Vec<EntityView>,
}

pub struct EndpointView {
    pub binding: &'static str,
    pub location: String,
}

pub struct EntityView {
    pub entity_id: String,
    pub sso: Vec<EndpointView>,
    pub slo: Vec<EndpointView>,
    pub name_id_formats: Vec<String>,
    pub certs: Vec<CertInfo>,
    pub valid_until: String,
    pub cache_duration: String,
    pub want_authn_requests_signed: bool,
}

fn binding_name(b: &str) -> &'static str {
    match b {
        REDIRECT => "HTTP-Redirect",
        POST => "HTTP-POST",
        _ => "other",
    }
}

fn view(e: IdpEntity) -> EntityView {
    let endpoints = |list: Vec<idp::Endpoint>| {
        list.into_iter()
            .map(|x| EndpointView {
                binding: binding_name(&x.binding),
                location: x.location,
            })
            .collect()
    };
    EntityView {
        certs: e.signing_certs.iter().map(certs::describe).collect(),
        valid_until: e.valid_until.map(|t| t.to_rfc3339()).unwrap_or_default(),
        cache_duration: e
            .cache_duration
            .map(|d| humantime::format_duration(d).to_string())
            .unwrap_or_default(),
        entity_id: e.entity_id,
        sso: endpoints(e.sso),
        slo: endpoints(e.slo),
        name_id_formats: e.name_id_formats,
        want_authn_requests_signed: e.want_authn_requests_signed,
    }
}

async fn version_of(state: &AppState, provider: &str) -> Result<i64, SettingsError> {
    state.settings.get(provider).await.map(|d| d.version)
}

pub async fn form(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(provider): Path<String>,
) -> Response {
    let version = match version_of(&state, &provider).await {
        Ok(v) => v,
        Err(e) => {
            return refusal_page(
                StatusCode::NOT_FOUND,
                "No such provider",
                &e.to_string(),
                &user.correlation_id,
            )
        }
    };
    page(
        &user,
        StatusCode::OK,
        &MetadataPage {
            chrome: Chrome::new(
                &user,
                Nav::Providers,
                format!("IdP metadata for {provider}"),
            ),
            provider,
            version,
            error: None,
            preview: None,
        },
    )
}

/// Parses what was pasted, uploaded or named by URL, and shows it.
pub async fn preview(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(provider): Path<String>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let mut fields: std::collections::BTreeMap<String, String> = Default::default();
    let mut parts = 0;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return refusal_page(
                    StatusCode::BAD_REQUEST,
                    "The form could not be read",
                    &e.body_text(),
                    &user.correlation_id,
                )
            }
        };
        parts += 1;
        if parts > 8 {
            return refusal_page(
                StatusCode::BAD_REQUEST,
                "The form could not be read",
                "too many fields",
                &user.correlation_id,
            );
        }
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(b) if b.len() <= MAX_UPLOAD => b,
            Ok(_) => {
                return refusal_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too large",
                    "The metadata is larger than 4 MiB.",
                    &user.correlation_id,
                )
            }
            Err(e) => {
                return refusal_page(
                    StatusCode::BAD_REQUEST,
                    "The form could not be read",
                    &e.body_text(),
                    &user.correlation_id,
                )
            }
        };
        fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
    }
    let get = |k: &str| {
        fields
            .get(k)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    if let Err(r) = user.check_write(&headers, &get("csrf"), state.settings.root_url()) {
        return r.into_response(&user.correlation_id);
    }
    let version = match version_of(&state, &provider).await {
        Ok(v) => v,
        Err(e) => {
            return refusal_page(
                StatusCode::NOT_FOUND,
                "No such provider",
                &e.to_string(),
                &user.correlation_id,
            )
        }
    };
    let (url, file, pasted) = (get("url"), get("file"), get("xml"));
    let source = if !file.is_empty() || !pasted.is_empty() {
        let xml = if file.is_empty() { pasted } else { file };
        idp::read_metadata(&xml).map(|entities| Preview {
            source: "inline",
            value: base64::engine::general_purpose::STANDARD.encode(&xml),
            entities: entities.into_iter().map(view).collect(),
        })
    } else if !url.is_empty() {
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => match idp::download(&url).await {
                Ok(xml) => idp::read_metadata(&xml).map(|entities| Preview {
                    source: "url",
                    value: url.clone(),
                    entities: entities.into_iter().map(view).collect(),
                }),
                Err(e) => Err(e),
            },
            _ => Err(idp::IdpError::Metadata("the URL must be http(s)".into())),
        }
    } else {
        Err(idp::IdpError::Metadata(
            "paste the metadata XML, upload a file, or give its URL".into(),
        ))
    };
    let (error, preview) = match source {
        Ok(p) if p.entities.is_empty() => (
            Some("The document holds no SAML 2.0 identity provider.".to_owned()),
            None,
        ),
        Ok(p) => (None, Some(p)),
        Err(e) => (Some(e.to_string()), None),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(
        &user,
        status,
        &MetadataPage {
            chrome: Chrome::new(
                &user,
                Nav::Providers,
                format!("IdP metadata for {provider}"),
            ),
            provider,
            version,
            error,
            preview,
        },
    )
}

#[derive(Deserialize)]
pub struct Apply {
    version: i64,
    source: String,
    value: String,
    #[serde(default)]
    entity_id: String,
}

/// Stores the previewed metadata as the provider's IdP: inline or by URL,
/// the other IdP sources cleared, the chosen entity selected.
pub async fn apply(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ConsoleWrite { user, form: f }: ConsoleWrite<Apply>,
) -> Response {
    let doc = match state.settings.get(&provider).await {
        Ok(d) => d,
        Err(e) => {
            return refusal_page(
                StatusCode::NOT_FOUND,
                "No such provider",
                &e.to_string(),
                &user.correlation_id,
            )
        }
    };
    let mut s = doc.settings.clone();
    let empty = || Value::String(String::new());
    for cleared in [
        "idp_metadata",
        "idp_metadata_path",
        "idp_metadata_url",
        "idp_sso_url",
    ] {
        s.insert(cleared.into(), empty());
    }
    s.insert("idp_certificates".into(), Value::Array(Vec::new()));
    match f.source.as_str() {
        "inline" => s.insert("idp_metadata".into(), Value::String(f.value)),
        "url" => s.insert("idp_metadata_url".into(), Value::String(f.value)),
        _ => {
            return refusal_page(
                StatusCode::BAD_REQUEST,
                "Unknown source",
                "The metadata source must be inline or url.",
                &user.correlation_id,
            )
        }
    };
    s.insert("idp_entity_id".into(), Value::String(f.entity_id));
    let actor_name = user.actor();
    let actor = Actor {
        name: &actor_name,
        correlation_id: &user.correlation_id,
        managed_by: "",
    };
    match state
        .settings
        .put(&provider, &s, Precondition::Version(f.version), &actor)
        .await
    {
        Ok(doc) => Redirect::to(&format!("/admin/providers/{provider}?saved={}", doc.version)).into_response(),
        Err(SettingsError::VersionMismatch { current }) => refusal_page(
            StatusCode::CONFLICT,
            "Changed meanwhile",
            &format!("The settings changed since this page was loaded (now version {current}); nothing was changed. Load the metadata again."),
            &user.correlation_id,
        ),
        Err(SettingsError::Invalid(errors)) => refusal_page(
            StatusCode::BAD_REQUEST,
            "Not saved",
            &errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
            &user.correlation_id,
        ),
        Err(e) => {
            tracing::error!(error = %e, "cannot apply IdP metadata");
            refusal_page(StatusCode::SERVICE_UNAVAILABLE, "Not saved", "The settings could not be written.", &user.correlation_id)
        }
    }
}
