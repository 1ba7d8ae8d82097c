//! `POST /saml/{provider}/acs`: the IdP's response, checked by `saml::acs`,
//! becomes a session and a login event (stored by `saml::finish`) and a
//! redirect, or an administrator's test report; or a failure event and a
//! generic error page carrying the correlation id.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::Slug;
use crate::saml::acs::{self, AcsError};
use crate::saml::diagnose;
use crate::saml::runtime::{Runtime, RuntimeError};
use crate::state::AppState;
use crate::store::LoginEventRow;
use crate::web::request_id::CorrelationId;
use crate::web::{cookies, pages};

#[derive(Deserialize)]
pub(super) struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
    /// Set by our own same-site resubmission step (see [`resubmit_same_site`]).
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
fn resubmit_same_site(rt: &Runtime, form: &AcsForm) -> Response {
    pages::post_form(
        &rt.sp.acs_url,
        &[
            ("SAMLResponse", &form.saml_response),
            ("RelayState", &form.relay_state),
            ("ssoplane_resubmitted", "1"),
        ],
    )
}

pub(super) async fn acs(
    State(state): State<AppState>,
    Slug(provider): Slug,
    headers: HeaderMap,
    cid: CorrelationId,
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
        (Err(e), _) => Err(AcsError::Provider(e)),
        (_, Err(_)) => Err(AcsError::Encoding),
        (Ok((rt, _)), Ok(Form(f)))
            if browser.is_none() && cross_site && f.resubmitted.is_none() =>
        {
            tracing::info!(
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
                &state.sessions,
                tests_only,
                cid.as_str(),
            )
            .await
        }
    };
    let result = match result {
        Ok(acs::Outcome::Test(report)) => return test_sign_in_done(&state, *report, &cid).await,
        Ok(acs::Outcome::Login(ok)) => Ok(*ok),
        Err(e) => Err(e),
    };
    match result {
        Ok(ok) => {
            let cookie = state.sessions.cookie(&ok.token, state.secure_cookies);
            metrics::counter!("ssoplane_saml_logins_total", "provider" => provider.clone(), "outcome" => "success").increment(1);
            tracing::info!(
                provider,
                login = ok.user.login,
                role = ok.decision.role,
                "SAML login succeeded"
            );
            let mut resp = Redirect::to(&ok.redirect_to).into_response();
            resp.headers_mut().append(header::SET_COOKIE, cookie);
            resp
        }
        Err(e) => {
            metrics::counter!("ssoplane_saml_logins_total", "provider" => provider.clone(), "outcome" => "failure", "check" => e.check()).increment(1);
            tracing::warn!(provider, check = e.check(), reason = %e, "SAML login refused");
            let _ = state
                .store
                .insert_login_event(&LoginEventRow::new(
                    &provider,
                    "failure",
                    format!("{}: {e}", e.check()),
                    "",
                    cid.as_str(),
                ))
                .await;
            let status = match &e {
                AcsError::Provider(RuntimeError::Unknown(_) | RuntimeError::Disabled(_)) => {
                    StatusCode::NOT_FOUND
                }
                AcsError::Encoding | AcsError::Guard(_) => StatusCode::BAD_REQUEST,
                AcsError::Store(_) | AcsError::Work(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::FORBIDDEN,
            };
            pages::error(status, e.user_message(), cid.as_str())
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
async fn test_sign_in_done(
    state: &AppState,
    report: diagnose::TestReport,
    cid: &CorrelationId,
) -> Response {
    tracing::info!(
        provider = report.provider,
        outcome = report.outcome,
        check = report.check.as_deref().unwrap_or(""),
        "test sign-in finished"
    );
    match crate::web::console::save_test_report(state, &report).await {
        Ok(id) => Redirect::to(&format!("/admin/tests/{id}")).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot store a test sign-in report");
            pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The test sign-in finished but its report could not be stored.",
                cid.as_str(),
            )
        }
    }
}
