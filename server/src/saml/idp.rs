//! The identity provider as a provider's settings describe it: from SAML
//! metadata (inline base64, a file, or a URL fetched with reqwest and
//! cached) or from the manual trio (entity ID, SSO URL, certificates).
//!
//! Metadata is read on the same libxml2 DOM as every other message: every
//! entity (nested EntitiesDescriptors included), every KeyDescriptor with
//! its `use` (none means signing *and* encryption, so a key without `use`
//! beside a `use="signing"` one is a signing key too: an IdP in the middle
//! of a rotation), SSO and SLO endpoints per binding, NameIDFormats, and
//! `validUntil`/`cacheDuration` (inherited from enclosing EntitiesDescriptors,
//! the earliest winning). Metadata holding several IdPs is narrowed by
//! `idp_entity_id`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use openssl::pkey::{PKey, Public};
use openssl::x509::X509;
use ssoplane_schema::SamlSettings;

use super::xml::{Doc, El};

pub const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = super::ns::DSIG;
/// Largest metadata document accepted (inline, file or URL).
pub const MAX_METADATA_BYTES: usize = 4 * 1024 * 1024;
/// Most entities read from one document, and certificates per entity.
const MAX_ENTITIES: usize = 10_000;
const MAX_CERTIFICATES: usize = 32;

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

fn bad(reason: impl Into<String>) -> IdpError {
    IdpError::Metadata(reason.into())
}

/// A protocol endpoint of the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub binding: String,
    pub location: String,
    /// Where responses go, when it differs from `location` (SLO).
    pub response_location: Option<String>,
}

impl Endpoint {
    pub fn response_target(&self) -> &str {
        self.response_location.as_deref().unwrap_or(&self.location)
    }
}

/// One identity provider as its metadata (or the manual settings) describes it.
#[derive(Debug, Clone)]
pub struct IdpEntity {
    pub entity_id: String,
    pub valid_until: Option<DateTime<Utc>>,
    pub cache_duration: Option<Duration>,
    /// Certificates of KeyDescriptors with `use="signing"` or no `use`.
    pub signing_certs: Vec<X509>,
    pub sso: Vec<Endpoint>,
    pub slo: Vec<Endpoint>,
    pub name_id_formats: Vec<String>,
    pub want_authn_requests_signed: bool,
}

impl IdpEntity {
    fn endpoint(list: &[Endpoint], binding: &str) -> Option<Endpoint> {
        list.iter().find(|e| e.binding == binding).cloned()
    }
}

/// What the SP needs to know of its IdP.
#[derive(Debug, Clone)]
pub struct Idp {
    pub entity: IdpEntity,
    pub entity_id: String,
    pub sso_redirect: Option<String>,
    pub sso_post: Option<String>,
    pub slo_redirect: Option<Endpoint>,
    pub slo_post: Option<Endpoint>,
    /// The keys every IdP signature is checked against.
    pub signing_keys: Vec<PKey<Public>>,
    /// For metadata from a URL: when to read it again (the configured
    /// interval, shortened by `cacheDuration` and `validUntil`).
    pub refresh_after: Duration,
}

/// xs:duration as metadata's `cacheDuration` uses it: `PnYnMnDTnHnMnS`
/// (years and months counted as 365 and 30 days; no negative durations).
/// Written here because nothing in our dependencies reads ISO 8601
/// durations, and this is all of the grammar.
pub fn parse_xs_duration(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut secs = 0f64;
    let mut any = false;
    let mut fold = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut number = String::new();
        let mut next = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let i = units[next..].iter().position(|(u, _)| *u == c)? + next;
            let n: f64 = number.parse().ok()?;
            secs += n * units[i].1;
            number.clear();
            next = i + 1;
            any = true;
        }
        number.is_empty().then_some(())
    };
    fold(
        date,
        &[
            ('Y', 365.0 * 86400.0),
            ('M', 30.0 * 86400.0),
            ('D', 86400.0),
        ],
    )?;
    if let Some(t) = time {
        fold(t, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    (any && secs.is_finite() && secs < 1e12).then(|| Duration::from_secs_f64(secs))
}

fn time_attr(el: El<'_>, name: &str) -> Result<Option<DateTime<Utc>>, IdpError> {
    el.attr(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| bad(format!("{name} {v:?} is not an xs:dateTime")))
        })
        .transpose()
}

fn duration_attr(el: El<'_>, name: &str) -> Result<Option<Duration>, IdpError> {
    el.attr(name)
        .map(|v| {
            parse_xs_duration(&v).ok_or_else(|| bad(format!("{name} {v:?} is not an xs:duration")))
        })
        .transpose()
}

/// The earlier of two optional limits.
fn earliest<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn endpoints(descriptor: El<'_>, name: &str) -> Vec<Endpoint> {
    descriptor
        .children()
        .filter(|c| c.is(MD, name))
        .filter_map(|e| {
            Some(Endpoint {
                binding: e.attr("Binding")?,
                location: e.attr("Location")?,
                response_location: e.attr("ResponseLocation"),
            })
        })
        .collect()
}

fn certificates(entity_id: &str, descriptor: El<'_>) -> Result<Vec<X509>, IdpError> {
    let mut out = Vec::new();
    for kd in descriptor.children().filter(|c| c.is(MD, "KeyDescriptor")) {
        // No `use` means the key serves both purposes.
        if kd.attr("use").is_some_and(|u| u != "signing") {
            continue;
        }
        let certs = kd
            .children()
            .filter(|c| c.is(DS, "KeyInfo"))
            .flat_map(|ki| ki.children().filter(|c| c.is(DS, "X509Data")))
            .flat_map(|xd| xd.children().filter(|c| c.is(DS, "X509Certificate")));
        for c in certs {
            if out.len() == MAX_CERTIFICATES {
                return Err(bad(format!(
                    "entity {entity_id:?} lists more than {MAX_CERTIFICATES} signing certificates"
                )));
            }
            let mut b64 = c.text().into_bytes();
            b64.retain(|b| !b.is_ascii_whitespace());
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| {
                    bad(format!(
                        "a certificate of entity {entity_id:?} is not base64"
                    ))
                })?;
            let cert = X509::from_der(&der).map_err(|_| {
                bad(format!(
                    "a certificate of entity {entity_id:?} is not a DER X.509 certificate"
                ))
            })?;
            out.push(cert);
        }
    }
    Ok(out)
}

fn entity(
    el: El<'_>,
    valid_until: Option<DateTime<Utc>>,
    cache: Option<Duration>,
) -> Result<Option<IdpEntity>, IdpError> {
    let entity_id = el
        .attr("entityID")
        .ok_or_else(|| bad("an EntityDescriptor has no entityID"))?;
    let valid_until = earliest(valid_until, time_attr(el, "validUntil")?);
    let cache = earliest(cache, duration_attr(el, "cacheDuration")?);
    let descriptors: Vec<El<'_>> = el
        .children()
        .filter(|c| c.is(MD, "IDPSSODescriptor"))
        .filter(|d| {
            d.attr("protocolSupportEnumeration")
                .is_some_and(|p| p.split_ascii_whitespace().any(|u| u == super::ns::PROTOCOL))
        })
        .collect();
    if descriptors.is_empty() {
        return Ok(None);
    }
    let mut out = IdpEntity {
        entity_id,
        valid_until,
        cache_duration: cache,
        signing_certs: Vec::new(),
        sso: Vec::new(),
        slo: Vec::new(),
        name_id_formats: Vec::new(),
        want_authn_requests_signed: false,
    };
    for d in descriptors {
        out.valid_until = earliest(out.valid_until, time_attr(d, "validUntil")?);
        out.cache_duration = earliest(out.cache_duration, duration_attr(d, "cacheDuration")?);
        out.signing_certs.extend(certificates(&out.entity_id, d)?);
        out.sso.extend(endpoints(d, "SingleSignOnService"));
        out.slo.extend(endpoints(d, "SingleLogoutService"));
        out.name_id_formats.extend(
            d.children()
                .filter(|c| c.is(MD, "NameIDFormat"))
                .map(|f| f.text()),
        );
        out.want_authn_requests_signed |=
            d.attr("WantAuthnRequestsSigned").as_deref() == Some("true");
    }
    Ok(Some(out))
}

fn walk(
    el: El<'_>,
    valid_until: Option<DateTime<Utc>>,
    cache: Option<Duration>,
    out: &mut Vec<IdpEntity>,
) -> Result<(), IdpError> {
    if out.len() >= MAX_ENTITIES {
        return Err(bad(format!("more than {MAX_ENTITIES} entities")));
    }
    if el.is(MD, "EntityDescriptor") {
        out.extend(entity(el, valid_until, cache)?);
    } else if el.is(MD, "EntitiesDescriptor") {
        let valid_until = earliest(valid_until, time_attr(el, "validUntil")?);
        let cache = earliest(cache, duration_attr(el, "cacheDuration")?);
        // Recursion depth is bounded by the parser's nesting limit.
        for child in el.children() {
            walk(child, valid_until, cache, out)?;
        }
    }
    Ok(())
}

/// Why a metadata document was refused, before it is worded for the
/// runtime ([`IdpError`]) or for a settings write (the schema's messages).
enum Refusal {
    /// Too large, a DTD, or not well-formed.
    NotXml(String),
    /// Well-formed, but the root is not an (Entity|Entities)Descriptor.
    NotMetadata,
    /// Metadata whose content cannot be used (an entity without ID, a bad
    /// certificate or time, too many entities).
    Unusable(IdpError),
}

fn read(xml: &str) -> Result<Vec<IdpEntity>, Refusal> {
    if xml.len() > MAX_METADATA_BYTES {
        return Err(Refusal::NotXml(format!(
            "larger than {MAX_METADATA_BYTES} bytes"
        )));
    }
    super::guard::check_no_dtd(xml).map_err(|e| Refusal::NotXml(e.to_string()))?;
    let doc = Doc::parse(xml).map_err(|e| Refusal::NotXml(e.to_string()))?;
    let root = doc
        .root()
        .ok_or_else(|| Refusal::NotXml("no root element".into()))?;
    if !root.is(MD, "EntityDescriptor") && !root.is(MD, "EntitiesDescriptor") {
        return Err(Refusal::NotMetadata);
    }
    let mut out = Vec::new();
    walk(root, None, None, &mut out).map_err(Refusal::Unusable)?;
    Ok(out)
}

/// Every identity provider a metadata document describes.
pub fn read_metadata(xml: &str) -> Result<Vec<IdpEntity>, IdpError> {
    read(xml).map_err(|r| match r {
        Refusal::NotXml(reason) => bad(reason),
        Refusal::NotMetadata => bad(format!(
            "the root element must be md:EntityDescriptor or md:EntitiesDescriptor in namespace {MD}"
        )),
        Refusal::Unusable(e) => e,
    })
}

/// The write-time check of IdP metadata (inline or from a file) for the
/// settings service: the document the SAML endpoints will read, on the same
/// reader, worded with the schema's messages so API users see the errors
/// the provider shows at plan time. Stricter than the plan-time check only
/// where the runtime would refuse the document anyway.
pub fn check_metadata(xml: &str) -> Result<(), String> {
    use ssoplane_schema::validate::metadata_message as msg;
    match read(xml) {
        Ok(entities) if entities.is_empty() => Err(msg::NO_IDP.into()),
        Ok(_) => Ok(()),
        Err(Refusal::NotXml(reason)) => Err(format!("{}: {reason}", msg::NOT_XML)),
        Err(Refusal::NotMetadata) => Err(msg::not_metadata()),
        Err(Refusal::Unusable(IdpError::Metadata(reason))) => {
            Err(format!("is not usable IdP metadata: {reason}"))
        }
        Err(Refusal::Unusable(e)) => Err(format!("is not usable: {e}")),
    }
}

/// Metadata fetched from URLs, with when each copy was fetched.
#[derive(Default)]
pub struct MetadataCache {
    entries: Mutex<HashMap<String, (Instant, String)>>,
}

impl MetadataCache {
    fn cached(&self, url: &str) -> Option<(Instant, String)> {
        self.entries.lock().ok()?.get(url).cloned()
    }

    /// The document at `url` no older than `max_age`; when fetching fails,
    /// the last copy (its own validUntil still applies when it is read).
    async fn fetch(&self, url: &str, max_age: Duration) -> Result<(Duration, String), IdpError> {
        let previous = self.cached(url);
        if let Some((at, xml)) = &previous {
            if at.elapsed() < max_age {
                return Ok((at.elapsed(), xml.clone()));
            }
        }
        match download(url).await {
            Ok(xml) => {
                if let Ok(mut entries) = self.entries.lock() {
                    entries.insert(url.to_owned(), (Instant::now(), xml.clone()));
                }
                Ok((Duration::ZERO, xml))
            }
            Err(e) => match previous {
                Some((at, xml)) => {
                    tracing::warn!(url, error = %e, "IdP metadata refresh failed; using the last copy");
                    Ok((at.elapsed(), xml))
                }
                None => Err(e),
            },
        }
    }
}

/// Fetches a metadata document (at most `MAX_METADATA_BYTES`, 10 s).
pub async fn download(url: &str) -> Result<String, IdpError> {
    let err = |reason: String| IdpError::Fetch {
        url: url.to_owned(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status())));
    }
    // Read at most the limit, whatever Content-Length claims.
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(e.to_string()))? {
        if body.len() + chunk.len() > MAX_METADATA_BYTES {
            return Err(err(format!(
                "document larger than {MAX_METADATA_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| err("not UTF-8".into()))
}

fn choose(entities: Vec<IdpEntity>, wanted: &str) -> Result<IdpEntity, IdpError> {
    if wanted.is_empty() {
        let n = entities.len();
        let mut it = entities.into_iter();
        return match (it.next(), n) {
            (Some(e), 1) => Ok(e),
            _ => Err(IdpError::Ambiguous(n)),
        };
    }
    entities
        .into_iter()
        .find(|e| e.entity_id == wanted)
        .ok_or_else(|| IdpError::NoSuchEntity(wanted.to_owned()))
}

fn manual(s: &SamlSettings) -> Result<IdpEntity, IdpError> {
    let signing_certs = s
        .idp_certificates
        .iter()
        .map(|pem| {
            ssoplane_schema::pem::parse_certificate(pem)
                .map_err(|e| bad(format!("idp_certificates {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let endpoint = |binding: &str, location: &str| Endpoint {
        binding: binding.to_owned(),
        location: location.to_owned(),
        response_location: None,
    };
    Ok(IdpEntity {
        entity_id: s.idp_entity_id.clone(),
        valid_until: None,
        cache_duration: None,
        signing_certs,
        sso: vec![
            endpoint(REDIRECT, &s.idp_sso_url),
            endpoint(POST, &s.idp_sso_url),
        ],
        slo: Vec::new(),
        name_id_formats: Vec::new(),
        want_authn_requests_signed: false,
    })
}

/// The IdP the settings describe, ready for logins.
pub async fn resolve(s: &SamlSettings, cache: &MetadataCache) -> Result<Idp, IdpError> {
    let configured = s.idp_metadata_refresh_interval;
    let (entity, refresh_after) = if !s.idp_metadata.is_empty() {
        let mut compact = s.idp_metadata.clone().into_bytes();
        compact.retain(|b| !b.is_ascii_whitespace());
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| bad("idp_metadata is not base64"))?;
        let xml = String::from_utf8(bytes).map_err(|_| bad("idp_metadata is not UTF-8"))?;
        (choose(read_metadata(&xml)?, &s.idp_entity_id)?, configured)
    } else if !s.idp_metadata_path.is_empty() {
        let xml = tokio::fs::read_to_string(&s.idp_metadata_path)
            .await
            .map_err(|source| IdpError::File {
                path: s.idp_metadata_path.clone(),
                source,
            })?;
        (choose(read_metadata(&xml)?, &s.idp_entity_id)?, configured)
    } else if !s.idp_metadata_url.is_empty() {
        let (age, xml) = cache.fetch(&s.idp_metadata_url, configured).await?;
        let mut entity = choose(read_metadata(&xml)?, &s.idp_entity_id)?;
        let mut ttl = earliest(Some(configured), entity.cache_duration).unwrap_or(configured);
        if age >= ttl {
            // cacheDuration asks for fresher metadata than the cached copy.
            let (_, xml) = cache.fetch(&s.idp_metadata_url, Duration::ZERO).await?;
            entity = choose(read_metadata(&xml)?, &s.idp_entity_id)?;
            ttl = earliest(Some(configured), entity.cache_duration).unwrap_or(configured);
        }
        (entity, ttl)
    } else {
        (manual(s)?, configured)
    };
    let now = Utc::now();
    let refresh_after = match entity.valid_until {
        Some(until) if until <= now => {
            return Err(IdpError::Expired(until.to_rfc3339()));
        }
        Some(until) => (until - now)
            .to_std()
            .map_or(refresh_after, |left| refresh_after.min(left)),
        None => refresh_after,
    };
    if entity.signing_certs.is_empty() {
        return Err(IdpError::NoSigningCertificate);
    }
    let signing_keys = entity
        .signing_certs
        .iter()
        .map(|c| c.public_key())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("IdP signing certificate: {e}")))?;
    let mut slo_redirect = IdpEntity::endpoint(&entity.slo, REDIRECT);
    let mut slo_post = IdpEntity::endpoint(&entity.slo, POST);
    if !s.idp_slo_url.is_empty() {
        let at = |binding: &str| Endpoint {
            binding: binding.to_owned(),
            location: s.idp_slo_url.clone(),
            response_location: None,
        };
        slo_redirect = Some(at(REDIRECT));
        slo_post = Some(at(POST));
    }
    let idp = Idp {
        entity_id: entity.entity_id.clone(),
        sso_redirect: IdpEntity::endpoint(&entity.sso, REDIRECT).map(|e| e.location),
        sso_post: IdpEntity::endpoint(&entity.sso, POST).map(|e| e.location),
        slo_redirect,
        slo_post,
        signing_keys,
        refresh_after,
        entity,
    };
    if idp.sso_redirect.is_none() && idp.sso_post.is_none() {
        return Err(IdpError::NoSsoEndpoint);
    }
    Ok(idp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_b64() -> String {
        let (_, pem) = ssoplane_testkit::pki::key_and_cert("idp");
        let der = X509::from_pem(pem.as_bytes()).unwrap().to_der().unwrap();
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    fn key(use_: Option<&str>, b64: &str) -> String {
        let u = use_.map(|u| format!(" use=\"{u}\"")).unwrap_or_default();
        format!(
            r#"<md:KeyDescriptor{u}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        )
    }

    fn entity_xml(id: &str, keys: &str, extra: &str) -> String {
        format!(
            r#"<md:EntityDescriptor entityID="{id}"{extra}><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}<md:SingleLogoutService Binding="{REDIRECT}" Location="https://idp/slo" ResponseLocation="https://idp/slo-resp"/><md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat><md:SingleSignOnService Binding="{POST}" Location="https://idp/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
        )
    }

    const NS: &str = r#"xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#""#;

    #[test]
    fn reads_every_entity_key_use_endpoint_and_lifetime() {
        let (a, b) = (cert_b64(), cert_b64());
        let keys = format!(
            "{}{}{}",
            key(Some("signing"), &a),
            key(None, &b),
            key(Some("encryption"), &a)
        );
        let xml = format!(
            r#"<md:EntitiesDescriptor {NS} validUntil="2999-01-01T00:00:00Z" cacheDuration="PT6H"><md:EntitiesDescriptor cacheDuration="P1DT30M">{}</md:EntitiesDescriptor>{}</md:EntitiesDescriptor>"#,
            entity_xml("https://one", &keys, " cacheDuration=\"PT1H30M\""),
            entity_xml(
                "https://two",
                &key(None, &a),
                " validUntil=\"2998-01-01T00:00:00Z\""
            )
        );
        let all = read_metadata(&xml).unwrap();
        assert_eq!(all.len(), 2);
        let one = &all[0];
        assert_eq!(one.entity_id, "https://one");
        // use="signing" and no use are both signing keys; encryption is not.
        assert_eq!(one.signing_certs.len(), 2);
        assert_eq!(one.cache_duration, Some(Duration::from_secs(5400)));
        assert_eq!(one.sso[0].location, "https://idp/sso");
        assert_eq!(one.slo[0].response_target(), "https://idp/slo-resp");
        assert_eq!(
            one.name_id_formats,
            ["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"]
        );
        let two = &all[1];
        assert_eq!(
            two.valid_until.unwrap().to_rfc3339(),
            "2998-01-01T00:00:00+00:00"
        );
        assert_eq!(two.cache_duration, Some(Duration::from_secs(6 * 3600)));
        assert!(matches!(
            choose(all.clone(), ""),
            Err(IdpError::Ambiguous(2))
        ));
        assert_eq!(
            choose(all.clone(), "https://two").unwrap().entity_id,
            "https://two"
        );
        assert!(matches!(
            choose(all, "https://x"),
            Err(IdpError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn refuses_what_is_not_idp_metadata() {
        let good_keys = key(None, &cert_b64());
        for xml in [
            format!("<!DOCTYPE x [<!ENTITY e \"x\">]><md:EntityDescriptor {NS} entityID=\"a\"/>"),
            "<x/>".to_owned(),
            format!("<md:EntityDescriptor {NS}/>"),
            format!(
                r#"<md:EntitiesDescriptor {NS}>{}</md:EntitiesDescriptor>"#,
                entity_xml("a", &key(None, "bm90IGEgY2VydA=="), "")
            ),
            format!(
                r#"<md:EntitiesDescriptor {NS}>{}</md:EntitiesDescriptor>"#,
                entity_xml("a", &good_keys, " cacheDuration=\"1h\"")
            ),
            format!(
                r#"<md:EntitiesDescriptor {NS}>{}</md:EntitiesDescriptor>"#,
                entity_xml("a", &good_keys, " validUntil=\"tomorrow\"")
            ),
        ] {
            assert!(read_metadata(&xml).is_err(), "{xml}");
        }
        assert!(read_metadata(&"x".repeat(MAX_METADATA_BYTES + 1)).is_err());
    }

    #[test]
    fn xs_durations() {
        assert_eq!(parse_xs_duration("PT1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_xs_duration("P1D"), Some(Duration::from_secs(86400)));
        assert_eq!(
            parse_xs_duration("PT0.5S"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_xs_duration("P1Y2M3DT4H5M6S").map(|d| d.as_secs()),
            Some(31_536_000 + 5_184_000 + 259_200 + 14_706)
        );
        for bad in [
            "", "P", "PT", "1H", "PT1X", "P1H", "PT1M1H", "-PT1H", "P1.2.3D",
        ] {
            assert_eq!(parse_xs_duration(bad), None, "{bad}");
        }
    }
}
