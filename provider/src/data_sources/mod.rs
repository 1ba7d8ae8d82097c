//! Data sources: read-only views for wiring the IdP side in the same run.

pub mod sp_metadata;
pub mod sso_settings;
