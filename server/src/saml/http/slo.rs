//! `GET/POST /saml/{provider}/slo`: single logout. A LogoutRequest from the
//! IdP ends the sessions it names; a LogoutResponse completes a logout this
//! browser started; a GET without a message starts one (ends this
//! browser's session and sends a LogoutRequest). Every outcome clears the
//! session cookie.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{browser_cookie, clear_session, outbound_response, Provider};
use crate::saml::login;
use crate::saml::runtime::Runtime;
use crate::saml::{relay, slo};
use crate::state::AppState;
use crate::store::SamlRequestRow;
use crate::web::request_id::CorrelationId;
use crate::web::{cookies, pages};

fn slo_failed(e: &slo::SloError, provider: &str, cid: &CorrelationId) -> Response {
    tracing::warn!(provider, reason = %e, "single logout refused");
    pages::error(StatusCode::BAD_REQUEST, "The logout message could not be accepted; you may still be signed in at your identity provider.", cid.as_str())
}

pub(super) async fn get(
    State(state): State<AppState>,
    Provider(rt): Provider,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    cid: CorrelationId,
) -> Response {
    let query = query.unwrap_or_default();
    let relay_state = slo::raw_param(&query, "RelayState")
        .and_then(|r| slo::url_decode(r).ok())
        .unwrap_or_default();
    let param = ["SAMLRequest", "SAMLResponse"]
        .into_iter()
        .find(|p| slo::raw_param(&query, p).is_some());
    let Some(param) = param else {
        let source = state.clients.key_of(peer.ip(), &headers);
        return sp_initiated_logout(&state, &rt, &headers, &source, &cid).await;
    };
    // Nothing of a logout message is read unless single logout is on.
    if !rt.settings.single_logout {
        return slo_failed(&slo::SloError::Disabled, &rt.provider, &cid);
    }
    let msg = slo::Incoming::Redirect { query, param };
    if param == "SAMLRequest" {
        idp_initiated_logout(&state, &rt, msg, &relay_state, &cid).await
    } else {
        logout_response(&state, &rt, msg, &headers, &cid).await
    }
}

#[derive(Deserialize)]
pub(super) struct SloForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

pub(super) async fn post(
    State(state): State<AppState>,
    Provider(rt): Provider,
    headers: HeaderMap,
    cid: CorrelationId,
    form: Result<Form<SloForm>, FormRejection>,
) -> Response {
    if !rt.settings.single_logout {
        return slo_failed(&slo::SloError::Disabled, &rt.provider, &cid);
    }
    let Ok(Form(form)) = form else {
        return slo_failed(&slo::SloError::Encoding, &rt.provider, &cid);
    };
    match (form.saml_request, form.saml_response) {
        (Some(req), _) => {
            idp_initiated_logout(
                &state,
                &rt,
                slo::Incoming::Post(req),
                &form.relay_state,
                &cid,
            )
            .await
        }
        (None, Some(resp)) => {
            logout_response(&state, &rt, slo::Incoming::Post(resp), &headers, &cid).await
        }
        (None, None) => slo_failed(&slo::SloError::Encoding, &rt.provider, &cid),
    }
}

async fn idp_initiated_logout(
    state: &AppState,
    rt: &Arc<Runtime>,
    msg: slo::Incoming,
    relay_state: &str,
    cid: &CorrelationId,
) -> Response {
    // The RelayState is sent back with our answer: refused before anything
    // is done rather than echoed oversized into a Location header.
    if relay_state.len() > relay::MAX_EMITTED {
        return slo_failed(&slo::SloError::RelayStateTooLong, &rt.provider, cid);
    }
    let logout = match check(state, rt, msg, slo::check_request).await {
        Ok(l) => l,
        Err(e) => return slo_failed(&e, &rt.provider, cid),
    };
    let ended = match state
        .sessions
        .end_of_subject(&rt.provider, &logout.name_id.value, &logout.session_indexes)
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "cannot end sessions");
            return pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Logout is temporarily unavailable.",
                cid.as_str(),
            );
        }
    };
    tracing::info!(
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

/// Decodes an incoming logout message and runs `checks` on it, on the SAML
/// workers (`saml::work`: off the async threads, a bounded queue).
async fn check<T: Send + 'static>(
    state: &AppState,
    rt: &Arc<Runtime>,
    msg: slo::Incoming,
    checks: fn(&Runtime, &slo::Message) -> Result<T, slo::SloError>,
) -> Result<T, slo::SloError> {
    let rt = Arc::clone(rt);
    state
        .saml
        .workers
        .run(move || msg.message(&rt).and_then(|m| checks(&rt, &m)))
        .await
        .map_err(slo::SloError::from)
        .and_then(|r| r)
}

async fn logout_response(
    state: &AppState,
    rt: &Arc<Runtime>,
    msg: slo::Incoming,
    headers: &HeaderMap,
    cid: &CorrelationId,
) -> Response {
    let in_response_to = match check(state, rt, msg, slo::check_response).await {
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
    rt: &Runtime,
    headers: &HeaderMap,
    source: &str,
    cid: &CorrelationId,
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
        tracing::error!(error = %e, "cannot delete session");
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
                client = source,
                "LogoutRequest not remembered: too many pending requests from this client address"
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot store the LogoutRequest");
        }
    }
    let mut resp = clear_session(outbound_response(out), state.secure_cookies);
    resp.headers_mut()
        .append(header::SET_COOKIE, browser_cookie(state, &browser));
    resp
}
