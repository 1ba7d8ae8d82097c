//! `GET /api/v1/login-events`: recent logins, succeeded and failed, with the
//! check that failed — the troubleshooting view. No assertions, no secrets.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use ssoplane_schema::api::LoginEvent;

use super::error::ApiError;
use super::json::Query;
use super::{body, RouteSpec, Routes};
use crate::state::AppState;

const LIST: RouteSpec = RouteSpec {
    response: (200, Some(body::<Vec<LoginEvent>>)),
    errors: &[400],
    query: &[
        ("provider", "Only this provider's events (default: all)."),
        (
            "limit",
            "Most recent events to return (1-1000, default 100).",
        ),
    ],
    ..RouteSpec::new(
        "get",
        "/api/v1/login-events",
        "listLoginEvents",
        "Recent logins with the reason each failed or succeeded",
    )
};

pub fn register(r: Routes) -> Routes {
    r.add(LIST, get(list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    #[serde(default)]
    provider: String,
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
    let events: Vec<LoginEvent> = state
        .store
        .login_events(&f.provider, limit)
        .await?
        .into_iter()
        .map(|e| LoginEvent {
            provider: e.provider,
            at: e.at,
            outcome: e.outcome,
            reason: e.reason,
            login: e.login,
            correlation_id: e.correlation_id,
        })
        .collect();
    Ok(axum::Json(events).into_response())
}
