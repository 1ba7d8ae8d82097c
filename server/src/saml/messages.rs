//! The SAML protocol messages we send, written in the element order of the
//! OASIS SAML 2.0 protocol schema (a test validates each against the XSDs):
//! AuthnRequest, LogoutRequest and LogoutResponse. Each is built with or
//! without its enveloped signature by the same function, which is what the
//! signer needs (`sign::Signer::sign_enveloped`).

use super::assertion::NameId;
use super::idp::POST;
use super::ns::{ASSERTION, PROTOCOL};
use super::write::Xml;

pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// The instant in the form SAML uses (xs:dateTime in UTC, `Z`).
pub fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What every request we send carries.
pub struct Envelope<'a> {
    pub id: &'a str,
    pub issue_instant: &'a str,
    pub destination: &'a str,
    /// Our entity ID.
    pub issuer: &'a str,
}

pub struct AuthnRequest<'a> {
    pub envelope: Envelope<'a>,
    pub acs_url: &'a str,
    pub force_authn: bool,
    pub name_id_format: &'a str,
    pub authn_context: &'a [String],
    pub comparison: &'a str,
}

impl AuthnRequest<'_> {
    pub fn write(&self, signature: Option<&str>) -> String {
        let e = &self.envelope;
        let mut x = Xml::new();
        x.element(
            "samlp:AuthnRequest",
            &[
                ("xmlns:samlp", Some(PROTOCOL)),
                ("xmlns:saml", Some(ASSERTION)),
                ("ID", Some(e.id)),
                ("Version", Some("2.0")),
                ("IssueInstant", Some(e.issue_instant)),
                ("Destination", Some(e.destination)),
                ("ForceAuthn", self.force_authn.then_some("true")),
                ("ProtocolBinding", Some(POST)),
                ("AssertionConsumerServiceURL", Some(self.acs_url)),
            ],
            |x| {
                x.text_element("saml:Issuer", &[], e.issuer);
                if let Some(s) = signature {
                    x.raw(s);
                }
                x.element(
                    "samlp:NameIDPolicy",
                    &[
                        ("Format", Some(self.name_id_format)),
                        ("AllowCreate", Some("true")),
                    ],
                    |_| {},
                );
                if !self.authn_context.is_empty() {
                    x.element(
                        "samlp:RequestedAuthnContext",
                        &[("Comparison", Some(self.comparison))],
                        |x| {
                            for class in self.authn_context {
                                x.text_element("saml:AuthnContextClassRef", &[], class);
                            }
                        },
                    );
                }
            },
        );
        x.finish()
    }
}

pub struct LogoutRequest<'a> {
    pub envelope: Envelope<'a>,
    /// Echoed exactly as the IdP asserted it (value and qualifiers).
    pub name_id: &'a NameId,
    pub session_index: Option<&'a str>,
}

impl LogoutRequest<'_> {
    pub fn write(&self, signature: Option<&str>) -> String {
        let e = &self.envelope;
        let n = self.name_id;
        let mut x = Xml::new();
        x.element(
            "samlp:LogoutRequest",
            &[
                ("xmlns:samlp", Some(PROTOCOL)),
                ("xmlns:saml", Some(ASSERTION)),
                ("ID", Some(e.id)),
                ("Version", Some("2.0")),
                ("IssueInstant", Some(e.issue_instant)),
                ("Destination", Some(e.destination)),
            ],
            |x| {
                x.text_element("saml:Issuer", &[], e.issuer);
                if let Some(s) = signature {
                    x.raw(s);
                }
                // Schema order: the identifier, then SessionIndex.
                x.text_element(
                    "saml:NameID",
                    &[
                        ("NameQualifier", n.name_qualifier.as_deref()),
                        ("SPNameQualifier", n.sp_name_qualifier.as_deref()),
                        ("Format", n.format.as_deref()),
                        ("SPProvidedID", n.sp_provided_id.as_deref()),
                    ],
                    &n.value,
                );
                if let Some(index) = self.session_index.filter(|i| !i.is_empty()) {
                    x.text_element("samlp:SessionIndex", &[], index);
                }
            },
        );
        x.finish()
    }
}

pub struct LogoutResponse<'a> {
    pub envelope: Envelope<'a>,
    pub in_response_to: &'a str,
    pub status: &'a str,
}

impl LogoutResponse<'_> {
    pub fn write(&self, signature: Option<&str>) -> String {
        let e = &self.envelope;
        let mut x = Xml::new();
        x.element(
            "samlp:LogoutResponse",
            &[
                ("xmlns:samlp", Some(PROTOCOL)),
                ("xmlns:saml", Some(ASSERTION)),
                ("ID", Some(e.id)),
                ("InResponseTo", Some(self.in_response_to)),
                ("Version", Some("2.0")),
                ("IssueInstant", Some(e.issue_instant)),
                ("Destination", Some(e.destination)),
            ],
            |x| {
                x.text_element("saml:Issuer", &[], e.issuer);
                if let Some(s) = signature {
                    x.raw(s);
                }
                x.element("samlp:Status", &[], |x| {
                    x.element("samlp:StatusCode", &[("Value", Some(self.status))], |_| {});
                });
            },
        );
        x.finish()
    }
}
