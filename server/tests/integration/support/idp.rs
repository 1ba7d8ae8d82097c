//! The pysaml2 bridge and a provider wired to it: an independent IdP
//! (pysaml2, signing and encrypting with xmlsec1) that issues real responses
//! for the server under test (through `ssoplane_testkit::idp`), plus helpers
//! to drive logins through the ACS.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub use ssoplane_testkit::idp::pysaml2;

use super::{key_and_cert, Backend, TestServer};

pub const IDP: &str = "https://idp.test";

#[derive(Clone)]
pub struct Idp {
    pub key: String,
    pub cert: String,
}

pub struct Env {
    pub s: TestServer,
    pub idp: Idp,
    pub sp_metadata: String,
}

/// One SAML provider on a test server, with its own pysaml2 IdP (entity ID
/// and signing key): several can share one server, as in production.
#[derive(Clone)]
pub struct Provider {
    pub slug: String,
    /// The IdP's entity ID; its endpoints live under it.
    pub entity: String,
    pub idp: Idp,
    pub sp_metadata: String,
}

pub struct Started {
    pub request_id: String,
    pub browser: String,
}

pub fn cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
        .filter(|v| !v.is_empty())
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl Provider {
    /// Configures provider `slug` on `s`, trusting a fresh IdP key for `entity`.
    pub async fn add(s: &TestServer, slug: &str, entity: &str, extra: Value) -> Provider {
        let (idp_key, idp_cert) = key_and_cert();
        let (sp_key, sp_cert) = key_and_cert();
        let mut settings = json!({
            "enabled": true, "name": format!("Test IdP {slug}"),
            "idp_entity_id": entity, "idp_sso_url": format!("{entity}/sso/redirect"), "idp_certificates": [idp_cert],
            "certificate": sp_cert, "private_key": sp_key, "sign_requests": true,
            "assertion_attribute_groups": "groups",
        });
        for (k, v) in extra.as_object().unwrap() {
            settings[k] = v.clone();
        }
        let r = s
            .admin(Method::PUT, &format!("/api/v1/sso-settings/{slug}"))
            .json(&json!({"settings": settings}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let r = s
            .request(Method::GET, &format!("/saml/{slug}/metadata"), None)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        Provider {
            slug: slug.to_owned(),
            entity: entity.to_owned(),
            idp: Idp {
                key: idp_key,
                cert: idp_cert,
            },
            sp_metadata: r.text().await.unwrap(),
        }
    }

    /// Changes some of the provider's settings (a read-modify-write of the rest).
    pub async fn update(&self, s: &TestServer, changes: Value) {
        let path = format!("/api/v1/sso-settings/{}", self.slug);
        let current: Value = s
            .admin(Method::GET, &path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut settings = current["settings"].clone();
        for (k, v) in changes.as_object().unwrap() {
            settings[k] = v.clone();
        }
        let r = s
            .admin(Method::PUT, &path)
            .json(&json!({"settings": settings}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    fn sp_url(&self, endpoint: &str) -> String {
        format!("https://sso.example.com/saml/{}/{endpoint}", self.slug)
    }

    pub fn base(&self) -> Value {
        json!({"sp_metadata": self.sp_metadata, "idp_key": self.idp.key, "idp_cert": self.idp.cert, "entity_id": self.entity})
    }

    /// SP-initiated start: our AuthnRequest, parsed and signature-checked by pysaml2.
    pub async fn start(&self, s: &TestServer, redirect_to: &str) -> Started {
        let r = no_redirects()
            .get(format!(
                "{}/saml/{}/login?redirect_to={}",
                s.url, self.slug, redirect_to
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
        let browser = cookie(&r, "ssoplane_browser").expect("browser binding cookie");
        let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        assert!(location
            .as_str()
            .starts_with(&format!("{}/sso/redirect?", self.entity)));
        let q: std::collections::HashMap<String, String> =
            location.query_pairs().into_owned().collect();
        let mut input = self.base();
        input["saml_request"] = json!(q["SAMLRequest"]);
        input["binding"] = json!("redirect");
        input["relay_state"] = json!(q.get("RelayState"));
        input["sig_alg"] = json!(q.get("SigAlg"));
        input["signature"] = json!(q.get("Signature"));
        input["want_signed_requests"] = json!(true);
        let parsed = pysaml2("parse-request", input);
        assert_eq!(parsed["acs_url"], self.sp_url("acs"));
        Started {
            request_id: parsed["id"].as_str().unwrap().to_owned(),
            browser,
        }
    }

    /// SP-initiated start without the IdP's parse (and its seconds of
    /// pysaml2 start-up): the request ID read straight from the redirect.
    pub async fn start_unchecked(&self, s: &TestServer, redirect_to: &str) -> Started {
        use base64::Engine;
        use std::io::Read;
        let r = no_redirects()
            .get(format!(
                "{}/saml/{}/login?redirect_to={}",
                s.url, self.slug, redirect_to
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let browser = cookie(&r, "ssoplane_browser").expect("browser binding cookie");
        let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let (_, request) = location
            .query_pairs()
            .find(|(k, _)| k == "SAMLRequest")
            .expect("SAMLRequest");
        let deflated = base64::engine::general_purpose::STANDARD
            .decode(request.as_bytes())
            .unwrap();
        let mut xml = String::new();
        flate2::read::DeflateDecoder::new(&deflated[..])
            .read_to_string(&mut xml)
            .unwrap();
        let id = xml
            .split(" ID=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("AuthnRequest ID")
            .to_owned();
        Started {
            request_id: id,
            browser,
        }
    }

    fn response_input(&self, in_response_to: Option<&str>, overrides: Value) -> Value {
        let mut input = self.base();
        input["in_response_to"] = json!(in_response_to);
        input["destination"] = json!(self.sp_url("acs"));
        input["sp_entity_id"] = json!(self.sp_url("metadata"));
        input["name_id"] = json!("ada-nameid");
        input["identity"] = json!({"uid": ["ada"], "mail": ["ada@example.com"], "displayName": ["Ada Lovelace"], "groups": ["eng", "unknown-group"], "organization": ["Engineering", "R&D"]});
        input["sign_response"] = json!(true);
        for (k, v) in overrides.as_object().unwrap() {
            input[k] = v.clone();
        }
        input
    }

    pub fn response(&self, in_response_to: Option<&str>, overrides: Value) -> String {
        pysaml2("response", self.response_input(in_response_to, overrides))["saml_response"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Several responses from one pysaml2 process.
    pub fn responses(&self, wanted: &[(Option<&str>, Value)]) -> Vec<String> {
        let requests: Vec<Value> = wanted
            .iter()
            .map(|(irt, overrides)| self.response_input(*irt, overrides.clone()))
            .collect();
        pysaml2("responses", json!({ "requests": requests }))["responses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["saml_response"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn post_acs(
        &self,
        s: &TestServer,
        saml_response: &str,
        relay_state: &str,
        browser: Option<&str>,
    ) -> reqwest::Response {
        let mut req = no_redirects()
            .post(format!("{}/saml/{}/acs", s.url, self.slug))
            .form(&[("SAMLResponse", saml_response), ("RelayState", relay_state)]);
        if let Some(b) = browser {
            req = req.header("cookie", format!("ssoplane_browser={b}"));
        }
        req.send().await.unwrap()
    }

    /// A whole SP-initiated login: start, a signed response with `overrides`, ACS.
    pub async fn login(&self, s: &TestServer, overrides: Value) -> reqwest::Response {
        let st = self.start_unchecked(s, "/").await;
        let mut overrides = overrides;
        if overrides.get("sign_assertion").is_none() {
            overrides["sign_assertion"] = json!(true);
        }
        let resp = self.response(Some(&st.request_id), overrides);
        self.post_acs(s, &resp, "", Some(&st.browser)).await
    }

    /// This provider's login events, newest first.
    pub async fn events(&self, s: &TestServer) -> Vec<Value> {
        s.reader(
            Method::GET,
            &format!("/api/v1/login-events?provider={}", self.slug),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    }

    pub async fn last_event(&self, s: &TestServer) -> Value {
        self.events(s).await.swap_remove(0)
    }

    /// A refusal: an error page with a correlation id, no session, a failure
    /// event naming the check; returns the event.
    pub async fn assert_refused(
        &self,
        s: &TestServer,
        resp: reqwest::Response,
        check: &str,
    ) -> Value {
        let status = resp.status();
        assert!(
            status.is_client_error() || status.is_server_error(),
            "expected refusal, got {status}"
        );
        assert!(
            cookie(&resp, "ssoplane_session").is_none(),
            "no session on refusal"
        );
        let cid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let page = resp.text().await.unwrap();
        assert!(
            page.contains(&cid),
            "the error page shows the correlation id"
        );
        let event = self.last_event(s).await;
        assert_eq!(event["outcome"], "failure");
        assert!(
            event["reason"].as_str().unwrap().starts_with(check),
            "expected {check}, got {event}"
        );
        assert_eq!(event["correlation_id"], cid.as_str());
        event
    }
}

impl Env {
    pub async fn new(b: Backend, extra: Value) -> Env {
        let s = TestServer::start(b).await;
        let p = Provider::add(&s, "okta", IDP, extra).await;
        Env {
            s,
            idp: p.idp,
            sp_metadata: p.sp_metadata,
        }
    }

    /// This environment's provider, `okta` at [`IDP`].
    pub fn provider(&self) -> Provider {
        Provider {
            slug: "okta".into(),
            entity: IDP.into(),
            idp: self.idp.clone(),
            sp_metadata: self.sp_metadata.clone(),
        }
    }

    pub fn base(&self) -> Value {
        self.provider().base()
    }

    /// SP-initiated start: our AuthnRequest, parsed and signature-checked by pysaml2.
    pub async fn start(&self, redirect_to: &str) -> Started {
        self.provider().start(&self.s, redirect_to).await
    }

    pub fn response(&self, in_response_to: Option<&str>, overrides: Value) -> String {
        self.provider().response(in_response_to, overrides)
    }

    pub async fn post_acs(
        &self,
        saml_response: &str,
        relay_state: &str,
        browser: Option<&str>,
    ) -> reqwest::Response {
        self.provider()
            .post_acs(&self.s, saml_response, relay_state, browser)
            .await
    }

    pub async fn events(&self) -> Vec<Value> {
        self.provider().events(&self.s).await
    }

    pub async fn last_event(&self) -> Value {
        self.provider().last_event(&self.s).await
    }

    /// A refusal: an error page with a correlation id, no session, a failure event naming the check.
    pub async fn assert_refused(&self, resp: reqwest::Response, check: &str) {
        self.provider().assert_refused(&self.s, resp, check).await;
    }
}
