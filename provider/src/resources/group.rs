//! `ssoplane_group`: a user group (`/api/v1/groups/{name}`). Membership is
//! managed by logins (SAML group attribute), not here.

use std::sync::OnceLock;

use ssoplane_proto::cty::{AttrPath, Type, Value};
use ssoplane_proto::tfplugin6::Schema;
use ssoplane_schema::api::GroupDoc;

use crate::config::Configured;
use crate::resources::client_diags;
use crate::schema::{attr, block, schema_type, Mode};
use crate::values::{error, get, get_str, Diags};

pub const TYPE_NAME: &str = "ssoplane_group";

pub fn schema() -> Schema {
    crate::schema::schema(block(
        "A group in ssoplane. Import with the group name.",
        vec![
            attr("id", Type::String, Mode::Computed, "The group name."),
            attr(
                "name",
                Type::String,
                Mode::Required,
                "Group name. Changing it replaces the group.",
            ),
            attr(
                "description",
                Type::String,
                Mode::OptionalComputed,
                "Free-text description. Default: empty.",
            ),
        ],
        vec![],
    ))
}

pub fn ty() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| schema_type(&schema()))
}

pub fn validate_config(config: &Value) -> Diags {
    match get(config, "name") {
        Value::String(n) if n.trim().is_empty() || n.contains('/') => vec![error(
            "Invalid group name",
            "The group name must be non-empty and must not contain '/'.",
            Some(AttrPath::attr("name")),
        )],
        _ => vec![],
    }
}

pub fn plan(prior: &Value, config: &Value) -> (Value, Vec<AttrPath>) {
    let name = get(config, "name");
    let description = match get(config, "description") {
        Value::Null => Value::string(""),
        v => v,
    };
    let planned = Value::object([
        ("id", name.clone()),
        ("name", name.clone()),
        ("description", description),
    ]);
    let replace = if !prior.is_null() && get(prior, "name") != name {
        vec![AttrPath::attr("name")]
    } else {
        vec![]
    };
    (planned, replace)
}

fn state(doc: &GroupDoc) -> Value {
    Value::object([
        ("id", Value::string(&doc.name)),
        ("name", Value::string(&doc.name)),
        ("description", Value::string(&doc.description)),
    ])
}

pub async fn read(cfg: &Configured, current: &Value) -> Result<Value, Diags> {
    let Some(name) = get_str(current, "name") else {
        return Ok(Value::Null);
    };
    match cfg.client.get_group(&name).await {
        Ok(Some(doc)) => Ok(state(&doc)),
        Ok(None) => Ok(Value::Null),
        Err(e) => Err(client_diags("Cannot read group", e, &[])),
    }
}

pub async fn import(cfg: &Configured, id: &str) -> Result<Value, Diags> {
    match cfg.client.get_group(id).await {
        Ok(Some(doc)) => Ok(state(&doc)),
        Ok(None) => Err(vec![error(
            "Group not found",
            format!("The server has no group {id:?}."),
            None,
        )]),
        Err(e) => Err(client_diags("Cannot read group", e, &[])),
    }
}

pub async fn apply(cfg: &Configured, prior: &Value, planned: &Value) -> Result<Value, Diags> {
    if planned.is_null() {
        if let Some(name) = get_str(prior, "name") {
            cfg.client
                .delete_group(&name)
                .await
                .map_err(|e| client_diags("Cannot delete group", e, &[]))?;
        }
        return Ok(Value::Null);
    }
    let (Some(name), Some(description)) =
        (get_str(planned, "name"), get_str(planned, "description"))
    else {
        return Err(vec![error(
            "Group unknown at apply",
            "name and description must be known.",
            None,
        )]);
    };
    let doc = cfg
        .client
        .put_group(&name, &description)
        .await
        .map_err(|e| client_diags("Cannot apply group", e, &[]))?;
    Ok(state(&doc))
}
