//! Data source `ssoplane_sp_metadata`: the SP side of a provider (entity ID,
//! ACS/SLO/metadata URLs and the metadata XML) to register at the IdP.
//! URLs follow from the server's root URL, so they are available even
//! before the provider's settings exist.

use std::sync::OnceLock;

use ssoplane_proto::cty::{AttrPath, Type, Value};
use ssoplane_proto::tfplugin6::Schema;
use ssoplane_schema::api::SpEndpoints;

use crate::config::Configured;
use crate::resources::client_diags;
use crate::schema::{attr, block, schema_type, Mode};
use crate::values::{error, get_str, Diags};

pub const TYPE_NAME: &str = "ssoplane_sp_metadata";

pub fn schema() -> Schema {
    crate::schema::schema(block(
        "The service-provider (ssoplane) side of an SSO provider, to register at the identity provider (e.g. an Entra ID application) in the same run.",
        vec![
            attr("provider_name", Type::String, Mode::Required, "The provider's slug, e.g. `entra`."),
            attr("id", Type::String, Mode::Computed, "The provider name."),
            attr("entity_id", Type::String, Mode::Computed, "The SP entity ID (identifier)."),
            attr("acs_url", Type::String, Mode::Computed, "Assertion consumer service (reply) URL."),
            attr("slo_url", Type::String, Mode::Computed, "Single logout URL."),
            attr("metadata_url", Type::String, Mode::Computed, "SP metadata URL."),
            attr("login_url", Type::String, Mode::Computed, "Sign-on URL."),
            attr("metadata_xml", Type::String, Mode::Computed, "The SP metadata document served by the server at `/saml/{provider}/metadata`; empty string when the server does not serve it (yet) for this provider."),
        ],
        vec![],
    ))
}

pub fn ty() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| schema_type(&schema()))
}

pub async fn read(cfg: &Configured, config: &Value) -> Result<Value, Diags> {
    let Some(provider) = get_str(config, "provider_name") else {
        return Err(vec![error(
            "provider_name unknown",
            "provider_name must be known to read.",
            None,
        )]);
    };
    if let Err(e) = ssoplane_schema::slug::check(&provider) {
        return Err(vec![error(
            "Invalid provider name",
            e.to_string(),
            Some(AttrPath::attr("provider_name")),
        )]);
    }
    let sp = match cfg.client.get_settings(&provider).await {
        Ok(Some(doc)) => doc.sp,
        // Not configured yet: the URLs are still predictable.
        Ok(None) => SpEndpoints::derive(&cfg.info.root_url, &provider, ""),
        Err(e) => return Err(client_diags("Cannot read SSO settings", e, &[])),
    };
    let xml = match cfg.client.sp_metadata_xml(&provider).await {
        Ok(x) => x.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "SP metadata not available");
            String::new()
        }
    };
    Ok(Value::object([
        ("provider_name", Value::string(&provider)),
        ("id", Value::string(&provider)),
        ("entity_id", Value::string(&sp.entity_id)),
        ("acs_url", Value::string(&sp.acs_url)),
        ("slo_url", Value::string(&sp.slo_url)),
        ("metadata_url", Value::string(&sp.metadata_url)),
        ("login_url", Value::string(&sp.login_url)),
        ("metadata_xml", Value::string(xml)),
    ]))
}
