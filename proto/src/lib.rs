//! `ssoplane-proto`: the Terraform plugin protocol layer for
//! `terraform-provider-ssoplane`.
//!
//! - [`tfplugin6`]: generated messages and the `Provider` server trait for
//!   protocol 6.8 (Terraform 1.11).
//! - [`serve`]: runs a provider the way Terraform expects (go-plugin
//!   handshake, auto-mTLS, health, controller, stdio) or in debug/reattach
//!   mode.
//! - [`cty`]: exact cty value/type codec for `DynamicValue` payloads.
//! - [`framework`]: typed `Resource` / `DataSource` traits and a registry
//!   served as one tfplugin6 `Provider`.
//! - [`logging`]: hclog-style JSON logs on stderr.
#![forbid(unsafe_code)]

pub mod cty;
pub mod framework;
pub mod handshake;
pub mod logging;
pub mod reattach;
mod server;
pub mod tls;

/// Generated tfplugin6 (protocol 6.8) messages, client and server.
#[allow(clippy::all, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// Generated go-plugin internal services (`plugin.GRPCController`,
/// `plugin.GRPCStdio`).
#[allow(clippy::all, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// Well-known protobuf types used by tfplugin6 (e.g. `Timestamp`).
pub use prost_types;
/// The tonic version the generated code uses (for `Request`, `Response`,
/// `Status` and `#[tonic::async_trait]` in provider implementations).
pub use tonic;

pub use reattach::ReattachConfig;
pub use server::{
    serve, start, start_debug, DebugServer, RunningServer, ServeError, ServeOptions, Transport,
};

/// Maximum gRPC message size (both directions) on the tfplugin6 service.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;
