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
//!
//! Values are written to and read from the bytes directly, in the most
//! compact msgpack forms (what `rmpv` writes); only the small refinement
//! payloads of unknown values go through an `rmpv::Value`. Building an
//! `rmpv::Value` tree for every object cost as much as the decoding itself.

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
    let mut out = Vec::new();
    write(&mut out, value, ty, &mut path)?;
    Ok(out)
}

/// Decodes cty msgpack `bytes` as a value of schema type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CtyError> {
    let mut rd = Reader { b: bytes, pos: 0 };
    let mut path = PathBuf::default();
    let value = read(&mut rd, ty, &mut path)?;
    if rd.pos != bytes.len() {
        return Err(CtyError::Msgpack(format!(
            "{} trailing bytes after value",
            bytes.len() - rd.pos
        )));
    }
    Ok(value)
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

fn write_number(out: &mut Vec<u8>, n: &Number) {
    if n.is_infinite() {
        write_f64(out, n.to_f64_lossy());
    } else if let Some(i) = n.to_i64() {
        write_int(out, i);
    } else if let Some(f) = n.to_f64_exact() {
        write_f64(out, f);
    } else {
        write_str(out, &n.to_string());
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

fn write<'a>(
    out: &mut Vec<u8>,
    value: &'a Value,
    ty: &'a Type,
    path: &mut PathBuf<'a>,
) -> Result<(), CtyError> {
    if let Type::Dynamic = ty {
        return match value {
            Value::Null => {
                out.push(0xc0);
                Ok(())
            }
            Value::Unknown(_) => write_mp(out, &unknown_plain()),
            Value::Dynamic(Type::Dynamic, inner) => write(out, inner, ty, path),
            Value::Dynamic(t, inner) => {
                write_array_len(out, 2);
                write_bin(out, &t.to_json_bytes());
                write(out, inner, t, path)
            }
            other => match implied_type(other) {
                Some(t) => {
                    write_array_len(out, 2);
                    write_bin(out, &t.to_json_bytes());
                    write(out, other, &t, &mut path.child())
                }
                None => Err(path.error(
                    "value in a dynamic slot has no implied type; wrap it in Value::Dynamic",
                )),
            },
        };
    }
    match (value, ty) {
        (Value::Dynamic(t, inner), _) if t == ty => write(out, inner, ty, path),
        (Value::Null, _) => {
            out.push(0xc0);
            Ok(())
        }
        (Value::Unknown(r), _) => write_mp(out, &refinements_to_mp(r, ty)?),
        (Value::Bool(b), Type::Bool) => {
            out.push(if *b { 0xc3 } else { 0xc2 });
            Ok(())
        }
        (Value::Number(n), Type::Number) => {
            write_number(out, n);
            Ok(())
        }
        (Value::String(s), Type::String) => {
            write_str(out, s);
            Ok(())
        }
        (Value::List(items) | Value::Set(items), Type::List(et) | Type::Set(et)) => {
            write_array_len(out, items.len());
            for (i, item) in items.iter().enumerate() {
                path.push_index(i);
                write(out, item, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Tuple(items), Type::Tuple(ets)) => {
            if items.len() != ets.len() {
                return Err(path.error(&format!(
                    "tuple has {} elements, type wants {}",
                    items.len(),
                    ets.len()
                )));
            }
            write_array_len(out, items.len());
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                path.push_index(i);
                write(out, item, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Map(m), Type::Map(et)) => {
            write_map_len(out, m.len());
            for (k, v) in m {
                path.push_key(k);
                write_str(out, k);
                write(out, v, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Object(m), Type::Object { attrs, .. }) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(path.error(&format!("unsupported attribute {extra:?}")));
            }
            write_map_len(out, attrs.len());
            for (k, at) in attrs {
                path.push_attr(k);
                write_str(out, k);
                match m.get(k) {
                    Some(v) => write(out, v, at, path)?,
                    None => out.push(0xc0),
                }
                path.pop();
            }
            Ok(())
        }
        (v, t) => Err(path.mismatch(v, t)),
    }
}

// ------------------------------------------------------- msgpack framing
// The most compact form of each, as rmp/rmpv write them.

fn write_mp(out: &mut Vec<u8>, mp: &Mp) -> Result<(), CtyError> {
    rmpv::encode::write_value(out, mp).map_err(|e| CtyError::Msgpack(format!("write failed: {e}")))
}

fn write_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        let u = v as u64;
        if u < 128 {
            out.push(u as u8);
        } else if u < 1 << 8 {
            out.extend_from_slice(&[0xcc, u as u8]);
        } else if u < 1 << 16 {
            out.push(0xcd);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u < 1 << 32 {
            out.push(0xce);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if v >= -32 {
        out.push(v as i8 as u8);
    } else if v >= i64::from(i8::MIN) {
        out.extend_from_slice(&[0xd0, v as i8 as u8]);
    } else if v >= i64::from(i16::MIN) {
        out.push(0xd1);
        out.extend_from_slice(&(v as i16).to_be_bytes());
    } else if v >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(v as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

fn write_f64(out: &mut Vec<u8>, f: f64) {
    out.push(0xcb);
    out.extend_from_slice(&f.to_be_bytes());
}

/// A length header: the fix form when `len < fix_max`, else the 8-bit form
/// when there is one (`m8`), else 16 or 32 bits.
fn write_len(out: &mut Vec<u8>, len: usize, fix: u8, fix_max: usize, m8: Option<u8>, m16: u8) {
    if len < fix_max {
        out.push(fix | len as u8);
    } else if let (Some(m8), true) = (m8, len < 1 << 8) {
        out.extend_from_slice(&[m8, len as u8]);
    } else if len < 1 << 16 {
        out.push(m16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        // m32 follows m16 for every kind
        out.push(m16 + 1);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_len(out, s.len(), 0xa0, 32, Some(0xd9), 0xda);
    out.extend_from_slice(s.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    if b.len() < 1 << 8 {
        out.extend_from_slice(&[0xc4, b.len() as u8]);
    } else if b.len() < 1 << 16 {
        out.push(0xc5);
        out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    }
    out.extend_from_slice(b);
}

fn write_array_len(out: &mut Vec<u8>, len: usize) {
    write_len(out, len, 0x90, 16, None, 0xdc);
}

fn write_map_len(out: &mut Vec<u8>, len: usize) {
    write_len(out, len, 0x80, 16, None, 0xde);
}

/// One msgpack item, with containers as their length only (their elements
/// follow in the input).
enum Item<'b> {
    Nil,
    Bool(bool),
    Int(i64),
    /// Above `i64::MAX`.
    BigUint(u64),
    F32(f32),
    F64(f64),
    Str(&'b [u8]),
    Bin(&'b [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'b [u8]),
}

/// A cursor over msgpack bytes.
struct Reader<'b> {
    b: &'b [u8],
    pos: usize,
}

impl<'b> Reader<'b> {
    fn truncated() -> CtyError {
        CtyError::Msgpack("malformed msgpack: unexpected end of input".into())
    }

    fn take(&mut self, n: usize) -> Result<&'b [u8], CtyError> {
        let end = self.pos.checked_add(n).ok_or_else(Self::truncated)?;
        let bytes = self.b.get(self.pos..end).ok_or_else(Self::truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], CtyError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, CtyError> {
        Ok(self.be::<1>()?[0])
    }

    fn len(&mut self, width: u8) -> Result<usize, CtyError> {
        Ok(match width {
            1 => usize::from(self.u8()?),
            2 => usize::from(u16::from_be_bytes(self.be()?)),
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    /// Upper bound for preallocating `n` elements: each takes a byte at least.
    fn cap(&self, n: usize) -> usize {
        n.min(self.b.len() - self.pos)
    }

    fn item(&mut self) -> Result<Item<'b>, CtyError> {
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Item::Int(i64::from(m)),
            0x80..=0x8f => Item::Map(usize::from(m & 0x0f)),
            0x90..=0x9f => Item::Array(usize::from(m & 0x0f)),
            0xa0..=0xbf => Item::Str(self.take(usize::from(m & 0x1f))?),
            0xc0 => Item::Nil,
            0xc2 => Item::Bool(false),
            0xc3 => Item::Bool(true),
            0xc4..=0xc6 => {
                let n = self.len(1 << (m - 0xc4))?;
                Item::Bin(self.take(n)?)
            }
            0xc7..=0xc9 => {
                let n = self.len(1 << (m - 0xc7))?;
                let code = self.u8()? as i8;
                Item::Ext(code, self.take(n)?)
            }
            0xca => Item::F32(f32::from_be_bytes(self.be()?)),
            0xcb => Item::F64(f64::from_be_bytes(self.be()?)),
            0xcc => Item::Int(i64::from(self.u8()?)),
            0xcd => Item::Int(i64::from(u16::from_be_bytes(self.be()?))),
            0xce => Item::Int(i64::from(u32::from_be_bytes(self.be()?))),
            0xcf => {
                let u = u64::from_be_bytes(self.be()?);
                match i64::try_from(u) {
                    Ok(i) => Item::Int(i),
                    Err(_) => Item::BigUint(u),
                }
            }
            0xd0 => Item::Int(i64::from(self.u8()? as i8)),
            0xd1 => Item::Int(i64::from(i16::from_be_bytes(self.be()?))),
            0xd2 => Item::Int(i64::from(i32::from_be_bytes(self.be()?))),
            0xd3 => Item::Int(i64::from_be_bytes(self.be()?)),
            0xd4..=0xd8 => {
                let code = self.u8()? as i8;
                Item::Ext(code, self.take(1 << (m - 0xd4))?)
            }
            0xd9..=0xdb => {
                let n = self.len(1 << (m - 0xd9))?;
                Item::Str(self.take(n)?)
            }
            0xdc | 0xdd => {
                let n = self.len(2 << (m - 0xdc))?;
                Item::Array(n)
            }
            0xde | 0xdf => {
                let n = self.len(2 << (m - 0xde))?;
                Item::Map(n)
            }
            0xe0..=0xff => Item::Int(i64::from(m as i8)),
            0xc1 => {
                return Err(CtyError::Msgpack(
                    "malformed msgpack: reserved marker 0xc1".into(),
                ))
            }
        })
    }

    /// A string item's text (keys, strings, dynamic type JSON).
    fn str_item(&mut self) -> Result<Option<&'b [u8]>, CtyError> {
        Ok(match self.item()? {
            Item::Str(s) => Some(s),
            _ => None,
        })
    }
}

fn item_number(item: &Item<'_>) -> Option<Result<Number, CtyError>> {
    match item {
        Item::Int(i) => Some(Ok(Number::from(*i))),
        Item::BigUint(u) => Some(Ok(Number::from(*u))),
        Item::F32(f) => Some(Number::from_f64(f64::from(*f))),
        Item::F64(f) => Some(Number::from_f64(*f)),
        Item::Str(s) => Some(match std::str::from_utf8(s) {
            Ok(s) => Number::parse(s),
            Err(_) => Err(CtyError::InvalidNumber("non-UTF-8 string".into())),
        }),
        _ => None,
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

fn read<'a, 'b: 'a>(
    rd: &mut Reader<'b>,
    ty: &'a Type,
    path: &mut PathBuf<'a>,
) -> Result<Value, CtyError> {
    let item = rd.item()?;
    if let Item::Ext(code, data) = item {
        return decode_unknown(code, data, ty, path);
    }
    if let Type::Dynamic = ty {
        return match item {
            Item::Nil => Ok(Value::Null),
            Item::Array(2) => {
                let ty_bytes = match rd.item()? {
                    Item::Bin(b) | Item::Str(b) => b,
                    _ => return Err(path.error("dynamic value type must be bytes")),
                };
                let inner_ty = Type::from_json_bytes(ty_bytes)?;
                let inner = read(rd, &inner_ty, &mut path.child())?;
                Ok(Value::dynamic(inner_ty, inner))
            }
            _ => Err(path.error("dynamic value must be a [type, value] array")),
        };
    }
    if let Item::Nil = item {
        return Ok(Value::Null);
    }
    match ty {
        Type::Bool => match item {
            Item::Bool(b) => Ok(Value::Bool(b)),
            _ => Err(path.error("bool is required")),
        },
        Type::Number => match item_number(&item) {
            Some(n) => Ok(Value::Number(n.map_err(|e| path.error(&e.to_string()))?)),
            None => Err(path.error("number is required")),
        },
        Type::String => match item {
            Item::Str(s) => std::str::from_utf8(s)
                .map(|s| Value::String(s.to_string()))
                .map_err(|_| path.error("string is not valid UTF-8")),
            _ => Err(path.error("string is required")),
        },
        Type::List(et) | Type::Set(et) => {
            let Item::Array(n) = item else {
                return Err(path.error("a list or set is required"));
            };
            let mut out = Vec::with_capacity(rd.cap(n));
            for i in 0..n {
                path.push_index(i);
                out.push(read(rd, et, path)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        Type::Tuple(ets) => {
            let Item::Array(n) = item else {
                return Err(path.error("a tuple is required"));
            };
            if n != ets.len() {
                return Err(path.error(&format!("a tuple of length {} is required", ets.len())));
            }
            let mut out = Vec::with_capacity(n);
            for (i, et) in ets.iter().enumerate() {
                path.push_index(i);
                out.push(read(rd, et, path)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(et) => {
            let Item::Map(n) = item else {
                return Err(path.error("a map is required"));
            };
            let mut out = BTreeMap::new();
            for _ in 0..n {
                let k = rd
                    .str_item()?
                    .and_then(|k| std::str::from_utf8(k).ok())
                    .ok_or_else(|| path.error("map keys must be strings"))?;
                path.push_key(k);
                out.insert(k.to_string(), read(rd, et, path)?);
                path.pop();
            }
            Ok(Value::Map(out))
        }
        Type::Object { attrs, .. } => {
            let Item::Map(n) = item else {
                return Err(path.error("an object is required"));
            };
            let mut out = BTreeMap::new();
            for _ in 0..n {
                let k = rd
                    .str_item()?
                    .and_then(|k| std::str::from_utf8(k).ok())
                    .ok_or_else(|| path.error("object keys must be strings"))?;
                // The schema's own key, so the path borrows from the type.
                let (name, at) = attrs
                    .get_key_value(k)
                    .ok_or_else(|| path.error(&format!("unsupported attribute {k:?}")))?;
                path.push_attr(name);
                out.insert(name.clone(), read(rd, at, path)?);
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
