//! The admin HTTP API. Its routes are registered through [`Routes`], which
//! keeps each route's description beside its handler; the OpenAPI document
//! in docs/ is generated from that list.

pub mod audit;
pub mod auth;
pub mod error;
pub mod groups;
pub mod health;
pub mod json;
pub mod login_events;
pub mod openapi;
pub mod sso_settings;
pub mod users;

use axum::routing::MethodRouter;
use axum::Router;

use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Reader,
    Admin,
}

/// The documentation of one route; see `openapi.rs`.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// axum syntax, `{param}`, which is also OpenAPI's.
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub access: Access,
    /// Component schema of the JSON request body.
    pub request: Option<&'static str>,
    /// Success status and the component schema of its JSON body (None: no body or not JSON).
    pub response: (u16, Option<&'static str>),
    pub errors: &'static [u16],
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
    /// Whether the response carries an ETag and the request honours If-Match.
    pub versioned: bool,
}

impl RouteSpec {
    pub const fn new(
        method: &'static str,
        path: &'static str,
        operation_id: &'static str,
        summary: &'static str,
    ) -> Self {
        RouteSpec {
            method,
            path,
            operation_id,
            summary,
            access: Access::Reader,
            request: None,
            response: (200, None),
            errors: &[],
            query: &[],
            versioned: false,
        }
    }
}

pub struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Routes {
    fn new() -> Self {
        Routes {
            router: Router::new(),
            specs: Vec::new(),
        }
    }

    fn add(mut self, spec: RouteSpec, handler: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(spec.path, handler);
        self.specs.push(spec);
        self
    }

    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// Every route of the admin API, health and metrics endpoints.
pub fn routes() -> Routes {
    let r = Routes::new();
    let r = sso_settings::register(r);
    let r = groups::register(r);
    let r = users::register(r);
    let r = login_events::register(r);
    let r = audit::register(r);
    health::register(r)
}
