//! The admin API's JSON documents, shared by the server (which produces them)
//! and the Terraform provider (which consumes them). With the `openapi`
//! feature each derives its JSON Schema (schemars), from which the server's
//! OpenAPI document takes its component schemas; the doc comments of the
//! types and fields are their descriptions there.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validate::Settings;

/// Where a provider's effective settings come from.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Built-in defaults, the TOML config file or `SSOPLANE__...` environment variables.
    System,
    /// Set through the admin API (and so through Terraform).
    Database,
}

/// One failing field of a request: `{"field": "saml.idp_metadata_url", "message": "..."}`.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every error response: a stable machine code, a human message, the failing
/// fields when the input was invalid, and the correlation id found in the logs.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "Error"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Also in the X-Request-Id header and the server's log lines.
    pub correlation_id: String,
}

/// The SP's own URLs for a provider. They follow from `root_url` and the
/// provider name alone, so they are known before anything is created (an
/// infrastructure repo feeds them to the IdP in the same apply).
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpEndpoints {
    pub entity_id: String,
    pub metadata_url: String,
    pub acs_url: String,
    pub slo_url: String,
    pub login_url: String,
}

impl SpEndpoints {
    /// `entity_id` is the configured one, or empty for the default (the metadata URL).
    pub fn derive(root_url: &str, provider: &str, entity_id: &str) -> Self {
        let root = root_url.trim_end_matches('/');
        let base = format!("{root}/saml/{provider}");
        let metadata_url = format!("{base}/metadata");
        SpEndpoints {
            entity_id: if entity_id.is_empty() {
                metadata_url.clone()
            } else {
                entity_id.to_owned()
            },
            acs_url: format!("{base}/acs"),
            slo_url: format!("{base}/slo"),
            login_url: format!("{base}/login"),
            metadata_url,
        }
    }
}

/// One provider's settings (`GET /api/v1/sso-settings/{provider}`).
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "SsoSettings"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SsoSettingsDoc {
    pub provider: String,
    pub source: Source,
    /// 0 while the provider only exists in file/env; increases by one with
    /// every API write. Also the ETag.
    pub version: i64,
    /// Every setting, defaults filled in; secrets masked with `*_fingerprint` beside them.
    #[cfg_attr(
        feature = "openapi",
        schemars(with = "crate::openapi::SamlSettingsSchema")
    )]
    pub settings: Settings,
    pub sp: SpEndpoints,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    /// `terraform` when the last write came from the Terraform provider
    /// (header `X-Ssoplane-Managed-By`); absent after writes by other clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
}

/// The request header a client sends on writes to mark the row as managed
/// by it; a write without it clears the marker.
pub const MANAGED_BY_HEADER: &str = "x-ssoplane-managed-by";
/// The marker the Terraform provider sends in [`MANAGED_BY_HEADER`].
pub const MANAGED_BY_TERRAFORM: &str = "terraform";

/// `PUT /api/v1/sso-settings/{provider}`: a full replace of the provider's settings.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutSsoSettings {
    /// Optional; when present it must equal the provider in the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schemars(with = "crate::openapi::SamlSettingsSchema")
    )]
    pub settings: Settings,
}

/// One entry of `GET /api/v1/sso-settings/{provider}/history`.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub version: i64,
    /// `put` or `delete`.
    #[cfg_attr(feature = "openapi", schemars(extend("enum" = ["put", "delete"])))]
    pub action: String,
    /// The name of the API token that made the change.
    pub actor: String,
    pub at: String,
    pub correlation_id: String,
    /// What changed; secret values are redacted to their fingerprints.
    pub changes: Vec<FieldChange>,
}

/// One setting a write changed, with its old and new value.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// A group logins may join (`GET/PUT /api/v1/groups/{name}`).
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "Group"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupDoc {
    pub name: String,
    pub description: String,
    pub members: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Grows with every write (one counter for all groups, so never reused
    /// by a group created again); also the ETag.
    #[serde(default)]
    pub version: i64,
    /// The API token that made the last write (empty before versions existed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated_by: String,
    /// `terraform` when the last write came from the Terraform provider
    /// (header `X-Ssoplane-Managed-By`); absent after writes by other clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
}

/// `PUT /api/v1/groups/{name}`: create or update a group.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutGroup {
    #[serde(default)]
    pub description: String,
}

/// A user (`GET /api/v1/users/{id}`).
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "User"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserDoc {
    pub id: String,
    pub login: String,
    pub email: String,
    pub name: String,
    pub external_uid: String,
    /// Where the user was created: the provider of their first login, `api`,
    /// `scim` or `local`. Never changed by later logins.
    pub provider: String,
    /// The API token that created the user; empty when a login did.
    #[serde(default)]
    pub created_by: String,
    /// Effective role: the highest any source grants.
    pub role: String,
    /// True when any source makes the user an admin.
    pub is_admin: bool,
    pub disabled: bool,
    /// Effective groups: the union of every source's memberships.
    pub groups: Vec<String>,
    /// Organization memberships from `org_mapping`, the union over sources
    /// with the highest role per organization.
    #[serde(default)]
    pub organizations: Vec<OrgMembership>,
    /// The identities that sign this user in.
    #[serde(default)]
    pub links: Vec<UserLink>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_at: Option<String>,
}

/// One identity of a user: a login through `provider` asserting `subject`
/// (of `kind` `external_uid`, `name_id` or `login`) signs in as this user.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLink {
    /// A provider slug, or `local` for the break-glass administrator.
    pub provider: String,
    #[cfg_attr(feature = "openapi", schemars(extend("enum" = ["external_uid", "name_id", "login"])))]
    pub kind: String,
    /// For `name_id`: the JSON array `[Format, NameQualifier, SPNameQualifier, value]`.
    pub subject: String,
    pub created_at: String,
}

/// `POST /api/v1/users`: a user created ahead of their first login.
/// Identity values follow the ACS's rules (no edge whitespace, no control
/// or format characters). With `external_uid`, `provider` names the one
/// provider whose assertion of it signs the user in; otherwise only a
/// provider's `link_existing_users` can link the user.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub login: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    /// Linked at once to `provider`: that provider's first login asserting
    /// it signs the user in.
    #[serde(default)]
    pub external_uid: String,
    /// Required with `external_uid`, used only with it.
    #[serde(default)]
    pub provider: String,
    /// Existing groups the user joins (as granted by `api`).
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A user's membership in an organization, with the role they hold there
/// (`admin`, `editor`, `viewer`, `none`).
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMembership {
    pub name: String,
    pub role: String,
}

/// `GET /api/v1/info`: who the server is and who the token is.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerInfo {
    pub version: String,
    /// Public base URL; the SP's URLs derive from it.
    pub root_url: String,
    pub token_name: String,
    /// `admin` or `reader`.
    #[cfg_attr(feature = "openapi", schemars(extend("enum" = ["admin", "reader"])))]
    pub token_role: String,
}

/// `PATCH /api/v1/users/{id}`: disable or re-enable a user.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    pub disabled: bool,
}

/// `GET /api/v1/me`: the user signed in with the session cookie.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Me {
    pub id: String,
    pub login: String,
    pub email: String,
    pub name: String,
    /// Effective role: the highest any source grants.
    pub role: String,
    /// True when any source makes the user an admin.
    pub is_admin: bool,
    /// Effective groups: the union of every source's memberships.
    pub groups: Vec<String>,
    /// The provider this session signed in through.
    pub provider: String,
    /// Organization memberships, the union over sources with the highest
    /// role per organization.
    pub organizations: Vec<OrgMembership>,
    /// Every identity that signs this user in.
    pub links: Vec<UserLink>,
}

/// One login, succeeded or failed (`GET /api/v1/login-events`).
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginEvent {
    pub provider: String,
    pub at: String,
    #[cfg_attr(feature = "openapi", schemars(extend("enum" = ["success", "failure"])))]
    pub outcome: String,
    /// `<check>: <detail>` for failures (check: xml_guard, validation,
    /// in_response_to, replay, unsolicited, audience, encryption,
    /// relay_state, mapping, authorization, identity_collision,
    /// provisioning, ...).
    pub reason: String,
    pub login: String,
    pub correlation_id: String,
}

/// One change a SCIM client made to a user or group (`GET /api/v1/audit`).
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: String,
    /// The name of the scim token that made the change.
    pub actor: String,
    /// The provider the token is bound to.
    pub provider: String,
    pub correlation_id: String,
    #[cfg_attr(feature = "openapi", schemars(extend("enum" = ["create", "replace", "patch", "delete"])))]
    pub action: String,
    #[cfg_attr(feature = "openapi", schemars(extend("enum" = ["User", "Group"])))]
    pub resource_type: String,
    pub resource_id: String,
    pub version: i64,
    /// `attributes` changed (names, not values); for groups
    /// `members_added` and `members_removed` (user ids).
    pub changes: Value,
}

/// `/healthz` and `/readyz`: `ok` or `ready`, and the store's backend.
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub status: String,
    /// `sqlite` or `postgres` (`/readyz` only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub store: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sp_endpoints_are_predictable() {
        let sp = SpEndpoints::derive("https://sso.example.com/", "okta", "");
        assert_eq!(sp.entity_id, "https://sso.example.com/saml/okta/metadata");
        assert_eq!(sp.acs_url, "https://sso.example.com/saml/okta/acs");
        assert_eq!(sp.slo_url, "https://sso.example.com/saml/okta/slo");
        let sp = SpEndpoints::derive("https://sso.example.com", "okta", "urn:ssoplane");
        assert_eq!(sp.entity_id, "urn:ssoplane");
    }
}
