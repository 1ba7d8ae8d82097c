//! Cookies: read one from the request, write one with the attributes a
//! session cookie needs (`HttpOnly`, `Secure` on https, `SameSite`).

use axum::http::{header, HeaderMap, HeaderValue};

pub const SESSION: &str = "ssoplane_session";
/// Binds an AuthnRequest to the browser that started it.
pub const BROWSER: &str = "ssoplane_browser";

pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[derive(Clone, Copy)]
pub enum SameSite {
    Lax,
    /// Needed for cookies that must come back on the IdP's cross-site POST to the ACS.
    NoneIfSecure,
}

pub fn set(
    name: &str,
    value: &str,
    max_age_secs: i64,
    secure: bool,
    same_site: SameSite,
) -> HeaderValue {
    let same_site = match (same_site, secure) {
        (SameSite::NoneIfSecure, true) => "None",
        // Browsers drop SameSite=None without Secure; plain-http deployments
        // (development) fall back to Lax, where the IdP's POST carries no cookie
        // and only IdP-initiated logins can work.
        _ => "Lax",
    };
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite={same_site}{secure}"
    ))
    .unwrap_or(HeaderValue::from_static("invalid=1; Max-Age=0"))
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", 0, secure, SameSite::Lax)
}
