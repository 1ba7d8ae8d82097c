//! The go-plugin handshake as Terraform drives it: the magic cookie check,
//! `PLUGIN_PROTOCOL_VERSIONS` negotiation, the environment that configures
//! listening (`PLUGIN_CLIENT_CERT`, `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT`,
//! `PLUGIN_UNIX_SOCKET_DIR`) and the line printed on stdout:
//! `CORE|APP|network|address|grpc|base64(server cert DER, std, no padding)`.

use base64::Engine as _;

/// Environment variable Terraform sets to prove it launched the plugin.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform puts in [`MAGIC_COOKIE_KEY`].
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version (first handshake field).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only Terraform plugin protocol we speak.
pub const APP_PROTOCOL_VERSION: u32 = 6;

/// What a human running the binary directly is told.
pub const NOT_A_PLUGIN_MESSAGE: &str = "This binary is a plugin. These are not meant to be \
executed directly.\nPlease execute the program that consumes these plugins, which will\n\
load any plugins automatically (for a Terraform provider: run terraform).\n";

/// Handshake failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("{}", NOT_A_PLUGIN_MESSAGE.trim_end())]
    MissingCookie,
    #[error("the {MAGIC_COOKIE_KEY} value is wrong; this plugin was not started by a compatible Terraform")]
    WrongCookie,
    #[error(
        "Terraform offered plugin protocol versions {offered:?}, but this provider only \
         speaks protocol {APP_PROTOCOL_VERSION}; use Terraform 1.0 or later"
    )]
    UnsupportedProtocol { offered: String },
    #[error("invalid {name} value {value:?}: {reason}")]
    InvalidEnv {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// The handshake-relevant environment, captured once so it can be tested
/// without touching the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeEnv {
    pub magic_cookie: Option<String>,
    pub protocol_versions: Option<String>,
    pub client_cert: Option<String>,
    pub min_port: Option<String>,
    pub max_port: Option<String>,
    pub unix_socket_dir: Option<String>,
}

impl HandshakeEnv {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `lookup` (for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| lookup(k).filter(|v| !v.is_empty());
        HandshakeEnv {
            magic_cookie: get(MAGIC_COOKIE_KEY),
            protocol_versions: get("PLUGIN_PROTOCOL_VERSIONS"),
            client_cert: get("PLUGIN_CLIENT_CERT"),
            min_port: get("PLUGIN_MIN_PORT"),
            max_port: get("PLUGIN_MAX_PORT"),
            unix_socket_dir: get("PLUGIN_UNIX_SOCKET_DIR"),
        }
    }

    /// Checks the magic cookie.
    pub fn check_cookie(&self) -> Result<(), HandshakeError> {
        match self.magic_cookie.as_deref() {
            None => Err(HandshakeError::MissingCookie),
            Some(MAGIC_COOKIE_VALUE) => Ok(()),
            Some(_) => Err(HandshakeError::WrongCookie),
        }
    }

    /// Negotiates the protocol version; see [`negotiate_protocol`].
    pub fn protocol(&self) -> Result<u32, HandshakeError> {
        negotiate_protocol(self.protocol_versions.as_deref())
    }

    /// The TCP port range from `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT` (0 = any).
    pub fn port_range(&self) -> Result<(u16, u16), HandshakeError> {
        let parse = |name: &'static str, v: &Option<String>| -> Result<u16, HandshakeError> {
            match v {
                None => Ok(0),
                Some(s) => s
                    .trim()
                    .parse::<u16>()
                    .map_err(|e| HandshakeError::InvalidEnv {
                        name,
                        value: s.clone(),
                        reason: e.to_string(),
                    }),
            }
        };
        let min = parse("PLUGIN_MIN_PORT", &self.min_port)?;
        let max = parse("PLUGIN_MAX_PORT", &self.max_port)?;
        if min > max {
            return Err(HandshakeError::InvalidEnv {
                name: "PLUGIN_MIN_PORT",
                value: min.to_string(),
                reason: format!("greater than PLUGIN_MAX_PORT ({max})"),
            });
        }
        Ok((min, max))
    }
}

/// Picks protocol 6 from Terraform's comma-separated offer. No offer at all
/// (very old clients) means "whatever you speak", so 6. An offer without 6
/// is an error naming what was offered.
pub fn negotiate_protocol(offer: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(offer) = offer.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    let speaks_ours = offer
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == APP_PROTOCOL_VERSION);
    if speaks_ours {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::UnsupportedProtocol {
            offered: offer.to_string(),
        })
    }
}

/// The line go-plugin clients read from the plugin's stdout.
pub fn handshake_line(network: &str, address: &str, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{network}|{address}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HandshakeEnv {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HandshakeEnv::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn cookie_missing_or_wrong_is_an_error() {
        let e = env(&[]).check_cookie().unwrap_err();
        assert_eq!(e, HandshakeError::MissingCookie);
        assert!(e.to_string().contains("This binary is a plugin"));
        assert_eq!(
            env(&[(MAGIC_COOKIE_KEY, "nope")]).check_cookie(),
            Err(HandshakeError::WrongCookie)
        );
        assert_eq!(
            env(&[(MAGIC_COOKIE_KEY, "")]).check_cookie(),
            Err(HandshakeError::MissingCookie)
        );
        assert!(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)])
            .check_cookie()
            .is_ok());
    }

    #[test]
    fn protocol_negotiation() {
        assert_eq!(negotiate_protocol(None), Ok(6));
        assert_eq!(negotiate_protocol(Some("")), Ok(6));
        assert_eq!(negotiate_protocol(Some("5,6")), Ok(6));
        assert_eq!(negotiate_protocol(Some(" 6 ")), Ok(6));
        assert_eq!(negotiate_protocol(Some("x,6")), Ok(6));
        let err = negotiate_protocol(Some("4,5")).unwrap_err();
        assert!(matches!(err, HandshakeError::UnsupportedProtocol { .. }));
        assert!(err.to_string().contains("4,5"));
        assert!(negotiate_protocol(Some("7")).is_err());
        assert_eq!(env(&[("PLUGIN_PROTOCOL_VERSIONS", "6")]).protocol(), Ok(6));
    }

    #[test]
    fn port_range_parsing() {
        assert_eq!(env(&[]).port_range(), Ok((0, 0)));
        assert_eq!(
            env(&[("PLUGIN_MIN_PORT", "10000"), ("PLUGIN_MAX_PORT", "25000")]).port_range(),
            Ok((10000, 25000))
        );
        assert!(env(&[("PLUGIN_MIN_PORT", "9"), ("PLUGIN_MAX_PORT", "8")])
            .port_range()
            .is_err());
        assert!(env(&[("PLUGIN_MIN_PORT", "abc")]).port_range().is_err());
    }

    #[test]
    fn handshake_line_format() {
        assert_eq!(
            handshake_line("unix", "/tmp/plugin1/p.sock", None),
            "1|6|unix|/tmp/plugin1/p.sock|grpc|"
        );
        // base64 std alphabet without padding: [0xfb, 0xff] -> "+/8"
        assert_eq!(
            handshake_line("tcp", "127.0.0.1:1234", Some(&[0xfb, 0xff])),
            "1|6|tcp|127.0.0.1:1234|grpc|+/8"
        );
    }
}
