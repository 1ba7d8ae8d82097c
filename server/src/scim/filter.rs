//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a lexer and a
//! recursive-descent parser over the ABNF — `eq ne co sw ew pr gt ge lt
//! le`, `and` over `or`, `not ( )`, parentheses, attribute paths with an
//! optional schema URN and sub-attribute, value paths `emails[type eq
//! "work"]` — resolving every attribute against the declared schema as it
//! goes. Input is bounded (length, nesting, terms) before any work is
//! proportional to it, and every refusal says what and where (a 1-based
//! character position), quoting at most a short piece of the client's own
//! filter.

use serde_json::{Number, Value};

use super::error::{ScimError, ScimType};
use super::schema::{Attr, Kind, Returned, Schema, Type};

/// Longest filter or path accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not` and value paths.
pub const MAX_DEPTH: usize = 16;
/// Most comparisons (`attrExp`) in one filter.
pub const MAX_TERMS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Op> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Co => "co",
            Op::Sw => "sw",
            Op::Ew => "ew",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
}

/// An attribute path resolved against the schema: which extension (none for
/// the core schema and common attributes), which attribute, which
/// sub-attribute. Inside a value path the attribute is a sub-attribute of
/// the value path's attribute, relative to each element.
#[derive(Debug, Clone, Copy)]
pub struct AttrRef {
    pub extension: Option<&'static Schema>,
    pub attr: &'static Attr,
    pub sub: Option<&'static Attr>,
}

impl AttrRef {
    /// The attribute whose values a comparison reads: the sub-attribute, or
    /// `value` of a complex attribute named alone (RFC 7644 §3.4.2.2).
    pub fn leaf(&self) -> Option<&'static Attr> {
        match self.sub {
            Some(s) => Some(s),
            None if self.attr.ty == Type::Complex => self.attr.sub_attr("value"),
            None => Some(self.attr),
        }
    }

    /// `userName`, `name.givenName`, `urn:...:User:manager.value`.
    pub fn display(&self) -> String {
        let mut s = String::new();
        if let Some(e) = self.extension {
            s.push_str(e.id);
            s.push(':');
        }
        s.push_str(self.attr.name);
        if let Some(sub) = self.sub {
            s.push('.');
            s.push_str(sub.name);
        }
        s
    }
}

#[derive(Debug, Clone)]
pub enum Filter {
    Compare(AttrRef, Op, Literal),
    Present(AttrRef),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: some element of `attr` matches `filter`, whose paths
    /// are relative to the element.
    ValuePath(AttrRef, Box<Filter>),
}

/// A PATCH path: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`,
/// or a bare extension URN (the whole extension object).
#[derive(Debug, Clone)]
pub enum PatchPath {
    Extension(&'static Schema),
    Attr {
        target: AttrRef,
        filter: Option<Box<Filter>>,
        /// After a filter: the sub-attribute of the matching elements.
        sub: Option<&'static Attr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Str(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based character position.
    at: usize,
}

/// A piece of the client's input for an error message: short, one line.
fn quote(s: &str) -> String {
    let mut out: String = s.chars().take(40).filter(|c| !c.is_control()).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    format!("{out:?}")
}

fn lex(input: &str, what: &str) -> Result<Vec<Token>, ScimError> {
    let err = |at: usize, msg: String| {
        ScimError::bad(
            scim_type_for(what),
            format!("{what}: {msg} at position {at}"),
        )
    };
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        match c {
            ' ' => i += 1,
            '(' | ')' | '[' | ']' => {
                out.push(Token {
                    tok: match c {
                        '(' => Tok::Open,
                        ')' => Tok::Close,
                        '[' => Tok::OpenBracket,
                        _ => Tok::CloseBracket,
                    },
                    at,
                });
                i += 1;
            }
            '"' => {
                let start = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(at, "unterminated string".into())),
                        Some('\\') => i += 2,
                        Some('"') => break,
                        Some(_) => i += 1,
                    }
                }
                let raw: String = chars[start..=i].iter().collect();
                let s: String = serde_json::from_str(&raw).map_err(|_| {
                    err(
                        at,
                        "invalid string (JSON string syntax: escapes \\\" \\\\ \\n \\uXXXX)".into(),
                    )
                })?;
                out.push(Token {
                    tok: Tok::Str(s),
                    at,
                });
                i += 1;
            }
            c if c.is_control() || c.is_whitespace() => {
                return Err(err(
                    at,
                    format!(
                        "unexpected character U+{:04X} (only spaces separate tokens)",
                        u32::from(c)
                    ),
                ))
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '(' | ')' | '[' | ']' | '"') {
                    if chars[i].is_control() || chars[i].is_whitespace() {
                        break;
                    }
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Word(chars[start..i].iter().collect()),
                    at,
                });
            }
        }
    }
    Ok(out)
}

fn scim_type_for(what: &str) -> ScimType {
    if what == "path" {
        ScimType::InvalidPath
    } else {
        ScimType::InvalidFilter
    }
}

/// ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA; and `$ref`.
fn valid_name(s: &str) -> bool {
    s == "$ref"
        || (s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    kind: &'a Kind,
    what: &'static str,
    terms: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, at: usize, msg: impl std::fmt::Display) -> ScimError {
        ScimError::bad(
            scim_type_for(self.what),
            format!("{}: {msg} at position {at}", self.what),
        )
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.end, |t| t.at)
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn expect(&mut self, tok: Tok, name: &str) -> Result<(), ScimError> {
        match self.peek() {
            Some(t) if t.tok == tok => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.err(self.at(), format!("expected {name}"))),
        }
    }

    fn or(&mut self, depth: usize, parent: Option<&'static Attr>) -> Result<Filter, ScimError> {
        let mut left = self.and(depth, parent)?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and(depth, parent)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize, parent: Option<&'static Attr>) -> Result<Filter, ScimError> {
        let mut left = self.unary(depth, parent)?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary(depth, parent)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn nested(&self, depth: usize) -> Result<usize, ScimError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(
                self.at(),
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(depth + 1)
    }

    fn unary(&mut self, depth: usize, parent: Option<&'static Attr>) -> Result<Filter, ScimError> {
        if self.keyword("not") {
            let depth = self.nested(depth)?;
            self.pos += 1;
            self.expect(Tok::Open, "'(' after not")?;
            let inner = self.or(depth, parent)?;
            self.expect(Tok::Close, "')'")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if matches!(self.peek(), Some(Token { tok: Tok::Open, .. })) {
            let depth = self.nested(depth)?;
            self.pos += 1;
            let inner = self.or(depth, parent)?;
            self.expect(Tok::Close, "')'")?;
            return Ok(inner);
        }
        self.attr_exp(depth, parent)
    }

    fn attr_exp(
        &mut self,
        depth: usize,
        parent: Option<&'static Attr>,
    ) -> Result<Filter, ScimError> {
        let at = self.at();
        let word = match self.peek() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => w.clone(),
            Some(_) => return Err(self.err(at, "expected an attribute path")),
            None => return Err(self.err(at, "expected an attribute path, found the end")),
        };
        self.pos += 1;
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.err(at, format!("more than {MAX_TERMS} comparisons")));
        }
        let path = self.resolve(&word, at, parent)?;
        if matches!(
            self.peek(),
            Some(Token {
                tok: Tok::OpenBracket,
                ..
            })
        ) {
            if parent.is_some() {
                return Err(self.err(self.at(), "value paths cannot nest"));
            }
            if path.attr.ty != Type::Complex || path.sub.is_some() {
                return Err(self.err(
                    self.at(),
                    format!(
                        "{} is not a complex attribute: it has no value filter",
                        quote(&path.display())
                    ),
                ));
            }
            let depth = self.nested(depth)?;
            self.pos += 1;
            let inner = self.or(depth, Some(path.attr))?;
            self.expect(Tok::CloseBracket, "']'")?;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let op_at = self.at();
        let op_word = match self.peek() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => w.clone(),
            _ => {
                return Err(self.err(
                    op_at,
                    format!(
                        "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after {}",
                        quote(&word)
                    ),
                ))
            }
        };
        self.pos += 1;
        if op_word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let op = Op::parse(&op_word).ok_or_else(|| {
            self.err(
                op_at,
                format!(
                    "unknown operator {} (eq, ne, co, sw, ew, gt, ge, lt, le, pr)",
                    quote(&op_word)
                ),
            )
        })?;
        let value_at = self.at();
        let literal = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Str(s)) => Literal::Str(s),
            Some(Tok::Word(w)) => match w.as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ => match serde_json::from_str::<Number>(&w) {
                    Ok(n) if w.parse::<f64>().is_ok() => Literal::Num(n),
                    _ => {
                        return Err(self.err(
                            value_at,
                            format!(
                                "expected a value (a \"quoted string\", true, false, null or a number), found {}",
                                quote(&w)
                            ),
                        ))
                    }
                },
            },
            _ => {
                return Err(self.err(
                    value_at,
                    format!("expected a value after {}", op.as_str()),
                ))
            }
        };
        self.pos += 1;
        self.check_comparison(&path, op, &literal, at)?;
        Ok(Filter::Compare(path, op, literal))
    }

    /// Refuses comparisons that cannot mean anything for the attribute's type.
    fn check_comparison(
        &self,
        path: &AttrRef,
        op: Op,
        literal: &Literal,
        at: usize,
    ) -> Result<(), ScimError> {
        let name = quote(&path.display());
        let Some(leaf) = path.leaf() else {
            return Err(self.err(
                at,
                format!("{name} is complex: compare one of its sub-attributes"),
            ));
        };
        match (leaf.ty, literal) {
            (_, Literal::Null) if matches!(op, Op::Eq | Op::Ne) => Ok(()),
            (Type::Boolean, Literal::Bool(_)) if matches!(op, Op::Eq | Op::Ne) => Ok(()),
            (Type::Boolean, _) => Err(self.err(
                at,
                format!("{name} is a boolean: only eq and ne with true or false apply"),
            )),
            (Type::DateTime, Literal::Str(s)) => {
                if chrono::DateTime::parse_from_rfc3339(s).is_err() {
                    return Err(self.err(
                        at,
                        format!("{name} is a dateTime: compare it with an RFC 3339 timestamp"),
                    ));
                }
                Ok(())
            }
            (Type::String | Type::Reference, Literal::Str(_)) => Ok(()),
            (_, _) => Err(self.err(
                at,
                format!(
                    "{name} holds strings: compare it with a \"quoted string\" (or eq/ne null)"
                ),
            )),
        }
    }

    fn resolve(
        &self,
        word: &str,
        at: usize,
        parent: Option<&'static Attr>,
    ) -> Result<AttrRef, ScimError> {
        resolve_path(self.kind, word, parent).map_err(|msg| self.err(at, msg))
    }
}

/// Resolves `[URN ":"] ATTRNAME ["." subAttr]` against the kind's schemas
/// (or, inside a value path, against `parent`'s sub-attributes).
pub fn resolve_path(
    kind: &Kind,
    word: &str,
    parent: Option<&'static Attr>,
) -> Result<AttrRef, String> {
    let r = resolve_any(kind, word, parent)?;
    if r.attr.returned == Returned::Never {
        return Err(format!("{} cannot be read or compared", quote(r.attr.name)));
    }
    Ok(r)
}

/// As [`resolve_path`], write-only attributes included (PATCH targets).
fn resolve_any(kind: &Kind, word: &str, parent: Option<&'static Attr>) -> Result<AttrRef, String> {
    if let Some(parent) = parent {
        if !valid_name(word) {
            return Err(format!("{} is not a sub-attribute name", quote(word)));
        }
        let sub = parent.sub_attr(word).ok_or_else(|| {
            format!(
                "{} has no sub-attribute {}",
                quote(parent.name),
                quote(word)
            )
        })?;
        return Ok(AttrRef {
            extension: None,
            attr: sub,
            sub: None,
        });
    }
    let (extension, rest) = if word.len() > 4 && word[..4].eq_ignore_ascii_case("urn:") {
        let (urn, rest) = word
            .rsplit_once(':')
            .ok_or_else(|| format!("{} is not an attribute path", quote(word)))?;
        if kind.core.id.eq_ignore_ascii_case(urn) {
            (None, rest)
        } else if let Some(ext) = kind.extension(urn) {
            (Some(ext), rest)
        } else {
            return Err(format!(
                "{} is not a schema of {} resources",
                quote(urn),
                kind.name
            ));
        }
    } else {
        (None, word)
    };
    let (attr_name, sub_name) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    if !valid_name(attr_name) || sub_name.is_some_and(|s| !valid_name(s)) {
        return Err(format!("{} is not an attribute path", quote(word)));
    }
    let attr = match extension {
        Some(ext) => ext.attr(attr_name),
        None => kind.core_attr(attr_name),
    }
    .ok_or_else(|| {
        format!(
            "{} is not an attribute of {} resources",
            quote(attr_name),
            kind.name
        )
    })?;
    let sub = match sub_name {
        None => None,
        Some(s) => Some(
            attr.sub_attr(s)
                .ok_or_else(|| format!("{} has no sub-attribute {}", quote(attr.name), quote(s)))?,
        ),
    };
    Ok(AttrRef {
        extension,
        attr,
        sub,
    })
}

fn bounded(input: &str, what: &'static str) -> Result<(), ScimError> {
    if input.len() > MAX_LEN {
        return Err(ScimError::bad(
            scim_type_for(what),
            format!(
                "{what}: {} bytes long; at most {MAX_LEN} are accepted",
                input.len()
            ),
        ));
    }
    if input.trim().is_empty() {
        return Err(ScimError::bad(
            scim_type_for(what),
            format!("{what}: it is empty"),
        ));
    }
    Ok(())
}

/// Parses a `filter=` query parameter for resources of `kind`.
pub fn parse(kind: &Kind, input: &str) -> Result<Filter, ScimError> {
    bounded(input, "filter")?;
    let toks = lex(input, "filter")?;
    let mut p = Parser {
        toks,
        pos: 0,
        kind,
        what: "filter",
        terms: 0,
        end: input.chars().count() + 1,
    };
    let f = p.or(0, None)?;
    if let Some(t) = p.peek() {
        return Err(p.err(t.at, "unexpected text after the end of the filter"));
    }
    Ok(f)
}

/// Parses a PATCH operation's `path`.
pub fn parse_path(kind: &Kind, input: &str) -> Result<PatchPath, ScimError> {
    bounded(input, "path")?;
    if let Some(ext) = kind.extension(input) {
        return Ok(PatchPath::Extension(ext));
    }
    let toks = lex(input, "path")?;
    let mut p = Parser {
        toks,
        pos: 0,
        kind,
        what: "path",
        terms: 0,
        end: input.chars().count() + 1,
    };
    let (word, at) = match p.peek() {
        Some(Token {
            tok: Tok::Word(w),
            at,
        }) => (w.clone(), *at),
        _ => return Err(p.err(1, "expected an attribute path")),
    };
    p.pos += 1;
    let target = resolve_any(kind, &word, None).map_err(|msg| p.err(at, msg))?;
    let mut filter = None;
    let mut sub = None;
    if matches!(
        p.peek(),
        Some(Token {
            tok: Tok::OpenBracket,
            ..
        })
    ) {
        if target.attr.ty != Type::Complex || !target.attr.multi || target.sub.is_some() {
            return Err(p.err(
                p.at(),
                format!(
                    "{} is not a multi-valued complex attribute: it has no value filter",
                    quote(&target.display())
                ),
            ));
        }
        p.pos += 1;
        filter = Some(Box::new(p.or(1, Some(target.attr))?));
        p.expect(Tok::CloseBracket, "']'")?;
        if let Some(Token {
            tok: Tok::Word(w),
            at,
        }) = p.peek().cloned()
        {
            let name = w
                .strip_prefix('.')
                .ok_or_else(|| p.err(at, "expected '.subAttribute' after ']'"))?;
            sub = Some(target.attr.sub_attr(name).ok_or_else(|| {
                p.err(
                    at,
                    format!(
                        "{} has no sub-attribute {}",
                        quote(target.attr.name),
                        quote(name)
                    ),
                )
            })?);
            p.pos += 1;
        }
    }
    if let Some(t) = p.peek() {
        return Err(p.err(t.at, "unexpected text after the end of the path"));
    }
    Ok(PatchPath::Attr {
        target,
        filter,
        sub,
    })
}

/// An index lookup the filter allows: `attr eq "value"` on its own or as a
/// conjunct (`and`), so every match is among the lookup's rows.
pub fn indexed_eq<'f>(f: &'f Filter, names: &[&str]) -> Option<(&'static str, &'f str)> {
    match f {
        Filter::Compare(p, Op::Eq, Literal::Str(v))
            if p.extension.is_none() && p.sub.is_none() && names.contains(&p.attr.name) =>
        {
            Some((p.attr.name, v.as_str()))
        }
        Filter::And(a, b) => indexed_eq(a, names).or_else(|| indexed_eq(b, names)),
        _ => None,
    }
}

/// For messages: a JSON value's type name.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{GROUPS, USERS};

    fn ok(s: &str) -> Filter {
        parse(&USERS, s).unwrap_or_else(|e| panic!("{s}: {}", e.detail))
    }

    fn refused(s: &str) -> String {
        let e = parse(&USERS, s).expect_err(s);
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{s}");
        e.detail
    }

    #[test]
    fn grammar_of_rfc_7644_examples() {
        for f in [
            r#"userName eq "bjensen""#,
            r#"name.familyName co "O'Malley""#,
            r#"userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            "title pr",
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#
                .split(" or ")
                .next()
                .unwrap(),
            r#"USERNAME EQ "x""#,
            r#"active eq true"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m""#,
            r#"externalId eq "a\"b\\c""#,
        ] {
            ok(f);
        }
        assert!(matches!(
            ok(r#"a eq "1" or b eq "2""#.replace('a', "title").replace(" b ", " nickName ").as_str()),
            Filter::Or(..)
        ));
        // and binds tighter than or.
        let f = ok(r#"title pr or nickName pr and locale pr"#);
        assert!(
            matches!(f, Filter::Or(_, ref r) if matches!(**r, Filter::And(..))),
            "{f:?}"
        );
        let g = parse(&GROUPS, r#"displayName eq "eng""#).unwrap();
        assert!(matches!(g, Filter::Compare(p, Op::Eq, _) if p.attr.name == "displayName"));
    }

    #[test]
    fn refusals_say_what_and_where() {
        assert_eq!(
            refused(r#"userName eq"#),
            "filter: expected a value after eq at position 12"
        );
        assert_eq!(
            refused(r#"userName xx "a""#),
            "filter: unknown operator \"xx\" (eq, ne, co, sw, ew, gt, ge, lt, le, pr) at position 10"
        );
        assert!(refused(r#"ims eq "a""#).contains("\"ims\" is not an attribute of User resources"));
        assert!(refused(r#"userName eq "a"#).contains("unterminated string at position 13"));
        assert!(refused(r#"(userName eq "a""#).contains("expected ')'"));
        assert!(refused(r#"userName eq "a")"#).contains("unexpected text"));
        assert!(refused(r#"active eq "yes""#).contains("boolean"));
        assert!(refused(r#"active gt true"#).contains("boolean"));
        assert!(refused(r#"userName eq 12"#).contains("quoted string"));
        assert!(refused(r#"userName eq bjensen"#).contains("expected a value"));
        assert!(refused(r#"emails[type eq "work"][x eq "y"]"#).contains("unexpected"));
        assert!(refused(r#"emails[type[value eq "a"] eq "b"]"#).contains("cannot nest"));
        assert!(refused(r#"emails[bogus eq "a"]"#).contains("no sub-attribute"));
        assert!(refused(r#"password eq "x""#).contains("cannot be read"));
        assert!(refused(r#"urn:x:y:userName eq "a""#).contains("not a schema"));
        assert!(refused(r#"meta.created gt "yesterday""#).contains("RFC 3339"));
        assert!(refused("userName eq \"a\"\tor").contains("U+0009"));
        assert!(refused("").contains("empty"));
        assert!(refused(r#"not userName eq "a""#).contains("'(' after not"));
        assert!(refused(r#"name eq "a""#).contains("complex"));
    }

    #[test]
    fn input_is_bounded() {
        let deep = format!(
            "{}title pr{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(refused(&deep).contains("nested more than 16"));
        let nots = format!("{}title pr{}", "not (".repeat(200), ")".repeat(200));
        assert!(refused(&nots).contains("nested"));
        let ok_depth = format!("{}title pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        ok(&ok_depth);
        let many = vec!["title pr"; MAX_TERMS + 1].join(" or ");
        assert!(refused(&many).contains("more than 64 comparisons"));
        ok(&vec!["title pr"; MAX_TERMS].join(" and "));
        let long = format!(r#"userName eq "{}""#, "a".repeat(MAX_LEN));
        assert!(refused(&long).contains("at most 4096"));
    }

    #[test]
    fn patch_paths() {
        for p in [
            "active",
            "name.givenName",
            r#"emails[type eq "work"].value"#,
            r#"addresses[type eq "work"].streetAddress"#,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ] {
            parse_path(&USERS, p).unwrap_or_else(|e| panic!("{p}: {}", e.detail));
        }
        assert!(matches!(
            parse_path(&GROUPS, r#"members[value eq "2819c223"]"#).unwrap(),
            PatchPath::Attr {
                filter: Some(_),
                sub: None,
                ..
            }
        ));
        for (bad, why) in [
            ("ims", "not an attribute"),
            (r#"name[givenName eq "a"]"#, "not a multi-valued complex"),
            (r#"emails[type eq "work"]value"#, "'.subAttribute'"),
            (r#"emails[type eq "work"].nope"#, "no sub-attribute"),
            ("emails.value.x", "not an attribute path"),
        ] {
            let e = parse_path(&USERS, bad).expect_err(bad);
            assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{bad}");
            assert!(e.detail.contains(why), "{bad}: {}", e.detail);
        }
    }

    #[test]
    fn index_lookups_come_from_conjuncts_only() {
        let names = ["userName", "externalId", "id"];
        let f = ok(r#"userName eq "ada" and active eq true"#);
        assert_eq!(indexed_eq(&f, &names), Some(("userName", "ada")));
        let f = ok(r#"externalId eq "oid""#);
        assert_eq!(indexed_eq(&f, &names), Some(("externalId", "oid")));
        assert_eq!(
            indexed_eq(&ok(r#"userName eq "a" or title pr"#), &names),
            None
        );
        assert_eq!(indexed_eq(&ok(r#"not (userName eq "a")"#), &names), None);
        assert_eq!(indexed_eq(&ok(r#"userName ne "a""#), &names), None);
    }
}
