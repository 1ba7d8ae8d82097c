//! PEM certificates and private keys in settings: they must parse, be unencrypted
//! (we encrypt them at rest ourselves), be strong enough, and match each other.
//! Parsing is openssl's; only the policy is ours.

use openssl::pkey::{Id, PKey, Private, Public};
use openssl::x509::X509;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PemError {
    #[error("is not a PEM certificate (expected a \"-----BEGIN CERTIFICATE-----\" block)")]
    NotCertificate,
    #[error("holds {0} certificates; expected exactly one")]
    SeveralCertificates(usize),
    #[error("is not a PEM private key (expected PKCS#8, PKCS#1 or SEC1 \"-----BEGIN ... PRIVATE KEY-----\")")]
    NotPrivateKey,
    #[error("is an encrypted private key; provide it unencrypted (ssoplane encrypts it at rest)")]
    EncryptedKey,
    #[error("RSA key of {0} bits is too short; use at least 2048 bits")]
    WeakRsa(u32),
    #[error("unsupported key type; use RSA (2048 bits or more) or EC P-256/P-384")]
    UnsupportedKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
}

pub fn parse_certificate(text: &str) -> Result<X509, PemError> {
    let certs =
        X509::stack_from_pem(text.trim().as_bytes()).map_err(|_| PemError::NotCertificate)?;
    match certs.len() {
        0 => Err(PemError::NotCertificate),
        1 => certs.into_iter().next().ok_or(PemError::NotCertificate),
        n => Err(PemError::SeveralCertificates(n)),
    }
}

pub fn parse_private_key(text: &str) -> Result<PKey<Private>, PemError> {
    let trimmed = text.trim();
    if trimmed.contains("ENCRYPTED") {
        return Err(PemError::EncryptedKey);
    }
    // An explicit empty passphrase: openssl's default callback would otherwise
    // prompt on the server's terminal.
    let key = PKey::private_key_from_pem_passphrase(trimmed.as_bytes(), b"")
        .map_err(|_| PemError::NotPrivateKey)?;
    key_kind(key.id(), key.bits())?;
    Ok(key)
}

fn key_kind(id: Id, bits: u32) -> Result<KeyKind, PemError> {
    match id {
        Id::RSA if bits < 2048 => Err(PemError::WeakRsa(bits)),
        Id::RSA => Ok(KeyKind::Rsa),
        Id::EC => Ok(KeyKind::Ec),
        _ => Err(PemError::UnsupportedKey),
    }
}

pub fn private_key_kind(key: &PKey<Private>) -> Result<KeyKind, PemError> {
    key_kind(key.id(), key.bits())
}

pub fn certificate_key_kind(cert: &X509) -> Result<KeyKind, PemError> {
    let public: PKey<Public> = cert.public_key().map_err(|_| PemError::NotCertificate)?;
    key_kind(public.id(), public.bits())
}

/// True when the private key is the one whose public half the certificate carries.
pub fn key_matches_certificate(key: &PKey<Private>, cert: &X509) -> bool {
    cert.public_key()
        .map(|public| public.public_eq(key))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssoplane_testkit::pki::*;

    #[test]
    fn matching_pairs_and_mismatches() {
        let k1 = rsa(2048);
        let k2 = rsa(2048);
        let c1 = self_signed(&k1);
        let key = parse_private_key(&key_pem(&k1)).unwrap();
        let cert = parse_certificate(&cert_pem(&c1)).unwrap();
        assert!(key_matches_certificate(&key, &cert));
        let other = parse_private_key(&key_pem(&k2)).unwrap();
        assert!(!key_matches_certificate(&other, &cert));
        let e = ec();
        let ec_key = parse_private_key(&key_pem(&e)).unwrap();
        assert_eq!(private_key_kind(&ec_key).unwrap(), KeyKind::Ec);
    }

    #[test]
    fn refuses_weak_encrypted_and_garbage() {
        assert_eq!(
            parse_private_key(&key_pem(&rsa(1024))).unwrap_err(),
            PemError::WeakRsa(1024)
        );
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(parse_private_key(enc).unwrap_err(), PemError::EncryptedKey);
        assert_eq!(
            parse_private_key("hello").unwrap_err(),
            PemError::NotPrivateKey
        );
        assert_eq!(
            parse_certificate("hello").unwrap_err(),
            PemError::NotCertificate
        );
        let c = cert_pem(&self_signed(&rsa(2048)));
        assert_eq!(
            parse_certificate(&format!("{c}{c}")).unwrap_err(),
            PemError::SeveralCertificates(2)
        );
    }
}
