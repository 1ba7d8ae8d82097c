//! What the declaration of a setting says: its kind (which fixes its JSON
//! shape, its typed Rust value, its validation and its console control),
//! its default, its section, label and help text.

use serde_json::Value;

use crate::choices::Choice;

/// What a field holds and how it is validated. The JSON shape follows from
/// it ([`Kind::shape`]), and so do the typed value in `SamlSettings` and the
/// console's control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// Free text (trimmed length limits only).
    Text,
    /// One of a fixed set of values.
    Enum(&'static [Choice]),
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

/// A field's JSON shape: what the API, Terraform (cty) and the config file carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Bool,
    String,
    /// A list of strings.
    List,
}

impl Kind {
    pub fn shape(self) -> Shape {
        match self {
            Kind::Bool => Shape::Bool,
            Kind::CertificatePemList
            | Kind::StringList
            | Kind::UriList
            | Kind::UrlPatternList
            | Kind::OrgMappingList => Shape::List,
            Kind::Text
            | Kind::Enum(_)
            | Kind::Duration { .. }
            | Kind::Url
            | Kind::Uri
            | Kind::Path
            | Kind::CertificatePem
            | Kind::PrivateKeyPem
            | Kind::Base64MetadataXml
            | Kind::AttributeTemplate => Shape::String,
        }
    }

    pub fn is_list(self) -> bool {
        self.shape() == Shape::List
    }

    /// Private keys are the secrets: never returned, stored encrypted.
    pub const fn is_secret(self) -> bool {
        matches!(self, Kind::PrivateKeyPem)
    }
}

/// The sections the docs, the provider and the console group fields in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    ServiceProvider,
    IdentityProvider,
    Flow,
    Mapping,
    Authorization,
}

impl Section {
    /// Every section, in documentation order.
    pub const ALL: [Section; 5] = [
        Section::ServiceProvider,
        Section::IdentityProvider,
        Section::Flow,
        Section::Mapping,
        Section::Authorization,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::ServiceProvider => "Service provider (ssoplane) identity",
            Section::IdentityProvider => "Identity provider",
            Section::Flow => "Login flow and protocol checks",
            Section::Mapping => "Assertion attribute mapping",
            Section::Authorization => "Authorization and provisioning",
        }
    }

    /// A stable identifier (HTML anchors, form ids).
    pub fn id(self) -> &'static str {
        match self {
            Section::ServiceProvider => "service_provider",
            Section::IdentityProvider => "identity_provider",
            Section::Flow => "flow",
            Section::Mapping => "mapping",
            Section::Authorization => "authorization",
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

/// One setting as declared in `fields.rs`.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    pub section: Section,
    /// Short name for forms (the console's field label).
    pub label: &'static str,
    /// Help text: the docs, the provider schema, the API schema and the console show it.
    pub description: &'static str,
    /// Never returned by the API; stored encrypted; a `<name>_fingerprint` is returned instead.
    pub secret: bool,
}

impl FieldSpec {
    pub fn fingerprint_name(&self) -> Option<String> {
        self.secret.then(|| format!("{}_fingerprint", self.name))
    }
}
