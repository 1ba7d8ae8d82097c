//! Provider slugs: the `{provider}` in `/api/v1/sso-settings/{provider}` and `/saml/{provider}/...`.
//!
//! A slug also names where a user's identity links, grants and group
//! memberships come from, beside ssoplane's own sources ([`RESERVED`]); a
//! provider may not take one of those names, or its logins could reach the
//! links and grants of the break-glass administrator or of API-made users.

/// Sources of users and grants that are not SAML providers: the admin API,
/// SCIM provisioning and the break-glass local administrator.
pub const RESERVED: &[&str] = &["api", "scim", "local"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidSlug {
    #[error("provider name {0:?} is invalid: use 1-63 characters, lowercase letters, digits and '_', starting with a letter")]
    Syntax(String),
    #[error("provider name {0:?} is reserved (api, scim and local name ssoplane's own sources of users); choose another")]
    Reserved(String),
}

pub fn check(slug: &str) -> Result<(), InvalidSlug> {
    let mut chars = slug.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && slug.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(InvalidSlug::Syntax(slug.chars().take(80).collect()));
    }
    if RESERVED.contains(&slug) {
        return Err(InvalidSlug::Reserved(slug.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["saml", "okta", "microsoft_ad", "a1", "apis", "local_ad"] {
            assert!(check(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Okta",
            "1okta",
            "ok-ta",
            "../x",
            "ok ta",
            &"a".repeat(64),
        ] {
            assert!(matches!(check(bad), Err(InvalidSlug::Syntax(_))), "{bad}");
        }
    }

    #[test]
    fn own_sources_are_reserved() {
        for name in RESERVED {
            assert_eq!(
                check(name),
                Err(InvalidSlug::Reserved((*name).to_owned())),
                "{name}"
            );
        }
    }
}
