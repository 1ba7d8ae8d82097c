//! SCIM documents in and out. In: a request body (or a PATCH value) checked
//! against the declared schema and brought to its canonical form (canonical
//! attribute names, `"True"`/`"False"` read as booleans, read-only
//! attributes dropped as RFC 7643 §2.2 says, unknown attributes refused by
//! name). Out: a user or group row rendered with `meta` and its version.
//! Between the two, the mapping to ssoplane's columns: `userName` is the
//! login, the primary email the email, `name.formatted` (else
//! `displayName`) the name, `externalId` the external uid, `active` the
//! opposite of disabled; the rest is kept as sent in `scim_json`.

use serde_json::{json, Map, Value};

use super::error::{ScimError, ScimType};
use super::filter::type_name;
use super::schema::{self, Attr, Kind, Mutability, Schema, Type};
use crate::identity::values::{self, ValueKind};
use crate::store::{ScimGroupRow, ScimMemberRow, ScimUserRow};

/// Most values one multi-valued user attribute may hold.
pub const MAX_VALUES: usize = 100;
/// Most members one group request may name.
pub const MAX_MEMBERS: usize = 10_000;
/// Longest string value, in characters.
pub const MAX_STRING: usize = 1024;

fn invalid(detail: String) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

fn syntax(detail: String) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, detail)
}

/// Checks one value of `attr` (an element, for a multi-valued one); `None`
/// when it is unassigned (null, an empty string, object or array).
pub fn normalize_single(attr: &Attr, v: &Value, at: &str) -> Result<Option<Value>, ScimError> {
    match (attr.ty, v) {
        (_, Value::Null) => Ok(None),
        (Type::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(*b))),
        // Entra ID sends booleans as "True" / "False" in PATCH values.
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        // Entra ID sends the manager as the bare id: `"value": "<id>"`.
        (Type::Complex, Value::String(s)) if attr.sub_attr("value").is_some() => {
            let obj = Value::Object(Map::from_iter([(
                "value".to_owned(),
                Value::String(s.clone()),
            )]));
            normalize_single(attr, &obj, at)
        }
        (Type::Complex, Value::Object(o)) => {
            let mut out = Map::new();
            for (k, v) in o {
                let Some(sub) = attr.sub_attr(k) else {
                    return Err(syntax(format!(
                        "{at}: {k:?} is not a sub-attribute of {}",
                        attr.name
                    )));
                };
                if sub.read_only() {
                    continue;
                }
                if let Some(v) = normalize_single(sub, v, &format!("{at}.{}", sub.name))? {
                    out.insert(sub.name.to_owned(), v);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        (Type::String | Type::Reference | Type::DateTime, Value::String(s)) => {
            if s.is_empty() {
                return Ok(None);
            }
            let len = s.chars().count();
            if len > MAX_STRING {
                return Err(invalid(format!(
                    "{at}: {len} characters long; at most {MAX_STRING} are accepted"
                )));
            }
            if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| c.is_control()) {
                return Err(invalid(format!(
                    "{at}: contains the control character U+{:04X} at position {i}",
                    u32::from(c)
                )));
            }
            if attr.ty == Type::DateTime && chrono::DateTime::parse_from_rfc3339(s).is_err() {
                return Err(invalid(format!("{at}: not an RFC 3339 timestamp")));
            }
            Ok(Some(Value::String(s.clone())))
        }
        (ty, other) => Err(invalid(format!(
            "{at}: expected {}, found {}",
            match ty {
                Type::Boolean => "a boolean",
                Type::Complex => "an object",
                _ => "a string",
            },
            type_name(other)
        ))),
    }
}

/// Checks a whole value of `attr`: an array for a multi-valued attribute (a
/// lone element is taken as a one-element array).
pub fn normalize_value(attr: &Attr, v: &Value, at: &str) -> Result<Option<Value>, ScimError> {
    if !attr.multi {
        if v.is_array() {
            return Err(invalid(format!(
                "{at}: {} is single-valued; found an array",
                attr.name
            )));
        }
        return normalize_single(attr, v, at);
    }
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let max = if attr.name == "members" {
        MAX_MEMBERS
    } else {
        MAX_VALUES
    };
    if items.len() > max {
        return Err(ScimError::bad(
            ScimType::TooMany,
            format!("{at}: {} values; at most {max} are accepted", items.len()),
        ));
    }
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if let Some(v) = normalize_single(attr, item, &format!("{at}[{i}]"))? {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// The attributes of `schema` in `obj`, canonical; read-only ones dropped.
fn normalize_attrs(
    schema_attrs: impl Fn(&str) -> Option<&'static Attr>,
    obj: &Map<String, Value>,
    kind: &Kind,
    prefix: &str,
    out: &mut Map<String, Value>,
) -> Result<(), ScimError> {
    for (k, v) in obj {
        let Some(attr) = schema_attrs(k) else {
            return Err(syntax(format!(
                "{prefix}{k:?} is not an attribute of {} resources",
                kind.name
            )));
        };
        if attr.read_only() {
            continue;
        }
        if let Some(v) = normalize_value(attr, v, &format!("{prefix}{}", attr.name))? {
            out.insert(attr.name.to_owned(), v);
        }
    }
    Ok(())
}

/// A POST or PUT body as the canonical document of `kind` (no `id`, `meta`
/// or `schemas`; extensions under their URN).
pub fn from_body(kind: &Kind, body: &Value) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(obj) = body else {
        return Err(syntax(format!(
            "the body must be a JSON object, found {}",
            type_name(body)
        )));
    };
    let schemas: Vec<&str> = match obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")) {
        Some((_, Value::Array(a))) => a.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Err(syntax("schemas must be an array of schema URNs".into())),
        None => {
            return Err(syntax(format!(
                "schemas is required and must list {}",
                kind.core.id
            )))
        }
    };
    if !schemas.iter().any(|s| s.eq_ignore_ascii_case(kind.core.id)) {
        return Err(syntax(format!(
            "schemas must list {} for a {} resource",
            kind.core.id, kind.name
        )));
    }
    // Other URNs listed without attributes under them are ignored: Entra ID
    // lists a schema of its own on groups. Attributes under an unknown URN
    // are refused below, as unknown attributes.
    let mut out = Map::new();
    for (k, v) in obj {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|r| k.eq_ignore_ascii_case(r))
        {
            continue;
        }
        if let Some(ext) = kind.extension(k) {
            if !schemas.iter().any(|s| s.eq_ignore_ascii_case(ext.id)) {
                return Err(syntax(format!(
                    "the body has {} attributes but schemas does not list it",
                    ext.id
                )));
            }
            let Value::Object(inner) = v else {
                return Err(syntax(format!("{}: expected an object", ext.id)));
            };
            let mut ext_out = Map::new();
            normalize_attrs(
                |n| ext.attr(n),
                inner,
                kind,
                &format!("{}:", ext.id),
                &mut ext_out,
            )?;
            if !ext_out.is_empty() {
                out.insert(ext.id.to_owned(), Value::Object(ext_out));
            }
            continue;
        }
        let one = Map::from_iter([(k.clone(), v.clone())]);
        normalize_attrs(|n| kind.core_attr(n), &one, kind, "", &mut out)?;
    }
    Ok(out)
}

/// What a user document stores in ssoplane's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserColumns {
    pub login: String,
    pub email: String,
    pub name: String,
    pub external_uid: String,
    pub active: bool,
    /// The document without the attributes kept in columns (or never kept).
    pub rest: Map<String, Value>,
}

fn str_at<'a>(doc: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

fn checked(kind: ValueKind, attr: &str, v: &str) -> Result<(), ScimError> {
    values::check(kind, v).map_err(|why| invalid(format!("{attr} is refused: {why}")))
}

/// Checks a canonical user document as a whole and splits it into columns.
pub fn user_columns(doc: &Map<String, Value>) -> Result<UserColumns, ScimError> {
    let login = str_at(doc, "userName")
        .ok_or_else(|| invalid("userName is required".into()))?
        .to_owned();
    checked(ValueKind::Login, "userName", &login)?;
    let external_uid = str_at(doc, "externalId").unwrap_or("").to_owned();
    if !external_uid.is_empty() {
        checked(ValueKind::ExternalUid, "externalId", &external_uid)?;
    }
    let emails: &[Value] = doc
        .get("emails")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let primaries = emails
        .iter()
        .filter(|e| e.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(invalid(format!(
            "emails: {primaries} values are primary; at most one may be"
        )));
    }
    for (i, e) in emails.iter().enumerate() {
        if let Some(v) = e.get("value").and_then(Value::as_str) {
            checked(ValueKind::Email, &format!("emails[{i}].value"), v)?;
        }
    }
    let email = emails
        .iter()
        .find(|e| e.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| emails.first())
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let name_obj = doc.get("name");
    let part = |k: &str| name_obj.and_then(|n| n.get(k)).and_then(Value::as_str);
    let name = part("formatted")
        .or_else(|| str_at(doc, "displayName"))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            [part("givenName"), part("familyName")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        });
    let active = doc.get("active").and_then(Value::as_bool).unwrap_or(true);
    let mut rest = doc.clone();
    for k in ["userName", "externalId", "active", "password"] {
        rest.remove(k);
    }
    Ok(UserColumns {
        login,
        email,
        name,
        external_uid,
        active,
        rest,
    })
}

/// The canonical document of a stored user (what PATCH starts from).
pub fn user_doc(row: &ScimUserRow) -> Result<Map<String, Value>, ScimError> {
    let mut doc: Map<String, Value> = serde_json::from_str(&row.scim_json)
        .map_err(|e| ScimError::internal(format!("user {} scim_json: {e}", row.user.id)))?;
    doc.insert("userName".into(), json!(row.user.login));
    if !row.user.external_uid.is_empty() {
        doc.insert("externalId".into(), json!(row.user.external_uid));
    }
    doc.insert("active".into(), json!(!row.user.disabled));
    Ok(doc)
}

pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

fn meta(resource_type: &str, created: &str, modified: &str, location: &str, version: i64) -> Value {
    json!({
        "resourceType": resource_type,
        "created": created,
        "lastModified": modified,
        "location": location,
        "version": etag(version),
    })
}

/// A user as SCIM returns it; `groups` are its `scim` memberships (id, name).
pub fn render_user(
    row: &ScimUserRow,
    groups: &[(String, String)],
    base: &str,
) -> Result<Value, ScimError> {
    let doc = user_doc(row)?;
    let mut schemas = vec![json!(schema::USER)];
    if doc.contains_key(schema::ENTERPRISE) {
        schemas.push(json!(schema::ENTERPRISE));
    }
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(row.user.id));
    out.extend(doc);
    if !groups.is_empty() {
        out.insert(
            "groups".into(),
            Value::Array(
                groups
                    .iter()
                    .map(|(id, name)| {
                        json!({"value": id, "$ref": format!("{base}/Groups/{id}"), "display": name, "type": "direct"})
                    })
                    .collect(),
            ),
        );
    }
    let location = format!("{base}/Users/{}", row.user.id);
    out.insert(
        "meta".into(),
        meta(
            "User",
            &row.user.created_at,
            &row.user.updated_at,
            &location,
            row.version,
        ),
    );
    Ok(Value::Object(out))
}

/// A group as SCIM returns it; `members` is `None` when not asked for.
pub fn render_group(g: &ScimGroupRow, members: Option<&[ScimMemberRow]>, base: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([schema::GROUP]));
    out.insert("id".into(), json!(g.id));
    if !g.external_id.is_empty() {
        out.insert("externalId".into(), json!(g.external_id));
    }
    out.insert("displayName".into(), json!(g.name));
    if let Some(members) = members.filter(|m| !m.is_empty()) {
        out.insert(
            "members".into(),
            Value::Array(
                members
                    .iter()
                    .map(|m| {
                        json!({"value": m.user_id, "$ref": format!("{base}/Users/{}", m.user_id), "type": "User"})
                    })
                    .collect(),
            ),
        );
    }
    out.insert(
        "meta".into(),
        meta(
            "Group",
            &g.created_at,
            &g.updated_at,
            &format!("{base}/Groups/{}", g.id),
            g.version,
        ),
    );
    Value::Object(out)
}

/// A group document's parts: displayName, externalId and the member ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupParts {
    pub name: String,
    pub external_id: String,
    pub members: Vec<String>,
}

/// Group names come from assertions too: the admin API's rules apply.
pub fn check_group_name(name: &str) -> Result<(), ScimError> {
    crate::groups::check_name(name)
        .map_err(|_| invalid("displayName must be 1-255 characters without leading/trailing spaces, control characters or '/'".into()))
}

/// The member ids of a normalized `members` value, each a `User`.
pub fn member_ids(members: Option<&Value>) -> Result<Vec<String>, ScimError> {
    let mut ids = Vec::new();
    for (i, m) in members
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .enumerate()
    {
        if let Some(t) = m.get("type").and_then(Value::as_str) {
            if !t.eq_ignore_ascii_case("User") {
                return Err(invalid(format!(
                    "members[{i}].type is {t:?}: only users can be members (no nested groups)"
                )));
            }
        }
        let Some(id) = m.get("value").and_then(Value::as_str) else {
            return Err(invalid(format!("members[{i}].value is required")));
        };
        if !ids.iter().any(|x: &String| x == id) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

pub fn group_parts(doc: &Map<String, Value>) -> Result<GroupParts, ScimError> {
    let name = str_at(doc, "displayName")
        .ok_or_else(|| invalid("displayName is required".into()))?
        .to_owned();
    check_group_name(&name)?;
    Ok(GroupParts {
        name,
        external_id: str_at(doc, "externalId").unwrap_or("").to_owned(),
        members: member_ids(doc.get("members"))?,
    })
}

/// Whether the attribute may be written by a client (not read-only).
pub fn writable(attr: &Attr) -> bool {
    attr.mutability != Mutability::ReadOnly
}

/// The schema an extension key names, for a document key.
pub fn extension_of(kind: &Kind, key: &str) -> Option<&'static Schema> {
    kind.extension(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{GROUPS, USERS};

    #[test]
    fn bodies_are_checked_and_made_canonical() {
        let body = json!({
            "schemas": [schema::USER, schema::ENTERPRISE],
            "id": "ignored", "meta": {"version": "W/\"9\""}, "groups": [{"value": "g"}],
            "USERNAME": "ada", "Active": "False", "externalId": "oid-1",
            "emails": [{"Value": "ada@example.com", "type": "work", "primary": true}],
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            schema::ENTERPRISE: {"employeeNumber": "7", "manager": {"value": "m", "displayName": "ignored"}},
        });
        let doc = from_body(&USERS, &body).unwrap();
        assert_eq!(doc["userName"], "ada");
        assert_eq!(doc["active"], false);
        assert_eq!(doc["emails"][0]["value"], "ada@example.com");
        assert!(!doc.contains_key("groups") && !doc.contains_key("id"));
        assert_eq!(
            doc[schema::ENTERPRISE],
            json!({"employeeNumber": "7", "manager": {"value": "m"}})
        );
        let cols = user_columns(&doc).unwrap();
        assert_eq!(
            (
                cols.login.as_str(),
                cols.email.as_str(),
                cols.name.as_str(),
                cols.external_uid.as_str(),
                cols.active
            ),
            ("ada", "ada@example.com", "Ada Lovelace", "oid-1", false)
        );
        assert!(!cols.rest.contains_key("userName") && cols.rest.contains_key("name"));
    }

    #[test]
    fn hostile_bodies_are_refused_by_name() {
        let user = |extra: Value| {
            let mut b = json!({"schemas": [schema::USER], "userName": "ada"});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            from_body(&USERS, &b).and_then(|d| user_columns(&d).map(|_| ()))
        };
        for (extra, scim_type, words) in [
            (
                json!({"ims": [{"value": "x"}]}),
                ScimType::InvalidSyntax,
                "\"ims\" is not an attribute",
            ),
            (
                json!({"emails": [{"value": "a@b", "bogus": 1}]}),
                ScimType::InvalidSyntax,
                "not a sub-attribute",
            ),
            (
                json!({"active": "yes"}),
                ScimType::InvalidValue,
                "active: expected a boolean",
            ),
            (
                json!({"userName": 7}),
                ScimType::InvalidValue,
                "expected a string",
            ),
            (
                json!({"userName": "ada\u{a0}"}),
                ScimType::InvalidValue,
                "userName is refused: it ends with whitespace (U+00A0)",
            ),
            (
                json!({"userName": "local:root"}),
                ScimType::InvalidValue,
                "reserved",
            ),
            (
                json!({"emails": [{"value": "nope"}]}),
                ScimType::InvalidValue,
                "emails[0].value is refused",
            ),
            (
                json!({"emails": [{"value": "a@b", "primary": true}, {"value": "c@d", "primary": true}]}),
                ScimType::InvalidValue,
                "at most one",
            ),
            (
                json!({"title": "a\u{1b}b"}),
                ScimType::InvalidValue,
                "control character U+001B",
            ),
            (
                json!({"title": ["a"]}),
                ScimType::InvalidValue,
                "single-valued",
            ),
            (
                json!({"title": "x".repeat(MAX_STRING + 1)}),
                ScimType::InvalidValue,
                "at most 1024",
            ),
            (
                json!({"phoneNumbers": vec![json!({"value": "1"}); MAX_VALUES + 1]}),
                ScimType::TooMany,
                "at most 100",
            ),
            (
                json!({(schema::ENTERPRISE): {"department": "x"}}),
                ScimType::InvalidSyntax,
                "schemas does not list it",
            ),
        ] {
            let e = user(extra.clone()).expect_err(&extra.to_string());
            assert_eq!(e.scim_type, Some(scim_type), "{extra}: {}", e.detail);
            assert!(e.detail.contains(words), "{extra}: {}", e.detail);
        }
        for body in [
            json!({"userName": "ada"}),
            json!({"schemas": [schema::GROUP], "userName": "ada"}),
            json!({"schemas": [schema::USER, "urn:example:x"], "userName": "ada", "urn:example:x": {"a": 1}}),
            json!({"schemas": schema::USER, "userName": "ada"}),
            json!(["not an object"]),
        ] {
            let e = from_body(&USERS, &body).expect_err(&body.to_string());
            assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax), "{body}");
        }
        let e = user_columns(&from_body(&USERS, &json!({"schemas": [schema::USER]})).unwrap())
            .unwrap_err();
        assert_eq!(e.detail, "userName is required");
    }

    #[test]
    fn groups_take_users_only() {
        let doc = from_body(
            &GROUPS,
            &json!({"schemas": [schema::GROUP], "displayName": "eng", "members": [{"value": "u1"}, {"value": "u2", "type": "User"}, {"value": "u1"}]}),
        )
        .unwrap();
        assert_eq!(group_parts(&doc).unwrap().members, ["u1", "u2"]);
        let doc = from_body(
            &GROUPS,
            &json!({"schemas": [schema::GROUP], "displayName": "eng", "members": [{"value": "g1", "type": "Group"}]}),
        )
        .unwrap();
        assert!(group_parts(&doc)
            .unwrap_err()
            .detail
            .contains("no nested groups"));
        for bad in ["", " eng", "a/b", "x\u{7}"] {
            let parts = from_body(
                &GROUPS,
                &json!({"schemas": [schema::GROUP], "displayName": bad}),
            )
            .and_then(|d| group_parts(&d));
            assert_eq!(
                parts.unwrap_err().scim_type,
                Some(ScimType::InvalidValue),
                "{bad:?}"
            );
        }
    }
}
