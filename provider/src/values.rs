//! Small helpers over cty values: object access, conversions between the
//! API's JSON and cty values per settings field kind, and diagnostics.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use ssoplane_proto::cty::{self, AttrPath, Type, Value};
use ssoplane_proto::tfplugin6;
use ssoplane_schema::{FieldSpec, Shape};

pub use ssoplane_proto::framework::Diags;

/// The object's attribute map, empty for null/unknown/non-objects.
pub fn attrs(v: &Value) -> BTreeMap<String, Value> {
    match v {
        Value::Object(m) => m.clone(),
        _ => BTreeMap::new(),
    }
}

/// Attribute `name` or null.
pub fn get(v: &Value, name: &str) -> Value {
    v.get_attr(name).cloned().unwrap_or(Value::Null)
}

/// Known string attribute.
pub fn get_str(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name).and_then(Value::as_str).map(str::to_string)
}

/// The cty type of a settings field: bool, list(string) or string.
pub fn field_type(f: &FieldSpec) -> Type {
    match f.kind.shape() {
        Shape::Bool => Type::Bool,
        Shape::List => Type::list(Type::String),
        Shape::String => Type::String,
    }
}

/// API JSON → cty value for a field (anything unexpected becomes null,
/// which then shows as a diff rather than a crash).
pub fn json_to_value(j: &Json) -> Value {
    match j {
        Json::Bool(b) => Value::Bool(*b),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(json_to_value).collect()),
        _ => Value::Null,
    }
}

/// Known cty value → API JSON. None when (part of) it is unknown.
pub fn value_to_json(v: &Value) -> Option<Json> {
    match v {
        Value::Null => Some(Json::Null),
        Value::Bool(b) => Some(Json::Bool(*b)),
        Value::String(s) => Some(Json::String(s.clone())),
        Value::List(items) | Value::Set(items) => items
            .iter()
            .map(value_to_json)
            .collect::<Option<Vec<_>>>()
            .map(Json::Array),
        Value::Number(n) => n.to_i64().map(Json::from),
        _ => None,
    }
}

/// A field's default as a cty value.
pub fn default_value(f: &FieldSpec) -> Value {
    json_to_value(&f.default.to_json())
}

pub fn error(
    summary: impl Into<String>,
    detail: impl Into<String>,
    at: Option<AttrPath>,
) -> tfplugin6::Diagnostic {
    cty::path::error_diagnostic(summary, detail, at)
}
