//! `/healthz` (the process answers), `/readyz` (the store answers) and
//! `/metrics` (Prometheus text format). Unauthenticated, for probes and scrapers.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::error::ApiError;
use super::{Access, AppState, RouteSpec, Routes};

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

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
