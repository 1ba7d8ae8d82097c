//! Evaluates a parsed filter against a resource as SCIM renders it
//! (canonical attribute names): a comparison holds when any value of the
//! attribute holds it (multi-valued attributes), strings compare by the
//! attribute's `caseExact`, dateTimes as instants, `eq null` means absent.

use std::cmp::Ordering;

use serde_json::Value;

use super::filter::{AttrRef, Filter, Literal, Op};
use super::schema::Type;

/// Whether `doc` (a resource, or an element inside a value path) matches.
pub fn matches(f: &Filter, doc: &Value) -> bool {
    match f {
        Filter::And(a, b) => matches(a, doc) && matches(b, doc),
        Filter::Or(a, b) => matches(a, doc) || matches(b, doc),
        Filter::Not(a) => !matches(a, doc),
        Filter::Present(p) => values(p, doc).iter().any(|v| present(v)),
        Filter::ValuePath(p, inner) => elements(p, doc).iter().any(|e| matches(inner, e)),
        Filter::Compare(p, op, lit) => {
            let vals = values(p, doc);
            match (op, lit) {
                (Op::Eq, Literal::Null) => !vals.iter().any(|v| present(v)),
                (Op::Ne, Literal::Null) => vals.iter().any(|v| present(v)),
                (Op::Ne, _) => !vals.iter().any(|v| compare(p, Op::Eq, lit, v)),
                _ => vals.iter().any(|v| compare(p, *op, lit, v)),
            }
        }
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// The elements of the attribute `p` names (one for a single value).
fn elements<'a>(p: &AttrRef, doc: &'a Value) -> Vec<&'a Value> {
    let base = match p.extension {
        Some(ext) => doc.get(ext.id),
        None => Some(doc),
    };
    match base.and_then(|b| b.get(p.attr.name)) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(v) => vec![v],
    }
}

/// The values a comparison on `p` reads.
fn values<'a>(p: &AttrRef, doc: &'a Value) -> Vec<&'a Value> {
    let items = elements(p, doc);
    let sub = match (p.sub, p.attr.ty) {
        (Some(s), _) => Some(s.name),
        (None, Type::Complex) => Some("value"),
        (None, _) => None,
    };
    match sub {
        Some(name) => items.into_iter().filter_map(|i| i.get(name)).collect(),
        None => items,
    }
}

fn compare(p: &AttrRef, op: Op, lit: &Literal, v: &Value) -> bool {
    let Some(leaf) = p.leaf() else {
        return false;
    };
    match (lit, v) {
        (Literal::Bool(b), Value::Bool(x)) => op == Op::Eq && b == x,
        (Literal::Str(s), Value::String(x)) if leaf.ty == Type::DateTime => {
            let (Ok(a), Ok(b)) = (
                chrono::DateTime::parse_from_rfc3339(x),
                chrono::DateTime::parse_from_rfc3339(s),
            ) else {
                return false;
            };
            ordered(op, a.cmp(&b))
        }
        (Literal::Str(s), Value::String(x)) => {
            let (x, s) = if leaf.case_exact {
                (x.clone(), s.clone())
            } else {
                (x.to_lowercase(), s.to_lowercase())
            };
            match op {
                Op::Eq => x == s,
                Op::Ne => x != s,
                Op::Co => x.contains(&s),
                Op::Sw => x.starts_with(&s),
                Op::Ew => x.ends_with(&s),
                _ => ordered(op, x.cmp(&s)),
            }
        }
        _ => false,
    }
}

fn ordered(op: Op, o: Ordering) -> bool {
    match op {
        Op::Eq => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Gt => o == Ordering::Greater,
        Op::Ge => o != Ordering::Less,
        Op::Lt => o == Ordering::Less,
        Op::Le => o != Ordering::Greater,
        Op::Co | Op::Sw | Op::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse;
    use crate::scim::schema::USERS;
    use serde_json::json;

    fn m(f: &str, doc: &Value) -> bool {
        matches(&parse(&USERS, f).unwrap(), doc)
    }

    #[test]
    fn comparisons_follow_types_and_case_exactness() {
        let doc = json!({
            "userName": "Ada", "title": "Countess", "active": true,
            "emails": [{"value": "ada@work.example", "type": "work"}, {"value": "ada@home.example", "type": "home"}],
            "name": {"givenName": "Ada"},
            "meta": {"lastModified": "2026-01-02T03:04:05.000Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7", "manager": {"value": "m1"}},
        });
        assert!(m(r#"userName eq "Ada""#, &doc));
        assert!(
            !m(r#"userName eq "ada""#, &doc),
            "userName is caseExact here"
        );
        assert!(m(r#"title eq "countess""#, &doc), "title is not caseExact");
        assert!(m(
            r#"title sw "Count" and title ew "ess" and title co "nte""#,
            &doc
        ));
        assert!(m("active eq true", &doc) && !m("active eq false", &doc));
        assert!(m(r#"emails[type eq "work" and value co "@work"]"#, &doc));
        assert!(!m(r#"emails[type eq "work" and value co "@home"]"#, &doc));
        assert!(
            m(r#"emails co "home.example""#, &doc),
            "a complex attribute compares its value"
        );
        assert!(m(r#"emails.type eq "home""#, &doc));
        assert!(m(
            r#"meta.lastModified gt "2026-01-02T03:04:04+00:00""#,
            &doc
        ));
        assert!(!m(
            r#"meta.lastModified gt "2026-01-02T05:04:05+02:00""#,
            &doc
        ));
        assert!(m(
            r#"meta.lastModified ge "2026-01-02T05:04:05+02:00""#,
            &doc
        ));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1""#,
            &doc
        ));
        assert!(m("nickName eq null", &doc) && m("title ne null", &doc));
        assert!(
            m(r#"nickName ne "x""#, &doc),
            "ne holds for an absent attribute"
        );
        assert!(!m("nickName pr", &doc) && m("title pr", &doc));
        assert!(m(r#"not (userName eq "Bob")"#, &doc));
        assert!(m(
            r#"userName eq "x" or (title pr and not (active eq false))"#,
            &doc
        ));
        assert!(m(r#"userName gt "A" and userName lt "B""#, &doc));
    }
}
