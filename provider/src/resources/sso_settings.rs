//! `ssoplane_sso_settings`: one SSO provider's SAML settings.
//!
//! Plan fills every unset setting with its default from `FIELDS`, so plans
//! are fully known and the applied state equals the plan. Secrets: the
//! sensitive attribute is kept in state and compared by fingerprint on
//! Read; the write-only twin is never stored — the fingerprint applied last
//! sits in the private state, and a mismatch with the server plans a resend
//! (decided once, at plan time, and handed to the apply in the planned
//! private state).
//!
//! No silent overwrites: a create is sent with `If-None-Match: *` (and a
//! plan that would create over settings already set through the API fails
//! early), an update or delete with `If-Match` on the version last read, so
//! a change made since the last refresh is refused with who and when.
//! Settings that exist only in the server's config file or environment
//! (`source = "system"`, version 0) can be imported or created over: the
//! API settings then take them over.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value as Json;
use ssoplane_proto::cty::{AttrPath, Type, Value};
use ssoplane_proto::framework::{Applied, ApplyRequest, PlanRequest, Planned, Resource};
use ssoplane_proto::tfplugin6::Schema;
use ssoplane_schema::api::{Source, SpEndpoints, SsoSettingsDoc};
use ssoplane_schema::secrets::{fingerprint, MASK};
use ssoplane_schema::{slug, validate, FieldSpec, Settings, FIELDS};

use crate::client::{ClientError, Expect};
use crate::config::Configured;
use crate::resources::{client_diags, field_path, import_hint, planned_version};
use crate::schema::{
    attr, block, fingerprint_name, schema_type, settings_block, single_block, wo_name,
    wo_version_name, Mode,
};
use crate::values::{default_value, error, get, get_str, json_to_value, value_to_json, Diags};

pub const TYPE_NAME: &str = "ssoplane_sso_settings";
pub const SETTINGS: &str = "saml_settings";
const ENDPOINTS: [&str; 5] = [
    "entity_id",
    "acs_url",
    "slo_url",
    "metadata_url",
    "login_url",
];

pub fn schema() -> Schema {
    crate::schema::schema(block(
        "SAML single sign-on settings of one ssoplane SSO provider (`/api/v1/sso-settings/{provider}`). Import with the provider name.",
        vec![
            attr("id", Type::String, Mode::Computed, "The provider name."),
            attr("provider_name", Type::String, Mode::Required, "The provider's slug (lowercase letters, digits, `_`; starts with a letter), e.g. `okta`. Changing it replaces the resource."),
            attr("entity_id", Type::String, Mode::Computed, "The SP entity ID the IdP must use: `saml_settings.entity_id`, or the metadata URL when that is empty. Known at plan time."),
            attr("acs_url", Type::String, Mode::Computed, "Assertion consumer service URL (reply URL) to register at the IdP. Known at plan time."),
            attr("slo_url", Type::String, Mode::Computed, "Single logout URL. Known at plan time."),
            attr("metadata_url", Type::String, Mode::Computed, "URL of the SP metadata. Known at plan time."),
            attr("login_url", Type::String, Mode::Computed, "URL that starts a login through this provider. Known at plan time."),
            attr("version", Type::Number, Mode::Computed, "Server-side version of the settings; increases with every change."),
        ],
        vec![single_block(SETTINGS, settings_block())],
    ))
}

pub fn ty() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| schema_type(&schema()))
}

/// What the private state remembers: the fingerprint of each write-only
/// secret as last applied.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Private {
    #[serde(default)]
    pub applied_fingerprints: BTreeMap<String, String>,
    /// Planned private state only: the write-only secrets this apply sends
    /// (the rest are sent as the mask, which keeps the stored secret).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub resend: BTreeSet<String>,
}

impl Private {
    pub fn parse(bytes: &[u8]) -> Private {
        serde_json::from_slice(bytes).unwrap_or_default()
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn fp_of(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        fingerprint(s)
    }
}

// ------------------------------------------------------------- validation

/// Plan-time validation with ssoplane_schema's rules; unknown values are
/// skipped. Diagnostics point at `saml_settings.<attr>[i]`.
pub fn validate_config(config: &Value) -> Diags {
    let mut diags = Vec::new();
    if let Value::String(p) = get(config, "provider_name") {
        if let Err(e) = slug::check(&p) {
            diags.push(error(
                "Invalid provider name",
                e.to_string(),
                Some(AttrPath::attr("provider_name")),
            ));
        }
    }
    let s = get(config, SETTINGS);
    if s.is_unknown() {
        return diags;
    }
    let mut settings = Settings::new();
    let mut unknown = BTreeSet::new();
    let mut via_wo = Vec::new();
    for f in FIELDS {
        let mut v = get(&s, f.name);
        if f.secret {
            let wo = get(&s, &wo_name(f));
            if !v.is_null() && !wo.is_null() {
                diags.push(error(
                    "Conflicting secret attributes",
                    format!("Set either `{}` or `{}`, not both.", f.name, wo_name(f)),
                    Some(AttrPath::attr(SETTINGS).then_attr(wo_name(f))),
                ));
            }
            if v.is_null() && !wo.is_null() {
                v = wo;
                via_wo.push(f.name);
            }
            if !get(&s, &wo_version_name(f)).is_null()
                && get(&s, &wo_name(f)).is_null()
                && get(&s, f.name).is_null()
            {
                diags.push(error(
                    "Version without a write-only value",
                    format!(
                        "`{}` only has an effect together with `{}`.",
                        wo_version_name(f),
                        wo_name(f)
                    ),
                    Some(AttrPath::attr(SETTINGS).then_attr(wo_version_name(f))),
                ));
            }
        }
        if !v.is_wholly_known() {
            unknown.insert(f.name.to_string());
            continue;
        }
        match value_to_json(&v) {
            Some(Json::Null) | None => {}
            Some(j) => {
                settings.insert(f.name.to_string(), j);
            }
        }
    }
    let normalized = match validate::normalize(&settings) {
        Ok(n) => n,
        Err(errors) => {
            for fe in errors {
                diags.push(error(
                    "Invalid SSO setting",
                    format!("{}: {}", fe.field, fe.message),
                    field_path(&fe.field, &via_wo),
                ));
            }
            return diags;
        }
    };
    for fe in validate::validate(&normalized, &unknown) {
        diags.push(error(
            "Invalid SSO setting",
            format!("{}: {}", fe.field, fe.message),
            field_path(&fe.field, &via_wo).or_else(|| Some(AttrPath::attr(SETTINGS))),
        ));
    }
    diags
}

// ------------------------------------------------------------------- plan

/// The planned new state, the attributes forcing replacement and the
/// planned private state (which write-only secrets the apply sends).
pub fn plan(
    root_url: Option<&str>,
    prior: &Value,
    config: &Value,
    prior_private: &[u8],
) -> (Value, Vec<AttrPath>, Private) {
    let mut private = Private::parse(prior_private);
    let prior_s = (!prior.is_null()).then(|| get(prior, SETTINGS));
    let cfg_s = get(config, SETTINGS);
    let (planned_s, resend) = plan_settings(&cfg_s, prior_s.as_ref(), &private);
    private.resend = resend;

    let provider_name = get(config, "provider_name");
    let mut out = BTreeMap::new();
    out.insert("id".to_string(), provider_name.clone());
    out.insert("provider_name".to_string(), provider_name.clone());
    let entity = get(&planned_s, "entity_id");
    match (provider_name.as_str(), entity.as_str(), root_url) {
        (Some(p), Some(e), Some(root)) => {
            for (k, v) in endpoint_values(&SpEndpoints::derive(root, p, e)) {
                out.insert(k, v);
            }
        }
        _ => {
            for k in ENDPOINTS {
                out.insert(k.to_string(), Value::unknown());
            }
        }
    }
    out.insert(SETTINGS.to_string(), planned_s);
    let mut planned = Value::Object(out);
    planned_version(&mut planned, prior);
    let mut replace = Vec::new();
    if !prior.is_null() && get(prior, "provider_name") != provider_name {
        replace.push(AttrPath::attr("provider_name"));
    }
    (planned, replace, private)
}

fn plan_settings(
    cfg_s: &Value,
    prior_s: Option<&Value>,
    private: &Private,
) -> (Value, BTreeSet<String>) {
    let mut out = BTreeMap::new();
    let mut resend = BTreeSet::new();
    for f in FIELDS {
        if !f.secret {
            let c = get(cfg_s, f.name);
            out.insert(
                f.name.to_string(),
                if c.is_null() { default_value(f) } else { c },
            );
            continue;
        }
        let plain = get(cfg_s, f.name);
        let wo = get(cfg_s, &wo_name(f));
        let ver = get(cfg_s, &wo_version_name(f));
        let fp = match (&plain, &wo) {
            (Value::String(s), _) => Value::String(fp_of(s)),
            (Value::Unknown(_), _) => Value::unknown(),
            (_, Value::String(w)) => {
                if needs_resend(f, w, &ver, prior_s, private) {
                    resend.insert(f.name.to_string());
                    Value::String(fp_of(w))
                } else {
                    prior_s
                        .map(|p| get(p, &fingerprint_name(f)))
                        .unwrap_or(Value::Null)
                }
            }
            (_, Value::Unknown(_)) => Value::unknown(),
            _ => Value::String(String::new()),
        };
        out.insert(f.name.to_string(), plain);
        out.insert(wo_name(f), Value::Null);
        out.insert(wo_version_name(f), ver);
        out.insert(fingerprint_name(f), fp);
    }
    (Value::Object(out), resend)
}

/// A write-only secret is sent on create, when its version changes, and when
/// the server's fingerprint no longer matches what was applied (drift). After
/// an import nothing was applied yet: compare with the configured value.
fn needs_resend(
    f: &FieldSpec,
    w: &str,
    ver: &Value,
    prior_s: Option<&Value>,
    private: &Private,
) -> bool {
    let Some(p) = prior_s else { return true };
    if get(p, &wo_version_name(f)) != *ver {
        return true;
    }
    let server_fp = get_str(p, &fingerprint_name(f)).unwrap_or_default();
    let expected = private
        .applied_fingerprints
        .get(f.name)
        .cloned()
        .unwrap_or_else(|| fp_of(w));
    expected != server_fp
}

fn endpoint_values(sp: &SpEndpoints) -> Vec<(String, Value)> {
    vec![
        ("entity_id".into(), Value::string(&sp.entity_id)),
        ("acs_url".into(), Value::string(&sp.acs_url)),
        ("slo_url".into(), Value::string(&sp.slo_url)),
        ("metadata_url".into(), Value::string(&sp.metadata_url)),
        ("login_url".into(), Value::string(&sp.login_url)),
    ]
}

// ----------------------------------------------------------- state builders

/// The resource state for a server document. `secret` gives, per secret
/// field and the server's fingerprint, the sensitive attribute's value and
/// the wo version to keep (neither comes from the server).
fn state_from_doc(
    doc: &SsoSettingsDoc,
    secret: impl Fn(&FieldSpec, &str) -> (Value, Value),
) -> Value {
    let mut s = BTreeMap::new();
    for f in FIELDS {
        let server = doc
            .settings
            .get(f.name)
            .map(json_to_value)
            .unwrap_or_else(|| default_value(f));
        if f.secret {
            let fp = doc
                .settings
                .get(&fingerprint_name(f))
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            let (plain, ver) = secret(f, &fp);
            s.insert(f.name.to_string(), plain);
            s.insert(wo_name(f), Value::Null);
            s.insert(wo_version_name(f), ver);
            s.insert(fingerprint_name(f), Value::String(fp));
        } else {
            s.insert(f.name.to_string(), server);
        }
    }
    let mut out: BTreeMap<String, Value> = endpoint_values(&doc.sp).into_iter().collect();
    out.insert("id".into(), Value::string(&doc.provider));
    out.insert("provider_name".into(), Value::string(&doc.provider));
    out.insert("version".into(), Value::from(doc.version));
    out.insert(SETTINGS.into(), Value::Object(s));
    Value::Object(out)
}

/// Settings as the server has them, for a state at `known_version`: None
/// for "not managed here any more" (404, or only file/env settings left
/// after the API settings this state applied were deleted). File/env-only
/// settings (version 0) stay for a state that imported them (version 0).
async fn fetch(
    cfg: &Configured,
    provider: &str,
    known_version: i64,
) -> Result<Option<SsoSettingsDoc>, Diags> {
    match cfg.client.get_settings(provider).await {
        Ok(Some(doc)) if doc.source == Source::Database || known_version == 0 => Ok(Some(doc)),
        Ok(_) => Ok(None),
        Err(e) => Err(client_diags("Cannot read SSO settings", e, &[])),
    }
}

fn version_of(state: &Value) -> Option<i64> {
    get(state, "version").as_number().and_then(|n| n.to_i64())
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::System => "system",
        Source::Database => "database",
    }
}

/// What the history says of the last change: "by WHO at WHEN", or why it
/// cannot say.
async fn last_change(cfg: &Configured, provider: &str) -> String {
    match cfg.client.last_change(provider).await {
        Ok(Some(h)) => format!("{} by {} at {} per the history", h.action, h.actor, h.at),
        Ok(None) => "the history has no entry for it".to_string(),
        Err(e) => format!("who and when are unknown: the history is not available ({e})"),
    }
}

/// The error for settings that already exist where a create was planned.
async fn exists_diag(cfg: &Configured, doc: &SsoSettingsDoc) -> Diags {
    let p = &doc.provider;
    let managed = doc
        .managed_by
        .as_deref()
        .map(|m| format!(", managed by {m}"))
        .unwrap_or_default();
    vec![error(
        "SSO settings already exist",
        format!(
            "The server already has settings for provider {p:?} set through the API (source {}, version {}, last {}{managed}); \
             creating this resource would overwrite them, so nothing was written. {}",
            source_name(doc.source),
            doc.version,
            last_change(cfg, p).await,
            import_hint(TYPE_NAME, p)
        ),
        Some(AttrPath::attr("provider_name")),
    )]
}

/// Turns a refused write (412) into what happened and what to do.
async fn refused(cfg: &Configured, provider: &str, e: ClientError, creating: bool) -> Diags {
    let ClientError::Stale { .. } = e else {
        return client_diags("Cannot apply SSO settings", e, &[]);
    };
    let doc = match cfg.client.get_settings(provider).await {
        Ok(d) => d,
        Err(e) => return client_diags("Cannot read SSO settings", e, &[]),
    };
    if creating {
        if let Some(doc) = &doc {
            return exists_diag(cfg, doc).await;
        }
    }
    let now = match &doc {
        Some(d) => format!(
            "now version {} (source {}), last {}",
            d.version,
            source_name(d.source),
            last_change(cfg, provider).await
        ),
        None => format!("now deleted, last {}", last_change(cfg, provider).await),
    };
    vec![error(
        "SSO settings changed since the last refresh",
        format!(
            "The settings of provider {provider:?} changed on the server since Terraform last read them ({now}); nothing was written. \
             Run `terraform plan` again to see the change, then apply (a saved plan cannot be applied; `terraform apply` without one refreshes first)."
        ),
        None,
    )]
}

pub async fn read(cfg: &Configured, current: &Value) -> Result<Value, Diags> {
    let Some(provider) = get_str(current, "provider_name") else {
        return Ok(Value::Null);
    };
    let known = version_of(current).unwrap_or(-1);
    let Some(doc) = fetch(cfg, &provider, known).await? else {
        tracing::info!(provider, "settings gone on the server; removing from state");
        return Ok(Value::Null);
    };
    let prior_s = get(current, SETTINGS);
    Ok(state_from_doc(&doc, |f, server_fp| {
        // The sensitive value stays while its fingerprint matches the server;
        // otherwise the mask stands in for "something else", so the plan
        // shows the secret changing back to the configured one.
        let plain = match get(&prior_s, f.name) {
            Value::String(s) if fp_of(&s) == server_fp => Value::String(s),
            Value::String(_) => Value::string(MASK),
            _ => Value::Null,
        };
        (plain, get(&prior_s, &wo_version_name(f)))
    }))
}

pub async fn import(cfg: &Configured, id: &str) -> Result<Value, Diags> {
    if let Err(e) = slug::check(id) {
        return Err(vec![error(
            "Invalid import ID",
            format!("Import with the provider name, e.g. `okta`: {e}"),
            None,
        )]);
    }
    // File/env settings (version 0) import too: the first apply takes them over.
    match fetch(cfg, id, 0).await? {
        Some(doc) => Ok(state_from_doc(&doc, |_, _| (Value::Null, Value::Null))),
        None => Err(vec![error(
            "SSO settings not found",
            format!("The server has no settings for provider {id:?}, neither set through the API nor in its config file or environment (GET /api/v1/sso-settings/{id})."),
            None,
        )]),
    }
}

/// Plan-time check for a create: settings already set through the API
/// would be overwritten, so the plan fails with the import hint (the apply
/// checks again, atomically, with `If-None-Match: *`).
async fn check_create(cfg: &Configured, config: &Value) -> Result<(), Diags> {
    let Some(provider) = get_str(config, "provider_name") else {
        return Ok(());
    };
    if slug::check(&provider).is_err() {
        return Ok(());
    }
    match cfg.client.get_settings(&provider).await {
        Ok(Some(doc)) if doc.source == Source::Database => Err(exists_diag(cfg, &doc).await),
        Ok(_) => Ok(()),
        Err(e) => Err(client_diags("Cannot read SSO settings", e, &[])),
    }
}

/// Create/update (PUT, full replace) or delete, each conditional on the
/// version last read. Returns new state and private.
pub async fn apply(
    cfg: &Configured,
    prior: &Value,
    planned: &Value,
    config: &Value,
    planned_private: &[u8],
) -> Result<(Value, Vec<u8>), Diags> {
    let prior_version = version_of(prior).unwrap_or(0);
    if planned.is_null() {
        // Version 0: imported from file/env and never written through the
        // API, so there is nothing of ours to delete.
        if let (Some(provider), true) = (get_str(prior, "provider_name"), prior_version > 0) {
            if let Err(e) = cfg.client.delete_settings(&provider, prior_version).await {
                return Err(refused(cfg, &provider, e, false).await);
            }
        }
        return Ok((Value::Null, Vec::new()));
    }
    let Some(provider) = get_str(planned, "provider_name") else {
        return Err(vec![error(
            "Provider name unknown at apply",
            "provider_name must be known.",
            None,
        )]);
    };
    let mut private = Private::parse(planned_private);
    let resend = std::mem::take(&mut private.resend);
    let planned_s = get(planned, SETTINGS);
    let cfg_s = get(config, SETTINGS);
    let prior_s = (!prior.is_null()).then(|| get(prior, SETTINGS));
    let mut settings = Settings::new();
    let mut via_wo = Vec::new();
    for f in FIELDS {
        if !f.secret {
            let Some(j) = value_to_json(&get(&planned_s, f.name)) else {
                return Err(vec![error(
                    "Setting unknown at apply",
                    format!("saml_settings.{} is still unknown.", f.name),
                    Some(AttrPath::attr(SETTINGS).then_attr(f.name)),
                )]);
            };
            settings.insert(f.name.to_string(), j);
            continue;
        }
        let value = match (get(&cfg_s, f.name), get(&cfg_s, &wo_name(f))) {
            (Value::String(s), _) => {
                private.applied_fingerprints.remove(f.name);
                s
            }
            (_, Value::String(w)) => {
                via_wo.push(f.name);
                if resend.contains(f.name) {
                    private
                        .applied_fingerprints
                        .insert(f.name.to_string(), fp_of(&w));
                    w
                } else {
                    // The server keeps the stored secret when sent the mask.
                    let prior_fp = prior_s
                        .as_ref()
                        .and_then(|p| get_str(p, &fingerprint_name(f)))
                        .unwrap_or_default();
                    private
                        .applied_fingerprints
                        .insert(f.name.to_string(), prior_fp);
                    MASK.to_string()
                }
            }
            _ => {
                private.applied_fingerprints.remove(f.name);
                String::new()
            }
        };
        settings.insert(f.name.to_string(), Json::String(value));
    }
    let creating = prior.is_null();
    let expect = if creating {
        Expect::Absent
    } else {
        Expect::Version(prior_version)
    };
    let doc = match cfg.client.put_settings(&provider, settings, expect).await {
        Ok(doc) => doc,
        Err(e @ ClientError::Stale { .. }) => {
            return Err(refused(cfg, &provider, e, creating).await)
        }
        Err(e) => return Err(client_diags("Cannot apply SSO settings", e, &via_wo)),
    };
    let state = state_from_doc(&doc, |f, _| {
        (
            get(&planned_s, f.name),
            get(&planned_s, &wo_version_name(f)),
        )
    });
    Ok((state, private.to_bytes()))
}

/// The `ssoplane_sso_settings` resource type.
pub struct SsoSettings;

#[ssoplane_proto::tonic::async_trait]
impl Resource<Configured> for SsoSettings {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value) -> Diags {
        validate_config(config)
    }

    async fn plan(&self, cfg: Option<&Configured>, req: PlanRequest<'_>) -> Result<Planned, Diags> {
        if let (true, Some(c)) = (req.prior.is_null(), cfg) {
            check_create(c, req.config).await?;
        }
        let root = cfg.map(|c| c.info.root_url.as_str());
        let (state, requires_replace, private) =
            plan(root, req.prior, req.config, req.prior_private);
        // Nothing to resend (now, nor left over from a failed apply): the
        // private state goes on byte for byte.
        let private =
            if private.resend.is_empty() && Private::parse(req.prior_private).resend.is_empty() {
                req.prior_private.to_vec()
            } else {
                private.to_bytes()
            };
        Ok(Planned {
            state,
            requires_replace,
            private,
        })
    }

    async fn read(&self, cfg: &Configured, current: &Value) -> Result<Value, Diags> {
        read(cfg, current).await
    }

    async fn import(&self, cfg: &Configured, id: &str) -> Result<Value, Diags> {
        import(cfg, id).await
    }

    async fn apply(&self, cfg: &Configured, req: ApplyRequest<'_>) -> Result<Applied, Diags> {
        let (state, private) =
            apply(cfg, req.prior, req.planned, req.config, req.planned_private).await?;
        Ok(Applied { state, private })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(settings: Vec<(&str, Value)>) -> Value {
        let mut s: BTreeMap<String, Value> = BTreeMap::new();
        if let Type::Object { attrs, .. } = &ty() {
            if let Some(Type::Object { attrs: inner, .. }) = attrs.get(SETTINGS) {
                for k in inner.keys() {
                    s.insert(k.clone(), Value::Null);
                }
            }
        }
        for (k, v) in settings {
            s.insert(k.to_string(), v);
        }
        Value::object([
            ("id", Value::Null),
            ("provider_name", Value::string("okta")),
            ("entity_id", Value::Null),
            ("acs_url", Value::Null),
            ("slo_url", Value::Null),
            ("metadata_url", Value::Null),
            ("login_url", Value::Null),
            ("version", Value::Null),
            (SETTINGS, Value::Object(s)),
        ])
    }

    #[test]
    fn create_plan_is_fully_known_except_version() {
        let cfg = config(vec![("name", Value::string("Okta"))]);
        let (planned, replace, private) =
            plan(Some("https://sso.example.com"), &Value::Null, &cfg, &[]);
        assert!(private.resend.is_empty());
        assert!(replace.is_empty());
        assert_eq!(
            get_str(&planned, "acs_url").as_deref(),
            Some("https://sso.example.com/saml/okta/acs")
        );
        assert!(get(&planned, "version").is_unknown());
        let s = get(&planned, SETTINGS);
        assert_eq!(get(&s, "name"), Value::string("Okta"));
        assert_eq!(get(&s, "strict"), Value::Bool(true));
        assert_eq!(get(&s, "private_key_fingerprint"), Value::string(""));
        assert!(s.is_wholly_known());
        // the plan validates against the object type
        ssoplane_proto::cty::encode_dynamic_value(&planned, ty()).unwrap();
    }

    #[test]
    fn unchanged_plan_keeps_version_and_write_only_is_not_resent() {
        let cfg = config(vec![("private_key_wo", Value::string("KEY"))]);
        let (mut prior, _, created) = plan(Some("https://x"), &Value::Null, &cfg, &[]);
        // a create sends the write-only key
        assert!(created.resend.contains("private_key"));
        if let Value::Object(m) = &mut prior {
            m.insert("version".into(), Value::from(3));
        }
        let private = Private {
            applied_fingerprints: [("private_key".to_string(), fingerprint("KEY"))].into(),
            ..Default::default()
        };
        let (planned, _, planned_private) =
            plan(Some("https://x"), &prior, &cfg, &private.to_bytes());
        assert_eq!(planned, prior);
        assert!(
            planned_private.resend.is_empty(),
            "unchanged: the mask is sent"
        );
        // the server's key changed behind our back: resend
        if let Value::Object(m) = &mut prior {
            if let Some(Value::Object(s)) = m.get_mut(SETTINGS) {
                s.insert(
                    "private_key_fingerprint".into(),
                    Value::string(fingerprint("OTHER")),
                );
            }
        }
        let (planned, _, planned_private) =
            plan(Some("https://x"), &prior, &cfg, &private.to_bytes());
        assert_eq!(
            get(&get(&planned, SETTINGS), "private_key_fingerprint"),
            Value::string(fingerprint("KEY"))
        );
        assert!(planned_private.resend.contains("private_key"));
        assert!(get(&planned, "version").is_unknown());
    }

    #[test]
    fn validation_points_at_attribute_and_list_index() {
        let cfg = config(vec![
            ("idp_metadata_url", Value::string("not a url")),
            (
                "allowed_groups",
                Value::List(vec![Value::string("a"), Value::string(" ")]),
            ),
        ]);
        let diags = validate_config(&cfg);
        let paths: Vec<_> = diags.iter().filter_map(|d| d.attribute.clone()).collect();
        assert!(
            paths.contains(
                &AttrPath::attr(SETTINGS)
                    .then_attr("idp_metadata_url")
                    .to_proto()
            ),
            "{diags:?}"
        );
        assert!(
            paths.contains(
                &AttrPath::attr(SETTINGS)
                    .then_attr("allowed_groups")
                    .index(1)
                    .to_proto()
            ),
            "{diags:?}"
        );
        // unknown values are skipped
        let cfg = config(vec![("idp_metadata_url", Value::unknown())]);
        assert!(validate_config(&cfg).is_empty());
    }
}
