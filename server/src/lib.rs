//! ssoplane server: the admin API, the settings store and (to come) the SAML
//! service-provider endpoints. `main.rs` is only the command line.

pub mod api;
pub mod app;
pub mod config;
pub mod housekeeping;
pub mod identity;
pub mod saml;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod web;
