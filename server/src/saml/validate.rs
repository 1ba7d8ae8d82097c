//! The protocol and assertion rules the ACS applies once signatures hold:
//! Destination, IssueInstant + `max_issue_delay`, Issuer,
//! Status, NotBefore/NotOnOrAfter with `clock_skew`, Audience, and the bearer
//! SubjectConfirmation (Recipient, NotOnOrAfter, InResponseTo) — SAML
//! profiles §4.1.4.2-3. The Response's own InResponseTo is bound to the
//! browser before signatures are checked (`acs::verify`). Each refusal is a
//! typed reason for the admin's log.

use super::assertion::Assertion;
use chrono::{DateTime, Duration, Utc};

use super::xml::El;

use super::messages::SUCCESS;
use super::ns::{ASSERTION as ASSERTION_NS, PROTOCOL as PROTOCOL_NS};
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("Destination {found:?} is not our ACS URL {expected:?}")]
    Destination {
        found: Option<String>,
        expected: String,
    },
    #[error("IssueInstant of the {what} is missing or not a dateTime")]
    IssueInstant { what: &'static str },
    #[error("the {what} was issued at {at}, more than max_issue_delay ago")]
    Stale { what: &'static str, at: String },
    #[error("the {what} was issued at {at}, in the future beyond clock_skew")]
    Future { what: &'static str, at: String },
    #[error("Issuer {found:?} of the {what} is not the IdP {expected:?}")]
    Issuer {
        what: &'static str,
        found: Option<String>,
        expected: String,
    },
    #[error("the IdP answered with status {0:?}, not Success")]
    Status(String),
    #[error("the assertion is not valid before {0}")]
    NotYetValid(String),
    #[error("the assertion expired at {0}")]
    Expired(String),
    #[error(
        "an AudienceRestriction of the assertion does not name our entity ID {0:?} (each must)"
    )]
    Audience(String),
    #[error("the assertion has no AudienceRestriction; strict mode wants one naming our entity ID {0:?}")]
    NoAudience(String),
    #[error("the {what} has {found}; SAML 2.0 messages carry Version=\"2.0\"")]
    Version { what: &'static str, found: String },
    #[error("the assertion carries a condition the SP does not understand: {0}")]
    UnknownCondition(String),
    #[error("the Response answers request {response:?} but its bearer confirmation answers {confirmation:?}")]
    InResponseToMismatch {
        response: String,
        confirmation: String,
    },
    #[error("the assertion has no bearer SubjectConfirmation")]
    NoBearer,
    #[error("bearer SubjectConfirmation: {0}")]
    Confirmation(String),
}

/// What the Response element says about itself.
pub struct ResponseFields {
    pub version: Option<String>,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub issue_instant: Option<String>,
    pub issuer: Option<String>,
    pub status: Option<String>,
}

impl ResponseFields {
    pub fn read(root: El<'_>) -> ResponseFields {
        ResponseFields {
            version: root.attr("Version"),
            destination: root.attr("Destination"),
            in_response_to: root.attr("InResponseTo"),
            issue_instant: root.attr("IssueInstant"),
            issuer: root.child(ASSERTION_NS, "Issuer").map(|i| i.text()),
            status: root
                .child(PROTOCOL_NS, "Status")
                .and_then(|s| s.child(PROTOCOL_NS, "StatusCode"))
                .and_then(|c| c.attr("Value")),
        }
    }
}

/// The expectations of one SP configuration, at one instant.
pub struct Expect<'a> {
    pub acs_url: &'a str,
    pub entity_id: &'a str,
    pub idp_entity_id: &'a str,
    pub pending: &'a [String],
    pub allow_idp_initiated: bool,
    pub max_issue_delay: Duration,
    pub skew: Duration,
    pub require_audience: bool,
    pub now: DateTime<Utc>,
}

fn version(what: &'static str, found: &Option<String>) -> Result<(), RuleError> {
    match found.as_deref() {
        Some("2.0") => Ok(()),
        Some(other) => Err(RuleError::Version {
            what,
            found: format!("Version {:?}", other.chars().take(20).collect::<String>()),
        }),
        None => Err(RuleError::Version {
            what,
            found: "no Version".to_owned(),
        }),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Expect<'_> {
    fn issued(&self, what: &'static str, at: DateTime<Utc>) -> Result<(), RuleError> {
        if at + self.max_issue_delay < self.now {
            return Err(RuleError::Stale {
                what,
                at: stamp(at),
            });
        }
        if at - self.skew > self.now {
            return Err(RuleError::Future {
                what,
                at: stamp(at),
            });
        }
        Ok(())
    }

    /// An InResponseTo must name a request this browser started; none at
    /// all is an IdP-initiated login, acceptable only when allowed.
    fn solicited(&self, id: Option<&str>) -> bool {
        match id {
            Some(id) => self.pending.iter().any(|p| p == id),
            None => self.allow_idp_initiated,
        }
    }

    pub fn response(&self, r: &ResponseFields, signed: bool) -> Result<(), RuleError> {
        version("Response", &r.version)?;
        // An unsigned Response may omit Destination; a signed one must name
        // us, or a response meant for another SP could be replayed here.
        if (signed || r.destination.is_some()) && r.destination.as_deref() != Some(self.acs_url) {
            return Err(RuleError::Destination {
                found: r.destination.clone(),
                expected: self.acs_url.to_owned(),
            });
        }
        let issued = r
            .issue_instant
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or(RuleError::IssueInstant { what: "Response" })?;
        self.issued("Response", issued.with_timezone(&Utc))?;
        if let Some(issuer) = &r.issuer {
            if issuer != self.idp_entity_id {
                return Err(RuleError::Issuer {
                    what: "Response",
                    found: Some(issuer.clone()),
                    expected: self.idp_entity_id.to_owned(),
                });
            }
        }
        match r.status.as_deref() {
            Some(SUCCESS) => Ok(()),
            other => Err(RuleError::Status(other.unwrap_or("(none)").to_owned())),
        }
    }

    /// The assertion's own rules; `response_in_response_to` is the
    /// enclosing Response's InResponseTo, which a bearer confirmation's must
    /// equal when both are present.
    pub fn assertion(
        &self,
        a: &Assertion,
        response_in_response_to: Option<&str>,
    ) -> Result<(), RuleError> {
        version("assertion", &a.version)?;
        self.issued("assertion", a.issue_instant)?;
        let issuer = a.issuer.as_deref();
        if issuer != Some(self.idp_entity_id) {
            return Err(RuleError::Issuer {
                what: "assertion",
                found: issuer.map(str::to_owned),
                expected: self.idp_entity_id.to_owned(),
            });
        }
        if let Some(nb) = a.not_before {
            if self.now < nb - self.skew {
                return Err(RuleError::NotYetValid(stamp(nb)));
            }
        }
        if let Some(na) = a.not_on_or_after {
            if na + self.skew <= self.now {
                return Err(RuleError::Expired(stamp(na)));
            }
        }
        if let Some(unknown) = a.unknown_conditions.first() {
            return Err(RuleError::UnknownCondition(unknown.clone()));
        }
        // Every AudienceRestriction must name us (SAML core 2.5.1.4): one
        // that names only another SP makes the assertion not ours. Without
        // any, the assertion is for anyone: strict mode refuses that.
        match &a.audience_restrictions {
            Some(rs) if !rs.iter().all(|r| r.iter().any(|x| x == self.entity_id)) => {
                return Err(RuleError::Audience(self.entity_id.to_owned()))
            }
            None if self.require_audience => {
                return Err(RuleError::NoAudience(self.entity_id.to_owned()))
            }
            _ => {}
        }
        self.bearer(a, response_in_response_to)
    }

    /// One bearer confirmation must fully hold (SAML profiles §4.1.4.2).
    fn bearer(&self, a: &Assertion, response_irt: Option<&str>) -> Result<(), RuleError> {
        let bearers: Vec<_> = a
            .confirmations
            .iter()
            .filter(|c| c.method.as_deref() == Some(BEARER))
            .collect();
        if bearers.is_empty() {
            return Err(RuleError::NoBearer);
        }
        let mut first = None;
        for c in bearers {
            let why = match c.data.as_ref() {
                None => "SubjectConfirmationData is missing".to_owned(),
                Some(d) => match (d.not_before, d.not_on_or_after) {
                    (Some(nb), _) if self.now < nb - self.skew => {
                        format!("not valid before {}", stamp(nb))
                    }
                    (_, None) => "NotOnOrAfter is missing".to_owned(),
                    (_, Some(na)) if na + self.skew <= self.now => {
                        format!("expired at {}", stamp(na))
                    }
                    _ if d.recipient.as_deref() != Some(self.acs_url) => {
                        format!(
                            "Recipient {:?} is not our ACS URL {:?}",
                            d.recipient, self.acs_url
                        )
                    }
                    _ => match (response_irt, d.in_response_to.as_deref()) {
                        (Some(r), Some(c)) if r != c => {
                            return Err(RuleError::InResponseToMismatch {
                                response: r.to_owned(),
                                confirmation: c.to_owned(),
                            })
                        }
                        (_, irt) if self.solicited(irt) => return Ok(()),
                        (_, irt) => {
                            format!("InResponseTo {irt:?} names no request this browser started")
                        }
                    },
                },
            };
            first.get_or_insert(why);
        }
        Err(RuleError::Confirmation(first.unwrap_or_default()))
    }
}
