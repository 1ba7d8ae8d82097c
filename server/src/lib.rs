//! ssoplane server: the admin API, the settings store, the SAML
//! service-provider endpoints, sessions and forward auth, SCIM 2.0, and the
//! admin console. `main.rs` is only the command line.

// A panic on input is a denial of service: production code returns errors
// (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod app;
pub mod config;
pub mod groups;
pub mod housekeeping;
pub mod identity;
pub mod saml;
pub mod scim;
pub mod secrets;
pub mod settings;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod web;
