//! XML-DSig verification of SAML messages: enveloped signatures checked on one
//! libxml2 parse against the IdP keys parsed once per settings version.
//!
//! Why this is ours rather than samael's `reduce_xml_to_signed`: profiling
//! the ACS showed samael re-loading the IdP certificate into a fresh
//! libxmlsec1 key manager for every signature, re-serializing and re-parsing
//! the document around each reduction, and libxmlsec1 building XPath node
//! sets for the enveloped transform — together over 90% of the time of a
//! validation, capping us at a tenth of the throughput target. The solved
//! problems stay in well-kept libraries: libxml2 parses and canonicalizes
//! (the very `xmlC14NExecute` libxmlsec1 calls) and OpenSSL digests and
//! verifies. What is written here is the SAML profile of XML-DSig (SAML core
//! §5.4), narrower than XML-DSig on purpose:
//! - a signature is trusted only for the element it sits in: its single
//!   Reference must name that element's own `ID`, so there is no ID lookup an
//!   attacker could point elsewhere (signature wrapping);
//! - only the enveloped-signature transform and the canonicalizations are
//!   accepted (no XPath, XSLT or base64 transforms, no `Object`s);
//! - signature and digest algorithms come from an allowlist, SHA-1 only when
//!   the administrator allows it;
//! - the key is one of ours (from IdP metadata), never one from `KeyInfo`;
//! - callers read only the element the signature sits in, so what is read
//!   afterwards is what was signed.

use std::ffi::CString;

use base64::Engine;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::hash;
use openssl::pkey::{Id, PKey, Public};

use super::algorithms::{Digest, SignatureMethod};
use super::ns::DSIG as DSIG_NS;
use super::xml::{self, C14nMode, Doc, El};
pub(super) const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Most InclusiveNamespaces prefixes accepted: real IdPs list a handful; each
/// one costs a namespace lookup per canonicalized element.
pub const MAX_INCLUSIVE_PREFIXES: usize = 16;

/// Why a signature was refused. Each names the part of the signature at fault
/// without echoing attacker-chosen content beyond algorithm identifiers.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DsigError {
    #[error("the document is not well-formed XML")]
    Malformed,
    #[error("the element carries {0} signatures; at most one is accepted")]
    SignatureCount(usize),
    #[error("malformed ds:Signature: {0}")]
    Structure(&'static str),
    #[error("the signature's Reference does not name the ID of the element it signs")]
    Reference,
    #[error("signature algorithm {0:?} is not accepted")]
    Algorithm(String),
    #[error("transform {0:?} is not accepted in a SAML signature")]
    Transform(String),
    #[error("InclusiveNamespaces lists more than {MAX_INCLUSIVE_PREFIXES} prefixes")]
    TooManyPrefixes,
    #[error("the digest of the signed element does not match: content changed after signing")]
    Digest,
    #[error("the signature does not verify against the IdP's certificates")]
    Signature,
    #[error("canonicalization failed")]
    C14n,
}

/// A canonicalization algorithm with its InclusiveNamespaces prefix list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C14n {
    mode: C14nMode,
    comments: bool,
    prefixes: Vec<CString>,
}

pub(super) const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

impl C14n {
    /// The algorithm a URI names, if it is a canonicalization; `method` is
    /// the element naming it (for exclusive c14n's InclusiveNamespaces).
    fn named(uri: &str, method: El<'_>) -> Result<Option<C14n>, DsigError> {
        let (mode, comments) = match uri {
            EXC_C14N => (C14nMode::Exclusive10, false),
            "http://www.w3.org/2001/10/xml-exc-c14n#WithComments" => (C14nMode::Exclusive10, true),
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315" => (C14nMode::Inclusive10, false),
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments" => {
                (C14nMode::Inclusive10, true)
            }
            "http://www.w3.org/2006/12/xml-c14n11" => (C14nMode::Inclusive11, false),
            "http://www.w3.org/2006/12/xml-c14n11#WithComments" => (C14nMode::Inclusive11, true),
            _ => return Ok(None),
        };
        let mut prefixes = Vec::new();
        if mode == C14nMode::Exclusive10 {
            let list = method
                .child(EXC_C14N, "InclusiveNamespaces")
                .and_then(|n| n.attr("PrefixList"))
                .unwrap_or_default();
            for p in list.split_ascii_whitespace() {
                if prefixes.len() == MAX_INCLUSIVE_PREFIXES {
                    return Err(DsigError::TooManyPrefixes);
                }
                let p = CString::new(p).map_err(|_| DsigError::Structure("a prefix holds NUL"))?;
                if !prefixes.contains(&p) {
                    prefixes.push(p);
                }
            }
        }
        Ok(Some(C14n {
            mode,
            comments,
            prefixes,
        }))
    }

    /// Exclusive c14n without InclusiveNamespaces, what our own signer uses.
    pub(super) fn exclusive() -> C14n {
        C14n {
            mode: C14nMode::Exclusive10,
            comments: false,
            prefixes: Vec::new(),
        }
    }

    #[cfg(test)]
    pub(super) fn exclusive_with(prefixes: &[&str]) -> C14n {
        C14n {
            mode: C14nMode::Exclusive10,
            comments: false,
            prefixes: prefixes
                .iter()
                .filter_map(|p| CString::new(*p).ok())
                .collect(),
        }
    }

    /// The canonical octets of `apex`'s subtree minus `exclude`'s subtree:
    /// exclusive c14n by `c14n` (fast, the form SAML IdPs use), inclusive
    /// 1.0/1.1 by libxml2.
    pub fn apply(
        &self,
        doc: &Doc,
        apex: El<'_>,
        exclude: Option<El<'_>>,
    ) -> Result<Vec<u8>, DsigError> {
        if self.mode == C14nMode::Exclusive10 {
            return super::c14n::exclusive(apex, exclude, &self.prefixes)
                .map_err(|_| DsigError::C14n);
        }
        self.apply_libxml2(doc, apex, exclude)
    }

    /// libxml2's canonicalization (also the reference `c14n` is tested against).
    pub(super) fn apply_libxml2(
        &self,
        doc: &Doc,
        apex: El<'_>,
        exclude: Option<El<'_>>,
    ) -> Result<Vec<u8>, DsigError> {
        xml::canonicalize_libxml2(doc, apex, exclude, self.mode, self.comments, &self.prefixes)
            .map_err(|_| DsigError::C14n)
    }
}

fn signature_method(uri: &str, allow_sha1: bool) -> Result<SignatureMethod, DsigError> {
    SignatureMethod::from_uri(uri, allow_sha1).ok_or_else(|| DsigError::Algorithm(uri.to_owned()))
}

fn digest_method(uri: &str, allow_sha1: bool) -> Result<Digest, DsigError> {
    Digest::from_uri(uri, allow_sha1).ok_or_else(|| DsigError::Algorithm(uri.to_owned()))
}

fn base64_text(el: El<'_>) -> Result<Vec<u8>, DsigError> {
    let mut compact = el.text().into_bytes();
    compact.retain(|b| !b.is_ascii_whitespace());
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| DsigError::Structure("a base64 value is not base64"))
}

/// The element's `ds:Signature` child, if any; more than one is refused.
pub fn signature_of(el: El<'_>) -> Result<Option<El<'_>>, DsigError> {
    let mut sigs = el.children().filter(|c| c.is(DSIG_NS, "Signature"));
    let first = sigs.next();
    match sigs.count() {
        0 => Ok(first),
        more => Err(DsigError::SignatureCount(more + 1)),
    }
}

/// Element children of `el` in order, each required to be `ds:{name}`.
fn expect<'d>(
    it: &mut impl Iterator<Item = El<'d>>,
    name: &'static str,
    what: &'static str,
) -> Result<El<'d>, DsigError> {
    it.next()
        .filter(|e| e.is(DSIG_NS, name))
        .ok_or(DsigError::Structure(what))
}

fn algorithm(el: El<'_>) -> Result<String, DsigError> {
    el.attr("Algorithm")
        .ok_or(DsigError::Structure("an Algorithm attribute is missing"))
}

/// Verifies `sig`, the enveloped signature of `signed`, against `keys`.
///
/// The order is chosen so a forged message costs the attacker more than
/// us: the structure is checked first (cheap, bounded), then the signature
/// over the canonical SignedInfo (small) with the IdP's key, and only then,
/// for a message the IdP really signed, the canonicalization and digest of
/// the whole signed element.
pub fn verify_enveloped(
    doc: &Doc,
    signed: El<'_>,
    sig: El<'_>,
    keys: &[PKey<Public>],
    allow_sha1: bool,
) -> Result<(), DsigError> {
    let mut parts = sig.children();
    let signed_info = expect(&mut parts, "SignedInfo", "SignedInfo must come first")?;
    let signature_value = expect(
        &mut parts,
        "SignatureValue",
        "SignatureValue must follow SignedInfo",
    )?;
    // KeyInfo is allowed (and ignored: the key is ours); Object could carry
    // content that looks signed, and SAML never needs it.
    if parts.any(|p| !p.is(DSIG_NS, "KeyInfo")) {
        return Err(DsigError::Structure(
            "only KeyInfo may follow SignatureValue",
        ));
    }

    let mut info = signed_info.children();
    let c14n_method = expect(
        &mut info,
        "CanonicalizationMethod",
        "CanonicalizationMethod must come first",
    )?;
    let sig_method = expect(
        &mut info,
        "SignatureMethod",
        "SignatureMethod must follow CanonicalizationMethod",
    )?;
    let reference = expect(
        &mut info,
        "Reference",
        "a Reference must follow SignatureMethod",
    )?;
    if info.next().is_some() {
        return Err(DsigError::Structure("exactly one Reference is accepted"));
    }
    let c14n_uri = algorithm(c14n_method)?;
    let info_c14n = C14n::named(&c14n_uri, c14n_method)?.ok_or(DsigError::Algorithm(c14n_uri))?;
    let method = signature_method(&algorithm(sig_method)?, allow_sha1)?;

    // The Reference must be a same-document reference to this very element.
    let id = signed
        .attr("ID")
        .filter(|id| !id.is_empty())
        .ok_or(DsigError::Reference)?;
    match reference.attr("URI") {
        Some(uri) if uri.strip_prefix('#') == Some(id.as_str()) => {}
        _ => return Err(DsigError::Reference),
    }
    let mut ref_parts = reference.children().peekable();
    let mut enveloped = false;
    // With no canonicalization transform, a node set becomes octets by
    // inclusive c14n 1.0 (XML-DSig §4.3.3.2).
    let mut content_c14n =
        C14n::named("http://www.w3.org/TR/2001/REC-xml-c14n-20010315", reference)?
            .ok_or(DsigError::C14n)?;
    if ref_parts
        .peek()
        .is_some_and(|p| p.is(DSIG_NS, "Transforms"))
    {
        let transforms = ref_parts.next().ok_or(DsigError::Structure("Transforms"))?;
        let mut canonicalized = false;
        for t in transforms.children() {
            if !t.is(DSIG_NS, "Transform") {
                return Err(DsigError::Structure(
                    "Transforms may hold only Transform elements",
                ));
            }
            let uri = algorithm(t)?;
            if uri == ENVELOPED && !enveloped && !canonicalized {
                enveloped = true;
                continue;
            }
            match (C14n::named(&uri, t)?, canonicalized) {
                (Some(c), false) => {
                    content_c14n = c;
                    canonicalized = true;
                }
                _ => return Err(DsigError::Transform(uri)),
            }
        }
    }
    if !enveloped {
        return Err(DsigError::Transform(
            "the enveloped-signature transform is required".into(),
        ));
    }
    let digest_method_el = expect(&mut ref_parts, "DigestMethod", "DigestMethod is missing")?;
    let digest_value = expect(
        &mut ref_parts,
        "DigestValue",
        "DigestValue must follow DigestMethod",
    )?;
    if ref_parts.next().is_some() {
        return Err(DsigError::Structure("unexpected content after DigestValue"));
    }
    let digest = digest_method(&algorithm(digest_method_el)?, allow_sha1)?;
    let expected = base64_text(digest_value)?;
    let raw = base64_text(signature_value)?;

    // The IdP's key vouches for SignedInfo first: without it, nothing
    // below is worth computing.
    let info_octets = info_c14n.apply(doc, signed_info, None)?;
    let ok = keys
        .iter()
        .filter(|k| k.id() == method.key)
        .any(|key| verify_with(key, method, &info_octets, &raw));
    if !ok {
        return Err(DsigError::Signature);
    }

    // SignedInfo is the IdP's: the element must still be what it digested.
    let canonical = content_c14n.apply(doc, signed, Some(sig))?;
    let actual = digest_of(digest, &canonical).map_err(|_| DsigError::C14n)?;
    if expected.len() != actual.len() || !openssl::memcmp::eq(&expected, &actual) {
        return Err(DsigError::Digest);
    }
    Ok(())
}

/// `raw` as XML-DSig carries it (RSA: the signature; ECDSA: r || s).
fn verify_with(key: &PKey<Public>, method: SignatureMethod, data: &[u8], raw: &[u8]) -> bool {
    if method.key != Id::EC {
        return verify_der(key, method, data, raw);
    }
    // OpenSSL wants ECDSA signatures DER-encoded.
    let half = raw.len() / 2;
    if half == 0 || !raw.len().is_multiple_of(2) {
        return false;
    }
    let der = openssl::bn::BigNum::from_slice(&raw[..half])
        .and_then(|r| Ok((r, openssl::bn::BigNum::from_slice(&raw[half..])?)))
        .and_then(|(r, s)| EcdsaSig::from_private_components(r, s))
        .and_then(|sig| sig.to_der());
    der.is_ok_and(|der| verify_der(key, method, data, &der))
}

fn verify_der(key: &PKey<Public>, method: SignatureMethod, data: &[u8], sig: &[u8]) -> bool {
    if method.key == Id::RSA {
        if let Some(verdict) = verify_rsa_pkcs1(key, method.digest, data, sig) {
            return verdict;
        }
    }
    let Some(md) = method.digest.fetched() else {
        return openssl::sign::Verifier::new(method.digest.md(), key)
            .and_then(|mut v| v.verify_oneshot(sig, data))
            .unwrap_or(false);
    };
    openssl::md_ctx::MdCtx::new()
        .and_then(|mut ctx| {
            ctx.digest_verify_init(Some(md), key)?;
            ctx.digest_verify(data, sig)
        })
        .unwrap_or(false)
}

/// RSASSA-PKCS1-v1_5 verification as RFC 8017 §8.2.2 specifies it: the
/// public-key operation (OpenSSL checks the type-1 padding: 00 01, at least
/// eight FF, 00), then an exact comparison of what follows with the
/// encoding of the digest this side computed. Encode and compare: nothing
/// the signer sent is parsed, so trailing or hidden bytes cannot pass (the
/// forgeries of lenient DigestInfo parsers), and the length must match the
/// modulus exactly, as OpenSSL's own `RSA_verify` requires.
///
/// By hand because OpenSSL 3.0's EVP verification looks the signature and
/// key-management algorithms up in its provider tables on every call:
/// measured in the acs_validation bench, that set-up cost 40% of the RSA
/// operation itself. `None` when the key is not an RSA key OpenSSL can
/// hand out or the digest could not be computed (the caller then takes
/// the EVP path).
fn verify_rsa_pkcs1(key: &PKey<Public>, digest: Digest, data: &[u8], sig: &[u8]) -> Option<bool> {
    let rsa = key.rsa().ok()?;
    let hashed = digest_of(digest, data).ok()?;
    let size = usize::try_from(rsa.size()).ok()?;
    if sig.len() != size {
        return Some(false);
    }
    let mut decoded = vec![0; size];
    let Ok(len) = rsa.public_decrypt(sig, &mut decoded, openssl::rsa::Padding::PKCS1) else {
        return Some(false);
    };
    let prefix = digest.digest_info_prefix();
    let expected_len = prefix.len() + hashed.len();
    Some(
        len == expected_len
            && decoded[..prefix.len()] == *prefix
            && openssl::memcmp::eq(&decoded[prefix.len()..len], &hashed),
    )
}

/// The digest of a Reference's canonical octets.
fn digest_of(digest: Digest, octets: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let Some(md) = digest.fetched() else {
        return hash(digest.md(), octets).map(|d| d.to_vec());
    };
    let mut ctx = openssl::md_ctx::MdCtx::new()?;
    ctx.digest_init(md)?;
    ctx.digest_update(octets)?;
    let mut out = vec![0; md.size()];
    ctx.digest_final(&mut out)?;
    Ok(out)
}

/// Verifies a detached signature, the HTTP-Redirect binding's `Signature`
/// over its signed query, with the same algorithm allowlist and keys as
/// XML signatures. ECDSA may come as r || s (XML-DSig) or DER (what many
/// SPs and IdPs, ourselves included, send on this binding).
pub fn verify_detached(
    keys: &[PKey<Public>],
    algorithm: &str,
    allow_sha1: bool,
    data: &[u8],
    signature: &[u8],
) -> Result<(), DsigError> {
    let method = signature_method(algorithm, allow_sha1)?;
    let ok = keys.iter().filter(|k| k.id() == method.key).any(|key| {
        verify_with(key, method, data, signature)
            || (method.key == Id::EC && verify_der(key, method, data, signature))
    });
    if ok {
        Ok(())
    } else {
        Err(DsigError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::Private;
    use openssl::rsa::Rsa;

    use super::*;

    const RSA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
    const EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

    struct Template<'a> {
        sig_alg: &'a str,
        digest_alg: &'a str,
        transforms: String,
        reference_uri: &'a str,
        extra_reference: bool,
        after_value: &'a str,
    }

    impl Default for Template<'_> {
        fn default() -> Self {
            Template {
                sig_alg: RSA256,
                digest_alg: SHA256,
                transforms: format!(
                    r#"<ds:Transform Algorithm="{ENVELOPED}"/><ds:Transform Algorithm="{EXC}"/>"#
                ),
                reference_uri: "#a1",
                extra_reference: false,
                after_value: "",
            }
        }
    }

    impl Template<'_> {
        fn signature(&self) -> String {
            let reference = format!(
                r#"<ds:Reference URI="{}"><ds:Transforms>{}</ds:Transforms><ds:DigestMethod Algorithm="{}"/><ds:DigestValue>DIGEST</ds:DigestValue></ds:Reference>"#,
                self.reference_uri, self.transforms, self.digest_alg
            );
            let extra = if self.extra_reference {
                reference.clone()
            } else {
                String::new()
            };
            format!(
                r#"<ds:Signature xmlns:ds="{DSIG_NS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC}"/><ds:SignatureMethod Algorithm="{}"/>{reference}{extra}</ds:SignedInfo><ds:SignatureValue>SIGVALUE</ds:SignatureValue>{}</ds:Signature>"#,
                self.sig_alg, self.after_value
            )
        }

        /// A document whose element `a1` carries the signature, made the
        /// way an IdP makes it (digest, then SignedInfo), by `key`.
        fn sign(
            &self,
            key: &PKey<Private>,
            digest: MessageDigest,
            sig_digest: MessageDigest,
        ) -> String {
            let xml = format!(
                r#"<r xmlns:s="urn:s"><s:A ID="a1" s:x="1">{}<s:N>alice@corp.example</s:N></s:A><s:B ID="b1"><s:N>bob</s:N></s:B></r>"#,
                self.signature()
            );
            let doc = Doc::parse(&xml).unwrap();
            let a = doc.root().unwrap().children().next().unwrap();
            let sig = a.child(DSIG_NS, "Signature").unwrap();
            let target = if self.reference_uri == "#b1" {
                doc.root().unwrap().children().nth(1).unwrap()
            } else {
                a
            };
            let exclude = (target == a).then_some(sig);
            let octets = C14n::exclusive_with(&[])
                .apply(&doc, target, exclude)
                .unwrap();
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            let xml = xml.replace("DIGEST", &b64(&hash(digest, &octets).unwrap()));
            let doc = Doc::parse(&xml).unwrap();
            let a = doc.root().unwrap().children().next().unwrap();
            let info = a
                .child(DSIG_NS, "Signature")
                .unwrap()
                .child(DSIG_NS, "SignedInfo")
                .unwrap();
            let octets = C14n::exclusive_with(&[]).apply(&doc, info, None).unwrap();
            let mut signer = openssl::sign::Signer::new(sig_digest, key).unwrap();
            let mut value = signer.sign_oneshot_to_vec(&octets).unwrap();
            if key.id() == Id::EC {
                let sig = EcdsaSig::from_der(&value).unwrap();
                let (r, s) = (
                    sig.r().to_vec_padded(32).unwrap(),
                    sig.s().to_vec_padded(32).unwrap(),
                );
                value = [r, s].concat();
            }
            xml.replace("SIGVALUE", &b64(&value))
        }
    }

    fn rsa() -> PKey<Private> {
        PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
    }

    fn public(key: &PKey<Private>) -> PKey<Public> {
        PKey::public_key_from_der(&key.public_key_to_der().unwrap()).unwrap()
    }

    fn check(xml: &str, keys: &[PKey<Public>], allow_sha1: bool) -> Result<(), DsigError> {
        let doc = Doc::parse(xml).unwrap();
        let a = doc.root().unwrap().children().next().unwrap();
        let sig = signature_of(a)?.expect("a signature");
        verify_enveloped(&doc, a, sig, keys, allow_sha1)
    }

    #[test]
    fn verifies_and_refuses_what_the_saml_profile_refuses() {
        let key = rsa();
        let keys = [public(&key)];
        let sha256 = MessageDigest::sha256();
        let good = Template::default().sign(&key, sha256, sha256);
        assert_eq!(check(&good, &keys, false), Ok(()));

        // Content changed after signing.
        let tampered = good.replace("alice@corp.example", "admin@corp.example");
        assert_eq!(check(&tampered, &keys, false), Err(DsigError::Digest));
        // Signed by a key that is not the IdP's; whatever KeyInfo says.
        let attacker = rsa();
        let forged = Template {
            after_value: "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo>",
            ..Template::default()
        }
        .sign(&attacker, sha256, sha256);
        assert_eq!(check(&forged, &keys, false), Err(DsigError::Signature));
        // A valid signature over another element, moved into this one.
        let elsewhere = Template {
            reference_uri: "#b1",
            ..Template::default()
        }
        .sign(&key, sha256, sha256);
        assert_eq!(check(&elsewhere, &keys, false), Err(DsigError::Reference));
        let whole = Template {
            reference_uri: "",
            ..Template::default()
        }
        .sign(&key, sha256, sha256);
        assert_eq!(check(&whole, &keys, false), Err(DsigError::Reference));
        // Exactly one Reference; nothing but KeyInfo after SignatureValue.
        let two = Template {
            extra_reference: true,
            ..Template::default()
        }
        .sign(&key, sha256, sha256);
        assert!(matches!(
            check(&two, &keys, false),
            Err(DsigError::Structure(_))
        ));
        let object = Template {
            after_value: "<ds:Object><s:A xmlns:s=\"urn:s\" ID=\"a1\"/></ds:Object>",
            ..Template::default()
        }
        .sign(&key, sha256, sha256);
        assert!(matches!(
            check(&object, &keys, false),
            Err(DsigError::Structure(_))
        ));
        // Transforms: XPath refused, enveloped-signature required.
        let xpath = Template {
            transforms: format!(
                r#"<ds:Transform Algorithm="{ENVELOPED}"/><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>1</ds:XPath></ds:Transform>"#
            ),
            ..Template::default()
        }
        .sign(&key, sha256, sha256);
        assert!(matches!(
            check(&xpath, &keys, false),
            Err(DsigError::Transform(_))
        ));
        let not_enveloped = Template {
            transforms: format!(r#"<ds:Transform Algorithm="{EXC}"/>"#),
            ..Template::default()
        }
        .sign(&key, sha256, sha256);
        assert!(matches!(
            check(&not_enveloped, &keys, false),
            Err(DsigError::Transform(_))
        ));
        // SHA-1, in the signature or the digest, only when allowed.
        let sha1 = MessageDigest::sha1();
        let sha1_sig = Template {
            sig_alg: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            ..Template::default()
        }
        .sign(&key, sha256, sha1);
        assert!(matches!(
            check(&sha1_sig, &keys, false),
            Err(DsigError::Algorithm(_))
        ));
        assert_eq!(check(&sha1_sig, &keys, true), Ok(()));
        let sha1_digest = Template {
            digest_alg: "http://www.w3.org/2000/09/xmldsig#sha1",
            ..Template::default()
        }
        .sign(&key, sha1, sha256);
        assert!(matches!(
            check(&sha1_digest, &keys, false),
            Err(DsigError::Algorithm(_))
        ));
        // Two signatures on one element.
        let doubled = good.replacen(
            "<ds:Signature",
            &format!("{}<ds:Signature", Template::default().signature()),
            1,
        );
        let doc = Doc::parse(&doubled).unwrap();
        let a = doc.root().unwrap().children().next().unwrap();
        assert_eq!(signature_of(a).err(), Some(DsigError::SignatureCount(2)));
    }

    #[test]
    fn verifies_ecdsa_and_detached_signatures() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let rsa_key = rsa();
        let keys = [public(&rsa_key), public(&key)];
        let sha256 = MessageDigest::sha256();
        let signed = Template {
            sig_alg: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            ..Template::default()
        }
        .sign(&key, sha256, sha256);
        assert_eq!(check(&signed, &keys, false), Ok(()));
        // An ECDSA signature is not checked against the RSA key, and vice versa.
        assert_eq!(check(&signed, &keys[..1], false), Err(DsigError::Signature));

        let data = b"SAMLRequest=abc&SigAlg=x";
        let der = openssl::sign::Signer::new(sha256, &key)
            .unwrap()
            .sign_oneshot_to_vec(data)
            .unwrap();
        let ecdsa = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
        assert_eq!(verify_detached(&keys, ecdsa, false, data, &der), Ok(()));
        assert_eq!(
            verify_detached(&keys, ecdsa, false, b"SAMLRequest=abd", &der),
            Err(DsigError::Signature)
        );
        let rsa_sig = openssl::sign::Signer::new(MessageDigest::sha1(), &rsa_key)
            .unwrap()
            .sign_oneshot_to_vec(data)
            .unwrap();
        let rsa1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
        assert!(matches!(
            verify_detached(&keys, rsa1, false, data, &rsa_sig),
            Err(DsigError::Algorithm(_))
        ));
        assert_eq!(verify_detached(&keys, rsa1, true, data, &rsa_sig), Ok(()));
    }

    /// The hand-written RSASSA-PKCS1-v1_5 check against OpenSSL's own, on
    /// encoded messages made with the private key: the well-formed one, and
    /// the malformations that lenient verifiers have accepted.
    #[test]
    fn rsa_pkcs1_check_agrees_with_openssl_on_hostile_encodings() {
        let key = rsa();
        let pubkey = public(&key);
        let private = key.rsa().unwrap();
        let k = usize::try_from(private.size()).unwrap();
        let data = b"<ds:SignedInfo>...</ds:SignedInfo>";
        let sha256 = hash(MessageDigest::sha256(), data).unwrap().to_vec();
        let info = |prefix: &[u8], tail: &[u8]| [prefix, &sha256, tail].concat();
        // 00 01 FF.. 00 payload, the FF run filling the modulus length.
        let em = |ff: usize, payload: &[u8]| {
            let mut em = vec![0x00, 0x01];
            em.extend(std::iter::repeat_n(0xff, ff));
            em.push(0x00);
            em.extend_from_slice(payload);
            em
        };
        let fill = |payload: &[u8]| em(k - 3 - payload.len(), payload);
        let raw_sign = |em: &[u8]| {
            let mut sig = vec![0; k];
            let n = private
                .private_encrypt(em, &mut sig, openssl::rsa::Padding::NONE)
                .unwrap();
            sig.truncate(n);
            sig
        };
        let sha256_prefix = Digest::Sha256.digest_info_prefix();
        // DigestInfo without the NULL parameters.
        let no_null: Vec<u8> = [
            &[0x30, 0x2f, 0x30, 0x0b][..],
            &sha256_prefix[4..15],
            &sha256_prefix[17..],
        ]
        .concat();
        let mut type2 = fill(&info(sha256_prefix, b""));
        type2[1] = 0x02;
        // Seven FF, the separator, then junk in front of the DigestInfo.
        let seven_ff = {
            let payload = info(sha256_prefix, b"");
            let junk = vec![0x41; k - 3 - 7 - payload.len()];
            em(7, &[junk, payload].concat())
        };
        let cases: Vec<(&str, Vec<u8>, bool)> = vec![
            (
                "well formed",
                raw_sign(&fill(&info(sha256_prefix, b""))),
                true,
            ),
            (
                "garbage after the digest",
                raw_sign(&fill(&info(sha256_prefix, &[0; 8]))),
                false,
            ),
            (
                "parameters absent",
                raw_sign(&fill(&info(&no_null, b""))),
                false,
            ),
            (
                "another digest's DigestInfo",
                raw_sign(&fill(&info(Digest::Sha512.digest_info_prefix(), b""))),
                false,
            ),
            ("block type 2", raw_sign(&type2), false),
            ("padding too short", raw_sign(&seven_ff), false),
        ];
        for (what, sig, want) in cases {
            let openssl = openssl::sign::Verifier::new(MessageDigest::sha256(), &pubkey)
                .unwrap()
                .verify_oneshot(&sig, data)
                .unwrap_or(false);
            assert_eq!(openssl, want, "{what}: OpenSSL's verdict");
            assert_eq!(
                verify_rsa_pkcs1(&pubkey, Digest::Sha256, data, &sig),
                Some(want),
                "{what}"
            );
        }
        let good = raw_sign(&fill(&info(sha256_prefix, b"")));
        let tampered = b"<ds:SignedInfo>..!</ds:SignedInfo>";
        assert_eq!(
            verify_rsa_pkcs1(&pubkey, Digest::Sha256, tampered, &good),
            Some(false)
        );
        // The signature's length is the modulus's, as RSA_verify requires.
        let padded = [&[0u8][..], &good].concat();
        assert_eq!(
            verify_rsa_pkcs1(&pubkey, Digest::Sha256, data, &padded),
            Some(false)
        );
        assert_eq!(
            verify_rsa_pkcs1(&pubkey, Digest::Sha256, data, &good[1..]),
            Some(false)
        );
        // A value not below the modulus.
        let over = vec![0xff; k];
        assert_eq!(
            verify_rsa_pkcs1(&pubkey, Digest::Sha256, data, &over),
            Some(false)
        );
        // Not an RSA key: the EVP path decides.
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let ec = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        assert_eq!(
            verify_rsa_pkcs1(&public(&ec), Digest::Sha256, data, &good),
            None
        );
    }
}
