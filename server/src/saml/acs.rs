//! The assertion consumer service: `POST /saml/{provider}/acs`. Every rule of
//! DESIGN.md's "SAML rules the ACS enforces" is checked here or in samael
//! (named where it is samael's); any failure ends with an error page carrying
//! a correlation id, a precise log line and login event, and no session.

use std::sync::Arc;

use base64::Engine;
use samael::schema::Assertion;

use super::guard::{self, Scan};
use super::runtime::{Runtime, RuntimeError};
use crate::identity::attributes::{self, Identity};
use crate::identity::authorize::{self, Decision};
use crate::identity::provision::{self, ProvisionError};
use crate::store::{Store, StoreError, UserRow};

/// Why a response was refused. `Display` is the administrator's detail (logs,
/// login events); `user_message` is what the browser is shown.
#[derive(Debug, thiserror::Error)]
pub enum AcsError {
    #[error(transparent)]
    Provider(#[from] RuntimeError),
    #[error("SAMLResponse is missing or not base64")]
    Encoding,
    #[error(transparent)]
    Guard(#[from] guard::GuardError),
    #[error("unsolicited response (no InResponseTo) and allow_idp_initiated is off")]
    Unsolicited,
    #[error("InResponseTo {0:?} matches no login started by this browser")]
    UnknownRequest(String),
    #[error("the response was already used (request {0:?} consumed)")]
    RequestReplayed(String),
    #[error("assertion {0:?} was already used: replay refused")]
    AssertionReplayed(String),
    #[error("response rejected by signature/protocol validation: {0}")]
    Invalid(String),
    #[error(transparent)]
    Decrypt(#[from] super::decrypt::DecryptError),
    #[error("the assertion is not encrypted but want_assertions_encrypted is on")]
    NotEncrypted,
    #[error("the assertion has no AudienceRestriction naming our entity ID {0:?}")]
    NoAudience(String),
    #[error("RelayState {0:?} does not match the configured relay_state")]
    RelayStateMismatch(String),
    #[error("RelayState redirect target is not allowed: {0:?}")]
    RelayStateOffsite(String),
    #[error(transparent)]
    Mapping(#[from] attributes::MappingError),
    #[error(transparent)]
    Denied(#[from] authorize::Denied),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AcsError {
    pub fn user_message(&self) -> &'static str {
        match self {
            AcsError::Provider(RuntimeError::Unknown(_) | RuntimeError::Disabled(_)) => "This sign-in method is not available.",
            AcsError::Provider(_) | AcsError::Store(_) => "Sign-in is misconfigured or temporarily unavailable.",
            AcsError::Denied(_) | AcsError::Provision(ProvisionError::Disabled(_) | ProvisionError::SignUpDisabled(_) | ProvisionError::NoExistingGroup(_)) => {
                "Your account is not allowed to sign in here."
            }
            AcsError::Provision(_) => "Sign-in is misconfigured; your administrator has been told.",
            AcsError::UnknownRequest(_) | AcsError::RequestReplayed(_) | AcsError::Unsolicited => {
                "This sign-in was not started from this browser, or it was already used. Start again from the sign-in page."
            }
            _ => "The identity provider's answer could not be accepted.",
        }
    }

    /// A short stable name for metrics and login events.
    pub fn check(&self) -> &'static str {
        match self {
            AcsError::Provider(_) => "provider",
            AcsError::Encoding => "encoding",
            AcsError::Guard(_) => "xml_guard",
            AcsError::Unsolicited => "unsolicited",
            AcsError::UnknownRequest(_) => "in_response_to",
            AcsError::RequestReplayed(_) | AcsError::AssertionReplayed(_) => "replay",
            AcsError::Invalid(_) => "validation",
            AcsError::NotEncrypted | AcsError::Decrypt(_) => "encryption",
            AcsError::NoAudience(_) => "audience",
            AcsError::RelayStateMismatch(_) | AcsError::RelayStateOffsite(_) => "relay_state",
            AcsError::Mapping(_) => "mapping",
            AcsError::Denied(_) => "authorization",
            AcsError::Provision(_) => "provisioning",
            AcsError::Store(_) => "store",
        }
    }
}

/// A verified login, ready for a session.
pub struct Accepted {
    pub user: UserRow,
    pub identity: Identity,
    pub decision: Decision,
    pub name_id: String,
    pub session_index: String,
    pub redirect_to: String,
}

pub fn decode(saml_response: &str) -> Result<String, AcsError> {
    let compact: String = saml_response
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if compact.is_empty() || compact.len() > guard::MAX_RESPONSE_BYTES * 4 / 3 + 4 {
        return Err(if compact.is_empty() {
            AcsError::Encoding
        } else {
            AcsError::Guard(guard::GuardError::TooLarge)
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| AcsError::Encoding)?;
    String::from_utf8(bytes).map_err(|_| AcsError::Encoding)
}

/// Signature, protocol and assertion checks, from the raw XML to a verified
/// assertion. Pure CPU (libxmlsec1): run it off the async workers.
pub fn verify(
    rt: &Runtime,
    xml: &str,
    scan: &Scan,
    pending: &[String],
) -> Result<Assertion, AcsError> {
    let ids: Vec<&str> = pending.iter().map(String::as_str).collect();
    let decrypted;
    let xml = if scan.encrypted {
        // A signed Response is verified before anything is decrypted.
        if scan.response_signed {
            use samael::crypto::{Crypto, CryptoProvider, ReduceMode};
            let certs = rt
                .samael
                .idp_signing_certs()
                .map_err(|e| AcsError::Invalid(chain(&e)))?
                .unwrap_or_default();
            Crypto::reduce_xml_to_signed(xml, &certs, ReduceMode::default()).map_err(|_| {
                AcsError::Invalid(
                    "the Response signature does not verify against the IdP's certificates".into(),
                )
            })?;
        }
        decrypted = super::decrypt::decrypt_response(xml, rt.decryption_key.as_ref())?;
        decrypted.as_str()
    } else {
        xml
    };
    // samael: XML-DSig against the IdP's certificates with the algorithm
    // allowlist, reduction to the signed element, Destination, InResponseTo,
    // IssueInstant + max_issue_delay, Issuer, Status, decryption,
    // NotBefore/NotOnOrAfter with skew, Audience (when present), bearer
    // SubjectConfirmation Recipient/NotOnOrAfter/InResponseTo.
    let assertion = rt
        .samael
        .parse_xml_response(xml, Some(&ids))
        .map_err(|e| AcsError::Invalid(chain(&e)))?;
    let s = &rt.settings;
    if s.want_assertions_encrypted && !scan.encrypted {
        return Err(AcsError::NotEncrypted);
    }
    // samael checks the audience only when a restriction is present; strict
    // mode requires one naming us, so an assertion for any SP is not enough.
    if s.strict {
        let names_us = assertion
            .conditions
            .as_ref()
            .and_then(|c| c.audience_restrictions.as_ref())
            .is_some_and(|rs| {
                rs.iter()
                    .any(|r| r.audience.iter().any(|a| a == &rt.sp.entity_id))
            });
        if !names_us {
            return Err(AcsError::NoAudience(rt.sp.entity_id.clone()));
        }
    }
    Ok(assertion)
}

/// An error with its causes, for the administrator's log line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// When the assertion stops being acceptable, so its ID is remembered that long.
fn replay_horizon(rt: &Runtime, assertion: &Assertion) -> i64 {
    let skew = rt.settings.clock_skew().as_secs() as i64;
    let issued_plus_delay =
        assertion.issue_instant.timestamp() + rt.settings.max_issue_delay().as_secs() as i64;
    let not_after = assertion
        .conditions
        .as_ref()
        .and_then(|c| c.not_on_or_after)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    issued_plus_delay.max(not_after) + skew
}

pub async fn accept(
    store: &Store,
    rt: Arc<Runtime>,
    saml_response: &str,
    relay_state: &str,
    browser: Option<&str>,
) -> Result<Accepted, AcsError> {
    let xml = decode(saml_response)?;
    let scan = guard::check(&xml)?;
    let now = crate::identity::sessions::now_secs();
    let requests = match browser {
        Some(b) => store.pending_saml_requests(&rt.provider, b, now).await?,
        None => Vec::new(),
    };
    let pending: Vec<String> = requests.iter().map(|r| r.id.clone()).collect();
    // InResponseTo binds the response to a request *this browser* started;
    // samael alone would accept any InResponseTo once IdP-initiated is on.
    match &scan.in_response_to {
        Some(irt) if !pending.contains(irt) => return Err(AcsError::UnknownRequest(irt.clone())),
        None if !rt.settings.allow_idp_initiated => return Err(AcsError::Unsolicited),
        _ => {}
    }
    let assertion = {
        let rt = Arc::clone(&rt);
        let scan = scan.clone();
        let pending = pending.clone();
        tokio::task::spawn_blocking(move || verify(&rt, &xml, &scan, &pending))
            .await
            .map_err(|e| AcsError::Invalid(format!("verification task failed: {e}")))??
    };
    let redirect_to = match &scan.in_response_to {
        Some(irt) => {
            let target = requests
                .iter()
                .find(|r| &r.id == irt)
                .map(|r| r.relay_state.clone())
                .unwrap_or_else(|| "/".into());
            // One response per request, even with two ACS calls racing.
            if !store.take_saml_request(irt).await? {
                return Err(AcsError::RequestReplayed(irt.clone()));
            }
            target
        }
        None => idp_initiated_target(&rt, relay_state)?,
    };
    // Replay protection across replicas: the store remembers assertion IDs
    // until the assertion could no longer be accepted anyway.
    if !store
        .remember_assertion(&assertion.id, &rt.provider, replay_horizon(&rt, &assertion))
        .await?
    {
        return Err(AcsError::AssertionReplayed(assertion.id.clone()));
    }
    let claims = attributes::claims(&assertion)?;
    let identity = attributes::map(&rt.settings, &claims)?;
    let decision = authorize::authorize(&rt.settings, &identity)?;
    let user =
        provision::provision(store, &rt.settings, &rt.provider, &identity, &decision).await?;
    Ok(Accepted {
        user,
        identity,
        decision,
        name_id: claims.name_id,
        session_index: claims.session_index,
        redirect_to,
    })
}

fn idp_initiated_target(rt: &Runtime, relay_state: &str) -> Result<String, AcsError> {
    let s = &rt.settings;
    if !s.relay_state.is_empty() {
        if relay_state != s.relay_state {
            return Err(AcsError::RelayStateMismatch(
                relay_state.chars().take(200).collect(),
            ));
        }
        return Ok("/".into());
    }
    let root = rt.sp.metadata_url.split("/saml/").next().unwrap_or("");
    super::relay::allowed_target(relay_state, root, &s.allowed_redirect_urls)
        .ok_or_else(|| AcsError::RelayStateOffsite(relay_state.chars().take(200).collect()))
}
