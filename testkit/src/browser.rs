//! A real headless Chromium (Debian's `chromium`, never a downloaded one),
//! driven over WebDriver by `chromedriver` through fantoccini. Test hosts
//! such as `sp.test` and `idp.test` resolve to 127.0.0.1 inside the browser
//! only, so SP and IdP are different sites, as they are in production.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::ports::free_port;

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// The chromium and chromedriver binaries, or None (the test is then
/// skipped, except in the full suite, where their absence fails it).
pub fn available() -> bool {
    let found = ["/usr/bin/chromium", "/usr/bin/chromedriver"]
        .iter()
        .all(|p| std::path::Path::new(p).exists());
    crate::required(found, "chromium and chromium-driver")
}

impl Browser {
    /// A fresh browser profile; `hosts` are names mapped to 127.0.0.1.
    pub async fn start(hosts: &[&str]) -> Browser {
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        assert!(
            crate::ports::wait_for_port(port, Duration::from_secs(20)),
            "chromedriver did not start"
        );
        let profile = tempfile::tempdir().expect("profile dir");
        let rules: Vec<String> = hosts.iter().map(|h| format!("MAP {h} 127.0.0.1")).collect();
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--ignore-certificate-errors".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--host-resolver-rules={}", rules.join(", ")),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": "/usr/bin/chromium", "args": args}),
        );
        caps.insert("acceptInsecureCerts".into(), json!(true));
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with chromium");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Waits until the current URL satisfies `done` (navigations chained
    /// through auto-submitting forms take a few hops).
    pub async fn wait_for_url(&self, done: impl Fn(&str) -> bool) -> String {
        let done = &done;
        let polled = poll(Duration::from_secs(30), || async move {
            let url = self.client.current_url().await.expect("current url");
            if done(url.as_str()) {
                Ok(url.to_string())
            } else {
                Err(url)
            }
        })
        .await;
        match polled {
            Ok(url) => url,
            Err(url) => {
                let page = self.client.source().await.unwrap_or_default();
                panic!("still at {url}:\n{}", &page[..page.len().min(4000)]);
            }
        }
    }

    /// Waits until the page's visible text contains `needle` (a form post
    /// and its redirect may still be under way when a click returns, and
    /// the URL alone cannot tell when the redirect lands on the same page).
    pub async fn wait_for_text(&self, needle: &str) -> String {
        poll(Duration::from_secs(30), || async move {
            let text = self.try_text().await.unwrap_or_default();
            if text.contains(needle) {
                Ok(text)
            } else {
                Err(text)
            }
        })
        .await
        .unwrap_or_else(|text| panic!("{needle:?} never appeared; the page says:\n{text}"))
    }

    /// The page's visible text (retried briefly: right after a click or a
    /// URL change the next document may not have its body yet).
    pub async fn text(&self) -> String {
        poll(Duration::from_secs(10), || async move {
            self.try_text().await.ok_or(())
        })
        .await
        .unwrap_or_else(|()| panic!("the page never had a readable body"))
    }

    /// The body's text, or `None` mid-navigation: the old document is gone
    /// and the new one has no body yet, or the body found went stale before
    /// its text was read. That is "not yet", not a failure.
    async fn try_text(&self) -> Option<String> {
        let body = self
            .client
            .find(fantoccini::Locator::Css("body"))
            .await
            .ok()?;
        body.text().await.ok()
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Whether an element matching `css` is on the page.
    pub async fn has(&self, css: &str) -> bool {
        self.client
            .find_all(fantoccini::Locator::Css(css))
            .await
            .is_ok_and(|all| !all.is_empty())
    }

    /// Replaces the value of the input or textarea `css` with `value`.
    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clear");
        // Long values (certificates) are set directly: typing them is slow.
        self.client
            .execute(
                "arguments[0].value = arguments[1];",
                vec![serde_json::to_value(&el).expect("element"), json!(value)],
            )
            .await
            .expect("set value");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// A PNG of the page under `target/console-screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self.client.screenshot().await.expect("screenshot");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// axe-core's accessibility violations of serious or critical impact on
    /// the current page (WCAG 2.1 A/AA and best practices), as text.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/browser/node_modules/axe-core/axe.min.js"
        ))
        .expect("axe-core (scripts/install-test-deps installs it)");
        self.client
            .execute(&format!("{axe}\n;return true;"), vec![])
            .await
            .expect("inject axe-core");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})\
                 .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                   .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))\
                 .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        serde_json::from_value(found).unwrap_or_default()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// Runs `attempt` every 100 ms until it succeeds or `within` has passed;
/// then the last failure.
async fn poll<T, E, F, Fut>(within: Duration, mut attempt: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + within;
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(last) if Instant::now() >= deadline => return Err(last),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
