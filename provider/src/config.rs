//! The provider block (`url`, `token`, `ca_cert_pem`,
//! `insecure_skip_verify`, with `SSOPLANE_URL` / `SSOPLANE_TOKEN` fallbacks)
//! and what `ConfigureProvider` produces: a client checked against
//! `GET /api/v1/info`, plus the server's root URL for plan-time SP URLs.

use ssoplane_proto::cty::{AttrPath, Type, Value};
use ssoplane_proto::tfplugin6::Schema;
use ssoplane_schema::api::ServerInfo;

use crate::client::{Client, ClientError, ClientOptions};
use crate::schema::{attr, block, schema, sensitive, Mode};
use crate::values::{error, get, Diags};

pub fn provider_schema() -> Schema {
    schema(block(
        "Connects to an ssoplane server's admin API.",
        vec![
            attr("url", Type::String, Mode::Optional, "Base URL of the ssoplane server, e.g. `https://sso.example.com`. Env: `SSOPLANE_URL`."),
            sensitive(attr("token", Type::String, Mode::Optional, "API token (`ssoplane token create`). An admin token applies; a reader token can only plan. Env: `SSOPLANE_TOKEN`.")),
            attr("ca_cert_pem", Type::String, Mode::Optional, "PEM CA certificate to trust for the server's TLS certificate, in addition to the system roots."),
            attr("insecure_skip_verify", Type::Bool, Mode::Optional, "Skip TLS certificate verification (testing only)."),
        ],
        vec![],
    ))
}

/// A configured provider: everything resources need.
#[derive(Debug, Clone)]
pub struct Configured {
    pub client: Client,
    pub info: ServerInfo,
}

fn value_or_env(config: &Value, name: &str, env: &str) -> Option<String> {
    match get(config, name) {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => std::env::var(env).ok().filter(|s| !s.is_empty()),
    }
}

/// Builds the client from the decoded provider block and checks it.
pub async fn configure(config: &Value) -> Result<Configured, Diags> {
    for name in ["url", "token", "ca_cert_pem", "insecure_skip_verify"] {
        if get(config, name).is_unknown() {
            return Err(vec![error(
                "Provider configuration is not known yet",
                format!("`{name}` depends on values known only after apply; the ssoplane provider needs it at plan time."),
                Some(AttrPath::attr(name)),
            )]);
        }
    }
    let Some(url) = value_or_env(config, "url", "SSOPLANE_URL") else {
        return Err(vec![error(
            "Missing ssoplane server URL",
            "Set `url` in the provider block or SSOPLANE_URL in the environment.",
            Some(AttrPath::attr("url")),
        )]);
    };
    let Some(token) = value_or_env(config, "token", "SSOPLANE_TOKEN") else {
        return Err(vec![error(
            "Missing ssoplane API token",
            "Set `token` in the provider block or SSOPLANE_TOKEN in the environment.",
            Some(AttrPath::attr("token")),
        )]);
    };
    let opts = ClientOptions {
        url,
        token,
        ca_cert_pem: get(config, "ca_cert_pem").as_str().map(str::to_string),
        insecure_skip_verify: get(config, "insecure_skip_verify")
            .as_bool()
            .unwrap_or(false),
    };
    let client = Client::new(&opts).map_err(|e| {
        let at = match e {
            ClientError::Config(ref m) if m.contains("ca_cert_pem") => "ca_cert_pem",
            _ => "url",
        };
        vec![error(
            "Invalid ssoplane provider configuration",
            e.to_string(),
            Some(AttrPath::attr(at)),
        )]
    })?;
    let info = client.info().await.map_err(|e| {
        let (summary, at) = match e {
            ClientError::Unauthorized => ("ssoplane token refused", "token"),
            ClientError::Unreachable { .. } => ("ssoplane server unreachable", "url"),
            _ => ("Cannot configure the ssoplane provider", "url"),
        };
        vec![error(summary, e.to_string(), Some(AttrPath::attr(at)))]
    })?;
    tracing::info!(provider_version = env!("CARGO_PKG_VERSION"), server_version = %info.version, token = %info.token_name, role = %info.token_role, "configured");
    Ok(Configured { client, info })
}
