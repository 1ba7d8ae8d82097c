//! Test harness of the server's tests: a real ssoplane server (in this
//! process, on a loopback port, on a clock the test can move forward) over a
//! real SQLite file or a real PostgreSQL database, with an admin and a reader
//! token; the parts that are not the server (PostgreSQL, nginx, Chromium,
//! pysaml2, test PKI) come from `ssoplane_testkit`.

#![allow(dead_code)]

pub mod idp;
pub mod idp_front;
pub mod responses;
pub mod scim;

use std::path::PathBuf;

use reqwest::{Method, RequestBuilder};
use ssoplane_server::config::{Config, ServerConfig};
use ssoplane_server::identity::sessions::Clock;
use ssoplane_server::store::{Role, Store};
use ssoplane_server::{app, tokens};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub url: String,
    pub admin: String,
    pub reader: String,
    pub client: reqwest::Client,
    pub database_url: String,
    pub config: Config,
    pub dir: tempfile::TempDir,
    /// The server's clock: the system's time, moved forward by
    /// [`Clock::advance`] where a test needs time to pass.
    pub clock: Clock,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<ServeTask>,
}

pub async fn database_url(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("ssoplane.db").display()),
        Backend::Postgres => ssoplane_testkit::postgres::fresh_database().await,
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = database_url(backend, dir.path()).await;
        let key_file: PathBuf = dir.path().join("test-secret.key");
        std::fs::write(&key_file, "a".repeat(64)).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config {
            server: ServerConfig {
                listen: addr.to_string(),
                root_url: "https://sso.example.com".into(),
                database_url: database_url.clone(),
                data_dir: dir.path().to_owned(),
                secret_key_file: Some(key_file),
                ..ServerConfig::default()
            },
            ..Config::default()
        };
        configure(&mut config);
        let store = app::open_store(&config).await.unwrap();
        let admin = tokens::create(&store, "test-admin", Role::Admin)
            .await
            .unwrap();
        let reader = tokens::create(&store, "test-reader", Role::Reader)
            .await
            .unwrap();
        store.close().await;
        let clock = Clock::shifted();
        let (tx, task) = serve(&config, listener, &clock);
        let server = TestServer {
            url: format!("http://{addr}"),
            admin,
            reader,
            client: reqwest::Client::new(),
            database_url,
            config,
            dir,
            clock,
            shutdown: Some(tx),
            task: Some(task),
        };
        server.wait_ready().await;
        server
    }

    /// A second server on the same database (another replica), sharing the
    /// tokens and the clock.
    pub async fn replica(&self) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = self.config.clone();
        config.server.listen = addr.to_string();
        let (tx, task) = serve(&config, listener, &self.clock);
        let server = TestServer {
            url: format!("http://{addr}"),
            admin: self.admin.clone(),
            reader: self.reader.clone(),
            client: reqwest::Client::new(),
            database_url: self.database_url.clone(),
            config,
            dir: tempfile::tempdir().unwrap(),
            clock: self.clock.clone(),
            shutdown: Some(tx),
            task: Some(task),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.client.get(format!("{}/readyz", self.url)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if self.task.as_ref().is_some_and(|t| t.is_finished()) {
                panic!("server exited during start-up");
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server did not become ready");
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let b = self.client.request(method, format!("{}{}", self.url, path));
        match token {
            Some(t) => b.bearer_auth(t),
            None => b,
        }
    }

    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path, Some(&self.admin))
    }

    pub fn reader(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path, Some(&self.reader))
    }

    /// A second handle on the same database, to look at raw rows.
    pub async fn store(&self) -> Store {
        Store::connect(&self.database_url).await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

type ServeTask = tokio::task::JoinHandle<Result<(), app::StartError>>;

/// Serves `config` on `listener` with `clock` until the sender is used.
fn serve(
    config: &Config,
    listener: tokio::net::TcpListener,
    clock: &Clock,
) -> (oneshot::Sender<()>, ServeTask) {
    let (tx, rx) = oneshot::channel();
    let cfg = config.clone();
    let clock = clock.clone();
    let task = tokio::spawn(async move {
        app::serve_with_clock(
            &cfg,
            listener,
            async {
                let _ = rx.await;
            },
            clock,
        )
        .await
    });
    (tx, task)
}

/// Runs each named `async fn(Backend)` against SQLite and PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Test PKI made at run time: an RSA key with its self-signed certificate.
pub fn key_and_cert() -> (String, String) {
    ssoplane_testkit::pki::key_and_cert("ssoplane test SP")
}

pub fn idp_metadata_b64() -> String {
    use base64::Engine;
    let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#;
    base64::engine::general_purpose::STANDARD.encode(xml)
}
