//! Groups in the console: the list with member counts, creating and
//! deleting groups (the same group service as the admin API: names,
//! versions, refusals), and each group's members with the source of each
//! membership (an IdP, the API or SCIM).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::{ConsoleUser, ConsoleWrite};
use super::render::{page, refusal_page, Chrome, Nav};
use crate::groups::{self, GroupError};
use crate::state::AppState;
use crate::store::{GroupRow, MemberRow, Precondition};

const MAX_MEMBERS_SHOWN: i64 = 1000;

#[derive(Template)]
#[template(path = "console/groups.html")]
struct ListPage {
    chrome: Chrome,
    groups: Vec<GroupRow>,
    error: Option<String>,
    name: String,
    description: String,
}

fn failed(user: &ConsoleUser, e: &GroupError) -> Response {
    match e {
        GroupError::NotFound(_) => refusal_page(StatusCode::NOT_FOUND, "No such group", &e.to_string(), &user.correlation_id),
        GroupError::Stale { current } => refusal_page(
            StatusCode::CONFLICT,
            "Changed meanwhile",
            &format!("The group changed since this page was loaded (now version {current}); nothing was changed."),
            &user.correlation_id,
        ),
        other => {
            tracing::error!(error = %other, "console: group operation failed");
            refusal_page(StatusCode::SERVICE_UNAVAILABLE, "Groups unavailable", "The groups could not be read or changed.", &user.correlation_id)
        }
    }
}

async fn list_page(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    error: Option<String>,
    name: String,
    description: String,
) -> Response {
    match state.store.list_groups().await {
        Ok(groups) => page(
            user,
            status,
            &ListPage {
                chrome: Chrome::new(user, Nav::Groups, "Groups"),
                groups,
                error,
                name,
                description,
            },
        ),
        Err(e) => failed(user, &GroupError::Store(e)),
    }
}

pub async fn list(State(state): State<AppState>, user: ConsoleUser) -> Response {
    list_page(
        &state,
        &user,
        StatusCode::OK,
        None,
        String::new(),
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct Create {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create(
    State(state): State<AppState>,
    ConsoleWrite { user, form: f }: ConsoleWrite<Create>,
) -> Response {
    let actor = user.actor();
    let by = groups::Writer {
        actor: &actor,
        managed_by: "",
    };
    match groups::put(
        &state.store,
        &f.name,
        &f.description,
        Precondition::Absent,
        &by,
    )
    .await
    {
        Ok(_) => Redirect::to("/admin/groups").into_response(),
        Err(GroupError::Invalid(errors)) => {
            let message = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            list_page(
                &state,
                &user,
                StatusCode::BAD_REQUEST,
                Some(message),
                f.name,
                f.description,
            )
            .await
        }
        Err(GroupError::Exists { .. }) => {
            list_page(
                &state,
                &user,
                StatusCode::CONFLICT,
                Some(format!("A group named {:?} already exists.", f.name)),
                f.name,
                f.description,
            )
            .await
        }
        Err(e) => failed(&user, &e),
    }
}

#[derive(Template)]
#[template(path = "console/group.html")]
struct GroupPage {
    chrome: Chrome,
    g: GroupRow,
    members: Vec<MemberRow>,
    limit: i64,
}

pub async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(name): Path<String>,
) -> Response {
    let g = match state.store.get_group(&name).await {
        Ok(Some(g)) => g,
        Ok(None) => return failed(&user, &GroupError::NotFound(name)),
        Err(e) => return failed(&user, &GroupError::Store(e)),
    };
    match state.store.group_members(&name, MAX_MEMBERS_SHOWN).await {
        Ok(members) => page(
            &user,
            StatusCode::OK,
            &GroupPage {
                chrome: Chrome::new(&user, Nav::Groups, format!("Group {name}")),
                g,
                members,
                limit: MAX_MEMBERS_SHOWN,
            },
        ),
        Err(e) => failed(&user, &GroupError::Store(e)),
    }
}

#[derive(Deserialize)]
pub struct Delete {
    version: i64,
}

pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ConsoleWrite { user, form: f }: ConsoleWrite<Delete>,
) -> Response {
    match groups::delete(&state.store, &name, Precondition::Version(f.version)).await {
        Ok(()) => {
            tracing::info!(
                group = name,
                actor = user.actor(),
                "group deleted from the console"
            );
            Redirect::to("/admin/groups").into_response()
        }
        Err(e) => failed(&user, &e),
    }
}
