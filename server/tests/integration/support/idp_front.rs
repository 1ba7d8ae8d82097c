//! A web front for the pysaml2 IdP, for browser tests: `GET /sso/redirect`
//! takes the SP's AuthnRequest, has pysaml2 check it (with the requesting
//! SP's metadata, fetched from the server under test) and sign a response
//! for the identity the test chose, and answers with the self-posting form
//! real IdPs use. The identity (and, for hostile cases, the signing key)
//! can be changed between logins.

use std::io::Read;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::response::Html;
use base64::Engine;
use serde_json::{json, Value};

use super::idp::pysaml2;
use super::key_and_cert;

pub struct IdpFront {
    pub entity: String,
    pub key: String,
    pub cert: String,
    /// The server under test, reached directly (SP URLs name its public root).
    server_url: String,
    public_root: String,
    identity: Mutex<Value>,
    /// Signs with this (key, cert) instead, when set: a forged response.
    forged: Mutex<Option<(String, String)>>,
}

impl IdpFront {
    /// Starts the front on a free loopback port, as `http://{host}:{port}`.
    pub async fn start(host: &str, server_url: &str, public_root: &str) -> Arc<IdpFront> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (key, cert) = key_and_cert();
        let front = Arc::new(IdpFront {
            entity: format!("http://{host}:{port}"),
            key,
            cert,
            server_url: server_url.to_owned(),
            public_root: public_root.to_owned(),
            identity: Mutex::new(json!({"uid": ["ada"], "mail": ["ada@example.com"]})),
            forged: Mutex::new(None),
        });
        let app = axum::Router::new()
            .route("/sso/redirect", axum::routing::get(sso))
            .with_state(Arc::clone(&front));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        front
    }

    /// What the next responses assert (attribute name → values).
    pub fn assert_identity(&self, identity: Value) {
        *self.identity.lock().unwrap() = identity;
    }

    /// Sign the next responses with another key than the one the SP trusts.
    pub fn forge(&self, on: bool) {
        *self.forged.lock().unwrap() = on.then(key_and_cert);
    }

    /// Provider settings that point at this IdP.
    pub fn settings(&self) -> Value {
        json!({"idp_entity_id": self.entity, "idp_sso_url": format!("{}/sso/redirect", self.entity),
               "idp_certificates": [self.cert]})
    }
}

/// The Issuer of a Redirect-binding AuthnRequest.
fn issuer_of(saml_request: &str) -> String {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(saml_request)
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&raw[..])
        .read_to_string(&mut xml)
        .unwrap();
    let at = xml.find("Issuer>").unwrap() + "Issuer>".len();
    xml[at..at + xml[at..].find('<').unwrap()].to_owned()
}

async fn sso(
    State(front): State<Arc<IdpFront>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Html<String> {
    let sp_entity = issuer_of(&q["SAMLRequest"]);
    let md_url = sp_entity.replacen(&front.public_root, &front.server_url, 1);
    let sp_metadata = reqwest::get(&md_url).await.unwrap().text().await.unwrap();
    let (key, cert) = front
        .forged
        .lock()
        .unwrap()
        .clone()
        .unwrap_or((front.key.clone(), front.cert.clone()));
    let base = json!({"sp_metadata": sp_metadata, "idp_key": front.key, "idp_cert": front.cert, "entity_id": front.entity});
    let mut input = base.clone();
    input["saml_request"] = json!(q["SAMLRequest"]);
    input["binding"] = json!("redirect");
    input["relay_state"] = json!(q.get("RelayState"));
    input["sig_alg"] = json!(q.get("SigAlg"));
    input["signature"] = json!(q.get("Signature"));
    let identity = front.identity.lock().unwrap().clone();
    let relay = q.get("RelayState").cloned().unwrap_or_default();
    let (acs, saml_response) = tokio::task::spawn_blocking(move || {
        let parsed = pysaml2("parse-request", input);
        let mut r = base;
        r["idp_key"] = json!(key);
        r["idp_cert"] = json!(cert);
        r["in_response_to"] = parsed["id"].clone();
        r["destination"] = parsed["acs_url"].clone();
        r["sp_entity_id"] = parsed["issuer"].clone();
        r["name_id"] = json!("nameid-of-the-test-user");
        r["identity"] = identity;
        r["sign_assertion"] = json!(true);
        let resp = pysaml2("response", r);
        (
            parsed["acs_url"].as_str().unwrap().to_owned(),
            resp["saml_response"].as_str().unwrap().to_owned(),
        )
    })
    .await
    .unwrap();
    let esc = |v: &str| html_escape::encode_double_quoted_attribute(v).into_owned();
    Html(format!(
        "<!doctype html><html lang=\"en\"><title>Test IdP</title><form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\"><input type=\"hidden\" name=\"RelayState\" value=\"{}\"></form><script>document.forms[0].submit()</script></html>",
        esc(&acs),
        esc(&saml_response),
        esc(&relay)
    ))
}
