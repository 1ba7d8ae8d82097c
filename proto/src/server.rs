//! Serving a provider: listener (unix socket or loopback TCP), optional
//! TLS, the gRPC services go-plugin expects next to tfplugin6 (health with
//! service "plugin" SERVING, `GRPCController.Shutdown`,
//! `GRPCStdio.StreamStdio`), graceful shutdown and the two entry modes:
//! launched by Terraform (handshake line on stdout) or debug/reattach.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use crate::handshake::{self, HandshakeEnv, HandshakeError};
use crate::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::plugin::{Empty, StdioData};
use crate::reattach::{ReattachConfig, DEFAULT_PROVIDER_ADDRESS};
use crate::tfplugin6::provider_server::{Provider, ProviderServer};
use crate::tls::{self, ServerIdentity, TlsError};
use crate::MAX_MESSAGE_SIZE;

/// How long a graceful shutdown may take before in-flight work is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Limit for one client's TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which kind of socket to listen on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    /// A unix socket in a fresh temporary directory (go-plugin's default on
    /// unix; `PLUGIN_UNIX_SOCKET_DIR` chooses the parent directory).
    #[default]
    Unix,
    /// `127.0.0.1`, port from `PLUGIN_MIN_PORT`..=`PLUGIN_MAX_PORT` (any
    /// free port when unset).
    Tcp,
}

/// Options for [`serve`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Debug/reattach mode: no cookie, no TLS, unix socket, prints
    /// `TF_REATTACH_PROVIDERS` and runs until killed or shut down.
    pub debug: bool,
    /// Provider source address used in the reattach document.
    pub provider_address: String,
    /// Socket kind in plugin mode (debug mode always uses a unix socket).
    pub transport: Transport,
    /// `@module` of log lines.
    pub log_module: String,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            debug: false,
            provider_address: DEFAULT_PROVIDER_ADDRESS.to_string(),
            transport: Transport::Unix,
            log_module: crate::logging::DEFAULT_MODULE.to_string(),
        }
    }
}

/// Errors from serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("server task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

fn io_err(context: &'static str) -> impl FnOnce(io::Error) -> ServeError {
    move |source| ServeError::Io { context, source }
}

/// Runs `provider` as a Terraform plugin and returns when Terraform shuts
/// it down (or, in debug mode, on Ctrl-C / Shutdown).
///
/// Plugin mode checks the magic cookie first; without it a human ran the
/// binary, so a short explanation goes to stderr and the process exits with
/// status 1, as go-plugin does. Logging (hclog JSON on stderr) is installed
/// unless a global subscriber already exists.
pub async fn serve<P: Provider>(provider: P, opts: ServeOptions) -> Result<(), ServeError> {
    crate::logging::init(&opts.log_module);
    if opts.debug {
        let server = start_debug(provider, &opts).await?;
        println!(
            "Provider started in debug mode. To attach Terraform, set this in the \
             environment of each terraform command:\n\n\tTF_REATTACH_PROVIDERS='{}'\n",
            server.reattach_json()
        );
        flush_stdout()?;
        let trigger = server.shutdown_handle();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = trigger.send(true);
            }
        });
        stop_on_sigterm(&server);
        return server.wait().await;
    }

    let env = HandshakeEnv::from_env();
    if let Err(HandshakeError::MissingCookie | HandshakeError::WrongCookie) = env.check_cookie() {
        eprint!("{}", handshake::NOT_A_PLUGIN_MESSAGE);
        std::process::exit(1);
    }
    let server = start(provider, &opts, &env).await?;
    println!("{}", server.handshake_line());
    flush_stdout()?;
    tracing::debug!(
        network = server.network(),
        address = server.address(),
        "plugin address"
    );

    // Terraform forwards Ctrl-C to the whole process group; like go-plugin
    // we ignore SIGINT and wait for StopProvider / Shutdown instead.
    tokio::spawn(async {
        let mut count = 0u64;
        while tokio::signal::ctrl_c().await.is_ok() {
            count += 1;
            tracing::trace!(count, "plugin received interrupt signal, ignoring");
        }
    });
    stop_on_sigterm(&server);
    server.wait().await
}

/// SIGTERM triggers a graceful shutdown (removing the socket directory).
fn stop_on_sigterm(server: &RunningServer) {
    use tokio::signal::unix::{signal, SignalKind};
    let trigger = server.shutdown_handle();
    if let Ok(mut term) = signal(SignalKind::terminate()) {
        tokio::spawn(async move {
            if term.recv().await.is_some() {
                let _ = trigger.send(true);
            }
        });
    }
}

fn flush_stdout() -> Result<(), ServeError> {
    use std::io::Write;
    std::io::stdout()
        .flush()
        .map_err(io_err("writing to stdout"))
}

/// Starts serving in plugin mode with an explicit handshake environment
/// (what [`serve`] does after reading the process environment), without
/// printing anything. Checks the cookie, negotiates the protocol and turns
/// on mTLS when `env.client_cert` is set.
pub async fn start<P: Provider>(
    provider: P,
    opts: &ServeOptions,
    env: &HandshakeEnv,
) -> Result<RunningServer, ServeError> {
    env.check_cookie()?;
    env.protocol()?;
    let listener = match opts.transport {
        Transport::Unix => Listener::bind_unix(env.unix_socket_dir.as_deref())?,
        Transport::Tcp => {
            let (min, max) = env.port_range()?;
            Listener::bind_tcp(min, max).await?
        }
    };
    let (acceptor, cert) = match env.client_cert.as_deref() {
        Some(pem) => {
            tracing::info!("configuring server automatic mTLS");
            let identity = ServerIdentity::generate()?;
            let cfg = tls::server_config(&identity, pem)?;
            (
                Some(TlsAcceptor::from(cfg)),
                Some(identity.cert_der().to_vec()),
            )
        }
        None => (None, None),
    };
    Ok(run(provider, listener, acceptor, cert, opts).await)
}

/// Starts serving in debug/reattach mode: unix socket, no TLS, no cookie.
/// The returned handle gives the `TF_REATTACH_PROVIDERS` JSON.
pub async fn start_debug<P: Provider>(
    provider: P,
    opts: &ServeOptions,
) -> Result<RunningServer, ServeError> {
    let listener = Listener::bind_unix(None)?;
    Ok(run(provider, listener, None, None, opts).await)
}

/// A provider being served; dropping it does not stop the server.
pub struct RunningServer {
    network: &'static str,
    address: String,
    server_cert_der: Option<Vec<u8>>,
    reattach: ReattachConfig,
    shutdown: Arc<watch::Sender<bool>>,
    task: JoinHandle<Result<(), ServeError>>,
}

/// Debug-mode handle (same type as plugin mode).
pub type DebugServer = RunningServer;

impl RunningServer {
    /// `"unix"` or `"tcp"`.
    pub fn network(&self) -> &'static str {
        self.network
    }

    /// Socket path or `127.0.0.1:port`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// DER of the ephemeral server certificate when serving TLS.
    pub fn server_cert_der(&self) -> Option<&[u8]> {
        self.server_cert_der.as_deref()
    }

    /// The go-plugin handshake line for this server.
    pub fn handshake_line(&self) -> String {
        handshake::handshake_line(self.network, &self.address, self.server_cert_der())
    }

    /// Reattach information for this server.
    pub fn reattach_config(&self) -> &ReattachConfig {
        &self.reattach
    }

    /// The `TF_REATTACH_PROVIDERS` JSON for this server.
    pub fn reattach_json(&self) -> String {
        self.reattach.to_json()
    }

    /// Asks the server to stop gracefully (same as `GRPCController.Shutdown`).
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    fn shutdown_handle(&self) -> Arc<watch::Sender<bool>> {
        self.shutdown.clone()
    }

    /// Waits until the server has stopped.
    pub async fn wait(self) -> Result<(), ServeError> {
        self.task.await?
    }
}

async fn run<P: Provider>(
    provider: P,
    listener: Listener,
    acceptor: Option<TlsAcceptor>,
    server_cert_der: Option<Vec<u8>>,
    opts: &ServeOptions,
) -> RunningServer {
    let network = listener.network();
    let address = listener.address();
    let reattach = ReattachConfig {
        provider_address: opts.provider_address.clone(),
        pid: std::process::id(),
        network: network.to_string(),
        address: address.clone(),
    };
    let (tx, rx) = watch::channel(false);
    let tx = Arc::new(tx);

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let provider_service = ProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: tx.clone(),
        }))
        .add_service(GrpcStdioServer::new(Stdio {
            shutdown: rx.clone(),
        }))
        .add_service(provider_service);

    let (incoming, acceptor_task) = accept_loop(listener, acceptor, rx.clone());
    let mut stop = rx.clone();
    let mut grace = rx;
    let tx_for_task = tx.clone();
    let task = tokio::spawn(async move {
        let serving = router.serve_with_incoming_shutdown(incoming, async move {
            let _ = stop.wait_for(|v| *v).await;
            tracing::debug!("plugin server shutting down");
        });
        let result = tokio::select! {
            res = serving => res.map_err(ServeError::from),
            _ = async {
                let _ = grace.wait_for(|v| *v).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!("graceful shutdown timed out; dropping open connections");
                Ok(())
            }
        };
        // Make sure the listener (and the socket directory) is gone too.
        let _ = tx_for_task.send(true);
        let _ = acceptor_task.await;
        result
    });
    RunningServer {
        network,
        address,
        server_cert_der,
        reattach,
        shutdown: tx,
        task,
    }
}

struct Controller {
    shutdown: Arc<watch::Sender<bool>>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _req: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::info!("shutdown requested by the plugin host");
        let _ = self.shutdown.send(true);
        Ok(Response::new(Empty {}))
    }
}

struct Stdio {
    shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    /// Nothing is captured (logs already go to stderr, which go-plugin
    /// reads directly); the stream stays open until shutdown so the host
    /// does not treat it as an error, then ends so shutdown can complete.
    async fn stream_stdio(
        &self,
        _req: Request<()>,
    ) -> Result<Response<tonic::codegen::BoxStream<StdioData>>, Status> {
        let (tx, rx) = mpsc::channel::<Result<StdioData, Status>>(1);
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.wait_for(|v| *v) => {}
                _ = tx.closed() => {}
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Accepts connections (and TLS handshakes, concurrently) until shutdown,
/// feeding them to tonic. The listener, and with it the temporary socket
/// directory, is dropped when the loop ends.
fn accept_loop(
    listener: Listener,
    acceptor: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) -> (ReceiverStream<Result<BoxIo, io::Error>>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(16);
    let task = tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                _ = shutdown.wait_for(|v| *v) => break,
                conn = listener.accept() => conn,
            };
            let io = match conn {
                Ok(io) => io,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match &acceptor {
                None => {
                    if tx.send(Ok(io)).await.is_err() {
                        break;
                    }
                }
                Some(acceptor) => {
                    let (acceptor, tx) = (acceptor.clone(), tx.clone());
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io)).await
                        {
                            Ok(Ok(stream)) => {
                                let _ = tx.send(Ok(BoxIo::new(stream))).await;
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "rejected TLS connection")
                            }
                            Err(_) => tracing::warn!("TLS handshake timed out"),
                        }
                    });
                }
            }
        }
        drop(listener);
    });
    (ReceiverStream::new(rx), task)
}

enum Listener {
    Unix {
        inner: UnixListener,
        path: PathBuf,
        // removed (with the socket) on drop
        _dir: tempfile::TempDir,
    },
    Tcp(TcpListener),
}

impl Listener {
    fn bind_unix(parent: Option<&str>) -> Result<Listener, ServeError> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("plugin");
        let dir = match parent {
            Some(p) => builder.tempdir_in(p),
            None => builder.tempdir(),
        }
        .map_err(io_err("creating the plugin socket directory"))?;
        let path = dir.path().join("provider.sock");
        let inner = UnixListener::bind(&path).map_err(io_err("binding the plugin unix socket"))?;
        Ok(Listener::Unix {
            inner,
            path,
            _dir: dir,
        })
    }

    async fn bind_tcp(min: u16, max: u16) -> Result<Listener, ServeError> {
        if min == 0 && max == 0 {
            let l = TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(io_err("binding the plugin TCP listener"))?;
            return Ok(Listener::Tcp(l));
        }
        for port in min..=max {
            if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
                return Ok(Listener::Tcp(l));
            }
        }
        Err(ServeError::Io {
            context: "binding the plugin TCP listener",
            source: io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("no free port in PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT ({min}..={max})"),
            ),
        })
    }

    fn network(&self) -> &'static str {
        match self {
            Listener::Unix { .. } => "unix",
            Listener::Tcp(_) => "tcp",
        }
    }

    fn address(&self) -> String {
        match self {
            Listener::Unix { path, .. } => path.display().to_string(),
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "127.0.0.1:0".to_string()),
        }
    }

    async fn accept(&self) -> io::Result<BoxIo> {
        match self {
            Listener::Unix { inner, .. } => Ok(BoxIo::new(inner.accept().await?.0)),
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                let _ = s.set_nodelay(true);
                Ok(BoxIo::new(s))
            }
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// Any accepted connection (plain or TLS, unix or TCP).
struct BoxIo(Box<dyn Io>);

impl BoxIo {
    fn new(io: impl Io) -> Self {
        BoxIo(Box::new(io))
    }
}

impl Connected for BoxIo {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for BoxIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for BoxIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}
