//! `/api/v1/users`: users made by logins or created here ahead of their
//! first login; read with their identity links, disable/enable.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use ssoplane_schema::api::{CreateUser, PatchUser, UserDoc, UserLink};

use super::auth::Authorized;
use super::error::ApiError;
use super::json::{Json, Path, Query};
use super::{body, Access, RouteSpec, Routes};
use crate::identity::users::{self, CreateError};
use crate::state::AppState;
use crate::store::{LinkRow, Store, UserRow};

/// The source API-made users and their memberships are recorded under.
pub const SOURCE: &str = "api";

const LIST: RouteSpec = RouteSpec {
    response: (200, Some(body::<Vec<UserDoc>>)),
    errors: &[400],
    query: &[
        ("limit", "Page size (1-1000, default 100)."),
        ("offset", "Users to skip (default 0)."),
    ],
    ..RouteSpec::new(
        "get",
        "/api/v1/users",
        "listUsers",
        "List users, ordered by login",
    )
};
const GET: RouteSpec = RouteSpec {
    response: (200, Some(body::<UserDoc>)),
    errors: &[404],
    ..RouteSpec::new(
        "get",
        "/api/v1/users/{id}",
        "getUser",
        "Get one user with their groups",
    )
};
const CREATE: RouteSpec = RouteSpec {
    access: Access::Admin,
    request: Some(body::<CreateUser>),
    response: (201, Some(body::<UserDoc>)),
    errors: &[400, 409],
    ..RouteSpec::new(
        "post",
        "/api/v1/users",
        "createUser",
        "Create a user ahead of their first login, optionally linked to a provider by external uid",
    )
};
const PATCH: RouteSpec = RouteSpec {
    access: Access::Admin,
    request: Some(body::<PatchUser>),
    response: (200, Some(body::<UserDoc>)),
    errors: &[400, 404],
    ..RouteSpec::new(
        "patch",
        "/api/v1/users/{id}",
        "patchUser",
        "Disable or re-enable a user",
    )
};

pub fn register(r: Routes) -> Routes {
    r.add(LIST, get(list))
        .add(CREATE, axum::routing::post(create))
        .add(GET, get(get_one))
        .add(PATCH, axum::routing::patch(patch))
}

pub fn link_doc(l: LinkRow) -> UserLink {
    UserLink {
        provider: l.provider,
        kind: l.kind,
        subject: l.subject,
        created_at: l.created_at,
    }
}

async fn doc(store: &Store, u: UserRow) -> Result<UserDoc, ApiError> {
    let groups = store.user_groups(&u.id).await?;
    let links = store.links_of(&u.id).await?;
    Ok(UserDoc {
        id: u.id,
        login: u.login,
        email: u.email,
        name: u.name,
        external_uid: u.external_uid,
        provider: u.provider,
        created_by: u.created_by,
        role: u.role,
        is_admin: u.is_admin,
        disabled: u.disabled,
        groups,
        organizations: u.organizations,
        links: links.into_iter().map(link_doc).collect(),
        created_at: u.created_at,
        updated_at: u.updated_at,
        last_login_at: u.last_login_at,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let limit = page.limit.unwrap_or(100);
    let offset = page.offset.unwrap_or(0);
    if !(1..=1000).contains(&limit) || offset < 0 {
        return Err(ApiError::BadRequest(
            "limit must be 1-1000 and offset 0 or more".into(),
        ));
    }
    let mut out = Vec::new();
    for u in state.store.list_users(limit, offset).await? {
        out.push(doc(&state.store, u).await?);
    }
    Ok(axum::Json(out).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match state.store.get_user(&id).await? {
        Some(u) => Ok(axum::Json(doc(&state.store, u).await?).into_response()),
        None => Err(ApiError::NotFound(format!("user {id:?} does not exist"))),
    }
}

async fn create(
    State(state): State<AppState>,
    Authorized(caller): Authorized,
    Json(body): Json<CreateUser>,
) -> Result<Response, ApiError> {
    let user = users::create(&state.store, &body, SOURCE, &caller.name)
        .await
        .map_err(|e| match e {
            CreateError::Invalid(errors) => ApiError::Invalid(errors),
            CreateError::Store(e) => ApiError::from(e),
            conflict => ApiError::Conflict(conflict.to_string()),
        })?;
    tracing::info!(
        user = user.id,
        login = user.login,
        actor = caller.name,
        "user created"
    );
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(doc(&state.store, user).await?),
    )
        .into_response())
}

async fn patch(
    State(state): State<AppState>,
    Authorized(caller): Authorized,
    Path(id): Path<String>,
    Json(body): Json<PatchUser>,
) -> Result<Response, ApiError> {
    let u = users::set_disabled(&state.store, &id, body.disabled)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("user {id:?} does not exist")))?;
    tracing::info!(
        user = id,
        disabled = body.disabled,
        actor = caller.name,
        "user updated"
    );
    Ok(axum::Json(doc(&state.store, u).await?).into_response())
}
