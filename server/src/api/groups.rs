//! `/api/v1/groups`: the groups logins may join. Groups are never created by a
//! login; an admin (or Terraform's `ssoplane_group`) creates them here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use ssoplane_schema::api::{GroupDoc, PutGroup};

use super::auth::{Admin, Reader};
use super::error::ApiError;
use super::json::{Json, Path};
use super::request_id::RequestId;
use super::{Access, AppState, RouteSpec, Routes};
use crate::store::GroupRow;

const LIST: RouteSpec = RouteSpec {
    response: (200, Some("GroupList")),
    errors: &[401],
    ..RouteSpec::new(
        "get",
        "/api/v1/groups",
        "listGroups",
        "List groups with their member counts",
    )
};
const GET: RouteSpec = RouteSpec {
    response: (200, Some("Group")),
    errors: &[400, 401, 404],
    ..RouteSpec::new("get", "/api/v1/groups/{name}", "getGroup", "Get one group")
};
const PUT: RouteSpec = RouteSpec {
    access: Access::Admin,
    request: Some("PutGroup"),
    response: (200, Some("Group")),
    errors: &[400, 401, 403],
    ..RouteSpec::new(
        "put",
        "/api/v1/groups/{name}",
        "putGroup",
        "Create (201) or update (200) a group",
    )
};
const DELETE: RouteSpec = RouteSpec {
    access: Access::Admin,
    response: (204, None),
    errors: &[400, 401, 403, 404],
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
    }
}

/// Group names come from IdP assertions (display names, CNs), so spaces and
/// most punctuation are allowed; control characters and '/' are not.
fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.trim().is_empty()
        && name.len() <= 255
        && name.trim() == name
        && !name.chars().any(|c| c.is_control() || c == '/');
    if ok {
        Ok(())
    } else {
        Err(ApiError::Invalid(vec![ssoplane_schema::FieldError {
            field: "name".into(),
            message: "must be 1-255 characters without leading/trailing spaces, control characters or '/'".into(),
        }]))
    }
}

async fn list(State(state): State<AppState>, _: Reader) -> Result<Response, ApiError> {
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
    _: Reader,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    check_name(&name)?;
    match state.store.get_group(&name).await? {
        Some(g) => Ok(axum::Json(doc(g)).into_response()),
        None => Err(ApiError::NotFound(format!("group {name:?} does not exist"))),
    }
}

async fn put(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Extension(cid): Extension<RequestId>,
    Path(name): Path<String>,
    Json(body): Json<PutGroup>,
) -> Result<Response, ApiError> {
    check_name(&name)?;
    if body.description.len() > 1024 {
        return Err(ApiError::Invalid(vec![ssoplane_schema::FieldError {
            field: "description".into(),
            message: "must be at most 1024 characters".into(),
        }]));
    }
    let created = state
        .store
        .put_group(&name, &body.description, &crate::settings::now())
        .await?;
    tracing::info!(correlation_id = %cid.0, group = name, created, actor = caller.name, "group written");
    let g = state
        .store
        .get_group(&name)
        .await?
        .ok_or_else(|| ApiError::Internal("group vanished after write".into()))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(doc(g))).into_response())
}

async fn delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Extension(cid): Extension<RequestId>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    check_name(&name)?;
    if !state.store.delete_group(&name).await? {
        return Err(ApiError::NotFound(format!("group {name:?} does not exist")));
    }
    tracing::info!(correlation_id = %cid.0, group = name, actor = caller.name, "group deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
