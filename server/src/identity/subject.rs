//! What identifies a user at one provider: the kinds of identity link, from
//! the strongest (a stable external uid) to the weakest (the login handle),
//! and the canonical subject string each kind is stored under.

use std::fmt;

use super::attributes::Identity;

/// SAML core 8.3.8: a new value at every login, identifying nobody later.
pub const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
/// SAML core 2.2.2: an omitted `Format` means this one.
pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// The subject's `NameID`: its text and the attributes that qualify it
/// (SAML core 2.2.2), kept as asserted so they can be stored with the
/// session and echoed exactly in a LogoutRequest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameId {
    pub value: String,
    pub format: Option<String>,
    pub name_qualifier: Option<String>,
    pub sp_name_qualifier: Option<String>,
    pub sp_provided_id: Option<String>,
}

/// Ordered weakest first, so `a > b` reads "a is stronger than b".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkKind {
    /// The mapped login handle: only for providers whose NameID is transient
    /// and who send no external uid, and for links made before links existed.
    Login,
    /// A NameID that is not transient, with its Format and qualifiers.
    NameId,
    /// The mapped external uid (`assertion_attribute_external_uid`).
    ExternalUid,
}

impl LinkKind {
    pub const ALL: [LinkKind; 3] = [LinkKind::Login, LinkKind::NameId, LinkKind::ExternalUid];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Login => "login",
            LinkKind::NameId => "name_id",
            LinkKind::ExternalUid => "external_uid",
        }
    }

    pub fn parse(s: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One way an assertion identifies its user at a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: LinkKind,
    pub value: String,
}

pub fn is_transient(n: &NameId) -> bool {
    n.format.as_deref() == Some(TRANSIENT)
}

/// The stored form of a non-transient NameID: a JSON array
/// `[Format, NameQualifier, SPNameQualifier, value]` (absent qualifiers are
/// `null`, an absent Format is `unspecified`), so two different tuples never
/// serialise alike, whatever characters the values hold. SAML core 2.2.2
/// makes all four part of the identifier; SPProvidedID is an alias the SP
/// chose, not part of it.
pub fn name_id_subject(n: &NameId) -> Option<String> {
    if is_transient(n) {
        return None;
    }
    let tuple = (
        n.format.as_deref().unwrap_or(UNSPECIFIED),
        n.name_qualifier.as_deref(),
        n.sp_name_qualifier.as_deref(),
        n.value.as_str(),
    );
    serde_json::to_string(&tuple).ok()
}

/// Every subject the identity offers, strongest first; the login always
/// comes last, so the list is never empty.
pub fn subjects(id: &Identity) -> Vec<Subject> {
    let mut out = Vec::with_capacity(3);
    if !id.external_uid.is_empty() {
        out.push(Subject {
            kind: LinkKind::ExternalUid,
            value: id.external_uid.clone(),
        });
    }
    if let Some(value) = name_id_subject(&id.name_id) {
        out.push(Subject {
            kind: LinkKind::NameId,
            value,
        });
    }
    out.push(Subject {
        kind: LinkKind::Login,
        value: id.login.clone(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nid(value: &str, format: Option<&str>, nq: Option<&str>, spnq: Option<&str>) -> NameId {
        NameId {
            value: value.into(),
            format: format.map(Into::into),
            name_qualifier: nq.map(Into::into),
            sp_name_qualifier: spnq.map(Into::into),
            sp_provided_id: None,
        }
    }

    #[test]
    fn kinds_order_weakest_first() {
        assert!(LinkKind::ExternalUid > LinkKind::NameId);
        assert!(LinkKind::NameId > LinkKind::Login);
        for k in LinkKind::ALL {
            assert_eq!(LinkKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(LinkKind::parse("Login"), None);
    }

    #[test]
    fn name_id_subjects_are_unambiguous() {
        let p = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
        assert_eq!(
            name_id_subject(&nid("abc", Some(p), Some("https://idp"), None)).unwrap(),
            format!(r#"["{p}","https://idp",null,"abc"]"#)
        );
        assert_eq!(
            name_id_subject(&nid("abc", None, None, None)).unwrap(),
            format!(r#"["{UNSPECIFIED}",null,null,"abc"]"#),
            "an omitted Format is unspecified"
        );
        assert_eq!(
            name_id_subject(&nid("abc", None, None, None)),
            name_id_subject(&nid("abc", Some(UNSPECIFIED), None, None))
        );
        // Values that a separator-joined form would confuse stay apart.
        let tuples = [
            nid("b", Some(p), Some("a"), None),
            nid("", Some(p), Some("a\",\"b"), None),
            nid("b", Some(p), None, Some("a")),
            nid("b", Some(p), Some(""), None),
            nid("b", Some(p), None, None),
            nid("a|b", Some(p), None, None),
            nid("null", Some(p), None, None),
        ];
        let serialised: std::collections::BTreeSet<String> =
            tuples.iter().filter_map(name_id_subject).collect();
        assert_eq!(serialised.len(), tuples.len(), "{serialised:?}");
        assert_eq!(
            name_id_subject(&nid("abc", Some(TRANSIENT), None, None)),
            None
        );
    }

    #[test]
    fn subjects_strongest_first() {
        let p = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
        let mut id = Identity {
            login: "ada".into(),
            external_uid: "oid-1".into(),
            name_id: nid("n-1", Some(p), None, None),
            ..Identity::default()
        };
        let kinds: Vec<LinkKind> = subjects(&id).iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [LinkKind::ExternalUid, LinkKind::NameId, LinkKind::Login]
        );
        id.external_uid.clear();
        id.name_id.format = Some(TRANSIENT.into());
        assert_eq!(
            subjects(&id),
            [Subject {
                kind: LinkKind::Login,
                value: "ada".into()
            }]
        );
    }
}
