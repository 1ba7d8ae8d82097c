//! `GET /saml/{provider}/metadata`: the SP metadata an IdP imports. It lists
//! our entity ID, the ACS (HTTP-POST) and SLO endpoints, the signing and
//! encryption certificates, and `validUntil` = now + `metadata_valid_duration`.

use base64::Engine;
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{
    EncryptionMethod, Endpoint, EntityDescriptor, IndexedEndpoint, KeyDescriptor, SpSsoDescriptor,
};
use samael::traits::ToXml;

use super::idp::{POST, REDIRECT};
use super::runtime::SpSide;

fn key_descriptor(
    usage: &str,
    cert: &openssl::x509::X509,
    methods: Option<Vec<EncryptionMethod>>,
) -> Option<KeyDescriptor> {
    let der = cert.to_der().ok()?;
    Some(KeyDescriptor {
        key_use: Some(usage.to_owned()),
        key_info: KeyInfo {
            id: None,
            x509_data: Some(X509Data {
                certificates: vec![base64::engine::general_purpose::STANDARD.encode(der)],
            }),
        },
        encryption_methods: methods,
    })
}

/// Needs only the SP side of the settings, so it works before the IdP is
/// reachable or the provider is enabled: the IdP needs our metadata first.
pub fn render(sp_side: &SpSide) -> Result<String, String> {
    let rt = sp_side;
    let s = &rt.settings;
    let valid_until = chrono::Utc::now()
        + chrono::Duration::from_std(s.metadata_valid_duration())
            .unwrap_or(chrono::Duration::hours(48));
    let mut keys = Vec::new();
    if let Some((cert, _)) = &rt.signing {
        keys.extend(key_descriptor("signing", cert, None));
    }
    if let Some(cert) = &rt.encryption_cert {
        let methods = [
            "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            "http://www.w3.org/2009/xmlenc11#aes128-gcm",
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            "http://www.w3.org/2009/xmlenc11#rsa-oaep",
            "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        ]
        .iter()
        .map(|a| EncryptionMethod {
            algorithm: (*a).to_owned(),
        })
        .collect();
        keys.extend(key_descriptor("encryption", cert, Some(methods)));
    }
    let slo = s.single_logout.then(|| {
        vec![
            Endpoint {
                binding: REDIRECT.into(),
                location: rt.sp.slo_url.clone(),
                response_location: None,
            },
            Endpoint {
                binding: POST.into(),
                location: rt.sp.slo_url.clone(),
                response_location: None,
            },
        ]
    });
    let descriptor = SpSsoDescriptor {
        protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".into()),
        key_descriptors: Some(keys),
        single_logout_services: slo,
        name_id_formats: Some(vec![s.name_id_format.clone()]),
        authn_requests_signed: Some(s.sign_requests),
        want_assertions_signed: Some(true),
        assertion_consumer_services: vec![IndexedEndpoint {
            binding: POST.into(),
            location: rt.sp.acs_url.clone(),
            response_location: None,
            index: 0,
            is_default: Some(true),
        }],
        ..SpSsoDescriptor::default()
    };
    let entity = EntityDescriptor {
        entity_id: Some(rt.sp.entity_id.clone()),
        valid_until: Some(valid_until),
        sp_sso_descriptors: Some(vec![descriptor]),
        ..EntityDescriptor::default()
    };
    entity.to_string().map_err(|e| e.to_string())
}
