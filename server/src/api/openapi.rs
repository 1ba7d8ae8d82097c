//! The OpenAPI 3.1 document of the admin API, generated from the registered
//! routes and the settings field table. `ssoplane openapi` prints it; a test
//! keeps docs/openapi.json identical to it.

use serde_json::{json, Map, Value};
use ssoplane_schema::{FieldSpec, Kind, FIELDS};

use super::{Access, RouteSpec};

pub fn document(routes: &[RouteSpec]) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        if let Value::Object(ops) = entry {
            ops.insert(r.method.to_owned(), operation(r));
        }
    }
    json!({
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
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas(),
        }
    })
}

fn operation(r: &RouteSpec) -> Value {
    let mut op = json!({
        "operationId": r.operation_id,
        "summary": r.summary,
        "x-required-role": match r.access { Access::Public => "none", Access::Reader => "reader", Access::Admin => "admin" },
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
    if r.access != Access::Public {
        op["security"] = json!([{"bearer": []}]);
    }
    if let Some(schema) = r.request {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": reference(schema)}}});
    }
    let mut responses = Map::new();
    let (status, body) = r.response;
    let mut ok = json!({"description": "Success"});
    match body {
        Some(schema) => ok["content"] = json!({"application/json": {"schema": reference(schema)}}),
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
        responses.insert("201".into(), json!({"description": "Created", "content": {"application/json": {"schema": reference("Group")}}}));
    }
    for code in r.errors {
        responses.insert(
            code.to_string(),
            json!({"description": error_description(*code), "content": {"application/json": {"schema": reference("Error")}}}),
        );
    }
    op["responses"] = Value::Object(responses);
    op
}

fn error_description(code: u16) -> &'static str {
    match code {
        400 => "Invalid input; `errors` names each failing field",
        401 => "No token, or an unknown or revoked token",
        403 => "The token's role may not do this",
        404 => "Not found",
        409 => "Conflict with the current state",
        412 => "If-Match names a stale version, or If-None-Match: * found the resource existing; nothing was written",
        413 => "Request body too large",
        503 => "Not ready",
        _ => "Error",
    }
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn field_schema(f: &FieldSpec) -> Value {
    let mut s = match f.kind {
        Kind::Bool => json!({"type": "boolean"}),
        k if k.is_list() => json!({"type": "array", "items": {"type": "string"}}),
        Kind::Enum(choices) => {
            json!({"type": "string", "enum": choices.iter().map(|c| c.value).collect::<Vec<_>>()})
        }
        _ => json!({"type": "string"}),
    };
    s["description"] = Value::String(f.description.to_owned());
    s["default"] = f.default.to_json();
    if f.secret {
        s["writeOnly"] = Value::Bool(true);
    }
    s
}

fn saml_settings_schema() -> Value {
    let mut props = Map::new();
    for f in FIELDS {
        props.insert(f.name.to_owned(), field_schema(f));
        if let Some(fp) = f.fingerprint_name() {
            props.insert(
                fp,
                json!({"type": "string", "readOnly": true, "description": format!("SHA-256 fingerprint (`sha256:<hex>`) of `{}`; empty when unset.", f.name)}),
            );
        }
    }
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "A provider's SAML settings. Omitted fields take their defaults. Secrets are returned as `********` with a fingerprint; sending `********` back keeps the stored secret.",
        "properties": props
    })
}

fn schemas() -> Value {
    let string = json!({"type": "string"});
    json!({
        "SamlSettings": saml_settings_schema(),
        "SpEndpoints": {
            "type": "object",
            "description": "The SP's own URLs, derived from `server.root_url` and the provider name: known before anything is created.",
            "required": ["entity_id", "metadata_url", "acs_url", "slo_url", "login_url"],
            "properties": {"entity_id": string, "metadata_url": string, "acs_url": string, "slo_url": string, "login_url": string}
        },
        "SsoSettings": {
            "type": "object",
            "required": ["provider", "source", "version", "settings", "sp"],
            "properties": {
                "provider": string,
                "source": {"type": "string", "enum": ["system", "database"], "description": "`system`: defaults, config file or environment; `database`: set through the API."},
                "version": {"type": "integer", "description": "0 while only file/env define the provider; +1 with every API write. Also the ETag."},
                "settings": reference("SamlSettings"),
                "sp": reference("SpEndpoints"),
                "updated_at": string,
                "updated_by": string,
                "managed_by": {"type": "string", "description": "`terraform` when the last write came from the Terraform provider; absent after writes by other clients."}
            }
        },
        "SsoSettingsList": {"type": "array", "items": reference("SsoSettings")},
        "PutSsoSettings": {
            "type": "object",
            "required": ["settings"],
            "additionalProperties": false,
            "properties": {"provider": {"type": "string", "description": "Optional; must equal the path's provider."}, "settings": reference("SamlSettings")}
        },
        "FieldChange": {"type": "object", "required": ["field", "old", "new"], "properties": {"field": string, "old": {}, "new": {}}},
        "HistoryEntry": {
            "type": "object",
            "required": ["version", "action", "actor", "at", "correlation_id", "changes"],
            "properties": {
                "version": {"type": "integer"},
                "action": {"type": "string", "enum": ["put", "delete"]},
                "actor": string, "at": string, "correlation_id": string,
                "changes": {"type": "array", "items": reference("FieldChange")}
            }
        },
        "HistoryList": {"type": "array", "items": reference("HistoryEntry")},
        "Group": {
            "type": "object",
            "required": ["name", "description", "members", "created_at", "updated_at", "version"],
            "properties": {
                "name": string, "description": string, "members": {"type": "integer"}, "created_at": string, "updated_at": string,
                "version": {"type": "integer", "description": "Grows with every write (one counter for all groups, never reused). Also the ETag."},
                "updated_by": {"type": "string", "description": "The API token that made the last write."},
                "managed_by": {"type": "string", "description": "`terraform` when the last write came from the Terraform provider; absent after writes by other clients."}
            }
        },
        "GroupList": {"type": "array", "items": reference("Group")},
        "PutGroup": {"type": "object", "additionalProperties": false, "properties": {"description": string}},
        "User": {
            "type": "object",
            "required": ["id", "login", "email", "name", "external_uid", "provider", "created_by", "role", "is_admin", "disabled", "groups", "links", "created_at", "updated_at"],
            "properties": {
                "id": string, "login": string, "email": string, "name": string, "external_uid": string,
                "provider": {"type": "string", "description": "Where the user was created: the provider of their first login, `api`, `scim` or `local`. Later logins never change it."},
                "created_by": {"type": "string", "description": "The API token that created the user; empty when a login did."},
                "role": {"type": "string", "description": "Effective role: the highest any source (provider, `api`, `local`) grants."},
                "is_admin": {"type": "boolean", "description": "True when any source makes the user an admin."},
                "disabled": {"type": "boolean"},
                "groups": {"type": "array", "items": string, "description": "Effective groups: every source's memberships."},
                "organizations": {"type": "array", "items": {"type": "object", "required": ["name", "role"], "properties": {"name": string, "role": string}}},
                "links": {"type": "array", "items": reference("UserLink"), "description": "The identities that sign this user in."},
                "created_at": string, "updated_at": string, "last_login_at": string
            }
        },
        "UserLink": {
            "type": "object",
            "required": ["provider", "kind", "subject", "created_at"],
            "properties": {
                "provider": {"type": "string", "description": "A provider slug, or `local` for the break-glass administrator."},
                "kind": {"type": "string", "enum": ["external_uid", "name_id", "login"]},
                "subject": {"type": "string", "description": "The value asserted; for `name_id` the JSON array `[Format, NameQualifier, SPNameQualifier, value]`."},
                "created_at": string
            }
        },
        "CreateUser": {
            "type": "object",
            "required": ["login"],
            "additionalProperties": false,
            "description": "A user created ahead of their first login. Identity values follow the ACS's rules (no edge whitespace, no control or format characters, bounded length).",
            "properties": {
                "login": string, "email": string, "name": string,
                "external_uid": {"type": "string", "description": "Linked at once to `provider`: that provider's first login asserting it signs the user in."},
                "provider": {"type": "string", "description": "Required with `external_uid`, used only with it."},
                "groups": {"type": "array", "items": string, "description": "Existing groups the user joins, as granted by `api`."}
            }
        },
        "UserList": {"type": "array", "items": reference("User")},
        "LoginEvent": {
            "type": "object",
            "required": ["provider", "at", "outcome", "reason", "login", "correlation_id"],
            "properties": {
                "provider": string, "at": string,
                "outcome": {"type": "string", "enum": ["success", "failure"]},
                "reason": {"type": "string", "description": "`<check>: <detail>` for failures (check: xml_guard, validation, in_response_to, replay, unsolicited, audience, encryption, relay_state, mapping, authorization, identity_collision, provisioning, ...)."},
                "login": string, "correlation_id": string
            }
        },
        "LoginEventList": {"type": "array", "items": reference("LoginEvent")},
        "AuditEntry": {
            "type": "object",
            "required": ["at", "actor", "provider", "correlation_id", "action", "resource_type", "resource_id", "version", "changes"],
            "properties": {
                "at": string, "actor": {"type": "string", "description": "The name of the scim token that made the change."},
                "provider": {"type": "string", "description": "The provider the token is bound to."},
                "correlation_id": string,
                "action": {"type": "string", "enum": ["create", "replace", "patch", "delete"]},
                "resource_type": {"type": "string", "enum": ["User", "Group"]},
                "resource_id": string, "version": {"type": "integer"},
                "changes": {"type": "object", "description": "`attributes` changed (names, not values); for groups `members_added` and `members_removed` (user ids)."},
            }
        },
        "AuditList": {"type": "array", "items": reference("AuditEntry")},
        "PatchUser": {"type": "object", "required": ["disabled"], "additionalProperties": false, "properties": {"disabled": {"type": "boolean"}}},
        "FieldError": {"type": "object", "required": ["field", "message"], "properties": {"field": string, "message": string}},
        "Error": {
            "type": "object",
            "required": ["error", "message", "correlation_id"],
            "properties": {
                "error": {"type": "string", "description": "Stable machine-readable code."},
                "message": string,
                "errors": {"type": "array", "items": reference("FieldError")},
                "correlation_id": {"type": "string", "description": "Also in the X-Request-Id header and the server's log lines."}
            }
        },
        "Status": {"type": "object", "properties": {"status": string, "store": string}},
        "ServerInfo": {
            "type": "object",
            "required": ["version", "root_url", "token_name", "token_role"],
            "properties": {"version": string, "root_url": string, "token_name": string, "token_role": {"type": "string", "enum": ["admin", "reader"]}}
        }
    })
}

/// The document as committed in docs/openapi.json.
pub fn render(routes: &[RouteSpec]) -> String {
    let mut text = serde_json::to_string_pretty(&document(routes)).unwrap_or_default();
    text.push('\n');
    text
}
