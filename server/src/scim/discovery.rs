//! The discovery documents (RFC 7644 §4): `ServiceProviderConfig`,
//! `ResourceTypes` and `Schemas`, built from the declared schema so they
//! describe exactly what the endpoints do.

use serde_json::{json, Value};

use super::list::MAX_COUNT;
use super::schema::{Kind, ALL_SCHEMAS, GROUPS, USERS};

pub const KINDS: [&Kind; 2] = [&USERS, &GROUPS];

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A token made with `ssoplane token create --role scim --provider <provider>`.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    KINDS
        .iter()
        .map(|k| k.resource_type_document(base))
        .collect()
}

pub fn resource_type(base: &str, id: &str) -> Option<Value> {
    KINDS
        .iter()
        .find(|k| k.name == id)
        .map(|k| k.resource_type_document(base))
}

pub fn schemas(base: &str) -> Vec<Value> {
    ALL_SCHEMAS.iter().map(|s| s.document(base)).collect()
}

pub fn schema(base: &str, id: &str) -> Option<Value> {
    ALL_SCHEMAS
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.document(base))
}

/// A ListResponse of every document (discovery collections are small).
pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}
