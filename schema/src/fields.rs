//! The table of SAML settings: every field's name, JSON kind, default,
//! documentation and validation kind. Everything else (the typed struct, the
//! API's JSON, the provider schema, the docs) is derived from or checked
//! against this table.

use serde_json::Value;

/// What a field holds and how it is validated. The JSON type follows from it:
/// `Bool` is a boolean, the `*List` kinds are arrays of strings, the rest are strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// Free text (trimmed length limits only).
    Text,
    /// One of a fixed set of values.
    Enum(&'static [&'static str]),
    /// A Go-style duration such as `90s`, `1h`, `48h` within `[min, max]` seconds.
    Duration {
        min_secs: u64,
        max_secs: u64,
    },
    /// An absolute `http`/`https` URL.
    Url,
    /// An absolute URI (URL or URN), as used for entity IDs.
    Uri,
    /// A path on the server's file system.
    Path,
    /// One PEM-encoded X.509 certificate.
    CertificatePem,
    /// One PEM-encoded, unencrypted private key (RSA or EC). Always a secret.
    PrivateKeyPem,
    /// A list of PEM-encoded X.509 certificates (IdP signing certificates; several for rotation).
    CertificatePemList,
    /// Base64 of a SAML metadata XML document.
    Base64MetadataXml,
    /// An attribute name, or a template such as `$__saml{givenName} $__saml{surname}`.
    AttributeTemplate,
    /// A list of non-empty strings.
    StringList,
    /// A list of URIs (authentication context class references).
    UriList,
    /// A list of redirect targets: `https://host[:port][/path-prefix]`, host may start with `*.`.
    UrlPatternList,
    /// A list of `attribute_value:organization[:role]` entries.
    OrgMappingList,
}

impl Kind {
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Kind::CertificatePemList
                | Kind::StringList
                | Kind::UriList
                | Kind::UrlPatternList
                | Kind::OrgMappingList
        )
    }
}

/// How the documentation and the provider group the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    ServiceProvider,
    IdentityProvider,
    Flow,
    Mapping,
    Authorization,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::ServiceProvider => "Service provider (ssoplane) identity",
            Group::IdentityProvider => "Identity provider",
            Group::Flow => "Login flow and protocol checks",
            Group::Mapping => "Assertion attribute mapping",
            Group::Authorization => "Authorization and provisioning",
        }
    }
}

/// A field's default, written so the table can be `const`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Bool(bool),
    Str(&'static str),
    List(&'static [&'static str]),
}

impl DefaultValue {
    pub fn to_json(self) -> Value {
        match self {
            DefaultValue::Bool(b) => Value::Bool(b),
            DefaultValue::Str(s) => Value::String(s.to_owned()),
            DefaultValue::List(items) => Value::Array(
                items
                    .iter()
                    .map(|s| Value::String((*s).to_owned()))
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    pub group: Group,
    /// Never returned by the API; stored encrypted; a `<name>_fingerprint` is returned instead.
    pub secret: bool,
    pub description: &'static str,
}

impl FieldSpec {
    pub fn fingerprint_name(&self) -> Option<String> {
        self.secret.then(|| format!("{}_fingerprint", self.name))
    }
}

pub const NAME_ID_FORMATS: &[&str] = &[
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
];

pub const SIGNATURE_ALGORITHMS: &[&str] = &["rsa-sha256", "rsa-sha512", "ecdsa-sha256", "rsa-sha1"];

pub const BINDINGS: &[&str] = &["HTTP-Redirect", "HTTP-POST"];

pub const AUTHN_CONTEXT_COMPARISONS: &[&str] = &["exact", "minimum", "maximum", "better"];

pub const ORG_ROLES: &[&str] = &["Admin", "Editor", "Viewer", "None"];

/// Values of `link_existing_users`, the weakest first.
pub const LINK_EXISTING_USERS: &[&str] = &["none", "by_login", "by_email"];

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

macro_rules! field {
    ($name:literal, $kind:expr, $default:expr, $group:ident, $desc:literal) => {
        FieldSpec {
            name: $name,
            kind: $kind,
            default: $default,
            group: Group::$group,
            secret: false,
            description: $desc,
        }
    };
    (secret $name:literal, $kind:expr, $default:expr, $group:ident, $desc:literal) => {
        FieldSpec {
            name: $name,
            kind: $kind,
            default: $default,
            group: Group::$group,
            secret: true,
            description: $desc,
        }
    };
}

use self::DefaultValue::{Bool, List, Str};

/// Every SAML setting, in documentation order. The union of what the
/// enterprise products we are measured against document (a metrics dashboard,
/// ClearML with Microsoft AD, CloverDX, Cloudera AI).
pub const FIELDS: &[FieldSpec] = &[
    // --- Service provider identity ---
    field!("enabled", Kind::Bool, Bool(false), ServiceProvider,
        "Offer this provider at login. A disabled provider keeps its settings and still serves its SP metadata at `/saml/{provider}/metadata` (the IdP needs it first); its login, ACS and SLO endpoints answer 404."),
    field!("name", Kind::Text, Str("SAML"), ServiceProvider,
        "Label of the provider's button on the login page."),
    field!("entity_id", Kind::Uri, Str(""), ServiceProvider,
        "SP entity ID (some IdPs call it Identifier or Application ID). Empty means the SP metadata URL, `{root_url}/saml/{provider}/metadata`."),
    field!("certificate", Kind::CertificatePem, Str(""), ServiceProvider,
        "PEM certificate of the SP, published in the SP metadata so the IdP can verify signed requests and encrypt assertions. Conflicts with `certificate_path`."),
    field!("certificate_path", Kind::Path, Str(""), ServiceProvider,
        "Path on the server to the SP certificate (PEM). Conflicts with `certificate`."),
    field!(secret "private_key", Kind::PrivateKeyPem, Str(""), ServiceProvider,
        "PEM private key matching `certificate`: signs requests and decrypts assertions. Secret: never returned, stored encrypted. Conflicts with `private_key_path`."),
    field!("private_key_path", Kind::Path, Str(""), ServiceProvider,
        "Path on the server to the SP private key (PEM). Conflicts with `private_key`."),
    field!("encryption_certificate", Kind::CertificatePem, Str(""), ServiceProvider,
        "Optional separate PEM certificate the IdP encrypts assertions to. Empty means `certificate` is used for encryption as well."),
    field!(secret "encryption_private_key", Kind::PrivateKeyPem, Str(""), ServiceProvider,
        "PEM private key matching `encryption_certificate`, used to decrypt assertions. Secret: never returned, stored encrypted."),
    field!("signature_algorithm", Kind::Enum(SIGNATURE_ALGORITHMS), Str("rsa-sha256"), ServiceProvider,
        "Algorithm for signing requests: `rsa-sha256`, `rsa-sha512`, `ecdsa-sha256`; `rsa-sha1` only with `allow_sha1`."),
    field!("allow_sha1", Kind::Bool, Bool(false), ServiceProvider,
        "Accept SHA-1 signatures and digests from the IdP and allow `rsa-sha1` for requests. Off by default: SHA-1 is broken."),
    field!("sign_requests", Kind::Bool, Bool(false), ServiceProvider,
        "Sign AuthnRequests and LogoutRequests with `private_key`. Requires a certificate and private key."),
    field!("metadata_valid_duration", Kind::Duration { min_secs: HOUR, max_secs: 3650 * DAY }, Str("48h"), ServiceProvider,
        "How long the SP metadata stays valid: its `validUntil` is now plus this duration (e.g. `48h`)."),
    field!("name_id_format", Kind::Enum(NAME_ID_FORMATS), Str("urn:oasis:names:tc:SAML:2.0:nameid-format:transient"), ServiceProvider,
        "NameID format requested from the IdP."),
    field!("authn_context", Kind::UriList, List(&[]), ServiceProvider,
        "Authentication context class references to request, e.g. `urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport`. Empty: none requested."),
    field!("authn_context_comparison", Kind::Enum(AUTHN_CONTEXT_COMPARISONS), Str("exact"), ServiceProvider,
        "Comparison the IdP applies to `authn_context`: `exact`, `minimum`, `maximum` or `better`."),
    field!("force_authn", Kind::Bool, Bool(false), ServiceProvider,
        "Ask the IdP to authenticate the user again even with an existing IdP session."),
    // --- Identity provider ---
    field!("idp_metadata", Kind::Base64MetadataXml, Str(""), IdentityProvider,
        "IdP metadata XML, base64-encoded. Exactly one of `idp_metadata`, `idp_metadata_path`, `idp_metadata_url` or the manual `idp_entity_id` + `idp_sso_url` + `idp_certificates`."),
    field!("idp_metadata_path", Kind::Path, Str(""), IdentityProvider,
        "Path on the server to the IdP metadata XML file."),
    field!("idp_metadata_url", Kind::Url, Str(""), IdentityProvider,
        "URL of the IdP metadata; fetched by the server, cached, and refreshed every `idp_metadata_refresh_interval` or sooner if its `validUntil` says so."),
    field!("idp_metadata_refresh_interval", Kind::Duration { min_secs: 60, max_secs: 7 * DAY }, Str("1h"), IdentityProvider,
        "How often metadata from `idp_metadata_url` is fetched again."),
    field!("idp_entity_id", Kind::Uri, Str(""), IdentityProvider,
        "IdP entity ID. With manual configuration it is the expected Issuer; with metadata it selects one entity when the metadata holds several."),
    field!("idp_sso_url", Kind::Url, Str(""), IdentityProvider,
        "IdP single sign-on URL (manual configuration)."),
    field!("idp_slo_url", Kind::Url, Str(""), IdentityProvider,
        "IdP single logout URL (manual configuration, or to override the metadata's)."),
    field!("idp_certificates", Kind::CertificatePemList, List(&[]), IdentityProvider,
        "IdP signing certificates (PEM), manual configuration. Several are accepted at once so a certificate can be rotated without downtime."),
    field!("binding", Kind::Enum(BINDINGS), Str("HTTP-Redirect"), IdentityProvider,
        "Binding used to send requests to the IdP: `HTTP-Redirect` or `HTTP-POST` (auto-submitting form). Responses always arrive by HTTP-POST."),
    // --- Flow ---
    field!("allow_idp_initiated", Kind::Bool, Bool(false), Flow,
        "Accept unsolicited (IdP-initiated) responses. Off by default: they cannot be bound to a browser and are open to login CSRF."),
    field!("relay_state", Kind::Text, Str(""), Flow,
        "RelayState the IdP sends with IdP-initiated logins; it must match when set. Only meaningful with `allow_idp_initiated`."),
    field!("allowed_redirect_urls", Kind::UrlPatternList, List(&[]), Flow,
        "Off-site targets a RelayState may redirect to after login (`https://host[:port][/path-prefix]`, host may start with `*.`). Same-origin paths are always allowed."),
    field!("auto_login", Kind::Bool, Bool(false), Flow,
        "Send users straight to this IdP instead of showing the login page. Ignored when several providers set it."),
    field!("single_logout", Kind::Bool, Bool(false), Flow,
        "Enable SAML single logout: logging out ends the IdP session too, and IdP-initiated logout ends ours."),
    field!("send_logout_response", Kind::Bool, Bool(true), Flow,
        "Answer an IdP-initiated LogoutRequest with a LogoutResponse."),
    field!("max_issue_delay", Kind::Duration { min_secs: 1, max_secs: DAY }, Str("90s"), Flow,
        "Longest accepted time between the IdP issuing a response and ssoplane processing it (replay and clock-skew protection)."),
    field!("clock_skew", Kind::Duration { min_secs: 0, max_secs: HOUR }, Str("60s"), Flow,
        "Tolerated clock difference with the IdP when checking NotBefore/NotOnOrAfter."),
    field!("strict", Kind::Bool, Bool(true), Flow,
        "Reject messages that are unsigned or unencrypted where signing or encryption is expected, or that do not follow SAML 2.0 strictly."),
    field!("want_assertions_encrypted", Kind::Bool, Bool(false), Flow,
        "Require assertions to be encrypted (needs a decryption key: `encryption_private_key` or `private_key`)."),
    // --- Mapping ---
    field!("assertion_attribute_login", Kind::AttributeTemplate, Str(""), Mapping,
        "Attribute holding the login handle. Empty: the Entra ID name claim, `login`, `uid`, then the NameID."),
    field!("assertion_attribute_email", Kind::AttributeTemplate, Str(""), Mapping,
        "Attribute holding the email. Empty: the Entra ID emailaddress claim, `email`, `mail`, `emailAddress`."),
    field!("assertion_attribute_name", Kind::AttributeTemplate, Str(""), Mapping,
        "Attribute holding the display name, or a template such as `$__saml{givenName} $__saml{surname}`. Empty: the Entra ID displayname claim, `displayName`, `name`."),
    field!("assertion_attribute_groups", Kind::AttributeTemplate, Str(""), Mapping,
        "Attribute holding the user's groups. Empty: the Entra ID groups claim, `groups`, `Group`, `memberOf`."),
    field!("assertion_attribute_role", Kind::AttributeTemplate, Str(""), Mapping,
        "Attribute holding the user's role values, matched against `role_values_*` (e.g. `urn:oid:2.5.4.11`). Empty: the Entra ID role claim, `role`."),
    field!("assertion_attribute_org", Kind::AttributeTemplate, Str(""), Mapping,
        "Attribute holding the user's organizations, used by `allowed_organizations` and `org_mapping`."),
    field!("assertion_attribute_external_uid", Kind::AttributeTemplate, Str(""), Mapping,
        "Attribute holding a stable external user id (e.g. the Entra ID objectidentifier claim) that links the user to SCIM provisioning. Empty: the Entra ID objectidentifier claim, `userUID`."),
    // --- Authorization ---
    field!("allow_sign_up", Kind::Bool, Bool(true), Authorization,
        "Create users on their first login. When false, only existing users may log in."),
    field!("link_existing_users", Kind::Enum(LINK_EXISTING_USERS), Str("none"), Authorization,
        "Whether a first login through this provider may be linked to a user who exists already with no identity from this provider (created by another provider, the API or SCIM): `none` refuses it as an identity collision when the login handle or email is taken; `by_login` links when the login handle is equal (exact, case-sensitive); `by_email` links when the email is equal (exact). Choose `by_login` or `by_email` only for an IdP trusted to assert those values for every user."),
    field!("default_group", Kind::Text, Str(""), Authorization,
        "Group every new user joins. It must exist: if it does not, the login fails and the error is logged."),
    field!("allowed_groups", Kind::StringList, List(&[]), Authorization,
        "Only members of at least one of these groups may log in. Empty: everyone the IdP authenticates."),
    field!("admin_groups", Kind::StringList, List(&[]), Authorization,
        "Members of these groups are granted the admin role; they need not be listed in `allowed_groups` too."),
    field!("groups_case_sensitive", Kind::Bool, Bool(true), Authorization,
        "Compare group names case-sensitively."),
    field!("groups_from_dn", Kind::Bool, Bool(false), Authorization,
        "Group values are distinguished names: take the first CN (`CN=test,OU=unit,DC=mycomp` is group `test`)."),
    field!("prohibit_sign_up_if_not_in_group", Kind::Bool, Bool(false), Authorization,
        "Refuse to create a user none of whose groups exists in ssoplane."),
    field!("role_values_admin", Kind::StringList, List(&[]), Authorization,
        "Role attribute values that grant the admin role."),
    field!("role_values_editor", Kind::StringList, List(&[]), Authorization,
        "Role attribute values that grant the editor role."),
    field!("role_values_viewer", Kind::StringList, List(&[]), Authorization,
        "Role attribute values that grant the viewer role."),
    field!("role_values_none", Kind::StringList, List(&[]), Authorization,
        "Role attribute values that grant no role."),
    field!("role_attribute_strict", Kind::Bool, Bool(false), Authorization,
        "Refuse the login when no role value matches."),
    field!("allowed_organizations", Kind::StringList, List(&[]), Authorization,
        "Only members of at least one of these organizations may log in (needs `assertion_attribute_org`)."),
    field!("org_mapping", Kind::OrgMappingList, List(&[]), Authorization,
        "Map organization attribute values to organizations and roles: `attribute_value:organization[:role]`, role one of Admin, Editor, Viewer, None; `*` matches any value."),
];

pub fn field(name: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_snake_case_and_documented() {
        let mut seen = HashSet::new();
        for f in FIELDS {
            assert!(seen.insert(f.name), "duplicate field {}", f.name);
            assert!(
                f.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{} is not snake_case",
                f.name
            );
            assert!(f.description.ends_with('.'), "{} description", f.name);
        }
    }

    #[test]
    fn defaults_match_kinds() {
        for f in FIELDS {
            match (f.kind, f.default) {
                (Kind::Bool, DefaultValue::Bool(_)) => {}
                (k, DefaultValue::List(_)) if k.is_list() => {}
                (k, DefaultValue::Str(_)) if k != Kind::Bool && !k.is_list() => {}
                other => panic!("{}: default does not fit kind: {other:?}", f.name),
            }
            if f.secret {
                assert_eq!(f.kind, Kind::PrivateKeyPem, "{}", f.name);
            }
        }
    }
}
