//! SP-initiated login: `GET /saml/{provider}/login[?redirect_to=...]` sends an
//! AuthnRequest to the IdP by HTTP-Redirect (signed query when
//! `sign_requests`) or by an auto-submitting HTTP-POST form (signed XML), and
//! remembers the request ID bound to this browser for the ACS.

use std::io::Write;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use rand::RngCore;
use samael::schema::{
    AuthnContextClassRef, AuthnContextComparison, AuthnRequest, RequestedAuthnContext,
};
use samael::signature::{DigestAlgorithm, Signature, SignatureAlgorithm};
use samael::traits::ToXml;

use super::runtime::Runtime;

/// Lifetime of a pending AuthnRequest.
pub const REQUEST_TTL_SECS: i64 = 600;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the IdP has no single sign-on endpoint for the {0} binding")]
    NoEndpoint(&'static str),
    #[error("cannot build the AuthnRequest: {0}")]
    Build(String),
    #[error("cannot sign the AuthnRequest: {0}")]
    Sign(String),
}

/// How the browser is sent to the IdP.
pub enum Outbound {
    Redirect(String),
    Post {
        action: String,
        saml_request: String,
        relay_state: String,
    },
}

pub fn random_id() -> String {
    let mut raw = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut raw);
    // SAML IDs are xs:ID: they must not start with a digit.
    format!("_{}", hex::encode(raw))
}

fn comparison(s: &str) -> AuthnContextComparison {
    match s {
        "minimum" => AuthnContextComparison::Minimum,
        "maximum" => AuthnContextComparison::Maximum,
        "better" => AuthnContextComparison::Better,
        _ => AuthnContextComparison::Exact,
    }
}

fn algorithms(
    alg: &str,
) -> (
    SignatureAlgorithm,
    DigestAlgorithm,
    MessageDigest,
    &'static str,
) {
    match alg {
        "rsa-sha512" => (
            SignatureAlgorithm::Unsupported(
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512".into(),
            ),
            DigestAlgorithm::Unsupported("http://www.w3.org/2001/04/xmlenc#sha512".into()),
            MessageDigest::sha512(),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        ),
        "ecdsa-sha256" => (
            SignatureAlgorithm::EcdsaSha256,
            DigestAlgorithm::Sha256,
            MessageDigest::sha256(),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        ),
        "rsa-sha1" => (
            SignatureAlgorithm::Unsupported("http://www.w3.org/2000/09/xmldsig#rsa-sha1".into()),
            DigestAlgorithm::Sha1,
            MessageDigest::sha1(),
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        ),
        _ => (
            SignatureAlgorithm::RsaSha256,
            DigestAlgorithm::Sha256,
            MessageDigest::sha256(),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        ),
    }
}

/// Builds the AuthnRequest with ID `id` and the way to send it.
pub fn start(rt: &Runtime, id: &str, relay_state: &str) -> Result<Outbound, LoginError> {
    let s = &rt.settings;
    let post = s.binding == "HTTP-POST" || rt.idp.sso_redirect.is_none();
    let destination = if post {
        rt.idp.sso_post.clone().or(rt.idp.sso_redirect.clone())
    } else {
        rt.idp.sso_redirect.clone()
    };
    let destination = destination.ok_or(LoginError::NoEndpoint(if post {
        "HTTP-POST"
    } else {
        "HTTP-Redirect"
    }))?;
    let mut req: AuthnRequest = rt
        .samael
        .make_authentication_request(&destination)
        .map_err(|e| LoginError::Build(e.to_string()))?;
    // samael's IDs carry 32 random bits; ours carry 160.
    req.id = id.to_owned();
    if !s.authn_context.is_empty() {
        req.requested_authn_context = Some(RequestedAuthnContext {
            authn_context_class_refs: Some(
                s.authn_context
                    .iter()
                    .map(|c| AuthnContextClassRef {
                        value: Some(c.clone()),
                    })
                    .collect(),
            ),
            authn_context_decl_refs: None,
            comparison: Some(comparison(&s.authn_context_comparison)),
        });
    }
    let key = s.sign_requests.then_some(rt.signing.as_ref()).flatten();
    if post {
        let xml = match key {
            Some((cert, key)) => signed_xml(req, cert, key, &s.signature_algorithm)?,
            None => req
                .to_string()
                .map_err(|e| LoginError::Build(e.to_string()))?,
        };
        return Ok(Outbound::Post {
            action: destination,
            saml_request: B64.encode(xml),
            relay_state: relay_state.to_owned(),
        });
    }
    let xml = req
        .to_string()
        .map_err(|e| LoginError::Build(e.to_string()))?;
    let mut deflated = Vec::new();
    {
        let mut enc = DeflateEncoder::new(&mut deflated, Compression::default());
        enc.write_all(xml.as_bytes())
            .map_err(|e| LoginError::Build(e.to_string()))?;
        enc.finish().map_err(|e| LoginError::Build(e.to_string()))?;
    }
    let mut query = format!("SAMLRequest={}", encode(&B64.encode(deflated)));
    if !relay_state.is_empty() {
        query.push_str(&format!("&RelayState={}", encode(relay_state)));
    }
    if let Some((_, key)) = key {
        query = sign_query(query, key, &s.signature_algorithm)?;
    }
    let sep = if destination.contains('?') { '&' } else { '?' };
    Ok(Outbound::Redirect(format!("{destination}{sep}{query}")))
}

fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// HTTP-Redirect binding signature (SAML bindings §3.4.4.1): sign the exact
/// query string `SAMLRequest=..&RelayState=..&SigAlg=..`. Written here because
/// samael's `sign_url` only knows SHA-256.
pub fn sign_query(query: String, key: &PKey<Private>, alg: &str) -> Result<String, LoginError> {
    let (_, _, digest, uri) = algorithms(alg);
    let signed_part = format!("{query}&SigAlg={}", encode(uri));
    let mut signer =
        openssl::sign::Signer::new(digest, key).map_err(|e| LoginError::Sign(e.to_string()))?;
    signer
        .update(signed_part.as_bytes())
        .map_err(|e| LoginError::Sign(e.to_string()))?;
    let sig = signer
        .sign_to_vec()
        .map_err(|e| LoginError::Sign(e.to_string()))?;
    Ok(format!(
        "{signed_part}&Signature={}",
        encode(&B64.encode(sig))
    ))
}

/// HTTP-POST binding: an enveloped XML signature made by libxmlsec1 (samael).
fn signed_xml(
    mut req: AuthnRequest,
    cert: &openssl::x509::X509,
    key: &PKey<Private>,
    alg: &str,
) -> Result<String, LoginError> {
    let (sig_alg, digest_alg, _, _) = algorithms(alg);
    let der = cert.to_der().map_err(|e| LoginError::Sign(e.to_string()))?;
    let mut template = Signature::template(&req.id, &samael::crypto::CertificateDer::from(der));
    // samael's template is RSA-SHA256 over a SHA-1 digest; set both to the configured algorithm.
    template.signed_info.signature_method.algorithm = sig_alg;
    for reference in &mut template.signed_info.reference {
        reference.digest_method.algorithm = digest_alg.clone();
    }
    req.signature = Some(template);
    let key_der = key
        .private_key_to_der()
        .map_err(|e| LoginError::Sign(e.to_string()))?;
    req.to_signed_xml(&key_der)
        .map_err(|e| LoginError::Sign(e.to_string()))
}
