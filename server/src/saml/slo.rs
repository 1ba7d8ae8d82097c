//! Single logout at `/saml/{provider}/slo` (HTTP-Redirect and HTTP-POST):
//! - IdP-initiated: a signed LogoutRequest ends every session of its NameID
//!   here, and is answered with a (signed) LogoutResponse when
//!   `send_logout_response`;
//! - SP-initiated: our signed LogoutRequest to the IdP (the local session ends
//!   at once), and the IdP's LogoutResponse, which must answer a request this
//!   browser started.
//!
//! Redirect-binding signatures are over the query string exactly as received
//! (SAML bindings §3.4.4.1), so the raw query is kept; POST-binding messages
//! carry XML signatures verified by `dsig`.

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use samael::schema::{Issuer, LogoutRequest, LogoutResponse, NameID, Status, StatusCode};
use samael::traits::ToXml;

use super::dsig::{self, Doc, DsigError};
use super::login::{random_id, sign_query};
use super::runtime::Runtime;

const MAX_MESSAGE: usize = 64 * 1024;
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

#[derive(Debug, thiserror::Error)]
pub enum SloError {
    #[error("single logout is not enabled for this provider")]
    Disabled,
    #[error("the IdP has no single logout endpoint")]
    NoEndpoint,
    #[error("the logout message is not valid base64/deflate or is too large")]
    Encoding,
    #[error("the logout message is not signed, and strict mode requires it")]
    Unsigned,
    #[error("the logout message signature does not verify against the IdP's certificates")]
    BadSignature,
    #[error(transparent)]
    Signature(#[from] DsigError),
    #[error("the logout message is malformed: {0}")]
    Malformed(String),
    #[error("the logout message comes from issuer {0:?}, not the IdP")]
    Issuer(String),
    #[error("the logout message is addressed to {0:?}, not our SLO URL")]
    Destination(String),
    #[error("the logout request has expired")]
    Expired,
    #[error("the LogoutResponse answers no logout this browser started")]
    UnknownRequest,
    #[error("the IdP reported logout status {0}")]
    Status(String),
    #[error("cannot build the logout message: {0}")]
    Build(String),
}

/// One parameter of a query string, exactly as it was encoded on the wire.
pub fn raw_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        pair.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
    })
}

fn url_decode(v: &str) -> Result<String, SloError> {
    url::form_urlencoded::parse(format!("v={v}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .ok_or(SloError::Encoding)
}

/// Verifies an HTTP-Redirect binding signature; returns the inflated XML.
pub fn redirect_message(rt: &Runtime, query: &str, param: &str) -> Result<String, SloError> {
    let raw = raw_param(query, param).ok_or(SloError::Encoding)?;
    let signature = raw_param(query, "Signature");
    let sig_alg = raw_param(query, "SigAlg");
    match (signature, sig_alg) {
        (Some(sig), Some(alg)) => {
            let mut signed = format!("{param}={raw}");
            if let Some(rs) = raw_param(query, "RelayState") {
                signed.push_str(&format!("&RelayState={rs}"));
            }
            signed.push_str(&format!("&SigAlg={alg}"));
            let sig = B64
                .decode(url_decode(sig)?.as_bytes())
                .map_err(|_| SloError::BadSignature)?;
            dsig::verify_detached(
                &rt.idp_keys,
                &url_decode(alg)?,
                rt.settings.allow_sha1,
                signed.as_bytes(),
                &sig,
            )?;
        }
        _ if rt.settings.strict => return Err(SloError::Unsigned),
        _ => {}
    }
    let deflated = B64
        .decode(url_decode(raw)?.as_bytes())
        .map_err(|_| SloError::Encoding)?;
    let mut xml = String::new();
    DeflateDecoder::new(&deflated[..])
        .take(MAX_MESSAGE as u64 + 1)
        .read_to_string(&mut xml)
        .map_err(|_| SloError::Encoding)?;
    if xml.len() > MAX_MESSAGE {
        return Err(SloError::Encoding);
    }
    guard_xml(&xml)?;
    Ok(xml)
}

/// Verifies an HTTP-POST binding message's XML signature; returns the signed XML.
pub fn post_message(rt: &Runtime, b64: &str) -> Result<String, SloError> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() > MAX_MESSAGE * 2 {
        return Err(SloError::Encoding);
    }
    let xml = String::from_utf8(B64.decode(compact).map_err(|_| SloError::Encoding)?)
        .map_err(|_| SloError::Encoding)?;
    guard_xml(&xml)?;
    let doc = Doc::parse(&xml).map_err(|_| SloError::Malformed("not well-formed XML".into()))?;
    let root = doc
        .root()
        .ok_or_else(|| SloError::Malformed("no root element".into()))?;
    // The root element's own enveloped signature covers the whole message
    // (bar the Signature, whose content nobody reads).
    match dsig::signature_of(root)? {
        Some(sig) => dsig::verify_enveloped(&doc, root, sig, &rt.idp_keys, rt.settings.allow_sha1)?,
        None if rt.settings.strict => return Err(SloError::Unsigned),
        None => {}
    }
    Ok(xml)
}

fn guard_xml(xml: &str) -> Result<(), SloError> {
    super::guard::check_markup(xml).map_err(|e| SloError::Malformed(e.to_string()))
}

pub struct IdpLogout {
    pub request_id: String,
    pub name_id: String,
}

/// Issuer must be our IdP; a Destination, when given, must be our SLO URL.
fn check_envelope(
    rt: &Runtime,
    issuer: Option<&Issuer>,
    destination: Option<&str>,
) -> Result<(), SloError> {
    let issuer = issuer.and_then(|i| i.value.clone()).unwrap_or_default();
    if issuer != rt.idp.entity_id {
        return Err(SloError::Issuer(issuer));
    }
    match destination {
        Some(dest) if dest != rt.sp.slo_url => Err(SloError::Destination(dest.to_owned())),
        _ => Ok(()),
    }
}

/// Checks an IdP's LogoutRequest (already signature-verified).
pub fn check_request(rt: &Runtime, xml: &str) -> Result<IdpLogout, SloError> {
    let req: LogoutRequest = xml
        .parse()
        .map_err(|e| SloError::Malformed(format!("{e}")))?;
    check_envelope(rt, req.issuer.as_ref(), req.destination.as_deref())?;
    if let Some(issued) = req.issue_instant {
        let limit =
            chrono::Duration::from_std(rt.settings.max_issue_delay() + rt.settings.clock_skew())
                .unwrap_or(chrono::Duration::seconds(150));
        if issued + limit < chrono::Utc::now() {
            return Err(SloError::Expired);
        }
    }
    let name_id = req
        .name_id
        .as_ref()
        .map(|n| n.value.trim().to_owned())
        .filter(|v| !v.is_empty());
    Ok(IdpLogout {
        request_id: req
            .id
            .clone()
            .ok_or_else(|| SloError::Malformed("no ID".into()))?,
        name_id: name_id.ok_or_else(|| SloError::Malformed("no NameID".into()))?,
    })
}

/// Checks the IdP's LogoutResponse to our request (already signature-verified); returns InResponseTo.
pub fn check_response(rt: &Runtime, xml: &str) -> Result<String, SloError> {
    let resp: LogoutResponse = xml
        .parse()
        .map_err(|e| SloError::Malformed(format!("{e}")))?;
    check_envelope(rt, resp.issuer.as_ref(), resp.destination.as_deref())?;
    let status = resp
        .status
        .as_ref()
        .and_then(|s| s.status_code.value.clone())
        .unwrap_or_default();
    if status != SUCCESS {
        return Err(SloError::Status(status));
    }
    resp.in_response_to.clone().ok_or(SloError::UnknownRequest)
}

fn deflate_b64(xml: &str) -> Result<String, SloError> {
    let mut out = Vec::new();
    {
        let mut enc = DeflateEncoder::new(&mut out, Compression::default());
        enc.write_all(xml.as_bytes())
            .map_err(|e| SloError::Build(e.to_string()))?;
        enc.finish().map_err(|e| SloError::Build(e.to_string()))?;
    }
    Ok(B64.encode(out))
}

fn redirect_url(
    rt: &Runtime,
    destination: &str,
    param: &str,
    xml: &str,
    relay_state: &str,
) -> Result<String, SloError> {
    let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let mut query = format!("{param}={}", enc(&deflate_b64(xml)?));
    if !relay_state.is_empty() {
        query.push_str(&format!("&RelayState={}", enc(relay_state)));
    }
    if let Some((_, key)) = &rt.signing {
        query = sign_query(query, key, &rt.settings.signature_algorithm)
            .map_err(|e| SloError::Build(e.to_string()))?;
    }
    let sep = if destination.contains('?') { '&' } else { '?' };
    Ok(format!("{destination}{sep}{query}"))
}

fn issuer(rt: &Runtime) -> Issuer {
    Issuer {
        value: Some(rt.sp.entity_id.clone()),
        ..Issuer::default()
    }
}

/// Our LogoutResponse to an IdP-initiated logout, as a redirect URL.
pub fn response_redirect(
    rt: &Runtime,
    in_response_to: &str,
    relay_state: &str,
) -> Result<String, SloError> {
    let destination = rt.idp.slo_redirect.clone().ok_or(SloError::NoEndpoint)?;
    let resp = LogoutResponse {
        id: Some(random_id()),
        in_response_to: Some(in_response_to.to_owned()),
        version: Some("2.0".into()),
        issue_instant: Some(chrono::Utc::now()),
        destination: Some(destination.clone()),
        consent: None,
        issuer: Some(issuer(rt)),
        signature: None,
        status: Some(Status {
            status_code: StatusCode {
                value: Some(SUCCESS.into()),
            },
            status_message: None,
            status_detail: None,
        }),
    };
    let xml = resp
        .to_string()
        .map_err(|e| SloError::Build(e.to_string()))?;
    redirect_url(rt, &destination, "SAMLResponse", &xml, relay_state)
}

/// Our LogoutRequest for an SP-initiated logout: (request ID, redirect URL).
pub fn request_redirect(
    rt: &Runtime,
    name_id: &str,
    session_index: &str,
) -> Result<(String, String), SloError> {
    if !rt.settings.single_logout {
        return Err(SloError::Disabled);
    }
    let destination = rt.idp.slo_redirect.clone().ok_or(SloError::NoEndpoint)?;
    let id = random_id();
    let req = LogoutRequest {
        id: Some(id.clone()),
        version: Some("2.0".into()),
        issue_instant: Some(chrono::Utc::now()),
        destination: Some(destination.clone()),
        issuer: Some(issuer(rt)),
        signature: None,
        session_index: (!session_index.is_empty()).then(|| session_index.to_owned()),
        name_id: Some(NameID {
            format: Some(rt.settings.name_id_format.clone()),
            value: name_id.to_owned(),
        }),
    };
    let xml = req
        .to_string()
        .map_err(|e| SloError::Build(e.to_string()))?;
    Ok((
        id.clone(),
        redirect_url(rt, &destination, "SAMLRequest", &xml, &id)?,
    ))
}
