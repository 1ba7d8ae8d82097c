//! API tokens in the console: the list (names and roles, never tokens),
//! creating one (shown once, stored hashed, as `ssoplane token create`
//! does) and revoking one.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::{ConsoleUser, ConsoleWrite, NoFields};
use super::render::{page, refusal_page, Chrome, Nav};
use crate::state::AppState;
use crate::store::{Role, TokenRow};
use crate::tokens::{self, TokenError};

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct ListPage {
    chrome: Chrome,
    tokens: Vec<TokenRow>,
    error: Option<String>,
    /// A token just created: shown this once.
    created: Option<(String, String)>,
    name: String,
    cache_secs: u64,
}

async fn list_page(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    error: Option<String>,
    created: Option<(String, String)>,
    name: String,
) -> Response {
    match state.store.list_tokens().await {
        Ok(tokens) => page(
            user,
            status,
            &ListPage {
                chrome: Chrome::new(user, Nav::Tokens, "API tokens"),
                tokens,
                error,
                created,
                name,
                cache_secs: tokens::CACHE_TTL.as_secs(),
            },
        ),
        Err(e) => {
            tracing::error!(error = %e, "console: tokens unavailable");
            refusal_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Tokens unavailable",
                "The tokens could not be read.",
                &user.correlation_id,
            )
        }
    }
}

pub async fn list(State(state): State<AppState>, user: ConsoleUser) -> Response {
    // Token names and roles are for administrators only.
    if !user.is_admin() {
        return super::access::Refusal::ReadOnly.into_response(&user.correlation_id);
    }
    list_page(&state, &user, StatusCode::OK, None, None, String::new()).await
}

#[derive(Deserialize)]
pub struct Create {
    name: String,
    role: String,
}

pub async fn create(
    State(state): State<AppState>,
    ConsoleWrite { user, form: f }: ConsoleWrite<Create>,
) -> Response {
    let Some(role) = Role::parse(&f.role) else {
        return list_page(
            &state,
            &user,
            StatusCode::BAD_REQUEST,
            Some(format!("Unknown role {:?}.", f.role)),
            None,
            f.name,
        )
        .await;
    };
    match tokens::create(&state.store, &f.name, role).await {
        Ok(token) => {
            tracing::info!(
                token = f.name,
                role = role.as_str(),
                actor = user.actor(),
                "API token created from the console"
            );
            list_page(
                &state,
                &user,
                StatusCode::CREATED,
                None,
                Some((f.name, token)),
                String::new(),
            )
            .await
        }
        // A scim token needs a provider, which this form does not take
        // (`ssoplane token create --role scim --provider ...`).
        Err(
            e @ (TokenError::BadName
            | TokenError::Exists(_)
            | TokenError::ProviderRequired
            | TokenError::ProviderNotAllowed
            | TokenError::BadProvider(_)),
        ) => {
            list_page(
                &state,
                &user,
                StatusCode::BAD_REQUEST,
                Some(e.to_string()),
                None,
                f.name,
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "console: cannot create a token");
            refusal_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not created",
                "The token could not be created.",
                &user.correlation_id,
            )
        }
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ConsoleWrite { user, form: _ }: ConsoleWrite<NoFields>,
) -> Response {
    match state
        .store
        .revoke_token(&name, &crate::settings::now())
        .await
    {
        Ok(true) => {
            tracing::info!(
                token = name,
                actor = user.actor(),
                "API token revoked from the console"
            );
            Redirect::to("/admin/tokens").into_response()
        }
        Ok(false) => refusal_page(
            StatusCode::NOT_FOUND,
            "No such token",
            "No active token has this name.",
            &user.correlation_id,
        ),
        Err(e) => {
            tracing::error!(error = %e, "console: cannot revoke a token");
            refusal_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not revoked",
                "The token could not be revoked.",
                &user.correlation_id,
            )
        }
    }
}
