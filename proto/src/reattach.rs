//! Debug/reattach mode support: the `TF_REATTACH_PROVIDERS` document that
//! tells Terraform to use an already-running provider instead of launching
//! one. Shape (go-plugin `ReattachConfig` as Terraform parses it):
//! `{"<provider address>":{"Protocol":"grpc","ProtocolVersion":6,"Pid":123,
//! "Test":true,"Addr":{"Network":"unix","String":"/tmp/.../provider.sock"}}}`.

use serde_json::json;

use crate::handshake::APP_PROTOCOL_VERSION;

/// Default provider source address of the ssoplane provider.
pub const DEFAULT_PROVIDER_ADDRESS: &str = "registry.terraform.io/ssoplane/ssoplane";

/// Where and how a running provider can be reattached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReattachConfig {
    /// Full provider address, e.g. `registry.terraform.io/ssoplane/ssoplane`.
    pub provider_address: String,
    pub pid: u32,
    /// `"unix"` or `"tcp"`.
    pub network: String,
    /// Socket path or `host:port`.
    pub address: String,
}

impl ReattachConfig {
    /// The `TF_REATTACH_PROVIDERS` JSON value for this provider alone.
    pub fn to_json(&self) -> String {
        reattach_json(
            &self.provider_address,
            self.pid,
            &self.network,
            &self.address,
        )
    }
}

/// Builds the `TF_REATTACH_PROVIDERS` JSON for one provider. `Test: true`
/// tells Terraform not to manage (kill) the process, so it survives across
/// terraform commands.
pub fn reattach_json(provider_address: &str, pid: u32, network: &str, address: &str) -> String {
    let mut doc = serde_json::Map::new();
    doc.insert(
        provider_address.to_string(),
        json!({
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": network, "String": address },
        }),
    );
    serde_json::Value::Object(doc).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_json_shape() {
        let s = reattach_json(DEFAULT_PROVIDER_ADDRESS, 42, "unix", "/tmp/p/provider.sock");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        let p = &v[DEFAULT_PROVIDER_ADDRESS];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 42);
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/tmp/p/provider.sock");
    }
}
