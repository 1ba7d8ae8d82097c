//! `/api/v1/groups`: the groups logins may join. Groups are never created by a
//! login; an admin (or Terraform's `ssoplane_group`) creates them here. Each
//! write gets a new version (the ETag); PUT and DELETE honour `If-Match` and
//! PUT `If-None-Match: *`, like the SSO settings.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ssoplane_schema::api::{GroupDoc, PutGroup};

use super::auth::Authorized;
use super::error::ApiError;
use super::json::{Json, Path};
use super::sso_settings::{managed_by, precondition};
use super::{body, Access, RouteSpec, Routes};
use crate::groups::{self, GroupError};
use crate::state::AppState;
use crate::store::{GroupRow, Precondition};

const LIST: RouteSpec = RouteSpec {
    response: (200, Some(body::<Vec<GroupDoc>>)),
    ..RouteSpec::new(
        "get",
        "/api/v1/groups",
        "listGroups",
        "List groups with their member counts",
    )
};
const GET: RouteSpec = RouteSpec {
    response: (200, Some(body::<GroupDoc>)),
    errors: &[400, 404],
    versioned: true,
    ..RouteSpec::new("get", "/api/v1/groups/{name}", "getGroup", "Get one group")
};
const PUT: RouteSpec = RouteSpec {
    access: Access::Admin,
    request: Some(body::<PutGroup>),
    response: (200, Some(body::<GroupDoc>)),
    errors: &[400, 409, 412],
    versioned: true,
    ..RouteSpec::new(
        "put",
        "/api/v1/groups/{name}",
        "putGroup",
        "Create (201) or update (200) a group (If-Match / If-None-Match honoured)",
    )
};
const DELETE: RouteSpec = RouteSpec {
    access: Access::Admin,
    response: (204, None),
    errors: &[400, 404, 412],
    versioned: true,
    ..RouteSpec::new(
        "delete",
        "/api/v1/groups/{name}",
        "deleteGroup",
        "Delete a group and its memberships",
    )
};

pub fn register(r: Routes) -> Routes {
    r.add(LIST, get(list))
        .add(GET, get(get_one))
        .add(PUT, axum::routing::put(put))
        .add(DELETE, axum::routing::delete(delete))
}

fn doc(g: GroupRow) -> GroupDoc {
    GroupDoc {
        name: g.name,
        description: g.description,
        members: g.members,
        created_at: g.created_at,
        updated_at: g.updated_at,
        version: g.version,
        updated_by: g.updated_by,
        managed_by: Some(g.managed_by).filter(|m| !m.is_empty()),
    }
}

fn with_etag(status: StatusCode, g: GroupRow) -> Response {
    let tag = HeaderValue::from_str(&format!("\"{}\"", g.version))
        .unwrap_or(HeaderValue::from_static("\"0\""));
    let mut resp = (status, axum::Json(doc(g))).into_response();
    resp.headers_mut().insert(header::ETAG, tag);
    resp
}

impl From<GroupError> for ApiError {
    fn from(e: GroupError) -> ApiError {
        match e {
            GroupError::Invalid(errors) => ApiError::Invalid(errors),
            GroupError::NotFound(_) => ApiError::NotFound(e.to_string()),
            GroupError::Stale { current } => ApiError::PreconditionFailed { current },
            GroupError::Exists { current } => ApiError::AlreadyExists { current },
            GroupError::Contended(_) => ApiError::Conflict(e.to_string()),
            GroupError::Store(e) => e.into(),
        }
    }
}

async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let groups: Vec<GroupDoc> = state
        .store
        .list_groups()
        .await?
        .into_iter()
        .map(doc)
        .collect();
    Ok(axum::Json(groups).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    groups::check_name(&name)?;
    match state.store.get_group(&name).await? {
        Some(g) => Ok(with_etag(StatusCode::OK, g)),
        None => Err(ApiError::NotFound(format!("group {name:?} does not exist"))),
    }
}

async fn put(
    State(state): State<AppState>,
    Authorized(caller): Authorized,
    Path(name): Path<String>,
    headers: HeaderMap,
    Json(body): Json<PutGroup>,
) -> Result<Response, ApiError> {
    let pre = precondition(&headers)?;
    let managed_by = managed_by(&headers)?;
    let by = groups::Writer {
        actor: &caller.name,
        managed_by: &managed_by,
    };
    let (created, g) = groups::put(&state.store, &name, &body.description, pre, &by).await?;
    tracing::info!(
        group = name,
        created,
        version = g.version,
        actor = caller.name,
        "group written"
    );
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_etag(status, g))
}

async fn delete(
    State(state): State<AppState>,
    Authorized(caller): Authorized,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pre = precondition(&headers)?;
    if pre == Precondition::Absent {
        return Err(ApiError::BadRequest(
            "If-None-Match: * on DELETE can never hold; use If-Match".into(),
        ));
    }
    groups::delete(&state.store, &name, pre).await?;
    tracing::info!(group = name, actor = caller.name, "group deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
