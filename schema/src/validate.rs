//! Normalization and validation of a provider's SAML settings. Each error names
//! the failing field (`saml.<field>` or `saml.<field>[i]`) and says why,
//! without echoing secret values.

use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{Map, Value};

use crate::api::FieldError;
use crate::choices::{self, SignatureAlgorithm};
use crate::durations;
use crate::fields::{self, name, FIELDS};
use crate::org_mapping::OrgRule;
use crate::pem::{self, KeyKind};
use crate::spec::{FieldSpec, Kind, Shape};

/// A provider's settings as JSON: field name → value.
pub type Settings = Map<String, Value>;

/// Prefix of every field path in errors: `saml.idp_metadata_url`.
pub const PATH_PREFIX: &str = "saml";

pub fn path(field: &str) -> String {
    format!("{PATH_PREFIX}.{field}")
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: path(field),
        message: message.into(),
    }
}

fn item_err(field: &str, index: usize, message: impl Into<String>) -> FieldError {
    FieldError {
        field: format!("{}[{index}]", path(field)),
        message: message.into(),
    }
}

const MAX_TEXT: usize = 1024;
const MAX_PEM: usize = 64 * 1024;
const MAX_METADATA: usize = 2 * 1024 * 1024;
const MAX_LIST: usize = 256;

/// Fills defaults and checks JSON types. Unknown fields are errors; `null`
/// means "the default"; `<secret>_fingerprint` keys (read-only, returned by
/// GET) are accepted and dropped so a GET → PUT round trip works.
pub fn normalize(input: &Settings) -> Result<Settings, Vec<FieldError>> {
    let mut errors = Vec::new();
    for key in input.keys() {
        let is_field = fields::field(key).is_some();
        let is_fingerprint = FIELDS
            .iter()
            .any(|f| f.fingerprint_name().as_deref() == Some(key));
        if !is_field && !is_fingerprint {
            let hint = closest(key)
                .map(|c| format!("; did you mean \"{c}\"?"))
                .unwrap_or_default();
            errors.push(FieldError {
                field: path(key),
                message: format!("unknown setting{hint}"),
            });
        }
    }
    let mut out = Map::new();
    for f in FIELDS {
        let value = match input.get(f.name) {
            None | Some(Value::Null) => f.default.to_json(),
            Some(v) => match coerce(f, v) {
                Ok(v) => v,
                Err(message) => {
                    errors.push(err(f.name, message));
                    continue;
                }
            },
        };
        out.insert(f.name.to_owned(), value);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn coerce(f: &FieldSpec, v: &Value) -> Result<Value, String> {
    match (f.kind.shape(), v) {
        (Shape::Bool, Value::Bool(_)) => Ok(v.clone()),
        (Shape::Bool, _) => Err("must be a boolean".into()),
        (Shape::List, Value::Array(items)) => {
            if items.len() > MAX_LIST {
                return Err(format!("must have at most {MAX_LIST} items"));
            }
            if items.iter().all(Value::is_string) {
                Ok(v.clone())
            } else {
                Err("must be a list of strings".into())
            }
        }
        (Shape::List, _) => Err("must be a list of strings".into()),
        (Shape::String, Value::String(_)) => Ok(v.clone()),
        (Shape::String, _) => Err("must be a string".into()),
    }
}

/// Every field at its default: what a provider without settings has.
pub fn defaults() -> Settings {
    FIELDS
        .iter()
        .map(|f| (f.name.to_owned(), f.default.to_json()))
        .collect()
}

fn closest(unknown: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .map(|f| (strsim(unknown, f.name), f.name))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance, for "did you mean" hints only.
fn strsim(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Checks a decoded IdP metadata document (inline `idp_metadata` after
/// base64, or the file `idp_metadata_path` names). `Err` is the message of
/// the field error, one of [`metadata_message`]'s, whichever parser made it.
pub type MetadataCheck = fn(&str) -> Result<(), String>;

/// The messages of a refused metadata document, shared by every
/// [`MetadataCheck`] so API users see the same error from either parser.
pub mod metadata_message {
    use super::METADATA_NS;

    /// Followed by `: <the parser's reason>`.
    pub const NOT_XML: &str = "is not well-formed XML without DTD";
    pub fn not_metadata() -> String {
        format!(
            "is not SAML metadata: the root element must be md:EntityDescriptor or md:EntitiesDescriptor in namespace {METADATA_NS}"
        )
    }
    pub const NO_IDP: &str = "holds no IDPSSODescriptor: it is not an identity provider's metadata";
}

/// Normalizes and validates in one go, metadata checked with roxmltree.
#[cfg(feature = "metadata-xml")]
pub fn check(input: &Settings) -> Result<Settings, Vec<FieldError>> {
    check_with(input, check_metadata_xml)
}

/// Normalizes and validates in one go, metadata checked by `metadata`.
pub fn check_with(input: &Settings, metadata: MetadataCheck) -> Result<Settings, Vec<FieldError>> {
    let settings = normalize(input)?;
    let errors = validate_with(&settings, &BTreeSet::new(), metadata);
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(errors)
    }
}

/// Validates a normalized map. Fields named in `unknown` (values not yet known,
/// as at Terraform plan time) are skipped, and so are the cross-field rules that
/// involve them. Metadata is checked with roxmltree.
#[cfg(feature = "metadata-xml")]
pub fn validate(s: &Settings, unknown: &BTreeSet<String>) -> Vec<FieldError> {
    validate_with(s, unknown, check_metadata_xml)
}

/// [`validate`], metadata checked by `metadata`.
pub fn validate_with(
    s: &Settings,
    unknown: &BTreeSet<String>,
    metadata: MetadataCheck,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for f in FIELDS {
        if unknown.contains(f.name) {
            continue;
        }
        if let Some(v) = s.get(f.name) {
            check_field(f, v, metadata, &mut errors);
        }
    }
    let v = View { s, unknown };
    cross_field(&v, &mut errors);
    errors
}

fn check_field(f: &FieldSpec, v: &Value, metadata: MetadataCheck, errors: &mut Vec<FieldError>) {
    if f.kind.is_list() {
        let items: Vec<&str> = v
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            if item.trim().is_empty() {
                errors.push(item_err(f.name, i, "must not be empty"));
                continue;
            }
            if !seen.insert(*item) {
                errors.push(item_err(f.name, i, "is listed twice"));
                continue;
            }
            if let Err(message) = check_item(f.kind, item) {
                errors.push(item_err(f.name, i, message));
            }
        }
        return;
    }
    let text = match v {
        Value::String(s) => s.as_str(),
        _ => return,
    };
    if text.is_empty() {
        return;
    }
    let result = match f.kind {
        Kind::Text | Kind::Path | Kind::AttributeTemplate if text.len() > MAX_TEXT => {
            Err(format!("must be at most {MAX_TEXT} characters"))
        }
        Kind::Text => Ok(()),
        Kind::Path => {
            if text.contains('\0') {
                Err("must not contain NUL characters".into())
            } else {
                Ok(())
            }
        }
        Kind::Enum(allowed) => {
            if choices::values(allowed).any(|v| v == text) {
                Ok(())
            } else {
                Err(format!(
                    "must be one of: {}",
                    choices::values(allowed).collect::<Vec<_>>().join(", ")
                ))
            }
        }
        Kind::Duration { min_secs, max_secs } => durations::parse_bounded(text, min_secs, max_secs)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Kind::Url => check_url(text),
        Kind::Uri => check_uri(text),
        Kind::CertificatePem => check_size(text, MAX_PEM).and_then(|_| {
            pem::parse_certificate(text)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }),
        Kind::PrivateKeyPem => check_size(text, MAX_PEM).and_then(|_| {
            pem::parse_private_key(text)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }),
        Kind::Base64MetadataXml => {
            check_size(text, MAX_METADATA).and_then(|_| check_metadata_b64(text, metadata))
        }
        Kind::AttributeTemplate => check_template(text),
        Kind::Bool
        | Kind::CertificatePemList
        | Kind::StringList
        | Kind::UriList
        | Kind::UrlPatternList
        | Kind::OrgMappingList => Ok(()),
    };
    if let Err(message) = result {
        errors.push(err(f.name, message));
    }
}

fn check_item(kind: Kind, item: &str) -> Result<(), String> {
    match kind {
        Kind::CertificatePemList => {
            check_size(item, MAX_PEM)?;
            pem::parse_certificate(item)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Kind::UriList => check_uri(item),
        Kind::UrlPatternList => check_url_pattern(item),
        Kind::OrgMappingList => check_org_mapping(item),
        _ if item.len() > MAX_TEXT => Err(format!("must be at most {MAX_TEXT} characters")),
        _ => Ok(()),
    }
}

fn check_size(text: &str, max: usize) -> Result<(), String> {
    if text.len() > max {
        Err(format!(
            "is too large ({} bytes; at most {max})",
            text.len()
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn check_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(())
}

fn check_uri(text: &str) -> Result<(), String> {
    if text.len() > MAX_TEXT {
        return Err(format!("must be at most {MAX_TEXT} characters"));
    }
    if text.chars().any(char::is_whitespace) {
        return Err("must be a URI without spaces".into());
    }
    url::Url::parse(text)
        .map(|_| ())
        .map_err(|_| "must be an absolute URI (a URL or a URN)".into())
}

fn check_url_pattern(text: &str) -> Result<(), String> {
    let without_wildcard = text.replacen("://*.", "://wildcard.", 1);
    let url = url::Url::parse(&without_wildcard)
        .map_err(|e| format!("is not a valid URL pattern: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.host_str().is_none_or(str::is_empty)
        || text.matches('*').count() > usize::from(text.contains("://*."))
    {
        return Err("must name a host; `*` is only allowed as a leading `*.` label".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(())
}

fn check_org_mapping(text: &str) -> Result<(), String> {
    OrgRule::parse(text).map(|_| ())
}

/// A plain attribute name, or a template where every `$__saml{...}` is closed and names an attribute.
pub fn check_template(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("$__saml{") {
        let after = &rest[start + "$__saml{".len()..];
        let end = after.find('}').ok_or("has an unclosed `$__saml{`")?;
        let name = &after[..end];
        if name.trim().is_empty() || name.contains('{') {
            return Err("has an empty or malformed `$__saml{...}` variable".into());
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

fn check_metadata_b64(text: &str, metadata: MetadataCheck) -> Result<(), String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| {
            "is not valid base64 (it must hold the base64-encoded metadata XML)".to_string()
        })?;
    let xml = String::from_utf8(bytes).map_err(|_| "does not decode to UTF-8 XML".to_string())?;
    metadata(&xml)
}

pub const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// The document must be SAML metadata (an EntityDescriptor or EntitiesDescriptor),
/// without a DTD (roxmltree refuses DTDs, which rules out entity-expansion bombs).
#[cfg(feature = "metadata-xml")]
pub fn check_metadata_xml(xml: &str) -> Result<(), String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| format!("{}: {e}", metadata_message::NOT_XML))?;
    let root = doc.root_element();
    let name = root.tag_name();
    if name.namespace() != Some(METADATA_NS)
        || !matches!(name.name(), "EntityDescriptor" | "EntitiesDescriptor")
    {
        return Err(metadata_message::not_metadata());
    }
    let has_idp = root.descendants().any(|n| {
        n.tag_name().name() == "IDPSSODescriptor" && n.tag_name().namespace() == Some(METADATA_NS)
    });
    if !has_idp {
        return Err(metadata_message::NO_IDP.into());
    }
    Ok(())
}

/// Read access to a normalized map that knows which fields are unknown.
struct View<'a> {
    s: &'a Settings,
    unknown: &'a BTreeSet<String>,
}

impl View<'_> {
    fn known(&self, fields: &[&str]) -> bool {
        fields.iter().all(|n| !self.unknown.contains(*n))
    }
    fn str(&self, field: &str) -> &str {
        self.s.get(field).and_then(Value::as_str).unwrap_or("")
    }
    fn set(&self, field: &str) -> bool {
        match self.s.get(field) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Bool(b)) => *b,
            _ => false,
        }
    }
    fn bool(&self, field: &str) -> bool {
        self.s.get(field).and_then(Value::as_bool).unwrap_or(false)
    }
    fn list(&self, field: &str) -> Vec<&str> {
        self.s
            .get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

const METADATA_SOURCES: [&str; 3] = [
    name::idp_metadata,
    name::idp_metadata_path,
    name::idp_metadata_url,
];

fn cross_field(v: &View<'_>, errors: &mut Vec<FieldError>) {
    idp_source(v, errors);
    key_pairs(v, errors);
    flow_rules(v, errors);
    mapping_rules(v, errors);
}

fn idp_source(v: &View<'_>, errors: &mut Vec<FieldError>) {
    let mut all = METADATA_SOURCES.to_vec();
    all.extend([
        name::idp_sso_url,
        name::idp_certificates,
        name::enabled,
        name::idp_slo_url,
        name::single_logout,
    ]);
    if !v.known(&all) {
        return;
    }
    let sources: Vec<&str> = METADATA_SOURCES
        .iter()
        .copied()
        .filter(|n| v.set(n))
        .collect();
    if sources.len() > 1 {
        for extra in &sources[1..] {
            errors.push(err(
                extra,
                format!(
                    "conflicts with `{}`: set exactly one IdP metadata source",
                    sources[0]
                ),
            ));
        }
    }
    if let Some(source) = sources.first() {
        for manual in [name::idp_sso_url, name::idp_certificates] {
            if v.set(manual) {
                errors.push(err(
                    manual,
                    format!("conflicts with `{source}`: with metadata, the IdP's endpoints and certificates come from it"),
                ));
            }
        }
    } else if v.bool(name::enabled) {
        let missing: Vec<&str> = [
            name::idp_entity_id,
            name::idp_sso_url,
            name::idp_certificates,
        ]
        .into_iter()
        .filter(|n| !v.set(n))
        .collect();
        for m in &missing {
            errors.push(err(
                m,
                "is required when the provider is enabled and no IdP metadata (`idp_metadata`, `idp_metadata_path` or `idp_metadata_url`) is set",
            ));
        }
        if v.bool(name::single_logout) && !v.set(name::idp_slo_url) && missing.is_empty() {
            errors.push(err(
                name::idp_slo_url,
                "is required for `single_logout` when no IdP metadata is set",
            ));
        }
    }
}

fn key_pairs(v: &View<'_>, errors: &mut Vec<FieldError>) {
    let names = [
        name::certificate,
        name::certificate_path,
        name::private_key,
        name::private_key_path,
        name::encryption_certificate,
        name::encryption_private_key,
        name::sign_requests,
        name::signature_algorithm,
        name::allow_sha1,
        name::want_assertions_encrypted,
    ];
    if !v.known(&names) {
        return;
    }
    for (a, b) in [
        (name::certificate, name::certificate_path),
        (name::private_key, name::private_key_path),
    ] {
        if v.set(a) && v.set(b) {
            errors.push(err(b, format!("conflicts with `{a}`: set one of them")));
        }
    }
    let has_cert = v.set(name::certificate) || v.set(name::certificate_path);
    let has_key = v.set(name::private_key) || v.set(name::private_key_path);
    if has_cert && !has_key {
        errors.push(err(
            name::private_key,
            "is required with `certificate`: the SP needs the key that matches its certificate",
        ));
    }
    if has_key && !has_cert {
        errors.push(err(name::certificate, "is required with `private_key`: the IdP needs the certificate to verify our signatures"));
    }
    if v.set(name::certificate) && v.set(name::private_key) {
        pair_matches(v, name::certificate, name::private_key, errors);
    }
    if v.set(name::encryption_certificate) != v.set(name::encryption_private_key) {
        let missing = if v.set(name::encryption_certificate) {
            name::encryption_private_key
        } else {
            name::encryption_certificate
        };
        errors.push(err(
            missing,
            "is required: `encryption_certificate` and `encryption_private_key` are set together",
        ));
    } else if v.set(name::encryption_certificate) {
        pair_matches(
            v,
            name::encryption_certificate,
            name::encryption_private_key,
            errors,
        );
    }
    if v.bool(name::sign_requests) && !(has_cert && has_key) {
        errors.push(err(
            name::sign_requests,
            "needs `certificate` and `private_key` (or their `_path` variants) to sign requests",
        ));
    }
    if v.bool(name::want_assertions_encrypted) && !has_key && !v.set(name::encryption_private_key) {
        errors.push(err(
            name::want_assertions_encrypted,
            "needs a decryption key: set `encryption_private_key` or `private_key`",
        ));
    }
    let alg_text = v.str(name::signature_algorithm);
    let alg = SignatureAlgorithm::parse(alg_text);
    if alg == Some(SignatureAlgorithm::RsaSha1) && !v.bool(name::allow_sha1) {
        errors.push(err(
            name::signature_algorithm,
            "`rsa-sha1` is refused unless `allow_sha1` is true",
        ));
    }
    if v.set(name::private_key) {
        if let Ok(key) = pem::parse_private_key(v.str(name::private_key)) {
            let kind = pem::private_key_kind(&key).ok();
            let wants = if alg == Some(SignatureAlgorithm::EcdsaSha256) {
                KeyKind::Ec
            } else {
                KeyKind::Rsa
            };
            if kind.is_some_and(|k| k != wants) {
                errors.push(err(
                    name::signature_algorithm,
                    format!(
                        "`{alg_text}` does not fit the {} private key",
                        if wants == KeyKind::Ec { "RSA" } else { "EC" }
                    ),
                ));
            }
        }
    }
}

fn pair_matches(v: &View<'_>, cert_field: &str, key_field: &str, errors: &mut Vec<FieldError>) {
    if let (Ok(cert), Ok(key)) = (
        pem::parse_certificate(v.str(cert_field)),
        pem::parse_private_key(v.str(key_field)),
    ) {
        if !pem::key_matches_certificate(&key, &cert) {
            errors.push(err(
                key_field,
                format!(
                    "does not match `{cert_field}`: the key is not the certificate's private key"
                ),
            ));
        }
    }
}

fn flow_rules(v: &View<'_>, errors: &mut Vec<FieldError>) {
    if v.known(&[name::relay_state, name::allow_idp_initiated])
        && v.set(name::relay_state)
        && !v.bool(name::allow_idp_initiated)
    {
        errors.push(err(name::relay_state, "is only used for IdP-initiated logins: set `allow_idp_initiated` to true or leave it empty"));
    }
    if v.known(&[name::name]) && v.str(name::name).trim().is_empty() {
        errors.push(err(
            name::name,
            "must not be empty: it labels the login button",
        ));
    }
}

fn mapping_rules(v: &View<'_>, errors: &mut Vec<FieldError>) {
    let roles = [
        name::role_values_admin,
        name::role_values_editor,
        name::role_values_viewer,
        name::role_values_none,
    ];
    let mut names = roles.to_vec();
    names.extend([
        name::groups_case_sensitive,
        name::assertion_attribute_org,
        name::allowed_organizations,
        name::org_mapping,
    ]);
    if !v.known(&names) {
        return;
    }
    let fold = |s: &str| {
        if v.bool(name::groups_case_sensitive) {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    let mut owner: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for role in roles {
        for (i, value) in v.list(role).into_iter().enumerate() {
            if let Some(first) = owner.insert(fold(value), role) {
                if first != role {
                    errors.push(item_err(
                        role,
                        i,
                        format!("is also listed in `{first}`: a role value maps to one role"),
                    ));
                }
            }
        }
    }
    for needs_org in [name::allowed_organizations, name::org_mapping] {
        if v.set(needs_org) && !v.set(name::assertion_attribute_org) {
            errors.push(err(needs_org, "needs `assertion_attribute_org`: the attribute that holds the user's organizations"));
        }
    }
}

// The tests check metadata with roxmltree (the default feature).
#[cfg(all(test, feature = "metadata-xml"))]
mod tests {
    use super::*;
    use serde_json::json;
    use ssoplane_testkit::pki::*;

    fn settings(v: Value) -> Settings {
        v.as_object().cloned().unwrap()
    }

    fn fields_of(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    fn metadata_b64() -> String {
        let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>"#;
        base64::engine::general_purpose::STANDARD.encode(xml)
    }

    #[test]
    fn empty_input_normalizes_to_defaults() {
        let out = check(&Map::new()).unwrap();
        assert_eq!(out.len(), FIELDS.len());
        assert_eq!(out["max_issue_delay"], json!("90s"));
        assert_eq!(out["strict"], json!(true));
        assert_eq!(out["allowed_groups"], json!([]));
    }

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let e = check(&settings(
            json!({"idp_metadata_ur": "x", "enabled": "yes", "admin_groups": "a"}),
        ))
        .unwrap_err();
        assert_eq!(
            fields_of(&e),
            ["saml.idp_metadata_ur", "saml.enabled", "saml.admin_groups"]
        );
        assert!(
            e[0].message.contains("did you mean \"idp_metadata_url\""),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn exactly_one_metadata_source() {
        let e = check(&settings(json!({
            "enabled": true, "idp_metadata": metadata_b64(), "idp_metadata_url": "https://idp.example.com/md"
        })))
        .unwrap_err();
        assert_eq!(fields_of(&e), ["saml.idp_metadata_url"]);
        let e = check(&settings(json!({"enabled": true}))).unwrap_err();
        assert_eq!(
            fields_of(&e),
            [
                "saml.idp_entity_id",
                "saml.idp_sso_url",
                "saml.idp_certificates"
            ]
        );
        assert!(check(&settings(
            json!({"enabled": true, "idp_metadata": metadata_b64()})
        ))
        .is_ok());
        // Disabled providers may be staged incomplete.
        assert!(check(&settings(json!({"enabled": false}))).is_ok());
    }

    #[test]
    fn metadata_must_be_idp_metadata_without_dtd() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">&lol2;</md:EntityDescriptor>"#;
        for bad in [
            "not base64!!",
            &b64("<a/>"),
            &b64(bomb),
            &b64("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>"),
        ] {
            let e = check(&settings(json!({"idp_metadata": bad}))).unwrap_err();
            assert_eq!(fields_of(&e), ["saml.idp_metadata"], "{bad}");
        }
    }

    #[test]
    fn certificates_keys_and_algorithms() {
        let k = rsa(2048);
        let c = self_signed(&k);
        let other = rsa(2048);
        let ok =
            json!({"certificate": cert_pem(&c), "private_key": key_pem(&k), "sign_requests": true});
        assert!(check(&settings(ok)).is_ok());
        let e = check(&settings(
            json!({"certificate": cert_pem(&c), "private_key": key_pem(&other)}),
        ))
        .unwrap_err();
        assert_eq!(fields_of(&e), ["saml.private_key"]);
        assert!(
            !e[0].message.contains("BEGIN"),
            "errors never echo key material"
        );
        let e = check(&settings(json!({"sign_requests": true}))).unwrap_err();
        assert_eq!(fields_of(&e), ["saml.sign_requests"]);
        let e = check(&settings(
            json!({"certificate": "junk", "private_key": key_pem(&k)}),
        ))
        .unwrap_err();
        assert_eq!(fields_of(&e), ["saml.certificate"]);
        let e = check(&settings(json!({"signature_algorithm": "rsa-sha1"}))).unwrap_err();
        assert_eq!(fields_of(&e), ["saml.signature_algorithm"]);
        assert!(check(&settings(
            json!({"signature_algorithm": "rsa-sha1", "allow_sha1": true})
        ))
        .is_ok());
        let e = check(&settings(json!({"signature_algorithm": "md5"}))).unwrap_err();
        assert_eq!(fields_of(&e), ["saml.signature_algorithm"]);
        let ek = ec();
        let e = check(&settings(
            json!({"certificate": cert_pem(&self_signed(&ek)), "private_key": key_pem(&ek)}),
        ))
        .unwrap_err();
        assert_eq!(fields_of(&e), ["saml.signature_algorithm"]);
        assert!(check(&settings(json!({
            "certificate": cert_pem(&self_signed(&ek)), "private_key": key_pem(&ek), "signature_algorithm": "ecdsa-sha256"
        })))
        .is_ok());
        let e = check(&settings(
            json!({"idp_certificates": [cert_pem(&c), "junk"]}),
        ))
        .unwrap_err();
        assert_eq!(fields_of(&e), ["saml.idp_certificates[1]"]);
    }

    #[test]
    fn durations_urls_and_lists() {
        let e = check(&settings(json!({
            "max_issue_delay": "90", "clock_skew": "2h", "idp_metadata_url": "ftp://x",
            "idp_slo_url": "https://user:pw@idp/", "name_id_format": "email",
            "allowed_redirect_urls": ["https://*.example.com/app", "https://a.*.com"],
            "org_mapping": ["Eng:engineering:Admin", "bad", "x:y:Owner"],
            "authn_context": ["not a uri"],
        })))
        .unwrap_err();
        assert_eq!(
            fields_of(&e),
            [
                "saml.name_id_format",
                "saml.authn_context[0]",
                "saml.idp_metadata_url",
                "saml.idp_slo_url",
                "saml.allowed_redirect_urls[1]",
                "saml.max_issue_delay",
                "saml.clock_skew",
                "saml.org_mapping[1]",
                "saml.org_mapping[2]",
                "saml.org_mapping",
            ]
        );
    }

    #[test]
    fn group_and_role_rules() {
        let e = check(&settings(json!({
            "role_values_admin": ["Admins"], "role_values_viewer": ["admins"], "groups_case_sensitive": false,
            "allowed_organizations": ["org 1"], "relay_state": "x",
            "admin_groups": ["a", "a"], "assertion_attribute_name": "$__saml{givenName",
        })))
        .unwrap_err();
        assert_eq!(
            fields_of(&e),
            [
                "saml.assertion_attribute_name",
                "saml.admin_groups[1]",
                "saml.relay_state",
                "saml.role_values_viewer[0]",
                "saml.allowed_organizations",
            ]
        );
    }

    #[test]
    fn link_existing_users_is_one_of_its_values() {
        for good in ["none", "by_login", "by_email"] {
            let out = check(&settings(json!({"link_existing_users": good}))).unwrap();
            assert_eq!(out["link_existing_users"], good);
        }
        assert_eq!(
            check(&settings(json!({})))
                .unwrap()
                .get("link_existing_users"),
            Some(&json!("none"))
        );
        // Near misses are refused, not normalized: case, padding, other names.
        for bad in [
            "by_name",
            "BY_LOGIN",
            " by_login",
            "by_login ",
            "by-email",
            "all",
        ] {
            let e = check(&settings(json!({"link_existing_users": bad}))).unwrap_err();
            assert_eq!(fields_of(&e), ["saml.link_existing_users"], "{bad:?}");
            assert_eq!(e[0].message, "must be one of: none, by_login, by_email");
        }
        let e = check(&settings(json!({"link_existing_users": true}))).unwrap_err();
        assert_eq!(e[0].message, "must be a string");
    }

    #[test]
    fn unknown_values_skip_their_rules() {
        let s = normalize(&settings(json!({"enabled": true}))).unwrap();
        let unknown: BTreeSet<String> = ["idp_metadata_url".to_owned()].into();
        assert!(validate(&s, &unknown).is_empty());
    }

    #[test]
    fn fingerprints_are_accepted_and_dropped() {
        let out = check(&settings(json!({"private_key_fingerprint": "sha256:00"}))).unwrap();
        assert!(!out.contains_key("private_key_fingerprint"));
    }

    #[test]
    fn templates() {
        assert!(check_template("$__saml{givenName} $__saml{surname}").is_ok());
        assert!(check_template("displayName").is_ok());
        assert!(check_template("$__saml{}").is_err());
        assert!(check_template("$__saml{a").is_err());
    }
}
