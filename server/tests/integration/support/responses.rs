//! SAML Responses and LogoutRequests made in-process for the fuzz harness
//! and the worst-case benchmark, signed by our own signer with a test IdP
//! key (the interop tests use pysaml2 instead; these need thousands of
//! messages per second, and shapes no IdP would produce).

#![allow(dead_code)]

use base64::Engine;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use ssoplane_server::saml::algorithms::SignatureMethod;
use ssoplane_server::saml::sign::Signer;
use ssoplane_server::saml::write::Xml;

pub const IDP: &str = "https://idp.test";
pub const SP: &str = "https://sso.example.com/saml/okta/metadata";
pub const ACS: &str = "https://sso.example.com/saml/okta/acs";
pub const SLO: &str = "https://sso.example.com/saml/okta/slo";
const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// A test IdP: its key and self-signed certificate (PEM too, for settings).
pub struct TestIdp {
    pub key: PKey<Private>,
    pub cert: X509,
    pub cert_pem: String,
}

impl TestIdp {
    pub fn new() -> TestIdp {
        let (key_pem, cert_pem) = ssoplane_testkit::pki::key_and_cert("test idp");
        TestIdp {
            key: PKey::private_key_from_pem(key_pem.as_bytes()).expect("test key"),
            cert: X509::from_pem(cert_pem.as_bytes()).expect("test cert"),
            cert_pem,
        }
    }

    fn signer(&self) -> Signer<'_> {
        Signer {
            key: &self.key,
            cert: Some(&self.cert),
            method: SignatureMethod::for_setting("rsa-sha256"),
        }
    }
}

/// What a response says; `padding` attributes make it as large as wanted.
pub struct Shape<'a> {
    pub id: &'a str,
    pub in_response_to: Option<&'a str>,
    pub name_id: &'a str,
    pub padding: usize,
    pub sign_assertion: bool,
    pub sign_response: bool,
    /// Encrypt the assertion to this (SP) certificate.
    pub encrypt_to: Option<&'a X509>,
}

impl Default for Shape<'_> {
    fn default() -> Self {
        Shape {
            id: "_r1",
            in_response_to: Some("_req1"),
            name_id: "ada@corp.example",
            padding: 0,
            sign_assertion: true,
            sign_response: true,
            encrypt_to: None,
        }
    }
}

/// XML Encryption of `assertion` to `cert`: AES-256-CBC content, RSA-OAEP
/// (SHA-1 MGF, as xmlsec1 and most IdPs do) key transport.
pub fn encrypted_assertion(assertion: &str, cert: &X509) -> String {
    use openssl::rsa::Padding;
    use openssl::symm::{encrypt, Cipher};
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut key = [0u8; 32];
    let mut iv = [0u8; 16];
    openssl::rand::rand_bytes(&mut key).expect("random");
    openssl::rand::rand_bytes(&mut iv).expect("random");
    let ct = encrypt(Cipher::aes_256_cbc(), &key, Some(&iv), assertion.as_bytes()).expect("aes");
    let rsa = cert.public_key().expect("key").rsa().expect("rsa");
    let mut wrapped = vec![0u8; rsa.size() as usize];
    let n = rsa
        .public_encrypt(&key, &mut wrapped, Padding::PKCS1_OAEP)
        .expect("oaep");
    wrapped.truncate(n);
    format!(
        "<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" Type=\"http://www.w3.org/2001/04/xmlenc#Element\"><xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\"/><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>",
        b64(&wrapped),
        b64(&[&iv[..], &ct[..]].concat())
    )
}

fn instant(offset_secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The assertion; `now` and `later` are fixed by the caller because the
/// signer writes the message twice (unsigned, then signed) and both must
/// say the same.
fn assertion(shape: &Shape<'_>, id: &str, sig: Option<&str>, now: &str, later: &str) -> String {
    let mut x = Xml::new();
    x.element(
        "saml:Assertion",
        &[
            ("xmlns:saml", Some(ASSERTION)),
            ("ID", Some(id)),
            ("Version", Some("2.0")),
            ("IssueInstant", Some(now)),
        ],
        |x| {
            x.text_element("saml:Issuer", &[], IDP);
            if let Some(s) = sig {
                x.raw(s);
            }
            x.element("saml:Subject", &[], |x| {
                x.text_element(
                    "saml:NameID",
                    &[(
                        "Format",
                        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"),
                    )],
                    shape.name_id,
                );
                x.element(
                    "saml:SubjectConfirmation",
                    &[("Method", Some("urn:oasis:names:tc:SAML:2.0:cm:bearer"))],
                    |x| {
                        x.element(
                            "saml:SubjectConfirmationData",
                            &[
                                ("NotOnOrAfter", Some(later)),
                                ("Recipient", Some(ACS)),
                                ("InResponseTo", shape.in_response_to),
                            ],
                            |_| {},
                        );
                    },
                );
            });
            x.element(
                "saml:Conditions",
                &[("NotBefore", Some(now)), ("NotOnOrAfter", Some(later))],
                |x| {
                    x.element("saml:AudienceRestriction", &[], |x| {
                        x.text_element("saml:Audience", &[], SP);
                    });
                },
            );
            x.element(
                "saml:AuthnStatement",
                &[("AuthnInstant", Some(now)), ("SessionIndex", Some("_s1"))],
                |x| {
                    x.element("saml:AuthnContext", &[], |x| {
                        x.text_element(
                            "saml:AuthnContextClassRef",
                            &[],
                            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                        );
                    });
                },
            );
            x.element("saml:AttributeStatement", &[], |x| {
                x.element("saml:Attribute", &[("Name", Some("uid"))], |x| {
                    x.text_element("saml:AttributeValue", &[], "ada");
                });
                for i in 0..shape.padding {
                    x.element(
                        "saml:Attribute",
                        &[("Name", Some(&format!("urn:example:attribute:{i}")))],
                        |x| {
                            x.text_element("saml:AttributeValue", &[], &format!("value-{i:08}"));
                        },
                    );
                }
            });
        },
    );
    x.finish()
}

/// A Response signed as `shape` says, by `idp`.
pub fn response(idp: &TestIdp, shape: &Shape<'_>) -> String {
    let assertion_id = format!("{}-a", shape.id);
    let (now, later) = (instant(0), instant(300));
    let write_assertion = |sig: Option<&str>| assertion(shape, &assertion_id, sig, &now, &later);
    let assertion = if shape.sign_assertion {
        idp.signer()
            .sign_enveloped(&assertion_id, write_assertion)
            .expect("sign assertion")
    } else {
        write_assertion(None)
    };
    let assertion = match shape.encrypt_to {
        Some(cert) => encrypted_assertion(&assertion, cert),
        None => assertion,
    };
    let write = |sig: Option<&str>| {
        let mut x = Xml::new();
        x.element(
            "samlp:Response",
            &[
                ("xmlns:samlp", Some(PROTOCOL)),
                ("xmlns:saml", Some(ASSERTION)),
                ("ID", Some(shape.id)),
                ("Version", Some("2.0")),
                ("IssueInstant", Some(&now)),
                ("Destination", Some(ACS)),
                ("InResponseTo", shape.in_response_to),
            ],
            |x| {
                x.text_element("saml:Issuer", &[], IDP);
                if let Some(s) = sig {
                    x.raw(s);
                }
                x.element("samlp:Status", &[], |x| {
                    x.element(
                        "samlp:StatusCode",
                        &[("Value", Some("urn:oasis:names:tc:SAML:2.0:status:Success"))],
                        |_| {},
                    );
                });
                x.raw(&assertion);
            },
        );
        x.finish()
    };
    if shape.sign_response {
        idp.signer()
            .sign_enveloped(shape.id, write)
            .expect("sign response")
    } else {
        write(None)
    }
}

/// An IdP-initiated LogoutRequest (HTTP-POST binding), signed by `idp`,
/// with `indexes` SessionIndex elements.
pub fn logout_request(idp: &TestIdp, name_id: &str, indexes: usize) -> String {
    let now = instant(0);
    let write = |sig: Option<&str>| {
        let mut x = Xml::new();
        x.element(
            "samlp:LogoutRequest",
            &[
                ("xmlns:samlp", Some(PROTOCOL)),
                ("xmlns:saml", Some(ASSERTION)),
                ("ID", Some("_lr1")),
                ("Version", Some("2.0")),
                ("IssueInstant", Some(&now)),
                ("Destination", Some(SLO)),
            ],
            |x| {
                x.text_element("saml:Issuer", &[], IDP);
                if let Some(s) = sig {
                    x.raw(s);
                }
                x.text_element("saml:NameID", &[], name_id);
                for i in 0..indexes {
                    x.text_element("samlp:SessionIndex", &[], &format!("_s{i}"));
                }
            },
        );
        x.finish()
    };
    idp.signer()
        .sign_enveloped("_lr1", write)
        .expect("sign logout request")
}
