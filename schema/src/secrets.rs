//! How secrets look from outside: a mask in place of the value and a SHA-256
//! fingerprint so drift on a secret is detectable without revealing it.

use sha2::{Digest, Sha256};

/// What the API returns in place of a set secret. Sending it back in a PUT
/// keeps the stored secret, so a GET → edit → PUT round trip is safe.
pub const MASK: &str = "********";

/// `sha256:<hex>` of the exact bytes of the secret. The provider computes the
/// same from its configuration to detect drift.
pub fn fingerprint(secret: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(secret.as_bytes())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprint_is_stable_sha256() {
        assert_eq!(
            super::fingerprint("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
