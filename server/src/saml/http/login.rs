//! `GET /saml/{provider}/metadata` and `GET /saml/{provider}/login`, and
//! [`begin`], which the console's test sign-in shares.

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{browser_cookie, outbound_response, unusable, Provider, Slug};
use crate::saml::login::{self, BeginError, Outbound};
use crate::saml::runtime::Runtime;
use crate::saml::{metadata as sp_metadata, relay};
use crate::state::AppState;
use crate::web::request_id::CorrelationId;
use crate::web::{cookies, pages};

#[derive(Deserialize, Default)]
pub(super) struct NoQuery {}

pub(super) async fn metadata(
    State(state): State<AppState>,
    Slug(provider): Slug,
    _: Query<NoQuery>,
    cid: CorrelationId,
) -> Response {
    let side = match state.saml.sp_side(&provider).await {
        Ok(side) => side,
        Err(e) => return unusable(&e, &cid),
    };
    match sp_metadata::render(&side) {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(provider, error = %e, "cannot render SP metadata");
            pages::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Metadata could not be produced.",
                cid.as_str(),
            )
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct LoginQuery {
    #[serde(default)]
    redirect_to: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    Provider(rt): Provider,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    query: Result<Query<LoginQuery>, QueryRejection>,
    headers: HeaderMap,
    cid: CorrelationId,
) -> Response {
    let redirect_to = query.map(|q| q.0.redirect_to).unwrap_or_default();
    let target = match relay::allowed_target(
        &redirect_to,
        state.settings.root_url(),
        &rt.settings.allowed_redirect_urls,
    ) {
        Ok(t) => t,
        Err(why) => {
            tracing::warn!(provider = rt.provider, reason = %why, "login refused: redirect_to");
            let message = match why {
                relay::Refused::TooLong => "The page to return to after sign-in is too long.",
                relay::Refused::NotAllowed => "The page to return to after sign-in is not allowed.",
            };
            return pages::error(StatusCode::BAD_REQUEST, message, cid.as_str());
        }
    };
    let source = state.clients.key_of(peer.ip(), &headers);
    match begin(&state, &rt, &headers, &source, target, cid.as_str()).await {
        Ok((outbound, cookie)) => {
            let mut resp = outbound_response(outbound);
            resp.headers_mut().append(header::SET_COOKIE, cookie);
            resp
        }
        Err(page) => page,
    }
}

/// Starts an SP-initiated login in this browser ([`login::begin`], with
/// `relay` and the client's address key `source`): how to send the browser
/// to the IdP and the browser-binding cookie, or the page saying why not
/// (`cid` is shown on it).
pub async fn begin(
    state: &AppState,
    rt: &Runtime,
    headers: &HeaderMap,
    source: &str,
    relay: String,
    cid: &str,
) -> Result<(Outbound, HeaderValue), Response> {
    let browser = cookies::get(headers, cookies::BROWSER);
    let now = state.sessions.clock().now();
    match login::begin(
        &state.store,
        &state.clients,
        now,
        rt,
        browser,
        source,
        relay,
    )
    .await
    {
        Ok(begun) => Ok((begun.outbound, browser_cookie(state, &begun.browser))),
        Err(e) => Err(begin_failed(state, rt, source, &e, cid)),
    }
}

fn begin_failed(
    state: &AppState,
    rt: &Runtime,
    source: &str,
    e: &BeginError,
    cid: &str,
) -> Response {
    let provider = &rt.provider;
    match e {
        BeginError::Login(e) => {
            tracing::error!(provider, error = %e, "cannot start SAML login");
            pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is misconfigured or temporarily unavailable.",
                cid,
            )
        }
        BeginError::Crowded => {
            tracing::warn!(
                provider,
                client = source,
                limit = state.clients.pending_per_address,
                "login refused: too many unfinished sign-ins from this client address"
            );
            let mut resp = pages::error(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-ins were started from your network and not finished. Try again in a few minutes.",
                cid,
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            resp
        }
        BeginError::Store(e) => {
            tracing::error!(provider, error = %e, "cannot store the AuthnRequest");
            pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is temporarily unavailable.",
                cid,
            )
        }
    }
}
