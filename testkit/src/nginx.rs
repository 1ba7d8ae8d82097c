//! A real nginx: a site configuration in a temporary prefix, started in the
//! foreground and stopped with SIGTERM (so its workers go with the master).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::ports::wait_for_port;
use crate::server::sigterm;

pub struct Nginx {
    child: Child,
    pub dir: tempfile::TempDir,
}

/// The nginx binary, if installed.
pub fn find() -> Option<&'static str> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

/// The nginx binary, or None (skipped outside the full suite, fatal in it).
pub fn binary() -> Option<&'static str> {
    let found = find();
    crate::required(found.is_some(), "nginx").then_some(found?)
}

impl Nginx {
    /// Starts nginx with `site` (an http-block fragment; `{dir}` in it is
    /// replaced by the prefix directory) and waits until `port` accepts.
    pub fn start(binary: &str, site: &str, port: u16) -> Nginx {
        let dir = tempfile::tempdir().expect("nginx prefix");
        let d = dir.path().display().to_string();
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp dir");
        std::fs::write(dir.path().join("site.conf"), site.replace("{dir}", &d)).expect("site");
        std::fs::write(
            dir.path().join("nginx.conf"),
            format!(
                "worker_processes 1; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;\nevents {{ worker_connections 1024; }}\n\
                 http {{ access_log off; client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp; uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;\n\
                 include {d}/site.conf; }}\n"
            ),
        )
        .expect("nginx.conf");
        let child = Command::new(binary)
            .args(["-c", &format!("{d}/nginx.conf"), "-p", &d])
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx");
        let nginx = Nginx { child, dir };
        assert!(
            wait_for_port(port, Duration::from_secs(10)),
            "nginx did not start: {}",
            std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default()
        );
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master must take its worker down with it.
        sigterm(&self.child);
        let _ = self.child.wait();
    }
}
