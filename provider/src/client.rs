//! The admin API client: bearer auth, bounded retries with exponential
//! backoff on connection errors and 5xx (never on a TLS handshake failure,
//! which a retry cannot fix), preconditions on writes (`If-Match` /
//! `If-None-Match`), the managed-by marker, and errors that say what to do
//! (unreachable server, plain HTTP behind https://, refused token, reader
//! token writing, stale version).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use ssoplane_schema::api::{
    ErrorBody, FieldError, GroupDoc, HistoryEntry, PutGroup, PutSsoSettings, ServerInfo,
    SsoSettingsDoc, MANAGED_BY_HEADER, MANAGED_BY_TERRAFORM,
};
use ssoplane_schema::Settings;

/// Attempts per request (the first try included).
const ATTEMPTS: u32 = 4;
/// First pause between attempts; doubles each time (250ms, 500ms, 1s).
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the ssoplane server at {url} after {ATTEMPTS} attempts: {reason}. Check `url` (or SSOPLANE_URL) and that the server is running")]
    Unreachable { url: String, reason: String },
    #[error("the ssoplane server refused the token (401 Unauthorized): check `token` (or SSOPLANE_TOKEN); tokens are created with `ssoplane token create`")]
    Unauthorized,
    #[error("this token has the reader role: it can read and plan but not change anything ({method} {path} returned 403 Forbidden). Apply with an admin token (`ssoplane token create --role admin`)")]
    Forbidden { method: String, path: String },
    #[error("{message}")]
    Api {
        status: u16,
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("the server at {url} does not speak TLS (is it plain http? then use an http:// url)")]
    NotTls { url: String },
    #[error("the TLS handshake with the ssoplane server at {url} failed: {reason}. Check `url`, `ca_cert_pem` and the server's certificate")]
    Tls { url: String, reason: String },
    /// 412: the write's precondition did not hold; nothing was written.
    #[error("{message}")]
    Stale { message: String },
    #[error("unexpected response from the ssoplane server for {path}: {reason}")]
    Decode { path: String, reason: String },
    #[error("invalid provider configuration: {0}")]
    Config(String),
}

/// The precondition a write is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `If-None-Match: *`: create only.
    Absent,
    /// `If-Match: "N"`: the version last read (0: nothing set through the API).
    Version(i64),
}

impl Expect {
    fn header(self) -> (reqwest::header::HeaderName, String) {
        match self {
            Expect::Absent => (reqwest::header::IF_NONE_MATCH, "*".into()),
            // The server's ETag format: the version in double quotes.
            Expect::Version(v) => (reqwest::header::IF_MATCH, format!("\"{v}\"")),
        }
    }
}

/// Connection settings from the provider block.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub url: String,
    pub token: String,
    pub ca_cert_pem: Option<String>,
    pub insecure_skip_verify: bool,
}

#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(opts: &ClientOptions) -> Result<Client, ClientError> {
        let base = opts.url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Config(format!(
                "url {:?} must start with http:// or https://",
                opts.url
            )));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!(
                "terraform-provider-ssoplane/",
                env!("CARGO_PKG_VERSION")
            ));
        if let Some(pem) = opts.ca_cert_pem.as_deref().filter(|p| !p.trim().is_empty()) {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| {
                ClientError::Config(format!("ca_cert_pem is not a PEM certificate: {e}"))
            })?;
            builder = builder.add_root_certificate(cert);
        }
        if opts.insecure_skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            base,
            token: opts.token.clone(),
            http,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends one request with retries. Returns the final status and body
    /// for the caller to interpret (404 is a normal answer for reads).
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        auth: bool,
        expect: Option<Expect>,
    ) -> Result<(StatusCode, String), ClientError> {
        let url = format!("{}{}", self.base, path);
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(attempt - 1)).await;
            }
            let mut req = self.http.request(method.clone(), &url);
            if auth {
                req = req.bearer_auth(&self.token);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            if method != Method::GET {
                req = req.header(MANAGED_BY_HEADER, MANAGED_BY_TERRAFORM);
            }
            if let Some((name, value)) = expect.map(Expect::header) {
                req = req.header(name, value);
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    // 5xx may be a restarting server or a replica failing over:
                    // all our requests are idempotent (GET/PUT/DELETE), so retry.
                    if status.is_server_error() && attempt + 1 < ATTEMPTS {
                        tracing::warn!(%status, path, attempt, "server error, retrying");
                        last = format!("{status}: {text}");
                        continue;
                    }
                    return Ok((status, text));
                }
                Err(e) => {
                    if let Some(tls) = tls_failure(&e) {
                        // Another attempt meets the same server and certificate.
                        return Err(match tls {
                            rustls::Error::InvalidMessage(_) => ClientError::NotTls {
                                url: self.base.clone(),
                            },
                            other => ClientError::Tls {
                                url: self.base.clone(),
                                reason: other.to_string(),
                            },
                        });
                    }
                    tracing::warn!(error = %e, path, attempt, "request failed, retrying");
                    last = error_chain(&e);
                }
            }
        }
        Err(ClientError::Unreachable {
            url: self.base.clone(),
            reason: last,
        })
    }

    fn fail(&self, method: &Method, path: &str, status: StatusCode, text: &str) -> ClientError {
        match status {
            StatusCode::UNAUTHORIZED => ClientError::Unauthorized,
            StatusCode::FORBIDDEN => ClientError::Forbidden {
                method: method.to_string(),
                path: path.to_string(),
            },
            StatusCode::PRECONDITION_FAILED => ClientError::Stale {
                message: match serde_json::from_str::<ErrorBody>(text) {
                    Ok(body) => format!(
                        "{} ({method} {path} returned {status}; correlation id {})",
                        body.message, body.correlation_id
                    ),
                    Err(_) => format!("{method} {path} returned {status}"),
                },
            },
            _ => match serde_json::from_str::<ErrorBody>(text) {
                Ok(body) => ClientError::Api {
                    status: status.as_u16(),
                    message: format!(
                        "{} ({} {path} returned {status}; correlation id {})",
                        body.message, method, body.correlation_id
                    ),
                    errors: body.errors,
                },
                Err(_) => ClientError::Api {
                    status: status.as_u16(),
                    message: format!("{method} {path} returned {status}: {}", truncate(text)),
                    errors: Vec::new(),
                },
            },
        }
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        not_found_is_none: bool,
        expect: Option<Expect>,
    ) -> Result<Option<T>, ClientError> {
        let (status, text) = self.send(method.clone(), path, body, true, expect).await?;
        if status == StatusCode::NOT_FOUND && not_found_is_none {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.fail(&method, path, status, &text));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ClientError::Decode {
                path: path.to_string(),
                reason: e.to_string(),
            })
    }

    /// `GET /api/v1/info`: validates url and token, tells the root URL.
    pub async fn info(&self) -> Result<ServerInfo, ClientError> {
        let path = "/api/v1/info";
        self.json(Method::GET, path, None, false, None)
            .await?
            .ok_or_else(|| ClientError::Decode {
                path: path.into(),
                reason: "empty".into(),
            })
    }

    pub async fn get_settings(
        &self,
        provider: &str,
    ) -> Result<Option<SsoSettingsDoc>, ClientError> {
        self.json(Method::GET, &settings_path(provider), None, true, None)
            .await
    }

    /// The most recent history entry, if any.
    pub async fn last_change(&self, provider: &str) -> Result<Option<HistoryEntry>, ClientError> {
        let path = format!("{}/history?limit=1", settings_path(provider));
        let entries: Option<Vec<HistoryEntry>> =
            self.json(Method::GET, &path, None, true, None).await?;
        Ok(entries.and_then(|e| e.into_iter().next()))
    }

    pub async fn put_settings(
        &self,
        provider: &str,
        settings: Settings,
        expect: Expect,
    ) -> Result<SsoSettingsDoc, ClientError> {
        let body = serde_json::to_value(PutSsoSettings {
            provider: None,
            settings,
        })
        .map_err(|e| ClientError::Config(e.to_string()))?;
        let path = settings_path(provider);
        self.json(Method::PUT, &path, Some(&body), false, Some(expect))
            .await?
            .ok_or_else(|| ClientError::Decode {
                path,
                reason: "empty".into(),
            })
    }

    /// Returns false when there was nothing to delete (404).
    pub async fn delete_settings(&self, provider: &str, version: i64) -> Result<bool, ClientError> {
        self.delete(&settings_path(provider), Some(version)).await
    }

    pub async fn get_group(&self, name: &str) -> Result<Option<GroupDoc>, ClientError> {
        self.json(Method::GET, &group_path(name), None, true, None)
            .await
    }

    pub async fn put_group(
        &self,
        name: &str,
        description: &str,
        expect: Option<Expect>,
    ) -> Result<GroupDoc, ClientError> {
        let body = serde_json::to_value(PutGroup {
            description: description.to_string(),
        })
        .map_err(|e| ClientError::Config(e.to_string()))?;
        let path = group_path(name);
        self.json(Method::PUT, &path, Some(&body), false, expect)
            .await?
            .ok_or_else(|| ClientError::Decode {
                path,
                reason: "empty".into(),
            })
    }

    pub async fn delete_group(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<bool, ClientError> {
        self.delete(&group_path(name), version).await
    }

    async fn delete(&self, path: &str, version: Option<i64>) -> Result<bool, ClientError> {
        let (status, text) = self
            .send(
                Method::DELETE,
                path,
                None,
                true,
                version.map(Expect::Version),
            )
            .await?;
        match status {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(self.fail(&Method::DELETE, path, s, &text)),
        }
    }

    /// The SP metadata XML the server publishes for `provider`, or None when
    /// it does not serve it (yet). Unauthenticated, like an IdP fetching it.
    pub async fn sp_metadata_xml(&self, provider: &str) -> Result<Option<String>, ClientError> {
        let path = format!("/saml/{provider}/metadata");
        let (status, text) = self.send(Method::GET, &path, None, false, None).await?;
        Ok((status.is_success() && text.trim_start().starts_with('<')).then_some(text))
    }
}

/// The rustls error behind a failed request, if the TLS handshake failed.
/// io::Error's `source()` skips the error it wraps (hyper-rustls nests one
/// io::Error in another), so the walk steps into wrapped errors itself.
fn tls_failure<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    // Bounded: error chains are short; a cycle must not hang the provider.
    for _ in 0..32 {
        let err = cur?;
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        cur = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

fn settings_path(provider: &str) -> String {
    format!("/api/v1/sso-settings/{provider}")
}

fn group_path(name: &str) -> String {
    format!("/api/v1/groups/{name}")
}

fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}

/// reqwest's top-level message hides the cause ("error sending request");
/// the chain says "connection refused" or "certificate unknown".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain-HTTP server behind an https:// URL: named as such, once.
    #[tokio::test]
    async fn https_to_plain_http_is_named_and_not_retried() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut s, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    .await;
            }
        });
        let url = format!("https://{addr}");
        let client = Client::new(&ClientOptions {
            url: url.clone(),
            token: "t".into(),
            ..Default::default()
        })
        .unwrap();
        let err = client.info().await.unwrap_err();
        assert!(matches!(err, ClientError::NotTls { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("the server at {url} does not speak TLS (is it plain http? then use an http:// url)")
        );
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
