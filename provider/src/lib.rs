//! `terraform-provider-ssoplane`: manages ssoplane SSO settings and groups
//! through the server's admin API, speaking tfplugin6 via `ssoplane-proto`.
//!
//! - [`provider`]: the provider block and the registry of every resource and
//!   data source type, served by `ssoplane_proto::framework`.
//! - [`config`]: the provider block and `ConfigureProvider`.
//! - [`client`]: the admin API client (retries, error mapping).
//! - [`schema`]: schema building blocks; the settings block is generated
//!   from `ssoplane_schema::FIELDS`.
//! - [`resources`], [`data_sources`]: one module per type.
//! - [`docs`]: registry-layout docs generated from the schema.
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod data_sources;
pub mod docs;
pub mod provider;
pub mod resources;
pub mod schema;
pub mod values;

pub use provider::SsoPlaneProvider;

/// Source address used in dev_overrides and reattach documents.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/ssoplane/ssoplane";
