//! The built `ssoplane` binary as a child process: spawned with whatever
//! command line and environment the caller configured, ready once
//! `/readyz` answers 200, stopped gracefully by SIGTERM ([`Process::terminate`])
//! or killed when dropped. Also the small blocking HTTP/1.1 client the
//! readiness check uses, for harnesses that need no async runtime.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A running server process listening at `url`.
pub struct Process {
    pub child: Child,
    pub url: String,
    /// Where the process's output goes, shown when it dies during start-up.
    log: Option<PathBuf>,
}

impl Process {
    /// Spawns `cmd` (a `serve` command line that listens at `url`, e.g.
    /// `http://127.0.0.1:PORT`) and waits until it is ready; `log` is the
    /// file its stderr was sent to, if any.
    pub fn start(mut cmd: Command, url: impl Into<String>, log: Option<PathBuf>) -> Process {
        let child = cmd.spawn().expect("spawn ssoplane serve");
        let mut p = Process {
            child,
            url: url.into(),
            log,
        };
        p.wait_ready();
        p
    }

    /// Polls `/readyz` until it answers 200 (at most 60 s), panicking with
    /// the log when the process exits first.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if http(&self.url, "GET", "/readyz", &[], None).0 == 200 {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = self
                    .log
                    .as_ref()
                    .map(|l| std::fs::read_to_string(l).unwrap_or_default())
                    .unwrap_or_default();
                panic!("server exited with {status}: {log}");
            }
            assert!(
                Instant::now() < deadline,
                "server not ready at {}",
                self.url
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (a graceful stop), then its exit status.
    pub fn terminate(mut self) -> ExitStatus {
        sigterm(&self.child);
        self.child.wait().expect("wait for the server")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGTERM to a child process, by kill(1) rather than an `unsafe` libc call.
pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill(1)");
    assert!(status.success(), "kill -TERM {}", child.id());
}

/// One blocking HTTP/1.1 request (`Connection: close`) to `base`
/// (`http://host:port`): `(status, body)`, with status 0 when the server
/// could not be reached. `headers` are sent as given, `Content-Length` and
/// `Connection` added.
pub fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let body = body.unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    if s.write_all(req.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
