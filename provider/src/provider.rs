//! The provider: its block and configuration ([`SsoPlane`]), and the
//! registry of every resource and data source type it serves. The gRPC
//! surface is `ssoplane_proto::framework::Framework`; adding a resource is
//! one module implementing `Resource` and one line in [`registry`].

use ssoplane_proto::cty::Value;
use ssoplane_proto::framework::{Diags, Framework, ProviderDef, Registry};
use ssoplane_proto::tfplugin6;

use crate::config::{self, Configured};
use crate::data_sources::{sp_metadata, sso_settings as ds_settings};
use crate::resources::{group, sso_settings};

/// The provider block and `ConfigureProvider`.
pub struct SsoPlane;

#[ssoplane_proto::tonic::async_trait]
impl ProviderDef for SsoPlane {
    type Context = Configured;

    fn schema(&self) -> tfplugin6::Schema {
        config::provider_schema()
    }

    async fn configure(&self, config: &Value) -> Result<Configured, Diags> {
        config::configure(config).await
    }
}

/// Every resource and data source type, once.
pub fn registry() -> Registry<Configured> {
    Registry::new()
        .resource(sso_settings::SsoSettings)
        .resource(group::Group)
        .data_source(ds_settings::SsoSettingsData)
        .data_source(sp_metadata::SpMetadata)
}

/// The provider Terraform talks to.
pub type SsoPlaneProvider = Framework<SsoPlane>;

pub fn new() -> SsoPlaneProvider {
    Framework::new(SsoPlane, registry())
}

/// Every schema the provider serves, for the docs generator and the
/// benchmark's same-schema twin.
pub struct Schemas {
    pub provider: tfplugin6::Schema,
    pub resources: Vec<(&'static str, tfplugin6::Schema)>,
    pub data_sources: Vec<(&'static str, tfplugin6::Schema)>,
}

pub fn schemas() -> Schemas {
    let r = registry();
    Schemas {
        provider: config::provider_schema(),
        resources: r.resources().map(|x| (x.type_name(), x.schema())).collect(),
        data_sources: r
            .data_sources()
            .map(|x| (x.type_name(), x.schema()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_registered_once_and_unknown_names_are_errors() {
        // Registry::resource panics on a duplicate type name.
        let p = new();
        let s = p.schema_response();
        let mut names: Vec<_> = s.resource_schemas.keys().collect();
        names.sort();
        assert_eq!(names, ["ssoplane_group", "ssoplane_sso_settings"]);
        assert_eq!(s.data_source_schemas.len(), 2);
        assert!(p.resource_type("ssoplane_nope").is_none());
    }
}
