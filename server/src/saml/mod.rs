//! The SAML 2.0 service-provider endpoints users log in through, per provider
//! slug: `/saml/{provider}/metadata`, `/login`, `/acs`. The provider named
//! `saml` is also served at `/saml/metadata`, `/saml/login`, `/saml/acs`.

pub mod acs;
pub mod decrypt;
pub mod guard;
pub mod idp;
pub mod login;
pub mod metadata;
pub mod relay;
pub mod runtime;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;

use crate::api::request_id::RequestId;
use crate::api::AppState;
use crate::identity::sessions;
use crate::store::{LoginEventRow, SamlRequestRow};
use crate::web::{cookies, pages};
use runtime::RuntimeError;

/// Default provider of the short `/saml/...` paths.
pub const DEFAULT_PROVIDER: &str = "saml";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/{provider}/metadata", get(metadata_handler))
        .route("/saml/{provider}/login", get(login_handler))
        .route("/saml/{provider}/acs", post(acs_handler))
        .route(
            "/saml/metadata",
            get(|s, q, c| metadata_handler(s, Path(DEFAULT_PROVIDER.to_owned()), q, c)),
        )
        .route(
            "/saml/login",
            get(|s, q, h, c| login_handler(s, Path(DEFAULT_PROVIDER.to_owned()), q, h, c)),
        )
        .route(
            "/saml/acs",
            post(|s, h, c, f| acs_handler(s, Path(DEFAULT_PROVIDER.to_owned()), h, c, f)),
        )
}

fn provider_error(e: &RuntimeError, cid: &str) -> Response {
    match e {
        RuntimeError::Unknown(_) | RuntimeError::Disabled(_) | RuntimeError::Settings(_) => {
            pages::error(
                StatusCode::NOT_FOUND,
                "This sign-in method is not available.",
                cid,
            )
        }
        other => {
            tracing::error!(correlation_id = cid, error = %other, "SAML provider cannot be used");
            pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is misconfigured or temporarily unavailable.",
                cid,
            )
        }
    }
}

#[derive(Deserialize, Default)]
struct NoQuery {}

async fn metadata_handler(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    _: Query<NoQuery>,
    Extension(cid): Extension<RequestId>,
) -> Response {
    let rt = match state.saml.get(&provider).await {
        Ok(rt) => rt,
        Err(e) => return provider_error(&e, &cid.0),
    };
    match metadata::render(&rt) {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(
                correlation_id = cid.0,
                provider,
                error = e,
                "cannot render SP metadata"
            );
            pages::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Metadata could not be produced.",
                &cid.0,
            )
        }
    }
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    redirect_to: String,
}

async fn login_handler(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    Extension(cid): Extension<RequestId>,
) -> Response {
    let rt = match state.saml.get(&provider).await {
        Ok(rt) => rt,
        Err(e) => return provider_error(&e, &cid.0),
    };
    let redirect_to = query.map(|q| q.0.redirect_to).unwrap_or_default();
    let Some(target) = relay::allowed_target(
        &redirect_to,
        state.settings.root_url(),
        &rt.settings.allowed_redirect_urls,
    ) else {
        tracing::warn!(
            correlation_id = cid.0,
            provider,
            "login refused: redirect_to is off-site and not allowed"
        );
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The page to return to after sign-in is not allowed.",
            &cid.0,
        );
    };
    let browser = cookies::get(&headers, cookies::BROWSER)
        .filter(|b| {
            (20..=64).contains(&b.len())
                && b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(login::random_id);
    let id = login::random_id();
    let outbound = match login::start(&rt, &id, &id) {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(correlation_id = cid.0, provider, error = %e, "cannot start SAML login");
            return pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is misconfigured or temporarily unavailable.",
                &cid.0,
            );
        }
    };
    let row = SamlRequestRow {
        id: id.clone(),
        provider: provider.clone(),
        browser: browser.clone(),
        relay_state: target,
        expires_at: sessions::now_secs() + login::REQUEST_TTL_SECS,
    };
    if let Err(e) = state.store.insert_saml_request(&row).await {
        tracing::error!(correlation_id = cid.0, provider, error = %e, "cannot store the AuthnRequest");
        return pages::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is temporarily unavailable.",
            &cid.0,
        );
    }
    tracing::info!(
        correlation_id = cid.0,
        provider,
        request_id = id,
        "SAML login started"
    );
    let mut resp = match outbound {
        login::Outbound::Redirect(url) => Redirect::to(&url).into_response(),
        login::Outbound::Post {
            action,
            saml_request,
            relay_state,
        } => pages::post_form(
            &action,
            &[("SAMLRequest", &saml_request), ("RelayState", &relay_state)],
        ),
    };
    let cookie = cookies::set(
        cookies::BROWSER,
        &browser,
        login::REQUEST_TTL_SECS,
        state.secure_cookies,
        cookies::SameSite::NoneIfSecure,
    );
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    resp
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

async fn acs_handler(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Extension(cid): Extension<RequestId>,
    form: Result<Form<AcsForm>, FormRejection>,
) -> Response {
    let result = match (state.saml.get(&provider).await, form) {
        (Err(e), _) => Err(acs::AcsError::Provider(e)),
        (_, Err(_)) => Err(acs::AcsError::Encoding),
        (Ok(rt), Ok(Form(f))) => {
            acs::accept(
                &state.store,
                rt,
                &f.saml_response,
                &f.relay_state,
                cookies::get(&headers, cookies::BROWSER),
            )
            .await
        }
    };
    let event = |outcome: &str, reason: String, login: &str| LoginEventRow {
        id: uuid::Uuid::new_v4().to_string(),
        provider: provider.clone(),
        at: crate::settings::now(),
        outcome: outcome.to_owned(),
        reason,
        login: login.to_owned(),
        correlation_id: cid.0.clone(),
    };
    match result {
        Ok(ok) => {
            let token = match sessions::create(
                &state.store,
                &ok.user,
                &provider,
                &ok.name_id,
                &ok.session_index,
                state.session_timeouts,
            )
            .await
            {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(correlation_id = cid.0, provider, error = %e, "cannot create session");
                    return pages::error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Sign-in is temporarily unavailable.",
                        &cid.0,
                    );
                }
            };
            metrics::counter!("ssoplane_saml_logins_total", "provider" => provider.clone(), "outcome" => "success").increment(1);
            tracing::info!(
                correlation_id = cid.0,
                provider,
                login = ok.user.login,
                role = ok.decision.role,
                "SAML login succeeded"
            );
            let _ = state
                .store
                .insert_login_event(&event(
                    "success",
                    format!("role {}", ok.decision.role),
                    &ok.identity.login,
                ))
                .await;
            let mut resp = Redirect::to(&ok.redirect_to).into_response();
            let max_age = state.session_timeouts.absolute.as_secs() as i64;
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookies::set(
                    cookies::SESSION,
                    &token,
                    max_age,
                    state.secure_cookies,
                    cookies::SameSite::Lax,
                ),
            );
            resp
        }
        Err(e) => {
            metrics::counter!("ssoplane_saml_logins_total", "provider" => provider.clone(), "outcome" => "failure", "check" => e.check()).increment(1);
            tracing::warn!(correlation_id = cid.0, provider, check = e.check(), reason = %e, "SAML login refused");
            let _ = state
                .store
                .insert_login_event(&event("failure", format!("{}: {e}", e.check()), ""))
                .await;
            let status = match &e {
                acs::AcsError::Provider(RuntimeError::Unknown(_) | RuntimeError::Disabled(_)) => {
                    StatusCode::NOT_FOUND
                }
                acs::AcsError::Encoding | acs::AcsError::Guard(_) => StatusCode::BAD_REQUEST,
                acs::AcsError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::FORBIDDEN,
            };
            pages::error(status, e.user_message(), &cid.0)
        }
    }
}
