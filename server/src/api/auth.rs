//! Bearer-token access control for the admin API: `Reader` and `Admin`
//! extractors, each accepting exactly the roles it names. Reader and admin
//! tokens may read everything; only admin tokens write; a scim token reaches
//! `/scim/v2` only (its extractor is `scim::auth::ScimClient`).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::state::AppState;
use crate::store::Role;
use crate::tokens::Caller;

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

/// A valid token with the reader or admin role.
pub struct Reader(pub Caller);

/// A valid token with the admin role.
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller(parts, state).await?;
        match caller.role {
            Role::Admin | Role::Reader => Ok(Reader(caller)),
            Role::Scim => Err(ApiError::ScimOnly),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller(parts, state).await?;
        match caller.role {
            Role::Admin => Ok(Admin(caller)),
            Role::Reader => Err(ApiError::Forbidden),
            Role::Scim => Err(ApiError::ScimOnly),
        }
    }
}
