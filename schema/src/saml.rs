//! The typed view of one provider's SAML settings, for the code that runs
//! logins. The struct itself is generated from the declaration in
//! `fields.rs`, so it cannot differ from the field table; this module adds
//! its defaults and re-exports the types its fields use.

pub use crate::choices::{
    AuthnContextComparison, Binding, LinkExisting, NameIdFormat, OrgRole, SignatureAlgorithm,
};
pub use crate::declare::ModelError;
pub use crate::fields::SamlSettings;
pub use crate::org_mapping::OrgRule;

impl Default for SamlSettings {
    /// Every field at its declared default.
    fn default() -> Self {
        // The table's defaults always fit their own types; a test proves it.
        SamlSettings::from_settings(&crate::validate::Settings::new())
            .expect("declared defaults fit SamlSettings")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fields::FIELDS;
    use crate::spec::{Kind, Shape};

    #[test]
    fn struct_and_field_table_agree() {
        let map = SamlSettings::default().to_settings();
        let mut names: Vec<&str> = map.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut table: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        table.sort_unstable();
        assert_eq!(names, table, "SamlSettings and FIELDS hold the same fields");
        for f in FIELDS {
            let typed = &map[f.name];
            let fits = match f.kind.shape() {
                Shape::Bool => typed.is_boolean(),
                Shape::String => typed.is_string(),
                Shape::List => typed.is_array(),
            };
            assert!(
                fits,
                "{}: typed value {typed} does not fit {:?}",
                f.name, f.kind
            );
            if let Kind::Duration { .. } = f.kind {
                // Durations print in their own words (`2days` for `48h`).
                let parse = |v: &serde_json::Value| {
                    crate::durations::parse(v.as_str().unwrap_or_default()).unwrap()
                };
                assert_eq!(parse(typed), parse(&f.default.to_json()), "{}", f.name);
            } else {
                assert_eq!(*typed, f.default.to_json(), "default of {}", f.name);
            }
        }
    }

    #[test]
    fn typed_values_round_trip_through_json() {
        let s = SamlSettings {
            max_issue_delay: Duration::from_secs(300),
            signature_algorithm: SignatureAlgorithm::EcdsaSha256,
            link_existing_users: LinkExisting::ByEmail,
            org_mapping: vec![OrgRule::parse("Eng\\:x:engineering:Editor").unwrap()],
            allowed_groups: vec!["admins".into()],
            ..SamlSettings::default()
        };
        assert_eq!(SamlSettings::from_settings(&s.to_settings()).unwrap(), s);
    }

    #[test]
    fn stored_values_that_do_not_fit_name_the_field() {
        let mut map = SamlSettings::default().to_settings();
        map.insert("binding".into(), "SOAP".into());
        let e = SamlSettings::from_settings(&map).unwrap_err();
        assert_eq!(e.field, "binding");
        map.insert("binding".into(), "HTTP-POST".into());
        map.insert("org_mapping".into(), serde_json::json!(["a:b", "broken"]));
        let e = SamlSettings::from_settings(&map).unwrap_err();
        assert_eq!(e.field, "org_mapping");
        assert!(e.reason.starts_with("[1] "), "{}", e.reason);
        // A field stored before it existed takes its default.
        map.insert("org_mapping".into(), serde_json::json!([]));
        map.remove("link_existing_users");
        let s = SamlSettings::from_settings(&map).unwrap();
        assert_eq!(s.link_existing_users, LinkExisting::None);
        assert_eq!(s.binding, Binding::Post);
    }

    #[test]
    fn link_existing_users_defaults_to_none() {
        assert_eq!(
            SamlSettings::default().link_existing_users,
            LinkExisting::None
        );
    }
}
