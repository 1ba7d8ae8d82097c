//! cty types and their JSON type encoding.
//!
//! Terraform sends attribute types (`Schema.Attribute.type`) and the type
//! half of a dynamic value as JSON: primitives are strings (`"string"`,
//! `"number"`, `"bool"`, `"dynamic"`), compound types are arrays
//! (`["list","string"]`, `["object",{"a":"bool"}]`,
//! `["object",{"a":"bool"},["a"]]` for optional attributes,
//! `["tuple",["string","number"]]`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::CtyError;

/// A cty type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Number,
    String,
    /// `DynamicPseudoType`: the concrete type travels with the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object {
        attrs: BTreeMap<String, Type>,
        /// Attributes that may be omitted (type constraints only).
        optional: BTreeSet<String>,
    },
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(elem)`.
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }

    /// `set(elem)`.
    pub fn set(elem: Type) -> Type {
        Type::Set(Box::new(elem))
    }

    /// `map(elem)`.
    pub fn map(elem: Type) -> Type {
        Type::Map(Box::new(elem))
    }

    /// `object({...})` without optional attributes.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: BTreeSet::new(),
        }
    }

    /// `object({...})` with the named attributes marked optional.
    pub fn object_with_optional<K: Into<String>, O: Into<String>>(
        attrs: impl IntoIterator<Item = (K, Type)>,
        optional: impl IntoIterator<Item = O>,
    ) -> Type {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: optional.into_iter().map(Into::into).collect(),
        }
    }

    /// `tuple([...])`.
    pub fn tuple(elems: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elems.into_iter().collect())
    }

    /// True for list, set and map (the types with length refinements).
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// The JSON type encoding as a `serde_json::Value`.
    pub fn to_json(&self) -> Json {
        match self {
            Type::Bool => Json::from("bool"),
            Type::Number => Json::from("number"),
            Type::String => Json::from("string"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(e) => Json::Array(vec!["list".into(), e.to_json()]),
            Type::Set(e) => Json::Array(vec!["set".into(), e.to_json()]),
            Type::Map(e) => Json::Array(vec!["map".into(), e.to_json()]),
            Type::Object { attrs, optional } => {
                let obj: serde_json::Map<String, Json> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                let mut parts = vec![Json::from("object"), Json::Object(obj)];
                if !optional.is_empty() {
                    parts.push(Json::Array(
                        optional.iter().map(|s| Json::from(s.as_str())).collect(),
                    ));
                }
                Json::Array(parts)
            }
            Type::Tuple(elems) => Json::Array(vec![
                "tuple".into(),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The JSON type encoding as bytes (what `Schema.Attribute.type` holds).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses the JSON type encoding.
    pub fn from_json(json: &Json) -> Result<Type, CtyError> {
        let bad = |why: &str| CtyError::InvalidType(format!("{why}: {}", short(json)));
        match json {
            Json::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad("unknown primitive type")),
            },
            Json::Array(parts) => {
                let kind = parts
                    .first()
                    .and_then(Json::as_str)
                    .ok_or_else(|| bad("type array must start with a kind string"))?;
                match (kind, parts.len()) {
                    ("list", 2) => Ok(Type::list(Type::from_json(&parts[1])?)),
                    ("set", 2) => Ok(Type::set(Type::from_json(&parts[1])?)),
                    ("map", 2) => Ok(Type::map(Type::from_json(&parts[1])?)),
                    ("tuple", 2) => {
                        let elems = parts[1]
                            .as_array()
                            .ok_or_else(|| bad("tuple element types must be an array"))?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    ("object", 2 | 3) => {
                        let obj = parts[1]
                            .as_object()
                            .ok_or_else(|| bad("object attribute types must be an object"))?;
                        let mut attrs = BTreeMap::new();
                        for (k, v) in obj {
                            attrs.insert(k.clone(), Type::from_json(v)?);
                        }
                        let mut optional = BTreeSet::new();
                        if let Some(opt) = parts.get(2) {
                            let opt = opt
                                .as_array()
                                .ok_or_else(|| bad("optional attributes must be an array"))?;
                            for name in opt {
                                let name = name.as_str().ok_or_else(|| {
                                    bad("optional attribute names must be strings")
                                })?;
                                if !attrs.contains_key(name) {
                                    return Err(bad("optional attribute not in object"));
                                }
                                optional.insert(name.to_string());
                            }
                        }
                        Ok(Type::Object { attrs, optional })
                    }
                    _ => Err(bad("unknown or malformed compound type")),
                }
            }
            _ => Err(bad("type must be a string or an array")),
        }
    }

    /// Parses the JSON type encoding from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, CtyError> {
        let json: Json = serde_json::from_slice(bytes)
            .map_err(|e| CtyError::InvalidType(format!("not JSON: {e}")))?;
        Type::from_json(&json)
    }
}

fn short(json: &Json) -> String {
    let s = json.to_string();
    if s.len() > 80 {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_type_round_trips() {
        let cases = [
            (Type::String, r#""string""#),
            (Type::Dynamic, r#""dynamic""#),
            (Type::list(Type::String), r#"["list","string"]"#),
            (Type::set(Type::Number), r#"["set","number"]"#),
            (Type::map(Type::Bool), r#"["map","bool"]"#),
            (
                Type::object([("a", Type::Bool), ("b", Type::list(Type::String))]),
                r#"["object",{"a":"bool","b":["list","string"]}]"#,
            ),
            (
                Type::object_with_optional([("a", Type::Bool), ("b", Type::Number)], ["b"]),
                r#"["object",{"a":"bool","b":"number"},["b"]]"#,
            ),
            (
                Type::tuple([Type::String, Type::Dynamic]),
                r#"["tuple",["string","dynamic"]]"#,
            ),
        ];
        for (ty, json) in cases {
            assert_eq!(String::from_utf8(ty.to_json_bytes()).unwrap(), json);
            assert_eq!(Type::from_json_bytes(json.as_bytes()).unwrap(), ty);
        }
    }

    #[test]
    fn json_type_rejects_garbage() {
        for bad in [
            r#""str""#,
            r#"["list"]"#,
            r#"["object",{"a":"bool"},["b"]]"#,
            r#"["tuple","string"]"#,
            "42",
            "not json",
        ] {
            assert!(Type::from_json_bytes(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
