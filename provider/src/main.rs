//! `terraform-provider-ssoplane`: the binary Terraform launches. `--debug`
//! starts it in reattach mode (prints `TF_REATTACH_PROVIDERS`).
#![forbid(unsafe_code)]

use terraform_provider_ssoplane::{SsoPlaneProvider, PROVIDER_ADDRESS};

#[tokio::main]
async fn main() {
    let opts = ssoplane_proto::ServeOptions {
        debug: std::env::args().any(|a| a == "--debug"),
        provider_address: PROVIDER_ADDRESS.into(),
        log_module: "provider.ssoplane".into(),
        ..Default::default()
    };
    if let Err(e) = ssoplane_proto::serve(SsoPlaneProvider::default(), opts).await {
        eprintln!("terraform-provider-ssoplane: {e}");
        std::process::exit(1);
    }
}
