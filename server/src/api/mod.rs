//! The admin HTTP API. Every route under `/api/v1` (and the health and
//! metrics endpoints) is registered through [`Routes`], which keeps the
//! description of each route beside its handler and puts the access check
//! its spec declares in front of it (`auth::enforce`): the OpenAPI document
//! in docs/ is generated from the same list, with request and response
//! schemas derived from the types in `ssoplane_schema::api`. A test checks
//! that nothing under `/api/` is served outside the registry.

pub mod audit;
pub mod auth;
pub mod error;
pub mod groups;
pub mod health;
pub mod json;
pub mod login_events;
pub mod me;
pub mod openapi;
pub mod sso_settings;
pub mod users;

use axum::routing::MethodRouter;
use axum::{middleware, Router};
use ssoplane_schema::openapi::schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::state::AppState;

/// Who may call a route. The registry enforces it (`auth::enforce`) and the
/// OpenAPI document states it (`x-required-role`, `security`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: probes and scrapers.
    Public,
    /// A reader or admin token.
    Reader,
    /// An admin token.
    Admin,
    /// A signed-in user's session cookie (what the browser holds after a login).
    Session,
}

/// The JSON Schema of a request or response body: [`body::<T>`] for a type
/// deriving `JsonSchema` (a reference to its component schema, or an array
/// of them).
pub type BodySchema = fn(&mut SchemaGenerator) -> Schema;

/// The [`BodySchema`] of `T`.
pub fn body<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The documentation and access of one route; see `openapi.rs`.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// axum syntax, `{param}`, which is also OpenAPI's.
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub access: Access,
    /// Schema of the JSON request body.
    pub request: Option<BodySchema>,
    /// Success status and the schema of its JSON body (None: no body or not JSON).
    pub response: (u16, Option<BodySchema>),
    /// Error statuses of the handler; those of the access check (401, 403)
    /// follow from `access` ([`RouteSpec::error_statuses`]).
    pub errors: &'static [u16],
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
    /// Whether the response carries an ETag and the request honours If-Match.
    pub versioned: bool,
}

impl RouteSpec {
    /// Every error status the route may answer: the handler's and those of
    /// the check its access puts in front of it.
    pub fn error_statuses(&self) -> Vec<u16> {
        let checked: &[u16] = match self.access {
            Access::Public => &[],
            // no token or an unknown one; a role that may not (a reader
            // writing, any scim token)
            Access::Reader | Access::Admin => &[401, 403],
            Access::Session => &[401],
        };
        let mut all: Vec<u16> = self.errors.iter().chain(checked).copied().collect();
        all.sort_unstable();
        all.dedup();
        all
    }

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

/// The route registry: each route's spec beside its handler.
pub struct Routes {
    specs: Vec<RouteSpec>,
    handlers: Vec<MethodRouter<AppState>>,
}

impl Routes {
    fn new() -> Self {
        Routes {
            specs: Vec::new(),
            handlers: Vec::new(),
        }
    }

    fn add(mut self, spec: RouteSpec, handler: MethodRouter<AppState>) -> Self {
        self.specs.push(spec);
        self.handlers.push(handler);
        self
    }

    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    /// The router, each handler behind the check of its spec's access.
    pub fn into_router(self, state: &AppState) -> Router<AppState> {
        let mut router = Router::new();
        for (spec, handler) in self.specs.into_iter().zip(self.handlers) {
            let handler = match spec.access {
                Access::Public => handler,
                access => handler.route_layer(middleware::from_fn_with_state(
                    auth::Guard {
                        state: state.clone(),
                        access,
                    },
                    auth::enforce,
                )),
            };
            router = router.route(spec.path, handler);
        }
        router
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
    let r = me::register(r);
    health::register(r)
}
