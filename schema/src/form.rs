//! The admin console's form for one provider's settings, derived from the
//! declaration in `fields.rs`: the sections in documentation order and, per
//! field, its label, help text, control, default, placeholder and whether
//! it is a write-only secret. The console renders this and declares nothing
//! of its own, so a new setting shows up in it like in the API, Terraform
//! and the docs.

use crate::choices::Choice;
use crate::fields::FIELDS;
use crate::spec::{DefaultValue, FieldSpec, Kind, Section};

/// What kind of text a text or list control takes (the browser's input type
/// and the hint shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    /// An absolute `http`/`https` URL.
    Url,
    /// A URL or a URN.
    Uri,
    /// A path on the server's file system.
    Path,
    /// An attribute name or a `$__saml{...}` template.
    AttributeTemplate,
    /// `https://host[:port][/path-prefix]`, host may start with `*.`.
    UrlPattern,
    /// `attribute_value:organization[:role]`.
    OrgRule,
}

/// What a PEM control holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemContent {
    Certificate,
    PrivateKey,
}

/// How the console lets an administrator enter a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// A checkbox.
    Toggle,
    /// One line of text.
    Text(Input),
    /// Several values, one per line (sent as a list of strings).
    List(Input),
    /// A duration written like `90s`, `15m`, `1h`, between the bounds.
    Duration { min_secs: u64, max_secs: u64 },
    /// PEM text in a textarea, or a file upload. `several`: a list of
    /// certificates (one PEM block per list item).
    Pem { content: PemContent, several: bool },
    /// SAML metadata XML in a textarea, or a file upload; the API carries
    /// it base64-encoded, so the console encodes it before sending.
    MetadataXml,
    /// One of fixed options, each with its label.
    Choice(&'static [Choice]),
}

impl Control {
    /// The control for a kind of setting.
    pub fn for_kind(kind: Kind) -> Control {
        match kind {
            Kind::Bool => Control::Toggle,
            Kind::Text => Control::Text(Input::Text),
            Kind::Enum(choices) => Control::Choice(choices),
            Kind::Duration { min_secs, max_secs } => Control::Duration { min_secs, max_secs },
            Kind::Url => Control::Text(Input::Url),
            Kind::Uri => Control::Text(Input::Uri),
            Kind::Path => Control::Text(Input::Path),
            Kind::AttributeTemplate => Control::Text(Input::AttributeTemplate),
            Kind::CertificatePem => Control::Pem {
                content: PemContent::Certificate,
                several: false,
            },
            Kind::PrivateKeyPem => Control::Pem {
                content: PemContent::PrivateKey,
                several: false,
            },
            Kind::CertificatePemList => Control::Pem {
                content: PemContent::Certificate,
                several: true,
            },
            Kind::Base64MetadataXml => Control::MetadataXml,
            Kind::StringList => Control::List(Input::Text),
            Kind::UriList => Control::List(Input::Uri),
            Kind::UrlPatternList => Control::List(Input::UrlPattern),
            Kind::OrgMappingList => Control::List(Input::OrgRule),
        }
    }

    /// An example of what the control takes, for an empty field.
    pub fn example(self) -> &'static str {
        match self {
            Control::Toggle | Control::Choice(_) | Control::Text(Input::Text) => "",
            Control::Duration { .. } => "90s, 15m, 1h, 48h",
            Control::Text(input) | Control::List(input) => match input {
                Input::Text => "one value per line",
                Input::Url => "https://idp.example.com/...",
                Input::Uri => "https://... or urn:...",
                Input::Path => "/etc/ssoplane/...",
                Input::AttributeTemplate => {
                    "attribute name, or $__saml{givenName} $__saml{surname}"
                }
                Input::UrlPattern => "https://*.example.com/app",
                Input::OrgRule => "attribute_value:organization[:role]",
            },
            Control::Pem {
                content: PemContent::Certificate,
                ..
            } => "-----BEGIN CERTIFICATE-----",
            Control::Pem {
                content: PemContent::PrivateKey,
                ..
            } => "-----BEGIN PRIVATE KEY-----",
            Control::MetadataXml => "<md:EntityDescriptor ...>",
        }
    }
}

/// One field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormField {
    /// The setting's name: the form input's name and the API's key.
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub section: Section,
    pub control: Control,
    pub default: DefaultValue,
    /// What an empty input shows: the default when it is not empty,
    /// otherwise an example of the expected form.
    pub placeholder: &'static str,
    /// Write-only: the console never shows the value (only whether one is
    /// set, by its fingerprint), and leaving the input empty keeps it.
    pub secret: bool,
}

impl FormField {
    pub fn of(spec: &FieldSpec) -> FormField {
        let control = Control::for_kind(spec.kind);
        let placeholder = match spec.default {
            DefaultValue::Str(d) if !d.is_empty() => d,
            _ => control.example(),
        };
        FormField {
            name: spec.name,
            label: spec.label,
            help: spec.description,
            section: spec.section,
            control,
            default: spec.default,
            placeholder,
            secret: spec.secret,
        }
    }
}

/// A section of the form, with its fields in documentation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSection {
    pub section: Section,
    /// A stable identifier (HTML anchors and ids).
    pub id: &'static str,
    pub title: &'static str,
    pub fields: Vec<FormField>,
}

/// The whole form: every section, every field exactly once.
pub fn sections() -> Vec<FormSection> {
    Section::ALL
        .into_iter()
        .map(|section| FormSection {
            section,
            id: section.id(),
            title: section.title(),
            fields: FIELDS
                .iter()
                .filter(|f| f.section == section)
                .map(FormField::of)
                .collect(),
        })
        .collect()
}

/// One field of the form by setting name (to place a validation error).
pub fn field(name: &str) -> Option<FormField> {
    crate::fields::field(name).map(FormField::of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Shape;

    #[test]
    fn every_field_appears_exactly_once_in_its_section() {
        let form = sections();
        let names: Vec<&str> = form
            .iter()
            .flat_map(|s| s.fields.iter().map(|f| f.name))
            .collect();
        assert_eq!(names.len(), FIELDS.len());
        for f in FIELDS {
            assert_eq!(
                names.iter().filter(|n| **n == f.name).count(),
                1,
                "{}",
                f.name
            );
        }
        for s in &form {
            assert!(!s.fields.is_empty(), "section {} is empty", s.id);
            assert!(s.fields.iter().all(|f| f.section == s.section));
        }
    }

    #[test]
    fn each_control_fits_its_field() {
        for f in FIELDS {
            let ff = FormField::of(f);
            let shape = match ff.control {
                Control::Toggle => Shape::Bool,
                Control::List(_) | Control::Pem { several: true, .. } => Shape::List,
                Control::Text(_)
                | Control::Duration { .. }
                | Control::Pem { several: false, .. }
                | Control::MetadataXml
                | Control::Choice(_) => Shape::String,
            };
            assert_eq!(shape, f.kind.shape(), "{}", f.name);
            match (ff.control, f.kind) {
                (Control::Choice(options), Kind::Enum(choices)) => {
                    assert_eq!(options, choices, "{}", f.name);
                    assert!(options.iter().all(|c| !c.label.is_empty()));
                }
                (Control::Choice(_), _) | (_, Kind::Enum(_)) => panic!("{}: choice", f.name),
                (
                    Control::Duration { min_secs, max_secs },
                    Kind::Duration {
                        min_secs: lo,
                        max_secs: hi,
                    },
                ) => assert_eq!((min_secs, max_secs), (lo, hi), "{}", f.name),
                _ => {}
            }
            // Secrets are exactly the private keys, and write-only.
            assert_eq!(
                ff.secret,
                matches!(
                    ff.control,
                    Control::Pem {
                        content: PemContent::PrivateKey,
                        ..
                    }
                ),
                "{}",
                f.name
            );
            assert_eq!((ff.label, ff.help), (f.label, f.description));
        }
    }

    #[test]
    fn placeholders_show_the_default_or_an_example() {
        let delay = field("max_issue_delay").unwrap();
        assert_eq!(delay.placeholder, "90s");
        let url = field("idp_metadata_url").unwrap();
        assert_eq!(url.control, Control::Text(Input::Url));
        assert!(url.placeholder.starts_with("https://"));
        assert!(field("no_such_setting").is_none());
    }
}
