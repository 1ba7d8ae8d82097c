//! Login events in the console: the newest attempts, filterable by
//! provider, outcome and user, each with its detail (which check failed,
//! and the correlation id to find in the logs).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::access::ConsoleUser;
use super::render::{page, refusal_page, Chrome, Nav};
use crate::state::AppState;
use crate::store::{EventFilter, LoginEventRow};

/// Most events one page lists.
const PAGE: i64 = 200;
/// Longest filter value accepted (longer ones cannot match anything stored).
const MAX_FILTER: usize = 512;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    login: String,
}

pub struct EventView {
    pub row: LoginEventRow,
    /// The stable name of the check that refused it (the reason's prefix).
    pub check: String,
}

impl From<LoginEventRow> for EventView {
    fn from(row: LoginEventRow) -> EventView {
        let check = if row.outcome == "failure" {
            row.reason
                .split_once(':')
                .map(|(c, _)| c.to_owned())
                .unwrap_or_default()
        } else {
            String::new()
        };
        EventView { row, check }
    }
}

#[derive(Template)]
#[template(path = "console/events.html")]
struct ListPage {
    chrome: Chrome,
    events: Vec<EventView>,
    providers: Vec<String>,
    provider: String,
    outcome: String,
    login: String,
    error: Option<String>,
    limit: i64,
}

pub async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(f): Query<Filters>,
) -> Response {
    let clip = |s: &str| s.chars().take(MAX_FILTER).collect::<String>();
    let (provider, outcome, login) = (clip(&f.provider), clip(&f.outcome), clip(&f.login));
    let filter = EventFilter {
        provider: &provider,
        outcome: &outcome,
        login: &login,
    };
    let (events, error) = match state.store.find_login_events(&filter, PAGE).await {
        Ok(e) => (e.into_iter().map(EventView::from).collect(), None),
        Err(e) => {
            tracing::error!(error = %e, "cannot read login events");
            (
                Vec::new(),
                Some("The login events could not be read.".to_owned()),
            )
        }
    };
    let providers = state
        .settings
        .list()
        .await
        .map(|docs| docs.into_iter().map(|d| d.provider).collect())
        .unwrap_or_default();
    page(
        &user,
        StatusCode::OK,
        &ListPage {
            chrome: Chrome::new(&user, Nav::Events, "Login events"),
            events,
            providers,
            provider,
            outcome,
            login,
            error,
            limit: PAGE,
        },
    )
}

#[derive(Template)]
#[template(path = "console/event.html")]
struct EventPage {
    chrome: Chrome,
    event: EventView,
}

pub async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    match state.store.login_event(&id).await {
        Ok(Some(row)) => page(
            &user,
            StatusCode::OK,
            &EventPage {
                chrome: Chrome::new(&user, Nav::Events, "Login event"),
                event: row.into(),
            },
        ),
        Ok(None) => refusal_page(
            StatusCode::NOT_FOUND,
            "No such event",
            "This login event does not exist (events are kept for a limited time).",
            &user.correlation_id,
        ),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a login event");
            refusal_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Event unavailable",
                "The login event could not be read.",
                &user.correlation_id,
            )
        }
    }
}
