//! Data source `ssoplane_sp_metadata`: the SP side of a provider (entity ID,
//! ACS/SLO/metadata URLs and the metadata XML) to register at the IdP.
//! URLs follow from the server's root URL, so they are available even
//! before the provider's settings exist. The optional `entity_id` input
//! takes the entity ID the settings will have (e.g. the resource's planned
//! `entity_id`), so the IdP gets the right identifier on the first apply.

use ssoplane_proto::cty::{AttrPath, Type, Value};
use ssoplane_proto::framework::DataSource;
use ssoplane_proto::tfplugin6::Schema;
use ssoplane_schema::api::SpEndpoints;

use crate::config::Configured;
use crate::resources::client_diags;
use crate::schema::{attr, block, Mode};
use crate::values::{error, get, get_str, Diags};

pub const TYPE_NAME: &str = "ssoplane_sp_metadata";

/// The `ssoplane_sp_metadata` data source type.
pub struct SpMetadata;

/// Longest entity ID accepted (SAML caps entityID at 1024 characters).
const MAX_ENTITY_ID: usize = 1024;

fn check_entity_id(v: &Value) -> Diags {
    match v {
        Value::String(e)
            if e.len() > MAX_ENTITY_ID || e.trim() != e || e.chars().any(char::is_control) =>
        {
            vec![error(
                "Invalid entity ID",
                format!("entity_id must be at most {MAX_ENTITY_ID} characters, without surrounding spaces or control characters."),
                Some(AttrPath::attr("entity_id")),
            )]
        }
        _ => vec![],
    }
}

#[ssoplane_proto::tonic::async_trait]
impl DataSource<Configured> for SpMetadata {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        crate::schema::schema(block(
            "The service-provider (ssoplane) side of an SSO provider, to register at the identity provider (e.g. an Entra ID application) in the same run.",
            vec![
                attr("provider_name", Type::String, Mode::Required, "The provider's slug, e.g. `entra`."),
                attr("id", Type::String, Mode::Computed, "The provider name."),
                attr("entity_id", Type::String, Mode::OptionalComputed, "The SP entity ID (identifier). Set it to the entity ID the settings will have — `ssoplane_sso_settings.<name>.entity_id`, known at plan time — so the IdP gets the right identifier on the first apply, before the settings exist on the server; left unset, it is the server's current one (the metadata URL by default)."),
                attr("acs_url", Type::String, Mode::Computed, "Assertion consumer service (reply) URL."),
                attr("slo_url", Type::String, Mode::Computed, "Single logout URL."),
                attr("metadata_url", Type::String, Mode::Computed, "SP metadata URL."),
                attr("login_url", Type::String, Mode::Computed, "Sign-on URL."),
                attr("metadata_xml", Type::String, Mode::Computed, "The SP metadata document the server serves at `/saml/{provider}/metadata` when read (with the entity ID in effect then); empty string when it serves none for this provider (not configured yet)."),
            ],
            vec![],
        ))
    }

    fn validate(&self, config: &Value) -> Diags {
        let mut diags = match get(config, "provider_name") {
            Value::String(p) => match ssoplane_schema::slug::check(&p) {
                Ok(()) => vec![],
                Err(e) => vec![error(
                    "Invalid provider name",
                    e.to_string(),
                    Some(AttrPath::attr("provider_name")),
                )],
            },
            _ => vec![],
        };
        diags.extend(check_entity_id(&get(config, "entity_id")));
        diags
    }

    async fn read(&self, cfg: &Configured, config: &Value) -> Result<Value, Diags> {
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
        let planned_entity = get(config, "entity_id");
        let bad = check_entity_id(&planned_entity);
        if !bad.is_empty() {
            return Err(bad);
        }
        let mut sp = match cfg.client.get_settings(&provider).await {
            Ok(Some(doc)) => doc.sp,
            // Not configured yet: the URLs are still predictable.
            Ok(None) => SpEndpoints::derive(&cfg.info.root_url, &provider, ""),
            Err(e) => return Err(client_diags("Cannot read SSO settings", e, &[])),
        };
        if let Some(e) = planned_entity.as_str().filter(|e| !e.is_empty()) {
            sp.entity_id = e.to_string();
        }
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
}
