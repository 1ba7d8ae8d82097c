//! The identity provider as a provider's settings describe it: from metadata
//! (inline base64, a file, or a URL fetched with reqwest and cached) or from
//! the manual trio (entity ID, SSO URL, certificates). Metadata holding several
//! entities is narrowed by `idp_entity_id`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{
    Endpoint, EntityDescriptor, EntityDescriptorType, IdpSsoDescriptor, KeyDescriptor,
};
use ssoplane_schema::validate::check_metadata_xml;
use ssoplane_schema::SamlSettings;

pub const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    #[error("IdP metadata is unusable: {0}")]
    Metadata(String),
    #[error("cannot read IdP metadata file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot fetch IdP metadata from {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("IdP metadata holds {0} identity providers; set idp_entity_id to choose one")]
    Ambiguous(usize),
    #[error("IdP metadata holds no identity provider with entity ID {0:?}")]
    NoSuchEntity(String),
    #[error("IdP metadata expired at {0}")]
    Expired(String),
    #[error("the IdP has no signing certificate: responses could not be verified")]
    NoSigningCertificate,
    #[error("the IdP has no single sign-on endpoint for HTTP-Redirect or HTTP-POST")]
    NoSsoEndpoint,
}

/// What the SP needs to know of its IdP.
#[derive(Clone, Debug)]
pub struct Idp {
    pub descriptor: EntityDescriptor,
    pub entity_id: String,
    pub sso_redirect: Option<String>,
    pub sso_post: Option<String>,
    pub slo_redirect: Option<String>,
    pub slo_post: Option<String>,
}

/// Metadata fetched from URLs, kept for each URL's refresh interval.
#[derive(Default)]
pub struct MetadataCache {
    entries: Mutex<HashMap<String, (Instant, String)>>,
}

impl MetadataCache {
    async fn fetch(&self, url: &str, refresh: Duration) -> Result<String, IdpError> {
        if let Ok(entries) = self.entries.lock() {
            if let Some((at, xml)) = entries.get(url) {
                if at.elapsed() < refresh {
                    return Ok(xml.clone());
                }
            }
        }
        let err = |reason: String| IdpError::Fetch {
            url: url.to_owned(),
            reason,
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| err(e.to_string()))?;
        let resp = client
            .get(url)
            .send()
            .await
            .map_err(|e| err(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(err(format!("HTTP {}", resp.status())));
        }
        let bytes = resp.bytes().await.map_err(|e| err(e.to_string()))?;
        if bytes.len() > 4 * 1024 * 1024 {
            return Err(err("document larger than 4 MiB".into()));
        }
        let xml = String::from_utf8(bytes.to_vec()).map_err(|_| err("not UTF-8".into()))?;
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(url.to_owned(), (Instant::now(), xml.clone()));
        }
        Ok(xml)
    }
}

pub async fn resolve(s: &SamlSettings, cache: &MetadataCache) -> Result<Idp, IdpError> {
    let xml = if !s.idp_metadata.is_empty() {
        let compact: String = s
            .idp_metadata
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| IdpError::Metadata("idp_metadata is not base64".into()))?;
        Some(
            String::from_utf8(bytes)
                .map_err(|_| IdpError::Metadata("idp_metadata is not UTF-8".into()))?,
        )
    } else if !s.idp_metadata_path.is_empty() {
        Some(
            tokio::fs::read_to_string(&s.idp_metadata_path)
                .await
                .map_err(|source| IdpError::File {
                    path: s.idp_metadata_path.clone(),
                    source,
                })?,
        )
    } else if !s.idp_metadata_url.is_empty() {
        Some(
            cache
                .fetch(&s.idp_metadata_url, s.idp_metadata_refresh_interval())
                .await?,
        )
    } else {
        None
    };
    let descriptor = match xml {
        Some(xml) => select(&xml, &s.idp_entity_id)?,
        None => manual(s)?,
    };
    let mut idp = summarize(descriptor)?;
    if !s.idp_slo_url.is_empty() {
        idp.slo_redirect = Some(s.idp_slo_url.clone());
        idp.slo_post = Some(s.idp_slo_url.clone());
    }
    Ok(idp)
}

fn select(xml: &str, wanted: &str) -> Result<EntityDescriptor, IdpError> {
    // Same guard as the settings validation: SAML metadata, no DTD.
    check_metadata_xml(xml).map_err(IdpError::Metadata)?;
    let parsed: EntityDescriptorType = xml
        .parse()
        .map_err(|e| IdpError::Metadata(format!("{e}")))?;
    let idps: Vec<EntityDescriptor> = parsed
        .iter()
        .filter(|e| {
            e.idp_sso_descriptors
                .as_ref()
                .is_some_and(|d| !d.is_empty())
        })
        .cloned()
        .collect();
    let chosen = if wanted.is_empty() {
        match idps.len() {
            1 => idps.into_iter().next(),
            n => return Err(IdpError::Ambiguous(n)),
        }
    } else {
        idps.into_iter()
            .find(|e| e.entity_id.as_deref() == Some(wanted))
    };
    let chosen = chosen.ok_or_else(|| IdpError::NoSuchEntity(wanted.to_owned()))?;
    if let Some(until) = chosen.valid_until {
        if until < chrono::Utc::now() {
            return Err(IdpError::Expired(until.to_rfc3339()));
        }
    }
    Ok(chosen)
}

fn pem_to_b64_der(pem: &str) -> Result<String, IdpError> {
    let cert = ssoplane_schema::pem::parse_certificate(pem)
        .map_err(|e| IdpError::Metadata(format!("idp_certificates {e}")))?;
    let der = cert
        .to_der()
        .map_err(|e| IdpError::Metadata(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(der))
}

fn manual(s: &SamlSettings) -> Result<EntityDescriptor, IdpError> {
    let key_descriptors = s
        .idp_certificates
        .iter()
        .map(|pem| {
            Ok(KeyDescriptor {
                key_use: Some("signing".into()),
                key_info: KeyInfo {
                    id: None,
                    x509_data: Some(X509Data {
                        certificates: vec![pem_to_b64_der(pem)?],
                    }),
                },
                encryption_methods: None,
            })
        })
        .collect::<Result<Vec<_>, IdpError>>()?;
    let endpoint = |binding: &str, location: &str| Endpoint {
        binding: binding.to_owned(),
        location: location.to_owned(),
        response_location: None,
    };
    let mut slo = Vec::new();
    if !s.idp_slo_url.is_empty() {
        slo = vec![
            endpoint(REDIRECT, &s.idp_slo_url),
            endpoint(POST, &s.idp_slo_url),
        ];
    }
    Ok(EntityDescriptor {
        entity_id: Some(s.idp_entity_id.clone()),
        idp_sso_descriptors: Some(vec![IdpSsoDescriptor {
            id: None,
            valid_until: None,
            cache_duration: None,
            protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".into()),
            error_url: None,
            signature: None,
            key_descriptors,
            organization: None,
            contact_people: Vec::new(),
            artifact_resolution_service: Vec::new(),
            single_logout_services: slo,
            manage_name_id_services: Vec::new(),
            name_id_formats: Vec::new(),
            want_authn_requests_signed: None,
            single_sign_on_services: vec![
                endpoint(REDIRECT, &s.idp_sso_url),
                endpoint(POST, &s.idp_sso_url),
            ],
            name_id_mapping_services: Vec::new(),
            assertion_id_request_services: Vec::new(),
            attribute_profiles: Vec::new(),
            attributes: Vec::new(),
        }]),
        ..EntityDescriptor::default()
    })
}

fn summarize(descriptor: EntityDescriptor) -> Result<Idp, IdpError> {
    let descriptors = descriptor.idp_sso_descriptors.clone().unwrap_or_default();
    let find = |pick: &dyn Fn(&IdpSsoDescriptor) -> &Vec<Endpoint>, binding: &str| {
        descriptors
            .iter()
            .flat_map(pick)
            .find(|e| e.binding == binding)
            .map(|e| e.location.clone())
    };
    let has_signing_cert = descriptors
        .iter()
        .flat_map(|d| &d.key_descriptors)
        .any(|k| {
            k.key_use
                .as_deref()
                .is_none_or(|u| u.is_empty() || u == "signing")
                && k.key_info
                    .x509_data
                    .as_ref()
                    .is_some_and(|x| !x.certificates.is_empty())
        });
    if !has_signing_cert {
        return Err(IdpError::NoSigningCertificate);
    }
    let idp = Idp {
        entity_id: descriptor.entity_id.clone().unwrap_or_default(),
        sso_redirect: find(&|d| &d.single_sign_on_services, REDIRECT),
        sso_post: find(&|d| &d.single_sign_on_services, POST),
        slo_redirect: find(&|d| &d.single_logout_services, REDIRECT),
        slo_post: find(&|d| &d.single_logout_services, POST),
        descriptor,
    };
    if idp.sso_redirect.is_none() && idp.sso_post.is_none() {
        return Err(IdpError::NoSsoEndpoint);
    }
    Ok(idp)
}
