//! Checks on a SAML response made before any XML-DSig processing, on the raw
//! document. samael (libxmlsec1) verifies signatures and keeps only the signed
//! element; these checks add what it does not promise:
//! - no DTD or entity declarations (billion-laughs, XXE);
//! - no comments or processing instructions: a comment inside a signed NameID
//!   (`admin@corp.com<!---->.evil.com`) survives canonicalization, so the
//!   signature holds while a text-node reader sees another user;
//! - exactly one Assertion or EncryptedAssertion in the whole document, so a
//!   forged assertion beside, inside or around the signed one (signature
//!   wrapping) is refused outright rather than left to element selection;
//! - size limits.

/// Largest decoded response accepted.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardError {
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the response contains a DTD or entity declaration")]
    Dtd,
    #[error("the response contains XML comments or processing instructions")]
    Comment,
    #[error("the response is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the document is not a SAML 2.0 protocol Response")]
    NotResponse,
    #[error("the response carries {0} assertions; exactly one is accepted")]
    AssertionCount(usize),
}

/// What the raw document shows, for the checks after signature verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub encrypted: bool,
    pub response_signed: bool,
    pub in_response_to: Option<String>,
}

/// No DTD or entity declarations, no comments, no processing instructions
/// (beyond the XML declaration). Shared by every SAML message we read.
pub fn check_markup(xml: &str) -> Result<(), GuardError> {
    let lower = xml.to_ascii_lowercase();
    if lower.contains("<!doctype") || lower.contains("<!entity") {
        return Err(GuardError::Dtd);
    }
    if xml.contains("<!--") {
        return Err(GuardError::Comment);
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

pub fn check(xml: &str) -> Result<Scan, GuardError> {
    if xml.len() > MAX_RESPONSE_BYTES {
        return Err(GuardError::TooLarge);
    }
    check_markup(xml)?;
    let doc = roxmltree::Document::parse(xml).map_err(|e| GuardError::Malformed(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(PROTOCOL_NS) || root.tag_name().name() != "Response" {
        return Err(GuardError::NotResponse);
    }
    let assertions = doc
        .descendants()
        .filter(|n| {
            n.is_element()
                && n.tag_name().namespace() == Some(ASSERTION_NS)
                && matches!(n.tag_name().name(), "Assertion" | "EncryptedAssertion")
        })
        .count();
    if assertions != 1 {
        return Err(GuardError::AssertionCount(assertions));
    }
    let encrypted = doc
        .descendants()
        .any(|n| n.is_element() && n.tag_name().name() == "EncryptedAssertion");
    let response_signed = root.children().any(|n| {
        n.is_element()
            && n.tag_name().namespace() == Some(DSIG_NS)
            && n.tag_name().name() == "Signature"
    });
    Ok(Scan {
        encrypted,
        response_signed,
        in_response_to: root.attribute("InResponseTo").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" InResponseTo="_abc"><saml:Assertion ID="a"/></samlp:Response>"#;

    #[test]
    fn accepts_one_assertion() {
        let scan = check(OK).unwrap();
        assert_eq!(scan.in_response_to.as_deref(), Some("_abc"));
        assert!(!scan.encrypted && !scan.response_signed);
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
        assert!(matches!(
            check("<samlp:Response"),
            Err(GuardError::Malformed(_))
        ));
        assert_eq!(
            check(&"x".repeat(MAX_RESPONSE_BYTES + 1)),
            Err(GuardError::TooLarge)
        );
    }
}
