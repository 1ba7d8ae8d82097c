//! Handshake + auto-mTLS tests against an in-process server: a tonic
//! client with the certificate from `PLUGIN_CLIENT_CERT` (generated like
//! go-plugin's: self-signed ECDSA P-521 CA for `localhost`) can call the
//! health check; clients without a certificate or with another
//! self-signed certificate are refused; a certificate issued by the pinned
//! one is accepted; `GRPCController.Shutdown` stops the server even with a
//! `StreamStdio` stream open.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use ssoplane_proto::handshake::{HandshakeEnv, HandshakeError, MAGIC_COOKIE_VALUE};
use ssoplane_proto::plugin::grpc_controller_client::GrpcControllerClient;
use ssoplane_proto::plugin::grpc_stdio_client::GrpcStdioClient;
use ssoplane_proto::tfplugin6::provider_client::ProviderClient;
use ssoplane_proto::tfplugin6::provider_server::Provider;
use ssoplane_proto::{start, RunningServer, ServeError, ServeOptions, Transport};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// A provider implementing nothing: every RPC answers UNIMPLEMENTED.
struct Nop;
impl Provider for Nop {}

struct ClientIdentity {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    pem: String,
    params: CertificateParams,
    key_pair: KeyPair,
}

/// Like go-plugin's generateCert: P-521, CA, localhost, both usages.
fn go_plugin_like_cert(alg: &'static rcgen::SignatureAlgorithm) -> ClientIdentity {
    let key_pair = KeyPair::generate_for(alg).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "HashiCorp");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key_pair).unwrap();
    ClientIdentity {
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key_pair.serialize_der()),
        pem: cert.pem(),
        params,
        key_pair,
    }
}

/// A leaf client certificate signed by `ca`.
fn issued_by(ca: &ClientIdentity) -> (CertificateDer<'static>, PrivatePkcs8KeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "leaf");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let issuer = Issuer::from_params(&ca.params, &ca.key_pair);
    let cert = params.signed_by(&key, &issuer).unwrap();
    (
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()),
    )
}

fn env_with_cert(pem: Option<&str>) -> HandshakeEnv {
    HandshakeEnv {
        magic_cookie: Some(MAGIC_COOKIE_VALUE.into()),
        protocol_versions: Some("5,6".into()),
        client_cert: pem.map(str::to_string),
        ..Default::default()
    }
}

/// Trusts exactly one server certificate (what go-plugin's client does
/// with the certificate from the handshake line).
#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Parses the handshake line like go-plugin's client does.
fn parse_handshake(line: &str) -> (String, String, Vec<u8>) {
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 6, "{line}");
    assert_eq!(&parts[..2], &["1", "6"]);
    assert_eq!(parts[4], "grpc");
    assert!(!parts[5].ends_with('='), "base64 must be unpadded");
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .unwrap();
    (parts[2].to_string(), parts[3].to_string(), der)
}

async fn tls_channel(
    server: &RunningServer,
    client_auth: Option<(CertificateDer<'static>, PrivatePkcs8KeyDer<'static>)>,
) -> Result<Channel, tonic::transport::Error> {
    let (network, address, server_der) = parse_handshake(&server.handshake_line());
    assert_eq!(network, "unix");
    let provider = ssoplane_proto::tls::crypto_provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            der: server_der,
            provider,
        }));
    let mut cfg = match client_auth {
        Some((cert, key)) => builder
            .with_client_auth_cert(vec![cert], PrivateKeyDer::Pkcs8(key))
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_uri| {
            let (connector, address) = (connector.clone(), address.clone());
            async move {
                let stream = tokio::net::UnixStream::connect(address).await?;
                let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                let tls = connector.connect(name, stream).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

async fn health(channel: Channel) -> Result<i32, tonic::Status> {
    let resp = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await?;
    Ok(resp.into_inner().status)
}

/// True if a client with this identity gets a SERVING answer.
async fn can_check_health(
    server: &RunningServer,
    client_auth: Option<(CertificateDer<'static>, PrivatePkcs8KeyDer<'static>)>,
) -> bool {
    match tls_channel(server, client_auth).await {
        Ok(ch) => matches!(
            tokio::time::timeout(Duration::from_secs(5), health(ch)).await,
            Ok(Ok(s)) if s == ServingStatus::Serving as i32
        ),
        Err(_) => false,
    }
}

#[tokio::test]
async fn mtls_accepts_only_the_pinned_client_certificate() {
    let client = go_plugin_like_cert(&PKCS_ECDSA_P521_SHA512);
    let server = start(
        Nop,
        &ServeOptions::default(),
        &env_with_cert(Some(&client.pem)),
    )
    .await
    .unwrap();

    assert!(
        can_check_health(&server, Some((client.cert.clone(), client.key.clone_key()))).await,
        "the PLUGIN_CLIENT_CERT identity must be accepted"
    );
    assert!(
        !can_check_health(&server, None).await,
        "a client without a certificate must be refused"
    );
    let stranger = go_plugin_like_cert(&PKCS_ECDSA_P521_SHA512);
    assert!(
        !can_check_health(
            &server,
            Some((stranger.cert.clone(), stranger.key.clone_key()))
        )
        .await,
        "another self-signed certificate must be refused"
    );
    assert!(
        can_check_health(&server, Some(issued_by(&client))).await,
        "a certificate issued by the pinned CA is accepted"
    );
    // tfplugin6 is mounted: an unimplemented RPC answers UNIMPLEMENTED
    let ch = tls_channel(&server, Some((client.cert.clone(), client.key.clone_key())))
        .await
        .unwrap();
    let err = ProviderClient::new(ch)
        .get_metadata(ssoplane_proto::tfplugin6::get_metadata::Request {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);

    server.shutdown();
    tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("server did not stop")
        .unwrap();
}

#[tokio::test]
async fn controller_shutdown_stops_the_server_with_stdio_streaming() {
    let client = go_plugin_like_cert(&PKCS_ECDSA_P521_SHA512);
    let server = start(
        Nop,
        &ServeOptions::default(),
        &env_with_cert(Some(&client.pem)),
    )
    .await
    .unwrap();
    let ch = tls_channel(&server, Some((client.cert.clone(), client.key.clone_key())))
        .await
        .unwrap();
    let mut stdio = GrpcStdioClient::new(ch.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    GrpcControllerClient::new(ch)
        .shutdown(ssoplane_proto::plugin::Empty {})
        .await
        .unwrap();
    // the stdio stream ends, and the server stops well within the grace period
    let ended = tokio::time::timeout(Duration::from_secs(3), stdio.message()).await;
    assert!(matches!(ended, Ok(Ok(None)) | Ok(Err(_))), "{ended:?}");
    tokio::time::timeout(Duration::from_secs(3), server.wait())
        .await
        .expect("server did not stop after Shutdown")
        .unwrap();
}

#[tokio::test]
async fn plain_tcp_without_client_cert_honours_port_range() {
    // no PLUGIN_CLIENT_CERT: no TLS; empty certificate field in the line
    let env = HandshakeEnv {
        min_port: Some("0".into()),
        max_port: Some("0".into()),
        ..env_with_cert(None)
    };
    let opts = ServeOptions {
        transport: Transport::Tcp,
        ..Default::default()
    };
    let server = start(Nop, &opts, &env).await.unwrap();
    let line = server.handshake_line();
    assert!(line.starts_with("1|6|tcp|127.0.0.1:"), "{line}");
    assert!(line.ends_with("|grpc|"), "{line}");
    let ch = Endpoint::from_shared(format!("http://{}", server.address()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(health(ch).await.unwrap(), ServingStatus::Serving as i32);
    server.shutdown();
    server.wait().await.unwrap();
}

#[tokio::test]
async fn start_refuses_bad_handshakes() {
    let no_cookie = HandshakeEnv {
        magic_cookie: None,
        ..env_with_cert(None)
    };
    assert!(matches!(
        start(Nop, &ServeOptions::default(), &no_cookie).await,
        Err(ServeError::Handshake(HandshakeError::MissingCookie))
    ));
    let old_protocols = HandshakeEnv {
        protocol_versions: Some("4,5".into()),
        ..env_with_cert(None)
    };
    assert!(matches!(
        start(Nop, &ServeOptions::default(), &old_protocols).await,
        Err(ServeError::Handshake(
            HandshakeError::UnsupportedProtocol { .. }
        ))
    ));
    let bad_pem = env_with_cert(Some("not a certificate"));
    assert!(matches!(
        start(Nop, &ServeOptions::default(), &bad_pem).await,
        Err(ServeError::Tls(_))
    ));
}

#[tokio::test]
async fn debug_mode_reports_reattach_json() {
    let server = ssoplane_proto::start_debug(Nop, &ServeOptions::default())
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&server.reattach_json()).unwrap();
    let entry = &doc["registry.terraform.io/ssoplane/ssoplane"];
    assert_eq!(entry["Addr"]["Network"], "unix");
    let path = entry["Addr"]["String"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&path).exists());
    assert_eq!(entry["Pid"], std::process::id());
    server.shutdown();
    server.wait().await.unwrap();
    assert!(
        !std::path::Path::new(&path).exists(),
        "socket removed on exit"
    );
}
