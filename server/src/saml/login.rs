//! SP-initiated login: `GET /saml/{provider}/login[?redirect_to=...]` sends an
//! AuthnRequest to the IdP by HTTP-Redirect (signed query when
//! `sign_requests`) or by an auto-submitting HTTP-POST form (enveloped XML
//! signature), and remembers the request ID bound to this browser for the ACS.
//!
//! What an unauthenticated client can make us store is bounded: a request
//! lives [`REQUEST_TTL_SECS`] (then lookups ignore it and the background
//! purge deletes it), one browser keeps its [`PENDING_PER_BROWSER`] newest,
//! and one client address (`web::client`) at most
//! `server.pending_logins_per_address` live ones.

use std::io::Write;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use rand::RngCore;
use ssoplane_schema::saml::Binding;

use super::messages::{instant, AuthnRequest, Envelope};
use super::runtime::Runtime;
use super::sign::{encode, SignError};
use crate::store::{PendingBounds, SamlRequestRow, Store, StoreError};
use crate::web::client::Clients;

/// Lifetime of a pending AuthnRequest.
pub const REQUEST_TTL_SECS: i64 = 600;

/// Pending requests one browser keeps (a few tabs' worth of unfinished
/// sign-ins); starting another forgets its oldest.
pub const PENDING_PER_BROWSER: i64 = 8;

/// Stores `row` (its expiry set here from `now`, the sessions' clock, which
/// the ACS and the purge use too) within the bounds per browser and per
/// client address; false when the address is full and nothing was stored.
pub async fn remember(
    store: &Store,
    clients: &Clients,
    mut row: SamlRequestRow,
    now: i64,
) -> Result<bool, StoreError> {
    row.expires_at = now + REQUEST_TTL_SECS;
    let bounds = PendingBounds {
        per_browser: PENDING_PER_BROWSER,
        per_source: i64::try_from(clients.pending_per_address).unwrap_or(i64::MAX),
        now,
    };
    store.insert_saml_request(&row, bounds).await
}

/// Why a login could not be started.
#[derive(Debug, thiserror::Error)]
pub enum BeginError {
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error("too many unfinished sign-ins from this client address")]
    Crowded,
    #[error("cannot store the AuthnRequest: {0}")]
    Store(#[from] StoreError),
}

/// A started login: how to send the browser to the IdP, and the id its
/// browser-binding cookie must carry.
pub struct Begun {
    pub outbound: Outbound,
    pub browser: String,
}

/// Starts an SP-initiated login in the browser whose binding cookie holds
/// `browser` (a fresh id when it has none or a malformed one): the
/// AuthnRequest and the pending request stored with `relay` (where to go
/// afterwards, or a test sign-in's marker) and `source` (the client's
/// address key, `web::client`), within the bounds per browser and per
/// address ([`remember`]).
pub async fn begin(
    store: &Store,
    clients: &Clients,
    now: i64,
    rt: &Runtime,
    browser: Option<&str>,
    source: &str,
    relay: String,
) -> Result<Begun, BeginError> {
    let browser = browser
        .filter(|b| {
            (20..=64).contains(&b.len())
                && b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(random_id);
    let id = random_id();
    let outbound = start(rt, &id, &id)?;
    let row = SamlRequestRow {
        id: id.clone(),
        provider: rt.provider.clone(),
        browser: browser.clone(),
        relay_state: relay,
        expires_at: 0,
        source: source.to_owned(),
    };
    if !remember(store, clients, row, now).await? {
        return Err(BeginError::Crowded);
    }
    tracing::info!(
        provider = rt.provider,
        request_id = id,
        "SAML login started"
    );
    Ok(Begun { outbound, browser })
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the IdP has no single sign-on endpoint for the {0} binding")]
    NoEndpoint(&'static str),
    #[error("cannot encode the AuthnRequest: {0}")]
    Build(#[from] std::io::Error),
    #[error("cannot sign the AuthnRequest: {0}")]
    Sign(#[from] SignError),
}

/// How the browser is sent to the IdP.
pub enum Outbound {
    Redirect(String),
    /// An auto-submitting form posting `param` (SAMLRequest or
    /// SAMLResponse, base64) and RelayState to `action`.
    Post {
        action: String,
        param: &'static str,
        message: String,
        relay_state: String,
    },
}

pub fn random_id() -> String {
    let mut raw = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut raw);
    // SAML IDs are xs:ID: they must not start with a digit.
    format!("_{}", hex::encode(raw))
}

/// The HTTP-Redirect binding's encoding: DEFLATE, then base64.
pub fn deflate_b64(xml: &str) -> Result<String, std::io::Error> {
    let mut out = Vec::new();
    // A request is a kilobyte or two: the fastest level compresses it about
    // as well, at a fraction of the default level's match search.
    let mut enc = DeflateEncoder::new(&mut out, Compression::fast());
    enc.write_all(xml.as_bytes())?;
    enc.finish()?;
    Ok(B64.encode(out))
}

/// Builds the AuthnRequest with ID `id` and the way to send it.
pub fn start(rt: &Runtime, id: &str, relay_state: &str) -> Result<Outbound, LoginError> {
    let s = &rt.settings;
    let post = s.binding == Binding::Post || rt.idp.sso_redirect.is_none();
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
    let now = instant(chrono::Utc::now());
    let request = AuthnRequest {
        envelope: Envelope {
            id,
            issue_instant: &now,
            destination: &destination,
            issuer: &rt.sp.entity_id,
        },
        acs_url: &rt.sp.acs_url,
        force_authn: s.force_authn,
        name_id_format: s.name_id_format.as_str(),
        authn_context: &s.authn_context,
        comparison: s.authn_context_comparison.as_str(),
    };
    let signer = rt.signer().filter(|_| s.sign_requests);
    if post {
        let xml = match &signer {
            Some(signer) => signer.sign_enveloped(id, |sig| request.write(sig))?,
            None => request.write(None),
        };
        return Ok(Outbound::Post {
            action: destination,
            param: "SAMLRequest",
            message: B64.encode(xml),
            relay_state: relay_state.to_owned(),
        });
    }
    let mut query = format!(
        "SAMLRequest={}",
        encode(&deflate_b64(&request.write(None))?)
    );
    if !relay_state.is_empty() {
        query.push_str(&format!("&RelayState={}", encode(relay_state)));
    }
    if let Some(signer) = &signer {
        query = signer.sign_query(&query)?;
    }
    let sep = if destination.contains('?') { '&' } else { '?' };
    Ok(Outbound::Redirect(format!("{destination}{sep}{query}")))
}
