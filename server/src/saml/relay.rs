//! Where a login may send the browser afterwards. Only same-origin paths and
//! the provider's `allowed_redirect_urls` (scheme + host + port + path prefix,
//! `*.example.com` wildcards) pass: anything else would make us an open
//! redirector that phishing can borrow. Targets and RelayState values are
//! size-capped: what we accept (a few KiB, a URL's worth) and what we send
//! ourselves (80 bytes, SAML bindings §3.4.3).

use url::Url;

/// Longest redirect target or RelayState accepted from a browser or an IdP.
pub const MAX_ACCEPTED: usize = 4096;
/// Longest RelayState we send (SAML bindings §3.4.3).
pub const MAX_EMITTED: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the target is longer than {MAX_ACCEPTED} bytes")]
    TooLong,
    #[error("the target is off-site and not in allowed_redirect_urls")]
    NotAllowed,
}

/// Returns the target to redirect to, or why it is refused.
pub fn allowed_target(target: &str, root_url: &str, allowed: &[String]) -> Result<String, Refused> {
    if target.len() > MAX_ACCEPTED {
        return Err(Refused::TooLong);
    }
    same_site_or_allowed(target, root_url, allowed).ok_or(Refused::NotAllowed)
}

fn same_site_or_allowed(target: &str, root_url: &str, allowed: &[String]) -> Option<String> {
    let target = target.trim();
    if target.is_empty() {
        return Some("/".to_owned());
    }
    // A same-origin path: one leading '/', not '//' (scheme-relative) or '/\'.
    if target.starts_with('/') && !target.starts_with("//") && !target.starts_with("/\\") {
        if target.chars().any(|c| c.is_control() || c == '\\') {
            return None;
        }
        return Some(target.to_owned());
    }
    let url = Url::parse(target).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let same_origin = Url::parse(root_url)
        .ok()
        .is_some_and(|root| root.origin() == url.origin());
    if same_origin || allowed.iter().any(|pattern| matches_pattern(&url, pattern)) {
        Some(url.to_string())
    } else {
        None
    }
}

fn matches_pattern(url: &Url, pattern: &str) -> bool {
    let wildcard = pattern.contains("://*.");
    let Ok(p) = Url::parse(&pattern.replacen("://*.", "://wildcard.", 1)) else {
        return false;
    };
    let (Some(host), Some(p_host)) = (url.host_str(), p.host_str()) else {
        return false;
    };
    let host_ok = if wildcard {
        let suffix = p_host.trim_start_matches("wildcard");
        host.ends_with(suffix) && host.len() > suffix.len()
    } else {
        host.eq_ignore_ascii_case(p_host)
    };
    let prefix = p.path().trim_end_matches('/');
    let path_ok =
        url.path() == prefix || url.path().starts_with(&format!("{prefix}/")) || prefix.is_empty();
    url.scheme() == p.scheme()
        && host_ok
        && url.port_or_known_default() == p.port_or_known_default()
        && path_ok
}

#[cfg(test)]
mod tests {
    use super::{allowed_target, Refused, MAX_ACCEPTED};

    const ROOT: &str = "https://sso.example.com";

    #[test]
    fn same_origin_paths_pass_and_tricks_do_not() {
        assert_eq!(
            allowed_target("/app?x=1", ROOT, &[]).as_deref(),
            Ok("/app?x=1")
        );
        assert_eq!(allowed_target("", ROOT, &[]).as_deref(), Ok("/"));
        let long = format!("/{}", "a".repeat(MAX_ACCEPTED));
        assert_eq!(allowed_target(&long, ROOT, &[]), Err(Refused::TooLong));
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "https://evil.com/",
            "javascript:alert(1)",
            "https://sso.example.com.evil.com/",
            "https://user@sso.example.com/",
        ] {
            assert_eq!(
                allowed_target(bad, ROOT, &[]),
                Err(Refused::NotAllowed),
                "{bad}"
            );
        }
        assert!(allowed_target("https://sso.example.com/x", ROOT, &[]).is_ok());
    }

    #[test]
    fn allowed_urls_and_wildcards() {
        let allowed = vec![
            "https://*.apps.example.com/dash".to_owned(),
            "https://wiki.example.com".to_owned(),
        ];
        assert!(allowed_target("https://a.apps.example.com/dash/x", ROOT, &allowed).is_ok());
        assert!(allowed_target("https://apps.example.com/dash", ROOT, &allowed).is_err());
        assert!(allowed_target("https://a.apps.example.com/dashboard", ROOT, &allowed).is_err());
        assert!(allowed_target("http://a.apps.example.com/dash", ROOT, &allowed).is_err());
        assert!(allowed_target("https://wiki.example.com/page", ROOT, &allowed).is_ok());
        assert!(allowed_target("https://wiki.example.com:8443/page", ROOT, &allowed).is_err());
    }
}
