//! Users in the console: the list, one user (identity links, groups with
//! their sources, organizations, state), disable/enable and ending every
//! session — through the same identity services the admin API uses.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::{ConsoleUser, ConsoleWrite, NoFields};
use super::render::{page, refusal_page, Chrome, Nav};
use crate::identity::{sessions, users};
use crate::state::AppState;
use crate::store::{LinkRow, UserRow};

const PAGE: i64 = 100;

#[derive(Deserialize, Default)]
pub struct Paging {
    #[serde(default)]
    page: i64,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct ListPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    page: i64,
    more: bool,
}

fn unavailable(user: &ConsoleUser, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console: users unavailable");
    refusal_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Users unavailable",
        "The users could not be read or changed.",
        &user.correlation_id,
    )
}

pub async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(p): Query<Paging>,
) -> Response {
    let page_no = p.page.clamp(0, 1_000_000);
    match state.store.list_users(PAGE + 1, page_no * PAGE).await {
        Ok(mut rows) => {
            let more = rows.len() as i64 > PAGE;
            rows.truncate(PAGE as usize);
            page(
                &user,
                StatusCode::OK,
                &ListPage {
                    chrome: Chrome::new(&user, Nav::Users, "Users"),
                    users: rows,
                    page: page_no,
                    more,
                },
            )
        }
        Err(e) => unavailable(&user, &e),
    }
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    chrome: Chrome,
    u: UserRow,
    links: Vec<LinkRow>,
    groups: Vec<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let u = match state.store.get_user(&id).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return refusal_page(
                StatusCode::NOT_FOUND,
                "No such user",
                "This user does not exist.",
                &user.correlation_id,
            )
        }
        Err(e) => return unavailable(&user, &e),
    };
    let (links, groups) = match (
        state.store.links_of(&id).await,
        state.store.user_groups(&id).await,
    ) {
        (Ok(l), Ok(g)) => (l, g),
        (Err(e), _) | (_, Err(e)) => return unavailable(&user, &e),
    };
    let notice = match done.done.as_str() {
        "disabled" => Some("The user is disabled and their sessions ended.".to_owned()),
        "enabled" => Some("The user is enabled.".to_owned()),
        "sessions" => Some("Every session of the user ended.".to_owned()),
        _ => None,
    };
    page(
        &user,
        StatusCode::OK,
        &UserPage {
            chrome: Chrome::new(&user, Nav::Users, format!("User {}", u.login)),
            u,
            links,
            groups,
            notice,
        },
    )
}

#[derive(Deserialize)]
pub struct SetDisabled {
    disabled: String,
}

pub async fn set_disabled(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleWrite { user, form: f }: ConsoleWrite<SetDisabled>,
) -> Response {
    let disabled = f.disabled == "true";
    match users::set_disabled(&state.store, &id, disabled).await {
        Ok(Some(_)) => {
            tracing::info!(
                user = id,
                disabled,
                actor = user.actor(),
                "user updated from the console"
            );
            let done = if disabled { "disabled" } else { "enabled" };
            Redirect::to(&format!("/admin/users/{id}?done={done}")).into_response()
        }
        Ok(None) => refusal_page(
            StatusCode::NOT_FOUND,
            "No such user",
            "This user does not exist.",
            &user.correlation_id,
        ),
        Err(e) => unavailable(&user, &e),
    }
}

pub async fn end_sessions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleWrite { user, form: _ }: ConsoleWrite<NoFields>,
) -> Response {
    match sessions::end_all_for_user(&state.store, &id).await {
        Ok(n) => {
            tracing::info!(
                user = id,
                sessions = n,
                actor = user.actor(),
                "sessions ended from the console"
            );
            Redirect::to(&format!("/admin/users/{id}?done=sessions")).into_response()
        }
        Err(e) => unavailable(&user, &e),
    }
}
