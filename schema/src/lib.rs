//! The one source of truth for ssoplane's SSO settings.
//!
//! Every setting is declared once (`fields.rs`); the field table, the typed
//! settings, validation, the API and Terraform schemas, the docs and the
//! admin console's form are derived from that declaration, so they cannot
//! drift apart. The server validates and stores settings with this crate,
//! the Terraform provider builds its schema and plan-time validation from
//! it, and the docs are generated from it.
#![forbid(unsafe_code)]

#[macro_use]
mod declare;

pub mod api;
pub mod choices;
pub mod docs;
pub mod durations;
pub mod fields;
pub mod form;
pub mod group;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod org_mapping;
pub mod pem;
pub mod saml;
pub mod secrets;
pub mod slug;
pub mod spec;
pub mod validate;

pub use api::{FieldError, SpEndpoints};
pub use declare::{ModelError, SettingValue};
pub use fields::{name, FIELDS};
pub use saml::SamlSettings;
pub use spec::{DefaultValue, FieldSpec, Kind, Section, Shape};
#[cfg(feature = "metadata-xml")]
pub use validate::validate;
pub use validate::{normalize, Settings};
