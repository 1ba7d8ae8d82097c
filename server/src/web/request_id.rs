//! Correlation ids. Every request gets one: the client's `X-Request-Id` when
//! it is one short safe token (headers are attacker input), else a fresh
//! UUID. The id is echoed in the response header and recorded on the
//! request's span, so every log line inside the request carries it without
//! being passed around; [`CorrelationId`] hands it to the few places that
//! show or store it (API and SCIM error bodies, error pages, audit entries,
//! login events).
//!
//! The span is at level INFO: with the log level at `warn` or quieter it is
//! disabled and costs a callsite check, and log lines do not carry the id.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderName, HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id taken from a client.
const MAX_LEN: usize = 64;

fn acceptable(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
}

/// Runs before `SetRequestIdLayer` (which honours any incoming id): drops
/// an `X-Request-Id` that is not exactly one acceptable token, so a fresh
/// one is made instead.
pub fn screen<B>(mut req: Request<B>) -> Request<B> {
    let mut values = req.headers().get_all(HEADER).iter();
    let keep = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(v), None) => acceptable(v.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        req.headers_mut().remove(HEADER);
    }
    req
}

/// Makes a fresh id: a UUID v4, formatted without an intermediate string.
#[derive(Clone, Copy, Default)]
pub struct MakeUuid;

impl MakeRequestId for MakeUuid {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut buf = uuid::Uuid::encode_buffer();
        let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

/// The request's span (`TraceLayer::make_span_with`): method, matched route
/// and correlation id, borrowed from the request.
pub fn span<B>(req: &Request<B>) -> tracing::Span {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!(
        "request",
        method = req.method().as_str(),
        path,
        correlation_id = id_of(req.extensions()),
    )
}

fn id_of(extensions: &Extensions) -> &str {
    extensions
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or("")
}

/// The request's correlation id, for what is shown to the client or stored;
/// log lines already carry it through the request span.
#[derive(Clone, Debug)]
pub struct CorrelationId(HeaderValue);

impl CorrelationId {
    pub fn of(extensions: &Extensions) -> CorrelationId {
        CorrelationId(
            extensions
                .get::<RequestId>()
                .map(|r| r.header_value().clone())
                .unwrap_or(HeaderValue::from_static("")),
        )
    }

    /// Only safe tokens or UUIDs are ever set, so the text is always there.
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or("")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CorrelationId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(CorrelationId::of(&parts.extensions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_ids_are_taken_from_clients() {
        assert!(acceptable(b"abc-123_x.y"));
        assert!(!acceptable(b""));
        assert!(!acceptable(b"a b"));
        assert!(!acceptable(b"line\nbreak"));
        assert!(acceptable("a".repeat(64).as_bytes()));
        assert!(!acceptable("a".repeat(65).as_bytes()));
    }

    #[test]
    fn screened_ids() {
        let req = |ids: &[&str]| {
            let mut b = Request::builder();
            for id in ids {
                b = b.header(HEADER, *id);
            }
            screen(b.body(()).unwrap())
        };
        assert_eq!(req(&["trace-1"]).headers()[HEADER], "trace-1");
        assert!(req(&["abc 123"]).headers().get(HEADER).is_none());
        assert!(req(&["a", "b"]).headers().get(HEADER).is_none());
        assert!(req(&[]).headers().get(HEADER).is_none());
    }

    #[test]
    fn fresh_ids_are_uuids() {
        let id = MakeUuid.make_request_id(&Request::new(())).unwrap();
        let text = id.header_value().to_str().unwrap();
        assert!(uuid::Uuid::parse_str(text).is_ok() && acceptable(text.as_bytes()));
    }
}
