//! What the console shows of a certificate: who it names, who issued it,
//! and when it expires (with a warning 30 days ahead).

use openssl::asn1::Asn1Time;
use openssl::x509::{X509NameRef, X509};

/// Days before expiry from which a certificate is flagged.
pub const WARN_DAYS: i32 = 30;

pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_after: String,
    /// Whole days left (negative once expired).
    pub days_left: i32,
    pub fingerprint: String,
}

impl CertInfo {
    pub fn expired(&self) -> bool {
        self.days_left < 0
    }

    pub fn expiring(&self) -> bool {
        (0..WARN_DAYS).contains(&self.days_left)
    }
}

fn name(n: &X509NameRef) -> String {
    n.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn describe(cert: &X509) -> CertInfo {
    let days_left = Asn1Time::days_from_now(0)
        .ok()
        .and_then(|now| now.diff(cert.not_after()).ok())
        .map_or(0, |d| {
            if d.secs < 0 && d.days <= 0 {
                d.days - 1
            } else {
                d.days
            }
        });
    let fingerprint = cert
        .digest(openssl::hash::MessageDigest::sha256())
        .map(|d| format!("sha256:{}", hex::encode(d)))
        .unwrap_or_default();
    CertInfo {
        subject: name(cert.subject_name()),
        issuer: name(cert.issuer_name()),
        not_after: cert.not_after().to_string(),
        days_left,
        fingerprint,
    }
}
