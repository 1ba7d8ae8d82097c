//! Data source `ssoplane_sso_settings`: a provider's effective settings
//! (API, file or environment), secrets only as fingerprints.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use ssoplane_proto::cty::{AttrPath, Type, Value};
use ssoplane_proto::framework::DataSource;
use ssoplane_proto::tfplugin6::Schema;
use ssoplane_schema::{slug, FIELDS};

use crate::config::Configured;
use crate::resources::client_diags;
use crate::schema::{attr, block, fingerprint_name, settings_object_type, Mode};
use crate::values::{default_value, error, get_str, json_to_value, Diags};

pub const TYPE_NAME: &str = "ssoplane_sso_settings";

pub fn schema() -> Schema {
    crate::schema::schema(block(
        "Reads one SSO provider's effective settings (set through the API, or from the server's config file / environment). Secrets appear only as fingerprints.",
        vec![
            attr("provider_name", Type::String, Mode::Required, "The provider's slug, e.g. `okta`."),
            attr("id", Type::String, Mode::Computed, "The provider name."),
            attr("source", Type::String, Mode::Computed, "`database` (set through the API) or `system` (config file / environment)."),
            attr("version", Type::Number, Mode::Computed, "Server-side version (0 for `system`)."),
            attr("entity_id", Type::String, Mode::Computed, "The SP entity ID."),
            attr("acs_url", Type::String, Mode::Computed, "Assertion consumer service URL."),
            attr("slo_url", Type::String, Mode::Computed, "Single logout URL."),
            attr("metadata_url", Type::String, Mode::Computed, "SP metadata URL."),
            attr("login_url", Type::String, Mode::Computed, "Login URL."),
            attr("saml_settings", settings_object_type(), Mode::Computed, "Every setting with defaults filled in; each secret as `<name>_fingerprint` only."),
        ],
        vec![],
    ))
}

/// The `ssoplane_sso_settings` data source type.
pub struct SsoSettingsData;

#[ssoplane_proto::tonic::async_trait]
impl DataSource<Configured> for SsoSettingsData {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> Schema {
        schema()
    }
    fn validate(&self, config: &Value) -> Diags {
        validate_config(config)
    }
    async fn read(&self, cfg: &Configured, config: &Value) -> Result<Value, Diags> {
        read(cfg, config).await
    }
}

pub fn validate_config(config: &Value) -> Diags {
    match config.get_attr("provider_name").and_then(Value::as_str) {
        Some(p) => match slug::check(p) {
            Ok(()) => vec![],
            Err(e) => vec![error(
                "Invalid provider name",
                e.to_string(),
                Some(AttrPath::attr("provider_name")),
            )],
        },
        None => vec![],
    }
}

pub async fn read(cfg: &Configured, config: &Value) -> Result<Value, Diags> {
    let Some(provider) = get_str(config, "provider_name") else {
        return Err(vec![error(
            "provider_name unknown",
            "provider_name must be known to read.",
            None,
        )]);
    };
    let doc = match cfg.client.get_settings(&provider).await {
        Ok(Some(doc)) => doc,
        Ok(None) => {
            return Err(vec![error(
                "SSO provider not found",
                format!("The server has no settings for provider {provider:?}."),
                Some(AttrPath::attr("provider_name")),
            )])
        }
        Err(e) => return Err(client_diags("Cannot read SSO settings", e, &[])),
    };
    let mut s = BTreeMap::new();
    for f in FIELDS {
        if f.secret {
            let fp = doc
                .settings
                .get(&fingerprint_name(f))
                .and_then(Json::as_str)
                .unwrap_or_default();
            s.insert(fingerprint_name(f), Value::string(fp));
        } else {
            let v = doc
                .settings
                .get(f.name)
                .map(json_to_value)
                .unwrap_or_else(|| default_value(f));
            s.insert(f.name.to_string(), v);
        }
    }
    let source = match doc.source {
        ssoplane_schema::api::Source::System => "system",
        ssoplane_schema::api::Source::Database => "database",
    };
    Ok(Value::object([
        ("provider_name", Value::string(&provider)),
        ("id", Value::string(&provider)),
        ("source", Value::string(source)),
        ("version", Value::from(doc.version)),
        ("entity_id", Value::string(&doc.sp.entity_id)),
        ("acs_url", Value::string(&doc.sp.acs_url)),
        ("slo_url", Value::string(&doc.sp.slo_url)),
        ("metadata_url", Value::string(&doc.sp.metadata_url)),
        ("login_url", Value::string(&doc.sp.login_url)),
        ("saml_settings", Value::Object(s)),
    ]))
}
