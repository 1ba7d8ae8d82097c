//! The SAML 2.0 service provider. Per provider slug it serves
//! `/saml/{provider}/metadata`, `/login`, `/acs` and `/slo` (the provider
//! named `saml` also at `/saml/metadata`, `/saml/login`, `/saml/acs` and
//! `/saml/slo`); `http` holds those handlers, the other modules the
//! protocol (see ARCHITECTURE.md for the order messages pass them in).

/// XML namespaces of the SAML and XML-Security messages we read.
pub mod ns {
    pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
    pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
    pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
}

pub mod acs;
pub mod algorithms;
pub mod assertion;
mod c14n;
pub mod decrypt;
pub mod diagnose;
pub mod dsig;
pub mod finish;
pub mod guard;
pub mod http;
pub mod idp;
pub mod login;
pub mod messages;
pub mod metadata;
pub mod relay;
pub mod runtime;
pub mod sign;
pub mod slo;
pub mod validate;
pub mod work;
pub mod write;
pub mod xml;

/// Default provider of the short `/saml/...` paths.
pub const DEFAULT_PROVIDER: &str = "saml";
