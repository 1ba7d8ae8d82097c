//! SCIM 2.0 provisioning (RFC 7643, RFC 7644) at `/scim/v2`, for Entra ID,
//! Okta and other clients, linked to SAML logins: a scim token is bound to
//! one provider, and the users it creates with an `externalId` are linked
//! to that provider's external uid. Handlers (`http`) are thin; the user
//! and group services (`users`, `groups`) own the transactions; the filter
//! parser (`filter`, `matcher`), the PATCH engine (`patch`), the document
//! mapping (`resource`, `list`) and the discovery documents (`discovery`)
//! are built on one declaration of the schema (`schema`). See docs/scim.md.

pub mod auth;
pub mod ctx;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod groups;
pub mod http;
pub mod list;
pub mod matcher;
pub mod patch;
pub mod resource;
pub mod schema;
pub mod users;

use axum::routing::{any, get, post};
use axum::Router;

use crate::state::AppState;

pub const PREFIX: &str = "/scim/v2";
/// Largest SCIM request body (the admin API allows more, for metadata).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(http::service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(http::resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(http::resource_type))
        .route("/scim/v2/Schemas", get(http::schemas))
        .route("/scim/v2/Schemas/{id}", get(http::schema))
        .route(
            "/scim/v2/Users",
            get(http::users_list).post(http::users_create),
        )
        .route("/scim/v2/Users/.search", post(http::users_search))
        .route(
            "/scim/v2/Users/{id}",
            get(http::user_get)
                .put(http::user_put)
                .patch(http::user_patch)
                .delete(http::user_delete),
        )
        .route(
            "/scim/v2/Groups",
            get(http::groups_list).post(http::groups_create),
        )
        .route("/scim/v2/Groups/.search", post(http::groups_search))
        .route(
            "/scim/v2/Groups/{id}",
            get(http::group_get)
                .put(http::group_put)
                .patch(http::group_patch)
                .delete(http::group_delete),
        )
        // Searching every resource type at once is not offered (RFC 7644
        // §3.4.3 makes it optional); each type has its own .search.
        .route("/scim/v2/.search", any(http::not_implemented))
        .route("/scim/v2/Me", any(http::not_implemented))
        .route("/scim/v2/Bulk", any(http::not_implemented))
        .route("/scim/v2/{*rest}", any(http::no_endpoint))
}

/// Whether a request path is SCIM's (its errors are SCIM error bodies).
pub fn is_scim_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/scim/")
}
