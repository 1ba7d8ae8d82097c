//! `/healthz` (the process answers), `/readyz` (the store answers) and
//! `/metrics` (Prometheus text format). Unauthenticated, for probes and scrapers.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ssoplane_schema::api::{ServerInfo, Status};

use super::auth::Authorized;
use super::error::ApiError;
use super::{body, Access, RouteSpec, Routes};
use crate::state::AppState;

const HEALTHZ: RouteSpec = RouteSpec {
    access: Access::Public,
    response: (200, Some(body::<Status>)),
    ..RouteSpec::new(
        "get",
        "/healthz",
        "healthz",
        "Liveness: the process serves requests",
    )
};
const READYZ: RouteSpec = RouteSpec {
    access: Access::Public,
    response: (200, Some(body::<Status>)),
    errors: &[503],
    ..RouteSpec::new(
        "get",
        "/readyz",
        "readyz",
        "Readiness: the store is reachable",
    )
};
const INFO: RouteSpec = RouteSpec {
    response: (200, Some(body::<ServerInfo>)),
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
    axum::Json(Status {
        status: "ok".into(),
        store: String::new(),
    })
    .into_response()
}

async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(format!("store unreachable: {e}")))?;
    Ok(axum::Json(Status {
        status: "ready".into(),
        store: state.store.backend().to_owned(),
    })
    .into_response())
}

/// Lets clients (the Terraform provider) derive SP URLs before anything exists,
/// and check the token at configuration time.
async fn info(State(state): State<AppState>, Authorized(caller): Authorized) -> Response {
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
