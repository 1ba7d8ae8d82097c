//! The one source of truth for ssoplane's SSO settings.
//!
//! The server validates and stores settings with this crate, the Terraform
//! provider builds its schema and plan-time validation from it, and the docs
//! are generated from it, so the three cannot drift apart.
#![forbid(unsafe_code)]

pub mod api;
pub mod docs;
pub mod durations;
pub mod fields;
pub mod pem;
pub mod saml;
pub mod secrets;
pub mod slug;
pub mod validate;

pub use api::{FieldError, SpEndpoints};
pub use fields::{DefaultValue, FieldSpec, Group, Kind, FIELDS};
pub use saml::SamlSettings;
pub use validate::{normalize, validate, Settings};
