//! A provider's settings compiled for the SAML endpoints: keys and
//! certificates parsed, the IdP (metadata or manual settings) resolved with
//! its signing keys. Compiled once per settings version and kept in a
//! registry, so a login pays for none of that.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use ssoplane_schema::{pem, SamlSettings, SpEndpoints};

use super::idp::{self, Idp, IdpError, MetadataCache};
use crate::settings::{SettingsError, SettingsService};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("no SAML provider {0:?} is configured")]
    Unknown(String),
    #[error("SAML provider {0:?} is disabled")]
    Disabled(String),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Idp(#[from] IdpError),
    #[error("the SP {what} cannot be used: {reason}")]
    Key { what: &'static str, reason: String },
    #[error("the stored settings do not fit the settings model: {0}")]
    Build(String),
}

/// Our own side of a provider: what the SP metadata needs.
pub struct SpSide {
    pub settings: SamlSettings,
    pub sp: SpEndpoints,
    pub signing: Option<(X509, PKey<Private>)>,
    pub encryption_cert: Option<X509>,
    pub decryption_key: Option<PKey<Private>>,
}

pub async fn compile_sp(
    provider: &str,
    settings: SamlSettings,
    root_url: &str,
) -> Result<SpSide, RuntimeError> {
    let sp = SpEndpoints::derive(root_url, provider, &settings.entity_id);
    let cert_pem = read_pem(&settings.certificate, &settings.certificate_path)
        .await
        .map_err(|e| key_err("certificate")(e.to_string()))?;
    let key_pem = read_pem(&settings.private_key, &settings.private_key_path)
        .await
        .map_err(|e| key_err("private key")(e.to_string()))?;
    let signing = if cert_pem.is_empty() || key_pem.is_empty() {
        None
    } else {
        let cert =
            pem::parse_certificate(&cert_pem).map_err(|e| key_err("certificate")(e.to_string()))?;
        let key =
            pem::parse_private_key(&key_pem).map_err(|e| key_err("private key")(e.to_string()))?;
        Some((cert, key))
    };
    let encryption_cert = if settings.encryption_certificate.is_empty() {
        signing.as_ref().map(|(c, _)| c.clone())
    } else {
        Some(
            pem::parse_certificate(&settings.encryption_certificate)
                .map_err(|e| key_err("encryption certificate")(e.to_string()))?,
        )
    };
    let decryption_key = if settings.encryption_private_key.is_empty() {
        signing.as_ref().map(|(_, k)| k.clone())
    } else {
        Some(
            pem::parse_private_key(&settings.encryption_private_key)
                .map_err(|e| key_err("encryption private key")(e.to_string()))?,
        )
    };
    Ok(SpSide {
        settings,
        sp,
        signing,
        encryption_cert,
        decryption_key,
    })
}

/// Everything a login needs: our side and the IdP with its keys.
pub struct Runtime {
    pub compiled_at: std::time::Instant,
    pub provider: String,
    pub version: i64,
    /// Our side (settings, endpoints, keys); also reachable through `Deref`.
    pub own: SpSide,
    /// The IdP; every signature is checked against `idp.signing_keys`
    /// (never against a key the message carries).
    pub idp: Idp,
}

impl Runtime {
    /// Our signing key with the configured algorithm, when we have one.
    pub fn signer(&self) -> Option<super::sign::Signer<'_>> {
        let (cert, key) = self.signing.as_ref()?;
        Some(super::sign::Signer {
            key,
            cert: Some(cert),
            method: super::algorithms::SignatureMethod::for_setting(
                &self.settings.signature_algorithm,
            ),
        })
    }
}

impl std::ops::Deref for Runtime {
    type Target = SpSide;

    fn deref(&self) -> &SpSide {
        &self.own
    }
}

async fn read_pem(inline: &str, path: &str) -> Result<String, std::io::Error> {
    if !inline.is_empty() {
        return Ok(inline.to_owned());
    }
    if path.is_empty() {
        return Ok(String::new());
    }
    tokio::fs::read_to_string(path).await
}

fn key_err(what: &'static str) -> impl Fn(String) -> RuntimeError {
    move |reason| RuntimeError::Key { what, reason }
}

pub async fn compile(
    provider: &str,
    version: i64,
    settings: SamlSettings,
    root_url: &str,
    cache: &MetadataCache,
) -> Result<Runtime, RuntimeError> {
    let own = compile_sp(provider, settings, root_url).await?;
    let idp = idp::resolve(&own.settings, cache).await?;
    Ok(Runtime {
        compiled_at: std::time::Instant::now(),
        provider: provider.to_owned(),
        version,
        own,
        idp,
    })
}

pub fn to_chrono(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::seconds(90))
}

/// Compiled runtimes by provider, rebuilt when the settings version changes.
pub struct Registry {
    /// Where every SAML message's CPU work runs (bounded, off the async workers).
    pub workers: super::work::Workers,
    settings: Arc<SettingsService>,
    compiled: RwLock<HashMap<String, Arc<Runtime>>>,
    metadata: MetadataCache,
}

impl Registry {
    pub fn new(settings: Arc<SettingsService>) -> Self {
        Registry {
            workers: super::work::Workers::per_core(),
            settings,
            compiled: RwLock::default(),
            metadata: MetadataCache::default(),
        }
    }

    /// The provider's settings in effect (secrets decrypted) and their version.
    async fn load(&self, provider: &str) -> Result<(i64, SamlSettings), RuntimeError> {
        let effective = self
            .settings
            .effective(provider)
            .await?
            .ok_or_else(|| RuntimeError::Unknown(provider.to_owned()))?;
        let settings = SamlSettings::from_settings(&effective.settings)
            .map_err(|e| RuntimeError::Build(e.to_string()))?;
        Ok((effective.version, settings))
    }

    /// Our side only, for the SP metadata: works for disabled providers and
    /// before the IdP's metadata can be had.
    pub async fn sp_side(&self, provider: &str) -> Result<SpSide, RuntimeError> {
        let (_, settings) = self.load(provider).await?;
        compile_sp(provider, settings, self.settings.root_url()).await
    }

    pub fn settings(&self) -> &SettingsService {
        &self.settings
    }

    /// The enabled provider's runtime.
    pub async fn get(&self, provider: &str) -> Result<Arc<Runtime>, RuntimeError> {
        match self.inspect(provider).await {
            Ok(rt) if rt.settings.enabled => Ok(rt),
            Ok(_) => Err(RuntimeError::Disabled(provider.to_owned())),
            // A disabled provider is unavailable, whatever else is wrong with it.
            Err(e @ (RuntimeError::Idp(_) | RuntimeError::Key { .. })) => {
                match self.load(provider).await {
                    Ok((_, s)) if !s.enabled => Err(RuntimeError::Disabled(provider.to_owned())),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The provider's runtime whether or not it is enabled: for the console
    /// (IdP overview, test sign-ins). Real logins go through [`Self::get`].
    pub async fn inspect(&self, provider: &str) -> Result<Arc<Runtime>, RuntimeError> {
        let Some(version) = self.settings.version_of(provider).await? else {
            return Err(RuntimeError::Unknown(provider.to_owned()));
        };
        let cached = self
            .compiled
            .read()
            .ok()
            .and_then(|c| c.get(provider).cloned());
        // Metadata from a URL is re-fetched once its refresh interval has passed.
        let fresh = |rt: &Arc<Runtime>| {
            rt.version == version
                && (rt.settings.idp_metadata_url.is_empty()
                    || rt.compiled_at.elapsed() < rt.idp.refresh_after)
        };
        if let Some(rt) = cached.filter(fresh) {
            return Ok(rt);
        }
        let (version_in_effect, settings) = self.load(provider).await?;
        let rt = Arc::new(
            compile(
                provider,
                version_in_effect,
                settings,
                self.settings.root_url(),
                &self.metadata,
            )
            .await?,
        );
        if let Ok(mut c) = self.compiled.write() {
            c.insert(provider.to_owned(), Arc::clone(&rt));
        }
        Ok(rt)
    }

    /// Enabled providers, for the login page: (slug, button label, auto_login).
    pub async fn enabled(&self) -> Result<Vec<(String, String, bool)>, SettingsError> {
        let mut out = Vec::new();
        for doc in self.settings.list().await? {
            let enabled = doc
                .settings
                .get("enabled")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if enabled {
                let name = doc
                    .settings
                    .get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("SAML")
                    .to_owned();
                let auto = doc
                    .settings
                    .get("auto_login")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                out.push((doc.provider, name, auto));
            }
        }
        Ok(out)
    }
}
