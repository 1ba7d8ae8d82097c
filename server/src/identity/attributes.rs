//! From a verified assertion to an identity: the NameID, the attributes (by
//! Name and by FriendlyName), and the `assertion_attribute_*` mapping with its
//! defaults, which understand Entra ID's claim URIs.

use std::collections::BTreeMap;

use crate::saml::assertion::Assertion;
use ssoplane_schema::SamlSettings;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MappingError {
    #[error("the assertion has no NameID")]
    NoNameId,
    #[error("no login could be found (looked for {0}, then the NameID)")]
    NoLogin(String),
    #[error("attribute {attribute:?} used by {setting} is missing from the assertion")]
    MissingTemplateAttribute {
        setting: &'static str,
        attribute: String,
    },
    #[error("the {0} value contains control characters")]
    ControlCharacters(&'static str),
}

#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub name_id: String,
    pub session_index: String,
    pub attributes: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub login: String,
    pub email: String,
    pub name: String,
    pub external_uid: String,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub orgs: Vec<String>,
}

const ENTRA: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/";
const LOGIN_DEFAULTS: &[&str] = &[
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "login",
    "uid",
];
const EMAIL_DEFAULTS: &[&str] = &[
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "email",
    "mail",
    "emailAddress",
];
const NAME_DEFAULTS: &[&str] = &[
    "http://schemas.microsoft.com/identity/claims/displayname",
    "displayName",
    "name",
];
const GROUPS_DEFAULTS: &[&str] = &[
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    "groups",
    "Group",
    "memberOf",
];
const ROLE_DEFAULTS: &[&str] = &[
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    "role",
];
const EXTERNAL_UID_DEFAULTS: &[&str] = &[
    "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "userUID",
];

pub fn claims(assertion: &Assertion) -> Result<Claims, MappingError> {
    let name_id = assertion
        .name_id
        .as_deref()
        .map(|n| n.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(MappingError::NoNameId)?;
    if name_id.chars().any(char::is_control) {
        return Err(MappingError::ControlCharacters("NameID"));
    }
    let session_index = assertion.session_index.clone().unwrap_or_default();
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for attr in &assertion.attributes {
        let values: Vec<String> = attr.values.iter().map(|v| v.trim().to_owned()).collect();
        for key in std::iter::once(&attr.name).chain(attr.friendly_name.as_ref()) {
            attributes
                .entry(key.clone())
                .or_default()
                .extend(values.iter().cloned());
        }
    }
    Ok(Claims {
        name_id,
        session_index,
        attributes,
    })
}

impl Claims {
    fn first(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .and_then(|v| v.iter().find(|s| !s.is_empty()))
            .map(String::as_str)
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.attributes
            .get(name)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The configured attribute (plain name or `$__saml{...}` template), or the first default present.
    fn value(
        &self,
        setting: &'static str,
        configured: &str,
        defaults: &[&str],
    ) -> Result<Option<String>, MappingError> {
        if configured.contains("$__saml{") {
            return render_template(self, setting, configured).map(Some);
        }
        if !configured.is_empty() {
            return Ok(self.first(configured).map(str::to_owned));
        }
        Ok(defaults
            .iter()
            .find_map(|d| self.first(d))
            .map(str::to_owned))
    }

    fn values(&self, configured: &str, defaults: &[&str]) -> Vec<String> {
        if !configured.is_empty() {
            return self.all(configured);
        }
        defaults
            .iter()
            .map(|d| self.all(d))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    }
}

fn render_template(
    c: &Claims,
    setting: &'static str,
    template: &str,
) -> Result<String, MappingError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("$__saml{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "$__saml{".len()..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let attribute = &after[..end];
        let value = c
            .first(attribute)
            .ok_or_else(|| MappingError::MissingTemplateAttribute {
                setting,
                attribute: attribute.to_owned(),
            })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out.trim().to_owned())
}

/// The first CN of a distinguished name: `CN=test,OU=unit,DC=mycomp` → `test`.
pub fn first_cn(dn: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ',' => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts.into_iter().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("cn")
            .then(|| v.trim().to_owned())
    })
}

pub fn map(s: &SamlSettings, c: &Claims) -> Result<Identity, MappingError> {
    let login = match c.value(
        "assertion_attribute_login",
        &s.assertion_attribute_login,
        LOGIN_DEFAULTS,
    )? {
        Some(l) if !l.is_empty() => l,
        _ if s.assertion_attribute_login.is_empty()
            || s.assertion_attribute_login.contains("$__saml{") =>
        {
            c.name_id.clone()
        }
        _ => return Err(MappingError::NoLogin(s.assertion_attribute_login.clone())),
    };
    let email = c
        .value(
            "assertion_attribute_email",
            &s.assertion_attribute_email,
            EMAIL_DEFAULTS,
        )?
        .or_else(|| login.contains('@').then(|| login.clone()))
        .unwrap_or_default();
    let name = match c.value(
        "assertion_attribute_name",
        &s.assertion_attribute_name,
        NAME_DEFAULTS,
    )? {
        Some(n) if !n.is_empty() => n,
        _ => {
            let given = c
                .first(&format!("{ENTRA}givenname"))
                .or_else(|| c.first("givenName"));
            let surname = c
                .first(&format!("{ENTRA}surname"))
                .or_else(|| c.first("surname"))
                .or_else(|| c.first("sn"));
            match (given, surname) {
                (Some(g), Some(s)) => format!("{g} {s}"),
                (Some(g), None) => g.to_owned(),
                _ => login.clone(),
            }
        }
    };
    let external_uid = c
        .value(
            "assertion_attribute_external_uid",
            &s.assertion_attribute_external_uid,
            EXTERNAL_UID_DEFAULTS,
        )?
        .unwrap_or_default();
    let mut groups = c.values(&s.assertion_attribute_groups, GROUPS_DEFAULTS);
    if s.groups_from_dn {
        groups = groups
            .iter()
            .map(|g| first_cn(g).unwrap_or_else(|| g.clone()))
            .collect();
    }
    let roles = c.values(&s.assertion_attribute_role, ROLE_DEFAULTS);
    let orgs = if s.assertion_attribute_org.is_empty() {
        Vec::new()
    } else {
        c.all(&s.assertion_attribute_org)
    };
    for (what, v) in [("login", &login), ("email", &email), ("name", &name)] {
        if v.chars().any(char::is_control) {
            return Err(MappingError::ControlCharacters(what));
        }
    }
    Ok(Identity {
        login,
        email,
        name,
        external_uid,
        groups,
        roles,
        orgs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_of(pairs: &[(&str, &[&str])]) -> Claims {
        Claims {
            name_id: "nameid-123".into(),
            session_index: String::new(),
            attributes: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn entra_id_defaults() {
        let c = claims_of(&[
            (
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
                &["ada@corp.example"],
            ),
            (
                "http://schemas.microsoft.com/identity/claims/displayname",
                &["Ada Lovelace"],
            ),
            (
                "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
                &["g1", "g2"],
            ),
            (
                "http://schemas.microsoft.com/identity/claims/objectidentifier",
                &["oid-1"],
            ),
        ]);
        let id = map(&SamlSettings::default(), &c).unwrap();
        assert_eq!(id.login, "ada@corp.example");
        assert_eq!(id.email, "ada@corp.example");
        assert_eq!(id.name, "Ada Lovelace");
        assert_eq!(id.groups, ["g1", "g2"]);
        assert_eq!(id.external_uid, "oid-1");
    }

    #[test]
    fn templates_dn_groups_and_nameid_fallback() {
        let s = SamlSettings {
            assertion_attribute_name: "$__saml{givenName} $__saml{surname}".into(),
            assertion_attribute_groups: "memberOf".into(),
            groups_from_dn: true,
            ..SamlSettings::default()
        };
        let c = claims_of(&[
            ("givenName", &["Ada"]),
            ("surname", &["Lovelace"]),
            (
                "memberOf",
                &["CN=test, OU=unit, DC=mycomp", "CN=a\\,b,DC=x"],
            ),
        ]);
        let id = map(&s, &c).unwrap();
        assert_eq!(id.name, "Ada Lovelace");
        assert_eq!(id.login, "nameid-123");
        assert_eq!(id.groups, ["test", "a,b"]);
        let missing = claims_of(&[("givenName", &["Ada"])]);
        assert_eq!(
            map(&s, &missing).unwrap_err(),
            MappingError::MissingTemplateAttribute {
                setting: "assertion_attribute_name",
                attribute: "surname".into()
            }
        );
        let strict_login = SamlSettings {
            assertion_attribute_login: "uid".into(),
            ..SamlSettings::default()
        };
        assert!(matches!(
            map(&strict_login, &c),
            Err(MappingError::NoLogin(_))
        ));
    }
}
