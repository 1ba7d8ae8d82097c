//! JSON Schemas of the admin API's documents (only with the `openapi`
//! feature). The documents in `api.rs` derive theirs with schemars; the
//! settings object has no Rust struct of its own, so its schema is built
//! here from the field table (`FIELDS`), the one declaration of every
//! setting.

use std::borrow::Cow;

pub use schemars;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::{FieldSpec, Kind, FIELDS};

/// Stands for [`crate::Settings`] in the derived schemas
/// (`#[schemars(with = "SamlSettingsSchema")]`): the component `SamlSettings`.
pub struct SamlSettingsSchema;

impl JsonSchema for SamlSettingsSchema {
    fn schema_name() -> Cow<'static, str> {
        "SamlSettings".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut props = Map::new();
        for f in FIELDS {
            props.insert(f.name.to_owned(), field_schema(f));
            if let Some(fp) = f.fingerprint_name() {
                props.insert(
                    fp,
                    json!({"type": "string", "readOnly": true, "description": format!("SHA-256 fingerprint (`sha256:<hex>`) of `{}`; empty when unset.", f.name)}),
                );
            }
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("additionalProperties".into(), json!(false));
        schema.insert("description".into(), json!("A provider's SAML settings. Omitted fields take their defaults. Secrets are returned as `********` with a fingerprint; sending `********` back keeps the stored secret."));
        schema.insert("properties".into(), Value::Object(props));
        Schema::from(schema)
    }
}

fn field_schema(f: &FieldSpec) -> Value {
    let mut s = match f.kind {
        Kind::Bool => json!({"type": "boolean"}),
        k if k.is_list() => json!({"type": "array", "items": {"type": "string"}}),
        Kind::Enum(choices) => {
            json!({"type": "string", "enum": choices.iter().map(|c| c.value).collect::<Vec<_>>()})
        }
        _ => json!({"type": "string"}),
    };
    s["description"] = Value::String(f.description.to_owned());
    s["default"] = f.default.to_json();
    if f.secret {
        s["writeOnly"] = Value::Bool(true);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_in_the_settings_schema() {
        let mut generator = SchemaGenerator::default();
        let schema = SamlSettingsSchema::json_schema(&mut generator);
        let props = schema.as_value()["properties"].as_object().cloned();
        let props = props.unwrap_or_default();
        for f in FIELDS {
            assert!(props.contains_key(f.name), "{}", f.name);
        }
    }
}
