//! Signing what we send: enveloped XML signatures for messages sent by
//! HTTP-POST, the mirror of `dsig`'s verifier (one Reference to the root
//! element's own ID, enveloped-signature + exclusive c14n, our own
//! canonicalization and OpenSSL), and the HTTP-Redirect binding's detached
//! signature over the query string (SAML bindings §3.4.4.1).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use openssl::ecdsa::EcdsaSig;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::X509;

use super::algorithms::SignatureMethod;
use super::dsig::{C14n, ENVELOPED, EXC_C14N};
use super::ns::DSIG;
use super::write::Xml;
use super::xml::Doc;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the {0:?} key cannot make {1} signatures")]
    KeyType(Id, &'static str),
    #[error("the message to sign is not well-formed: {0}")]
    Message(String),
    #[error("signing failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

/// Our signing key and certificate, with the algorithm the settings chose.
pub struct Signer<'a> {
    pub key: &'a PKey<Private>,
    pub cert: Option<&'a X509>,
    pub method: SignatureMethod,
}

impl Signer<'_> {
    fn check_key(&self) -> Result<(), SignError> {
        if self.key.id() == self.method.key {
            Ok(())
        } else {
            Err(SignError::KeyType(self.key.id(), self.method.uri))
        }
    }

    /// The raw signature over `data` (DER for ECDSA).
    fn sign_raw(&self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        self.check_key()?;
        let mut signer = openssl::sign::Signer::new(self.method.digest.md(), self.key)?;
        Ok(signer.sign_oneshot_to_vec(data)?)
    }

    /// The signature as XML-DSig carries it: ECDSA as r || s, each the
    /// size of the curve order (RFC 4050 / XML-DSig 1.1).
    fn sign_xml(&self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        let der = self.sign_raw(data)?;
        if self.key.id() != Id::EC {
            return Ok(der);
        }
        let ec = self.key.ec_key()?;
        let size = usize::try_from(ec.group().order_bits().div_ceil(8)).unwrap_or(66);
        let sig = EcdsaSig::from_der(&der)?;
        let size = i32::try_from(size).unwrap_or(66);
        Ok([sig.r().to_vec_padded(size)?, sig.s().to_vec_padded(size)?].concat())
    }

    /// HTTP-Redirect binding: appends `SigAlg` and `Signature` to `query`
    /// (`SAMLRequest=..[&RelayState=..]`, already URL-encoded), signing the
    /// exact octets sent.
    pub fn sign_query(&self, query: &str) -> Result<String, SignError> {
        let signed_part = format!("{query}&SigAlg={}", encode(self.method.uri));
        let sig = self.sign_raw(signed_part.as_bytes())?;
        Ok(format!(
            "{signed_part}&Signature={}",
            encode(&B64.encode(sig))
        ))
    }

    /// An enveloped signature of the message `build` writes, whose root
    /// element carries `ID="{id}"`. `build(None)` writes the message
    /// unsigned and `build(Some(signature))` with the signature markup at
    /// the place the schema puts it (after the Issuer); the digest of the
    /// first is the digest of the second without its signature, exactly as
    /// a verifier computes it.
    pub fn sign_enveloped(
        &self,
        id: &str,
        build: impl Fn(Option<&str>) -> String,
    ) -> Result<String, SignError> {
        self.check_key()?;
        let unsigned = build(None);
        let doc = Doc::parse(&unsigned).map_err(|e| SignError::Message(e.to_string()))?;
        let root = doc
            .root()
            .ok_or_else(|| SignError::Message("no root element".into()))?;
        if root.attr("ID").as_deref() != Some(id) {
            return Err(SignError::Message("the root does not carry the ID".into()));
        }
        let canonical = C14n::exclusive()
            .apply(&doc, root, None)
            .map_err(|e| SignError::Message(e.to_string()))?;
        let digest = openssl::hash::hash(self.method.digest.md(), &canonical)?;
        let signed_info = |x: &mut Xml| {
            x.element("ds:SignedInfo", &[], |x| {
                x.element(
                    "ds:CanonicalizationMethod",
                    &[("Algorithm", Some(EXC_C14N))],
                    |_| {},
                );
                x.element(
                    "ds:SignatureMethod",
                    &[("Algorithm", Some(self.method.uri))],
                    |_| {},
                );
                x.element("ds:Reference", &[("URI", Some(&format!("#{id}")))], |x| {
                    x.element("ds:Transforms", &[], |x| {
                        x.element("ds:Transform", &[("Algorithm", Some(ENVELOPED))], |_| {});
                        x.element("ds:Transform", &[("Algorithm", Some(EXC_C14N))], |_| {});
                    });
                    x.element(
                        "ds:DigestMethod",
                        &[("Algorithm", Some(self.method.digest.uri()))],
                        |_| {},
                    );
                    x.text_element("ds:DigestValue", &[], &B64.encode(digest));
                });
            });
        };
        // Exclusive c14n of SignedInfo depends only on what it uses (the ds
        // prefix, declared on Signature), so it is the same inside the
        // message as in this standalone Signature.
        let signature_with = |value: &str| {
            let mut x = Xml::new();
            x.element("ds:Signature", &[("xmlns:ds", Some(DSIG))], |x| {
                signed_info(x);
                x.text_element("ds:SignatureValue", &[], value);
                if let Some(der) = self.cert.and_then(|c| c.to_der().ok()) {
                    x.element("ds:KeyInfo", &[], |x| {
                        x.element("ds:X509Data", &[], |x| {
                            x.text_element("ds:X509Certificate", &[], &B64.encode(der));
                        });
                    });
                }
            });
            x.finish()
        };
        let template = signature_with("");
        let sig_doc = Doc::parse(&template).map_err(|e| SignError::Message(e.to_string()))?;
        let info = sig_doc
            .root()
            .and_then(|s| s.child(DSIG, "SignedInfo"))
            .ok_or_else(|| SignError::Message("no SignedInfo".into()))?;
        let info_octets = C14n::exclusive()
            .apply(&sig_doc, info, None)
            .map_err(|e| SignError::Message(e.to_string()))?;
        let value = B64.encode(self.sign_xml(&info_octets)?);
        Ok(build(Some(&signature_with(&value))))
    }
}

pub fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::Public;
    use openssl::rsa::Rsa;

    use super::*;
    use crate::saml::dsig;

    fn public(key: &PKey<Private>) -> PKey<Public> {
        PKey::public_key_from_der(&key.public_key_to_der().unwrap()).unwrap()
    }

    fn message(sig: Option<&str>) -> String {
        let mut x = Xml::new();
        x.element(
            "p:M",
            &[("xmlns:p", Some("urn:p")), ("ID", Some("_m1"))],
            |x| {
                x.text_element("p:Issuer", &[], "https://sp.example/a&b");
                if let Some(s) = sig {
                    x.raw(s);
                }
                x.text_element("p:Body", &[("k", Some("v\t\"w\""))], "text <&>");
            },
        );
        x.finish()
    }

    fn verify(xml: &str, keys: &[PKey<Public>], sha1: bool) -> Result<(), dsig::DsigError> {
        let doc = Doc::parse(xml).unwrap();
        let root = doc.root().unwrap();
        let sig = dsig::signature_of(root)?.expect("signed");
        dsig::verify_enveloped(&doc, root, sig, keys, sha1)
    }

    #[test]
    fn our_verifier_accepts_what_our_signer_makes_for_every_setting() {
        let rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let ec = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        for setting in ssoplane_schema::saml::SignatureAlgorithm::ALL {
            let setting = setting.as_str();
            let method = SignatureMethod::for_setting(setting);
            let key = if method.key == Id::EC { &ec } else { &rsa };
            let signer = Signer {
                key,
                cert: None,
                method,
            };
            let signed = signer.sign_enveloped("_m1", message).unwrap();
            let sha1 = setting == "rsa-sha1";
            assert_eq!(verify(&signed, &[public(key)], sha1), Ok(()), "{setting}");
            // The signature covers the content...
            let tampered = signed.replace("text &lt;", "texT &lt;");
            assert_eq!(
                verify(&tampered, &[public(key)], sha1),
                Err(dsig::DsigError::Digest)
            );
            // ...and only our key made it.
            let other = if method.key == Id::EC {
                PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
            } else {
                PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
            };
            assert_eq!(
                verify(&signed, &[public(&other)], sha1),
                Err(dsig::DsigError::Signature)
            );
        }
        // A key of the wrong family for the algorithm is refused, not misused.
        let wrong = Signer {
            key: &ec,
            cert: None,
            method: SignatureMethod::for_setting("rsa-sha256"),
        };
        assert!(matches!(
            wrong.sign_enveloped("_m1", message),
            Err(SignError::KeyType(..))
        ));
    }

    #[test]
    fn query_signatures_verify_as_the_redirect_binding_requires() {
        let rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let signer = Signer {
            key: &rsa,
            cert: None,
            method: SignatureMethod::for_setting("rsa-sha512"),
        };
        let q = signer
            .sign_query("SAMLRequest=abc&RelayState=x%2Fy")
            .unwrap();
        let (signed, sig) = q.split_once("&Signature=").unwrap();
        let sig: String = url::form_urlencoded::parse(format!("s={sig}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let raw = B64.decode(sig).unwrap();
        assert_eq!(
            dsig::verify_detached(
                &[public(&rsa)],
                signer.method.uri,
                false,
                signed.as_bytes(),
                &raw
            ),
            Ok(())
        );
    }
}
