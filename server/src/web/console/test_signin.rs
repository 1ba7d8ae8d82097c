//! Test sign-in: an administrator runs a real SP-initiated login against the
//! IdP in a new tab and, instead of a session, gets a report of what came
//! back (signatures, issuer, NameID, every attribute, the mapped identity,
//! the authorization decision with its rule, or the check that failed). It
//! works for a disabled provider, so a provider can be tried before it is
//! switched on. The ACS recognises the test by its pending request, which
//! carries a marker and the administrator's id and is bound to this
//! browser like any login (`saml::diagnose`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::access::{ConsoleUser, ConsoleWrite, NoFields, Refusal};
use super::render::{page, refusal_page, Chrome, Nav};
use crate::identity::sessions::now_secs;
use crate::saml::diagnose::{TestReport, TEST_RELAY_PREFIX};
use crate::saml::login::{random_id, Outbound};
use crate::state::AppState;
use crate::store::{StoreError, TestSigninRow};

/// How long a report stays readable.
const REPORT_TTL_SECS: i64 = 3600;

/// Keeps a report for the console; returns its id.
pub async fn save(state: &AppState, report: &TestReport) -> Result<String, StoreError> {
    let id = random_id();
    let now = now_secs();
    let report_json =
        serde_json::to_string(report).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    state
        .store
        .insert_test_signin(&TestSigninRow {
            id: id.clone(),
            provider: report.provider.clone(),
            admin_user_id: report.admin_user_id.clone(),
            created_at: now,
            expires_at: now + REPORT_TTL_SECS,
            report_json,
        })
        .await?;
    Ok(id)
}

#[derive(Template)]
#[template(path = "console/test_start.html")]
struct StartPage {
    chrome: Chrome,
    provider: String,
    url: String,
}

/// Starts the test: the AuthnRequest, bound to this browser and marked as a
/// test. A redirect would be refused by the console's form-action policy,
/// so the browser is sent on by a page (meta refresh, with a link).
pub async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    ConsoleWrite { user, form: _ }: ConsoleWrite<NoFields>,
) -> Response {
    let rt = match state.saml.inspect(&provider).await {
        Ok(rt) => rt,
        Err(e) => {
            return refusal_page(
                StatusCode::CONFLICT,
                "The provider cannot be tested yet",
                &format!("{e}. Fix the settings and try again."),
                &user.correlation_id,
            )
        }
    };
    let relay = format!("{TEST_RELAY_PREFIX}{}", user.user.id);
    let (outbound, cookie) = match crate::saml::http::begin(
        &state,
        &rt,
        &headers,
        &state.clients.key_of(peer.ip(), &headers),
        relay,
        &user.correlation_id,
    )
    .await
    {
        Ok(x) => x,
        Err(page) => return page,
    };
    tracing::info!(provider, admin = user.user.login, "test sign-in started");
    let mut resp = match outbound {
        Outbound::Redirect(url) => page(
            &user,
            StatusCode::OK,
            &StartPage {
                chrome: Chrome::new(&user, Nav::Providers, format!("Test sign-in: {provider}")),
                provider,
                url,
            },
        ),
        post @ Outbound::Post { .. } => crate::saml::http::outbound_response(post),
    };
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    resp
}

#[derive(Template)]
#[template(path = "console/test_result.html")]
struct ResultPage {
    chrome: Chrome,
    r: TestReport,
    started_by_you: bool,
}

pub async fn result(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    // What an IdP sent about a person is for administrators only.
    if !user.is_admin() {
        return Refusal::ReadOnly.into_response(&user.correlation_id);
    }
    let row = match state.store.test_signin(&id, now_secs()).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return refusal_page(
                StatusCode::NOT_FOUND,
                "No such test sign-in",
                "This report does not exist or has expired (reports are kept for an hour).",
                &user.correlation_id,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read a test report");
            return refusal_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Report unavailable",
                "The report could not be read.",
                &user.correlation_id,
            );
        }
    };
    let r: TestReport = match serde_json::from_str(&row.report_json) {
        Ok(r) => r,
        Err(_) => {
            return refusal_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Report unreadable",
                "The stored report is damaged.",
                &user.correlation_id,
            )
        }
    };
    page(
        &user,
        StatusCode::OK,
        &ResultPage {
            chrome: Chrome::new(
                &user,
                Nav::Providers,
                format!("Test sign-in: {}", r.provider),
            ),
            started_by_you: r.admin_user_id == user.user.id,
            r,
        },
    )
    .into_response()
}
