//! Decryption of XML Encryption content in SAML messages (`EncryptedAssertion`
//! and `EncryptedID`): RSA-OAEP key transport, AES-CBC or AES-GCM content.
//!
//! The primitives are OpenSSL's; the XML-Enc plumbing is ours and works on
//! the very libxml2 document whose signatures were checked: the plaintext
//! goes through the same markup guard as the outer message and replaces the
//! `EncryptedData` element in place (parsed in its parent's namespace
//! context, as XML-Enc decryptors do), so there is one parser and one tree
//! from the raw message to the values the SP acts on. RSA PKCS#1 v1.5 key
//! transport (Bleichenbacher) and 3DES are refused.
//!
//! Whoever calls this must have verified what vouches for the ciphertext
//! first: the Response signature for an EncryptedAssertion whose plaintext
//! carries no signature of its own, the Assertion (or Response) signature
//! for an EncryptedID.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use openssl::symm::{decrypt_aead, Cipher, Crypter, Mode};

use super::ns::{DSIG, XENC};
use super::xml::{Doc, El};
const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

/// Most EncryptedKey elements tried (several recipients may be listed).
const MAX_ENCRYPTED_KEYS: usize = 4;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecryptError {
    #[error("encrypted content arrived but no decryption key is configured")]
    NoKey,
    #[error("malformed encrypted content: {0}")]
    Malformed(&'static str),
    #[error("unsupported or refused encryption algorithm {0}")]
    Algorithm(String),
    // One message for every cryptographic failure: distinguishing padding
    // errors from others would hand an attacker a decryption oracle.
    #[error("the encrypted content could not be decrypted with our key")]
    Failed,
    #[error("the decrypted content is refused: {0}")]
    Markup(#[from] super::guard::GuardError),
    #[error("the decrypted content is not one well-formed {0}")]
    NotElement(&'static str),
}

fn xenc_child<'d>(node: El<'d>, name: &str) -> Option<El<'d>> {
    node.child(XENC, name)
}

fn cipher_value(node: El<'_>) -> Result<Vec<u8>, DecryptError> {
    let value = xenc_child(node, "CipherData")
        .and_then(|cd| xenc_child(cd, "CipherValue"))
        .ok_or(DecryptError::Malformed("no CipherValue"))?
        .text();
    let mut compact = value.into_bytes();
    compact.retain(|b| !b.is_ascii_whitespace());
    B64.decode(compact)
        .map_err(|_| DecryptError::Malformed("CipherValue is not base64"))
}

fn method(node: El<'_>) -> Result<(El<'_>, String), DecryptError> {
    let m = xenc_child(node, "EncryptionMethod")
        .ok_or(DecryptError::Malformed("no EncryptionMethod"))?;
    let alg = m
        .attr("Algorithm")
        .ok_or(DecryptError::Malformed("no EncryptionMethod Algorithm"))?;
    Ok((m, alg))
}

fn unwrap_key(encrypted_key: El<'_>, key: &PKey<Private>) -> Result<Vec<u8>, DecryptError> {
    let (method, alg) = method(encrypted_key)?;
    let digest = match method
        .child(DSIG, "DigestMethod")
        .and_then(|d| d.attr("Algorithm"))
        .as_deref()
    {
        None | Some("http://www.w3.org/2000/09/xmldsig#sha1") => MessageDigest::sha1(),
        Some("http://www.w3.org/2001/04/xmlenc#sha256") => MessageDigest::sha256(),
        Some("http://www.w3.org/2001/04/xmlenc#sha512") => MessageDigest::sha512(),
        Some(other) => return Err(DecryptError::Algorithm(other.to_owned())),
    };
    let mgf = match method
        .child(XENC11, "MGF")
        .and_then(|m| m.attr("Algorithm"))
        .as_deref()
    {
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

/// The plaintext of `container`'s EncryptedData (an EncryptedAssertion or
/// EncryptedID), its content key taken from an EncryptedKey in the
/// EncryptedData's KeyInfo or beside it in the container.
fn plaintext(container: El<'_>, key: &PKey<Private>) -> Result<String, DecryptError> {
    let data = xenc_child(container, "EncryptedData")
        .ok_or(DecryptError::Malformed("no EncryptedData"))?;
    let in_key_info = data
        .child(DSIG, "KeyInfo")
        .into_iter()
        .flat_map(|ki| ki.children().filter(|c| c.is(XENC, "EncryptedKey")));
    let beside = container.children().filter(|c| c.is(XENC, "EncryptedKey"));
    let candidates: Vec<El<'_>> = in_key_info.chain(beside).take(MAX_ENCRYPTED_KEYS).collect();
    if candidates.is_empty() {
        return Err(DecryptError::Malformed("no EncryptedKey"));
    }
    // Several recipients may each have a key; ours is the one that opens.
    let mut first_error = None;
    let mut content_key = None;
    for k in candidates {
        match unwrap_key(k, key) {
            Ok(ck) => {
                content_key = Some(ck);
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let content_key = content_key.ok_or(first_error.unwrap_or(DecryptError::Failed))?;
    let (_, alg) = method(data)?;
    let plain = decrypt_content(&alg, &content_key, &cipher_value(data)?)?;
    let text = String::from_utf8(plain).map_err(|_| DecryptError::NotElement("element"))?;
    // An XML declaration may lead the serialized element; content parsed in
    // context cannot carry one.
    Ok(super::guard::after_xml_declaration(&text).to_owned())
}

/// Decrypts the container `locate` finds in `doc` and puts the plaintext
/// element where its EncryptedData was. The plaintext passes the markup
/// guard first (no DTD, comments or processing instructions) and must be
/// one element named `expect` (namespace, local name).
pub fn decrypt_in_place(
    doc: &mut Doc,
    locate: impl for<'a> Fn(El<'a>) -> Option<El<'a>>,
    key: Option<&PKey<Private>>,
    expect: (&'static str, &'static str),
) -> Result<(), DecryptError> {
    let key = key.ok_or(DecryptError::NoKey)?;
    let text = {
        let root = doc.root().ok_or(DecryptError::Malformed("no root"))?;
        let container = locate(root).ok_or(DecryptError::Malformed("no encrypted element"))?;
        plaintext(container, key)?
    };
    super::guard::check_markup(&text)?;
    doc.replace_with_fragment(|root| xenc_child(locate(root)?, "EncryptedData"), &text)
        .map_err(|_| DecryptError::NotElement(expect.1))?;
    let root = doc.root().ok_or(DecryptError::Malformed("no root"))?;
    let container = locate(root).ok_or(DecryptError::Malformed("no encrypted element"))?;
    if container.children().any(|c| c.is(expect.0, expect.1)) {
        Ok(())
    } else {
        Err(DecryptError::NotElement(expect.1))
    }
}
