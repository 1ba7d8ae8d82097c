//! Managed resources, and what they share: the mapping of API errors to
//! diagnostics, the planned version and the import hint.

pub mod group;
pub mod sso_settings;

use ssoplane_proto::cty::{AttrPath, Value};
use ssoplane_schema::FIELDS;

use crate::client::ClientError;
use crate::schema::wo_name;
use crate::values::{error, Diags};

/// `saml.<field>` or `saml.<field>[i]` → `saml_settings.<attr>[i]`. Errors
/// on a secret point at `via_wo` names when the value came from the
/// write-only twin (the caller says which).
pub fn field_path(field: &str, wo_secrets: &[&str]) -> Option<AttrPath> {
    let rest = field.strip_prefix("saml.")?;
    let (name, index) = match rest.split_once('[') {
        Some((n, i)) => (n, i.trim_end_matches(']').parse::<i64>().ok()),
        None => (rest, None),
    };
    let spec = FIELDS.iter().find(|f| f.name == name)?;
    let attr = if spec.secret && wo_secrets.contains(&name) {
        wo_name(spec)
    } else {
        name.to_string()
    };
    let mut p = AttrPath::attr("saml_settings").then_attr(attr);
    if let Some(i) = index {
        p = p.index(i);
    }
    Some(p)
}

/// One diagnostic per failing field for validation errors, else one for the
/// whole request.
pub fn client_diags(summary: &str, e: ClientError, wo_secrets: &[&str]) -> Diags {
    match e {
        ClientError::Api {
            errors, message, ..
        } if !errors.is_empty() => errors
            .iter()
            .map(|fe| {
                error(
                    "Invalid SSO setting",
                    format!("{}: {} ({message})", fe.field, fe.message),
                    field_path(&fe.field, wo_secrets),
                )
            })
            .collect(),
        other => vec![error(summary, other.to_string(), None)],
    }
}

/// The planned `version`: the prior one when nothing else changes (the
/// plan is then empty), unknown when the write will bump it.
pub fn planned_version(planned: &mut Value, prior: &Value) {
    let Value::Object(m) = planned else { return };
    m.insert(
        "version".to_string(),
        prior.get_attr("version").cloned().unwrap_or(Value::Null),
    );
    if prior.is_null() || *planned != *prior {
        if let Value::Object(m) = planned {
            m.insert("version".to_string(), Value::unknown());
        }
    }
}

/// How to adopt an existing object instead of creating it. The provider
/// is not told the resource's address: Terraform prints it beside the error.
pub fn import_hint(type_name: &str, id: &str) -> String {
    format!(
        "Import it instead of creating it, with this resource's name from the address above: \
         `terraform import {type_name}.<name> {id}`, or in the configuration:\n\n\
         import {{\n  to = {type_name}.<name>\n  id = \"{id}\"\n}}"
    )
}
