//! Query parameters of reads (RFC 7644 §3.4.2): `filter`, `startIndex` /
//! `count` paging (bounded; `startIndex` below 1 is 1, `count` below 0 is
//! 0, a page beyond the end is empty) and `attributes` /
//! `excludedAttributes`, from the query string or a `.search` body; and
//! the projection those two ask for, applied to a rendered resource.

use serde_json::{json, Map, Value};

use super::error::{ScimError, ScimType};
use super::filter::{self, AttrRef, Filter};
use super::schema::{Kind, Returned};

/// Largest page (`filter.maxResults` in ServiceProviderConfig).
pub const MAX_COUNT: i64 = 1000;
pub const DEFAULT_COUNT: i64 = 100;
/// Most attribute paths `attributes` or `excludedAttributes` may name.
pub const MAX_ATTRIBUTES: usize = 64;
pub const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

#[derive(Debug, Default)]
pub struct Projection {
    include: Vec<AttrRef>,
    exclude: Vec<AttrRef>,
}

#[derive(Debug)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based.
    pub start_index: i64,
    pub count: i64,
    pub projection: Projection,
}

fn invalid(detail: String) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

fn paths(kind: &Kind, name: &str, list: &[&str]) -> Result<Vec<AttrRef>, ScimError> {
    if list.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "{name} names {} attributes; at most {MAX_ATTRIBUTES} are accepted",
            list.len()
        )));
    }
    list.iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.len() > filter::MAX_LEN {
                return Err(invalid(format!("{name}: an attribute path is too long")));
            }
            filter::resolve_path(kind, p, None).map_err(|why| invalid(format!("{name}: {why}")))
        })
        .collect()
}

impl Projection {
    pub fn parse(kind: &Kind, attributes: &[&str], excluded: &[&str]) -> Result<Self, ScimError> {
        Ok(Projection {
            include: paths(kind, "attributes", attributes)?,
            exclude: paths(kind, "excludedAttributes", excluded)?,
        })
    }

    /// Whether an attribute (by canonical name, core schema) is returned:
    /// lets the service skip reading what nobody asked for (members).
    pub fn wants(&self, name: &str) -> bool {
        let named = |refs: &[AttrRef]| {
            refs.iter()
                .any(|r| r.extension.is_none() && r.attr.name == name && r.sub.is_none())
        };
        let inside = |refs: &[AttrRef]| {
            refs.iter()
                .any(|r| r.extension.is_none() && r.attr.name == name)
        };
        if !self.include.is_empty() {
            return inside(&self.include);
        }
        !named(&self.exclude)
    }

    pub fn apply(&self, v: &mut Value) {
        let Value::Object(obj) = v else { return };
        if !self.include.is_empty() {
            let mut out = Map::new();
            for k in ["schemas", "id"] {
                if let Some(x) = obj.get(k) {
                    out.insert(k.to_owned(), x.clone());
                }
            }
            for r in &self.include {
                copy(obj, &mut out, r);
            }
            // Attributes returned "always" come whatever was asked.
            *obj = out;
        }
        for r in &self.exclude {
            if r.attr.returned == Returned::Always {
                continue;
            }
            let base = match r.extension {
                Some(e) => match obj.get_mut(e.id) {
                    Some(Value::Object(m)) => m,
                    _ => continue,
                },
                None => &mut *obj,
            };
            match r.sub {
                None => {
                    base.remove(r.attr.name);
                }
                Some(sub) => match base.get_mut(r.attr.name) {
                    Some(Value::Object(o)) => {
                        o.remove(sub.name);
                    }
                    Some(Value::Array(items)) => {
                        for i in items.iter_mut() {
                            if let Value::Object(o) = i {
                                o.remove(sub.name);
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
        obj.retain(|k, v| {
            !(k.starts_with("urn:") && matches!(v, Value::Object(o) if o.is_empty()))
        });
    }
}

/// Copies the part of `from` that `r` names into `to`.
fn copy(from: &Map<String, Value>, to: &mut Map<String, Value>, r: &AttrRef) {
    let (src, dst) = match r.extension {
        Some(e) => {
            let Some(Value::Object(src)) = from.get(e.id) else {
                return;
            };
            let dst = to
                .entry(e.id.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(dst) = dst else { return };
            (src, dst)
        }
        None => (from, to),
    };
    let Some(value) = src.get(r.attr.name) else {
        return;
    };
    let Some(sub) = r.sub else {
        dst.insert(r.attr.name.to_owned(), value.clone());
        return;
    };
    match value {
        Value::Object(o) => {
            if let Some(x) = o.get(sub.name) {
                let slot = dst
                    .entry(r.attr.name.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(d) = slot {
                    d.insert(sub.name.to_owned(), x.clone());
                }
            }
        }
        Value::Array(items) => {
            let picked: Vec<Value> = items
                .iter()
                .filter_map(|i| i.get(sub.name).map(|x| json!({ (sub.name): x })))
                .collect();
            if !picked.is_empty() {
                dst.insert(r.attr.name.to_owned(), Value::Array(picked));
            }
        }
        _ => {}
    }
}

fn int(name: &str, v: &str) -> Result<i64, ScimError> {
    v.parse::<i64>()
        .map_err(|_| invalid(format!("{name} must be an integer")))
}

fn split(v: &str) -> Vec<&str> {
    v.split(',').collect()
}

impl ListQuery {
    /// From the query string of a GET; unknown parameters are refused.
    pub fn from_query(kind: &Kind, query: Option<&str>) -> Result<Self, ScimError> {
        let mut filter_text = None;
        let mut start = None;
        let mut count = None;
        let mut attributes = String::new();
        let mut excluded = String::new();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "filter" => filter_text = Some(v.into_owned()),
                "startIndex" => start = Some(int("startIndex", &v)?),
                "count" => count = Some(int("count", &v)?),
                "attributes" => attributes = v.into_owned(),
                "excludedAttributes" => excluded = v.into_owned(),
                // Sorting is not supported (ServiceProviderConfig says so):
                // results come in id order.
                "sortBy" | "sortOrder" => {}
                other => {
                    return Err(invalid(format!(
                        "unknown query parameter {:?} (filter, startIndex, count, attributes, excludedAttributes)",
                        other.chars().take(40).collect::<String>()
                    )))
                }
            }
        }
        Self::new(
            kind,
            filter_text.as_deref(),
            start,
            count,
            &split(&attributes),
            &split(&excluded),
        )
    }

    /// From a `POST .search` body (RFC 7644 §3.4.3).
    pub fn from_search(kind: &Kind, body: &Value) -> Result<Self, ScimError> {
        let Value::Object(o) = body else {
            return Err(ScimError::bad(
                ScimType::InvalidSyntax,
                "the body must be a SearchRequest object",
            ));
        };
        let schemas_ok = o
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(SEARCH_SCHEMA)));
        if !schemas_ok {
            return Err(ScimError::bad(
                ScimType::InvalidSyntax,
                format!("schemas must list {SEARCH_SCHEMA}"),
            ));
        }
        let strs = |k: &str| -> Result<Vec<String>, ScimError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| invalid(format!("{k} must be an array of strings")))
                    })
                    .collect(),
                Some(_) => Err(invalid(format!("{k} must be an array of strings"))),
            }
        };
        let num = |k: &str| -> Result<Option<i64>, ScimError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| invalid(format!("{k} must be an integer"))),
            }
        };
        for k in o.keys() {
            if ![
                "schemas",
                "filter",
                "startIndex",
                "count",
                "attributes",
                "excludedAttributes",
                "sortBy",
                "sortOrder",
            ]
            .contains(&k.as_str())
            {
                return Err(ScimError::bad(
                    ScimType::InvalidSyntax,
                    format!(
                        "{:?} is not a member of a SearchRequest",
                        k.chars().take(40).collect::<String>()
                    ),
                ));
            }
        }
        let filter_text = match o.get("filter") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(invalid("filter must be a string".into())),
        };
        let attributes = strs("attributes")?;
        let excluded = strs("excludedAttributes")?;
        let a: Vec<&str> = attributes.iter().map(String::as_str).collect();
        let e: Vec<&str> = excluded.iter().map(String::as_str).collect();
        Self::new(kind, filter_text, num("startIndex")?, num("count")?, &a, &e)
    }

    fn new(
        kind: &Kind,
        filter_text: Option<&str>,
        start: Option<i64>,
        count: Option<i64>,
        attributes: &[&str],
        excluded: &[&str],
    ) -> Result<Self, ScimError> {
        Ok(ListQuery {
            filter: filter_text.map(|f| filter::parse(kind, f)).transpose()?,
            start_index: start.unwrap_or(1).max(1),
            count: count.unwrap_or(DEFAULT_COUNT).clamp(0, MAX_COUNT),
            projection: Projection::parse(kind, attributes, excluded)?,
        })
    }
}

pub fn response(total: i64, start_index: i64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE, USERS};

    #[test]
    fn paging_is_bounded() {
        let q = ListQuery::from_query(&USERS, Some("startIndex=-5&count=100000")).unwrap();
        assert_eq!((q.start_index, q.count), (1, MAX_COUNT));
        let q = ListQuery::from_query(&USERS, Some("count=-1")).unwrap();
        assert_eq!(q.count, 0);
        assert!(ListQuery::from_query(&USERS, Some("count=ten")).is_err());
        let e = ListQuery::from_query(&USERS, Some("filter=userName%20eq")).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
        let e = ListQuery::from_query(&USERS, Some("attributes=ims")).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        assert!(ListQuery::from_query(&USERS, Some("bogus=1")).is_err());
        let many = vec!["title"; MAX_ATTRIBUTES + 1].join(",");
        assert!(ListQuery::from_query(&USERS, Some(&format!("attributes={many}"))).is_err());
    }

    #[test]
    fn projection_keeps_and_drops_what_is_named() {
        let full = json!({
            "schemas": ["s"], "id": "1", "userName": "ada", "title": "x",
            "name": {"givenName": "Ada", "familyName": "L"},
            "emails": [{"value": "a@b", "type": "work"}],
            "meta": {"version": "W/\"1\""},
            ENTERPRISE: {"department": "d", "employeeNumber": "7"},
        });
        let mut v = full.clone();
        Projection::parse(
            &USERS,
            &[
                "userName",
                "name.givenName",
                "emails.value",
                &format!("{ENTERPRISE}:department"),
            ],
            &[],
        )
        .unwrap()
        .apply(&mut v);
        assert_eq!(
            v,
            json!({"schemas": ["s"], "id": "1", "userName": "ada", "name": {"givenName": "Ada"},
                   "emails": [{"value": "a@b"}], ENTERPRISE: {"department": "d"}})
        );
        let mut v = full.clone();
        let p = Projection::parse(
            &USERS,
            &[],
            &[
                "title",
                "id",
                "name.familyName",
                &format!("{ENTERPRISE}:department"),
                &format!("{ENTERPRISE}:employeeNumber"),
            ],
        )
        .unwrap();
        p.apply(&mut v);
        assert_eq!(v["id"], "1", "id is always returned");
        assert!(v.get("title").is_none() && v.get(ENTERPRISE).is_none());
        assert_eq!(v["name"], json!({"givenName": "Ada"}));
        assert!(
            p.wants("members")
                && !Projection::parse(&USERS, &[], &["emails"])
                    .unwrap()
                    .wants("emails")
        );
    }
}
