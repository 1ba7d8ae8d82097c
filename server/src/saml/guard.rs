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
//! - size limits, and limits on every shape a loop of ours walks: nesting
//!   depth, attributes and namespace declarations per element, namespaces
//!   in scope (what inclusive canonicalization renders per element). Real
//!   IdP messages stay far below them; a message beyond them is refused
//!   before any signature work, with the limit it broke.

use super::xml::El;

/// Largest decoded response accepted.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Deepest element nesting accepted (SAML responses nest about ten deep).
pub const MAX_DEPTH: usize = 48;
/// Most attributes on one element.
pub const MAX_ATTRIBUTES: usize = 32;
/// Most namespace declarations on one element.
pub const MAX_NAMESPACE_DECLARATIONS: usize = 16;
/// Most namespace declarations in scope at any element.
pub const MAX_NAMESPACES_IN_SCOPE: usize = 48;

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
    #[error("the message exceeds a structural limit: {what} (at most {max})")]
    Limit { what: &'static str, max: usize },
}

/// The structural limits (see the module header), checked over the
/// subtree of `root` in one walk that stops at the first excess.
pub fn check_limits(root: El<'_>) -> Result<(), GuardError> {
    let mut stack: Vec<(El<'_>, usize, usize)> = vec![(root, 1, 0)];
    while let Some((el, depth, outer_scope)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(GuardError::Limit {
                what: "element nesting depth",
                max: MAX_DEPTH,
            });
        }
        if el.attributes().nth(MAX_ATTRIBUTES).is_some() {
            return Err(GuardError::Limit {
                what: "attributes on one element",
                max: MAX_ATTRIBUTES,
            });
        }
        let declared = el
            .namespace_declarations()
            .take(MAX_NAMESPACE_DECLARATIONS + 1)
            .count();
        if declared > MAX_NAMESPACE_DECLARATIONS {
            return Err(GuardError::Limit {
                what: "namespace declarations on one element",
                max: MAX_NAMESPACE_DECLARATIONS,
            });
        }
        let scope = outer_scope + declared;
        if scope > MAX_NAMESPACES_IN_SCOPE {
            return Err(GuardError::Limit {
                what: "namespace declarations in scope",
                max: MAX_NAMESPACES_IN_SCOPE,
            });
        }
        stack.extend(el.children().map(|c| (c, depth + 1, scope)));
    }
    Ok(())
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
    let body = after_xml_declaration(xml);
    if memchr::memmem::find(body.as_bytes(), b"<?").is_some() {
        return Err(GuardError::Comment);
    }
    start_tags_within(body, MAX_ATTRIBUTES, MAX_NAMESPACE_DECLARATIONS)
}

/// The per-element limits, counted on the raw text before libxml2 sees it:
/// its parser checks each attribute and namespace declaration of a start
/// tag against all earlier ones, so a tag with thousands of them costs time
/// quadratic in the message (measured: 70x a valid message of the same
/// size). This pass is linear and reads nothing but tag boundaries, quotes
/// and attribute names; the meaning of the message is libxml2's alone.
/// `body` has no comments, processing instructions or declarations left
/// (the callers refuse them first); CDATA sections are skipped.
fn start_tags_within(
    body: &str,
    max_attributes: usize,
    max_declarations: usize,
) -> Result<(), GuardError> {
    let b = body.as_bytes();
    let mut i = 0;
    // memchr: this pass reads every byte of every message before the
    // signature is checked, so it must cost less than the parse it guards.
    while let Some(lt) = memchr::memchr(b'<', &b[i..]) {
        i += lt + 1;
        if b[i..].starts_with(b"![CDATA[") {
            match memchr::memmem::find(&b[i..], b"]]>") {
                Some(end) => i += end + 3,
                None => return Ok(()), // unterminated: libxml2 refuses it
            }
            continue;
        }
        if b.get(i) == Some(&b'/') {
            continue;
        }
        // A start tag: count `name=` pairs outside quoted values.
        let (mut attributes, mut declarations) = (0usize, 0usize);
        let mut quote: Option<u8> = None;
        let mut name_start = i;
        while let Some(&c) = b.get(i) {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(c),
                (None, b'>') => break,
                (None, c) if c.is_ascii_whitespace() => name_start = i + 1,
                (None, b'=') => {
                    attributes += 1;
                    if body[name_start..i].trim_end().starts_with("xmlns") {
                        declarations += 1;
                    }
                    if attributes > max_attributes + max_declarations {
                        return Err(GuardError::Limit {
                            what: "attributes on one element",
                            max: max_attributes,
                        });
                    }
                    if declarations > max_declarations {
                        return Err(GuardError::Limit {
                            what: "namespace declarations on one element",
                            max: max_declarations,
                        });
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if attributes - declarations > max_attributes {
            return Err(GuardError::Limit {
                what: "attributes on one element",
                max: max_attributes,
            });
        }
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
/// documents (not signed messages the SP acts on) must satisfy. The
/// per-element limits are looser than for messages (federation metadata
/// declares many prefixes on its root), and keep libxml2 linear.
pub fn check_no_dtd(xml: &str) -> Result<(), GuardError> {
    declarations(xml, false)?;
    // Comments and processing instructions are skipped by the tag scan as
    // tags whose attribute count does not matter: strip them first.
    let mut body = String::with_capacity(xml.len());
    let mut rest = after_xml_declaration(xml);
    let next = |s: &str| match (s.find("<!--"), s.find("<?")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    while let Some(at) = next(rest) {
        body.push_str(&rest[..at]);
        let close = if rest[at..].starts_with("<!--") {
            "-->"
        } else {
            "?>"
        };
        rest = rest[at..]
            .find(close)
            .map_or("", |end| &rest[at + end + close.len()..]);
    }
    body.push_str(rest);
    start_tags_within(&body, 8 * MAX_ATTRIBUTES, 8 * MAX_NAMESPACE_DECLARATIONS)
}

/// Every `<!` outside CDATA opens a comment or a declaration (DOCTYPE,
/// ENTITY, ELEMENT, ATTLIST); a raw `<` cannot occur in attribute values.
fn declarations(xml: &str, refuse_comments: bool) -> Result<(), GuardError> {
    for at in memchr::memmem::find_iter(xml.as_bytes(), b"<!") {
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

/// Decrypted content is held to what the outer message was: the limits,
/// and no second assertion smuggled in (wrapping inside the ciphertext,
/// where the outer scan could not see it).
pub fn check_decrypted(assertion: El<'_>) -> Result<(), GuardError> {
    check_limits(assertion)?;
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
    check_limits(root)?;
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
    fn structural_limits_hold_at_their_bound_and_refuse_beyond() {
        let with = |inner: &str| {
            OK.replace(
                "<saml:Assertion ID=\"a\"/>",
                &format!("<saml:Assertion ID=\"a\">{inner}</saml:Assertion>"),
            )
        };
        let limit = |xml: &str| match check(xml) {
            Err(GuardError::Limit { max, .. }) => Some(max),
            _ => None,
        };
        // Depth: Response (1) + Assertion (2) + nesting.
        let nest = |n: usize| format!("{}{}", "<x>".repeat(n), "</x>".repeat(n));
        assert_eq!(limit(&with(&nest(MAX_DEPTH - 2))), None);
        assert_eq!(limit(&with(&nest(MAX_DEPTH - 1))), Some(MAX_DEPTH));
        let attrs = |n: usize| {
            format!(
                "<x{}/>",
                (0..n).map(|i| format!(" a{i}=\"v\"")).collect::<String>()
            )
        };
        assert_eq!(limit(&with(&attrs(MAX_ATTRIBUTES))), None);
        assert_eq!(
            limit(&with(&attrs(MAX_ATTRIBUTES + 1))),
            Some(MAX_ATTRIBUTES)
        );
        let decls = |n: usize, inner: &str| {
            format!(
                "<x{}>{inner}</x>",
                (0..n)
                    .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
                    .collect::<String>()
            )
        };
        // The Response already declares two namespaces.
        assert_eq!(limit(&with(&decls(MAX_NAMESPACE_DECLARATIONS, ""))), None);
        assert_eq!(
            limit(&with(&decls(MAX_NAMESPACE_DECLARATIONS + 1, ""))),
            Some(MAX_NAMESPACE_DECLARATIONS)
        );
        let stacked = decls(16, &decls(16, &decls(14, "")));
        assert_eq!(limit(&with(&stacked)), None);
        let stacked = decls(16, &decls(16, &decls(15, "")));
        assert_eq!(limit(&with(&stacked)), Some(MAX_NAMESPACES_IN_SCOPE));
        // Siblings do not add up: scope is per path.
        let siblings = decls(16, &decls(16, "").repeat(10));
        assert_eq!(limit(&with(&siblings)), None);
    }

    #[test]
    fn start_tags_are_counted_before_parsing() {
        let tag = |attrs: usize, decls: usize| {
            let a: String = (0..attrs).map(|i| format!(" a{i}=\"v>'\"")).collect();
            let d: String = (0..decls)
                .map(|i| format!(" xmlns:p{i}='urn:{i}'"))
                .collect();
            format!("<r{a}{d}><![CDATA[<x a=1 b=2>]]><c/></r>")
        };
        assert_eq!(
            check_markup(&tag(MAX_ATTRIBUTES, MAX_NAMESPACE_DECLARATIONS)),
            Ok(())
        );
        assert!(matches!(
            check_markup(&tag(MAX_ATTRIBUTES + 1, 0)),
            Err(GuardError::Limit {
                max: MAX_ATTRIBUTES,
                ..
            })
        ));
        assert!(matches!(
            check_markup(&tag(0, MAX_NAMESPACE_DECLARATIONS + 1)),
            Err(GuardError::Limit {
                max: MAX_NAMESPACE_DECLARATIONS,
                ..
            })
        ));
        // Quoted `=`, `>` and text do not count.
        assert_eq!(check_markup("<r a=\"x=y>z\" b='=='>t=u &gt; v</r>"), Ok(()));
        // Metadata: comments allowed, looser limits.
        let md = format!("<!-- a=1 b=2 --><?pi x=y?>{}", tag(100, 40));
        assert_eq!(check_no_dtd(&md), Ok(()));
        assert!(check_no_dtd(&tag(300, 0)).is_err());
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
