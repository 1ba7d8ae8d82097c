//! Access control of the admin API, applied by the route registry: `Routes`
//! puts [`enforce`] in front of every route whose `RouteSpec.access` is not
//! `Public`, so no handler is reachable without the check its spec declares.
//! `Reader` routes take reader and admin tokens, `Admin` routes admin tokens
//! only, `Session` routes a signed-in user's session cookie; a scim token
//! reaches `/scim/v2` only (its extractor is `scim::auth::ScimClient`).
//! Handlers read what the check found with [`Authorized`] or [`SignedIn`].

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::Access;
use crate::state::AppState;
use crate::store::{Role, SessionRow, UserRow};
use crate::tokens::Caller;
use crate::web::cookies;

pub(crate) async fn caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthenticated)?;
    let value = header.to_str().map_err(|_| ApiError::BadToken)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(ApiError::Unauthenticated)?
        .trim();
    match state.tokens.authenticate(token).await {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => {
            metrics::counter!("ssoplane_api_auth_failures_total").increment(1);
            Err(ApiError::BadToken)
        }
        Err(e) => Err(ApiError::Unavailable(e.to_string())),
    }
}

/// The token a `Reader` or `Admin` route was called with, as the registry's
/// check accepted it.
pub struct Authorized(pub Caller);

/// The user of a `Session` route, signed in with the session cookie.
#[derive(Clone)]
pub struct SignedIn {
    pub session: SessionRow,
    pub user: UserRow,
}

/// What [`enforce`] needs: the state to authenticate with and the access the
/// route's spec declares.
#[derive(Clone)]
pub(crate) struct Guard {
    pub state: AppState,
    pub access: Access,
}

/// The registry's check in front of a route: refuses the request unless it
/// carries what `access` demands, and hands the caller to the handler.
pub(crate) async fn enforce(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    if let Err(e) = admit(guard.access, &mut parts, &guard.state).await {
        return e.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

async fn admit(access: Access, parts: &mut Parts, state: &AppState) -> Result<(), ApiError> {
    match access {
        Access::Public => Ok(()),
        Access::Reader | Access::Admin => {
            let caller = caller(parts, state).await?;
            match (access, caller.role) {
                (_, Role::Scim) => return Err(ApiError::ScimOnly),
                (Access::Admin, Role::Reader) => return Err(ApiError::Forbidden),
                _ => {}
            }
            parts.extensions.insert(caller);
            Ok(())
        }
        Access::Session => {
            let token =
                cookies::get(&parts.headers, cookies::SESSION).ok_or(ApiError::NoSession)?;
            let (session, user) = state
                .sessions
                .lookup(token)
                .await
                .map_err(|e| ApiError::Unavailable(format!("session lookup: {e}")))?
                .ok_or(ApiError::NoSession)?;
            parts.extensions.insert(SignedIn { session, user });
            Ok(())
        }
    }
}

/// A handler asking for what the registry did not check is a bug in its
/// registration: refused as an internal error, never served.
fn unchecked(what: &str) -> ApiError {
    ApiError::Internal(format!(
        "the handler needs {what}, but its route's access does not check for one"
    ))
}

impl<S: Send + Sync> FromRequestParts<S> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Authorized)
            .ok_or_else(|| unchecked("a token"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<SignedIn>()
            .cloned()
            .ok_or_else(|| unchecked("a session"))
    }
}
