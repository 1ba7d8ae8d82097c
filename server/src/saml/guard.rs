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

use super::xml::El;

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
    declarations(xml, true)?;
    if after_xml_declaration(xml).contains("<?") {
        return Err(GuardError::Comment);
    }
    Ok(())
}

/// The text after a leading XML declaration (and byte-order mark), if any.
/// `<?xml-stylesheet ...?>` is a processing instruction, not a declaration:
/// the name must end where the declaration's attributes begin.
pub fn after_xml_declaration(xml: &str) -> &str {
    let body = xml.trim_start_matches('\u{feff}').trim_start();
    match body
        .strip_prefix("<?xml")
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_whitespace()))
    {
        Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r),
        None => body,
    }
}

/// No DTD or entity declarations, comments allowed: what metadata
/// documents (not signed messages the SP acts on) must satisfy.
pub fn check_no_dtd(xml: &str) -> Result<(), GuardError> {
    declarations(xml, false)
}

/// Every `<!` outside CDATA opens a comment or a declaration (DOCTYPE,
/// ENTITY, ELEMENT, ATTLIST); a raw `<` cannot occur in attribute values.
fn declarations(xml: &str, refuse_comments: bool) -> Result<(), GuardError> {
    for (at, _) in xml.match_indices("<!") {
        let rest = &xml[at + 2..];
        if rest.starts_with("--") {
            if refuse_comments {
                return Err(GuardError::Comment);
            }
            continue;
        }
        if !rest.starts_with("[CDATA[") {
            return Err(GuardError::Dtd);
        }
    }
    Ok(())
}

/// Decrypted content must not smuggle in a second assertion (wrapping
/// inside the ciphertext, where the outer scan could not see it).
pub fn no_nested_assertion(assertion: El<'_>) -> Result<(), GuardError> {
    let nested = assertion
        .descendants()
        .filter(|n| n.is(ASSERTION_NS, "Assertion") || n.is(ASSERTION_NS, "EncryptedAssertion"))
        .count();
    if nested == 0 {
        Ok(())
    } else {
        Err(GuardError::AssertionCount(nested + 1))
    }
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
    use crate::saml::xml::Doc;

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
        // A processing instruction before the root, even one whose name
        // starts like the XML declaration's.
        for pi in [
            "<?xml-stylesheet href=\"x\"?>",
            "<?xml version=\"1.0\"?><?pi x?>",
            "<?xmlfoo?>",
        ] {
            assert_eq!(
                check(&format!("{pi}{OK}")),
                Err(GuardError::Comment),
                "{pi}"
            );
        }
        assert!(check(&format!(
            "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{OK}"
        ))
        .is_ok());
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
