//! cty's msgpack encoding, the primary `DynamicValue` wire format.
//!
//! Rules (mirroring go-cty's `msgpack` package; hand-written because they
//! are protocol-specific, the msgpack framing itself is `rmpv`):
//! - null is msgpack nil;
//! - a wholly unknown value is extension type 0 with a one-byte zero payload
//!   (`d4 00 00`); a refined unknown is extension type 12 whose payload is a
//!   msgpack map from refinement code to value: 1 nullness (bool, `false` =
//!   definitely not null), 2 string prefix (str), 3 / 4 number lower / upper
//!   bound (`[number, inclusive bool]`), 5 / 6 collection length lower /
//!   upper bound (int). Any extension of length ≤ 1 decodes as unknown;
//! - numbers are an int when integral and within i64, else a float64 when
//!   exactly representable, else a decimal string;
//! - objects are maps with attributes in sorted order; lists, sets and
//!   tuples are arrays;
//! - a value in a `dynamic` slot is a 2-element array `[type JSON as bin,
//!   value]`, except null (nil) and wholly unknown (extension 0).

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::number::Number;
use super::types::Type;
use super::value::{Refinements, Value};
use super::{CtyError, PathBuf};

/// Extension type of a refined unknown value.
pub const EXT_REFINED_UNKNOWN: i8 = 12;
/// Refinement map keys.
pub const REFN_NULLNESS: i64 = 1;
pub const REFN_STRING_PREFIX: i64 = 2;
pub const REFN_NUMBER_MIN: i64 = 3;
pub const REFN_NUMBER_MAX: i64 = 4;
pub const REFN_LENGTH_MIN: i64 = 5;
pub const REFN_LENGTH_MAX: i64 = 6;
/// go-cty refuses refinement payloads above this size.
const MAX_REFINEMENT_LEN: usize = 1024;

/// Encodes `value` as cty msgpack for schema type `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CtyError> {
    let mut path = PathBuf::default();
    let mp = to_mp(value, ty, &mut path)?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp)
        .map_err(|e| CtyError::Msgpack(format!("write failed: {e}")))?;
    Ok(out)
}

/// Decodes cty msgpack `bytes` as a value of schema type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CtyError> {
    let mut rd = bytes;
    let mp = rmpv::decode::read_value(&mut rd)
        .map_err(|e| CtyError::Msgpack(format!("malformed msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(CtyError::Msgpack(format!(
            "{} trailing bytes after value",
            rd.len()
        )));
    }
    let mut path = PathBuf::default();
    from_mp(&mp, ty, &mut path)
}

fn unknown_plain() -> Mp {
    Mp::Ext(0, vec![0])
}

/// The type a value implies on its own, used when a plain value is put in a
/// `dynamic` slot. `None` when it cannot be told (null, unknown, empty
/// collections, mixed elements).
pub fn implied_type(value: &Value) -> Option<Type> {
    fn same(items: &[Value]) -> Option<Type> {
        let mut it = items.iter().map(implied_type);
        let first = it.next()??;
        for t in it {
            if t? != first {
                return None;
            }
        }
        Some(first)
    }
    match value {
        Value::Null | Value::Unknown(_) => None,
        Value::Bool(_) => Some(Type::Bool),
        Value::Number(_) => Some(Type::Number),
        Value::String(_) => Some(Type::String),
        Value::List(v) => Some(Type::list(same(v)?)),
        Value::Set(v) => Some(Type::set(same(v)?)),
        Value::Map(m) => Some(Type::map(same(&m.values().cloned().collect::<Vec<_>>())?)),
        Value::Tuple(v) => Some(Type::Tuple(
            v.iter().map(implied_type).collect::<Option<Vec<_>>>()?,
        )),
        Value::Object(m) => Some(Type::object(
            m.iter()
                .map(|(k, v)| Some((k.clone(), implied_type(v)?)))
                .collect::<Option<Vec<_>>>()?,
        )),
        Value::Dynamic(t, _) => Some(t.clone()),
    }
}

fn number_to_mp(n: &Number) -> Mp {
    if n.is_infinite() {
        Mp::F64(n.to_f64_lossy())
    } else if let Some(i) = n.to_i64() {
        Mp::from(i)
    } else if let Some(f) = n.to_f64_exact() {
        Mp::F64(f)
    } else {
        Mp::from(n.to_string())
    }
}

fn refinements_to_mp(r: &Refinements, ty: &Type) -> Result<Mp, CtyError> {
    let mut entries: Vec<(Mp, Mp)> = Vec::new();
    if let Some(is_null) = r.nullness {
        entries.push((Mp::from(REFN_NULLNESS), Mp::Boolean(is_null)));
    }
    match ty {
        Type::Number => {
            if let Some((n, inc)) = &r.number_lower {
                entries.push((
                    Mp::from(REFN_NUMBER_MIN),
                    Mp::Array(vec![number_to_mp(n), Mp::Boolean(*inc)]),
                ));
            }
            if let Some((n, inc)) = &r.number_upper {
                entries.push((
                    Mp::from(REFN_NUMBER_MAX),
                    Mp::Array(vec![number_to_mp(n), Mp::Boolean(*inc)]),
                ));
            }
        }
        Type::String => {
            if let Some(p) = r.string_prefix.as_deref().filter(|p| !p.is_empty()) {
                entries.push((Mp::from(REFN_STRING_PREFIX), Mp::from(p)));
            }
        }
        t if t.is_collection() => {
            if let Some(n) = r.length_lower {
                entries.push((Mp::from(REFN_LENGTH_MIN), Mp::from(n)));
            }
            if let Some(n) = r.length_upper {
                entries.push((Mp::from(REFN_LENGTH_MAX), Mp::from(n)));
            }
        }
        _ => {}
    }
    if entries.is_empty() {
        return Ok(unknown_plain());
    }
    let mut payload = Vec::new();
    rmpv::encode::write_value(&mut payload, &Mp::Map(entries))
        .map_err(|e| CtyError::Msgpack(format!("write failed: {e}")))?;
    Ok(Mp::Ext(EXT_REFINED_UNKNOWN, payload))
}

fn to_mp(value: &Value, ty: &Type, path: &mut PathBuf) -> Result<Mp, CtyError> {
    if let Type::Dynamic = ty {
        return match value {
            Value::Null => Ok(Mp::Nil),
            Value::Unknown(_) => Ok(unknown_plain()),
            Value::Dynamic(Type::Dynamic, inner) => to_mp(inner, ty, path),
            Value::Dynamic(t, inner) => Ok(Mp::Array(vec![
                Mp::Binary(t.to_json_bytes()),
                to_mp(inner, t, path)?,
            ])),
            other => match implied_type(other) {
                Some(t) => Ok(Mp::Array(vec![
                    Mp::Binary(t.to_json_bytes()),
                    to_mp(other, &t, path)?,
                ])),
                None => Err(path.error(
                    "value in a dynamic slot has no implied type; wrap it in Value::Dynamic",
                )),
            },
        };
    }
    match (value, ty) {
        (Value::Dynamic(t, inner), _) if t == ty => to_mp(inner, ty, path),
        (Value::Null, _) => Ok(Mp::Nil),
        (Value::Unknown(r), _) => refinements_to_mp(r, ty),
        (Value::Bool(b), Type::Bool) => Ok(Mp::Boolean(*b)),
        (Value::Number(n), Type::Number) => Ok(number_to_mp(n)),
        (Value::String(s), Type::String) => Ok(Mp::from(s.as_str())),
        (Value::List(items) | Value::Set(items), Type::List(et) | Type::Set(et)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push_index(i);
                out.push(to_mp(item, et, path)?);
                path.pop();
            }
            Ok(Mp::Array(out))
        }
        (Value::Tuple(items), Type::Tuple(ets)) => {
            if items.len() != ets.len() {
                return Err(path.error(&format!(
                    "tuple has {} elements, type wants {}",
                    items.len(),
                    ets.len()
                )));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                path.push_index(i);
                out.push(to_mp(item, et, path)?);
                path.pop();
            }
            Ok(Mp::Array(out))
        }
        (Value::Map(m), Type::Map(et)) => {
            let mut out = Vec::with_capacity(m.len());
            for (k, v) in m {
                path.push_key(k);
                out.push((Mp::from(k.as_str()), to_mp(v, et, path)?));
                path.pop();
            }
            Ok(Mp::Map(out))
        }
        (Value::Object(m), Type::Object { attrs, .. }) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(path.error(&format!("unsupported attribute {extra:?}")));
            }
            let mut out = Vec::with_capacity(attrs.len());
            for (k, at) in attrs {
                path.push_attr(k);
                let v = match m.get(k) {
                    Some(v) => to_mp(v, at, path)?,
                    None => Mp::Nil,
                };
                out.push((Mp::from(k.as_str()), v));
                path.pop();
            }
            Ok(Mp::Map(out))
        }
        (v, t) => Err(path.mismatch(v, t)),
    }
}

fn mp_number(mp: &Mp) -> Option<Result<Number, CtyError>> {
    match mp {
        Mp::Integer(i) => Some(Ok(if let Some(v) = i.as_i64() {
            Number::from(v)
        } else {
            Number::from(i.as_u64()?)
        })),
        Mp::F32(f) => Some(Number::from_f64(f64::from(*f))),
        Mp::F64(f) => Some(Number::from_f64(*f)),
        Mp::String(s) => Some(match s.as_str() {
            Some(s) => Number::parse(s),
            None => Err(CtyError::InvalidNumber("non-UTF-8 string".into())),
        }),
        _ => None,
    }
}

fn decode_unknown(code: i8, data: &[u8], ty: &Type, path: &PathBuf) -> Result<Value, CtyError> {
    if data.len() <= 1 {
        return Ok(Value::unknown());
    }
    if code != EXT_REFINED_UNKNOWN {
        return Err(path.error(&format!(
            "unsupported extension type {code} with length {}",
            data.len()
        )));
    }
    if data.len() > MAX_REFINEMENT_LEN {
        return Err(path.error("oversize unknown value refinement"));
    }
    let mut rd = data;
    let Ok(Mp::Map(entries)) = rmpv::decode::read_value(&mut rd) else {
        return Err(path.error("unknown value refinement is not a map"));
    };
    if let Type::Dynamic = ty {
        return Ok(Value::unknown());
    }
    let mut r = Refinements::default();
    for (k, v) in &entries {
        let Some(key) = k.as_i64() else {
            return Err(path.error("refinement key is not an integer"));
        };
        match key {
            REFN_NULLNESS => {
                r.nullness = Some(
                    v.as_bool()
                        .ok_or_else(|| path.error("nullness refinement is not a bool"))?,
                );
            }
            REFN_STRING_PREFIX => {
                if *ty != Type::String {
                    return Err(path.error("string prefix refinement for non-string type"));
                }
                let s = v
                    .as_str()
                    .ok_or_else(|| path.error("string prefix refinement is not a UTF-8 string"))?;
                r.string_prefix = Some(s.to_string());
            }
            REFN_NUMBER_MIN | REFN_NUMBER_MAX => {
                if *ty != Type::Number {
                    return Err(path.error("number bound refinement for non-number type"));
                }
                let bad = || path.error("number bound refinement must be [number, bool]");
                let arr = v.as_array().filter(|a| a.len() == 2).ok_or_else(bad)?;
                let n = mp_number(&arr[0]).ok_or_else(bad)??;
                let inc = arr[1].as_bool().ok_or_else(bad)?;
                if key == REFN_NUMBER_MIN {
                    r.number_lower = Some((n, inc));
                } else {
                    r.number_upper = Some((n, inc));
                }
            }
            REFN_LENGTH_MIN | REFN_LENGTH_MAX => {
                if !ty.is_collection() {
                    return Err(path.error("length refinement for non-collection type"));
                }
                let n = v.as_u64().ok_or_else(|| {
                    path.error("length refinement must be a non-negative integer")
                })?;
                if key == REFN_LENGTH_MIN {
                    r.length_lower = Some(n);
                } else {
                    r.length_upper = Some(n);
                }
            }
            _ => {} // future refinements are ignored, as go-cty does
        }
    }
    Ok(Value::Unknown(r))
}

fn from_mp(mp: &Mp, ty: &Type, path: &mut PathBuf) -> Result<Value, CtyError> {
    if let Mp::Ext(code, data) = mp {
        return decode_unknown(*code, data, ty, path);
    }
    if let Type::Dynamic = ty {
        return match mp {
            Mp::Nil => Ok(Value::Null),
            Mp::Array(pair) if pair.len() == 2 => {
                let ty_bytes = match &pair[0] {
                    Mp::Binary(b) => b.as_slice(),
                    Mp::String(s) => s.as_bytes(),
                    _ => return Err(path.error("dynamic value type must be bytes")),
                };
                let inner_ty = Type::from_json_bytes(ty_bytes)?;
                let inner = from_mp(&pair[1], &inner_ty, path)?;
                Ok(Value::dynamic(inner_ty, inner))
            }
            _ => Err(path.error("dynamic value must be a [type, value] array")),
        };
    }
    if let Mp::Nil = mp {
        return Ok(Value::Null);
    }
    match ty {
        Type::Bool => mp
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| path.error("bool is required")),
        Type::Number => match mp_number(mp) {
            Some(n) => Ok(Value::Number(n.map_err(|e| path.error(&e.to_string()))?)),
            None => Err(path.error("number is required")),
        },
        Type::String => match mp {
            Mp::String(s) => s
                .as_str()
                .map(|s| Value::String(s.to_string()))
                .ok_or_else(|| path.error("string is not valid UTF-8")),
            _ => Err(path.error("string is required")),
        },
        Type::List(et) | Type::Set(et) => {
            let items = mp
                .as_array()
                .ok_or_else(|| path.error("a list or set is required"))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push_index(i);
                out.push(from_mp(item, et, path)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        Type::Tuple(ets) => {
            let items = mp
                .as_array()
                .ok_or_else(|| path.error("a tuple is required"))?;
            if items.len() != ets.len() {
                return Err(path.error(&format!("a tuple of length {} is required", ets.len())));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                path.push_index(i);
                out.push(from_mp(item, et, path)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(et) => {
            let entries = mp.as_map().ok_or_else(|| path.error("a map is required"))?;
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let k = k
                    .as_str()
                    .ok_or_else(|| path.error("map keys must be strings"))?;
                path.push_key(k);
                out.insert(k.to_string(), from_mp(v, et, path)?);
                path.pop();
            }
            Ok(Value::Map(out))
        }
        Type::Object { attrs, .. } => {
            let entries = mp
                .as_map()
                .ok_or_else(|| path.error("an object is required"))?;
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let k = k
                    .as_str()
                    .ok_or_else(|| path.error("object keys must be strings"))?;
                let at = attrs
                    .get(k)
                    .ok_or_else(|| path.error(&format!("unsupported attribute {k:?}")))?;
                path.push_attr(k);
                out.insert(k.to_string(), from_mp(v, at, path)?);
                path.pop();
            }
            for k in attrs.keys() {
                out.entry(k.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => Err(path.error("unreachable dynamic type")),
    }
}
