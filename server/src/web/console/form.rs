//! The provider form, generated from the schema's field table: one section
//! per settings group, one control per field chosen by its kind, the field's
//! documentation as help text, and validation errors from the same schema
//! validation the API uses shown at the field. Nothing about a setting is
//! written here: a field added to the table appears in this form as it does
//! in the API, Terraform and the docs.
//!
//! Submitted forms are multipart (PEM and metadata files may be uploaded)
//! and become the same settings document a `PUT` to the API carries.

use std::collections::BTreeMap;

use axum::extract::Multipart;
use base64::Engine;
use serde_json::Value;
use ssoplane_schema::fields::{FieldSpec, Group, Kind, FIELDS};
use ssoplane_schema::secrets::MASK;
use ssoplane_schema::validate::Settings;
use ssoplane_schema::FieldError;

/// Largest file accepted by an upload control (metadata is the largest).
pub const MAX_UPLOAD: usize = 4 * 1024 * 1024;
/// Most multipart fields one form may carry (all fields, their files, and
/// the form's own hidden fields, twice over).
const MAX_PARTS: usize = 4 * FIELDS.len() + 16;

/// How a field is edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Toggle {
        checked: bool,
    },
    Text {
        value: String,
        input_type: &'static str,
        placeholder: &'static str,
    },
    Choice {
        value: String,
        options: Vec<&'static str>,
    },
    /// One value per line.
    Lines {
        value: String,
    },
    /// A PEM (or several) pasted or uploaded.
    Pem {
        value: String,
        multiple: bool,
    },
    /// IdP metadata XML pasted or uploaded (stored base64).
    Metadata {
        value: String,
    },
    /// Write-only: the fingerprint of what is set; a new value replaces it.
    Secret {
        fingerprint: Option<String>,
    },
}

/// One field of the form, ready for the template.
pub struct FormField {
    pub name: &'static str,
    pub label: String,
    pub help: &'static str,
    pub control: Control,
    pub error: Option<String>,
    pub default: String,
}

impl FormField {
    /// The control's kind, for the template.
    pub fn kind(&self) -> &'static str {
        match self.control {
            Control::Toggle { .. } => "toggle",
            Control::Text { .. } => "text",
            Control::Choice { .. } => "choice",
            Control::Lines { .. } => "lines",
            Control::Pem { .. } => "pem",
            Control::Metadata { .. } => "metadata",
            Control::Secret { .. } => "secret",
        }
    }

    pub fn value(&self) -> &str {
        match &self.control {
            Control::Text { value, .. }
            | Control::Choice { value, .. }
            | Control::Lines { value }
            | Control::Pem { value, .. }
            | Control::Metadata { value } => value,
            _ => "",
        }
    }

    pub fn checked(&self) -> bool {
        matches!(self.control, Control::Toggle { checked: true })
    }

    pub fn options(&self) -> &[&'static str] {
        match &self.control {
            Control::Choice { options, .. } => options,
            _ => &[],
        }
    }

    pub fn input_type(&self) -> &'static str {
        match &self.control {
            Control::Text { input_type, .. } => input_type,
            _ => "text",
        }
    }

    pub fn placeholder(&self) -> &'static str {
        match &self.control {
            Control::Text { placeholder, .. } => placeholder,
            _ => "",
        }
    }

    pub fn fingerprint(&self) -> &str {
        match &self.control {
            Control::Secret {
                fingerprint: Some(f),
            } => f,
            _ => "",
        }
    }

    /// The id of the help text, for `aria-describedby`.
    pub fn help_id(&self) -> String {
        format!("{}-help", self.name)
    }

    pub fn error_id(&self) -> String {
        format!("{}-error", self.name)
    }

    /// The ids describing the control: help, and the error when there is one.
    pub fn described_by(&self) -> String {
        match self.error {
            Some(_) => format!("{} {}", self.help_id(), self.error_id()),
            None => self.help_id(),
        }
    }
}

pub struct Section {
    pub title: &'static str,
    pub id: &'static str,
    pub fields: Vec<FormField>,
}

fn group_id(g: Group) -> &'static str {
    match g {
        Group::ServiceProvider => "service-provider",
        Group::IdentityProvider => "identity-provider",
        Group::Flow => "flow",
        Group::Mapping => "mapping",
        Group::Authorization => "authorization",
    }
}

/// The label a field is shown with: its name in words (`idp_sso_url` is
/// "IdP SSO URL"), the key itself shown beside it for API and Terraform users.
pub fn label(name: &str) -> String {
    name.split('_')
        .map(|w| match w {
            "idp" => "IdP".to_owned(),
            "sp" => "SP".to_owned(),
            "sso" | "slo" | "url" | "urls" | "id" | "uid" | "sha1" | "dn" => w.to_uppercase(),
            "authn" => "Authn".to_owned(),
            _ => w.to_owned(),
        })
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            } else {
                w
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

fn string_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn control(f: &FieldSpec, settings: &Settings) -> Control {
    let v = settings.get(f.name);
    if f.secret {
        let fp = f
            .fingerprint_name()
            .and_then(|n| settings.get(&n).and_then(Value::as_str).map(str::to_owned))
            .filter(|s| !s.is_empty());
        return Control::Secret { fingerprint: fp };
    }
    match f.kind {
        Kind::Bool => Control::Toggle {
            checked: v.and_then(Value::as_bool).unwrap_or(false),
        },
        Kind::Enum(options) => Control::Choice {
            value: string_of(v),
            options: options.to_vec(),
        },
        Kind::CertificatePem => Control::Pem {
            value: string_of(v),
            multiple: false,
        },
        Kind::CertificatePemList => Control::Pem {
            value: string_of(v),
            multiple: true,
        },
        Kind::Base64MetadataXml => Control::Metadata {
            value: decoded_metadata(&string_of(v)),
        },
        Kind::StringList | Kind::UriList | Kind::UrlPatternList | Kind::OrgMappingList => {
            Control::Lines {
                value: string_of(v),
            }
        }
        Kind::Url => Control::Text {
            value: string_of(v),
            input_type: "url",
            placeholder: "https://",
        },
        Kind::Duration { .. } => Control::Text {
            value: string_of(v),
            input_type: "text",
            placeholder: "e.g. 90s, 15m, 1h",
        },
        Kind::Text | Kind::Uri | Kind::Path | Kind::AttributeTemplate | Kind::PrivateKeyPem => {
            Control::Text {
                value: string_of(v),
                input_type: "text",
                placeholder: "",
            }
        }
    }
}

/// Stored metadata is base64; the form shows the XML.
fn decoded_metadata(b64: &str) -> String {
    let mut compact = b64.as_bytes().to_vec();
    compact.retain(|b| !b.is_ascii_whitespace());
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| b64.to_owned())
}

/// The field an API error path (`saml.idp_metadata_url`, `saml.x[2]`) names.
fn field_of(path: &str) -> &str {
    let name = path.strip_prefix("saml.").unwrap_or(path);
    name.split(['[', '.']).next().unwrap_or(name)
}

/// The form's sections for `settings` (masked, as the API returns them),
/// with `errors` placed at their fields.
pub fn sections(settings: &Settings, errors: &[FieldError]) -> Vec<Section> {
    let mut by_field: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in errors {
        by_field
            .entry(field_of(&e.field))
            .or_default()
            .push(e.message.as_str());
    }
    let mut out: Vec<Section> = Vec::new();
    for f in FIELDS {
        let field = FormField {
            name: f.name,
            label: label(f.name),
            help: f.description,
            control: control(f, settings),
            error: by_field.get(f.name).map(|m| m.join(" ")),
            default: ssoplane_schema::docs::default_text(f),
        };
        match out.last_mut() {
            Some(s) if s.title == f.group.title() => s.fields.push(field),
            _ => out.push(Section {
                title: f.group.title(),
                id: group_id(f.group),
                fields: vec![field],
            }),
        }
    }
    out
}

/// Errors that name no field of the form (they are shown above it).
pub fn general_errors(errors: &[FieldError]) -> Vec<String> {
    errors
        .iter()
        .filter(|e| !FIELDS.iter().any(|f| f.name == field_of(&e.field)))
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect()
}

/// A submitted provider form.
#[derive(Debug, Default)]
pub struct Submitted {
    pub settings: Settings,
    /// The form's own fields: csrf, version, slug, confirmations.
    pub meta: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the form could not be read: {0}")]
    Multipart(String),
    #[error("the form has too many fields")]
    TooManyParts,
    #[error("an uploaded file for {0} is larger than {MAX_UPLOAD} bytes")]
    TooLarge(String),
    #[error("the value of {0} is not UTF-8 text")]
    NotText(String),
}

fn lines(text: &str) -> Value {
    Value::Array(
        text.lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.trim().is_empty())
            .map(|l| Value::String(l.to_owned()))
            .collect(),
    )
}

/// Every PEM block of a text, for lists of certificates.
fn pem_blocks(text: &str) -> Value {
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(END) {
        let block = rest[..at + END.len()].trim();
        if !block.is_empty() {
            out.push(Value::String(format!("{block}\n")));
        }
        rest = &rest[at + END.len()..];
    }
    if !rest.trim().is_empty() {
        // Not a PEM: passed on so validation says what is wrong with it.
        out.push(Value::String(rest.trim().to_owned()));
    }
    Value::Array(out)
}

/// Reads a multipart provider form into settings: uploads win over pasted
/// text, an empty secret keeps the stored one (the API's mask), unchecked
/// toggles are false.
pub async fn read(mut multipart: Multipart) -> Result<Submitted, FormError> {
    let mut text: BTreeMap<String, String> = BTreeMap::new();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut parts = 0;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| FormError::Multipart(e.body_text()))?
    {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(FormError::TooManyParts);
        }
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| FormError::Multipart(e.body_text()))?;
        if bytes.len() > MAX_UPLOAD {
            return Err(FormError::TooLarge(name));
        }
        let value =
            String::from_utf8(bytes.to_vec()).map_err(|_| FormError::NotText(name.clone()))?;
        match (is_file, name.strip_suffix("__file")) {
            (true, Some(field)) if !value.is_empty() => {
                files.insert(field.to_owned(), value);
            }
            (true, _) => {}
            (false, _) => {
                text.insert(name, value);
            }
        }
    }
    let mut out = Submitted::default();
    for f in FIELDS {
        let given = files
            .remove(f.name)
            .or_else(|| text.remove(f.name))
            .unwrap_or_default();
        let value = if f.secret {
            let clear = text.remove(&format!("{}__clear", f.name)).is_some();
            // `__set`: the form was shown with a stored secret, which an
            // empty field keeps (the API's mask); without one, empty is empty.
            let stored = text.remove(&format!("{}__set", f.name)).is_some();
            if clear || (given.trim().is_empty() && !stored) {
                Value::String(String::new())
            } else if given.trim().is_empty() {
                Value::String(MASK.to_owned())
            } else {
                Value::String(given)
            }
        } else {
            match f.kind {
                Kind::Bool => Value::Bool(!given.is_empty()),
                Kind::CertificatePemList => pem_blocks(&given),
                k if k.is_list() => lines(&given),
                Kind::Base64MetadataXml => {
                    let t = given.trim();
                    if t.starts_with('<') {
                        Value::String(base64::engine::general_purpose::STANDARD.encode(t))
                    } else {
                        Value::String(t.to_owned())
                    }
                }
                _ => Value::String(given),
            }
        };
        out.settings.insert(f.name.to_owned(), value);
    }
    out.meta = text;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_appears_once_in_its_section_with_its_documentation() {
        let sections = sections(&Settings::new(), &[]);
        let names: Vec<&str> = sections
            .iter()
            .flat_map(|s| s.fields.iter().map(|f| f.name))
            .collect();
        let table: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(names, table);
        for f in FIELDS {
            let shown = sections
                .iter()
                .flat_map(|s| &s.fields)
                .find(|x| x.name == f.name)
                .unwrap();
            assert_eq!(shown.help, f.description);
            if f.secret {
                assert!(
                    matches!(shown.control, Control::Secret { .. }),
                    "{}",
                    f.name
                );
            }
        }
    }

    #[test]
    fn errors_land_at_their_field() {
        let errors = vec![
            FieldError {
                field: "saml.idp_certificates[1]".into(),
                message: "is not a certificate".into(),
            },
            FieldError {
                field: "saml".into(),
                message: "needs an IdP".into(),
            },
        ];
        let s = sections(&Settings::new(), &errors);
        let f = s
            .iter()
            .flat_map(|s| &s.fields)
            .find(|f| f.name == "idp_certificates")
            .unwrap();
        assert_eq!(f.error.as_deref(), Some("is not a certificate"));
        assert_eq!(general_errors(&errors), ["saml: needs an IdP"]);
    }

    #[test]
    fn labels_read_as_words() {
        assert_eq!(label("idp_sso_url"), "IdP SSO URL");
        assert_eq!(
            label("assertion_attribute_external_uid"),
            "Assertion attribute external UID"
        );
        assert_eq!(label("allow_sha1"), "Allow SHA1");
    }

    #[test]
    fn pem_lists_split_into_blocks() {
        let two = "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n\n-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----";
        assert_eq!(pem_blocks(two).as_array().unwrap().len(), 2);
        assert_eq!(pem_blocks("").as_array().unwrap().len(), 0);
        assert_eq!(lines("a\r\n\nb\n").as_array().unwrap().len(), 2);
    }
}
