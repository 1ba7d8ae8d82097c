//! Browser-facing routes outside the SAML protocol: the login page, logout
//! and forward auth for reverse proxies (`/auth/verify`). (`/api/v1/me` is
//! in the admin API's route registry, `api/me.rs`.)

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{console, cookies, pages};
use crate::identity::sessions;
use crate::state::AppState;
use crate::store::{SessionRow, UserRow};
use crate::web::request_id::CorrelationId;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page))
        .route("/logout", get(logout).post(logout))
        .route("/login/local", axum::routing::post(local_login))
        .route("/auth/verify", get(verify))
        .route("/", get(home))
}

async fn current(state: &AppState, headers: &HeaderMap) -> Option<(SessionRow, UserRow)> {
    let token = cookies::get(headers, cookies::SESSION)?;
    match state.sessions.lookup(token).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            None
        }
    }
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    redirect_to: String,
    #[serde(default)]
    idp_hint: String,
    #[serde(default, rename = "noSSO")]
    no_sso: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    q: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
    cid: CorrelationId,
) -> Response {
    let q = q.map(|q| q.0).unwrap_or_default();
    if q.no_sso.is_some() {
        if !state.local_login {
            return pages::error(
                StatusCode::NOT_FOUND,
                "Local sign-in is not enabled on this server.",
                cid.as_str(),
            );
        }
        return pages::local_login(&q.redirect_to, None);
    }
    let providers = match state.saml.enabled().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot list providers");
            return pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is temporarily unavailable.",
                cid.as_str(),
            );
        }
    };
    let with_redirect = |slug: &str| {
        let mut href = format!("/saml/{slug}/login");
        if !q.redirect_to.is_empty() {
            href.push_str("?redirect_to=");
            href.push_str(
                &url::form_urlencoded::byte_serialize(q.redirect_to.as_bytes()).collect::<String>(),
            );
        }
        href
    };
    if !q.idp_hint.is_empty() && providers.iter().any(|(slug, _, _)| *slug == q.idp_hint) {
        return Redirect::to(&with_redirect(&q.idp_hint)).into_response();
    }
    // auto_login applies only when exactly one provider asks for it.
    let auto: Vec<&String> = providers
        .iter()
        .filter(|(_, _, auto)| *auto)
        .map(|(slug, _, _)| slug)
        .collect();
    if auto.len() == 1 {
        return Redirect::to(&with_redirect(auto[0])).into_response();
    }
    let list: Vec<(String, String)> = providers
        .into_iter()
        .map(|(slug, name, _)| (slug, name))
        .collect();
    pages::login(&list, &q.redirect_to, state.local_login)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // With single logout, the provider's SLO endpoint ends the session here and at the IdP.
    if let Some((session, _)) = current(&state, &headers).await {
        if let Ok(rt) = state.saml.get(&session.provider).await {
            if rt.settings.single_logout
                && (rt.idp.slo_redirect.is_some() || rt.idp.slo_post.is_some())
            {
                return Redirect::to(&format!("/saml/{}/slo", session.provider)).into_response();
            }
        }
    }
    if let Some(token) = cookies::get(&headers, cookies::SESSION) {
        if let Err(e) = state.sessions.end(token).await {
            tracing::error!(error = %e, "cannot delete session");
        }
    }
    let mut resp = pages::message("Signed out", "You are signed out of ssoplane.");
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(cookies::SESSION, state.secure_cookies),
    );
    resp
}

/// Forward auth: 200 with `X-Auth-*` headers for a live session, else 401
/// (with a redirect to the login page for browsers asking for HTML).
async fn verify(State(state): State<AppState>, request: Request) -> Response {
    // The request itself, not a `HeaderMap` extractor: that one copies
    // every header on the path every protected page pays for.
    let headers = request.headers();
    let found = match cookies::get(headers, cookies::SESSION) {
        Some(token) => state.sessions.verify(token).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "session lookup failed");
            None
        }),
        None => None,
    };
    let Some(p) = found else {
        let wants_html = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
        let mut resp = StatusCode::UNAUTHORIZED.into_response();
        if wants_html {
            let original = headers
                .get("x-original-url")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let mut login = String::from("/login");
            if !original.is_empty() {
                login.push_str("?redirect_to=");
                login.push_str(
                    &url::form_urlencoded::byte_serialize(original.as_bytes()).collect::<String>(),
                );
            }
            resp.headers_mut()
                .insert(header::LOCATION, sessions::header_value(&login));
        }
        return resp;
    };
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    h.insert(X_AUTH_USER, p.login.clone());
    h.insert(X_AUTH_EMAIL, p.email.clone());
    h.insert(X_AUTH_GROUPS, p.groups.clone());
    h.insert(X_AUTH_ROLE, p.role.clone());
    h.insert(X_AUTH_ORGS, p.orgs.clone());
    resp
}

// Constants, so no request parses the names.
const X_AUTH_USER: HeaderName = HeaderName::from_static("x-auth-user");
const X_AUTH_EMAIL: HeaderName = HeaderName::from_static("x-auth-email");
const X_AUTH_GROUPS: HeaderName = HeaderName::from_static("x-auth-groups");
const X_AUTH_ROLE: HeaderName = HeaderName::from_static("x-auth-role");
const X_AUTH_ORGS: HeaderName = HeaderName::from_static("x-auth-orgs");

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match current(&state, &headers).await {
        Some((_, user)) => pages::signed_in(
            &user.login,
            console::access::level(&state, &user).await.is_some(),
        ),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
struct LocalLoginForm {
    username: String,
    password: String,
    #[serde(default)]
    redirect_to: String,
}

/// `POST /login/local`: the break-glass administrator.
async fn local_login(
    State(state): State<AppState>,
    cid: CorrelationId,
    headers: HeaderMap,
    form: Result<axum::Form<LocalLoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    use crate::identity::local_admin::{self, LocalAdminError};
    if !state.local_login {
        return pages::error(
            StatusCode::NOT_FOUND,
            "Local sign-in is not enabled on this server.",
            cid.as_str(),
        );
    }
    // Cross-site form posts are refused (login CSRF).
    let root = url::Url::parse(state.settings.root_url())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        if origin != root {
            return pages::error(
                StatusCode::FORBIDDEN,
                "This sign-in form must be posted from this server.",
                cid.as_str(),
            );
        }
    }
    let Ok(axum::Form(form)) = form else {
        return pages::local_login("", Some("Enter a username and a password."));
    };
    let target =
        crate::saml::relay::allowed_target(&form.redirect_to, state.settings.root_url(), &[])
            .unwrap_or_else(|_| "/".into());
    match local_admin::sign_in(
        &state.store,
        &state.local_throttle,
        &form.username,
        &form.password,
    )
    .await
    {
        Ok(user) => {
            let cookie = match state
                .sessions
                .issue(
                    &user,
                    local_admin::SOURCE,
                    &Default::default(),
                    "",
                    state.secure_cookies,
                )
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "cannot create session");
                    return pages::error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Sign-in is temporarily unavailable.",
                        cid.as_str(),
                    );
                }
            };
            tracing::warn!(
                login = user.login,
                "break-glass local administrator signed in"
            );
            let mut resp = Redirect::to(&target).into_response();
            resp.headers_mut().append(header::SET_COOKIE, cookie);
            resp
        }
        Err(
            e @ (LocalAdminError::Denied | LocalAdminError::Throttled | LocalAdminError::NotSet),
        ) => {
            tracing::warn!(reason = %e, "break-glass sign-in refused");
            let shown = if matches!(e, LocalAdminError::Throttled) {
                e.to_string()
            } else {
                "Wrong username or password.".to_owned()
            };
            pages::local_login(&form.redirect_to, Some(&shown))
        }
        Err(e) => {
            tracing::error!(error = %e, "break-glass sign-in failed");
            pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is temporarily unavailable.",
                cid.as_str(),
            )
        }
    }
}
