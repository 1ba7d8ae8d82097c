//! `/healthz` (the process answers), `/readyz` (the store answers) and
//! `/metrics` (Prometheus text format). Unauthenticated, for probes and scrapers.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use ssoplane_schema::api::ServerInfo;

use super::auth::Reader;
use super::error::ApiError;
use super::{Access, RouteSpec, Routes};
use crate::state::AppState;

const HEALTHZ: RouteSpec = RouteSpec {
    access: Access::Public,
    response: (200, Some("Status")),
    ..RouteSpec::new(
        "get",
        "/healthz",
        "healthz",
        "Liveness: the process serves requests",
    )
};
const READYZ: RouteSpec = RouteSpec {
    access: Access::Public,
    response: (200, Some("Status")),
    errors: &[503],
    ..RouteSpec::new(
        "get",
        "/readyz",
        "readyz",
        "Readiness: the store is reachable",
    )
};
const INFO: RouteSpec = RouteSpec {
    response: (200, Some("ServerInfo")),
    errors: &[401],
    ..RouteSpec::new(
        "get",
        "/api/v1/info",
        "getServerInfo",
        "Server version and public root URL (SP URLs derive from it)",
    )
};
const METRICS: RouteSpec = RouteSpec {
    access: Access::Public,
    response: (200, None),
    ..RouteSpec::new(
        "get",
        "/metrics",
        "metrics",
        "Prometheus metrics (text exposition format)",
    )
};

pub fn register(r: Routes) -> Routes {
    r.add(HEALTHZ, get(healthz))
        .add(READYZ, get(readyz))
        .add(INFO, get(info))
        .add(METRICS, get(metrics))
}

async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(format!("store unreachable: {e}")))?;
    Ok(axum::Json(json!({"status": "ready", "store": state.store.backend()})).into_response())
}

/// Lets clients (the Terraform provider) derive SP URLs before anything exists,
/// and check the token at configuration time.
async fn info(State(state): State<AppState>, Reader(caller): Reader) -> Response {
    axum::Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        root_url: state.settings.root_url().to_owned(),
        token_name: caller.name,
        token_role: caller.role.as_str().to_owned(),
    })
    .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
