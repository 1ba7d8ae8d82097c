//! The typed view of one provider's SAML settings, for the code that runs
//! logins. Built from a validated JSON map; a test keeps it identical to the
//! field table in `fields.rs`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::durations;
use crate::validate::Settings;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlSettings {
    pub enabled: bool,
    pub name: String,
    pub entity_id: String,
    pub certificate: String,
    pub certificate_path: String,
    pub private_key: String,
    pub private_key_path: String,
    pub encryption_certificate: String,
    pub encryption_private_key: String,
    pub signature_algorithm: String,
    pub allow_sha1: bool,
    pub sign_requests: bool,
    pub metadata_valid_duration: String,
    pub name_id_format: String,
    pub authn_context: Vec<String>,
    pub authn_context_comparison: String,
    pub force_authn: bool,
    pub idp_metadata: String,
    pub idp_metadata_path: String,
    pub idp_metadata_url: String,
    pub idp_metadata_refresh_interval: String,
    pub idp_entity_id: String,
    pub idp_sso_url: String,
    pub idp_slo_url: String,
    pub idp_certificates: Vec<String>,
    pub binding: String,
    pub allow_idp_initiated: bool,
    pub relay_state: String,
    pub allowed_redirect_urls: Vec<String>,
    pub auto_login: bool,
    pub single_logout: bool,
    pub send_logout_response: bool,
    pub max_issue_delay: String,
    pub clock_skew: String,
    pub strict: bool,
    pub want_assertions_encrypted: bool,
    pub assertion_attribute_login: String,
    pub assertion_attribute_email: String,
    pub assertion_attribute_name: String,
    pub assertion_attribute_groups: String,
    pub assertion_attribute_role: String,
    pub assertion_attribute_org: String,
    pub assertion_attribute_external_uid: String,
    pub allow_sign_up: bool,
    pub link_existing_users: String,
    pub default_group: String,
    pub allowed_groups: Vec<String>,
    pub admin_groups: Vec<String>,
    pub groups_case_sensitive: bool,
    pub groups_from_dn: bool,
    pub prohibit_sign_up_if_not_in_group: bool,
    pub role_values_admin: Vec<String>,
    pub role_values_editor: Vec<String>,
    pub role_values_viewer: Vec<String>,
    pub role_values_none: Vec<String>,
    pub role_attribute_strict: bool,
    pub allowed_organizations: Vec<String>,
    pub org_mapping: Vec<String>,
}

/// `link_existing_users`: which existing users a first login through the
/// provider may be linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkExisting {
    /// Never: a taken login handle or email is an identity collision.
    None,
    /// The user whose login handle equals the asserted one (exactly).
    ByLogin,
    /// The one user whose email equals the asserted one (exactly).
    ByEmail,
}

impl LinkExisting {
    /// From a validated value; empty (or anything else) is the default, `None`.
    pub fn parse(value: &str) -> Self {
        match value {
            "by_login" => LinkExisting::ByLogin,
            "by_email" => LinkExisting::ByEmail,
            _ => LinkExisting::None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("settings do not fit the SAML settings model: {0}")]
pub struct ModelError(#[from] serde_json::Error);

impl SamlSettings {
    /// From a map that went through [`crate::validate::normalize`].
    pub fn from_settings(settings: &Settings) -> Result<Self, ModelError> {
        Ok(serde_json::from_value(serde_json::Value::Object(
            settings.clone(),
        ))?)
    }

    pub fn to_settings(&self) -> Settings {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => Settings::new(),
        }
    }

    pub fn max_issue_delay(&self) -> Duration {
        durations::parse(&self.max_issue_delay).unwrap_or(Duration::from_secs(90))
    }

    pub fn link_existing(&self) -> LinkExisting {
        LinkExisting::parse(&self.link_existing_users)
    }

    pub fn clock_skew(&self) -> Duration {
        durations::parse(&self.clock_skew).unwrap_or(Duration::from_secs(60))
    }

    pub fn metadata_valid_duration(&self) -> Duration {
        durations::parse(&self.metadata_valid_duration).unwrap_or(Duration::from_secs(48 * 3600))
    }

    pub fn idp_metadata_refresh_interval(&self) -> Duration {
        durations::parse(&self.idp_metadata_refresh_interval).unwrap_or(Duration::from_secs(3600))
    }
}

impl Default for SamlSettings {
    fn default() -> Self {
        let defaults = crate::validate::normalize(&Settings::new()).unwrap_or_default();
        // The table's defaults always fit the struct; the test below proves it.
        serde_json::from_value(serde_json::Value::Object(defaults))
            .expect("field table defaults fit SamlSettings")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FIELDS;

    #[test]
    fn struct_and_field_table_agree() {
        let map = SamlSettings::default().to_settings();
        let names: Vec<&str> = map.keys().map(String::as_str).collect();
        let mut table: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        table.sort_unstable();
        assert_eq!(names, table);
        for f in FIELDS {
            assert_eq!(map[f.name], f.default.to_json(), "default of {}", f.name);
        }
    }

    #[test]
    fn link_existing_users_defaults_to_none_and_parses_each_value() {
        assert_eq!(SamlSettings::default().link_existing(), LinkExisting::None);
        for (value, want) in [
            ("none", LinkExisting::None),
            ("by_login", LinkExisting::ByLogin),
            ("by_email", LinkExisting::ByEmail),
            ("", LinkExisting::None),
        ] {
            let s = SamlSettings {
                link_existing_users: value.into(),
                ..SamlSettings::default()
            };
            assert_eq!(s.link_existing(), want, "{value:?}");
        }
    }
}
