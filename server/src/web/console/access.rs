//! Who may use the admin console, and how a request proves it.
//!
//! - Signed in: a live session (SSO or the break-glass local administrator);
//!   without one the browser is sent to the login page and back.
//! - Level: a user with the admin role (`is_admin`) may change things; a
//!   member of a group listed in the server setting `console_reader_groups`
//!   may look at everything and change nothing; anyone else gets a 403 page.
//! - Writes: every state-changing request carries a CSRF token derived from
//!   the session cookie (which scripts cannot read), and the console cookie,
//!   `SameSite=Strict`, which browsers never send with a cross-site request;
//!   an `Origin` header, when sent, must be ours. The admin level is checked
//!   again on every write, so a reader's forged form changes nothing.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::state::AppState;
use crate::store::UserRow;
use crate::web::cookies;
use crate::web::request_id::CorrelationId;

/// The console's own cookie, scoped to `/admin`, `SameSite=Strict`.
pub const CONSOLE_COOKIE: &str = "ssoplane_console";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Sees everything, changes nothing.
    Reader,
    Admin,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Reader => "read-only",
            Level::Admin => "administrator",
        }
    }
}

/// The console level of a user, if any.
pub async fn level(state: &AppState, user: &UserRow) -> Option<Level> {
    if user.disabled {
        return None;
    }
    if user.is_admin {
        return Some(Level::Admin);
    }
    if state.console_reader_groups.is_empty() {
        return None;
    }
    let groups = state.store.user_groups(&user.id).await.ok()?;
    groups
        .iter()
        .any(|g| state.console_reader_groups.contains(g))
        .then_some(Level::Reader)
}

/// A value bound to the session cookie, for one purpose: what a page from
/// another site cannot compute, because it cannot read the HttpOnly cookie.
fn derived(purpose: &str, session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ssoplane console ");
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(session_token.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Constant-time comparison of two tokens.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

/// The signed-in console user of a request.
#[derive(Clone)]
pub struct ConsoleUser {
    pub user: UserRow,
    pub level: Level,
    /// For the hidden `csrf` field of every form.
    pub csrf: String,
    /// Shown on the console's error pages (logs get it from the request span).
    pub correlation_id: String,
    console_cookie: String,
    has_console_cookie: bool,
    secure: bool,
}

impl ConsoleUser {
    pub fn is_admin(&self) -> bool {
        self.level == Level::Admin
    }

    /// Who the audit trail names for console changes.
    pub fn actor(&self) -> String {
        format!("console:{}", self.user.login)
    }

    /// Adds the console cookie to a page when the browser lacks it.
    pub fn with_cookie(&self, mut resp: Response) -> Response {
        if !self.has_console_cookie {
            let value = format!(
                "{CONSOLE_COOKIE}={}; Path=/admin; HttpOnly; SameSite=Strict{}",
                self.console_cookie,
                if self.secure { "; Secure" } else { "" }
            );
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        resp
    }

    /// A state-changing request: admin level, our console cookie, our
    /// origin, and the form's CSRF token.
    pub fn check_write(
        &self,
        headers: &HeaderMap,
        csrf: &str,
        root_url: &str,
    ) -> Result<(), Refusal> {
        if self.level != Level::Admin {
            return Err(Refusal::ReadOnly);
        }
        if !self.has_console_cookie {
            return Err(Refusal::Csrf(
                "the console cookie is missing (a cross-site request?)",
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let ours = url::Url::parse(root_url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default();
            if origin.as_bytes() != ours.as_bytes() {
                return Err(Refusal::Csrf("the form was posted from another origin"));
            }
        }
        if !same(csrf, &self.csrf) {
            return Err(Refusal::Csrf("the form's CSRF token is missing or wrong"));
        }
        Ok(())
    }
}

/// Why a console request is refused.
#[derive(Debug)]
pub enum Refusal {
    SignIn(String),
    Forbidden,
    ReadOnly,
    Csrf(&'static str),
    Unavailable,
}

impl Refusal {
    pub fn into_response(self, correlation_id: &str) -> Response {
        match self {
            Refusal::SignIn(back) => {
                let to = format!(
                    "/login?redirect_to={}",
                    url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
                );
                Redirect::to(&to).into_response()
            }
            Refusal::Forbidden => super::render::refusal_page(
                StatusCode::FORBIDDEN,
                "No access to the console",
                "Your account may not use the ssoplane admin console. Ask an administrator to grant you the admin role, or read-only access through a console reader group.",
                correlation_id,
            ),
            Refusal::ReadOnly => super::render::refusal_page(
                StatusCode::FORBIDDEN,
                "Read-only access",
                "Your console access is read-only: nothing was changed.",
                correlation_id,
            ),
            Refusal::Csrf(why) => {
                tracing::warn!(reason = why, "console write refused (CSRF)");
                super::render::refusal_page(
                    StatusCode::FORBIDDEN,
                    "Request refused",
                    "This change did not come from a console page of this server (or the page is too old). Reload the page and try again; nothing was changed.",
                    correlation_id,
                )
            }
            Refusal::Unavailable => super::render::refusal_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Console unavailable",
                "The console cannot be used right now.",
                correlation_id,
            ),
        }
    }
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let cid = CorrelationId::of(&parts.extensions).as_str().to_owned();
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/admin".into());
        let refuse = |r: Refusal| r.into_response(&cid);
        let token = cookies::get(&parts.headers, cookies::SESSION)
            .ok_or_else(|| refuse(Refusal::SignIn(back.clone())))?
            .to_owned();
        let found = state.sessions.lookup(&token).await.map_err(|e| {
            tracing::error!(error = %e, "console session lookup failed");
            refuse(Refusal::Unavailable)
        })?;
        let Some((_, user)) = found else {
            return Err(refuse(Refusal::SignIn(back)));
        };
        let Some(level) = level(state, &user).await else {
            tracing::warn!(login = user.login, "console access refused");
            return Err(refuse(Refusal::Forbidden));
        };
        let console_cookie = derived("cookie", &token);
        let has_console_cookie =
            cookies::get(&parts.headers, CONSOLE_COOKIE).is_some_and(|c| same(c, &console_cookie));
        Ok(ConsoleUser {
            csrf: derived("csrf", &token),
            user,
            level,
            correlation_id: cid,
            console_cookie,
            has_console_cookie,
            secure: state.secure_cookies,
        })
    }
}

/// Longest urlencoded console form (the multipart forms have their own).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The form of a state-changing console request, after the write checks
/// (`ConsoleUser::check_write`): the one way a urlencoded console post
/// reaches a handler, so no handler can forget them. The CSRF token is
/// checked before the form itself is read.
pub struct ConsoleWrite<T> {
    pub user: ConsoleUser,
    pub form: T,
}

/// The form of a post that is only a button (the CSRF token aside).
#[derive(serde::Deserialize)]
pub struct NoFields {}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for ConsoleWrite<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = ConsoleUser::from_request_parts(&mut parts, state).await?;
        let bad_form = |why: &str| {
            tracing::warn!(reason = why, "console form refused");
            super::render::refusal_page(
                StatusCode::BAD_REQUEST,
                "Unreadable form",
                "The form could not be read; nothing was changed. Reload the page and try again.",
                &user.correlation_id,
            )
        };
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| bad_form("body unreadable or too large"))?;
        let csrf = serde_urlencoded::from_bytes::<CsrfField>(&bytes)
            .map(|f| f.csrf)
            .unwrap_or_default();
        user.check_write(&parts.headers, &csrf, state.settings.root_url())
            .map_err(|r| r.into_response(&user.correlation_id))?;
        let form =
            serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| bad_form(&e.to_string()))?;
        Ok(ConsoleWrite { user, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_tokens_depend_on_purpose_and_session() {
        let a = derived("csrf", "session-a");
        assert_eq!(a, derived("csrf", "session-a"));
        assert_ne!(a, derived("csrf", "session-b"));
        assert_ne!(a, derived("cookie", "session-a"));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &a[1..]));
    }
}
