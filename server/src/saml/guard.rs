//! Checks on a SAML message before any XML-DSig processing. The signature
//! checks in `dsig` trust only the element a signature sits in; these add
//! what that does not promise:
//! - no DTD or entity declarations (billion-laughs, XXE);
//! - no comments or processing instructions: a comment inside a signed NameID
//!   (`admin@corp.com<!---->.evil.com`) survives canonicalization, so the
//!   signature holds while a text-node reader sees another user;
//! - exactly one Assertion or EncryptedAssertion in the whole document, so a
//!   forged assertion beside, inside or around the signed one (signature
//!   wrapping) is refused outright rather than left to element selection;
//! - size limits.

use super::dsig::El;

/// Largest decoded response accepted.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

use super::ns::{ASSERTION as ASSERTION_NS, PROTOCOL as PROTOCOL_NS};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardError {
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the response contains a DTD or entity declaration")]
    Dtd,
    #[error("the response contains XML comments or processing instructions")]
    Comment,
    #[error("the message is not well-formed XML")]
    Malformed,
    #[error("the document is not a SAML 2.0 protocol Response")]
    NotResponse,
    #[error("the response carries {0} assertions; exactly one is accepted")]
    AssertionCount(usize),
}

/// What the raw document shows, for the checks after signature verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub encrypted: bool,
    pub in_response_to: Option<String>,
}

/// No DTD or entity declarations, no comments, no processing instructions
/// (beyond the XML declaration). Shared by every SAML message we read.
pub fn check_markup(xml: &str) -> Result<(), GuardError> {
    if xml.len() > MAX_RESPONSE_BYTES {
        return Err(GuardError::TooLarge);
    }
    // Every `<!` outside CDATA opens a comment or a declaration (DOCTYPE,
    // ENTITY, ELEMENT, ATTLIST); a raw `<` cannot occur in attribute values.
    for (at, _) in xml.match_indices("<!") {
        let rest = &xml[at + 2..];
        if rest.starts_with("--") {
            return Err(GuardError::Comment);
        }
        if !rest.starts_with("[CDATA[") {
            return Err(GuardError::Dtd);
        }
    }
    let body = xml.trim_start_matches('\u{feff}').trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map(|(_, r)| r).unwrap_or(""),
        None => body,
    };
    if body.contains("<?") {
        return Err(GuardError::Comment);
    }
    Ok(())
}

/// The shape of a parsed Response (after `check_markup` on its text).
pub fn check(root: El<'_>) -> Result<Scan, GuardError> {
    if !root.is(PROTOCOL_NS, "Response") {
        return Err(GuardError::NotResponse);
    }
    let mut assertions = 0;
    let mut encrypted = false;
    for n in root.descendants() {
        if n.is(ASSERTION_NS, "Assertion") {
            assertions += 1;
        } else if n.is(ASSERTION_NS, "EncryptedAssertion") {
            assertions += 1;
            encrypted = true;
        }
    }
    if assertions != 1 {
        return Err(GuardError::AssertionCount(assertions));
    }
    Ok(Scan {
        encrypted,
        in_response_to: root.attr("InResponseTo"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::dsig::Doc;

    /// Markup, then shape: the order the ACS applies them in.
    fn check(xml: &str) -> Result<Scan, GuardError> {
        check_markup(xml)?;
        let doc = Doc::parse(xml).map_err(|_| GuardError::Malformed)?;
        super::check(doc.root().ok_or(GuardError::Malformed)?)
    }

    const OK: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" InResponseTo="_abc"><saml:Assertion ID="a"/></samlp:Response>"#;

    #[test]
    fn accepts_one_assertion() {
        let scan = check(OK).unwrap();
        assert_eq!(scan.in_response_to.as_deref(), Some("_abc"));
        assert!(!scan.encrypted);
    }

    #[test]
    fn refuses_hostile_shapes() {
        let dtd = format!("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x \"y\">]>{OK}");
        assert_eq!(check(&dtd), Err(GuardError::Dtd));
        assert_eq!(
            check(&OK.replace("ID=\"a\"/>", "ID=\"a\"><!-- x --></saml:Assertion>")),
            Err(GuardError::Comment)
        );
        assert_eq!(
            check(&OK.replace("<saml:Assertion", "<?evil?><saml:Assertion")),
            Err(GuardError::Comment)
        );
        let two = OK.replace(
            "<saml:Assertion ID=\"a\"/>",
            "<saml:Assertion ID=\"a\"/><saml:Assertion ID=\"b\"/>",
        );
        assert_eq!(check(&two), Err(GuardError::AssertionCount(2)));
        let nested = OK.replace("<saml:Assertion ID=\"a\"/>", "<saml:Assertion ID=\"a\"><saml:Advice><saml:Assertion ID=\"b\"/></saml:Advice></saml:Assertion>");
        assert_eq!(check(&nested), Err(GuardError::AssertionCount(2)));
        assert_eq!(
            check(&OK.replace("<saml:Assertion ID=\"a\"/>", "")),
            Err(GuardError::AssertionCount(0))
        );
        assert_eq!(check("<a/>"), Err(GuardError::NotResponse));
        assert_eq!(check("<samlp:Response"), Err(GuardError::Malformed));
        assert_eq!(
            check(&OK.replace("ID=\"a\"/>", "ID=\"a\"><![CDATA[x]]></saml:Assertion>"))
                .map(|s| s.encrypted),
            Ok(false)
        );
        assert_eq!(
            check(&format!("<!ELEMENT x ANY>{OK}")),
            Err(GuardError::Dtd)
        );
        assert_eq!(
            check(&"x".repeat(MAX_RESPONSE_BYTES + 1)),
            Err(GuardError::TooLarge)
        );
    }
}
