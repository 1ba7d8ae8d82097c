//! Encryption of secrets at rest (SP private keys) with AES-256-GCM, on
//! OpenSSL (the implementation the SAML decryptor uses too).
//!
//! The key comes from `SSOPLANE_SECRET_KEY` (64 hex characters or base64 of
//! 32 bytes) or, for the embedded default, from a key file generated on first
//! run. Each ciphertext is bound to its provider and field (AEAD associated
//! data), so ciphertexts cannot be swapped between fields in the database.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use rand::RngCore;

const VERSION_PREFIX: &str = "v1:";
const CHECK_PLAINTEXT: &str = "ssoplane secret key check";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("SSOPLANE_SECRET_KEY must be 32 bytes written as 64 hex characters or as base64")]
    BadKey,
    #[error("the secret key file {path} is unreadable or malformed: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error("a stored secret could not be decrypted: the database was encrypted with another SSOPLANE_SECRET_KEY, or the value was tampered with")]
    Decrypt,
    #[error("SSOPLANE_SECRET_KEY (or server.secret_key_file) is required with PostgreSQL, so every replica shares the key")]
    KeyRequired,
}

pub struct SecretBox {
    key: [u8; 32],
}

impl SecretBox {
    pub fn from_key_bytes(key: &[u8; 32]) -> Self {
        SecretBox { key: *key }
    }

    /// Parses `SSOPLANE_SECRET_KEY`.
    pub fn from_text(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| SecretError::BadKey)?
        } else {
            B64.decode(text).map_err(|_| SecretError::BadKey)?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self::from_key_bytes(&key))
    }

    /// Reads the key file, creating it (mode 0600) with a random key when `create` and it is missing.
    pub fn from_file(path: &Path, create: bool) -> Result<Self, SecretError> {
        let err = |reason: String| SecretError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_text(&text).map_err(|e| err(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let mut key = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                write_private_file(path, B64.encode(key).as_bytes())
                    .map_err(|e| err(e.to_string()))?;
                Ok(Self::from_key_bytes(&key))
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// `v1:` + base64(nonce ‖ ciphertext ‖ tag), the layout of every
    /// value stored since v1.
    pub fn seal(&self, aad: &str, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut tag = [0u8; TAG_LEN];
        // Encryption with a valid key and a fresh nonce cannot fail for inputs
        // of this size; an empty ciphertext would only ever fail to open.
        let ct = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            aad.as_bytes(),
            plaintext.as_bytes(),
            &mut tag,
        )
        .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out.extend_from_slice(&tag);
        format!("{VERSION_PREFIX}{}", B64.encode(out))
    }

    pub fn open(&self, aad: &str, sealed: &str) -> Result<String, SecretError> {
        let body = sealed
            .strip_prefix(VERSION_PREFIX)
            .ok_or(SecretError::Decrypt)?;
        let raw = B64.decode(body).map_err(|_| SecretError::Decrypt)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Decrypt);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let pt = decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(nonce),
            aad.as_bytes(),
            ct,
            tag,
        )
        .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(pt).map_err(|_| SecretError::Decrypt)
    }

    /// A value stored once per database; opening it at start-up proves the key is the right one.
    pub fn key_check(&self) -> String {
        self.seal("key-check", CHECK_PLAINTEXT)
    }

    pub fn verify_key_check(&self, stored: &str) -> Result<(), SecretError> {
        match self.open("key-check", stored) {
            Ok(text) if text == CHECK_PLAINTEXT => Ok(()),
            _ => Err(SecretError::Decrypt),
        }
    }
}

fn write_private_file(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stored_by_earlier_versions_still_open() {
        // Sealed with AES-256-GCM by an independent implementation (Python
        // `cryptography`), in the v1 layout the `aes-gcm` crate wrote.
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let b = SecretBox::from_key_bytes(&key);
        let stored =
            "v1:BwcHBwcHBwcHBwcHIkeLcUJNkrOP0zPQ0hii2vUZrTjNrqw005ZzSF9qFJizcTBiNJmuc0K4Yw==";
        assert_eq!(
            b.open("sso-settings:okta:private_key", stored).unwrap(),
            "-----BEGIN PRIVATE KEY-----"
        );
        assert!(b.open("sso-settings:okta:certificate", stored).is_err());
        let mut flipped = B64.decode(&stored[3..]).unwrap();
        flipped[20] ^= 1;
        let flipped = format!("v1:{}", B64.encode(flipped));
        assert!(b.open("sso-settings:okta:private_key", &flipped).is_err());
        let truncated = format!("v1:{}", B64.encode([0u8; NONCE_LEN + TAG_LEN - 1]));
        assert!(b.open("sso-settings:okta:private_key", &truncated).is_err());
    }

    #[test]
    fn round_trip_and_binding() {
        let b = SecretBox::from_key_bytes(&[7; 32]);
        let sealed = b.seal("okta:private_key", "secret");
        assert_ne!(
            sealed,
            b.seal("okta:private_key", "secret"),
            "fresh nonce each time"
        );
        assert_eq!(b.open("okta:private_key", &sealed).unwrap(), "secret");
        assert!(matches!(
            b.open("other:private_key", &sealed),
            Err(SecretError::Decrypt)
        ));
        let other = SecretBox::from_key_bytes(&[8; 32]);
        assert!(other.open("okta:private_key", &sealed).is_err());
        assert!(other.verify_key_check(&b.key_check()).is_err());
        assert!(b.verify_key_check(&b.key_check()).is_ok());
    }

    #[test]
    fn key_text_forms() {
        assert!(SecretBox::from_text(&"ab".repeat(32)).is_ok());
        assert!(SecretBox::from_text(&B64.encode([1u8; 32])).is_ok());
        assert!(matches!(
            SecretBox::from_text("short"),
            Err(SecretError::BadKey)
        ));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let a = SecretBox::from_file(&path, true).unwrap();
        let b = SecretBox::from_file(&path, false).unwrap();
        assert_eq!(b.open("x", &a.seal("x", "v")).unwrap(), "v");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
