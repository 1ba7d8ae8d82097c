//! The one declaration of every SAML setting: name, kind, default, section,
//! label and help text, one entry each, in documentation order. The
//! `settings!` macro (`declare.rs`) derives from it the field table
//! [`FIELDS`], the name constants ([`name`]), each field's spec ([`spec`])
//! and the typed [`SamlSettings`]; validation, the API schema, the
//! Terraform schema, the docs and the console form (`form.rs`) read
//! [`FIELDS`]. A setting added here appears in all of them.
//!
//! Entry: `name: Kind = default, "Label", "Help text.";` where `Kind` is a
//! [`crate::spec::Kind`] variant, `Duration(min_secs, max_secs)` or
//! `Choice(Enum)` (an enum of `choices.rs`, its default written as a value).

use crate::choices::{
    AuthnContextComparison, Binding, LinkExisting, NameIdFormat, SignatureAlgorithm,
};
use crate::spec::FieldSpec;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

// The union of what the enterprise products we are measured against
// document (a metrics dashboard, ClearML with Microsoft AD, CloverDX,
// Cloudera AI).
settings! {
    ServiceProvider {
        enabled: Bool = false, "Enabled",
            "Offer this provider at login. A disabled provider keeps its settings and still serves its SP metadata at `/saml/{provider}/metadata` (the IdP needs it first); its login, ACS and SLO endpoints answer 404.";
        name: Text = "SAML", "Button label",
            "Label of the provider's button on the login page.";
        entity_id: Uri = "", "SP entity ID",
            "SP entity ID (some IdPs call it Identifier or Application ID). Empty means the SP metadata URL, `{root_url}/saml/{provider}/metadata`.";
        certificate: CertificatePem = "", "SP certificate",
            "PEM certificate of the SP, published in the SP metadata so the IdP can verify signed requests and encrypt assertions. Conflicts with `certificate_path`.";
        certificate_path: Path = "", "SP certificate file",
            "Path on the server to the SP certificate (PEM). Conflicts with `certificate`.";
        private_key: PrivateKeyPem = "", "SP private key",
            "PEM private key matching `certificate`: signs requests and decrypts assertions. Secret: never returned, stored encrypted. Conflicts with `private_key_path`.";
        private_key_path: Path = "", "SP private key file",
            "Path on the server to the SP private key (PEM). Conflicts with `private_key`.";
        encryption_certificate: CertificatePem = "", "Encryption certificate",
            "Optional separate PEM certificate the IdP encrypts assertions to. Empty means `certificate` is used for encryption as well.";
        encryption_private_key: PrivateKeyPem = "", "Encryption private key",
            "PEM private key matching `encryption_certificate`, used to decrypt assertions. Secret: never returned, stored encrypted.";
        signature_algorithm: Choice(SignatureAlgorithm) = SignatureAlgorithm::RsaSha256, "Signature algorithm",
            "Algorithm for signing requests: `rsa-sha256`, `rsa-sha512`, `ecdsa-sha256`; `rsa-sha1` only with `allow_sha1`.";
        allow_sha1: Bool = false, "Allow SHA-1",
            "Accept SHA-1 signatures and digests from the IdP and allow `rsa-sha1` for requests. Off by default: SHA-1 is broken.";
        sign_requests: Bool = false, "Sign requests",
            "Sign AuthnRequests and LogoutRequests with `private_key`. Requires a certificate and private key.";
        metadata_valid_duration: Duration(HOUR, 3650 * DAY) = "48h", "SP metadata validity",
            "How long the SP metadata stays valid: its `validUntil` is now plus this duration (e.g. `48h`).";
        name_id_format: Choice(NameIdFormat) = NameIdFormat::Transient, "NameID format",
            "NameID format requested from the IdP.";
        authn_context: UriList = [], "Authentication context classes",
            "Authentication context class references to request, e.g. `urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport`. Empty: none requested.";
        authn_context_comparison: Choice(AuthnContextComparison) = AuthnContextComparison::Exact, "Authentication context comparison",
            "Comparison the IdP applies to `authn_context`: `exact`, `minimum`, `maximum` or `better`.";
        force_authn: Bool = false, "Force re-authentication",
            "Ask the IdP to authenticate the user again even with an existing IdP session.";
    }
    IdentityProvider {
        idp_metadata: Base64MetadataXml = "", "IdP metadata XML",
            "IdP metadata XML, base64-encoded. Exactly one of `idp_metadata`, `idp_metadata_path`, `idp_metadata_url` or the manual `idp_entity_id` + `idp_sso_url` + `idp_certificates`.";
        idp_metadata_path: Path = "", "IdP metadata file",
            "Path on the server to the IdP metadata XML file.";
        idp_metadata_url: Url = "", "IdP metadata URL",
            "URL of the IdP metadata; fetched by the server, cached, and refreshed every `idp_metadata_refresh_interval` or sooner if its `validUntil` says so.";
        idp_metadata_refresh_interval: Duration(60, 7 * DAY) = "1h", "IdP metadata refresh interval",
            "How often metadata from `idp_metadata_url` is fetched again.";
        idp_entity_id: Uri = "", "IdP entity ID",
            "IdP entity ID. With manual configuration it is the expected Issuer; with metadata it selects one entity when the metadata holds several.";
        idp_sso_url: Url = "", "IdP single sign-on URL",
            "IdP single sign-on URL (manual configuration).";
        idp_slo_url: Url = "", "IdP single logout URL",
            "IdP single logout URL (manual configuration, or to override the metadata's).";
        idp_certificates: CertificatePemList = [], "IdP signing certificates",
            "IdP signing certificates (PEM), manual configuration. Several are accepted at once so a certificate can be rotated without downtime.";
        binding: Choice(Binding) = Binding::Redirect, "Request binding",
            "Binding used to send requests to the IdP: `HTTP-Redirect` or `HTTP-POST` (auto-submitting form). Responses always arrive by HTTP-POST.";
    }
    Flow {
        allow_idp_initiated: Bool = false, "Allow IdP-initiated login",
            "Accept unsolicited (IdP-initiated) responses. Off by default: they cannot be bound to a browser and are open to login CSRF.";
        relay_state: Text = "", "IdP-initiated RelayState",
            "RelayState the IdP sends with IdP-initiated logins; it must match when set. Only meaningful with `allow_idp_initiated`.";
        allowed_redirect_urls: UrlPatternList = [], "Allowed redirect URLs",
            "Off-site targets a RelayState may redirect to after login (`https://host[:port][/path-prefix]`, host may start with `*.`). Same-origin paths are always allowed.";
        auto_login: Bool = false, "Automatic login",
            "Send users straight to this IdP instead of showing the login page. Ignored when several providers set it.";
        single_logout: Bool = false, "Single logout",
            "Enable SAML single logout: logging out ends the IdP session too, and IdP-initiated logout ends ours.";
        send_logout_response: Bool = true, "Answer IdP logout requests",
            "Answer an IdP-initiated LogoutRequest with a LogoutResponse.";
        max_issue_delay: Duration(1, DAY) = "90s", "Maximum issue delay",
            "Longest accepted time between the IdP issuing a response and ssoplane processing it (replay and clock-skew protection).";
        clock_skew: Duration(0, HOUR) = "60s", "Clock skew",
            "Tolerated clock difference with the IdP when checking NotBefore/NotOnOrAfter.";
        strict: Bool = true, "Strict mode",
            "Reject messages that are unsigned or unencrypted where signing or encryption is expected, or that do not follow SAML 2.0 strictly.";
        want_assertions_encrypted: Bool = false, "Require encrypted assertions",
            "Require assertions to be encrypted (needs a decryption key: `encryption_private_key` or `private_key`).";
    }
    Mapping {
        assertion_attribute_login: AttributeTemplate = "", "Login attribute",
            "Attribute holding the login handle. Empty: the Entra ID name claim, `login`, `uid`, then the NameID.";
        assertion_attribute_email: AttributeTemplate = "", "Email attribute",
            "Attribute holding the email. Empty: the Entra ID emailaddress claim, `email`, `mail`, `emailAddress`.";
        assertion_attribute_name: AttributeTemplate = "", "Display name attribute",
            "Attribute holding the display name, or a template such as `$__saml{givenName} $__saml{surname}`. Empty: the Entra ID displayname claim, `displayName`, `name`.";
        assertion_attribute_groups: AttributeTemplate = "", "Groups attribute",
            "Attribute holding the user's groups. Empty: the Entra ID groups claim, `groups`, `Group`, `memberOf`.";
        assertion_attribute_role: AttributeTemplate = "", "Role attribute",
            "Attribute holding the user's role values, matched against `role_values_*` (e.g. `urn:oid:2.5.4.11`). Empty: the Entra ID role claim, `role`.";
        assertion_attribute_org: AttributeTemplate = "", "Organization attribute",
            "Attribute holding the user's organizations, used by `allowed_organizations` and `org_mapping`.";
        assertion_attribute_external_uid: AttributeTemplate = "", "External user ID attribute",
            "Attribute holding a stable external user id (e.g. the Entra ID objectidentifier claim) that links the user to SCIM provisioning. Empty: the Entra ID objectidentifier claim, `userUID`.";
    }
    Authorization {
        allow_sign_up: Bool = true, "Allow sign-up",
            "Create users on their first login. When false, only existing users may log in.";
        link_existing_users: Choice(LinkExisting) = LinkExisting::None, "Link existing users",
            "Whether a first login through this provider may be linked to a user who exists already with no identity from this provider (created by another provider, the API or SCIM): `none` refuses it as an identity collision when the login handle or email is taken; `by_login` links when the login handle is equal (exact, case-sensitive); `by_email` links when the email is equal (exact). Choose `by_login` or `by_email` only for an IdP trusted to assert those values for every user.";
        default_group: Text = "", "Default group",
            "Group every new user joins. It must exist: if it does not, the login fails and the error is logged.";
        allowed_groups: StringList = [], "Allowed groups",
            "Only members of at least one of these groups may log in. Empty: everyone the IdP authenticates.";
        admin_groups: StringList = [], "Admin groups",
            "Members of these groups are granted the admin role; they need not be listed in `allowed_groups` too.";
        groups_case_sensitive: Bool = true, "Case-sensitive group names",
            "Compare group names case-sensitively.";
        groups_from_dn: Bool = false, "Groups from distinguished names",
            "Group values are distinguished names: take the first CN (`CN=test,OU=unit,DC=mycomp` is group `test`).";
        prohibit_sign_up_if_not_in_group: Bool = false, "Sign-up only for known groups",
            "Refuse to create a user none of whose groups exists in ssoplane.";
        role_values_admin: StringList = [], "Admin role values",
            "Role attribute values that grant the admin role.";
        role_values_editor: StringList = [], "Editor role values",
            "Role attribute values that grant the editor role.";
        role_values_viewer: StringList = [], "Viewer role values",
            "Role attribute values that grant the viewer role.";
        role_values_none: StringList = [], "No-role values",
            "Role attribute values that grant no role.";
        role_attribute_strict: Bool = false, "Require a role",
            "Refuse the login when no role value matches.";
        allowed_organizations: StringList = [], "Allowed organizations",
            "Only members of at least one of these organizations may log in (needs `assertion_attribute_org`).";
        org_mapping: OrgMappingList = [], "Organization mapping",
            "Map organization attribute values to organizations and roles: `attribute_value:organization[:role]`, role one of Admin, Editor, Viewer, None; `*` matches any value.";
    }
}

pub fn field(name: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{DefaultValue, Kind, Shape};
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
            assert!(
                !f.label.is_empty() && !f.label.ends_with('.'),
                "{} label",
                f.name
            );
        }
    }

    #[test]
    fn defaults_match_kinds() {
        for f in FIELDS {
            match (f.kind.shape(), f.default) {
                (Shape::Bool, DefaultValue::Bool(_))
                | (Shape::List, DefaultValue::List(_))
                | (Shape::String, DefaultValue::Str(_)) => {}
                other => panic!("{}: default does not fit kind: {other:?}", f.name),
            }
            assert_eq!(f.secret, f.kind == Kind::PrivateKeyPem, "{}", f.name);
        }
    }

    #[test]
    fn name_constants_are_the_field_names() {
        assert_eq!(name::idp_metadata_url, "idp_metadata_url");
        assert_eq!(spec::max_issue_delay.name, name::max_issue_delay);
        assert_eq!(
            field(name::org_mapping).map(|f| f.name),
            Some("org_mapping")
        );
    }
}
