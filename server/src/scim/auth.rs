//! Who may call `/scim/v2`: a bearer token with the `scim` role, and only
//! such a token (admin and reader tokens are refused with 403, so a leaked
//! admin token cannot provision, nor a SCIM token administer). The token
//! carries the provider its users are linked to.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ScimError;
use crate::api::error::ApiError;
use crate::state::AppState;
use crate::store::Role;

/// An authenticated SCIM client.
#[derive(Debug, Clone)]
pub struct ScimClient {
    /// The token's name: the author of every change it makes.
    pub token: String,
    /// The provider its users and groups belong to.
    pub provider: String,
}

impl FromRequestParts<AppState> for ScimClient {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let caller = crate::api::auth::caller(parts, state)
            .await
            .map_err(|e| match e {
                ApiError::Unavailable(cause) => ScimError::unavailable(cause),
                ApiError::BadToken => ScimError::bad_token(),
                _ => ScimError::unauthenticated(),
            })?;
        match caller.role {
            Role::Scim if !caller.provider.is_empty() => Ok(ScimClient {
                token: caller.name,
                provider: caller.provider,
            }),
            role => Err(ScimError::forbidden(format!(
                "this token has the {} role; /scim/v2 needs a scim token (ssoplane token create --role scim --provider <provider>)",
                role.as_str()
            ))),
        }
    }
}
