//! `GET /api/v1/audit`: what SCIM clients changed — every create, replace,
//! PATCH and delete of a user or group, newest first, with the token's name
//! as the author, the correlation id and the attributes and members changed.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use ssoplane_schema::api::AuditEntry;

use super::error::ApiError;
use super::json::Query;
use super::{body, RouteSpec, Routes};
use crate::state::AppState;

const LIST: RouteSpec = RouteSpec {
    response: (200, Some(body::<Vec<AuditEntry>>)),
    errors: &[400],
    query: &[
        (
            "resource_id",
            "Only the entries of this user or group id (default: all).",
        ),
        (
            "limit",
            "Most recent entries to return (1-1000, default 100).",
        ),
    ],
    ..RouteSpec::new(
        "get",
        "/api/v1/audit",
        "listAudit",
        "Changes SCIM clients made to users and groups, newest first",
    )
};

pub fn register(r: Routes) -> Routes {
    r.add(LIST, get(list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    #[serde(default)]
    resource_id: String,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    Query(f): Query<Filter>,
) -> Result<Response, ApiError> {
    let limit = f.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let mut out = Vec::new();
    for e in state.store.scim_audit(&f.resource_id, limit).await? {
        let changes = serde_json::from_str(&e.changes_json)
            .map_err(|err| ApiError::Internal(format!("scim_audit {}: {err}", e.id)))?;
        out.push(AuditEntry {
            at: e.at,
            actor: e.actor,
            provider: e.provider,
            correlation_id: e.correlation_id,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            version: e.version,
            changes,
        });
    }
    Ok(axum::Json(out).into_response())
}
