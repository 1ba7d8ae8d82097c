//! The static files every page links: one stylesheet and the console's
//! progressive-enhancement script, compiled into the binary (no file system
//! lookups, nothing to deploy beside it) and cacheable for a day.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub const STYLESHEET: &str = "/assets/ssoplane.css";
pub const CONSOLE_SCRIPT: &str = "/assets/console.js";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            STYLESHEET,
            get(|| async {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../../assets/ssoplane.css"),
                )
            }),
        )
        .route(
            CONSOLE_SCRIPT,
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../../assets/console.js"),
                )
            }),
        )
}
