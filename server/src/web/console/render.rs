//! Rendering console pages: every page is an askama template (HTML-escaped
//! by default) inside one layout, answered with the console's headers (a
//! strict Content-Security-Policy with no inline script, no framing, no
//! caching) and the console cookie when the browser lacks it.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::access::ConsoleUser;
use crate::web::assets::{CONSOLE_SCRIPT, STYLESHEET};
use crate::web::pages::secure_html;

/// The console sections, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Providers,
    Events,
    Users,
    Groups,
    Tokens,
}

/// What the layout shows around every page.
pub struct Chrome {
    pub title: String,
    pub nav: Nav,
    pub login: String,
    pub level: &'static str,
    pub admin: bool,
    pub csrf: String,
    pub stylesheet: &'static str,
    pub script: &'static str,
}

impl Chrome {
    pub fn new(user: &ConsoleUser, nav: Nav, title: impl Into<String>) -> Chrome {
        Chrome {
            title: title.into(),
            nav,
            login: user.user.login.clone(),
            level: user.level.name(),
            admin: user.is_admin(),
            csrf: user.csrf.clone(),
            stylesheet: STYLESHEET,
            script: CONSOLE_SCRIPT,
        }
    }

    pub fn is(&self, nav: &str) -> bool {
        let ours = match self.nav {
            Nav::Providers => "providers",
            Nav::Events => "events",
            Nav::Users => "users",
            Nav::Groups => "groups",
            Nav::Tokens => "tokens",
        };
        ours == nav
    }
}

const CONSOLE_CSP: &str = "; script-src 'self'; form-action 'self'; connect-src 'none'";

/// A rendered template as a console response.
pub fn page(user: &ConsoleUser, status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => user.with_cookie(secure_html((status, html).into_response(), CONSOLE_CSP)),
        Err(e) => {
            tracing::error!(error = %e, "console page failed to render");
            refusal_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Page unavailable",
                "This page could not be shown.",
                &user.correlation_id,
            )
        }
    }
}

#[derive(Template)]
#[template(path = "console/refusal.html")]
struct RefusalPage<'a> {
    title: &'a str,
    message: &'a str,
    correlation_id: &'a str,
    stylesheet: &'static str,
}

/// A page for someone who may not (or cannot) go further: no layout with
/// navigation, since they may not be a console user.
pub fn refusal_page(
    status: StatusCode,
    title: &str,
    message: &str,
    correlation_id: &str,
) -> Response {
    let html = RefusalPage {
        title,
        message,
        correlation_id,
        stylesheet: STYLESHEET,
    }
    .render()
    .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".to_owned());
    secure_html((status, html).into_response(), "")
}
