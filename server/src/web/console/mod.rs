//! The admin console at `/admin`: server-rendered pages to configure, test
//! and troubleshoot SSO. It calls the same services as the admin API (the
//! settings service, the store's users, groups, tokens and login events),
//! so every rule is enforced once; what it adds is who may see and change
//! what (`access`), CSRF protection, and pages (`render`, templates under
//! `server/templates/console`).

pub mod access;
mod certs;
mod events;
mod form;
mod groups;
mod metadata;
mod providers;
mod render;
mod test_signin;
mod tokens;
mod users;

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub use test_signin::save as save_test_report;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/providers") }))
        .route("/admin/providers", get(providers::list))
        .route(
            "/admin/new-provider",
            get(providers::new_form).post(providers::create),
        )
        .route("/admin/providers/{provider}", get(providers::show))
        .route(
            "/admin/providers/{provider}/edit",
            get(providers::edit).post(providers::update),
        )
        .route(
            "/admin/providers/{provider}/enabled",
            axum::routing::post(providers::set_enabled),
        )
        .route(
            "/admin/providers/{provider}/delete",
            get(providers::confirm_delete).post(providers::delete),
        )
        .route(
            "/admin/providers/{provider}/history",
            get(providers::history),
        )
        .route(
            "/admin/providers/{provider}/idp-metadata",
            get(metadata::form).post(metadata::preview),
        )
        .route(
            "/admin/providers/{provider}/idp-metadata/apply",
            axum::routing::post(metadata::apply),
        )
        .route(
            "/admin/providers/{provider}/test",
            axum::routing::post(test_signin::start),
        )
        .route("/admin/tests/{id}", get(test_signin::result))
        .route("/admin/events", get(events::list))
        .route("/admin/events/{id}", get(events::show))
        .route("/admin/users", get(users::list))
        .route("/admin/users/{id}", get(users::show))
        .route(
            "/admin/users/{id}/disabled",
            axum::routing::post(users::set_disabled),
        )
        .route(
            "/admin/users/{id}/end-sessions",
            axum::routing::post(users::end_sessions),
        )
        .route("/admin/groups", get(groups::list).post(groups::create))
        .route("/admin/groups/{name}", get(groups::show))
        .route(
            "/admin/groups/{name}/delete",
            axum::routing::post(groups::delete),
        )
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route(
            "/admin/tokens/{name}/revoke",
            axum::routing::post(tokens::revoke),
        )
}
