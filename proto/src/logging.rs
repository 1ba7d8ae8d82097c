//! hclog-style JSON logging on stderr, the format go-plugin hosts parse
//! from plugin stderr and Terraform re-emits under `TF_LOG_PROVIDER`.
//!
//! One JSON object per line:
//! `{"@level":"info","@message":"...","@module":"provider.ssoplane",
//! "@timestamp":"2026-01-02T03:04:05.123456Z", ...event fields}`.
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG`; unset means off.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};

/// Default `@module` value.
pub const DEFAULT_MODULE: &str = "provider.ssoplane";

/// Level filter from the Terraform log variables: `TF_LOG_PROVIDER` wins
/// over `TF_LOG`. `trace`/`debug`/`info`/`warn`/`error`/`off` (any case);
/// `json` and unrecognised non-empty values mean trace, as in Terraform.
pub fn level_from_vars(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> LevelFilter {
    let raw = tf_log_provider
        .filter(|s| !s.trim().is_empty())
        .or(tf_log.filter(|s| !s.trim().is_empty()));
    match raw.map(|s| s.trim().to_ascii_lowercase()) {
        None => LevelFilter::OFF,
        Some(s) => match s.as_str() {
            "off" => LevelFilter::OFF,
            "error" => LevelFilter::ERROR,
            "warn" => LevelFilter::WARN,
            "info" => LevelFilter::INFO,
            "debug" => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        },
    }
}

/// [`level_from_vars`] applied to the process environment.
pub fn level_from_env() -> LevelFilter {
    level_from_vars(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    )
}

/// Per-target filter: `level` for our code, at most WARN for the transport
/// stack (h2/hyper/tonic/rustls frame tracing would drown provider logs).
pub fn targets(level: LevelFilter) -> Targets {
    let quiet = level.min(LevelFilter::WARN);
    [
        "h2",
        "hyper",
        "hyper_util",
        "tower",
        "tonic",
        "rustls",
        "tokio_rustls",
    ]
    .into_iter()
    .fold(Targets::new().with_default(level), |t, target| {
        t.with_target(target, quiet)
    })
}

/// Installs the hclog layer on stderr as the global subscriber, with the
/// level from the environment (see [`targets`]). Returns false if a global
/// subscriber was already set (which is then left alone).
pub fn init(module: &str) -> bool {
    use tracing_subscriber::layer::SubscriberExt;
    let layer = HclogLayer::new(module, std::io::stderr).with_filter(targets(level_from_env()));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).is_ok()
}

/// A `tracing-subscriber` layer writing hclog JSON lines to `W`.
pub struct HclogLayer<W> {
    module: String,
    make_writer: W,
    // serialises whole lines when the writer is shared
    lock: Mutex<()>,
}

impl<W> HclogLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    /// A layer tagging lines with `@module = module`.
    pub fn new(module: &str, make_writer: W) -> Self {
        HclogLayer {
            module: module.to_string(),
            make_writer,
            lock: Mutex::new(()),
        }
    }

    /// Formats one event as an hclog JSON line (without newline).
    fn format(&self, event: &Event<'_>) -> String {
        let mut fields = FieldVisitor::default();
        event.record(&mut fields);
        let mut obj = Map::new();
        obj.insert(
            "@level".into(),
            level_name(*event.metadata().level()).into(),
        );
        obj.insert(
            "@message".into(),
            fields.message.take().unwrap_or_default().into(),
        );
        obj.insert("@module".into(), self.module.clone().into());
        obj.insert(
            "@timestamp".into(),
            humantime::format_rfc3339_micros(std::time::SystemTime::now())
                .to_string()
                .into(),
        );
        for (k, v) in fields.fields {
            if !k.starts_with('@') {
                obj.insert(k, v);
            }
        }
        Json::Object(obj).to_string()
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut line = self.format(event);
        line.push('\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut w = self.make_writer.make_writer();
        // Logging must never take the plugin down; a failed write is dropped.
        let _ = w.write_all(line.as_bytes());
        let _ = w.flush();
    }
}

#[derive(Default)]
struct FieldVisitor {
    message: Option<String>,
    fields: Vec<(String, Json)>,
}

impl FieldVisitor {
    fn put(&mut self, field: &Field, value: Json) {
        if field.name() == "message" {
            self.message = Some(match value {
                Json::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.push((field.name().to_string(), value));
        }
    }
}

impl Visit for FieldVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Json::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Json::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Json::String(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    #[test]
    fn writes_hclog_json_lines() {
        let buf = Buf::default();
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new(DEFAULT_MODULE, buf.clone()).with_filter(LevelFilter::DEBUG));
        tracing::subscriber::with_default(sub, || {
            tracing::info!(user = "alice", count = 3, ok = true, "created user");
            tracing::debug!("details");
            tracing::trace!("filtered out");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Json> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        assert_eq!(first["@level"], "info");
        assert_eq!(first["@message"], "created user");
        assert_eq!(first["@module"], "provider.ssoplane");
        assert_eq!(first["user"], "alice");
        assert_eq!(first["count"], 3);
        assert_eq!(first["ok"], true);
        let ts = first["@timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), "2026-01-02T03:04:05.123456Z".len(), "{ts}");
        assert!(ts.ends_with('Z'));
        assert_eq!(lines[1]["@level"], "debug");
    }

    #[test]
    fn level_selection() {
        assert_eq!(level_from_vars(None, None), LevelFilter::OFF);
        assert_eq!(
            level_from_vars(Some("DEBUG"), Some("error")),
            LevelFilter::DEBUG
        );
        assert_eq!(level_from_vars(Some(""), Some("warn")), LevelFilter::WARN);
        assert_eq!(level_from_vars(None, Some("json")), LevelFilter::TRACE);
        assert_eq!(
            level_from_vars(Some("off"), Some("trace")),
            LevelFilter::OFF
        );
        let t = targets(LevelFilter::TRACE);
        assert!(t.would_enable("ssoplane_proto::server", &Level::TRACE));
        assert!(!t.would_enable("h2::codec", &Level::DEBUG));
        assert!(t.would_enable("h2::codec", &Level::WARN));
    }
}
