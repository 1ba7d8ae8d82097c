//! Server configuration: built-in defaults < TOML file < `SSOPLANE__...`
//! environment variables (double underscore = nesting) < command-line flags.
//! The `[saml.<provider>]` tables of the same sources form the "system" layer
//! of SSO settings, which settings written through the API override.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Public base URL users and IdPs reach the server at; SP URLs derive from it.
    /// Empty: `http://{listen}`.
    pub root_url: String,
    /// `sqlite://path` or `postgres://...`. Empty: `sqlite://{data_dir}/ssoplane.db`.
    pub database_url: String,
    /// Where the embedded database and the generated secret key file live.
    pub data_dir: PathBuf,
    /// Key file for secrets at rest when `SSOPLANE_SECRET_KEY` is unset.
    /// Empty: `{data_dir}/secret.key`, generated on first run (SQLite only).
    pub secret_key_file: Option<PathBuf>,
    pub log_format: LogFormat,
    /// tracing filter, e.g. `info` or `ssoplane=debug,info`; `RUST_LOG` overrides it.
    pub log_level: String,
    /// Longest a request may take before it is answered 503.
    pub request_timeout: String,
    /// How long in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout: String,
    /// A login session ends after this long without requests...
    pub session_idle_timeout: String,
    /// ...and after this long in any case.
    pub session_absolute_timeout: String,
    /// Break-glass: offer the local administrator login at `/login?noSSO=true`
    /// (password set with `ssoplane local-admin set-password`).
    pub local_login: bool,
    /// Most sessions the in-process forward-auth cache holds (0: no cache).
    pub session_cache_entries: usize,
    /// Most memory, in MiB, the session cache holds.
    pub session_cache_mib: usize,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For`
    /// is believed; from anyone else the header is ignored. A list, or in
    /// the environment one comma-separated string.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// Most pending SAML requests (started, not finished logins) one client
    /// address (IPv4, or IPv6 /64) may hold at once.
    pub pending_logins_per_address: usize,
    /// Members of these groups (as stored: from assertions, the API or SCIM)
    /// may read everything in the admin console at `/admin` and change
    /// nothing. Users with the admin role always have full access.
    pub console_reader_groups: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            root_url: String::new(),
            database_url: String::new(),
            data_dir: PathBuf::from("data"),
            secret_key_file: None,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            request_timeout: "30s".into(),
            shutdown_timeout: "30s".into(),
            session_idle_timeout: "8h".into(),
            session_absolute_timeout: "24h".into(),
            local_login: false,
            session_cache_entries: 100_000,
            session_cache_mib: 128,
            trusted_proxies: Vec::new(),
            pending_logins_per_address: 1000,
            console_reader_groups: Vec::new(),
        }
    }
}

/// A list of strings, or one string of comma-separated entries (how an
/// environment variable gives a list).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        One(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(v) => v,
        Either::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl ServerConfig {
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("ssoplane.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn root_url(&self) -> String {
        if self.root_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.root_url.trim_end_matches('/').to_owned()
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    /// `[saml.<provider>]` tables: the system layer of SSO settings, raw.
    pub saml: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

/// Flags given on the command line; they win over every other source.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_url: Option<String>,
}

pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError::MissingFile(path.to_owned()));
        }
        fig = fig.merge(Toml::file_exact(path));
    }
    fig = fig
        .merge(Env::prefixed("SSOPLANE__").split("__"))
        .merge(Serialized::default("server", overrides));
    fig.extract().map_err(|e| ConfigError::Invalid(Box::new(e)))
}

#[cfg(test)]
// figment's Jail API fixes the closure's error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn precedence_defaults_file_env_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "ssoplane.toml",
                r#"
                [server]
                listen = "127.0.0.1:9000"
                root_url = "https://file.example.com"
                [saml.microsoft_ad]
                enabled = true
                entity_id = "urn:file"
                name = "Entra ID"
                "#,
            )?;
            jail.set_env("SSOPLANE__SAML__MICROSOFT_AD__ENTITY_ID", "urn:env");
            jail.set_env("SSOPLANE__SERVER__ROOT_URL", "https://env.example.com");
            let overrides = Overrides {
                listen: Some("127.0.0.1:9999".into()),
                ..Default::default()
            };
            let c = load(Some(Path::new("ssoplane.toml")), &overrides).expect("loads");
            assert_eq!(c.server.listen, "127.0.0.1:9999");
            assert_eq!(c.server.root_url(), "https://env.example.com");
            let ad = &c.saml["microsoft_ad"];
            assert_eq!(ad["entity_id"], "urn:env");
            assert_eq!(ad["name"], "Entra ID");
            assert_eq!(c.server.database_url(), "sqlite://data/ssoplane.db");
            Ok(())
        });
    }

    #[test]
    fn trusted_proxies_from_a_file_list_or_env_commas() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "ssoplane.toml",
                "[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n",
            )?;
            let c = load(Some(Path::new("ssoplane.toml")), &Overrides::default()).expect("loads");
            assert_eq!(c.server.trusted_proxies, ["10.0.0.0/8", "192.0.2.1"]);
            jail.set_env("SSOPLANE__SERVER__TRUSTED_PROXIES", "10.1.0.0/16, fd00::/8");
            let c = load(Some(Path::new("ssoplane.toml")), &Overrides::default()).expect("loads");
            assert_eq!(c.server.trusted_proxies, ["10.1.0.0/16", "fd00::/8"]);
            assert_eq!(c.server.pending_logins_per_address, 1000);
            Ok(())
        });
    }

    #[test]
    fn unknown_server_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[server]\nlisten_addr = \"x\"\n")?;
            let e = load(Some(Path::new("bad.toml")), &Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("listen_addr"), "{e}");
            Ok(())
        });
    }
}
