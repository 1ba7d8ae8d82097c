//! `terraform-provider-ssoplane`: the binary Terraform launches. `--debug`
//! starts it in reattach mode (prints `TF_REATTACH_PROVIDERS`); `--version`
//! prints the version (the install and release scripts name files by it).
#![forbid(unsafe_code)]

use terraform_provider_ssoplane::{provider, PROVIDER_ADDRESS};

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--version") {
        println!("terraform-provider-ssoplane {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let opts = ssoplane_proto::ServeOptions {
        debug: std::env::args().any(|a| a == "--debug"),
        provider_address: PROVIDER_ADDRESS.into(),
        log_module: "provider.ssoplane".into(),
        ..Default::default()
    };
    if let Err(e) = ssoplane_proto::serve(provider::new(), opts).await {
        eprintln!("terraform-provider-ssoplane: {e}");
        std::process::exit(1);
    }
}
