//! Checks only the server can make: `*_path` settings name files on the
//! server's file system, which must be readable and hold what they claim.

use serde_json::Value;
use ssoplane_schema::pem;
use ssoplane_schema::validate::path as field_path;

use crate::saml::idp::check_metadata;
use ssoplane_schema::{FieldError, Settings};

fn text<'a>(s: &'a Settings, name: &str) -> &'a str {
    s.get(name).and_then(Value::as_str).unwrap_or("")
}

async fn read(s: &Settings, name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let p = text(s, name);
    if p.is_empty() {
        return None;
    }
    match tokio::fs::read_to_string(p).await {
        Ok(content) => Some(content),
        Err(e) => {
            errors.push(FieldError {
                field: field_path(name),
                message: format!("cannot read {p}: {e}"),
            });
            None
        }
    }
}

pub async fn check_paths(s: &Settings) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let cert = read(s, "certificate_path", &mut errors).await;
    let key = read(s, "private_key_path", &mut errors).await;
    let metadata = read(s, "idp_metadata_path", &mut errors).await;
    let err = |name: &str, message: String| FieldError {
        field: field_path(name),
        message,
    };
    let parsed_cert = cert.as_deref().map(pem::parse_certificate);
    if let Some(Err(e)) = &parsed_cert {
        errors.push(err("certificate_path", format!("the file {e}")));
    }
    let parsed_key = key.as_deref().map(pem::parse_private_key);
    if let Some(Err(e)) = &parsed_key {
        errors.push(err("private_key_path", format!("the file {e}")));
    }
    if let Some(Err(e)) = metadata.as_deref().map(check_metadata) {
        errors.push(err("idp_metadata_path", format!("the file {e}")));
    }
    // The pair may be mixed (inline certificate, key by path, or the reverse);
    // inline pairs were already checked by the shared validation.
    let by_path =
        !text(s, "certificate_path").is_empty() || !text(s, "private_key_path").is_empty();
    if !by_path {
        return errors;
    }
    let cert = match parsed_cert {
        Some(Ok(c)) => Some(c),
        _ => Some(text(s, "certificate"))
            .filter(|t| !t.is_empty())
            .and_then(|t| pem::parse_certificate(t).ok()),
    };
    let key = match parsed_key {
        Some(Ok(k)) => Some(k),
        _ => Some(text(s, "private_key"))
            .filter(|t| !t.is_empty())
            .and_then(|t| pem::parse_private_key(t).ok()),
    };
    if let (Some(cert), Some(key)) = (cert, key) {
        if !pem::key_matches_certificate(&key, &cert) {
            let field = if text(s, "private_key_path").is_empty() {
                "private_key"
            } else {
                "private_key_path"
            };
            errors.push(err(
                field,
                "does not match the certificate: the key is not the certificate's private key"
                    .into(),
            ));
        }
    }
    errors
}
