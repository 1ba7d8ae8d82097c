//! The assertion consumer service's checklist: a posted SAMLResponse goes
//! through every rule docs/saml.md lists under "What the ACS checks"
//! (signatures in `dsig`, protocol rules in `validate`, the browser binding
//! and replay memory here), then `identity::` maps, authorizes and
//! provisions the user. Any failure is an [`AcsError`] naming the check;
//! the handler (`http::acs`) shows a generic page with the correlation id,
//! and records a log line and a login event; no session is made.

use std::sync::Arc;

use super::assertion::{Assertion, AssertionError};
use base64::Engine;

use super::dsig::{self, DsigError};
use super::finish::{self, Spent};
use super::guard;
use super::runtime::{Runtime, RuntimeError};
use super::validate::{Expect, ResponseFields, RuleError};
use super::xml::{Doc, El};
use crate::identity::attributes;
use crate::identity::authorize::{self, Decision};
use crate::identity::provision::ProvisionError;
use crate::identity::sessions::Sessions;
use crate::store::{Store, StoreError, UserRow};

use super::ns::ASSERTION as ASSERTION_NS;

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
    #[error("InResponseTo {0:?}: the browser did not send its sign-in cookie (blocked cookies, or a root_url that differs from the address in the browser)")]
    NoBrowserCookie(String),
    #[error("the response was already used (request {0:?} consumed)")]
    RequestReplayed(String),
    #[error("assertion {0:?} was already used: replay refused")]
    AssertionReplayed(String),
    #[error("neither the Response nor the Assertion is signed")]
    Unsigned,
    #[error("the Assertion must be a direct child of the Response")]
    Misplaced,
    #[error("the signed Assertion does not follow the SAML 2.0 schema: {0}")]
    Unreadable(#[from] AssertionError),
    #[error(transparent)]
    Signature(#[from] DsigError),
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Work(#[from] super::work::WorkError),
    #[error(transparent)]
    Decrypt(#[from] super::decrypt::DecryptError),
    #[error("the assertion is not encrypted but want_assertions_encrypted is on")]
    NotEncrypted,
    #[error("RelayState {0:?} does not match the configured relay_state")]
    RelayStateMismatch(String),
    #[error("RelayState redirect target is refused ({why}): {target:?}")]
    RelayStateOffsite {
        why: super::relay::Refused,
        target: String,
    },
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
    /// A provisioning error that may be a lost race on a unique key
    /// ([`ProvisionError::may_be_a_race`]).
    pub fn may_be_a_race(&self) -> bool {
        matches!(self, AcsError::Provision(e) if e.may_be_a_race())
    }

    pub fn user_message(&self) -> &'static str {
        match self {
            AcsError::Provider(RuntimeError::Unknown(_) | RuntimeError::Disabled(_)) => "This sign-in method is not available.",
            AcsError::Provider(_) | AcsError::Store(_) => "Sign-in is misconfigured or temporarily unavailable.",
            AcsError::Work(_) => "Sign-in is busy; try again in a moment.",
            AcsError::Denied(_) | AcsError::Provision(ProvisionError::Disabled(_) | ProvisionError::SignUpDisabled(_) | ProvisionError::NoExistingGroup(_)) => {
                "Your account is not allowed to sign in here."
            }
            AcsError::Provision(_) => "Sign-in is misconfigured; your administrator has been told.",
            AcsError::UnknownRequest(_) | AcsError::RequestReplayed(_) | AcsError::Unsolicited => {
                "This sign-in was not started from this browser, or it was already used. Start again from the sign-in page."
            }
            AcsError::NoBrowserCookie(_) => {
                "This browser did not send back the cookie set when sign-in started, so the answer cannot be matched to it. Allow cookies for this site and start again from the sign-in page."
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
            AcsError::UnknownRequest(_) | AcsError::NoBrowserCookie(_) => "in_response_to",
            AcsError::RequestReplayed(_) | AcsError::AssertionReplayed(_) => "replay",
            AcsError::Unsigned
            | AcsError::Misplaced
            | AcsError::Unreadable(_)
            | AcsError::Signature(_) => "validation",
            AcsError::Work(_) => "busy",
            AcsError::Rule(RuleError::Audience(_) | RuleError::NoAudience(_)) => "audience",
            AcsError::Rule(_) => "validation",
            AcsError::NotEncrypted | AcsError::Decrypt(_) => "encryption",
            AcsError::RelayStateMismatch(_) | AcsError::RelayStateOffsite { .. } => "relay_state",
            AcsError::Mapping(_) => "mapping",
            AcsError::Denied(_) => "authorization",
            AcsError::Provision(ProvisionError::Collision { .. }) => "identity_collision",
            AcsError::Provision(_) => "provisioning",
            AcsError::Store(_) => "store",
        }
    }
}

/// A verified login, its user provisioned and its session stored.
pub struct Accepted {
    pub user: UserRow,
    /// The new session's cookie value.
    pub token: String,
    pub decision: Decision,
    pub redirect_to: String,
}

pub fn decode(saml_response: &str) -> Result<String, AcsError> {
    let mut compact = saml_response.as_bytes().to_vec();
    compact.retain(|b| !b.is_ascii_whitespace());
    if compact.is_empty() {
        return Err(AcsError::Encoding);
    }
    if compact.len() > guard::MAX_RESPONSE_BYTES * 4 / 3 + 4 {
        return Err(AcsError::Guard(guard::GuardError::TooLarge));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| AcsError::Encoding)?;
    String::from_utf8(bytes).map_err(|_| AcsError::Encoding)
}

/// A response that passed every check that needs no store.
pub struct Verified {
    pub assertion: Assertion,
    /// The request it answers; `None` for an IdP-initiated login.
    pub in_response_to: Option<String>,
    /// Which elements carried a verified signature.
    pub signed: &'static str,
}

/// A refused response, with the request it claimed to answer when the
/// checks got that far (a test sign-in reports its own refusals).
#[derive(Debug)]
pub struct Refused {
    pub error: AcsError,
    pub in_response_to: Option<String>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// What an accepted response leads to.
pub enum Outcome {
    /// A real login: the user is provisioned; a session follows.
    Login(Box<Accepted>),
    /// An administrator's test sign-in: what came back; never a session.
    Test(Box<super::diagnose::TestReport>),
}

/// Markup guard, InResponseTo binding, signature, protocol and assertion
/// checks, from the raw XML to a verified assertion, on one parse. `pending`
/// are the requests this browser started. Pure CPU (libxml2 + OpenSSL): run
/// it off the async workers.
pub fn verify(rt: &Runtime, xml: &str, pending: &[String]) -> Result<Verified, Refused> {
    verify_at(rt, xml, pending, chrono::Utc::now())
}

/// [`verify`] with the time windows judged at `now`.
pub fn verify_at(
    rt: &Runtime,
    xml: &str,
    pending: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Verified, Refused> {
    let mut answers = None;
    verify_answering(rt, xml, pending, now, &mut answers).map_err(|error| Refused {
        error,
        in_response_to: answers,
    })
}

fn verify_answering(
    rt: &Runtime,
    xml: &str,
    pending: &[String],
    now: chrono::DateTime<chrono::Utc>,
    answers: &mut Option<String>,
) -> Result<Verified, AcsError> {
    guard::check_markup(xml)?;
    let mut doc = Doc::parse(xml).map_err(|_| guard::GuardError::Malformed)?;
    let s = &rt.settings;
    let (scan, response_signed) = {
        let root = doc.root().ok_or(guard::GuardError::Malformed)?;
        let scan = guard::check(root)?;
        answers.clone_from(&scan.in_response_to);
        // InResponseTo binds the response to a request *this browser*
        // started; checked before any signature work, it is also the
        // cheapest refusal.
        match &scan.in_response_to {
            Some(irt) if !pending.contains(irt) => {
                return Err(AcsError::UnknownRequest(irt.clone()))
            }
            None if !s.allow_idp_initiated => return Err(AcsError::Unsolicited),
            _ => {}
        }
        let signed = match dsig::signature_of(root)? {
            Some(sig) => {
                dsig::verify_enveloped(&doc, root, sig, &rt.idp.signing_keys, s.allow_sha1)?;
                true
            }
            None => false,
        };
        (scan, signed)
    };
    if scan.encrypted {
        // Decrypted only after the Response signature (if any) held; that
        // signature covers the ciphertext, so it vouches for the plaintext.
        super::decrypt::decrypt_in_place(
            &mut doc,
            |root| root.child(ASSERTION_NS, "EncryptedAssertion"),
            rt.decryption_key.as_ref(),
            (ASSERTION_NS, "Assertion"),
        )?;
    } else if s.want_assertions_encrypted {
        return Err(AcsError::NotEncrypted);
    }
    // The assertion's own signature, or the Response's when it has none.
    let signed;
    {
        let root = doc.root().ok_or(guard::GuardError::Malformed)?;
        let el = assertion_of(root).ok_or(AcsError::Misplaced)?;
        if scan.encrypted {
            // What the ciphertext held is checked like the outer message was.
            guard::check_decrypted(el)?;
        }
        signed = match dsig::signature_of(el)? {
            Some(sig) => {
                dsig::verify_enveloped(&doc, el, sig, &rt.idp.signing_keys, s.allow_sha1)?;
                if response_signed {
                    "Response and Assertion"
                } else {
                    "Assertion"
                }
            }
            None if response_signed => "Response",
            None => return Err(AcsError::Unsigned),
        };
    }
    // An encrypted NameID is decrypted once the signature covering its
    // ciphertext held.
    if doc.root().and_then(encrypted_id).is_some() {
        super::decrypt::decrypt_in_place(
            &mut doc,
            encrypted_id,
            rt.decryption_key.as_ref(),
            (ASSERTION_NS, "NameID"),
        )?;
    }
    let root = doc.root().ok_or(guard::GuardError::Malformed)?;
    let assertion = Assertion::read(assertion_of(root).ok_or(AcsError::Misplaced)?)?;
    let response = ResponseFields::read(root);
    let expect = Expect {
        acs_url: &rt.sp.acs_url,
        entity_id: &rt.sp.entity_id,
        idp_entity_id: &rt.idp.entity_id,
        pending,
        allow_idp_initiated: s.allow_idp_initiated,
        max_issue_delay: super::runtime::to_chrono(s.max_issue_delay),
        skew: super::runtime::to_chrono(s.clock_skew),
        // Strict mode wants an AudienceRestriction naming us, so an
        // assertion addressed to any SP is not enough.
        require_audience: s.strict,
        now,
    };
    expect.response(&response, response_signed)?;
    expect.assertion(&assertion, response.in_response_to.as_deref())?;
    Ok(Verified {
        assertion,
        in_response_to: scan.in_response_to,
        signed,
    })
}

/// The assertion's Subject's EncryptedID, if it has one.
fn encrypted_id(root: El<'_>) -> Option<El<'_>> {
    assertion_of(root)?
        .child(ASSERTION_NS, "Subject")?
        .child(ASSERTION_NS, "EncryptedID")
}

/// The Response's one Assertion: a direct child, or the decrypted content
/// of a direct EncryptedAssertion child.
fn assertion_of(root: El<'_>) -> Option<El<'_>> {
    root.child(ASSERTION_NS, "Assertion").or_else(|| {
        root.child(ASSERTION_NS, "EncryptedAssertion")?
            .child(ASSERTION_NS, "Assertion")
    })
}

/// When the assertion stops being acceptable, so its ID is remembered that long.
fn replay_horizon(rt: &Runtime, assertion: &Assertion) -> i64 {
    let skew = rt.settings.clock_skew.as_secs() as i64;
    let issued_plus_delay =
        assertion.issue_instant.timestamp() + rt.settings.max_issue_delay.as_secs() as i64;
    let not_after = assertion
        .not_on_or_after
        .map(|t| t.timestamp())
        .unwrap_or(0);
    issued_plus_delay.max(not_after) + skew
}

/// What the browser posted to the ACS, and the browser it came from.
pub struct Posted<'a> {
    pub saml_response: &'a str,
    pub relay_state: &'a str,
    /// The `ssoplane_browser` cookie, when the browser sent it.
    pub browser: Option<&'a str>,
}

/// Accepts a response posted to the ACS. `saml` gives the worker pool and,
/// through its settings service, the server's public root (the base an
/// IdP-initiated RelayState may point under). `tests_only` is set for a
/// disabled provider: only an administrator's test sign-in may be answered
/// then. Pending requests and the response's time windows are judged by
/// the `sessions`' clock; an accepted login's session is made there, in
/// the login's one transaction ([`finish::login`]), and its event carries
/// the correlation id `cid`.
pub async fn accept(
    store: &Store,
    saml: &super::runtime::Registry,
    rt: Arc<Runtime>,
    posted: Posted<'_>,
    sessions: &Sessions,
    tests_only: bool,
    cid: &str,
) -> Result<Outcome, AcsError> {
    let clock = sessions.clock();
    let Posted {
        saml_response,
        relay_state,
        browser,
    } = posted;
    use super::diagnose::{TestReport, TEST_RELAY_PREFIX};
    if relay_state.len() > super::relay::MAX_ACCEPTED {
        return Err(AcsError::RelayStateOffsite {
            why: super::relay::Refused::TooLong,
            target: relay_state.chars().take(200).collect(),
        });
    }
    let xml = decode(saml_response)?;
    // `now` is the clock the purge uses, so a request is either pending here
    // or gone, never judged by two clocks.
    let (now, at) = (clock.now(), clock.now_utc());
    let mut requests = match browser {
        Some(b) => store.pending_saml_requests(&rt.provider, b, now).await?,
        None => Vec::new(),
    };
    if tests_only {
        requests.retain(|r| r.relay_state.starts_with(TEST_RELAY_PREFIX));
    }
    let pending: Vec<String> = requests.iter().map(|r| r.id.clone()).collect();
    // The administrator of the test sign-in a response answers, if it does.
    let test_of = |irt: Option<&String>| {
        let irt = irt?;
        requests
            .iter()
            .find(|r| &r.id == irt)?
            .relay_state
            .strip_prefix(TEST_RELAY_PREFIX)
            .map(str::to_owned)
    };
    let verified = {
        let rt = Arc::clone(&rt);
        saml.workers
            .run(move || verify_at(&rt, &xml, &pending, at))
            .await?
    };
    let verified = match verified {
        Ok(v) => v,
        Err(refused) => {
            if let Some(admin) = test_of(refused.in_response_to.as_ref()) {
                if let Some(irt) = &refused.in_response_to {
                    store.take_saml_request(irt).await?;
                }
                return Ok(Outcome::Test(Box::new(TestReport::refused(
                    &rt,
                    &admin,
                    &refused.error,
                ))));
            }
            return Err(match refused.error {
                AcsError::UnknownRequest(irt) if browser.is_none() => {
                    AcsError::NoBrowserCookie(irt)
                }
                other => other,
            });
        }
    };
    let test_admin = test_of(verified.in_response_to.as_ref());
    if tests_only && test_admin.is_none() {
        return Err(AcsError::Provider(RuntimeError::Disabled(
            rt.provider.clone(),
        )));
    }
    let redirect_to = match &verified.in_response_to {
        Some(irt) => requests
            .iter()
            .find(|r| &r.id == irt)
            .map(|r| r.relay_state.clone())
            .unwrap_or_else(|| "/".into()),
        None => idp_initiated_target(&rt, saml.settings().root_url(), relay_state)?,
    };
    let assertion = &verified.assertion;
    let spent = Spent {
        provider: &rt.provider,
        request: verified.in_response_to.as_deref(),
        assertion: &assertion.id,
        horizon: replay_horizon(&rt, assertion),
    };
    if let Some(admin) = test_admin {
        finish::consume(store, &spent).await?;
        return Ok(Outcome::Test(Box::new(TestReport::verified(
            &rt, &admin, &verified,
        ))));
    }
    let mapped = assertion
        .claims()
        .map_err(AcsError::from)
        .and_then(|claims| {
            let identity = attributes::map(&rt.settings, &claims)?;
            let decision = authorize::authorize(&rt.settings, &identity)?;
            Ok((claims, identity, decision))
        });
    let (claims, identity, decision) = match mapped {
        Ok(m) => m,
        // Spent all the same, and a replay is reported before the refusal.
        Err(e) => {
            finish::consume(store, &spent).await?;
            return Err(e);
        }
    };
    let done = finish::login(
        store,
        sessions,
        &rt.settings,
        &spent,
        (&identity, &decision, &claims),
        cid,
    )
    .await?;
    Ok(Outcome::Login(Box::new(Accepted {
        user: done.user,
        token: done.token,
        decision,
        redirect_to,
    })))
}

fn idp_initiated_target(rt: &Runtime, root: &str, relay_state: &str) -> Result<String, AcsError> {
    let s = &rt.settings;
    if !s.relay_state.is_empty() {
        if relay_state != s.relay_state {
            return Err(AcsError::RelayStateMismatch(
                relay_state.chars().take(200).collect(),
            ));
        }
        return Ok("/".into());
    }
    super::relay::allowed_target(relay_state, root, &s.allowed_redirect_urls).map_err(|why| {
        AcsError::RelayStateOffsite {
            why,
            target: relay_state.chars().take(200).collect(),
        }
    })
}
