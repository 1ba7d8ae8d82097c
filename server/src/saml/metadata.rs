//! `GET /saml/{provider}/metadata`: the SP metadata an IdP imports, written
//! in the element order of the OASIS SAML 2.0 metadata schema (a test
//! validates it against the XSD). It lists our entity ID, the signing and
//! encryption certificates, the SLO endpoints (when single logout is on),
//! the NameID format we ask for, the ACS (HTTP-POST), and `validUntil` =
//! now + `metadata_valid_duration`.

use base64::Engine;
use openssl::x509::X509;

use super::idp::{POST, REDIRECT};
use super::messages::instant;
use super::ns::DSIG;
use super::runtime::SpSide;
use super::write::Xml;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// The content encryption and key transport algorithms we decrypt.
pub const ENCRYPTION_METHODS: &[&str] = &[
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
    "http://www.w3.org/2009/xmlenc11#rsa-oaep",
    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
];

#[derive(Debug, thiserror::Error)]
#[error("cannot encode the {0} certificate: {1}")]
pub struct MetadataError(&'static str, openssl::error::ErrorStack);

fn key_descriptor(
    x: &mut Xml,
    usage: &'static str,
    cert: &X509,
    methods: &[&str],
) -> Result<(), MetadataError> {
    let der = cert.to_der().map_err(|e| MetadataError(usage, e))?;
    x.element("md:KeyDescriptor", &[("use", Some(usage))], |x| {
        x.element("ds:KeyInfo", &[("xmlns:ds", Some(DSIG))], |x| {
            x.element("ds:X509Data", &[], |x| {
                x.text_element(
                    "ds:X509Certificate",
                    &[],
                    &base64::engine::general_purpose::STANDARD.encode(der),
                );
            });
        });
        for m in methods {
            x.element("md:EncryptionMethod", &[("Algorithm", Some(m))], |_| {});
        }
    });
    Ok(())
}

/// Needs only the SP side of the settings, so it works before the IdP is
/// reachable or the provider is enabled: the IdP needs our metadata first.
pub fn render(side: &SpSide) -> Result<String, MetadataError> {
    let s = &side.settings;
    let valid_until = chrono::Utc::now()
        + chrono::Duration::from_std(s.metadata_valid_duration)
            .unwrap_or(chrono::Duration::hours(48));
    let mut keys = Xml::new();
    if let Some((cert, _)) = &side.signing {
        key_descriptor(&mut keys, "signing", cert, &[])?;
    }
    if let Some(cert) = &side.encryption_cert {
        key_descriptor(&mut keys, "encryption", cert, ENCRYPTION_METHODS)?;
    }
    let keys = keys.finish();
    let mut x = Xml::new();
    x.element(
        "md:EntityDescriptor",
        &[
            ("xmlns:md", Some(MD)),
            ("entityID", Some(&side.sp.entity_id)),
            ("validUntil", Some(&instant(valid_until))),
        ],
        |x| {
            x.element(
                "md:SPSSODescriptor",
                &[
                    ("protocolSupportEnumeration", Some(super::ns::PROTOCOL)),
                    (
                        "AuthnRequestsSigned",
                        Some(if s.sign_requests { "true" } else { "false" }),
                    ),
                    ("WantAssertionsSigned", Some("true")),
                ],
                |x| {
                    x.raw(&keys);
                    if s.single_logout {
                        for binding in [REDIRECT, POST] {
                            x.element(
                                "md:SingleLogoutService",
                                &[
                                    ("Binding", Some(binding)),
                                    ("Location", Some(&side.sp.slo_url)),
                                ],
                                |_| {},
                            );
                        }
                    }
                    x.text_element("md:NameIDFormat", &[], s.name_id_format.as_str());
                    x.element(
                        "md:AssertionConsumerService",
                        &[
                            ("Binding", Some(POST)),
                            ("Location", Some(&side.sp.acs_url)),
                            ("index", Some("0")),
                            ("isDefault", Some("true")),
                        ],
                        |_| {},
                    );
                },
            );
        },
    );
    Ok(x.finish())
}
