//! Managed resources, and the mapping of API errors to diagnostics shared
//! by them.

pub mod group;
pub mod sso_settings;

use ssoplane_proto::cty::AttrPath;
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
