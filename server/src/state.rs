//! What every handler shares: the store and the services built on it, and the
//! server settings handlers read on each request. Built once by
//! [`crate::app::state`]; the admin API, SAML, SCIM, forward auth and the
//! console all take it as axum state.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::settings::SettingsService;
use crate::store::Store;
use crate::tokens::TokenService;

/// Cheap to clone: axum clones the state into every request's handler, so
/// it is one `Arc` (one reference count) rather than a dozen.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The services and settings behind [`AppState`].
pub struct Shared {
    pub store: Store,
    pub saml: Arc<crate::saml::runtime::Registry>,
    /// Login sessions and the forward-auth cache.
    pub sessions: Arc<crate::identity::sessions::Sessions>,
    /// `Secure` cookies: the public root URL is https.
    pub secure_cookies: bool,
    /// Break-glass local administrator login enabled.
    pub local_login: bool,
    pub local_throttle: Arc<crate::identity::local_admin::Throttle>,
    /// Trusted proxies and the bounds on what one unauthenticated client stores.
    pub clients: Arc<crate::web::client::Clients>,
    /// Groups whose members may read the admin console (`console_reader_groups`).
    pub console_reader_groups: Arc<Vec<String>>,
    pub settings: Arc<SettingsService>,
    pub tokens: Arc<TokenService>,
    pub metrics: PrometheusHandle,
}
