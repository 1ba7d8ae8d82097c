//! The HTTP side of the SAML SP: the routes, the extractors every endpoint
//! starts with (the provider the path names, as its runtime or the error
//! page), and the responses they share. Handlers read the request and
//! render; the protocol is in `saml::{login, acs, slo}`, sessions in
//! `identity::sessions`.

mod acs;
mod login;
mod slo;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::login::Outbound;
use super::runtime::{Runtime, RuntimeError};
use super::DEFAULT_PROVIDER;
use crate::state::AppState;
use crate::web::request_id::CorrelationId;
use crate::web::{cookies, pages};

pub use login::begin;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/{provider}/metadata", get(login::metadata))
        .route("/saml/{provider}/login", get(login::login))
        .route("/saml/{provider}/acs", post(acs::acs))
        .route("/saml/{provider}/slo", get(slo::get).post(slo::post))
        .route("/saml/metadata", get(login::metadata))
        .route("/saml/login", get(login::login))
        .route("/saml/acs", post(acs::acs))
        .route("/saml/slo", get(slo::get).post(slo::post))
}

/// The provider a `/saml/...` path names: `{provider}`, or
/// [`DEFAULT_PROVIDER`] on the short paths.
pub struct Slug(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Slug {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Option::<Path<String>>::from_request_parts(parts, state).await {
            Ok(Some(Path(slug))) => Ok(Slug(slug)),
            Ok(None) => Ok(Slug(DEFAULT_PROVIDER.to_owned())),
            Err(rejection) => Err(rejection.into_response()),
        }
    }
}

/// The enabled provider the path names, compiled; or the page saying it
/// cannot be used.
pub struct Provider(pub Arc<Runtime>);

impl FromRequestParts<AppState> for Provider {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Slug(slug) = Slug::from_request_parts(parts, state).await?;
        state
            .saml
            .get(&slug)
            .await
            .map(Provider)
            .map_err(|e| unusable(&e, &CorrelationId::of(&parts.extensions)))
    }
}

/// The page for a provider that is unknown, disabled or cannot be compiled.
fn unusable(e: &RuntimeError, cid: &CorrelationId) -> Response {
    match e {
        RuntimeError::Unknown(_) | RuntimeError::Disabled(_) | RuntimeError::Settings(_) => {
            pages::error(
                StatusCode::NOT_FOUND,
                "This sign-in method is not available.",
                cid.as_str(),
            )
        }
        other => {
            tracing::error!(error = %other, "SAML provider cannot be used");
            pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is misconfigured or temporarily unavailable.",
                cid.as_str(),
            )
        }
    }
}

/// Sends the browser on to the IdP: a redirect, or a self-submitting form.
pub fn outbound_response(outbound: Outbound) -> Response {
    match outbound {
        Outbound::Redirect(url) => Redirect::to(&url).into_response(),
        Outbound::Post {
            action,
            param,
            message,
            relay_state,
        } => pages::post_form(&action, &[(param, &message), ("RelayState", &relay_state)]),
    }
}

/// The cookie binding pending requests to this browser (`SameSite=None` on
/// https, so it comes back with the IdP's cross-site POST).
fn browser_cookie(state: &AppState, browser: &str) -> axum::http::HeaderValue {
    cookies::set(
        cookies::BROWSER,
        browser,
        super::login::REQUEST_TTL_SECS,
        state.secure_cookies,
        cookies::SameSite::NoneIfSecure,
    )
}

/// Ends the browser's session cookie (every single-logout outcome).
fn clear_session(mut resp: Response, secure: bool) -> Response {
    resp.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::SESSION, secure));
    resp
}
