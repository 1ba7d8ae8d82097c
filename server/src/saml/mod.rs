//! The SAML 2.0 service-provider endpoints users log in through, per provider
//! slug: `/saml/{provider}/metadata`, `/login`, `/acs`, `/slo`. The provider
//! named `saml` is also served at `/saml/metadata`, `/saml/login`,
//! `/saml/acs` and `/saml/slo`.

/// XML namespaces of the SAML and XML-Security messages we read.
pub mod ns {
    pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
    pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
    pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
}

pub mod acs;
pub mod algorithms;
pub mod assertion;
mod c14n;
pub mod decrypt;
pub mod diagnose;
pub mod dsig;
pub mod guard;
pub mod idp;
pub mod login;
pub mod messages;
pub mod metadata;
pub mod relay;
pub mod runtime;
pub mod sign;
pub mod slo;
pub mod validate;
pub mod work;
pub mod write;
pub mod xml;

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;

use crate::api::request_id::RequestId;
use crate::api::AppState;
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
            "/saml/{provider}/slo",
            get(slo_get_handler).post(slo_post_handler),
        )
        .route(
            "/saml/metadata",
            get(|s, q, c| metadata_handler(s, Path(DEFAULT_PROVIDER.to_owned()), q, c)),
        )
        .route(
            "/saml/login",
            get(|s, p, q, h, c| login_handler(s, Path(DEFAULT_PROVIDER.to_owned()), p, q, h, c)),
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

/// Sends the browser on to the IdP: a redirect, or a self-submitting form.
pub fn outbound_response(outbound: login::Outbound) -> Response {
    match outbound {
        login::Outbound::Redirect(url) => Redirect::to(&url).into_response(),
        login::Outbound::Post {
            action,
            param,
            message,
            relay_state,
        } => pages::post_form(&action, &[(param, &message), ("RelayState", &relay_state)]),
    }
}

async fn metadata_handler(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    _: Query<NoQuery>,
    Extension(cid): Extension<RequestId>,
) -> Response {
    let side = match state.saml.sp_side(&provider).await {
        Ok(side) => side,
        Err(e) => return provider_error(&e, &cid.0),
    };
    match metadata::render(&side) {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(
                correlation_id = cid.0,
                provider,
                error = %e,
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
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    Extension(cid): Extension<RequestId>,
) -> Response {
    let rt = match state.saml.get(&provider).await {
        Ok(rt) => rt,
        Err(e) => return provider_error(&e, &cid.0),
    };
    let redirect_to = query.map(|q| q.0.redirect_to).unwrap_or_default();
    let target = match relay::allowed_target(
        &redirect_to,
        state.settings.root_url(),
        &rt.settings.allowed_redirect_urls,
    ) {
        Ok(t) => t,
        Err(why) => {
            tracing::warn!(correlation_id = cid.0, provider, reason = %why, "login refused: redirect_to");
            let message = match why {
                relay::Refused::TooLong => "The page to return to after sign-in is too long.",
                relay::Refused::NotAllowed => "The page to return to after sign-in is not allowed.",
            };
            return pages::error(StatusCode::BAD_REQUEST, message, &cid.0);
        }
    };
    let source = state.clients.key_of(peer.ip(), &headers);
    match begin(&state, &rt, &headers, &source, target, &cid.0).await {
        Ok((outbound, cookie)) => {
            let mut resp = outbound_response(outbound);
            resp.headers_mut().append(header::SET_COOKIE, cookie);
            resp
        }
        Err(page) => page,
    }
}

/// Starts an SP-initiated login in this browser: the AuthnRequest (and how
/// to send it) and the browser-binding cookie, the pending request stored
/// with `relay` (where to go afterwards, or a test sign-in's marker) and
/// `source` (the client's address key, `web::client`), within the bounds
/// per browser and per address (`login::remember`).
pub async fn begin(
    state: &AppState,
    rt: &runtime::Runtime,
    headers: &HeaderMap,
    source: &str,
    relay: String,
    cid: &str,
) -> Result<(login::Outbound, axum::http::HeaderValue), Response> {
    let provider = &rt.provider;
    let browser = cookies::get(headers, cookies::BROWSER)
        .filter(|b| {
            (20..=64).contains(&b.len())
                && b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(login::random_id);
    let id = login::random_id();
    let outbound = login::start(rt, &id, &id).map_err(|e| {
        tracing::error!(correlation_id = cid, provider, error = %e, "cannot start SAML login");
        pages::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is misconfigured or temporarily unavailable.",
            cid,
        )
    })?;
    let row = SamlRequestRow {
        id: id.clone(),
        provider: provider.clone(),
        browser: browser.clone(),
        relay_state: relay,
        expires_at: 0,
        source: source.to_owned(),
    };
    match login::remember(
        &state.store,
        &state.clients,
        row,
        state.sessions.clock().now(),
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(
                correlation_id = cid,
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
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
            return Err(resp);
        }
        Err(e) => {
            tracing::error!(correlation_id = cid, provider, error = %e, "cannot store the AuthnRequest");
            return Err(pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is temporarily unavailable.",
                cid,
            ));
        }
    }
    tracing::info!(
        correlation_id = cid,
        provider,
        request_id = id,
        "SAML login started"
    );
    let cookie = cookies::set(
        cookies::BROWSER,
        &browser,
        login::REQUEST_TTL_SECS,
        state.secure_cookies,
        cookies::SameSite::NoneIfSecure,
    );
    Ok((outbound, cookie))
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
    /// Set by our own same-site resubmission step (see `acs_handler`).
    #[serde(rename = "ssoplane_resubmitted", default)]
    resubmitted: Option<String>,
}

/// The browser binding cookie is `SameSite=Lax` on plain http (browsers
/// drop `SameSite=None` without `Secure`), and some browsers withhold even
/// `SameSite=None` cookies: then the IdP's cross-site POST arrives without
/// it. Instead of failing the login, the ACS answers that POST with a page
/// that posts the same fields again from our own origin — a same-site
/// request, which carries the cookie. The binding itself is unchanged: the
/// response must still answer a request this browser started. The marker
/// field makes it one step at most.
fn resubmit_same_site(rt: &runtime::Runtime, form: &AcsForm) -> Response {
    pages::post_form(
        &rt.sp.acs_url,
        &[
            ("SAMLResponse", &form.saml_response),
            ("RelayState", &form.relay_state),
            ("ssoplane_resubmitted", "1"),
        ],
    )
}

async fn acs_handler(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Extension(cid): Extension<RequestId>,
    form: Result<Form<AcsForm>, FormRejection>,
) -> Response {
    let browser = cookies::get(&headers, cookies::BROWSER);
    // Browsers send Origin with every form POST (Sec-Fetch-Site only over
    // https): another origin, or "null", is the IdP's page posting to us.
    let root_origin = url::Url::parse(state.settings.root_url())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let cross_site = headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() != root_origin.as_bytes());
    // A disabled provider answers only an administrator's test sign-in
    // started in this browser (the console tests providers before they go live).
    // Without the browser cookie yet, the same-site step below comes first.
    let cookie_step =
        browser.is_none() && cross_site && form.as_ref().is_ok_and(|f| f.resubmitted.is_none());
    let runtime = match state.saml.get(&provider).await {
        Ok(rt) => Ok((rt, false)),
        Err(RuntimeError::Disabled(_))
            if cookie_step || test_pending(&state, &provider, browser).await =>
        {
            state.saml.inspect(&provider).await.map(|rt| (rt, true))
        }
        Err(e) => Err(e),
    };
    let result = match (runtime, form) {
        (Err(e), _) => Err(acs::AcsError::Provider(e)),
        (_, Err(_)) => Err(acs::AcsError::Encoding),
        (Ok((rt, _)), Ok(Form(f)))
            if browser.is_none() && cross_site && f.resubmitted.is_none() =>
        {
            tracing::info!(
                correlation_id = cid.0,
                provider,
                "cross-site ACS POST without the browser cookie: resubmitting same-site"
            );
            return resubmit_same_site(&rt, &f);
        }
        (Ok((rt, tests_only)), Ok(Form(f))) => {
            acs::accept(
                &state.store,
                &state.saml,
                rt,
                acs::Posted {
                    saml_response: &f.saml_response,
                    relay_state: &f.relay_state,
                    browser,
                },
                state.sessions.clock(),
                tests_only,
            )
            .await
        }
    };
    let result = match result {
        Ok(acs::Outcome::Test(report)) => return test_sign_in_done(&state, *report, &cid.0).await,
        Ok(acs::Outcome::Login(ok)) => Ok(*ok),
        Err(e) => Err(e),
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
            let token = match state
                .sessions
                .create(&ok.user, &provider, &ok.name_id, &ok.session_index)
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
                acs::AcsError::Store(_) | acs::AcsError::Work(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::FORBIDDEN,
            };
            pages::error(status, e.user_message(), &cid.0)
        }
    }
}

/// Whether this browser has started a test sign-in of `provider`.
async fn test_pending(state: &AppState, provider: &str, browser: Option<&str>) -> bool {
    let Some(browser) = browser else {
        return false;
    };
    state
        .store
        .pending_saml_requests(provider, browser, state.sessions.clock().now())
        .await
        .is_ok_and(|rows| {
            rows.iter()
                .any(|r| r.relay_state.starts_with(diagnose::TEST_RELAY_PREFIX))
        })
}

/// A test sign-in's report is kept for the console (never a session) and
/// the administrator's tab is sent to it.
async fn test_sign_in_done(state: &AppState, report: diagnose::TestReport, cid: &str) -> Response {
    tracing::info!(
        correlation_id = cid,
        provider = report.provider,
        outcome = report.outcome,
        check = report.check.as_deref().unwrap_or(""),
        "test sign-in finished"
    );
    match crate::web::console::save_test_report(state, &report).await {
        Ok(id) => Redirect::to(&format!("/admin/tests/{id}")).into_response(),
        Err(e) => {
            tracing::error!(correlation_id = cid, error = %e, "cannot store a test sign-in report");
            pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The test sign-in finished but its report could not be stored.",
                cid,
            )
        }
    }
}

/// Ends the browser's session cookie on any single-logout outcome.
fn clear_session(mut resp: Response, secure: bool) -> Response {
    resp.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::SESSION, secure));
    resp
}

fn slo_failed(e: &slo::SloError, provider: &str, cid: &str) -> Response {
    tracing::warn!(correlation_id = cid, provider, reason = %e, "single logout refused");
    pages::error(StatusCode::BAD_REQUEST, "The logout message could not be accepted; you may still be signed in at your identity provider.", cid)
}

async fn slo_get_handler(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
    Extension(cid): Extension<RequestId>,
) -> Response {
    let rt = match state.saml.get(&provider).await {
        Ok(rt) => rt,
        Err(e) => return provider_error(&e, &cid.0),
    };
    let query = query.unwrap_or_default();
    let relay_state = slo::raw_param(&query, "RelayState")
        .and_then(|r| slo::url_decode(r).ok())
        .unwrap_or_default();
    let param = ["SAMLRequest", "SAMLResponse"]
        .into_iter()
        .find(|p| slo::raw_param(&query, p).is_some());
    let Some(param) = param else {
        let source = state.clients.key_of(peer.ip(), &headers);
        return sp_initiated_logout(&state, &rt, &headers, &source, &cid.0).await;
    };
    // Nothing of a logout message is read unless single logout is on.
    if !rt.settings.single_logout {
        return slo_failed(&slo::SloError::Disabled, &rt.provider, &cid.0);
    }
    let msg = slo::Incoming::Redirect { query, param };
    if param == "SAMLRequest" {
        idp_initiated_logout(&state, &rt, msg, &relay_state, &cid.0).await
    } else {
        logout_response(&state, &rt, msg, &headers, &cid.0).await
    }
}

#[derive(Deserialize)]
struct SloForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

async fn slo_post_handler(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Extension(cid): Extension<RequestId>,
    form: Result<Form<SloForm>, FormRejection>,
) -> Response {
    let rt = match state.saml.get(&provider).await {
        Ok(rt) => rt,
        Err(e) => return provider_error(&e, &cid.0),
    };
    if !rt.settings.single_logout {
        return slo_failed(&slo::SloError::Disabled, &provider, &cid.0);
    }
    let Ok(Form(form)) = form else {
        return slo_failed(&slo::SloError::Encoding, &provider, &cid.0);
    };
    match (form.saml_request, form.saml_response) {
        (Some(req), _) => {
            idp_initiated_logout(
                &state,
                &rt,
                slo::Incoming::Post(req),
                &form.relay_state,
                &cid.0,
            )
            .await
        }
        (None, Some(resp)) => {
            logout_response(&state, &rt, slo::Incoming::Post(resp), &headers, &cid.0).await
        }
        (None, None) => slo_failed(&slo::SloError::Encoding, &provider, &cid.0),
    }
}

async fn idp_initiated_logout(
    state: &AppState,
    rt: &Arc<runtime::Runtime>,
    msg: slo::Incoming,
    relay_state: &str,
    cid: &str,
) -> Response {
    // The RelayState is sent back with our answer: refused before anything
    // is done rather than echoed oversized into a Location header.
    if relay_state.len() > relay::MAX_EMITTED {
        return slo_failed(&slo::SloError::RelayStateTooLong, &rt.provider, cid);
    }
    let checked = {
        let rt = Arc::clone(rt);
        state
            .saml
            .workers
            .run(move || msg.message(&rt).and_then(|m| slo::check_request(&rt, &m)))
            .await
    };
    let logout = match checked.map_err(slo::SloError::from).and_then(|r| r) {
        Ok(l) => l,
        Err(e) => return slo_failed(&e, &rt.provider, cid),
    };
    let ended = match state
        .store
        .delete_sessions_of(&rt.provider, &logout.name_id.value, &logout.session_indexes)
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(correlation_id = cid, error = %e, "cannot end sessions");
            return pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Logout is temporarily unavailable.",
                cid,
            );
        }
    };
    tracing::info!(
        correlation_id = cid,
        provider = rt.provider,
        sessions = ended,
        "IdP-initiated single logout"
    );
    if !rt.settings.send_logout_response {
        return clear_session(
            pages::message("Signed out", "You are signed out."),
            state.secure_cookies,
        );
    }
    match slo::respond(rt, &logout.request_id, relay_state) {
        Ok(out) => clear_session(outbound_response(out), state.secure_cookies),
        Err(e) => slo_failed(&e, &rt.provider, cid),
    }
}

async fn logout_response(
    state: &AppState,
    rt: &Arc<runtime::Runtime>,
    msg: slo::Incoming,
    headers: &HeaderMap,
    cid: &str,
) -> Response {
    let checked = {
        let rt = Arc::clone(rt);
        state
            .saml
            .workers
            .run(move || msg.message(&rt).and_then(|m| slo::check_response(&rt, &m)))
            .await
    };
    let in_response_to = match checked.map_err(slo::SloError::from).and_then(|r| r) {
        Ok(id) => id,
        Err(e) => return slo_failed(&e, &rt.provider, cid),
    };
    let browser = cookies::get(headers, cookies::BROWSER).unwrap_or_default();
    let pending = state
        .store
        .pending_saml_requests(&rt.provider, browser, state.sessions.clock().now())
        .await
        .unwrap_or_default();
    let ours = pending.iter().any(|p| p.id == in_response_to);
    if !ours
        || !state
            .store
            .take_saml_request(&in_response_to)
            .await
            .unwrap_or(false)
    {
        return slo_failed(&slo::SloError::UnknownRequest, &rt.provider, cid);
    }
    tracing::info!(
        correlation_id = cid,
        provider = rt.provider,
        "SP-initiated single logout completed"
    );
    clear_session(
        pages::message(
            "Signed out",
            "You are signed out here and at your identity provider.",
        ),
        state.secure_cookies,
    )
}

async fn sp_initiated_logout(
    state: &AppState,
    rt: &runtime::Runtime,
    headers: &HeaderMap,
    source: &str,
    cid: &str,
) -> Response {
    let session = match cookies::get(headers, cookies::SESSION) {
        Some(token) => state
            .sessions
            .lookup(token)
            .await
            .ok()
            .flatten()
            .map(|(s, _)| (token.to_owned(), s)),
        None => None,
    };
    let Some((token, session)) = session.filter(|(_, s)| s.provider == rt.provider) else {
        return clear_session(
            pages::message("Signed out", "You are not signed in."),
            state.secure_cookies,
        );
    };
    if let Err(e) = state.sessions.end(&token).await {
        tracing::error!(correlation_id = cid, error = %e, "cannot delete session");
    }
    let (id, out) = match slo::request(rt, &session.name_id(), &session.session_index) {
        Ok(r) => r,
        Err(slo::SloError::Disabled | slo::SloError::NoEndpoint) => {
            return clear_session(
                pages::message("Signed out", "You are signed out of ssoplane."),
                state.secure_cookies,
            );
        }
        Err(e) => return slo_failed(&e, &rt.provider, cid),
    };
    let browser = cookies::get(headers, cookies::BROWSER)
        .map(str::to_owned)
        .unwrap_or_else(login::random_id);
    let row = SamlRequestRow {
        id,
        provider: rt.provider.clone(),
        browser: browser.clone(),
        relay_state: "logout".into(),
        expires_at: 0,
        source: source.to_owned(),
    };
    // The session is already ended: a full address only means the IdP's
    // LogoutResponse will not be recognised here.
    match login::remember(
        &state.store,
        &state.clients,
        row,
        state.sessions.clock().now(),
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(
                correlation_id = cid,
                client = source,
                "LogoutRequest not remembered: too many pending requests from this client address"
            );
        }
        Err(e) => {
            tracing::error!(correlation_id = cid, error = %e, "cannot store the LogoutRequest");
        }
    }
    let mut resp = clear_session(outbound_response(out), state.secure_cookies);
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            cookies::BROWSER,
            &browser,
            login::REQUEST_TTL_SECS,
            state.secure_cookies,
            cookies::SameSite::NoneIfSecure,
        ),
    );
    resp
}
