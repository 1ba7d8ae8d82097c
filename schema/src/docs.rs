//! The settings reference (docs/settings.md), generated from the field table.
//! A test keeps the committed file current (`UPDATE_DOCS=1 cargo test` rewrites it).

use crate::choices;
use crate::fields::FIELDS;
use crate::spec::{DefaultValue, FieldSpec, Kind, Section};

pub fn kind_name(kind: Kind) -> String {
    match kind {
        Kind::Bool => "bool".into(),
        Kind::Text => "string".into(),
        Kind::Enum(choices) => format!(
            "one of {}",
            choices::values(choices)
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Kind::Duration { .. } => "duration".into(),
        Kind::Url => "URL".into(),
        Kind::Uri => "URI".into(),
        Kind::Path => "file path".into(),
        Kind::CertificatePem => "PEM certificate".into(),
        Kind::PrivateKeyPem => "PEM private key (secret)".into(),
        Kind::CertificatePemList => "list of PEM certificates".into(),
        Kind::Base64MetadataXml => "base64 metadata XML".into(),
        Kind::AttributeTemplate => "attribute name or template".into(),
        Kind::StringList => "list of strings".into(),
        Kind::UriList => "list of URIs".into(),
        Kind::UrlPatternList => "list of URL patterns".into(),
        Kind::OrgMappingList => "list of org mappings".into(),
    }
}

pub fn default_text(f: &FieldSpec) -> String {
    match f.default {
        DefaultValue::Bool(b) => format!("`{b}`"),
        DefaultValue::Str("") => "empty".into(),
        DefaultValue::Str(s) => format!("`{s}`"),
        DefaultValue::List([]) => "`[]`".into(),
        DefaultValue::List(items) => format!("`{items:?}`"),
    }
}

pub fn settings_markdown() -> String {
    let mut out = String::from(
        "<!-- Generated from schema/src/fields.rs by `UPDATE_DOCS=1 cargo test -p ssoplane-schema`. Do not edit. -->\n\
         # SAML settings reference\n\n\
         Every SSO provider (`/api/v1/sso-settings/{provider}`, `[saml.<provider>]` in the config file,\n\
         `SSOPLANE__SAML__<PROVIDER>__<FIELD>` in the environment, `saml_settings` in Terraform) has these settings.\n\
         Durations are written like `90s`, `15m`, `1h`, `48h`. Secrets are never returned: the API shows `********`\n\
         and a `<name>_fingerprint` (`sha256:<hex>`) instead. Validation errors name the field as `saml.<field>`.\n",
    );
    for section in Section::ALL {
        out.push_str(&format!(
            "\n## {}\n\n| Setting | Label | Type | Default | Description |\n|---|---|---|---|---|\n",
            section.title()
        ));
        for f in FIELDS.iter().filter(|f| f.section == section) {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                f.name,
                f.label,
                kind_name(f.kind),
                default_text(f),
                f.description.replace('|', "\\|")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_settings_reference_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/settings.md");
        let generated = super::settings_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/settings.md is stale: run `UPDATE_DOCS=1 cargo test -p ssoplane-schema`"
        );
    }

    #[test]
    fn every_setting_has_one_row() {
        let md = super::settings_markdown();
        for f in crate::FIELDS {
            assert_eq!(
                md.matches(&format!("| `{}` |", f.name)).count(),
                1,
                "{}",
                f.name
            );
        }
    }
}
