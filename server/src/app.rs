//! Assembly and lifecycle: open the store, check the secret key, load the
//! system settings, build the router with its middleware, serve until
//! SIGTERM/SIGINT and let in-flight requests finish.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::Router;
use tokio::net::TcpListener;
use tower::util::MapRequestLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::api::{self, error::ApiError};
use crate::config::Config;
use crate::identity::sessions::{CacheLimits, Clock, Sessions, Timeouts};
use crate::saml::runtime::Registry;
use crate::secrets::{SecretBox, SecretError};
use crate::settings::{system, SettingsService};
use crate::state::AppState;
use crate::store::{redact_url, Store, StoreError};
use crate::telemetry;
use crate::tokens::TokenService;
use crate::web::request_id;

/// Largest request body: IdP metadata inline (base64) may be a few MiB.
pub const MAX_BODY: usize = 4 * 1024 * 1024;
const KEY_CHECK: &str = "secret_key_check";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database {url}: {source}")]
    Store { url: String, source: StoreError },
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    SystemSettings(#[from] system::SystemSettingsError),
    #[error("invalid duration in server.{field}: {message}")]
    Duration {
        field: &'static str,
        message: String,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Proxy(#[from] crate::web::client::BadProxy),
    #[error("server.pending_logins_per_address must be at least 1")]
    PendingBound,
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

pub async fn open_store(config: &Config) -> Result<Store, StartError> {
    let url = config.server.database_url();
    Store::connect(&url)
        .await
        .map_err(|source| StartError::Store {
            url: redact_url(&url),
            source,
        })
}

/// The key for secrets at rest, checked against the one the database was first used with.
pub async fn secret_box(config: &Config, store: &Store) -> Result<SecretBox, StartError> {
    let sbox = match std::env::var("SSOPLANE_SECRET_KEY") {
        Ok(text) if !text.trim().is_empty() => SecretBox::from_text(&text)?,
        _ => match (&config.server.secret_key_file, config.server.is_sqlite()) {
            (Some(path), _) => SecretBox::from_file(path, false)?,
            (None, true) => SecretBox::from_file(&config.server.data_dir.join("secret.key"), true)?,
            (None, false) => return Err(SecretError::KeyRequired.into()),
        },
    };
    let url = redact_url(&config.server.database_url());
    let stored = store
        .init_meta(KEY_CHECK, &sbox.key_check())
        .await
        .map_err(|source| StartError::Store { url, source })?;
    sbox.verify_key_check(&stored)?;
    Ok(sbox)
}

pub async fn state(config: &Config, store: Store) -> Result<AppState, StartError> {
    state_with_clock(config, store, Clock::system()).await
}

/// [`state`] with the clock sessions, logins and the token cache are timed
/// by (tests move it by hand).
pub async fn state_with_clock(
    config: &Config,
    store: Store,
    clock: Clock,
) -> Result<AppState, StartError> {
    let sbox = secret_box(config, &store).await?;
    let system = system::load(&config.saml).await?;
    let settings = Arc::new(SettingsService::new(
        store.clone(),
        system,
        config.server.root_url(),
        Arc::new(sbox),
    ));
    let session_timeouts = Timeouts {
        idle: duration("session_idle_timeout", &config.server.session_idle_timeout)?,
        absolute: duration(
            "session_absolute_timeout",
            &config.server.session_absolute_timeout,
        )?,
    };
    let limits = CacheLimits {
        entries: config.server.session_cache_entries,
        bytes: config.server.session_cache_mib.saturating_mul(1 << 20),
    };
    if config.server.pending_logins_per_address == 0 {
        return Err(StartError::PendingBound);
    }
    let clients = crate::web::client::Clients {
        proxies: crate::web::client::parse_trusted(&config.server.trusted_proxies)?,
        pending_per_address: config.server.pending_logins_per_address,
    };
    // Replicas' notices (settings, sessions) arrive from here on.
    store.start_listening();
    Ok(AppState::new(crate::state::Shared {
        saml: Arc::new(Registry::new(Arc::clone(&settings))),
        sessions: Arc::new(Sessions::new(
            store.clone(),
            session_timeouts,
            limits,
            clock.clone(),
        )),
        secure_cookies: config.server.root_url().starts_with("https://"),
        local_login: config.server.local_login,
        local_throttle: Arc::default(),
        clients: Arc::new(clients),
        console_reader_groups: Arc::new(config.server.console_reader_groups.clone()),
        tokens: Arc::new(TokenService::new(store.clone(), clock)),
        settings,
        store,
        metrics: telemetry::metrics_handle(),
    }))
}

pub fn router(state: AppState, request_timeout: Duration) -> Router {
    api::routes()
        .into_router(&state)
        .merge(crate::saml::http::routes())
        .merge(crate::scim::routes())
        .merge(crate::web::routes::routes())
        .merge(crate::web::console::routes())
        .merge(crate::web::assets::routes())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        // Last added is outermost. From the outside in: the client's request
        // id screened, then taken or made; the request span; API/SCIM error
        // rendering (reads the id the propagation layer put on the
        // response); metrics; then the limit and timeout layers, whose
        // errors are rendered like ours.
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(middleware::from_fn(telemetry::record))
        .layer(PropagateRequestIdLayer::new(request_id::HEADER))
        .layer(middleware::from_fn(api::error::render))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_id::span::<Body>)
                .on_request(())
                .on_response(())
                .on_body_chunk(())
                .on_eos(())
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(
            request_id::HEADER,
            request_id::MakeUuid,
        ))
        .layer(MapRequestLayer::new(request_id::screen::<Body>))
        .with_state(state)
}

fn duration(field: &'static str, text: &str) -> Result<Duration, StartError> {
    ssoplane_schema::durations::parse(text).map_err(|e| StartError::Duration {
        field,
        message: e.to_string(),
    })
}

/// Runs the server until `shutdown` resolves, then gives in-flight requests
/// `shutdown_timeout` to finish before closing the store.
pub async fn serve(
    config: &Config,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    serve_with_clock(config, listener, shutdown, Clock::system()).await
}

/// [`serve`] with the clock sessions are timed by (tests move it by hand).
pub async fn serve_with_clock(
    config: &Config,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    clock: Clock,
) -> Result<(), StartError> {
    let request_timeout = duration("request_timeout", &config.server.request_timeout)?;
    let shutdown_timeout = duration("shutdown_timeout", &config.server.shutdown_timeout)?;
    let store = open_store(config).await?;
    let state = state_with_clock(config, store.clone(), clock).await?;
    let settings = Arc::clone(&state.settings);
    let sessions = Arc::clone(&state.sessions);
    let upkeep = tokio::spawn(crate::housekeeping::run(
        store.clone(),
        Arc::clone(&sessions),
    ));
    let app = router(state, request_timeout);
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(
        addr,
        root_url = config.server.root_url(),
        store = store.backend(),
        "ssoplane listening"
    );
    warn_if_plain_http(&config.server.root_url());

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server = tokio::spawn(async move {
        let mut rx = stop_rx;
        // The peer address feeds the bounds per client (web/client.rs).
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    tokio::select! {
        result = &mut server => {
            settings.shutdown();
            upkeep.abort();
            let _ = sessions.flush_touches().await;
            store.close().await;
            return match result {
                Ok(r) => r.map_err(StartError::Serve),
                Err(e) => Err(StartError::Serve(std::io::Error::other(e))),
            };
        }
        () = shutdown => {}
    }
    tracing::info!(timeout = ?shutdown_timeout, "shutting down: finishing in-flight requests");
    let _ = stop_tx.send(true);
    match tokio::time::timeout(shutdown_timeout, &mut server).await {
        Ok(_) => tracing::info!("all requests finished"),
        Err(_) => {
            tracing::warn!("shutdown timeout reached; aborting remaining requests");
            server.abort();
        }
    }
    settings.shutdown();
    upkeep.abort();
    if let Err(e) = sessions.flush_touches().await {
        tracing::warn!(error = %e, "cannot write the last session last-use times");
    }
    // Closing the pool waits for open transactions to end: no torn writes.
    store.close().await;
    Ok(())
}

/// Plain http is fine on one's own machine; anywhere else it means cookies
/// without `Secure` (readable on the wire) and a sign-in cookie browsers only
/// send back same-site, which costs every SP-initiated login one extra step.
fn warn_if_plain_http(root_url: &str) {
    let Ok(url) = url::Url::parse(root_url) else {
        return;
    };
    let local = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => true,
    };
    if url.scheme() == "http" && !local {
        tracing::warn!(
            root_url,
            "root_url is plain http on a non-local host: session cookies cannot be Secure, and each SP-initiated login takes an extra same-site step in the browser; serve ssoplane over https"
        );
    }
}

pub async fn listen(addr: &str) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: addr.to_owned(),
            source,
        })
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
