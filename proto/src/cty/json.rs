//! cty's JSON value encoding: `DynamicValue.json` and `RawState.json`
//! (stored state handed to `UpgradeResourceState` / `MoveResourceState`).
//!
//! Numbers are JSON numbers and must be exact, so decoding uses a small
//! hand-written JSON reader that keeps number text verbatim (serde_json's
//! `arbitrary_precision` feature would change serde_json for the whole
//! workspace). Unknown values cannot be represented in JSON. Values in a
//! `dynamic` slot are `{"value": ..., "type": <type JSON>}`. Missing object
//! attributes decode as null.

use std::collections::BTreeMap;

use super::number::Number;
use super::types::Type;
use super::value::Value;
use super::{CtyError, PathBuf};

/// Nesting limit for the JSON reader (guards the stack).
const MAX_DEPTH: usize = 256;

/// Encodes `value` as cty JSON for schema type `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CtyError> {
    let mut out = String::new();
    let mut path = PathBuf::default();
    write_value(&mut out, value, ty, &mut path)?;
    Ok(out.into_bytes())
}

/// Decodes cty JSON `bytes` as a value of schema type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CtyError> {
    let text = std::str::from_utf8(bytes).map_err(|e| CtyError::Json(format!("not UTF-8: {e}")))?;
    let mut rd = Reader {
        s: text.as_bytes(),
        pos: 0,
        text,
    };
    rd.ws();
    let node = rd.node(0)?;
    rd.ws();
    if rd.pos != rd.s.len() {
        return Err(rd.err("trailing characters after JSON value"));
    }
    let mut path = PathBuf::default();
    from_node(&node, ty, &mut path)
}

fn write_str(out: &mut String, s: &str) {
    // serde_json's string escaping is exact JSON; it cannot fail for &str.
    out.push_str(&serde_json::Value::from(s).to_string());
}

fn write_value<'a>(
    out: &mut String,
    value: &'a Value,
    ty: &'a Type,
    path: &mut PathBuf<'a>,
) -> Result<(), CtyError> {
    if let Type::Dynamic = ty {
        let (inner_ty, inner) = match value {
            Value::Null => {
                out.push_str("null");
                return Ok(());
            }
            Value::Dynamic(t, v) => (t.clone(), v.as_ref()),
            Value::Unknown(_) => return Err(path.error("unknown values cannot be encoded as JSON")),
            other => match super::msgpack::implied_type(other) {
                Some(t) => (t, other),
                None => return Err(path.error("value in a dynamic slot has no implied type")),
            },
        };
        out.push_str("{\"value\":");
        write_value(out, inner, &inner_ty, &mut path.child())?;
        out.push_str(",\"type\":");
        out.push_str(&inner_ty.to_json().to_string());
        out.push('}');
        return Ok(());
    }
    match (value, ty) {
        (Value::Dynamic(t, inner), _) if t == ty => write_value(out, inner, ty, path)?,
        (Value::Null, _) => out.push_str("null"),
        (Value::Unknown(_), _) => {
            return Err(path.error("unknown values cannot be encoded as JSON"))
        }
        (Value::Bool(b), Type::Bool) => out.push_str(if *b { "true" } else { "false" }),
        (Value::Number(n), Type::Number) => {
            if n.is_infinite() {
                return Err(path.error("infinite numbers cannot be encoded as JSON"));
            }
            out.push_str(&n.to_string());
        }
        (Value::String(s), Type::String) => write_str(out, s),
        (Value::List(items) | Value::Set(items), Type::List(et) | Type::Set(et)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push_index(i);
                write_value(out, item, et, path)?;
                path.pop();
            }
            out.push(']');
        }
        (Value::Tuple(items), Type::Tuple(ets)) if items.len() == ets.len() => {
            out.push('[');
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push_index(i);
                write_value(out, item, et, path)?;
                path.pop();
            }
            out.push(']');
        }
        (Value::Map(m), Type::Map(et)) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                path.push_key(k);
                write_value(out, v, et, path)?;
                path.pop();
            }
            out.push('}');
        }
        (Value::Object(m), Type::Object { attrs, .. }) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(path.error(&format!("unsupported attribute {extra:?}")));
            }
            out.push('{');
            for (i, (k, at)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                path.push_attr(k);
                match m.get(k) {
                    Some(v) => write_value(out, v, at, path)?,
                    None => out.push_str("null"),
                }
                path.pop();
            }
            out.push('}');
        }
        (v, t) => return Err(path.mismatch(v, t)),
    }
    Ok(())
}

/// A parsed JSON node; numbers keep their source text.
enum Node {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "bool",
            Node::Number(_) => "number",
            Node::String(_) => "string",
            Node::Array(_) => "array",
            Node::Object(_) => "object",
        }
    }

    /// Back to a serde_json value (used for embedded type JSON, which has
    /// no numbers).
    fn to_serde(&self) -> serde_json::Value {
        match self {
            Node::Null => serde_json::Value::Null,
            Node::Bool(b) => (*b).into(),
            Node::Number(n) => n.parse::<f64>().map(Into::into).unwrap_or_default(),
            Node::String(s) => s.as_str().into(),
            Node::Array(a) => serde_json::Value::Array(a.iter().map(Node::to_serde).collect()),
            Node::Object(o) => serde_json::Value::Object(
                o.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect(),
            ),
        }
    }
}

/// Minimal strict JSON reader (RFC 8259) keeping number text.
struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    text: &'a str,
}

impl Reader<'_> {
    fn err(&self, why: &str) -> CtyError {
        CtyError::Json(format!("{why} at byte {}", self.pos))
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, CtyError> {
        if depth > MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        match self.s.get(self.pos) {
            None => Err(self.err("unexpected end of JSON")),
            Some(b'n') if self.eat("null") => Ok(Node::Null),
            Some(b't') if self.eat("true") => Ok(Node::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(Node::Bool(false)),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(Node::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.node(depth + 1)?);
                    self.ws();
                    if self.eat("]") {
                        return Ok(Node::Array(items));
                    }
                    if !self.eat(",") {
                        return Err(self.err("expected ',' or ']'"));
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(Node::Object(items));
                }
                loop {
                    self.ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return Err(self.err("expected object key"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err(self.err("expected ':'"));
                    }
                    self.ws();
                    let v = self.node(depth + 1)?;
                    items.push((k, v));
                    self.ws();
                    if self.eat("}") {
                        return Ok(Node::Object(items));
                    }
                    if !self.eat(",") {
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
            }
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn number(&mut self) -> Result<Node, CtyError> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let st = r.pos;
            while r.pos < r.s.len() && r.s[r.pos].is_ascii_digit() {
                r.pos += 1;
            }
            r.pos - st
        };
        self.eat("-");
        let int_start = self.pos;
        let n = digits(self);
        if n == 0 || (n > 1 && self.s[int_start] == b'0') {
            return Err(self.err("invalid number"));
        }
        if self.eat(".") && digits(self) == 0 {
            return Err(self.err("invalid number fraction"));
        }
        if self.pos < self.s.len() && matches!(self.s[self.pos], b'e' | b'E') {
            self.pos += 1;
            if self.pos < self.s.len() && matches!(self.s[self.pos], b'+' | b'-') {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("invalid number exponent"));
            }
        }
        Ok(Node::Number(self.text[start..self.pos].to_string()))
    }

    fn hex4(&mut self) -> Result<u32, CtyError> {
        let h = self
            .text
            .get(self.pos..self.pos + 4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.pos += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, CtyError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.pos < self.s.len() && !matches!(self.s[self.pos], b'"' | b'\\' | 0..=0x1f) {
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.s.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = *self.s.get(self.pos).ok_or_else(|| self.err("bad escape"))?;
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xd800..0xdc00).contains(&hi) {
                                if !self.eat("\\u") {
                                    return Err(self.err("lone surrogate"));
                                }
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(self.err("bad surrogate pair"));
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(cp).ok_or_else(|| self.err("bad code point"))?);
                        }
                        _ => return Err(self.err("bad escape")),
                    }
                }
                _ => return Err(self.err("unterminated string or control character")),
            }
        }
    }
}

fn from_node<'a>(node: &'a Node, ty: &'a Type, path: &mut PathBuf<'a>) -> Result<Value, CtyError> {
    if let Node::Null = node {
        return Ok(Value::Null);
    }
    let want = |what: &str, path: &PathBuf| {
        path.error(&format!("{what} is required, found {}", node.kind()))
    };
    match ty {
        Type::Dynamic => {
            let Node::Object(fields) = node else {
                return Err(want("a {\"value\",\"type\"} object", path));
            };
            let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            let (Some(v), Some(t)) = (get("value"), get("type")) else {
                return Err(path.error("dynamic value needs both \"value\" and \"type\""));
            };
            let inner_ty = Type::from_json(&t.to_serde())?;
            let inner = from_node(v, &inner_ty, &mut path.child())?;
            Ok(Value::dynamic(inner_ty, inner))
        }
        Type::Bool => match node {
            Node::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err(want("bool", path)),
        },
        Type::Number => match node {
            Node::Number(n) => Ok(Value::Number(Number::parse(n)?)),
            // cty accepts numbers given as strings
            Node::String(s) => Ok(Value::Number(Number::parse(s)?)),
            _ => Err(want("number", path)),
        },
        Type::String => match node {
            Node::String(s) => Ok(Value::String(s.clone())),
            _ => Err(want("string", path)),
        },
        Type::List(et) | Type::Set(et) => {
            let Node::Array(items) = node else {
                return Err(want("array", path));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push_index(i);
                out.push(from_node(item, et, path)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        Type::Tuple(ets) => {
            let Node::Array(items) = node else {
                return Err(want("array", path));
            };
            if items.len() != ets.len() {
                return Err(path.error(&format!("a tuple of length {} is required", ets.len())));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                path.push_index(i);
                out.push(from_node(item, et, path)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(et) => {
            let Node::Object(fields) = node else {
                return Err(want("object", path));
            };
            let mut out = BTreeMap::new();
            for (k, v) in fields {
                path.push_key(k);
                out.insert(k.clone(), from_node(v, et, path)?);
                path.pop();
            }
            Ok(Value::Map(out))
        }
        Type::Object { attrs, .. } => {
            let Node::Object(fields) = node else {
                return Err(want("object", path));
            };
            let mut out = BTreeMap::new();
            for (k, v) in fields {
                let at = attrs
                    .get(k)
                    .ok_or_else(|| path.error(&format!("unsupported attribute {k:?}")))?;
                path.push_attr(k);
                out.insert(k.clone(), from_node(v, at, path)?);
                path.pop();
            }
            for k in attrs.keys() {
                out.entry(k.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
    }
}
