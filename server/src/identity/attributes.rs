//! From a verified assertion to an identity: the NameID, the attributes (by
//! Name and by FriendlyName), and the `assertion_attribute_*` mapping with its
//! defaults, which understand Entra ID's claim URIs. Values are taken exactly
//! as signed (no trimming); identity values that break `values`' rules are
//! refused here.

use std::collections::BTreeMap;

use super::subject::{self, NameId};
use super::values::{self, ValueError, ValueKind};
use ssoplane_schema::SamlSettings;

/// Longest display name accepted, in characters.
const MAX_NAME_CHARS: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MappingError {
    #[error("the assertion has no NameID")]
    NoNameId,
    #[error("no login could be found (looked for {0}, then the NameID)")]
    NoLogin(String),
    #[error("no login attribute was found and the NameID is transient (a new value at every login, so it names nobody): set assertion_attribute_login or have the IdP send a persistent NameID")]
    TransientLogin,
    #[error("attribute {attribute:?} used by {setting} is missing from the assertion")]
    MissingTemplateAttribute {
        setting: &'static str,
        attribute: String,
    },
    #[error("the {what} is refused: {why}")]
    Invalid { what: &'static str, why: ValueError },
    #[error("the {0} value contains control characters")]
    ControlCharacters(&'static str),
    #[error("the name is {0} characters long; at most {MAX_NAME_CHARS} are accepted")]
    NameTooLong(usize),
}

/// Checks an identity value, naming it in the error.
fn checked(kind: ValueKind, value: &str) -> Result<(), MappingError> {
    values::check(kind, value).map_err(|why| MappingError::Invalid {
        what: kind.name(),
        why,
    })
}

/// The NameID's value and every qualifier it carries.
fn check_name_id(n: &NameId) -> Result<(), MappingError> {
    checked(ValueKind::NameId, &n.value)?;
    for (kind, v) in [
        (ValueKind::NameIdFormat, &n.format),
        (ValueKind::NameQualifier, &n.name_qualifier),
        (ValueKind::SpNameQualifier, &n.sp_name_qualifier),
        (ValueKind::SpProvidedId, &n.sp_provided_id),
    ] {
        if let Some(v) = v {
            checked(kind, v)?;
        }
    }
    Ok(())
}

/// An asserted attribute: its `Name`, `FriendlyName` and text values.
#[derive(Debug, Clone, Default)]
pub struct Attribute {
    pub name: String,
    pub friendly_name: Option<String>,
    /// Text values; complex (element) values are not text and are skipped.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub name_id: NameId,
    pub session_index: String,
    pub attributes: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The NameID as asserted: a subject unless transient, and the session's.
    pub name_id: NameId,
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

/// The claims of a verified assertion: its NameID (checked as signed), its
/// SessionIndex and its attributes by Name and by FriendlyName.
pub fn claims(
    name_id: Option<&NameId>,
    session_index: Option<&str>,
    asserted: &[Attribute],
) -> Result<Claims, MappingError> {
    let name_id = name_id.cloned().ok_or(MappingError::NoNameId)?;
    check_name_id(&name_id)?;
    let session_index = session_index.unwrap_or_default().to_owned();
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for attr in asserted {
        for key in std::iter::once(&attr.name).chain(attr.friendly_name.as_ref()) {
            attributes
                .entry(key.clone())
                .or_default()
                .extend(attr.values.iter().cloned());
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
    Ok(out)
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
    // Spaces around `,` and `=` are DN syntax (RFC 1779), so ASCII spaces
    // there are dropped; any other whitespace is part of the value.
    parts.into_iter().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim_matches(' ')
            .eq_ignore_ascii_case("cn")
            .then(|| v.trim_matches(' ').to_owned())
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
            if subject::is_transient(&c.name_id) {
                return Err(MappingError::TransientLogin);
            }
            c.name_id.value.clone()
        }
        _ => return Err(MappingError::NoLogin(s.assertion_attribute_login.clone())),
    };
    checked(ValueKind::Login, &login)?;
    let email = match c.value(
        "assertion_attribute_email",
        &s.assertion_attribute_email,
        EMAIL_DEFAULTS,
    )? {
        Some(e) => {
            checked(ValueKind::Email, &e)?;
            e
        }
        // The login stands in for a missing email only when it is one.
        None if values::check(ValueKind::Email, &login).is_ok() => login.clone(),
        None => String::new(),
    };
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
    if !external_uid.is_empty() {
        checked(ValueKind::ExternalUid, &external_uid)?;
    }
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
    if name.chars().any(char::is_control) {
        return Err(MappingError::ControlCharacters("name"));
    }
    let name_chars = name.chars().count();
    if name_chars > MAX_NAME_CHARS {
        return Err(MappingError::NameTooLong(name_chars));
    }
    Ok(Identity {
        name_id: c.name_id.clone(),
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
            name_id: NameId {
                value: "nameid-123".into(),
                ..NameId::default()
            },
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

    /// What a verified assertion asserts: a NameID and attributes.
    struct Asserted {
        name_id: NameId,
        attributes: Vec<Attribute>,
    }

    fn assertion(name_id: NameId, attrs: &[(&str, &[&str])]) -> Asserted {
        Asserted {
            name_id,
            attributes: attrs
                .iter()
                .map(|(n, v)| Attribute {
                    name: (*n).into(),
                    friendly_name: None,
                    values: v.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
        }
    }

    fn claims(a: &Asserted) -> Result<Claims, MappingError> {
        super::claims(Some(&a.name_id), None, &a.attributes)
    }

    fn persistent(value: &str) -> NameId {
        NameId {
            value: value.into(),
            format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into()),
            ..NameId::default()
        }
    }

    const PADDING: &[char] = &[
        ' ', '\t', '\u{A0}', '\u{2028}', '\u{3000}', '\u{85}', '\u{200B}', '\u{FEFF}',
    ];

    #[test]
    fn padded_name_ids_are_refused_not_trimmed() {
        for c in PADDING {
            for padded in [
                format!("{c}admin@corp.example"),
                format!("admin@corp.example{c}"),
            ] {
                let e = claims(&assertion(persistent(&padded), &[])).unwrap_err();
                assert!(
                    matches!(e, MappingError::Invalid { what: "NameID", .. }),
                    "{padded:?}: {e}"
                );
                assert!(e.to_string().starts_with("the NameID is refused: "), "{e}");
            }
        }
        let mut qualified = persistent("ada");
        qualified.name_qualifier = Some("https://idp.test\u{A0}".into());
        assert!(matches!(
            claims(&assertion(qualified, &[])),
            Err(MappingError::Invalid {
                what: "NameID NameQualifier",
                ..
            })
        ));
    }

    #[test]
    fn padded_logins_emails_and_external_uids_are_refused() {
        let s = SamlSettings::default();
        for c in PADDING {
            for padded in [
                format!("{c}admin@corp.example"),
                format!("admin@corp.example{c}"),
            ] {
                for (attr, what) in [
                    ("uid", "login"),
                    ("mail", "email"),
                    ("userUID", "external uid"),
                ] {
                    let one = [padded.as_str()];
                    let mut attrs: Vec<(&str, &[&str])> = vec![(attr, &one)];
                    if attr != "uid" {
                        attrs.push(("uid", &["ada"]));
                    }
                    let a = assertion(persistent("n-1"), &attrs);
                    let e = map(&s, &claims(&a).unwrap()).unwrap_err();
                    assert!(
                        matches!(e, MappingError::Invalid { what: w, .. } if w == what),
                        "{attr} {padded:?}: {e}"
                    );
                }
            }
        }
        // The NameID standing in for the login meets the login's rules too.
        let a = assertion(persistent("local:admin"), &[]);
        assert!(matches!(
            map(&s, &claims(&a).unwrap()),
            Err(MappingError::Invalid { what: "login", .. })
        ));
    }

    #[test]
    fn values_are_used_exactly_as_signed() {
        let s = SamlSettings {
            assertion_attribute_name: "$__saml{givenName} $__saml{surname}".into(),
            ..SamlSettings::default()
        };
        let a = assertion(
            persistent("Ada@Corp.Example"),
            &[
                ("givenName", &["Ada"]),
                ("surname", &["Lovelace "]),
                ("groups", &[" eng", "eng"]),
            ],
        );
        let id = map(&s, &claims(&a).unwrap()).unwrap();
        assert_eq!(id.login, "Ada@Corp.Example", "no case folding");
        assert_eq!(id.email, "Ada@Corp.Example");
        assert_eq!(id.name, "Ada Lovelace ", "no trimming of the name either");
        assert_eq!(id.groups, [" eng", "eng"]);
        assert_eq!(id.name_id, persistent("Ada@Corp.Example"));
    }

    #[test]
    fn a_transient_name_id_is_no_login_and_bad_emails_are_refused() {
        let s = SamlSettings::default();
        let transient = NameId {
            value: "_a1b2".into(),
            format: Some(subject::TRANSIENT.into()),
            ..NameId::default()
        };
        let a = assertion(transient.clone(), &[]);
        assert_eq!(
            map(&s, &claims(&a).unwrap()),
            Err(MappingError::TransientLogin)
        );
        let a = assertion(
            transient,
            &[("uid", &["ada"]), ("mail", &["ada@@corp.example"])],
        );
        assert!(matches!(
            map(&s, &claims(&a).unwrap()),
            Err(MappingError::Invalid { what: "email", .. })
        ));
        // A login that is no address leaves the email empty.
        let a = assertion(persistent("a@b@c"), &[]);
        let id = map(&s, &claims(&a).unwrap()).unwrap();
        assert_eq!((id.login.as_str(), id.email.as_str()), ("a@b@c", ""));
    }
}
