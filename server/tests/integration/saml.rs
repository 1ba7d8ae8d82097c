//! SAML service provider against a real, independent IdP: pysaml2 (signing
//! and encrypting with xmlsec1) issues the responses; the real server checks
//! them. The happy path runs login → IdP → ACS → session → forward auth;
//! every hostile case must end with an error page and no session.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use support::idp::{cookie, no_redirects, pysaml2, Env, Idp, IDP};
use support::{key_and_cert, Backend, TestServer};

on_both_backends!(
    sp_initiated_login_end_to_end,
    a_login_is_written_whole_and_a_refused_one_is_spent
);

async fn sp_initiated_login_end_to_end(b: Backend) {
    let env = Env::new(
        b,
        json!({"assertion_attribute_org": "organization", "org_mapping": ["Engineering:Dev org\\: platform:Editor", "*:Everyone"]}),
    )
    .await;
    env.s
        .admin(Method::PUT, "/api/v1/groups/eng")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(
        env.sp_metadata.contains("AuthnRequestsSigned=\"true\""),
        "{}",
        env.sp_metadata
    );
    let started = env.start("/app/dashboard").await;
    let resp = env.response(Some(&started.request_id), json!({"sign_assertion": true}));
    let r = env
        .post_acs(&resp, &started.request_id, Some(&started.browser))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(r.headers()["location"], "/app/dashboard");
    let session = cookie(&r, "ssoplane_session").expect("session cookie");
    let set_cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("Secure")
            && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );

    let v = env
        .s
        .client
        .get(format!("{}/auth/verify", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), StatusCode::OK);
    assert_eq!(v.headers()["x-auth-user"], "ada");
    assert_eq!(v.headers()["x-auth-email"], "ada@example.com");
    assert_eq!(
        v.headers()["x-auth-groups"],
        "eng",
        "only existing groups are joined"
    );
    assert_eq!(
        v.headers()["x-auth-orgs"],
        "Dev org%3A platform:editor,Everyone:viewer"
    );
    let me: Value = env
        .s
        .client
        .get(format!("{}/api/v1/me", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Ada Lovelace");
    assert_eq!(
        me["organizations"],
        json!([{"name": "Dev org: platform", "role": "editor"}, {"name": "Everyone", "role": "viewer"}])
    );
    let anon = env
        .s
        .client
        .get(format!("{}/auth/verify", env.s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(env.last_event().await["outcome"], "success");

    // The same response again: the request was consumed and the assertion remembered.
    let again = env
        .post_acs(&resp, &started.request_id, Some(&started.browser))
        .await;
    env.assert_refused(again, "in_response_to").await;

    // Logout ends the session.
    env.s
        .client
        .get(format!("{}/logout", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap();
    let v = env
        .s
        .client
        .get(format!("{}/auth/verify", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), StatusCode::UNAUTHORIZED);
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_responses_are_refused() {
    let env = Env::new(Backend::Sqlite, json!({})).await;

    // Unsigned.
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"sign_response": false, "sign_assertion": false}),
    );
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "validation",
    )
    .await;

    // Signed by a key the SP does not trust.
    let st = env.start("/").await;
    let (k, c) = key_and_cert();
    let resp = env.response(Some(&st.request_id), json!({"idp_key": k, "idp_cert": c}));
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "validation",
    )
    .await;

    // Tampered after signing: another user in the signed NameID.
    let st = env.start("/").await;
    let xml = decode(&env.response(Some(&st.request_id), json!({})));
    let tampered = xml.replace("ada-nameid", "admin-nameid");
    assert_ne!(xml, tampered);
    env.assert_refused(
        env.post_acs(&encode(&tampered), "", Some(&st.browser))
            .await,
        "validation",
    )
    .await;

    // Signature wrapping: a forged assertion beside the signed one.
    let st = env.start("/").await;
    let xml = decode(&env.response(Some(&st.request_id), json!({"sign_assertion": true})));
    let (start, end) = element_span(&xml, "Assertion");
    let forged = xml[start..end]
        .replace("ada-nameid", "admin-nameid")
        .replacen(" ID=\"", " ID=\"forged", 1);
    let wrapped = format!("{}{}{}", &xml[..start], forged, &xml[start..]);
    env.assert_refused(
        env.post_acs(&encode(&wrapped), "", Some(&st.browser)).await,
        "xml_guard",
    )
    .await;
    // ...and inside it.
    let close = xml[..end].rfind("</").unwrap();
    let nested = format!("{}{}{}", &xml[..close], forged, &xml[close..]);
    env.assert_refused(
        env.post_acs(&encode(&nested), "", Some(&st.browser)).await,
        "xml_guard",
    )
    .await;

    // SHA-1 signatures while allow_sha1 is off.
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({"sha1": true}));
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "validation",
    )
    .await;

    // A comment splitting the NameID (canonicalization keeps the signature valid).
    let st = env.start("/").await;
    let xml = decode(&env.response(
        Some(&st.request_id),
        json!({"name_id": "ada@example.com.evil"}),
    ));
    let commented = xml.replace("ada@example.com.evil", "ada@example.com<!---->.evil");
    env.assert_refused(
        env.post_acs(&encode(&commented), "", Some(&st.browser))
            .await,
        "xml_guard",
    )
    .await;

    // DTD with entity expansion.
    let st = env.start("/").await;
    let xml = decode(&env.response(Some(&st.request_id), json!({})));
    let body = xml
        .trim_start_matches(|c| c != '<')
        .splitn(2, "?>")
        .last()
        .unwrap()
        .to_owned();
    let dtd = format!("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>{body}");
    env.assert_refused(
        env.post_acs(&encode(&dtd), "", Some(&st.browser)).await,
        "xml_guard",
    )
    .await;

    // Wrong Destination, wrong Audience.
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"destination": "https://elsewhere.example.com/acs"}),
    );
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "validation",
    )
    .await;
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"sp_entity_id": "https://other-sp.example.com", "sp_metadata": env.sp_metadata.replace("https://sso.example.com/saml/okta/metadata", "https://other-sp.example.com")}),
    );
    env.assert_refused(env.post_acs(&resp, "", Some(&st.browser)).await, "audience")
        .await;

    // Issued by another IdP entity (right key, wrong issuer).
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"entity_id": "https://impostor.test"}),
    );
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "validation",
    )
    .await;

    // InResponseTo of a login another browser started.
    let st = env.start("/").await;
    let other = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({}));
    env.assert_refused(
        env.post_acs(&resp, "", Some(&other.browser)).await,
        "in_response_to",
    )
    .await;
    env.assert_refused(env.post_acs(&resp, "", None).await, "in_response_to")
        .await;

    // Unsolicited while IdP-initiated login is off.
    let resp = env.response(None, json!({}));
    env.assert_refused(env.post_acs(&resp, "", None).await, "unsolicited")
        .await;

    // Garbage, oversized.
    env.assert_refused(env.post_acs("not base64 !!", "", None).await, "encoding")
        .await;
    let big = encode(&format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">{}</samlp:Response>",
        "x".repeat(300 * 1024)
    ));
    let r = env.post_acs(&big, "", None).await;
    assert!(r.status().is_client_error());
    assert!(cookie(&r, "ssoplane_session").is_none());

    let sessions: i64 = {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&env.s.database_url)
            .await
            .unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(sessions, 0, "no hostile response created a session");
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_initiated_rules_replay_and_relay_state() {
    let env = Env::new(Backend::Sqlite, json!({"allow_idp_initiated": true, "allowed_redirect_urls": ["https://*.apps.example.com"]})).await;
    let resp = env.response(None, json!({}));
    let r = env.post_acs(&resp, "/welcome", None).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(r.headers()["location"], "/welcome");
    // The same unsolicited response again: the assertion ID is remembered.
    env.assert_refused(env.post_acs(&resp, "/welcome", None).await, "replay")
        .await;
    // RelayState pointing off-site.
    let resp = env.response(None, json!({}));
    env.assert_refused(
        env.post_acs(&resp, "https://evil.example.net/", None).await,
        "relay_state",
    )
    .await;
    let resp = env.response(None, json!({}));
    let r = env
        .post_acs(&resp, "https://grafana.apps.example.com/d/1", None)
        .await;
    assert_eq!(
        r.headers()["location"],
        "https://grafana.apps.example.com/d/1"
    );
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_responses_are_refused() {
    let env = Env::new(
        Backend::Sqlite,
        json!({"max_issue_delay": "1s", "clock_skew": "0s"}),
    )
    .await;
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({}));
    // Past max_issue_delay: the clock moves, nobody waits.
    env.s.clock.advance(3);
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "validation",
    )
    .await;
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_and_provisioning_rules() {
    let env = Env::new(
        Backend::Sqlite,
        json!({"allowed_groups": ["eng"], "default_group": "everyone"}),
    )
    .await;
    // default_group does not exist yet: a configuration error, logged, no login.
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({"sign_assertion": true}));
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "provisioning",
    )
    .await;
    env.s
        .admin(Method::PUT, "/api/v1/groups/everyone")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({"sign_assertion": true}));
    let r = env.post_acs(&resp, "", Some(&st.browser)).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    // Not in an allowed group.
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"identity": {"uid": ["eve"], "groups": ["sales"]}}),
    );
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "authorization",
    )
    .await;
    // A disabled user cannot log in.
    let users: Value = env
        .s
        .reader(Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = users[0]["id"].as_str().unwrap().to_owned();
    env.s
        .admin(Method::PATCH, &format!("/api/v1/users/{id}"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({}));
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "provisioning",
    )
    .await;
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unencrypted_assertions_are_refused_when_encryption_is_required() {
    let env = Env::new(Backend::Sqlite, json!({"want_assertions_encrypted": true})).await;
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({"sign_assertion": true}));
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "encryption",
    )
    .await;
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_assertions_are_decrypted() {
    let env = Env::new(Backend::Sqlite, json!({"want_assertions_encrypted": true})).await;
    for data_alg in ["aes256-cbc", "aes128-cbc"] {
        for sign_response in [true, false] {
            let st = env.start("/").await;
            let resp = env.response(
                Some(&st.request_id),
                json!({"sign_assertion": true, "sign_response": sign_response, "encrypt_assertion": true,
                       "data_alg": format!("http://www.w3.org/2001/04/xmlenc#{data_alg}")}),
            );
            let r = env.post_acs(&resp, "", Some(&st.browser)).await;
            let status = r.status();
            assert_eq!(
                status,
                StatusCode::SEE_OTHER,
                "{data_alg} signed response {sign_response}: {}",
                env.last_event().await
            );
        }
    }
    // 3DES is refused.
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"sign_assertion": true, "encrypt_assertion": true, "data_alg": "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"}),
    );
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "encryption",
    )
    .await;
    // Only the Response signed: its signature covers the ciphertext, so the
    // plaintext it decrypts to is the IdP's (python3-saml accepts this too).
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"sign_assertion": false, "sign_response": true, "encrypt_assertion": true}),
    );
    let r = env.post_acs(&resp, "", Some(&st.browser)).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        env.last_event().await
    );
    // Nothing signed at all: encryption is no signature (anyone can encrypt
    // to our public key).
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"sign_assertion": false, "sign_response": false, "encrypt_assertion": true}),
    );
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "validation",
    )
    .await;
    // Encrypted to another SP's key.
    let st = env.start("/").await;
    let (_, other_cert) = key_and_cert();
    let b64: String = other_cert
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let ours: String = {
        let start = env
            .sp_metadata
            .find("<ds:X509Certificate>")
            .map(|i| i + "<ds:X509Certificate>".len());
        start
            .map(|i| {
                env.sp_metadata[i..]
                    .split('<')
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .unwrap_or_default()
    };
    let other_md = env.sp_metadata.replace(&ours, &b64);
    let resp = env.response(
        Some(&st.request_id),
        json!({"sign_assertion": true, "encrypt_assertion": true, "sp_metadata": other_md}),
    );
    env.assert_refused(
        env.post_acs(&resp, "", Some(&st.browser)).await,
        "encryption",
    )
    .await;
    env.s.stop().await;
}

/// Byte span of the first element with this local name, whatever its prefix.
fn element_span(xml: &str, local: &str) -> (usize, usize) {
    let open = xml.find(&format!(":{local} ")).expect("element");
    let start = xml[..open].rfind('<').unwrap();
    let prefix = &xml[start + 1..open];
    let closing = format!("</{prefix}:{local}>");
    let end = xml.find(&closing).expect("closing tag") + closing.len();
    (start, end)
}

fn decode(b64: &str) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

fn encode(xml: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(xml)
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Our server's URL for a URL the IdP built with our public root URL.
fn local(env: &Env, public: &str) -> String {
    public.replacen("https://sso.example.com", &env.s.url, 1)
}

async fn login(env: &Env) -> String {
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({"sign_assertion": true}));
    let r = env.post_acs(&resp, "", Some(&st.browser)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    cookie(&r, "ssoplane_session").unwrap()
}

async fn verify_status(env: &Env, session: &str) -> StatusCode {
    env.s
        .client
        .get(format!("{}/auth/verify", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_logout_both_ways() {
    let env = Env::new(
        Backend::Sqlite,
        json!({"single_logout": true, "idp_slo_url": format!("{IDP}/slo")}),
    )
    .await;
    assert!(
        env.sp_metadata.contains("SingleLogoutService"),
        "{}",
        env.sp_metadata
    );
    let slo_url = "https://sso.example.com/saml/okta/slo";

    // IdP-initiated: a signed LogoutRequest ends the session and is answered.
    let session = login(&env).await;
    assert_eq!(verify_status(&env, &session).await, StatusCode::OK);
    let mut input = env.base();
    input["destination"] = json!(slo_url);
    input["sp_entity_id"] = json!("https://sso.example.com/saml/okta/metadata");
    input["name_id"] = json!("ada-nameid");
    input["relay_state"] = json!("rs-1");
    let lr = pysaml2("logout-request", input.clone());
    let r = no_redirects()
        .get(local(&env, lr["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let answer = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        answer.starts_with(&format!("{IDP}/slo?SAMLResponse=")),
        "{answer}"
    );
    assert_eq!(query_of(&answer)["RelayState"], "rs-1");
    assert_eq!(
        verify_status(&env, &session).await,
        StatusCode::UNAUTHORIZED,
        "the session ended"
    );
    let mut read = env.base();
    read["saml_response"] = json!(query_of(&answer)["SAMLResponse"]);
    let parsed = pysaml2("read-logout-response", read);
    assert_eq!(parsed["in_response_to"], lr["id"]);
    assert_eq!(
        parsed["status"],
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );

    // Unsigned or tampered LogoutRequests end nothing.
    let session = login(&env).await;
    let mut unsigned = input.clone();
    unsigned["sign"] = json!(false);
    let lr = pysaml2("logout-request", unsigned);
    let r = no_redirects()
        .get(local(&env, lr["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let lr = pysaml2("logout-request", input.clone());
    let tampered = lr["url"]
        .as_str()
        .unwrap()
        .replace("RelayState=rs-1", "RelayState=rs-2");
    let r = no_redirects()
        .get(local(&env, &tampered))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        verify_status(&env, &session).await,
        StatusCode::OK,
        "refused logouts end nothing"
    );

    // SP-initiated: /logout → our signed LogoutRequest → the IdP's LogoutResponse.
    let r = no_redirects()
        .get(format!("{}/logout", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/saml/okta/slo");
    let r = no_redirects()
        .get(format!("{}/saml/okta/slo", env.s.url))
        .header(
            "cookie",
            format!("ssoplane_session={session}; ssoplane_browser=browser_for_logout_0001"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        verify_status(&env, &session).await,
        StatusCode::UNAUTHORIZED,
        "local session ends at once"
    );
    let to_idp = r.headers()["location"].to_str().unwrap().to_owned();
    let q = query_of(&to_idp);
    let mut answer_in = env.base();
    answer_in["saml_request"] = json!(q["SAMLRequest"]);
    answer_in["relay_state"] = json!(q.get("RelayState"));
    answer_in["sig_alg"] = json!(q.get("SigAlg"));
    answer_in["signature"] = json!(q.get("Signature"));
    answer_in["destination"] = json!(slo_url);
    let answered = pysaml2("answer-logout", answer_in);
    assert_eq!(answered["name_id"], "ada-nameid");
    let back = local(&env, answered["url"].as_str().unwrap());
    let r = no_redirects()
        .get(&back)
        .header("cookie", "ssoplane_browser=browser_for_logout_0001")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // The same LogoutResponse again, or from another browser: refused.
    let r = no_redirects()
        .get(&back)
        .header("cookie", "ssoplane_browser=browser_for_logout_0001")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    env.s.stop().await;
}

fn cert_b64(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// An IdP entity whose keys are (certificate, KeyDescriptor `use`).
fn idp_entity(entity_id: &str, certs: &[(&str, Option<&str>)]) -> String {
    let keys: String = certs
        .iter()
        .map(|(c, usage)| {
            let usage = usage.map(|u| format!(" use=\"{u}\"")).unwrap_or_default();
            format!("<md:KeyDescriptor{usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>", cert_b64(c))
        })
        .collect();
    format!(
        "<md:EntityDescriptor entityID=\"{entity_id}\"><md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{keys}\
         <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{entity_id}/sso/redirect\"/></md:IDPSSODescriptor></md:EntityDescriptor>"
    )
}

/// Serves IdP metadata over HTTP on loopback, as an IdP's metadata URL would.
async fn serve_metadata(xml: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/federationmetadata.xml",
        axum::routing::get(move || {
            let xml = xml.clone();
            async move { ([("content-type", "application/samlmetadata+xml")], xml) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/federationmetadata.xml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_url_with_several_entities_and_certificate_rotation() {
    let (old_key, old_cert) = key_and_cert();
    let (new_key, new_cert) = key_and_cert();
    let (_, other_cert) = key_and_cert();
    let (enc_key, enc_cert) = key_and_cert();
    // Mid-rotation: the old key marked for signing, the new one with no
    // `use` (signing and encryption), and an encryption-only key.
    let xml = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">{}{}</md:EntitiesDescriptor>",
        idp_entity("https://other-idp.test", &[(&other_cert, Some("signing"))]),
        idp_entity(
            IDP,
            &[(&old_cert, Some("signing")), (&new_cert, None), (&enc_cert, Some("encryption"))]
        ),
    );
    let url = serve_metadata(xml).await;
    let env = Env::new(
        Backend::Sqlite,
        json!({"idp_sso_url": null, "idp_certificates": null, "idp_entity_id": IDP, "idp_metadata_url": url}),
    )
    .await;
    // Both the outgoing and the incoming signing certificate are trusted during a rotation.
    for (key, cert) in [(&old_key, &old_cert), (&new_key, &new_cert)] {
        let st = env.start("/").await;
        let resp = env.response(
            Some(&st.request_id),
            json!({"idp_key": key, "idp_cert": cert}),
        );
        let r = env.post_acs(&resp, "", Some(&st.browser)).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            env.last_event().await
        );
    }
    // Neither an encryption-only key nor an unknown one is trusted for signing.
    let (k, c) = key_and_cert();
    for (key, cert) in [(&enc_key, &enc_cert), (&k, &c)] {
        let st = env.start("/").await;
        let resp = env.response(
            Some(&st.request_id),
            json!({"idp_key": key, "idp_cert": cert}),
        );
        env.assert_refused(
            env.post_acs(&resp, "", Some(&st.browser)).await,
            "validation",
        )
        .await;
    }
    env.s.stop().await;

    // Without idp_entity_id the choice is ambiguous: the provider refuses to run, and says why.
    let url = serve_metadata(format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">{}{}</md:EntitiesDescriptor>",
        idp_entity("https://a.test", &[(&old_cert, Some("signing"))]),
        idp_entity("https://b.test", &[(&new_cert, None)]),
    ))
    .await;
    let s = TestServer::start(Backend::Sqlite).await;
    let r = s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({"settings": {"enabled": true, "idp_metadata_url": url}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = no_redirects()
        .get(format!("{}/saml/okta/login", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Our own metadata does not depend on the IdP: the IdP needs it first.
    let r = s
        .request(Method::GET, "/saml/okta/metadata", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // ...nor on the provider being enabled; logins do.
    s.admin(Method::PUT, "/api/v1/sso-settings/staged")
        .json(&json!({"settings": {"enabled": false}}))
        .send()
        .await
        .unwrap();
    let r = s
        .request(Method::GET, "/saml/staged/metadata", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("https://sso.example.com/saml/staged/acs"));
    let r = no_redirects()
        .get(format!("{}/saml/staged/login", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = s
        .request(Method::GET, "/saml/nobody/metadata", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_page_hints_auto_login_and_post_binding() {
    let env = Env::new(
        Backend::Sqlite,
        json!({"binding": "HTTP-POST", "signature_algorithm": "rsa-sha512", "idp_sso_url": format!("{IDP}/sso/post")}),
    )
    .await;
    env.s.admin(Method::PUT, "/api/v1/sso-settings/entra").json(&json!({"settings": {"enabled": true, "name": "Entra <ID>", "idp_metadata": support::idp_metadata_b64()}})).send().await.unwrap();
    env.s
        .admin(Method::PUT, "/api/v1/sso-settings/off")
        .json(&json!({"settings": {"enabled": false, "name": "Disabled one"}}))
        .send()
        .await
        .unwrap();
    let page = no_redirects()
        .get(format!("{}/login?redirect_to=/app", env.s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Sign in with Test IdP") && html.contains("Sign in with Entra &lt;ID&gt;"),
        "{html}"
    );
    assert!(!html.contains("Disabled one"));
    assert!(html.contains("/saml/okta/login?redirect_to=%2Fapp"));
    let r = no_redirects()
        .get(format!("{}/login?idp_hint=okta", env.s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/saml/okta/login");
    let r = no_redirects()
        .get(format!("{}/login?noSSO=true", env.s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "break-glass login is off unless enabled"
    );

    // HTTP-POST binding: an auto-submitting form carrying an XML-signed AuthnRequest (RSA-SHA512).
    let r = no_redirects()
        .get(format!("{}/saml/okta/login", env.s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("form-action https://idp.test"), "{csp}");
    let browser = cookie(&r, "ssoplane_browser").unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("action=\"https://idp.test/sso/post\""),
        "{html}"
    );
    let value = html
        .split("name=\"SAMLRequest\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let xml = decode(&value);
    assert!(
        xml.contains("rsa-sha512") && xml.contains("SignatureValue"),
        "{xml}"
    );
    let mut input = env.base();
    input["saml_request"] = json!(value);
    input["binding"] = json!("post");
    input["want_signed_requests"] = json!(true);
    let parsed = pysaml2("parse-request", input);
    let resp = env.response(Some(parsed["id"].as_str().unwrap()), json!({}));
    let r = env.post_acs(&resp, "", Some(&browser)).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        env.last_event().await
    );

    // auto_login on exactly one provider skips the page.
    let mut settings: Value = env
        .s
        .reader(Method::GET, "/api/v1/sso-settings/okta")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["settings"]["auto_login"] = json!(true);
    let r = env
        .s
        .admin(Method::PUT, "/api/v1/sso-settings/okta")
        .json(&json!({"settings": settings["settings"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = no_redirects()
        .get(format!("{}/login", env.s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/saml/okta/login");
    env.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle() {
    let env = Env::new(Backend::Sqlite, json!({})).await;
    env.s.stop().await;
    let env = {
        let s = TestServer::start_with(Backend::Sqlite, |c| {
            c.server.session_idle_timeout = "2s".into()
        })
        .await;
        let (idp_key, idp_cert) = (env.idp.key.clone(), env.idp.cert.clone());
        let (sp_key, sp_cert) = key_and_cert();
        let settings = json!({"enabled": true, "idp_entity_id": IDP, "idp_sso_url": format!("{IDP}/sso/redirect"), "idp_certificates": [idp_cert],
                              "certificate": sp_cert, "private_key": sp_key, "sign_requests": true});
        s.admin(Method::PUT, "/api/v1/sso-settings/okta")
            .json(&json!({"settings": settings}))
            .send()
            .await
            .unwrap();
        let sp_metadata = s
            .request(Method::GET, "/saml/okta/metadata", None)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        Env {
            s,
            idp: Idp {
                key: idp_key,
                cert: idp_cert,
            },
            sp_metadata,
        }
    };
    let session = login(&env).await;
    assert_eq!(verify_status(&env, &session).await, StatusCode::OK);
    // Past the idle timeout: the clock moves, nobody waits.
    env.s.clock.advance(3);
    assert_eq!(
        verify_status(&env, &session).await,
        StatusCode::UNAUTHORIZED
    );
    env.s.stop().await;
}

/// The example nginx config in examples/nginx protects an app with /auth/verify, for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_forward_auth_example_protects_an_app() {
    let Some(nginx) = ssoplane_testkit::nginx::binary() else {
        return;
    };
    let env = Env::new(Backend::Sqlite, json!({})).await;
    let session = login(&env).await;

    // The protected app echoes the identity headers it receives.
    let app_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_addr = app_listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|headers: axum::http::HeaderMap| async move {
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        format!(
            "user={} email={} role={}",
            h("x-auth-user"),
            h("x-auth-email"),
            h("x-auth-role")
        )
    });
    tokio::spawn(async move { axum::serve(app_listener, app).await.unwrap() });

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/nginx/forward-auth.conf"
    ))
    .unwrap();
    let site = example
        .replace("127.0.0.1:8080", env.s.url.trim_start_matches("http://"))
        .replace("127.0.0.1:3000", &app_addr.to_string())
        .replace("127.0.0.1:8443", &format!("127.0.0.1:{port}"));
    let _nginx = ssoplane_testkit::nginx::Nginx::start(nginx, &site, port);
    let base = format!("http://127.0.0.1:{port}");
    let client = no_redirects();

    // No session: off to the login page, even with forged identity headers.
    let r = client
        .get(format!("{base}/reports?q=1"))
        .header("x-auth-user", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("http://127.0.0.1:{port}/login?redirect_to=/reports?q=1")
    );
    // A session: the app sees who it is, and a forged header is overwritten.
    let r = client
        .get(format!("{base}/reports"))
        .header("cookie", format!("ssoplane_session={session}"))
        .header("x-auth-user", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.text().await.unwrap(),
        "user=ada email=ada@example.com role=viewer"
    );
    // The login page is served through the proxy too.
    let r = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    env.s.stop().await;
}

/// The XML of an HTTP-Redirect binding message (`param` of `url`).
fn inflated(url: &str, param: &str) -> String {
    use base64::Engine;
    use std::io::Read;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&query_of(url)[param])
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&raw[..])
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// Validated by pysaml2's copy of the OASIS XSDs (with xmlschema: an
/// implementation independent of our libxml2).
fn assert_schema_valid(xml: &str, schema: &str) {
    let out = pysaml2("validate-schema", json!({"xml": xml, "schema": schema}));
    assert!(out["error"].is_null(), "{xml}\n{}", out["error"]);
}

/// The value of a hidden form field on an auto-submitting page.
fn form_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap() + marker.len();
    let end = start + page[start..].find('"').unwrap();
    html_escape::decode_html_entities(&page[start..end]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_we_send_is_schema_valid() {
    let env = Env::new(
        Backend::Sqlite,
        json!({"single_logout": true, "idp_slo_url": format!("{IDP}/slo"), "force_authn": true,
               "authn_context": ["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"],
               "authn_context_comparison": "minimum"}),
    )
    .await;
    // SP metadata (signing and encryption keys, SLO, NameIDFormat, ACS).
    assert_schema_valid(&env.sp_metadata, "metadata");

    // AuthnRequest, HTTP-Redirect (signed query).
    let r = no_redirects()
        .get(format!("{}/saml/okta/login", env.s.url))
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let request = inflated(&location, "SAMLRequest");
    assert!(request.contains("ForceAuthn=\"true\""), "{request}");
    assert_schema_valid(&request, "protocol");

    // LogoutRequest (SP-initiated) and LogoutResponse (IdP-initiated).
    let session = login(&env).await;
    let r = no_redirects()
        .get(format!("{}/saml/okta/slo", env.s.url))
        .header("cookie", format!("ssoplane_session={session}"))
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let logout = inflated(&location, "SAMLRequest");
    assert!(logout.contains("<samlp:SessionIndex>"), "{logout}");
    assert_schema_valid(&logout, "protocol");
    let mut input = env.base();
    input["destination"] = json!("https://sso.example.com/saml/okta/slo");
    input["sp_entity_id"] = json!("https://sso.example.com/saml/okta/metadata");
    input["name_id"] = json!("ada-nameid");
    let lr = pysaml2("logout-request", input);
    let r = no_redirects()
        .get(local(&env, lr["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_schema_valid(&inflated(&location, "SAMLResponse"), "protocol");

    // AuthnRequest, HTTP-POST (enveloped signature), every signing algorithm.
    for alg in ["rsa-sha256", "rsa-sha512"] {
        let (key, cert) = key_and_cert();
        let r = env
            .s
            .admin(Method::PUT, "/api/v1/sso-settings/post")
            .json(&json!({"settings": {"enabled": true, "idp_entity_id": IDP, "idp_sso_url": format!("{IDP}/sso/post"),
                "idp_certificates": [env.idp.cert], "binding": "HTTP-POST", "sign_requests": true,
                "certificate": cert, "private_key": key, "signature_algorithm": alg}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let page = no_redirects()
            .get(format!("{}/saml/post/login", env.s.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let xml = decode(&form_field(&page, "SAMLRequest"));
        assert!(xml.contains("<ds:Signature"), "{xml}");
        assert_schema_valid(&xml, "protocol");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_name_ids_are_decrypted() {
    let env = Env::new(Backend::Sqlite, json!({})).await;
    // Signed Response; then signed Assertion only: the signature covers
    // the ciphertext either way.
    for overrides in [
        json!({"encrypt_name_id": true}),
        json!({"encrypt_name_id": true, "sign_response": false, "sign_assertion": true}),
    ] {
        let st = env.start("/").await;
        let resp = env.response(Some(&st.request_id), overrides.clone());
        assert!(decode(&resp).contains("EncryptedID"), "{}", decode(&resp));
        assert!(!decode(&resp).contains("ada-nameid"));
        let r = env.post_acs(&resp, "", Some(&st.browser)).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{overrides}: {}",
            r.text().await.unwrap()
        );
    }
    // A tampered ciphertext under a valid signature cannot get in: the
    // signature no longer holds.
    let st = env.start("/").await;
    let xml = decode(&env.response(
        Some(&st.request_id),
        json!({"encrypt_name_id": true, "sign_assertion": true, "sign_response": false}),
    ));
    let at = xml
        .find("<xenc:CipherValue>")
        .or_else(|| xml.find("CipherValue>"))
        .unwrap();
    let value_start = xml[at..].find('>').unwrap() + at + 1;
    let flipped = if &xml[value_start..value_start + 1] == "A" {
        "B"
    } else {
        "A"
    };
    let tampered = format!(
        "{}{flipped}{}",
        &xml[..value_start],
        &xml[value_start + 1..]
    );
    let r = env
        .post_acs(&encode(&tampered), "", Some(&st.browser))
        .await;
    env.assert_refused(r, "validation").await;
}

/// Another SP-initiated login in a browser that already has one pending;
/// returns the new request's ID.
async fn start_in_browser(env: &Env, browser: &str) -> String {
    let r = no_redirects()
        .get(format!("{}/saml/okta/login", env.s.url))
        .header("cookie", format!("ssoplane_browser={browser}"))
        .send()
        .await
        .unwrap();
    assert_eq!(cookie(&r, "ssoplane_browser").as_deref(), Some(browser));
    let request = inflated(r.headers()["location"].to_str().unwrap(), "SAMLRequest");
    let at = request.find(" ID=\"").unwrap() + 5;
    request[at..at + request[at..].find('"').unwrap()].to_owned()
}

/// SAML core rules beyond signatures, each on a response the IdP really
/// signed (edited before signing), so only the rule can refuse it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_core_semantics_are_enforced() {
    let env = Env::new(Backend::Sqlite, json!({})).await;
    let ours = "<ns1:AudienceRestriction><ns1:Audience>https://sso.example.com/saml/okta/metadata</ns1:Audience></ns1:AudienceRestriction>";
    let other = "<ns1:AudienceRestriction><ns1:Audience>https://other-sp.example/metadata</ns1:Audience></ns1:AudienceRestriction>";
    let refused: &[(&str, Value, &str)] = &[
        // Every AudienceRestriction must hold (SAML core 2.5.1.4).
        (
            "two audience restrictions, one for another SP",
            json!([[ours, format!("{ours}{other}")]]),
            "audience",
        ),
        (
            "another SP's restriction first",
            json!([[ours, format!("{other}{ours}")]]),
            "audience",
        ),
        // A condition we do not understand invalidates the assertion.
        (
            "unknown Condition",
            json!([[
                ours,
                format!("{ours}<ns1:Condition xsi:type=\"ns1:Delegate\"/>")
            ]]),
            "validation",
        ),
        (
            "unknown element in Conditions",
            json!([[ours, format!("{ours}<ns2:Extra xmlns:ns2=\"urn:x\"/>")]]),
            "validation",
        ),
        // Version="2.0" on Response and Assertion.
        (
            "Response Version 2.1",
            json!([[
                "Version=\"2.0\" IssueInstant",
                "Version=\"2.1\" IssueInstant"
            ]]),
            "validation",
        ),
        (
            "Assertion without Version",
            json!([["<ns1:Assertion Version=\"2.0\"", "<ns1:Assertion"]]),
            "validation",
        ),
    ];
    for (what, edits, check) in refused {
        let st = env.start("/").await;
        let resp = env.response(
            Some(&st.request_id),
            json!({"edits": edits, "sign_assertion": true}),
        );
        let r = env.post_acs(&resp, "", Some(&st.browser)).await;
        println!("{what}");
        env.assert_refused(r, check).await;
        let reason = env.last_event().await["reason"]
            .as_str()
            .unwrap()
            .to_owned();
        println!("  -> {reason}");
    }

    // The Response's InResponseTo and the bearer confirmation's must agree,
    // even when both name requests this browser started.
    let st = env.start("/").await;
    let second = start_in_browser(&env, &st.browser).await;
    let xml_marker = format!("InResponseTo=\"{}\" />", st.request_id);
    let resp = env.response(
        Some(&st.request_id),
        json!({"edits": [[xml_marker, format!("InResponseTo=\"{second}\" />")]], "sign_assertion": true}),
    );
    let r = env.post_acs(&resp, "", Some(&st.browser)).await;
    env.assert_refused(r, "validation").await;

    // OneTimeUse and ProxyRestriction are understood: accepted (OneTimeUse
    // is what the replay store guarantees anyway).
    let st = env.start("/").await;
    let resp = env.response(
        Some(&st.request_id),
        json!({"edits": [[ours, format!("{ours}<ns1:OneTimeUse/><ns1:ProxyRestriction Count=\"0\"/>")]], "sign_assertion": true}),
    );
    let r = env.post_acs(&resp, "", Some(&st.browser)).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        env.last_event().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_state_is_size_capped() {
    let env = Env::new(
        Backend::Sqlite,
        json!({"allow_idp_initiated": true, "single_logout": true, "idp_slo_url": format!("{IDP}/slo")}),
    )
    .await;
    // What we send stays within SAML's 80 bytes.
    let r = no_redirects()
        .get(format!(
            "{}/saml/okta/login?redirect_to=/{}",
            env.s.url,
            "a".repeat(2000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let sent = query_of(r.headers()["location"].to_str().unwrap())["RelayState"].clone();
    assert!(sent.len() <= 80, "{sent}");
    // What we accept is capped at a few KiB, with a precise error.
    let r = no_redirects()
        .get(format!(
            "{}/saml/okta/login?redirect_to=/{}",
            env.s.url,
            "a".repeat(5000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("too long"));
    let resp = env.response(None, json!({}));
    let long = format!("/{}", "a".repeat(5000));
    env.assert_refused(env.post_acs(&resp, &long, None).await, "relay_state")
        .await;
    // An IdP's LogoutRequest whose RelayState we would have to send back
    // oversized is refused, not echoed into a Location header.
    let mut input = env.base();
    input["destination"] = json!("https://sso.example.com/saml/okta/slo");
    input["sp_entity_id"] = json!("https://sso.example.com/saml/okta/metadata");
    input["name_id"] = json!("ada-nameid");
    input["relay_state"] = json!("r".repeat(81));
    let lr = pysaml2("logout-request", input);
    let r = no_redirects()
        .get(local(&env, lr["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
}

/// The same-site resubmission keeps the browser binding: the second POST
/// still has to carry the cookie of the browser that started the login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_without_the_cookie_are_resubmitted_not_trusted() {
    let env = Env::new(Backend::Sqlite, json!({})).await;
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({}));
    let post = |fields: Vec<(&'static str, String)>, cookie: Option<String>| {
        let mut req = no_redirects()
            .post(format!("{}/saml/okta/acs", env.s.url))
            .header("origin", "https://idp.test")
            .form(&fields);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("ssoplane_browser={c}"));
        }
        req.send()
    };
    // The IdP's cross-site POST without the cookie gets the same-site step.
    let r = post(
        vec![("SAMLResponse", resp.clone()), ("RelayState", "x".into())],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(cookie(&r, "ssoplane_session").is_none());
    let page = r.text().await.unwrap();
    assert_eq!(form_field(&page, "SAMLResponse"), resp);
    assert_eq!(form_field(&page, "ssoplane_resubmitted"), "1");
    assert!(page.contains("action=\"https://sso.example.com/saml/okta/acs\""));
    // Resubmitted, still without the cookie: refused, and says why.
    let r = post(
        vec![
            ("SAMLResponse", resp.clone()),
            ("ssoplane_resubmitted", "1".into()),
        ],
        None,
    )
    .await
    .unwrap();
    env.assert_refused(r, "in_response_to").await;
    assert!(env.last_event().await["reason"]
        .as_str()
        .unwrap()
        .contains("did not send its sign-in cookie"));
    // Resubmitted with another browser's cookie: the binding refuses it.
    let other = env.start("/").await;
    let r = post(
        vec![
            ("SAMLResponse", resp.clone()),
            ("ssoplane_resubmitted", "1".into()),
        ],
        Some(other.browser),
    )
    .await
    .unwrap();
    env.assert_refused(r, "in_response_to").await;
    // With this browser's cookie it is the login it always was.
    let r = post(
        vec![("SAMLResponse", resp), ("ssoplane_resubmitted", "1".into())],
        Some(st.browser),
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        env.last_event().await
    );
}

/// The SessionIndex pysaml2 put in a response.
fn session_index_of(saml_response: &str) -> String {
    let xml = decode(saml_response);
    let at = xml.find("SessionIndex=\"").unwrap() + "SessionIndex=\"".len();
    xml[at..at + xml[at..].find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_logout_honours_name_id_and_session_index() {
    let env = Env::new(
        Backend::Sqlite,
        json!({"single_logout": true, "idp_slo_url": format!("{IDP}/slo")}),
    )
    .await;
    let sp = "https://sso.example.com/saml/okta/metadata";
    let persistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    let subject = json!({"name_id": "ada-pid", "name_id_format": persistent,
                         "name_qualifier": IDP, "sp_name_qualifier": sp, "sign_assertion": true});
    let e = &env;
    let sign_in = |overrides: Value| async move {
        let st = e.start("/").await;
        let resp = e.response(Some(&st.request_id), overrides);
        let r = e.post_acs(&resp, "", Some(&st.browser)).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            e.last_event().await
        );
        (
            cookie(&r, "ssoplane_session").unwrap(),
            session_index_of(&resp),
        )
    };
    let (first, first_index) = sign_in(subject.clone()).await;
    let (second, _) = sign_in(subject.clone()).await;
    let (third, _) = sign_in(subject.clone()).await;

    // IdP-initiated, naming one SessionIndex: only that session ends.
    let idp_logout = |indexes: Value| {
        let mut input = env.base();
        input["destination"] = json!("https://sso.example.com/saml/okta/slo");
        input["sp_entity_id"] = json!(sp);
        for k in [
            "name_id",
            "name_id_format",
            "name_qualifier",
            "sp_name_qualifier",
        ] {
            input[k] = subject[k].clone();
        }
        input["session_indexes"] = indexes;
        pysaml2("logout-request", input)
    };
    let lr = idp_logout(json!([first_index]));
    let r = no_redirects()
        .get(local(&env, lr["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(verify_status(&env, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(verify_status(&env, &second).await, StatusCode::OK);
    assert_eq!(verify_status(&env, &third).await, StatusCode::OK);

    // SP-initiated from the second session: our LogoutRequest echoes the
    // NameID exactly as asserted (Format and qualifiers) with its
    // SessionIndex, and pysaml2 (which keys sessions on the whole NameID)
    // reads it so.
    let r = no_redirects()
        .get(format!("{}/saml/okta/slo", env.s.url))
        .header("cookie", format!("ssoplane_session={second}"))
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let q = query_of(&location);
    let mut input = env.base();
    input["saml_request"] = json!(q["SAMLRequest"]);
    input["relay_state"] = json!(q.get("RelayState"));
    input["sig_alg"] = json!(q.get("SigAlg"));
    input["signature"] = json!(q.get("Signature"));
    input["destination"] = json!("https://sso.example.com/saml/okta/slo");
    let answered = pysaml2("answer-logout", input);
    assert_eq!(answered["name_id"], "ada-pid");
    assert_eq!(answered["name_id_format"], persistent);
    assert_eq!(answered["name_qualifier"], IDP);
    assert_eq!(answered["sp_name_qualifier"], sp);
    assert_eq!(answered["session_indexes"].as_array().unwrap().len(), 1);
    assert_eq!(verify_status(&env, &second).await, StatusCode::UNAUTHORIZED);
    assert_eq!(verify_status(&env, &third).await, StatusCode::OK);

    // IdP-initiated without SessionIndex: every session of the NameID ends.
    let lr = idp_logout(json!(null));
    let r = no_redirects()
        .get(local(&env, lr["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(verify_status(&env, &third).await, StatusCode::UNAUTHORIZED);
}

/// An accepted response writes its request, assertion ID, user, session and
/// event in one transaction: a response refused after verification (here
/// by provisioning) is still spent, so it cannot come back once the
/// settings allow it; of two racing posts of one response exactly one
/// signs in; a login leaves one success event with its correlation id.
async fn a_login_is_written_whole_and_a_refused_one_is_spent(b: Backend) {
    let env = Env::new(b, json!({"default_group": "everyone"})).await;
    // Refused by provisioning: default_group does not exist yet.
    let st = env.start("/").await;
    let refused = env.response(Some(&st.request_id), json!({}));
    env.assert_refused(
        env.post_acs(&refused, "", Some(&st.browser)).await,
        "provisioning",
    )
    .await;
    let r = env
        .s
        .admin(Method::PUT, "/api/v1/groups/everyone")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    // Now it would provision, but its request was spent when it was refused.
    env.assert_refused(
        env.post_acs(&refused, "", Some(&st.browser)).await,
        "in_response_to",
    )
    .await;

    // Two posts of one response at once: one session, one replay.
    let st = env.start("/").await;
    let resp = env.response(Some(&st.request_id), json!({}));
    let (a, b2) = tokio::join!(
        env.post_acs(&resp, "", Some(&st.browser)),
        env.post_acs(&resp, "", Some(&st.browser))
    );
    let (won, lost) = if a.status() == StatusCode::SEE_OTHER {
        (a, b2)
    } else {
        (b2, a)
    };
    assert_eq!(won.status(), StatusCode::SEE_OTHER);
    assert!(cookie(&won, "ssoplane_session").is_some());
    let cid = won.headers()["x-request-id"].to_str().unwrap().to_owned();
    // Refused as a replay, or (had the winner committed before its read
    // of the pending requests) as answering no pending request.
    assert_eq!(lost.status(), StatusCode::FORBIDDEN);
    assert!(cookie(&lost, "ssoplane_session").is_none());

    let events = env.events().await;
    let successes: Vec<&Value> = events
        .iter()
        .filter(|e| e["outcome"] == "success")
        .collect();
    assert_eq!(successes.len(), 1, "{events:#?}");
    assert_eq!(successes[0]["correlation_id"], cid.as_str());
    assert!(successes[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("role "));
    let failures: Vec<&str> = events
        .iter()
        .filter(|e| e["outcome"] == "failure")
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        failures.len(),
        3,
        "provisioning, then two replays: {events:#?}"
    );
    for reason in failures {
        assert!(
            ["provisioning", "in_response_to", "replay"]
                .iter()
                .any(|c| reason.starts_with(c)),
            "{reason}"
        );
    }
    env.s.stop().await;
}
