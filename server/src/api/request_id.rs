//! Correlation ids: every request gets one (the client's `X-Request-Id` when it
//! is a safe token, else a fresh UUID); it is echoed in the response header,
//! in error bodies and in every log line about the request.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "x-request-id";

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_safe_ids_are_taken_from_clients() {
        assert!(super::acceptable("abc-123_x.y"));
        assert!(!super::acceptable("a b"));
        assert!(!super::acceptable("line\nbreak"));
        assert!(!super::acceptable(&"a".repeat(65)));
    }
}
