//! Single logout at `/saml/{provider}/slo` (HTTP-Redirect and HTTP-POST):
//! - IdP-initiated: a signed LogoutRequest ends the sessions of its NameID
//!   here — those named by its SessionIndex elements, or all of that
//!   NameID's sessions when it names none (SAML profiles §4.4) — and is
//!   answered with a (signed) LogoutResponse when `send_logout_response`;
//! - SP-initiated: our signed LogoutRequest to the IdP, echoing the NameID
//!   exactly as the IdP asserted it (the local session ends at once), and
//!   the IdP's LogoutResponse, which must answer a request this browser
//!   started.
//!
//! Redirect-binding signatures are over the query string exactly as received
//! (SAML bindings §3.4.4.1), so the raw query is kept; POST-binding messages
//! carry enveloped XML signatures verified by `dsig`. Messages are read from
//! the libxml2 document the signature was checked on.

use std::io::Read;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use flate2::read::DeflateDecoder;

use super::assertion::NameId;
use super::dsig::{self, DsigError};
use super::idp::{Endpoint, POST, REDIRECT};
use super::login::{deflate_b64, random_id, Outbound};
use super::messages::{instant, Envelope, LogoutRequest, LogoutResponse, SUCCESS};
use super::ns::{ASSERTION, PROTOCOL};
use super::runtime::Runtime;
use super::sign::{encode, SignError};
use super::xml::{Doc, El};

const MAX_MESSAGE: usize = 64 * 1024;
/// Most SessionIndex elements read from one LogoutRequest.
pub const MAX_SESSION_INDEXES: usize = 64;

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
    #[error("the logout message was issued in the future beyond clock_skew")]
    Future,
    #[error("the LogoutResponse answers no logout this browser started")]
    UnknownRequest,
    #[error("the IdP reported logout status {0}")]
    Status(String),
    #[error(transparent)]
    Decrypt(#[from] super::decrypt::DecryptError),
    #[error(
        "the RelayState is longer than the {} bytes SAML allows; it would be sent back as is",
        super::relay::MAX_EMITTED
    )]
    RelayStateTooLong,
    #[error(transparent)]
    Work(#[from] super::work::WorkError),
    #[error("cannot build the logout message: {0}")]
    Build(String),
}

impl From<SignError> for SloError {
    fn from(e: SignError) -> Self {
        SloError::Build(e.to_string())
    }
}

/// One parameter of a query string, exactly as it was encoded on the wire.
pub fn raw_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        pair.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
    })
}

pub fn url_decode(v: &str) -> Result<String, SloError> {
    url::form_urlencoded::parse(format!("v={v}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .ok_or(SloError::Encoding)
}

/// A logout message as it arrived, before anything of it is read.
pub enum Incoming {
    /// HTTP-Redirect: the raw query and which parameter holds the message.
    Redirect { query: String, param: &'static str },
    /// HTTP-POST: the form field's base64.
    Post(String),
}

impl Incoming {
    /// Decoded, and for HTTP-Redirect signature-checked.
    pub fn message(&self, rt: &Runtime) -> Result<Message, SloError> {
        match self {
            Incoming::Redirect { query, param } => from_redirect(rt, query, param),
            Incoming::Post(b64) => from_post(b64),
        }
    }
}

/// A logout message as received, before it is parsed.
pub struct Message {
    xml: String,
    /// The HTTP-Redirect binding's query signature held.
    signed_by_query: bool,
}

/// The HTTP-Redirect binding: the query signature is checked (before any
/// inflating or parsing), then the message inflated, at most `MAX_MESSAGE`.
pub fn from_redirect(rt: &Runtime, query: &str, param: &str) -> Result<Message, SloError> {
    let raw = raw_param(query, param).ok_or(SloError::Encoding)?;
    if raw.len() > MAX_MESSAGE * 2 {
        return Err(SloError::Encoding);
    }
    let signature = raw_param(query, "Signature");
    let sig_alg = raw_param(query, "SigAlg");
    let signed_by_query = match (signature, sig_alg) {
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
                &rt.idp.signing_keys,
                &url_decode(alg)?,
                rt.settings.allow_sha1,
                signed.as_bytes(),
                &sig,
            )?;
            true
        }
        _ if rt.settings.strict => return Err(SloError::Unsigned),
        _ => false,
    };
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
    Ok(Message {
        xml,
        signed_by_query,
    })
}

/// The HTTP-POST binding: base64 of the XML, which carries its own signature.
pub fn from_post(b64: &str) -> Result<Message, SloError> {
    let mut compact = b64.as_bytes().to_vec();
    compact.retain(|b| !b.is_ascii_whitespace());
    if compact.len() > MAX_MESSAGE * 2 {
        return Err(SloError::Encoding);
    }
    let xml = String::from_utf8(B64.decode(compact).map_err(|_| SloError::Encoding)?)
        .map_err(|_| SloError::Encoding)?;
    Ok(Message {
        xml,
        signed_by_query: false,
    })
}

impl Message {
    /// The guarded, parsed message whose root is `samlp:{root}`, its
    /// signature verified: the query's, or the root element's own enveloped
    /// signature (which covers the whole message).
    fn verified(&self, rt: &Runtime, root_name: &str) -> Result<Doc, SloError> {
        super::guard::check_markup(&self.xml).map_err(|e| SloError::Malformed(e.to_string()))?;
        let doc = Doc::parse(&self.xml).map_err(|e| SloError::Malformed(e.to_string()))?;
        let root = doc
            .root()
            .filter(|r| r.is(PROTOCOL, root_name))
            .ok_or_else(|| {
                SloError::Malformed(format!("the root element is not samlp:{root_name}"))
            })?;
        super::guard::check_limits(root).map_err(|e| SloError::Malformed(e.to_string()))?;
        if !self.signed_by_query {
            match dsig::signature_of(root)? {
                Some(sig) => dsig::verify_enveloped(
                    &doc,
                    root,
                    sig,
                    &rt.idp.signing_keys,
                    rt.settings.allow_sha1,
                )?,
                None if rt.settings.strict => return Err(SloError::Unsigned),
                None => {}
            }
        }
        Ok(doc)
    }
}

/// Version, Issuer, Destination and IssueInstant of a logout message.
fn check_envelope(rt: &Runtime, root: El<'_>) -> Result<(), SloError> {
    if root.attr("Version").as_deref() != Some("2.0") {
        return Err(SloError::Malformed("Version must be 2.0".into()));
    }
    let issuer = root
        .child(ASSERTION, "Issuer")
        .map(|i| i.text())
        .unwrap_or_default();
    if issuer != rt.idp.entity_id {
        return Err(SloError::Issuer(issuer.chars().take(200).collect()));
    }
    if let Some(dest) = root.attr("Destination") {
        if dest != rt.sp.slo_url {
            return Err(SloError::Destination(dest.chars().take(200).collect()));
        }
    }
    let issued = root
        .attr("IssueInstant")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .ok_or_else(|| SloError::Malformed("IssueInstant is missing or not a dateTime".into()))?
        .with_timezone(&Utc);
    let skew = super::runtime::to_chrono(rt.settings.clock_skew);
    let delay = super::runtime::to_chrono(rt.settings.max_issue_delay);
    let now = Utc::now();
    if issued + delay + skew < now {
        return Err(SloError::Expired);
    }
    if issued - skew > now {
        return Err(SloError::Future);
    }
    Ok(())
}

/// An IdP's LogoutRequest, verified.
#[derive(Debug)]
pub struct IdpLogout {
    pub request_id: String,
    pub name_id: NameId,
    /// The sessions to end; empty means every session of the NameID.
    pub session_indexes: Vec<String>,
}

fn encrypted_id(root: El<'_>) -> Option<El<'_>> {
    root.child(ASSERTION, "EncryptedID")
}

/// Checks an IdP's LogoutRequest.
pub fn check_request(rt: &Runtime, msg: &Message) -> Result<IdpLogout, SloError> {
    let mut doc = msg.verified(rt, "LogoutRequest")?;
    {
        let root = doc.root().ok_or(SloError::Encoding)?;
        check_envelope(rt, root)?;
        if let Some(t) = root.attr("NotOnOrAfter") {
            let t = DateTime::parse_from_rfc3339(&t)
                .map_err(|_| SloError::Malformed("NotOnOrAfter is not a dateTime".into()))?;
            if t + super::runtime::to_chrono(rt.settings.clock_skew) <= Utc::now() {
                return Err(SloError::Expired);
            }
        }
    }
    if doc.root().and_then(encrypted_id).is_some() {
        // The signature checked above covers the ciphertext.
        super::decrypt::decrypt_in_place(
            &mut doc,
            encrypted_id,
            rt.decryption_key.as_ref(),
            (ASSERTION, "NameID"),
        )?;
    }
    let root = doc.root().ok_or(SloError::Encoding)?;
    let name_id = root
        .child(ASSERTION, "NameID")
        .or_else(|| encrypted_id(root)?.child(ASSERTION, "NameID"))
        .ok_or_else(|| SloError::Malformed("no NameID".into()))
        .and_then(|el| {
            super::assertion::read_name_id(el).map_err(|e| SloError::Malformed(e.to_string()))
        })?;
    if name_id.value.is_empty() {
        return Err(SloError::Malformed("the NameID is empty".into()));
    }
    let mut session_indexes = Vec::new();
    for si in root.children().filter(|c| c.is(PROTOCOL, "SessionIndex")) {
        if session_indexes.len() == MAX_SESSION_INDEXES {
            return Err(SloError::Malformed(format!(
                "more than {MAX_SESSION_INDEXES} SessionIndex elements"
            )));
        }
        session_indexes.push(si.text());
    }
    Ok(IdpLogout {
        request_id: root
            .attr("ID")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| SloError::Malformed("no ID".into()))?,
        name_id,
        session_indexes,
    })
}

/// Checks the IdP's LogoutResponse to our request; returns InResponseTo.
pub fn check_response(rt: &Runtime, msg: &Message) -> Result<String, SloError> {
    let doc = msg.verified(rt, "LogoutResponse")?;
    let root = doc.root().ok_or(SloError::Encoding)?;
    check_envelope(rt, root)?;
    let status = root
        .child(PROTOCOL, "Status")
        .and_then(|s| s.child(PROTOCOL, "StatusCode"))
        .and_then(|c| c.attr("Value"))
        .unwrap_or_default();
    if status != SUCCESS {
        return Err(SloError::Status(status.chars().take(200).collect()));
    }
    root.attr("InResponseTo").ok_or(SloError::UnknownRequest)
}

/// The IdP's SLO endpoint we send to: HTTP-Redirect when it has one, else HTTP-POST.
fn slo_endpoint(rt: &Runtime) -> Result<&Endpoint, SloError> {
    rt.idp
        .slo_redirect
        .as_ref()
        .or(rt.idp.slo_post.as_ref())
        .ok_or(SloError::NoEndpoint)
}

/// Sends `write`'s message to `endpoint` by its binding, signed when we
/// have a key: the query signature for HTTP-Redirect, an enveloped one for
/// HTTP-POST.
fn outbound(
    rt: &Runtime,
    endpoint: &Endpoint,
    destination: &str,
    param: &'static str,
    id: &str,
    write: impl Fn(Option<&str>) -> String,
    relay_state: &str,
) -> Result<Outbound, SloError> {
    if relay_state.len() > super::relay::MAX_EMITTED {
        return Err(SloError::RelayStateTooLong);
    }
    let signer = rt.signer();
    if endpoint.binding == POST {
        let xml = match &signer {
            Some(s) => s.sign_enveloped(id, &write)?,
            None => write(None),
        };
        return Ok(Outbound::Post {
            action: destination.to_owned(),
            param,
            message: B64.encode(xml),
            relay_state: relay_state.to_owned(),
        });
    }
    debug_assert_eq!(endpoint.binding, REDIRECT);
    let deflated = deflate_b64(&write(None)).map_err(|e| SloError::Build(e.to_string()))?;
    let mut query = format!("{param}={}", encode(&deflated));
    if !relay_state.is_empty() {
        query.push_str(&format!("&RelayState={}", encode(relay_state)));
    }
    if let Some(s) = &signer {
        query = s.sign_query(&query)?;
    }
    let sep = if destination.contains('?') { '&' } else { '?' };
    Ok(Outbound::Redirect(format!("{destination}{sep}{query}")))
}

/// Our LogoutResponse to an IdP-initiated logout.
pub fn respond(
    rt: &Runtime,
    in_response_to: &str,
    relay_state: &str,
) -> Result<Outbound, SloError> {
    let endpoint = slo_endpoint(rt)?;
    let destination = endpoint.response_target().to_owned();
    let id = random_id();
    let now = instant(Utc::now());
    let resp = LogoutResponse {
        envelope: Envelope {
            id: &id,
            issue_instant: &now,
            destination: &destination,
            issuer: &rt.sp.entity_id,
        },
        in_response_to,
        status: SUCCESS,
    };
    outbound(
        rt,
        endpoint,
        &destination,
        "SAMLResponse",
        &id,
        |sig| resp.write(sig),
        relay_state,
    )
}

/// Our LogoutRequest for an SP-initiated logout: (request ID, how to send it).
pub fn request(
    rt: &Runtime,
    name_id: &NameId,
    session_index: &str,
) -> Result<(String, Outbound), SloError> {
    if !rt.settings.single_logout {
        return Err(SloError::Disabled);
    }
    let endpoint = slo_endpoint(rt)?;
    let destination = endpoint.location.clone();
    let id = random_id();
    let now = instant(Utc::now());
    let req = LogoutRequest {
        envelope: Envelope {
            id: &id,
            issue_instant: &now,
            destination: &destination,
            issuer: &rt.sp.entity_id,
        },
        name_id,
        session_index: Some(session_index),
    };
    let out = outbound(
        rt,
        endpoint,
        &destination,
        "SAMLRequest",
        &id,
        |sig| req.write(sig),
        &id,
    )?;
    Ok((id, out))
}
