//! HTML pages. Every interpolated value is escaped.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

/// The security headers every HTML page carries; `extra_csp` extends the
/// policy (the POST-binding form's target and script hash).
pub fn secure_html(mut resp: Response, extra_csp: &str) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if let Ok(csp) = HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'{extra_csp}"
    )) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    resp
}

fn page(status: StatusCode, title: &str, body: &str, extra_csp: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · ssoplane</title><link rel=\"stylesheet\" href=\"{}\"></head>\
         <body><main class=\"single\"><a class=\"brand\" href=\"/\">ssoplane</a>{body}</main></body></html>",
        text(title),
        super::assets::STYLESHEET,
    );
    secure_html((status, html).into_response(), extra_csp)
}

/// A failed login or SAML exchange: what happened in words a user can act on,
/// and the correlation id the administrator finds in the logs.
pub fn error(status: StatusCode, message: &str, correlation_id: &str) -> Response {
    let body = format!(
        "<h1>Sign-in failed</h1><p>{}</p><p>If this keeps happening, give your administrator this reference: <code>{}</code></p><p><a href=\"/login\">Back to sign-in</a></p>",
        text(message),
        text(correlation_id)
    );
    page(status, "Sign-in failed", &body, "")
}

/// The login page: one button per enabled provider.
pub fn login(providers: &[(String, String)], redirect_to: &str, local_login: bool) -> Response {
    let mut body = String::from("<h1>Sign in</h1>");
    if providers.is_empty() {
        body.push_str("<p>No single sign-on provider is enabled.</p>");
    }
    for (slug, name) in providers {
        let mut href = format!("/saml/{slug}/login");
        if !redirect_to.is_empty() && redirect_to != "/" {
            href.push_str("?redirect_to=");
            href.push_str(
                &url::form_urlencoded::byte_serialize(redirect_to.as_bytes()).collect::<String>(),
            );
        }
        body.push_str(&format!(
            "<a class=\"button\" href=\"{}\">Sign in with {}</a>",
            attr(&href),
            text(name)
        ));
    }
    if local_login {
        body.push_str("<p><a href=\"/login?noSSO=true\">Sign in with a local account</a></p>");
    }
    page(StatusCode::OK, "Sign in", &body, "")
}

/// The HTTP-POST binding: a form that submits itself to the IdP (or on click without JavaScript).
pub fn post_form(action: &str, fields: &[(&str, &str)]) -> Response {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                attr(k),
                attr(v)
            )
        })
        .collect();
    let script = "document.forms[0].submit()";
    let body = format!(
        "<form method=\"post\" action=\"{}\">{inputs}<noscript><p>JavaScript is off: press the button to continue.</p></noscript><button type=\"submit\">Continue to sign-in</button></form><script>{script}</script>",
        attr(action)
    );
    let origin = url::Url::parse(action)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    // The form may post only to the IdP; the inline script is allowed by its hash.
    let hash = {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
    };
    page(
        StatusCode::OK,
        "Continue to sign-in",
        &body,
        &format!("; form-action {origin}; script-src 'sha256-{hash}'"),
    )
}

/// The signed-in page at `/`: who, and the way out (and in, for admins).
pub fn signed_in(login: &str, console: bool) -> Response {
    let console = if console {
        "<p><a class=\"button\" href=\"/admin\">Open the admin console</a></p>"
    } else {
        ""
    };
    page(
        StatusCode::OK,
        "Signed in",
        &format!(
            "<h1>Signed in</h1><p>You are signed in as {}.</p>{console}<p><a href=\"/logout\">Sign out</a></p>",
            text(login)
        ),
        "",
    )
}

pub fn message(title: &str, message: &str) -> Response {
    page(
        StatusCode::OK,
        title,
        &format!("<h1>{}</h1><p>{}</p>", text(title), text(message)),
        "",
    )
}

/// The break-glass local administrator form.
pub fn local_login(redirect_to: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p role=\"alert\">{}</p>", text(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Local administrator sign-in</h1>{error}<form method=\"post\" action=\"/login/local\">\
         <p><label>Username <input name=\"username\" autocomplete=\"username\" required></label></p>\
         <p><label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label></p>\
         <input type=\"hidden\" name=\"redirect_to\" value=\"{}\"><button type=\"submit\">Sign in</button></form>",
        attr(redirect_to)
    );
    page(
        if error.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        },
        "Local sign-in",
        &body,
        "; form-action 'self'",
    )
}
