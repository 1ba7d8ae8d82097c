//! Decryption of `EncryptedAssertion`s (XML Encryption: RSA-OAEP key
//! transport, AES-CBC or AES-GCM content).
//!
//! Written here rather than left to samael 0.0.22 because its decryption only
//! knows AES-128 and RSA PKCS#1 v1.5 (which we refuse: Bleichenbacher), and its
//! non-namespace-aware parser rejects `KeyInfo` elements whose namespace is
//! declared on an ancestor (as Entra ID, ADFS and pysaml2 write them). The
//! primitives are openssl's; only the XML-Enc plumbing is ours.
//!
//! The decrypted Assertion must carry its own signature: it replaces the
//! EncryptedAssertion in the document, the outer Response signature (checked
//! first, when present) is removed because the replacement breaks it, and the
//! result goes through the full signature verification like any response.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use openssl::symm::{decrypt_aead, Cipher, Crypter, Mode};

use super::ns::{ASSERTION as ASSERTION_NS, DSIG, XENC};
const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecryptError {
    #[error("an encrypted assertion arrived but no decryption key is configured")]
    NoKey,
    #[error("malformed EncryptedAssertion: {0}")]
    Malformed(&'static str),
    #[error("unsupported or refused encryption algorithm {0}")]
    Algorithm(String),
    // One message for every cryptographic failure: distinguishing padding
    // errors from others would hand an attacker a decryption oracle.
    #[error("the encrypted assertion could not be decrypted with our key")]
    Failed,
    #[error("the decrypted content is not a SAML Assertion")]
    NotAssertion,
}

fn child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ns: &[&str],
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| {
        n.is_element()
            && n.tag_name().name() == name
            && n.tag_name().namespace().is_some_and(|x| ns.contains(&x))
    })
}

fn cipher_value(node: roxmltree::Node<'_, '_>) -> Result<Vec<u8>, DecryptError> {
    let value = child(node, &[XENC], "CipherData")
        .and_then(|cd| child(cd, &[XENC], "CipherValue"))
        .and_then(|cv| cv.text())
        .ok_or(DecryptError::Malformed("no CipherValue"))?;
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(compact)
        .map_err(|_| DecryptError::Malformed("CipherValue is not base64"))
}

fn algorithm(node: roxmltree::Node<'_, '_>) -> Result<String, DecryptError> {
    child(node, &[XENC], "EncryptionMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .map(str::to_owned)
        .ok_or(DecryptError::Malformed("no EncryptionMethod"))
}

fn unwrap_key(
    encrypted_key: roxmltree::Node<'_, '_>,
    key: &PKey<Private>,
) -> Result<Vec<u8>, DecryptError> {
    let alg = algorithm(encrypted_key)?;
    let method = child(encrypted_key, &[XENC], "EncryptionMethod")
        .ok_or(DecryptError::Malformed("no EncryptionMethod"))?;
    let digest = match child(method, &[DSIG], "DigestMethod").and_then(|d| d.attribute("Algorithm"))
    {
        None | Some("http://www.w3.org/2000/09/xmldsig#sha1") => MessageDigest::sha1(),
        Some("http://www.w3.org/2001/04/xmlenc#sha256") => MessageDigest::sha256(),
        Some("http://www.w3.org/2001/04/xmlenc#sha512") => MessageDigest::sha512(),
        Some(other) => return Err(DecryptError::Algorithm(other.to_owned())),
    };
    let mgf = match child(method, &[XENC11], "MGF").and_then(|m| m.attribute("Algorithm")) {
        None | Some("http://www.w3.org/2009/xmlenc11#mgf1sha1") => MessageDigest::sha1(),
        Some("http://www.w3.org/2009/xmlenc11#mgf1sha256") => MessageDigest::sha256(),
        Some("http://www.w3.org/2009/xmlenc11#mgf1sha512") => MessageDigest::sha512(),
        Some(other) => return Err(DecryptError::Algorithm(other.to_owned())),
    };
    let mgf = if alg == format!("{XENC}rsa-oaep-mgf1p") {
        MessageDigest::sha1()
    } else if alg == format!("{XENC11}rsa-oaep") {
        mgf
    } else {
        return Err(DecryptError::Algorithm(alg));
    };
    let wrapped = cipher_value(encrypted_key)?;
    let mut ctx = openssl::pkey_ctx::PkeyCtx::new(key).map_err(|_| DecryptError::Failed)?;
    ctx.decrypt_init().map_err(|_| DecryptError::Failed)?;
    ctx.set_rsa_padding(Padding::PKCS1_OAEP)
        .map_err(|_| DecryptError::Failed)?;
    ctx.set_rsa_oaep_md(openssl::md::Md::from_nid(digest.type_()).ok_or(DecryptError::Failed)?)
        .map_err(|_| DecryptError::Failed)?;
    ctx.set_rsa_mgf1_md(openssl::md::Md::from_nid(mgf.type_()).ok_or(DecryptError::Failed)?)
        .map_err(|_| DecryptError::Failed)?;
    let mut out = Vec::new();
    ctx.decrypt_to_vec(&wrapped, &mut out)
        .map_err(|_| DecryptError::Failed)?;
    Ok(out)
}

fn decrypt_content(alg: &str, key: &[u8], data: &[u8]) -> Result<Vec<u8>, DecryptError> {
    let suffix = alg
        .strip_prefix(XENC)
        .or_else(|| alg.strip_prefix(XENC11))
        .unwrap_or("");
    let (cipher, gcm) = match suffix {
        "aes128-cbc" => (Cipher::aes_128_cbc(), false),
        "aes192-cbc" => (Cipher::aes_192_cbc(), false),
        "aes256-cbc" => (Cipher::aes_256_cbc(), false),
        "aes128-gcm" => (Cipher::aes_128_gcm(), true),
        "aes192-gcm" => (Cipher::aes_192_gcm(), true),
        "aes256-gcm" => (Cipher::aes_256_gcm(), true),
        _ => return Err(DecryptError::Algorithm(alg.to_owned())),
    };
    if key.len() != cipher.key_len() {
        return Err(DecryptError::Failed);
    }
    if gcm {
        // IV (12 bytes) || ciphertext || tag (16 bytes).
        if data.len() < 12 + 16 {
            return Err(DecryptError::Failed);
        }
        let (iv, rest) = data.split_at(12);
        let (ct, tag) = rest.split_at(rest.len() - 16);
        return decrypt_aead(cipher, key, Some(iv), &[], ct, tag).map_err(|_| DecryptError::Failed);
    }
    // CBC: IV (16 bytes) || ciphertext, ISO 10126 padding (last byte = pad length),
    // which openssl's PKCS#7 check would reject, so padding is removed here.
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return Err(DecryptError::Failed);
    }
    let (iv, ct) = data.split_at(16);
    let mut c =
        Crypter::new(cipher, Mode::Decrypt, key, Some(iv)).map_err(|_| DecryptError::Failed)?;
    c.pad(false);
    let mut out = vec![0u8; ct.len() + 16];
    let mut n = c.update(ct, &mut out).map_err(|_| DecryptError::Failed)?;
    n += c
        .finalize(&mut out[n..])
        .map_err(|_| DecryptError::Failed)?;
    out.truncate(n);
    let pad = usize::from(*out.last().ok_or(DecryptError::Failed)?);
    if pad == 0 || pad > 16 || pad > out.len() {
        return Err(DecryptError::Failed);
    }
    out.truncate(out.len() - pad);
    Ok(out)
}

/// Decrypts the document's single EncryptedAssertion and returns the document
/// with the plaintext Assertion in its place and the outer Response signature
/// removed. The caller verifies the result like any other response.
pub fn decrypt_response(xml: &str, key: Option<&PKey<Private>>) -> Result<String, DecryptError> {
    let key = key.ok_or(DecryptError::NoKey)?;
    let doc = roxmltree::Document::parse(xml).map_err(|_| DecryptError::Malformed("not XML"))?;
    let ea = doc
        .descendants()
        .find(|n| {
            n.is_element()
                && n.tag_name().name() == "EncryptedAssertion"
                && n.tag_name().namespace() == Some(ASSERTION_NS)
        })
        .ok_or(DecryptError::Malformed("no EncryptedAssertion"))?;
    let data =
        child(ea, &[XENC], "EncryptedData").ok_or(DecryptError::Malformed("no EncryptedData"))?;
    // The EncryptedKey sits in EncryptedData/KeyInfo or beside EncryptedData.
    let encrypted_key = child(data, &[DSIG], "KeyInfo")
        .and_then(|ki| child(ki, &[XENC], "EncryptedKey"))
        .or_else(|| child(ea, &[XENC], "EncryptedKey"))
        .ok_or(DecryptError::Malformed("no EncryptedKey"))?;
    let content_key = unwrap_key(encrypted_key, key)?;
    let plaintext = decrypt_content(&algorithm(data)?, &content_key, &cipher_value(data)?)?;
    let assertion = String::from_utf8(plaintext).map_err(|_| DecryptError::NotAssertion)?;
    let assertion = assertion.trim_start_matches('\u{feff}').trim();
    let assertion = match assertion.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map(|(_, r)| r.trim_start())
            .unwrap_or(""),
        None => assertion,
    };
    {
        let parsed =
            roxmltree::Document::parse(assertion).map_err(|_| DecryptError::NotAssertion)?;
        let root = parsed.root_element();
        if root.tag_name().name() != "Assertion"
            || root.tag_name().namespace() != Some(ASSERTION_NS)
        {
            return Err(DecryptError::NotAssertion);
        }
    }
    // Splice: everything but the outer Signature and the EncryptedAssertion,
    // with the Assertion where the EncryptedAssertion was.
    let outer_sig = doc
        .root_element()
        .children()
        .find(|n| {
            n.is_element()
                && n.tag_name().name() == "Signature"
                && n.tag_name().namespace() == Some(DSIG)
        })
        .map(|n| n.range());
    let mut cuts = vec![(ea.range(), assertion)];
    if let Some(sig) = outer_sig {
        cuts.push((sig, ""));
    }
    cuts.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(xml.len() + assertion.len());
    let mut at = 0;
    for (range, replacement) in cuts {
        out.push_str(&xml[at..range.start]);
        out.push_str(replacement);
        at = range.end;
    }
    out.push_str(&xml[at..]);
    Ok(out)
}
