//! SCIM clients for tests: scim tokens bound to a provider, and requests to
//! `/scim/v2` with `application/scim+json` bodies; plus a replayer for
//! recorded request shapes (`tests/integration/scim/fixtures/*.json`).

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use ssoplane_server::store::Role;
use ssoplane_server::tokens;

use super::TestServer;

/// A scim token named `name`, bound to `provider`.
pub async fn token(s: &TestServer, name: &str, provider: &str) -> String {
    let store = s.store().await;
    let t = tokens::create_bound(&store, name, Role::Scim, provider)
        .await
        .unwrap();
    store.close().await;
    t
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A SCIM error body with this status and scimType (None: no scimType).
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.headers["content-type"], "application/scim+json",
            "{}",
            self.body
        );
        assert_eq!(
            self.body["schemas"],
            serde_json::json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        assert_eq!(self.body["status"], status.to_string());
        assert_eq!(
            self.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "{}",
            self.body
        );
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

#[derive(Clone)]
pub struct Client {
    pub url: String,
    pub token: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(s: &TestServer, token: &str) -> Client {
        Client {
            url: format!("{}/scim/v2", s.url),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        reply(req).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, ops: Value) -> Reply {
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": ops,
        });
        self.send(Method::PATCH, path, Some(&body)).await
    }

    /// Creates a user; returns its id.
    pub async fn user(&self, user_name: &str, external_id: &str) -> String {
        let r = self
            .post(
                "/Users",
                &serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user_name, "externalId": external_id, "active": true,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a group; returns its id.
    pub async fn group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members
            .iter()
            .map(|m| serde_json::json!({"value": m}))
            .collect();
        let r = self
            .post(
                "/Groups",
                &serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name, "members": members,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Replays a fixture: a JSON array of exchanges
    /// `{"note", "method", "path", "body"?, "status", "expect"?: {pointer: value},
    /// "save"?: {name: pointer}}`, where `{name}` in paths and bodies is a
    /// value saved from an earlier response.
    pub async fn replay(&self, fixture: &str) -> std::collections::HashMap<String, String> {
        let exchanges: Vec<Value> = serde_json::from_str(fixture).unwrap();
        let mut saved = std::collections::HashMap::<String, String>::new();
        let fill = |s: &str, saved: &std::collections::HashMap<String, String>| {
            saved.iter().fold(s.to_owned(), |acc, (k, v)| {
                acc.replace(&format!("{{{k}}}"), v)
            })
        };
        for x in exchanges {
            let note = x["note"].as_str().unwrap_or("");
            let method = Method::from_bytes(x["method"].as_str().unwrap().as_bytes()).unwrap();
            let path = fill(x["path"].as_str().unwrap(), &saved);
            let body = x
                .get("body")
                .map(|b| serde_json::from_str::<Value>(&fill(&b.to_string(), &saved)).unwrap());
            let r = self.send(method.clone(), &path, body.as_ref()).await;
            assert_eq!(
                r.status.as_u16() as u64,
                x["status"].as_u64().unwrap(),
                "{note}: {method} {path}: {}",
                r.body
            );
            if let Some(Value::Object(expect)) = x.get("expect") {
                for (pointer, want) in expect {
                    let want: Value =
                        serde_json::from_str(&fill(&want.to_string(), &saved)).unwrap();
                    // null: absent (or null).
                    let got = r.body.pointer(pointer).unwrap_or(&Value::Null);
                    assert_eq!(
                        got, &want,
                        "{note}: {method} {path}: {pointer} in {}",
                        r.body
                    );
                }
            }
            if let Some(Value::Object(save)) = x.get("save") {
                for (name, pointer) in save {
                    let v = r.body.pointer(pointer.as_str().unwrap()).unwrap();
                    saved.insert(name.clone(), v.as_str().unwrap().to_owned());
                }
            }
        }
        saved
    }
}

pub async fn reply(req: reqwest::RequestBuilder) -> Reply {
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}
