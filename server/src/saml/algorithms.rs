//! The XML-DSig algorithms ssoplane knows, declared once: what the verifier
//! accepts (SHA-1 only when the administrator allows it) and what the
//! signer uses for each `signature_algorithm` setting value.

use openssl::hash::MessageDigest;
use openssl::pkey::Id;

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    pub fn md(self) -> MessageDigest {
        match self {
            Digest::Sha1 => MessageDigest::sha1(),
            Digest::Sha256 => MessageDigest::sha256(),
            Digest::Sha384 => MessageDigest::sha384(),
            Digest::Sha512 => MessageDigest::sha512(),
        }
    }

    /// The provider's implementation, fetched once per process. OpenSSL 3
    /// looks the algorithm up in its provider tables (under a lock) every
    /// time a legacy `MessageDigest` starts a signature check or a hash:
    /// measured, that lookup cost about as much as the RSA verification
    /// itself. `None` if the fetch failed; callers fall back to [`Digest::md`].
    pub fn fetched(self) -> Option<&'static openssl::md::MdRef> {
        use std::sync::OnceLock;
        static FETCHED: [OnceLock<Option<openssl::md::Md>>; 4] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        let (slot, name) = match self {
            Digest::Sha1 => (&FETCHED[0], "SHA1"),
            Digest::Sha256 => (&FETCHED[1], "SHA2-256"),
            Digest::Sha384 => (&FETCHED[2], "SHA2-384"),
            Digest::Sha512 => (&FETCHED[3], "SHA2-512"),
        };
        slot.get_or_init(|| openssl::md::Md::fetch(None, name, None).ok())
            .as_deref()
    }

    /// The DER `DigestInfo` of this digest up to the digest itself
    /// (RFC 8017 §9.2, note 1): what an RSASSA-PKCS1-v1_5 signature
    /// encodes in front of the hash.
    pub fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Digest::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
            Digest::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            Digest::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            Digest::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    /// The DigestMethod URI.
    pub fn uri(self) -> &'static str {
        match self {
            Digest::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
            Digest::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            Digest::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
            Digest::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        }
    }

    /// The digest a DigestMethod URI names, if accepted.
    pub fn from_uri(uri: &str, allow_sha1: bool) -> Option<Digest> {
        [Digest::Sha1, Digest::Sha256, Digest::Sha384, Digest::Sha512]
            .into_iter()
            .find(|d| d.uri() == uri && (allow_sha1 || *d != Digest::Sha1))
    }
}

/// A signature algorithm: its URI, key family and digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureMethod {
    pub uri: &'static str,
    pub key: Id,
    pub digest: Digest,
    /// The `signature_algorithm` setting value that selects it for signing.
    pub setting: Option<&'static str>,
}

const fn method(
    uri: &'static str,
    key: Id,
    digest: Digest,
    setting: Option<&'static str>,
) -> SignatureMethod {
    SignatureMethod {
        uri,
        key,
        digest,
        setting,
    }
}

pub const SIGNATURE_METHODS: &[SignatureMethod] = &[
    method(
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        Id::RSA,
        Digest::Sha256,
        Some("rsa-sha256"),
    ),
    method(
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        Id::RSA,
        Digest::Sha384,
        None,
    ),
    method(
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        Id::RSA,
        Digest::Sha512,
        Some("rsa-sha512"),
    ),
    method(
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        Id::EC,
        Digest::Sha256,
        Some("ecdsa-sha256"),
    ),
    method(
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        Id::EC,
        Digest::Sha384,
        None,
    ),
    method(
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
        Id::EC,
        Digest::Sha512,
        None,
    ),
    method(
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        Id::RSA,
        Digest::Sha1,
        Some("rsa-sha1"),
    ),
    method(
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
        Id::EC,
        Digest::Sha1,
        None,
    ),
];

impl SignatureMethod {
    /// The method a SignatureMethod/SigAlg URI names, if accepted.
    pub fn from_uri(uri: &str, allow_sha1: bool) -> Option<SignatureMethod> {
        SIGNATURE_METHODS
            .iter()
            .find(|m| m.uri == uri && (allow_sha1 || m.digest != Digest::Sha1))
            .copied()
    }

    /// The method a `signature_algorithm` setting value selects (the schema
    /// validates the value; an unknown one falls back to RSA-SHA256).
    pub fn for_setting(setting: &str) -> SignatureMethod {
        SIGNATURE_METHODS
            .iter()
            .find(|m| m.setting == Some(setting))
            .unwrap_or(&SIGNATURE_METHODS[0])
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_value_names_a_method_and_sha1_needs_consent() {
        for value in ssoplane_schema::saml::SignatureAlgorithm::ALL {
            let m = SignatureMethod::for_setting(value.as_str());
            assert_eq!(m.setting, Some(value.as_str()));
        }
        let sha1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
        assert!(SignatureMethod::from_uri(sha1, false).is_none());
        assert!(SignatureMethod::from_uri(sha1, true).is_some());
        assert!(Digest::from_uri(Digest::Sha1.uri(), false).is_none());
        assert_eq!(
            Digest::from_uri(Digest::Sha256.uri(), false),
            Some(Digest::Sha256)
        );
    }
}
