//! `GET /api/v1/me`: the signed-in user, for applications and pages in the
//! browser. Authenticated by the session cookie (`Access::Session`), not a
//! token.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ssoplane_schema::api::Me;

use super::auth::SignedIn;
use super::error::ApiError;
use super::{body, Access, AppState, RouteSpec, Routes};

const ME: RouteSpec = RouteSpec {
    access: Access::Session,
    response: (200, Some(body::<Me>)),
    errors: &[503],
    ..RouteSpec::new(
        "get",
        "/api/v1/me",
        "getMe",
        "The signed-in user, with groups, organizations and identity links (session cookie)",
    )
};

pub fn register(r: Routes) -> Routes {
    r.add(ME, get(me))
}

async fn me(
    State(state): State<AppState>,
    SignedIn { session, user }: SignedIn,
) -> Result<Response, ApiError> {
    let (groups, links) = tokio::try_join!(
        state.store.user_groups(&user.id),
        state.store.links_of(&user.id)
    )
    .map_err(|e| ApiError::Unavailable(format!("the user's groups and links: {e}")))?;
    // `provider` is the one this session signed in through; `links` every
    // identity that signs this user in.
    Ok(axum::Json(Me {
        id: user.id,
        login: user.login,
        email: user.email,
        name: user.name,
        role: user.role,
        is_admin: user.is_admin,
        groups,
        provider: session.provider,
        organizations: user.organizations,
        links: links.into_iter().map(super::users::link_doc).collect(),
    })
    .into_response())
}
