//! The OpenAPI 3.1 document of the admin API, generated from the registered
//! routes; its component schemas are derived from the API's types
//! (`ssoplane_schema::api`, schemars, with the settings object from the
//! field table). `ssoplane openapi` prints it; a test keeps docs/openapi.json
//! identical to it.

use serde_json::{json, Map, Value};
use ssoplane_schema::api::ErrorBody;
use ssoplane_schema::openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use ssoplane_schema::openapi::schemars::Schema;

use super::{Access, RouteSpec};
use crate::web::cookies;

/// One generator for what clients send (deserialized: fields with defaults
/// are optional) and one for what the server answers (serialized: every
/// field not skipped is present). OpenAPI 3.1 takes JSON Schema 2020-12 as
/// it is; only the place of the definitions differs.
struct Generators {
    requests: SchemaGenerator,
    responses: SchemaGenerator,
}

impl Generators {
    fn new() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        Generators {
            requests: settings.clone().for_deserialize().into_generator(),
            responses: settings.for_serialize().into_generator(),
        }
    }

    /// Every component schema the operations referred to. A type that is
    /// both sent and answered must have one schema for both: its name is
    /// its one reference.
    fn components(mut self) -> Result<Map<String, Value>, OpenApiError> {
        let mut all = self.requests.take_definitions(true);
        for (name, schema) in self.responses.take_definitions(true) {
            match all.get(&name) {
                Some(sent) if *sent != schema => return Err(OpenApiError::Collision(name)),
                Some(_) => {}
                None => {
                    all.insert(name, schema);
                }
            }
        }
        Ok(all)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    #[error("component schema {0} differs between requests and responses (fields with serde defaults or skips); give the request its own type")]
    Collision(String),
    #[error("cannot render the document: {0}")]
    Json(#[from] serde_json::Error),
}

pub fn document(routes: &[RouteSpec]) -> Result<Value, OpenApiError> {
    let mut generators = Generators::new();
    let mut paths = Map::new();
    for r in routes {
        let op = operation(r, &mut generators);
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        if let Value::Object(ops) = entry {
            ops.insert(r.method.to_owned(), op);
        }
    }
    Ok(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ssoplane admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Admin API of the ssoplane SSO control plane. Authenticate with `Authorization: Bearer <token>` \
                (create tokens with `ssoplane token create --name NAME --role admin|reader`). Reader tokens may read; \
                only admin tokens write; scim tokens reach SCIM 2.0 at /scim/v2 only (see docs/scim.md), never this API. Every response carries `X-Request-Id`, the correlation id also found in error bodies and logs."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": cookies::SESSION, "description": "The session cookie a browser holds after signing in."}
            },
            "schemas": generators.components()?,
        }
    }))
}

fn operation(r: &RouteSpec, generators: &mut Generators) -> Value {
    let mut op = json!({
        "operationId": r.operation_id,
        "summary": r.summary,
        "x-required-role": match r.access {
            Access::Public => "none",
            Access::Reader => "reader",
            Access::Admin => "admin",
            Access::Session => "session",
        },
    });
    let mut params = Vec::new();
    for segment in r.path.split('/').filter(|s| s.starts_with('{')) {
        let name = segment.trim_matches(|c| c == '{' || c == '}');
        params.push(
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
        );
    }
    for (name, description) in r.query {
        params.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "integer"}}));
    }
    if r.versioned && r.method != "get" {
        params.push(json!({
            "name": "If-Match", "in": "header", "required": false,
            "description": "The ETag (version) the change is based on, or `*`. A stale version is refused with 412 and nothing is written.",
            "schema": {"type": "string"}
        }));
    }
    if r.versioned && r.method == "put" {
        params.push(json!({
            "name": "If-None-Match", "in": "header", "required": false,
            "description": "`*`: create only. Refused with 412 (nothing written) when the resource already exists; not combinable with If-Match.",
            "schema": {"type": "string", "enum": ["*"]}
        }));
        params.push(json!({
            "name": ssoplane_schema::api::MANAGED_BY_HEADER, "in": "header", "required": false,
            "description": "The client claiming the resource, e.g. `terraform` (1-32 of `a-z0-9_-`); stored and returned as `managed_by`. A write without it clears the marker.",
            "schema": {"type": "string"}
        }));
    }
    if !params.is_empty() {
        op["parameters"] = Value::Array(params);
    }
    match r.access {
        Access::Public => {}
        Access::Reader | Access::Admin => op["security"] = json!([{"bearer": []}]),
        Access::Session => op["security"] = json!([{"session": []}]),
    }
    if let Some(schema) = r.request {
        let schema = schema(&mut generators.requests);
        op["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema}}});
    }
    let mut responses = Map::new();
    let (status, body) = r.response;
    let body: Option<Schema> = body.map(|schema| schema(&mut generators.responses));
    let mut ok = json!({"description": "Success"});
    match &body {
        Some(schema) => ok["content"] = json!({"application/json": {"schema": schema}}),
        None if r.path == "/metrics" => {
            ok["content"] = json!({"text/plain": {"schema": {"type": "string"}}})
        }
        None => {}
    }
    if r.versioned && status != 204 {
        ok["headers"] = json!({"ETag": {"description": "The version, quoted: \"3\".", "schema": {"type": "string"}}});
    }
    responses.insert(status.to_string(), ok);
    if r.path == "/api/v1/groups/{name}" && r.method == "put" {
        responses.insert(
            "201".into(),
            json!({"description": "Created", "content": {"application/json": {"schema": body}}}),
        );
    }
    let error = generators.responses.subschema_for::<ErrorBody>();
    for code in r.error_statuses() {
        responses.insert(
            code.to_string(),
            json!({"description": error_description(code, r.access), "content": {"application/json": {"schema": error}}}),
        );
    }
    op["responses"] = Value::Object(responses);
    op
}

fn error_description(code: u16, access: Access) -> &'static str {
    match code {
        400 => "Invalid input; `errors` names each failing field",
        401 if access == Access::Session => "No valid session cookie",
        401 => "No token, or an unknown or revoked token",
        403 => "The token's role may not do this: reader tokens only read, scim tokens reach /scim/v2 only",
        404 => "Not found",
        409 => "Conflict with the current state",
        412 => "If-Match names a stale version, or If-None-Match: * found the resource existing; nothing was written",
        413 => "Request body too large",
        503 => "Not ready (the store is unreachable)",
        _ => "Error",
    }
}

/// The document as committed in docs/openapi.json.
pub fn render(routes: &[RouteSpec]) -> Result<String, OpenApiError> {
    let mut text = serde_json::to_string_pretty(&document(routes)?)?;
    text.push('\n');
    Ok(text)
}
