//! PATCH (RFC 7644 §3.5.2) on a canonical document, with what real clients
//! send: `op` in any case (Entra ID's "Replace"), `add`/`replace` without a
//! path whose value object has attribute paths as keys (`name.givenName`,
//! `urn:...:enterprise:2.0:User:department`), value filters with a
//! sub-attribute (`emails[type eq "work"].value`, created when an `eq`
//! filter matches nothing, as Entra ID expects), `"True"`/`"False"` for
//! booleans. Group memberships are not applied here: they become
//! [`MemberOp`]s the service applies row by row in its transaction.
//! Removing what is not there is a no-op, so a retried deprovisioning never fails.

use serde_json::{Map, Value};

use super::error::{ScimError, ScimType};
use super::filter::{self, AttrRef, Filter, Literal, Op, PatchPath};
use super::matcher;
use super::resource::{member_ids, normalize_single, normalize_value};
use super::schema::{Attr, Kind, Mutability, Schema, Type};

pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Most operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
    /// Position in the request, for messages.
    pub index: usize,
}

/// A change to a group's `scim` memberships, in request order.
#[derive(Debug, Clone)]
pub enum MemberOp {
    Add(Vec<String>),
    Remove(Vec<String>),
    /// Remove the members (`{value, $ref, type}`) the filter matches.
    RemoveMatching(Filter),
    RemoveAll,
    /// Exactly these members afterwards.
    Set(Vec<String>),
}

fn syntax(detail: String) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, detail)
}

/// Reads a PatchOp body.
pub fn parse(kind: &Kind, body: &Value) -> Result<Vec<Operation>, ScimError> {
    let Value::Object(obj) = body else {
        return Err(syntax("the body must be a PatchOp JSON object".into()));
    };
    let field = |name: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let schemas_ok = field("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(PATCH_SCHEMA)));
    if !schemas_ok {
        return Err(syntax(format!("schemas must list {PATCH_SCHEMA}")));
    }
    if let Some(k) = obj
        .keys()
        .find(|k| !k.eq_ignore_ascii_case("schemas") && !k.eq_ignore_ascii_case("Operations"))
    {
        return Err(syntax(format!("{k:?} is not a member of a PatchOp")));
    }
    let Some(Value::Array(raw)) = field("Operations") else {
        return Err(syntax("Operations must be an array of operations".into()));
    };
    if raw.is_empty() {
        return Err(syntax("Operations is empty".into()));
    }
    if raw.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            ScimType::TooMany,
            format!(
                "{} operations; at most {MAX_OPERATIONS} are accepted in one PATCH",
                raw.len()
            ),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, op)| operation(kind, i, op))
        .collect()
}

fn operation(kind: &Kind, index: usize, v: &Value) -> Result<Operation, ScimError> {
    let at = format!("Operations[{index}]");
    let Value::Object(o) = v else {
        return Err(syntax(format!("{at} must be an object")));
    };
    let mut op = None;
    let mut path = None;
    let mut value = None;
    for (k, v) in o {
        match k.to_ascii_lowercase().as_str() {
            "op" => op = Some(v),
            "path" => path = Some(v),
            "value" => value = Some(v.clone()),
            _ => {
                return Err(syntax(format!(
                    "{at}: {k:?} is not a member of an operation"
                )))
            }
        }
    }
    let op = match op
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("add") => OpKind::Add,
        Some("replace") => OpKind::Replace,
        Some("remove") => OpKind::Remove,
        _ => {
            return Err(syntax(format!(
                "{at}.op must be \"add\", \"replace\" or \"remove\""
            )))
        }
    };
    let path = match path {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(filter::parse_path(kind, p).map_err(|mut e| {
            e.detail = format!("{at}.{}", e.detail);
            e
        })?),
        Some(_) => return Err(syntax(format!("{at}.path must be a string"))),
    };
    match (op, &path, &value) {
        (OpKind::Remove, None, _) => Err(ScimError::bad(
            ScimType::NoTarget,
            format!("{at}: remove needs a path"),
        )),
        (OpKind::Add | OpKind::Replace, _, None) => Err(syntax(format!(
            "{at}: {} needs a value",
            if op == OpKind::Add { "add" } else { "replace" }
        ))),
        _ => Ok(Operation {
            op,
            path,
            value,
            index,
        }),
    }
}

fn mutability(detail: String) -> ScimError {
    ScimError::bad(ScimType::Mutability, detail)
}

/// Applies the operations to a user or group document (never `members`:
/// see [`split_members`]); returns the attribute paths changed.
pub fn apply(
    kind: &Kind,
    doc: &mut Map<String, Value>,
    ops: &[Operation],
) -> Result<Vec<String>, ScimError> {
    let mut changed = Vec::new();
    for o in ops {
        let at = format!("Operations[{}]", o.index);
        match &o.path {
            Some(PatchPath::Extension(ext)) => {
                extension(kind, doc, o, ext, o.value.as_ref(), &at, &mut changed)?
            }
            Some(PatchPath::Attr {
                target,
                filter,
                sub,
            }) => {
                attr_op(
                    doc,
                    o.op,
                    target,
                    filter.as_deref(),
                    *sub,
                    o.value.as_ref(),
                    &at,
                )?;
                changed.push(target.display());
            }
            None => {
                let Some(Value::Object(obj)) = &o.value else {
                    return Err(syntax(format!(
                        "{at}: without a path the value must be an object of attributes"
                    )));
                };
                for (k, v) in obj {
                    if ["schemas", "id", "meta"]
                        .iter()
                        .any(|r| k.eq_ignore_ascii_case(r))
                    {
                        continue;
                    }
                    if let Some(ext) = kind.extension(k) {
                        extension(kind, doc, o, ext, Some(v), &at, &mut changed)?;
                        continue;
                    }
                    let path = filter::parse_path(kind, k).map_err(|mut e| {
                        e.detail = format!("{at}.value: {}", e.detail);
                        e
                    })?;
                    let PatchPath::Attr {
                        target,
                        filter,
                        sub,
                    } = path
                    else {
                        continue;
                    };
                    // As in a POST body, read-only attributes are ignored.
                    if target.attr.mutability == Mutability::ReadOnly
                        || target
                            .sub
                            .is_some_and(|s| s.mutability == Mutability::ReadOnly)
                    {
                        continue;
                    }
                    attr_op(doc, o.op, &target, filter.as_deref(), sub, Some(v), &at)?;
                    changed.push(target.display());
                }
            }
        }
    }
    doc.retain(|_, v| !matches!(v, Value::Object(o) if o.is_empty()));
    Ok(changed)
}

fn extension(
    _kind: &Kind,
    doc: &mut Map<String, Value>,
    o: &Operation,
    ext: &'static Schema,
    value: Option<&Value>,
    at: &str,
    changed: &mut Vec<String>,
) -> Result<(), ScimError> {
    if o.op == OpKind::Remove && value.is_none() {
        doc.remove(ext.id);
        changed.push(ext.id.to_owned());
        return Ok(());
    }
    let Some(Value::Object(obj)) = value else {
        return Err(syntax(format!(
            "{at}: the value of {} must be an object",
            ext.id
        )));
    };
    for (k, v) in obj {
        if k.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let Some(attr) = ext.attr(k) else {
            return Err(ScimError::bad(
                ScimType::InvalidPath,
                format!("{at}: {k:?} is not an attribute of {}", ext.id),
            ));
        };
        if attr.mutability == Mutability::ReadOnly {
            continue;
        }
        let target = AttrRef {
            extension: Some(ext),
            attr,
            sub: None,
        };
        attr_op(doc, o.op, &target, None, None, Some(v), at)?;
        changed.push(target.display());
    }
    Ok(())
}

/// The object an attribute lives in: the document, or its extension's.
fn container<'a>(
    doc: &'a mut Map<String, Value>,
    target: &AttrRef,
) -> Result<&'a mut Map<String, Value>, ScimError> {
    let Some(ext) = target.extension else {
        return Ok(doc);
    };
    if !matches!(doc.get(ext.id), Some(Value::Object(_))) {
        doc.insert(ext.id.to_owned(), Value::Object(Map::new()));
    }
    match doc.get_mut(ext.id) {
        Some(Value::Object(m)) => Ok(m),
        _ => Err(ScimError::internal("extension object vanished")),
    }
}

fn attr_op(
    doc: &mut Map<String, Value>,
    op: OpKind,
    target: &AttrRef,
    filter: Option<&Filter>,
    fsub: Option<&'static Attr>,
    value: Option<&Value>,
    at: &str,
) -> Result<(), ScimError> {
    let attr = target.attr;
    let name = target.display();
    for a in [Some(attr), target.sub, fsub].into_iter().flatten() {
        if a.mutability == Mutability::ReadOnly {
            return Err(mutability(format!("{at}: {name} is read-only")));
        }
    }
    if attr.name == "members" {
        return Err(mutability(format!(
            "{at}: members are changed by adding and removing whole members"
        )));
    }
    // A user is enabled or disabled, never neither: unassigning `active`
    // would silently re-enable a deprovisioned user.
    if attr.name == "active"
        && target.extension.is_none()
        && (op == OpKind::Remove || value.is_none_or(Value::is_null))
    {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("{at}: active cannot be removed: replace it with true or false"),
        ));
    }
    let c = container(doc, target)?;
    if attr.mutability == Mutability::Immutable && c.contains_key(attr.name) {
        return Err(mutability(format!("{at}: {name} is immutable once set")));
    }
    match (filter, target.sub) {
        (None, Some(sub)) => {
            if attr.multi {
                return Err(ScimError::bad(
                    ScimType::InvalidPath,
                    format!(
                        "{at}: {name} names every {}: use a value filter, e.g. {}[type eq \"work\"].{}",
                        attr.name, attr.name, sub.name
                    ),
                ));
            }
            let v = match (op, value) {
                (OpKind::Remove, _) | (_, None) => None,
                (_, Some(v)) => normalize_single(sub, v, &format!("{at}.value"))?,
            };
            let obj = c
                .entry(attr.name.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = obj {
                match v {
                    Some(v) => {
                        o.insert(sub.name.to_owned(), v);
                    }
                    None => {
                        o.remove(sub.name);
                    }
                }
                if o.is_empty() {
                    c.remove(attr.name);
                }
            }
            Ok(())
        }
        (None, None) => whole(c, op, attr, value, at),
        (Some(f), _) => filtered(c, op, attr, f, fsub, value, at),
    }
}

/// An operation on a whole attribute.
fn whole(
    c: &mut Map<String, Value>,
    op: OpKind,
    attr: &'static Attr,
    value: Option<&Value>,
    at: &str,
) -> Result<(), ScimError> {
    let at_value = format!("{at}.value");
    if op == OpKind::Remove {
        match (attr.multi, value) {
            (true, Some(v)) => {
                let gone = normalize_value(attr, v, &at_value)?;
                let gone = gone
                    .as_ref()
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if let Some(Value::Array(items)) = c.get_mut(attr.name) {
                    items.retain(|item| !gone.iter().any(|g| same_element(g, item)));
                    if items.is_empty() {
                        c.remove(attr.name);
                    }
                }
            }
            _ => {
                c.remove(attr.name);
            }
        }
        return Ok(());
    }
    let new = normalize_value(attr, value.unwrap_or(&Value::Null), &at_value)?;
    let Some(new) = new else {
        // Setting nothing: an add of nothing changes nothing, a replace clears.
        if op == OpKind::Replace {
            c.remove(attr.name);
        }
        return Ok(());
    };
    match (attr.multi, attr.ty, op) {
        (true, _, OpKind::Add) => {
            let slot = c
                .entry(attr.name.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let (Value::Array(items), Value::Array(added)) = (slot, new) {
                let mut keep = Vec::new();
                for a in added {
                    match items.iter().position(|i| *i == a) {
                        Some(p) => keep.push(p),
                        None => {
                            items.push(a);
                            keep.push(items.len() - 1);
                        }
                    }
                }
                demote_other_primaries(items, &keep);
                bounded(items, attr, at)?;
            }
        }
        (false, Type::Complex, _) => {
            let slot = c
                .entry(attr.name.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(o), Value::Object(n)) = (slot, new) {
                o.extend(n);
            }
        }
        _ => {
            c.insert(attr.name.to_owned(), new);
        }
    }
    Ok(())
}

/// Same element: equal, or equal `value` sub-attributes.
fn same_element(a: &Value, b: &Value) -> bool {
    a == b || matches!((a.get("value"), b.get("value")), (Some(x), Some(y)) if x == y)
}

fn bounded(items: &[Value], attr: &Attr, at: &str) -> Result<(), ScimError> {
    if items.len() > super::resource::MAX_VALUES {
        return Err(ScimError::bad(
            ScimType::TooMany,
            format!(
                "{at}: {} would hold {} values; at most {} are accepted",
                attr.name,
                items.len(),
                super::resource::MAX_VALUES
            ),
        ));
    }
    Ok(())
}

/// RFC 7643 §2.4: one primary value at most; the values just written win.
fn demote_other_primaries(items: &mut [Value], written: &[usize]) {
    let written_primary = written
        .iter()
        .any(|i| items.get(*i).and_then(|v| v.get("primary")) == Some(&Value::Bool(true)));
    if !written_primary {
        return;
    }
    for (i, item) in items.iter_mut().enumerate() {
        if !written.contains(&i) {
            if let Some(Value::Bool(p)) = item.get_mut("primary") {
                *p = false;
            }
        }
    }
}

/// The element an `eq` filter describes, for an add or replace that
/// matches nothing: `type eq "work"` gives `{"type": "work"}`.
fn eq_template(f: &Filter, out: &mut Map<String, Value>) -> bool {
    match f {
        Filter::Compare(p, Op::Eq, Literal::Str(s)) => {
            out.insert(p.attr.name.to_owned(), Value::String(s.clone()));
            true
        }
        Filter::Compare(p, Op::Eq, Literal::Bool(b)) => {
            out.insert(p.attr.name.to_owned(), Value::Bool(*b));
            true
        }
        Filter::And(a, b) => eq_template(a, out) && eq_template(b, out),
        _ => false,
    }
}

fn filtered(
    c: &mut Map<String, Value>,
    op: OpKind,
    attr: &'static Attr,
    f: &Filter,
    fsub: Option<&'static Attr>,
    value: Option<&Value>,
    at: &str,
) -> Result<(), ScimError> {
    let mut items = match c.remove(attr.name) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let hits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, e)| matcher::matches(f, e))
        .map(|(i, _)| i)
        .collect();
    let at_value = format!("{at}.value");
    match op {
        OpKind::Remove => match fsub {
            Some(sub) => {
                for i in &hits {
                    if let Some(Value::Object(o)) = items.get_mut(*i) {
                        o.remove(sub.name);
                    }
                }
                items.retain(|e| !matches!(e, Value::Object(o) if o.is_empty()));
            }
            None => {
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    !hits.contains(&(i - 1))
                });
            }
        },
        OpKind::Add | OpKind::Replace => {
            let patch: Map<String, Value> = match fsub {
                Some(sub) => {
                    let v = normalize_single(sub, value.unwrap_or(&Value::Null), &at_value)?;
                    let mut m = Map::new();
                    m.insert(sub.name.to_owned(), v.unwrap_or(Value::Null));
                    m
                }
                None => match normalize_single(attr, value.unwrap_or(&Value::Null), &at_value)? {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                },
            };
            let mut written = hits.clone();
            if hits.is_empty() {
                let mut template = Map::new();
                if !eq_template(f, &mut template) {
                    c.insert(attr.name.to_owned(), Value::Array(items));
                    return Err(ScimError::bad(
                        ScimType::NoTarget,
                        format!(
                            "{at}: the filter of the path matches no value of {}",
                            attr.name
                        ),
                    ));
                }
                let fresh = normalize_single(attr, &Value::Object(template), &at_value)?
                    .unwrap_or_else(|| Value::Object(Map::new()));
                items.push(fresh);
                written = vec![items.len() - 1];
            }
            for i in &written {
                if let Some(Value::Object(o)) = items.get_mut(*i) {
                    for (k, v) in &patch {
                        if v.is_null() {
                            o.remove(k);
                        } else {
                            o.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            items.retain(|e| !matches!(e, Value::Object(o) if o.is_empty()));
            demote_other_primaries(&mut items, &written);
            bounded(&items, attr, at)?;
        }
    }
    if !items.is_empty() {
        c.insert(attr.name.to_owned(), Value::Array(items));
    }
    Ok(())
}

/// Splits a group PATCH into membership changes and the other operations.
pub fn split_members(ops: Vec<Operation>) -> Result<(Vec<Operation>, Vec<MemberOp>), ScimError> {
    let mut rest = Vec::new();
    let mut members = Vec::new();
    for o in ops {
        let at = format!("Operations[{}]", o.index);
        match &o.path {
            Some(PatchPath::Attr {
                target,
                filter,
                sub,
            }) if target.attr.name == "members" => {
                if target.sub.is_some() || sub.is_some() {
                    return Err(mutability(format!(
                        "{at}: a member's value, $ref and type are immutable: remove the member and add another"
                    )));
                }
                match (o.op, filter) {
                    (OpKind::Remove, Some(f)) => members.push(MemberOp::RemoveMatching((**f).clone())),
                    (_, Some(_)) => {
                        return Err(mutability(format!(
                            "{at}: members cannot be changed in place: remove the member and add another"
                        )))
                    }
                    (OpKind::Remove, None) => match &o.value {
                        None => members.push(MemberOp::RemoveAll),
                        Some(v) => members.push(MemberOp::Remove(ids(target.attr, v, &at)?)),
                    },
                    (OpKind::Add, None) => {
                        members.push(MemberOp::Add(ids(target.attr, o.value.as_ref().unwrap_or(&Value::Null), &at)?))
                    }
                    (OpKind::Replace, None) => {
                        members.push(MemberOp::Set(ids(target.attr, o.value.as_ref().unwrap_or(&Value::Null), &at)?))
                    }
                }
            }
            None => {
                let Some(Value::Object(obj)) = &o.value else {
                    rest.push(o);
                    continue;
                };
                let mut others = Map::new();
                for (k, v) in obj {
                    if k.eq_ignore_ascii_case("members") {
                        let attr = super::schema::GROUPS
                            .core_attr("members")
                            .ok_or_else(|| ScimError::internal("members not declared"))?;
                        let list = ids(attr, v, &at)?;
                        members.push(match o.op {
                            OpKind::Replace => MemberOp::Set(list),
                            _ => MemberOp::Add(list),
                        });
                    } else {
                        others.insert(k.clone(), v.clone());
                    }
                }
                if !others.is_empty() {
                    rest.push(Operation {
                        value: Some(Value::Object(others)),
                        ..o
                    });
                }
            }
            _ => rest.push(o),
        }
    }
    Ok((rest, members))
}

fn ids(attr: &Attr, v: &Value, at: &str) -> Result<Vec<String>, ScimError> {
    let normalized = normalize_value(attr, v, &format!("{at}.value"))?;
    member_ids(normalized.as_ref()).map_err(|mut e| {
        e.detail = format!("{at}.value: {}", e.detail);
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::resource::{from_body, user_columns};
    use crate::scim::schema::{self, GROUPS, USERS};
    use serde_json::json;

    fn doc() -> Map<String, Value> {
        from_body(
            &USERS,
            &json!({"schemas": [schema::USER], "userName": "ada", "active": true,
                    "emails": [{"value": "ada@work.example", "type": "work", "primary": true}]}),
        )
        .unwrap()
    }

    fn patch(d: &mut Map<String, Value>, ops: Value) -> Result<Vec<String>, ScimError> {
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": ops});
        apply(&USERS, d, &parse(&USERS, &body)?)
    }

    #[test]
    fn entra_id_shapes() {
        let mut d = doc();
        // Capitalised ops, boolean strings, no-path objects keyed by paths.
        patch(
            &mut d,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .unwrap();
        assert_eq!(d["active"], false);
        patch(
            &mut d,
            json!([{"op": "Replace", "value": {"active": "True", "name.givenName": "Ada", "displayName": "Ada L",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Maths"}}]),
        )
        .unwrap();
        assert_eq!(d["active"], true);
        assert_eq!(d["name"], json!({"givenName": "Ada"}));
        assert_eq!(d[schema::ENTERPRISE], json!({"department": "Maths"}));
        // A filtered path matching nothing creates the element it describes.
        patch(
            &mut d,
            json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"},
                   {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada@new.example"},
                   {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "London"}]),
        )
        .unwrap();
        assert_eq!(
            d["phoneNumbers"],
            json!([{"type": "mobile", "value": "+1 555"}])
        );
        assert_eq!(d["emails"][0]["value"], "ada@new.example");
        assert_eq!(
            d["addresses"],
            json!([{"type": "work", "locality": "London"}])
        );
        // The manager as Entra ID sends it: a path, and a bare string value.
        patch(
            &mut d,
            json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                    "value": {"value": "m-1"}}]),
        )
        .unwrap();
        assert_eq!(d[schema::ENTERPRISE]["manager"], json!({"value": "m-1"}));
        patch(&mut d, json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}])).unwrap();
        assert_eq!(d[schema::ENTERPRISE], json!({"department": "Maths"}));
        assert_eq!(user_columns(&d).unwrap().email, "ada@new.example");
    }

    #[test]
    fn rfc_semantics() {
        let mut d = doc();
        patch(&mut d, json!([{"op": "add", "path": "emails", "value": [{"value": "a@home.example", "type": "home", "primary": true}]}])).unwrap();
        let emails = d["emails"].as_array().unwrap();
        assert_eq!(emails.len(), 2);
        assert_eq!(
            emails[0]["primary"], false,
            "the new primary demotes the old"
        );
        patch(
            &mut d,
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        )
        .unwrap();
        assert_eq!(d["emails"].as_array().unwrap().len(), 1);
        patch(
            &mut d,
            json!([{"op": "remove", "path": "emails[type eq \"nothing\"]"}]),
        )
        .unwrap();
        patch(
            &mut d,
            json!([{"op": "replace", "path": "name", "value": {"familyName": "Lovelace"}}]),
        )
        .unwrap();
        patch(
            &mut d,
            json!([{"op": "replace", "path": "name", "value": {"givenName": "Ada"}}]),
        )
        .unwrap();
        assert_eq!(
            d["name"],
            json!({"familyName": "Lovelace", "givenName": "Ada"}),
            "complex replace merges"
        );
        patch(&mut d, json!([{"op": "remove", "path": "name.familyName"}])).unwrap();
        assert_eq!(d["name"], json!({"givenName": "Ada"}));
        patch(
            &mut d,
            json!([{"op": "replace", "path": "emails", "value": []}]),
        )
        .unwrap();
        assert!(!d.contains_key("emails"));
        patch(&mut d, json!([{"op": "remove", "path": "userName"}])).unwrap();
        assert_eq!(user_columns(&d).unwrap_err().detail, "userName is required");
    }

    #[test]
    fn hostile_patches_are_refused_precisely() {
        for (ops, scim_type, words) in [
            (
                json!([{"op": "remove"}]),
                ScimType::NoTarget,
                "remove needs a path",
            ),
            (
                json!([{"op": "add", "path": "title"}]),
                ScimType::InvalidSyntax,
                "needs a value",
            ),
            (
                json!([{"op": "move", "path": "title", "value": "x"}]),
                ScimType::InvalidSyntax,
                ".op must be",
            ),
            (
                json!([{"op": "add", "path": "ims", "value": "x"}]),
                ScimType::InvalidPath,
                "not an attribute",
            ),
            (
                json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
                ScimType::Mutability,
                "read-only",
            ),
            (
                json!([{"op": "replace", "path": "id", "value": "x"}]),
                ScimType::Mutability,
                "read-only",
            ),
            (
                json!([{"op": "replace", "path": "emails.value", "value": "x@y"}]),
                ScimType::InvalidPath,
                "value filter",
            ),
            (
                json!([{"op": "replace", "path": "emails[value co \"zzz\"].type", "value": "work"}]),
                ScimType::NoTarget,
                "matches no value",
            ),
            (
                json!([{"op": "add", "path": "active", "value": "maybe"}]),
                ScimType::InvalidValue,
                "expected a boolean",
            ),
            (
                json!([{"op": "add", "value": "not an object"}]),
                ScimType::InvalidSyntax,
                "must be an object",
            ),
            (
                json!([{"op": "add", "path": "title", "value": "x", "extra": 1}]),
                ScimType::InvalidSyntax,
                "not a member",
            ),
            (json!([]), ScimType::InvalidSyntax, "empty"),
            (
                json!([{"op": "remove", "path": "active"}]),
                ScimType::InvalidValue,
                "active cannot be removed",
            ),
            (
                json!([{"op": "replace", "value": {"active": null}}]),
                ScimType::InvalidValue,
                "active cannot be removed",
            ),
        ] {
            let mut d = doc();
            let e = patch(&mut d, ops.clone()).expect_err(&ops.to_string());
            assert_eq!(e.scim_type, Some(scim_type), "{ops}: {}", e.detail);
            assert!(e.detail.contains(words), "{ops}: {}", e.detail);
        }
        let too_many =
            vec![json!({"op": "add", "path": "title", "value": "x"}); MAX_OPERATIONS + 1];
        assert_eq!(
            patch(&mut doc(), json!(too_many)).unwrap_err().scim_type,
            Some(ScimType::TooMany)
        );
        let wrong_schema = json!({"schemas": [schema::USER], "Operations": [{"op": "add", "path": "title", "value": "x"}]});
        assert!(parse(&USERS, &wrong_schema)
            .unwrap_err()
            .detail
            .contains(PATCH_SCHEMA));
    }

    #[test]
    fn group_membership_operations() {
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
            {"op": "Remove", "path": "members[value eq \"u1\"]"},
            {"op": "Remove", "path": "members", "value": [{"value": "u2"}]},
            {"op": "Replace", "value": {"displayName": "eng2", "members": [{"value": "u3"}]}},
            {"op": "remove", "path": "members"},
        ]});
        let (rest, members) = split_members(parse(&GROUPS, &body).unwrap()).unwrap();
        assert_eq!(rest.len(), 1);
        assert!(
            matches!(&members[..], [MemberOp::Add(a), MemberOp::RemoveMatching(_), MemberOp::Remove(r), MemberOp::Set(s), MemberOp::RemoveAll]
            if a == &["u1", "u2"] && r == &["u2"] && s == &["u3"])
        );
        let mut d = from_body(
            &GROUPS,
            &json!({"schemas": [schema::GROUP], "displayName": "eng"}),
        )
        .unwrap();
        apply(&GROUPS, &mut d, &rest).unwrap();
        assert_eq!(d["displayName"], "eng2");
        for bad in [
            json!({"op": "replace", "path": "members[value eq \"u1\"].value", "value": "u9"}),
            json!({"op": "replace", "path": "members[value eq \"u1\"]", "value": {"value": "u9"}}),
            json!({"op": "add", "path": "members", "value": [{"value": "g", "type": "Group"}]}),
        ] {
            let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [bad]});
            let e = parse(&GROUPS, &body)
                .and_then(split_members)
                .expect_err(&bad.to_string());
            assert!(
                matches!(
                    e.scim_type,
                    Some(ScimType::Mutability | ScimType::InvalidValue)
                ),
                "{bad}"
            );
        }
    }
}
