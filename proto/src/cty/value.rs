//! cty values: the in-memory form of what Terraform sends in a
//! `DynamicValue`, including unknown values and their refinements.
//!
//! A value does not carry its type; encoders and decoders take the schema
//! type alongside. The one exception is [`Value::Dynamic`], which wraps a
//! value sitting in a `dynamic`-typed slot together with its concrete type.

use std::collections::BTreeMap;

use super::number::Number;
use super::types::Type;

/// What is known about an unknown value (cty "refinements").
///
/// Only refinements that fit the value's type are encoded: string prefix
/// for strings, number bounds for numbers, length bounds for collections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refinements {
    /// `Some(false)`: definitely not null. `Some(true)` is legal on the wire
    /// but pointless. `None`: nullness unknown.
    pub nullness: Option<bool>,
    /// Known prefix of an unknown string.
    pub string_prefix: Option<String>,
    /// Lower bound of an unknown number and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of an unknown number and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Minimum length of an unknown collection.
    pub length_lower: Option<u64>,
    /// Maximum length of an unknown collection.
    pub length_upper: Option<u64>,
}

impl Refinements {
    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }

    /// Refinements saying only "not null".
    pub fn not_null() -> Self {
        Refinements {
            nullness: Some(false),
            ..Default::default()
        }
    }
}

/// A cty value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    /// Not known until apply; refinements narrow it down.
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Set elements in wire order (no de-duplication is performed).
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value in a `dynamic` slot with its concrete type; encodes as cty's
    /// `[type JSON, value]` pair in msgpack and `{"value":..,"type":..}` in
    /// JSON.
    Dynamic(Type, Box<Value>),
}

impl Value {
    /// A wholly unknown value.
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A number value.
    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    /// An object value from `(name, value)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map value from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Wraps `value` with its concrete type for a `dynamic` slot.
    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(ty, Box::new(value))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True if this value is unknown (not: contains an unknown).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True if no unknown appears anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Dynamic(_, v) => v.as_str(),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Dynamic(_, v) => v.as_bool(),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            Value::Dynamic(_, v) => v.as_number(),
            _ => None,
        }
    }

    /// Attribute `name` of an object (None if not an object or absent).
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            Value::Dynamic(_, v) => v.get_attr(name),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}
