//! A real headless Chromium driven through chromedriver: [`Browser::start`] spawns chromedriver
//! on a free port and opens a session with the flags of STYLE.md. A missing chromedriver or
//! Chromium fails the test with a clear message; nothing is skipped.
//!
//! Below it, the page helpers every browser test uses: signing in, filling and clicking by
//! element id, reading texts and properties, waiting for a text.
#![allow(dead_code)]

use crate::common::PASSWORD;
use fantoccini::{Client, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: fantoccini::Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    pub async fn start() -> Browser {
        for (path, pkg) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: the browser tests need Debian's `{pkg}` \
                 (scripts/test installs them: apt-get install -y chromium chromium-driver)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let mut up = false;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "chromedriver did not listen on {url} within 5 s");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = fantoccini::ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session through {url}: {e}"));
        Browser {
            client,
            driver,
            _profile: profile,
        }
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

/// Signs `name` in (with [`PASSWORD`]) on the sign-in page itself.
pub async fn sign_in(b: &Client, base: &str, name: &str) {
    b.goto(&format!("{base}/signin")).await.unwrap();
    submit_sign_in(b, name).await;
}

/// Opens `path` as an anonymous user, checks it sends to the sign-in page, and signs `name`
/// in there (the sign-in then returns to `path`).
pub async fn sign_in_from(b: &Client, base: &str, path: &str, name: &str) {
    b.goto(&format!("{base}{path}")).await.unwrap();
    assert!(b.current_url().await.unwrap().path().starts_with("/signin"));
    submit_sign_in(b, name).await;
}

/// Fills the sign-in form on the current page and waits for the signed-in shell.
async fn submit_sign_in(b: &Client, name: &str) {
    type_into(b, "name", name).await;
    type_into(b, "password", PASSWORD).await;
    click(b, "signin").await;
    b.wait().for_element(Locator::Id("whoami")).await.unwrap();
}

/// Clicks the element with that id. A part of the page that htmx refreshes (the job page's
/// progress, every second) can be swapped between finding the element and clicking it; the
/// click is then made on the new copy, as a person's next click would be.
pub async fn click(b: &Client, id: &str) {
    for attempt in 1.. {
        let element = b
            .wait()
            .for_element(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        match element.click().await {
            Ok(()) => return,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                    && attempt < 5 => {}
            Err(e) => panic!("clicking #{id}: {e}"),
        }
    }
}

/// Types `text` into the element with that id, after what it holds.
pub async fn type_into(b: &Client, id: &str, text: &str) {
    b.find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Replaces the value of the input with that id.
pub async fn fill(b: &Client, id: &str, value: &str) {
    let e = b
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"));
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// A DOM property (`value`, `checked`, ...) of the element with that id.
pub async fn prop(b: &Client, id: &str, name: &str) -> Option<String> {
    b.find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .prop(name)
        .await
        .unwrap()
}

/// The visible text of the first element matching `css`.
pub async fn text_of(b: &Client, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Waits until the element with that id contains `text` and returns its whole text.
pub async fn wait_for_text(b: &Client, id: &str, text: &str) -> String {
    b.wait()
        .for_element(Locator::XPath(&format!(
            "//*[@id='{id}' and contains(., '{text}')]"
        )))
        .await
        .unwrap_or_else(|e| panic!("#{id} containing {text:?}: {e}"))
        .text()
        .await
        .unwrap()
}

/// The path of the current page.
pub async fn current_path(b: &Client) -> String {
    b.current_url().await.unwrap().path().to_string()
}

/// Presses Create on the New page and returns the id of the draft it made, once its Frontend
/// step has loaded.
pub async fn create_draft(b: &Client) -> i64 {
    click(b, "create").await;
    b.wait()
        .for_element(fantoccini::Locator::Id("frontend-form"))
        .await
        .unwrap();
    let path = current_path(b).await;
    path.split('/')
        .nth(2)
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a draft's page: {path}"))
}
/// Saves what the window shows as `NAME.png` in the test's scratch directory and returns the
/// path, so a person can look at the page a test drove.
pub async fn screenshot(b: &fantoccini::Client, name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, b.screenshot().await.unwrap()).unwrap();
    path
}

/// Waits until `css` matches an element whose text is `text`, and returns the text it had.
pub async fn wait_for_css_text(
    b: &fantoccini::Client,
    css: &str,
    text: &str,
    within: Duration,
) -> String {
    let start = std::time::Instant::now();
    let mut last = String::new();
    while start.elapsed() < within {
        if let Ok(e) = b.find(fantoccini::Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if t == text {
                return t;
            }
            last = t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} did not read {text:?} within {within:?}; last {last:?}");
}

/// Waits until the browser is on a job page (an Apply or Destroy opened it) and returns the
/// job's id.
pub async fn wait_for_job_page(b: &Client) -> i64 {
    let started = std::time::Instant::now();
    while !current_path(b).await.starts_with("/jobs/") {
        assert!(
            started.elapsed().as_secs() < 20,
            "the job page did not open"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    current_path(b)
        .await
        .trim_start_matches("/jobs/")
        .parse()
        .unwrap()
}

/// Scrolls the element with `id` into view, for a screenshot of it.
pub async fn scroll_to(b: &Client, id: &str) {
    b.execute(
        "document.getElementById(arguments[0]).scrollIntoView()",
        vec![serde_json::json!(id)],
    )
    .await
    .unwrap();
}

/// Whether the page is wider than the window (it scrolls sideways).
pub async fn scrolls_sideways(b: &Client) -> bool {
    b.execute(
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth",
        vec![],
    )
    .await
    .unwrap()
    .as_bool()
    .unwrap()
}
