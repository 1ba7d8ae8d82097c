//! The system layer of SSO settings: `[saml.<provider>]` from the config file
//! and `SSOPLANE__SAML__<PROVIDER>__<FIELD>` from the environment. Values
//! arrive loosely typed (an env var is always text), so they are coerced to
//! each field's JSON type before the same validation the API applies.

use std::collections::BTreeMap;

use serde_json::Value;
use ssoplane_schema::{fields, slug, validate, FieldError, Settings, Shape};

use super::files;

#[derive(Debug, thiserror::Error)]
#[error("invalid SSO settings in the config file/environment:\n{}", .0.iter().map(|e| format!("  {}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n"))]
pub struct SystemSettingsError(pub Vec<FieldError>);

/// Validated system settings per provider (plaintext; they never reach the database).
pub async fn load(
    raw: &BTreeMap<String, serde_json::Map<String, Value>>,
) -> Result<BTreeMap<String, Settings>, SystemSettingsError> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for (provider, table) in raw {
        let prefix = |e: FieldError| FieldError {
            field: e.field.replacen("saml.", &format!("saml.{provider}."), 1),
            message: e.message,
        };
        if let Err(e) = slug::check(provider) {
            errors.push(FieldError {
                field: format!("saml.{provider}"),
                message: e.to_string(),
            });
            continue;
        }
        let coerced: Settings = table
            .iter()
            .map(|(k, v)| (k.clone(), coerce(k, v)))
            .collect();
        match validate::check_with(&coerced, crate::saml::idp::check_metadata) {
            Ok(settings) => {
                let file_errors = files::check_paths(&settings).await;
                if file_errors.is_empty() {
                    out.insert(provider.clone(), settings);
                } else {
                    errors.extend(file_errors.into_iter().map(prefix));
                }
            }
            Err(e) => errors.extend(e.into_iter().map(prefix)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SystemSettingsError(errors))
    }
}

fn coerce(name: &str, v: &Value) -> Value {
    let Some(spec) = fields::field(name) else {
        return v.clone();
    };
    match (spec.kind.shape(), v) {
        (Shape::Bool, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Value::Bool(true),
            "false" | "0" | "no" | "off" => Value::Bool(false),
            _ => v.clone(),
        },
        (Shape::List, Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                Value::Array(vec![])
            } else if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(t) {
                Value::Array(items)
            } else {
                Value::Array(
                    t.split(',')
                        .map(|p| Value::String(p.trim().to_owned()))
                        .collect(),
                )
            }
        }
        // `relay_state = 123` in TOML or an all-digit env var is still text.
        (Shape::String, Value::Number(n)) => Value::String(n.to_string()),
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn env_style_values_are_coerced_then_validated() {
        let mut raw = BTreeMap::new();
        raw.insert(
            "microsoft_ad".to_owned(),
            json!({"auto_login": "true", "admin_groups": "admins, ops", "allowed_organizations": "[\"org 1\", \"second org\"]",
                   "assertion_attribute_org": "org", "relay_state": 42, "allow_idp_initiated": true})
            .as_object()
            .cloned()
            .unwrap(),
        );
        let out = load(&raw).await.unwrap();
        let ad = &out["microsoft_ad"];
        assert_eq!(ad["auto_login"], json!(true));
        assert_eq!(ad["admin_groups"], json!(["admins", "ops"]));
        assert_eq!(ad["allowed_organizations"], json!(["org 1", "second org"]));
        assert_eq!(ad["relay_state"], json!("42"));
    }

    #[tokio::test]
    async fn errors_name_the_provider_and_field() {
        let mut raw = BTreeMap::new();
        raw.insert(
            "okta".to_owned(),
            json!({"max_issue_delay": "soon"})
                .as_object()
                .cloned()
                .unwrap(),
        );
        raw.insert("Bad-Name".to_owned(), serde_json::Map::new());
        let e = load(&raw).await.unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["saml.Bad-Name", "saml.okta.max_issue_delay"]);
    }
}
