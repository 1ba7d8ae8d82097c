//! Provider slugs: the `{provider}` in `/api/v1/sso-settings/{provider}` and `/saml/{provider}/...`.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("provider name {0:?} is invalid: use 1-63 characters, lowercase letters, digits and '_', starting with a letter")]
pub struct InvalidSlug(pub String);

pub fn check(slug: &str) -> Result<(), InvalidSlug> {
    let mut chars = slug.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && slug.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(InvalidSlug(slug.chars().take(80).collect()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        for good in ["saml", "okta", "microsoft_ad", "a1"] {
            assert!(super::check(good).is_ok(), "{good}");
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
            assert!(super::check(bad).is_err(), "{bad}");
        }
    }
}
