//! The parts of a verified `saml:Assertion` the SP acts on, read straight
//! from the element whose signature held (or whose enclosing Response's
//! did). Reading the verified DOM node rather than re-parsing text keeps
//! "what was signed is what is used" without a second parser.

use chrono::{DateTime, Utc};

use super::xml::El;
use crate::identity::attributes::{self, Attribute, Claims, MappingError};
/// The asserted subject: identity's type, read here from the verified element.
pub use crate::identity::subject::NameId;

use super::ns::ASSERTION as SAML;
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssertionError {
    #[error("the assertion has no {0}")]
    Missing(&'static str),
    #[error("{0} is not an xs:dateTime with a time zone")]
    Time(&'static str),
    #[error("{0} must hold text only")]
    Mixed(&'static str),
}

#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    pub method: Option<String>,
    /// SubjectConfirmationData, when present.
    pub data: Option<ConfirmationData>,
}

#[derive(Debug, Clone, Default)]
pub struct ConfirmationData {
    pub not_before: Option<DateTime<Utc>>,
    pub not_on_or_after: Option<DateTime<Utc>>,
    pub recipient: Option<String>,
    pub in_response_to: Option<String>,
}

/// Reads a `saml:NameID` element (text only: markup inside a NameID would
/// let a reader and the signer see different values).
pub fn read_name_id(el: El<'_>) -> Result<NameId, AssertionError> {
    Ok(NameId {
        value: simple(el, "NameID")?,
        format: el.attr("Format"),
        name_qualifier: el.attr("NameQualifier"),
        sp_name_qualifier: el.attr("SPNameQualifier"),
        sp_provided_id: el.attr("SPProvidedID"),
    })
}

#[derive(Debug, Clone)]
pub struct Assertion {
    pub id: String,
    pub version: Option<String>,
    pub issue_instant: DateTime<Utc>,
    pub issuer: Option<String>,
    pub name_id: Option<NameId>,
    pub confirmations: Vec<Confirmation>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// One list per AudienceRestriction; `None` when Conditions has none.
    pub audience_restrictions: Option<Vec<Vec<String>>>,
    /// Conditions the SP does not understand (any but AudienceRestriction,
    /// OneTimeUse and ProxyRestriction), by name: they make the assertion
    /// invalid (SAML core 2.5.1).
    pub unknown_conditions: Vec<String>,
    pub session_index: Option<String>,
    pub attributes: Vec<Attribute>,
}

fn time(
    value: Option<String>,
    what: &'static str,
) -> Result<Option<DateTime<Utc>>, AssertionError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| AssertionError::Time(what))
        })
        .transpose()
}

/// Text of an element that must not contain elements: markup inside a
/// NameID would let a reader and the signer see different values.
fn simple(el: El<'_>, what: &'static str) -> Result<String, AssertionError> {
    if el.children().next().is_some() {
        return Err(AssertionError::Mixed(what));
    }
    Ok(el.text())
}

impl Assertion {
    /// The claims identity maps to a user (NameID, SessionIndex, attributes).
    pub fn claims(&self) -> Result<Claims, MappingError> {
        attributes::claims(
            self.name_id.as_ref(),
            self.session_index.as_deref(),
            &self.attributes,
        )
    }

    pub fn read(el: El<'_>) -> Result<Assertion, AssertionError> {
        let id = el.attr("ID").ok_or(AssertionError::Missing("ID"))?;
        let issue_instant = time(el.attr("IssueInstant"), "IssueInstant")?
            .ok_or(AssertionError::Missing("IssueInstant"))?;
        let issuer = el
            .child(SAML, "Issuer")
            .map(|i| simple(i, "Issuer"))
            .transpose()?;
        let mut out = Assertion {
            id,
            version: el.attr("Version"),
            issue_instant,
            issuer,
            name_id: None,
            confirmations: Vec::new(),
            not_before: None,
            not_on_or_after: None,
            audience_restrictions: None,
            unknown_conditions: Vec::new(),
            session_index: None,
            attributes: Vec::new(),
        };
        if let Some(subject) = el.child(SAML, "Subject") {
            // An EncryptedID holds its NameID once decrypted in place.
            out.name_id = subject
                .child(SAML, "NameID")
                .or_else(|| subject.child(SAML, "EncryptedID")?.child(SAML, "NameID"))
                .map(read_name_id)
                .transpose()?;
            for c in subject
                .children()
                .filter(|c| c.is(SAML, "SubjectConfirmation"))
            {
                let data = c
                    .child(SAML, "SubjectConfirmationData")
                    .map(|d| -> Result<_, AssertionError> {
                        Ok(ConfirmationData {
                            not_before: time(
                                d.attr("NotBefore"),
                                "SubjectConfirmationData NotBefore",
                            )?,
                            not_on_or_after: time(
                                d.attr("NotOnOrAfter"),
                                "SubjectConfirmationData NotOnOrAfter",
                            )?,
                            recipient: d.attr("Recipient"),
                            in_response_to: d.attr("InResponseTo"),
                        })
                    })
                    .transpose()?;
                out.confirmations.push(Confirmation {
                    method: c.attr("Method"),
                    data,
                });
            }
        }
        if let Some(conditions) = el.child(SAML, "Conditions") {
            out.not_before = time(conditions.attr("NotBefore"), "Conditions NotBefore")?;
            out.not_on_or_after = time(conditions.attr("NotOnOrAfter"), "Conditions NotOnOrAfter")?;
            let mut restrictions: Vec<Vec<String>> = Vec::new();
            for c in conditions.children() {
                if c.is(SAML, "AudienceRestriction") {
                    restrictions.push(
                        c.children()
                            .filter(|a| a.is(SAML, "Audience"))
                            .map(|a| simple(a, "Audience"))
                            .collect::<Result<Vec<_>, _>>()?,
                    );
                } else if !(c.is(SAML, "OneTimeUse") || c.is(SAML, "ProxyRestriction")) {
                    // OneTimeUse is what the replay store guarantees for every
                    // assertion; ProxyRestriction limits what an SP that is
                    // not an IdP never does: both are honoured by nature.
                    let name = String::from_utf8_lossy(c.local_name()).into_owned();
                    let kind = c
                        .attr_ns(XSI, "type")
                        .map(|t| {
                            format!("{name} of type {}", t.chars().take(100).collect::<String>())
                        })
                        .unwrap_or(name);
                    out.unknown_conditions.push(kind);
                }
            }
            out.audience_restrictions = (!restrictions.is_empty()).then_some(restrictions);
        }
        out.session_index = el
            .children()
            .filter(|s| s.is(SAML, "AuthnStatement"))
            .find_map(|s| s.attr("SessionIndex"));
        for statement in el.children().filter(|s| s.is(SAML, "AttributeStatement")) {
            for a in statement.children().filter(|a| a.is(SAML, "Attribute")) {
                out.attributes.push(Attribute {
                    name: a
                        .attr("Name")
                        .ok_or(AssertionError::Missing("Attribute Name"))?,
                    friendly_name: a.attr("FriendlyName"),
                    values: a
                        .children()
                        .filter(|v| v.is(SAML, "AttributeValue") && v.children().next().is_none())
                        .map(|v| v.text())
                        .collect(),
                });
            }
        }
        Ok(out)
    }
}
