//! The rules an identity value (NameID and its qualifiers, login, email,
//! external uid) must meet. Values are used exactly as the IdP signed them —
//! compared byte for byte, never trimmed, folded or normalised — so a value
//! that could pass for another (padded with Unicode whitespace, carrying
//! invisible format characters) is refused instead of being cleaned up.
//! Errors name the character by code point and position, never echo the value.

use std::fmt;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Which identity value is checked; each has its own length limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    NameId,
    NameIdFormat,
    NameQualifier,
    SpNameQualifier,
    SpProvidedId,
    Login,
    Email,
    ExternalUid,
}

impl ValueKind {
    /// How errors and login events name the value.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::NameId => "NameID",
            ValueKind::NameIdFormat => "NameID Format",
            ValueKind::NameQualifier => "NameID NameQualifier",
            ValueKind::SpNameQualifier => "NameID SPNameQualifier",
            ValueKind::SpProvidedId => "NameID SPProvidedID",
            ValueKind::Login => "login",
            ValueKind::Email => "email",
            ValueKind::ExternalUid => "external uid",
        }
    }

    /// In characters. Logins and external uids are handles, not documents;
    /// 320 is the longest address RFC 5321 allows (64 + 1 + 255); a NameID
    /// may be an X.509 subject or a Kerberos principal, hence more room.
    pub fn max_chars(self) -> usize {
        match self {
            ValueKind::Login | ValueKind::ExternalUid => 256,
            ValueKind::Email => 320,
            ValueKind::NameId
            | ValueKind::NameIdFormat
            | ValueKind::NameQualifier
            | ValueKind::SpNameQualifier
            | ValueKind::SpProvidedId => 1024,
        }
    }
}

/// A character by its code point: `U+00A0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePoint(pub char);

impl fmt::Display for CodePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

/// Logins under this prefix belong to the break-glass administrator
/// (`local:<username>`); no IdP or API client may take one.
pub const LOCAL_LOGIN_PREFIX: &str = "local:";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ValueError {
    #[error("it is empty")]
    Empty,
    #[error("it is {len} characters long; at most {max} are accepted")]
    TooLong { len: usize, max: usize },
    #[error("it starts with whitespace ({0})")]
    LeadingWhitespace(CodePoint),
    #[error("it ends with whitespace ({0})")]
    TrailingWhitespace(CodePoint),
    #[error("it contains the {class} character {cp} at position {at}")]
    Forbidden {
        class: &'static str,
        cp: CodePoint,
        at: usize,
    },
    #[error("it contains whitespace ({cp}) at position {at}, which an email address cannot")]
    InnerWhitespace { cp: CodePoint, at: usize },
    #[error("it is not an email address: {0}")]
    NotEmail(&'static str),
    #[error("it starts with \"local:\", which is reserved for the break-glass administrator")]
    ReservedPrefix,
}

/// The class of a character no identity value may contain anywhere:
/// controls (Cc), invisible format characters (Cf: zero-width space, BOM,
/// bidirectional overrides) and the line/paragraph separators.
fn forbidden_class(c: char) -> Option<&'static str> {
    match c.general_category() {
        GeneralCategory::Control => Some("control"),
        GeneralCategory::Format => Some("format"),
        GeneralCategory::LineSeparator => Some("line separator"),
        GeneralCategory::ParagraphSeparator => Some("paragraph separator"),
        _ => None,
    }
}

/// Checks `value` as a `kind`; `Ok` means it may be stored and compared as it is.
pub fn check(kind: ValueKind, value: &str) -> Result<(), ValueError> {
    let mut chars = value.chars();
    let Some(first) = chars.next() else {
        return Err(ValueError::Empty);
    };
    let len = value.chars().count();
    let max = kind.max_chars();
    if len > max {
        return Err(ValueError::TooLong { len, max });
    }
    if first.is_whitespace() {
        return Err(ValueError::LeadingWhitespace(CodePoint(first)));
    }
    if let Some(last) = value.chars().next_back().filter(|c| c.is_whitespace()) {
        return Err(ValueError::TrailingWhitespace(CodePoint(last)));
    }
    for (at, c) in value.chars().enumerate() {
        if let Some(class) = forbidden_class(c) {
            return Err(ValueError::Forbidden {
                class,
                cp: CodePoint(c),
                at,
            });
        }
    }
    match kind {
        ValueKind::Email => check_email(value),
        ValueKind::Login if value.starts_with(LOCAL_LOGIN_PREFIX) => {
            Err(ValueError::ReservedPrefix)
        }
        _ => Ok(()),
    }
}

/// Deliberately no more than the shape every address has: one `@` between
/// a non-empty local part and a non-empty domain, no whitespace. Whether the
/// IdP verified the address is the IdP's business.
fn check_email(value: &str) -> Result<(), ValueError> {
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| c.is_whitespace()) {
        return Err(ValueError::InnerWhitespace {
            cp: CodePoint(c),
            at,
        });
    }
    let mut parts = value.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (_, None, _) => Err(ValueError::NotEmail("it has no '@'")),
        (_, _, Some(_)) => Err(ValueError::NotEmail("it has more than one '@'")),
        (Some(""), _, _) => Err(ValueError::NotEmail("the part before '@' is empty")),
        (_, Some(""), _) => Err(ValueError::NotEmail("the domain after '@' is empty")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace per Unicode White_Space, and the invisible characters
    /// that are not White_Space but would pass for nothing on screen.
    const PADDING: &[char] = &[
        ' ', '\t', '\n', '\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}',
        '\u{2007}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
        '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{202E}', '\u{180E}',
        '\u{0}', '\u{7F}',
    ];

    const KINDS: &[ValueKind] = &[
        ValueKind::NameId,
        ValueKind::NameIdFormat,
        ValueKind::NameQualifier,
        ValueKind::SpNameQualifier,
        ValueKind::SpProvidedId,
        ValueKind::Login,
        ValueKind::Email,
        ValueKind::ExternalUid,
    ];

    #[test]
    fn padding_of_any_kind_is_refused_on_every_value() {
        for kind in KINDS {
            assert_eq!(check(*kind, "admin@corp.example"), Ok(()), "{kind:?}");
            for c in PADDING {
                for value in [
                    format!("{c}admin@corp.example"),
                    format!("admin@corp.example{c}"),
                ] {
                    let e = check(*kind, &value).expect_err(&format!("{kind:?} {:?}", value));
                    assert!(
                        matches!(
                            e,
                            ValueError::LeadingWhitespace(_)
                                | ValueError::TrailingWhitespace(_)
                                | ValueError::Forbidden { .. }
                        ),
                        "{kind:?} {value:?}: {e}"
                    );
                    assert!(
                        e.to_string().contains(&format!("U+{:04X}", u32::from(*c))),
                        "{e}"
                    );
                }
            }
        }
    }

    #[test]
    fn invisible_characters_are_refused_anywhere() {
        for c in [
            '\u{200B}', '\u{FEFF}', '\u{202E}', '\u{2028}', '\u{85}', '\u{1B}',
        ] {
            let value = format!("ad{c}min");
            let e = check(ValueKind::Login, &value).unwrap_err();
            assert!(
                matches!(e, ValueError::Forbidden { at: 2, .. }),
                "{c:?}: {e}"
            );
        }
        // Inner spaces are part of some logins and NameIDs (X.509 subjects).
        assert_eq!(check(ValueKind::Login, "Ada Lovelace"), Ok(()));
        assert_eq!(check(ValueKind::NameId, "CN=Ada Lovelace, O=Corp"), Ok(()));
    }

    #[test]
    fn messages_name_the_character_not_the_value() {
        let e = check(ValueKind::Login, "admin@corp.example\u{A0}").unwrap_err();
        assert_eq!(e.to_string(), "it ends with whitespace (U+00A0)");
        let e = check(ValueKind::NameId, "\u{3000}admin").unwrap_err();
        assert_eq!(e.to_string(), "it starts with whitespace (U+3000)");
        let e = check(ValueKind::Login, "ad\u{200B}min").unwrap_err();
        assert_eq!(
            e.to_string(),
            "it contains the format character U+200B at position 2"
        );
    }

    #[test]
    fn lengths_are_bounded_per_kind() {
        for kind in KINDS {
            let max = kind.max_chars();
            let ok = format!("{}@x", "a".repeat(max - 2));
            assert_eq!(check(*kind, &ok), Ok(()), "{kind:?}");
            let long = format!("a{ok}");
            assert_eq!(
                check(*kind, &long),
                Err(ValueError::TooLong { len: max + 1, max }),
                "{kind:?}"
            );
            assert_eq!(check(*kind, ""), Err(ValueError::Empty));
        }
        // Characters, not bytes: 256 three-byte characters are a valid login.
        assert_eq!(check(ValueKind::Login, &"語".repeat(256)), Ok(()));
    }

    #[test]
    fn emails_have_one_at_and_no_whitespace() {
        for good in ["ada@example.com", "a+b@x", "\"a\"@[127.0.0.1]"] {
            assert_eq!(check(ValueKind::Email, good), Ok(()), "{good}");
        }
        for bad in [
            "ada",
            "ada@@example.com",
            "a@b@c",
            "@example.com",
            "ada@",
            "ada @example.com",
            "ada@exa\u{A0}mple.com",
        ] {
            assert!(
                matches!(
                    check(ValueKind::Email, bad),
                    Err(ValueError::NotEmail(_) | ValueError::InnerWhitespace { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn local_prefix_is_reserved_for_logins_only() {
        assert_eq!(
            check(ValueKind::Login, "local:admin"),
            Err(ValueError::ReservedPrefix)
        );
        assert_eq!(check(ValueKind::NameId, "local:admin"), Ok(()));
        assert_eq!(check(ValueKind::Login, "Local:admin"), Ok(()));
    }
}
