//! The cty value codec: cty types, values (with unknowns and refinements),
//! exact numbers, the msgpack and JSON wire encodings, `DynamicValue`
//! helpers and attribute paths for diagnostics.
//!
//! Everything here is hand-written against the cty/tfplugin6 wire rules;
//! byte-level msgpack framing comes from `rmpv`.

pub mod json;
pub mod msgpack;
pub mod number;
pub mod path;
pub mod types;
pub mod value;

#[cfg(test)]
mod tests;

pub use number::Number;
pub use path::AttrPath;
pub use types::Type;
pub use value::{Refinements, Value};

use crate::tfplugin6;

/// Errors from encoding or decoding cty values and types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CtyError {
    #[error("invalid cty type: {0}")]
    InvalidType(String),
    #[error("invalid number: {0}")]
    InvalidNumber(String),
    #[error("msgpack: {0}")]
    Msgpack(String),
    #[error("json: {0}")]
    Json(String),
    #[error("at {path}: {message}")]
    At { path: String, message: String },
    #[error("DynamicValue has neither msgpack nor json content")]
    EmptyDynamicValue,
}

/// Path of the value being (de)coded, for error messages only.
///
/// Segments borrow the attribute names and keys from the value or type
/// being walked and are rendered only when an error is built: formatting
/// every step eagerly cost ~20% of decoding a large object on the success
/// path. A type that exists only inside one step (the concrete type of a
/// `dynamic` value) starts a [`PathBuf::child`] holding the rendered prefix.
#[derive(Default, Debug)]
pub(crate) struct PathBuf<'a> {
    prefix: String,
    segs: Vec<Seg<'a>>,
}

#[derive(Debug)]
enum Seg<'a> {
    Attr(&'a str),
    Key(&'a str),
    Index(usize),
}

impl<'a> PathBuf<'a> {
    pub(crate) fn push_attr(&mut self, name: &'a str) {
        self.segs.push(Seg::Attr(name));
    }
    pub(crate) fn push_key(&mut self, key: &'a str) {
        self.segs.push(Seg::Key(key));
    }
    pub(crate) fn push_index(&mut self, i: usize) {
        self.segs.push(Seg::Index(i));
    }
    pub(crate) fn pop(&mut self) {
        self.segs.pop();
    }
    /// A path continuing this one whose segments may borrow from data that
    /// lives shorter than this path's.
    pub(crate) fn child<'b>(&self) -> PathBuf<'b> {
        PathBuf {
            prefix: self.render(),
            segs: Vec::new(),
        }
    }
    fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = self.prefix.clone();
        for seg in &self.segs {
            // writing to a String cannot fail
            let _ = match seg {
                Seg::Attr(name) => write!(out, ".{name}"),
                Seg::Key(key) => write!(out, "[{key:?}]"),
                Seg::Index(i) => write!(out, "[{i}]"),
            };
        }
        out
    }
    pub(crate) fn error(&self, message: &str) -> CtyError {
        let path = self.render();
        CtyError::At {
            path: if path.is_empty() {
                "(root)".to_string()
            } else {
                path
            },
            message: message.to_string(),
        }
    }
    pub(crate) fn mismatch(&self, value: &Value, ty: &Type) -> CtyError {
        let kind = match value {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic(_, _) => "dynamic-wrapped value",
        };
        self.error(&format!(
            "{kind} value does not conform to type {}",
            ty.to_json()
        ))
    }
}

/// Decodes a `DynamicValue` as type `ty`: msgpack when present, else JSON.
/// A `DynamicValue` with both fields empty is an error.
pub fn decode_dynamic_value(dv: &tfplugin6::DynamicValue, ty: &Type) -> Result<Value, CtyError> {
    if !dv.msgpack.is_empty() {
        msgpack::decode(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        json::decode(&dv.json, ty)
    } else {
        Err(CtyError::EmptyDynamicValue)
    }
}

/// Like [`decode_dynamic_value`] for the optional message fields prost
/// generates; an absent `DynamicValue` decodes as null.
pub fn decode_optional_dynamic_value(
    dv: Option<&tfplugin6::DynamicValue>,
    ty: &Type,
) -> Result<Value, CtyError> {
    match dv {
        None => Ok(Value::Null),
        Some(dv) => decode_dynamic_value(dv, ty),
    }
}

/// Encodes `value` as a msgpack `DynamicValue` of type `ty`.
pub fn encode_dynamic_value(value: &Value, ty: &Type) -> Result<tfplugin6::DynamicValue, CtyError> {
    Ok(tfplugin6::DynamicValue {
        msgpack: msgpack::encode(value, ty)?,
        json: Vec::new(),
    })
}
