//! A small Chrome DevTools protocol client over `--remote-debugging-pipe`:
//! the browser reads NUL-terminated JSON commands on its fd 3 and writes
//! responses and events on its fd 4 (a shell maps them to the child's
//! stdin and stdout). No WebSocket, no extra crate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::oneshot;

/// The largest message read from the browser (a screenshot is a few MB).
const MAX_MESSAGE: u64 = 64 * 1024 * 1024;
/// How many of the page's console errors and exceptions are kept.
const MAX_PROBLEMS: usize = 100;
/// How long one command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A headless Chromium driven over its DevTools pipe; killed on drop.
pub struct Browser {
    child: Child,
    stdin: tokio::sync::Mutex<ChildStdin>,
    pending: Pending,
    next_id: AtomicU64,
    /// Console errors and uncaught exceptions of the pages.
    problems: Arc<Mutex<Vec<String>>>,
    /// Where screenshots go.
    artifacts: PathBuf,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `binary` headless with a fresh profile; its stderr goes to
    /// `chromium.log` in `artifacts`, where screenshots go too.
    pub async fn launch(binary: &Path, artifacts: &Path) -> std::io::Result<Browser> {
        let log = artifacts.join("chromium.log");
        let profile = tempfile::tempdir()?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-pipe",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let pending: Pending = Arc::default();
        let problems: Arc<Mutex<Vec<String>>> = Arc::default();
        tokio::spawn(read_messages(
            BufReader::new(stdout),
            Arc::clone(&pending),
            Arc::clone(&problems),
        ));
        Ok(Browser {
            child,
            stdin: tokio::sync::Mutex::new(stdin),
            pending,
            next_id: AtomicU64::new(1),
            problems,
            artifacts: artifacts.to_path_buf(),
            _profile: profile,
        })
    }

    /// Sends `method` (to the page of `session`, or the browser) and
    /// returns its result, or the protocol's error.
    pub async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let mut bytes = serde_json::to_vec(&message).map_err(|e| e.to_string())?;
        bytes.push(0);
        {
            let mut stdin = self.stdin.lock().await;
            stdin
                .write_all(&bytes)
                .await
                .map_err(|e| format!("{method}: writing to the browser: {e}"))?;
            stdin.flush().await.map_err(|e| e.to_string())?;
        }
        let answer = tokio::time::timeout(COMMAND_TIMEOUT, rx)
            .await
            .map_err(|_| format!("{method}: no answer in {COMMAND_TIMEOUT:?}"))?
            .map_err(|_| format!("{method}: the browser went away"))?;
        match answer.get("error") {
            Some(error) => Err(format!("{method}: {error}")),
            None => Ok(answer.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Opens `url` in a new tab and attaches to it.
    pub async fn open(&self, url: &str) -> Result<Page<'_>, String> {
        let target = self
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await?;
        let target_id = target["targetId"].as_str().ok_or("no targetId")?;
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .await?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or("no sessionId")?
            .to_string();
        let page = Page {
            browser: self,
            session,
        };
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            page.call(domain, json!({})).await?;
        }
        page.call("Page.navigate", json!({ "url": url })).await?;
        Ok(page)
    }

    /// Asks the browser to close (it ends its own child processes) and
    /// waits for it to exit, at most [`COMMAND_TIMEOUT`]; dropping kills
    /// it otherwise.
    pub async fn close(mut self) {
        // The browser may exit before it answers.
        let _ = self.call(None, "Browser.close", json!({})).await;
        let _ = tokio::time::timeout(COMMAND_TIMEOUT, self.child.wait()).await;
    }

    /// The console errors and exceptions seen so far.
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap().clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Dispatches the browser's answers to their callers and keeps the pages'
/// errors; ends when the browser closes its pipe, failing the calls still
/// waiting (their senders dropped).
async fn read_messages(
    reader: BufReader<tokio::process::ChildStdout>,
    pending: Pending,
    problems: Arc<Mutex<Vec<String>>>,
) {
    dispatch(reader, &pending, &problems).await;
    pending.lock().unwrap().clear();
}

async fn dispatch(
    mut reader: BufReader<tokio::process::ChildStdout>,
    pending: &Pending,
    problems: &Mutex<Vec<String>>,
) {
    loop {
        let mut buffer = Vec::new();
        match (&mut reader)
            .take(MAX_MESSAGE)
            .read_until(0, &mut buffer)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if buffer.pop() != Some(0) {
            // Over MAX_MESSAGE or cut short: nothing sensible follows.
            return;
        }
        let Ok(message) = serde_json::from_slice::<Value>(&buffer) else {
            continue;
        };
        if let Some(id) = message.get("id").and_then(Value::as_u64) {
            if let Some(tx) = pending.lock().unwrap().remove(&id) {
                let _ = tx.send(message);
            }
            continue;
        }
        let problem = match message["method"].as_str() {
            Some("Runtime.exceptionThrown") => Some(format!(
                "exception: {}",
                message["params"]["exceptionDetails"]
            )),
            Some("Log.entryAdded") if message["params"]["entry"]["level"] == "error" => {
                Some(format!("console: {}", message["params"]["entry"]["text"]))
            }
            Some("Runtime.consoleAPICalled") if message["params"]["type"] == "error" => {
                Some(format!("console.error: {}", message["params"]["args"]))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            let mut problems = problems.lock().unwrap();
            if problems.len() < MAX_PROBLEMS {
                problems.push(problem);
            }
        }
    }
}

/// One tab of a [`Browser`].
pub struct Page<'a> {
    browser: &'a Browser,
    session: String,
}

impl Page<'_> {
    async fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        self.browser.call(Some(&self.session), method, params).await
    }

    /// The value of the JavaScript `expression` (promises awaited).
    pub async fn evaluate(&self, expression: &str) -> Result<Value, String> {
        let answer = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await?;
        if let Some(details) = answer.get("exceptionDetails") {
            return Err(format!("{expression}: {details}"));
        }
        Ok(answer["result"]["value"].clone())
    }

    /// Waits until the JavaScript `condition` holds in the page, checked
    /// at once and then at every change of the document (a
    /// MutationObserver, no polling), for at most `within`; `false` if it
    /// never held.
    pub async fn wait_for(&self, condition: &str, within: Duration) -> Result<bool, String> {
        let expression = format!(
            r#"new Promise((resolve) => {{
                const check = () => {{ try {{ return Boolean({condition}); }} catch (e) {{ return false; }} }};
                if (check()) {{ resolve(true); return; }}
                const observer = new MutationObserver(() => {{
                    if (check()) {{ observer.disconnect(); clearTimeout(timer); resolve(true); }}
                }});
                observer.observe(document, {{ subtree: true, childList: true, attributes: true, characterData: true }});
                const timer = setTimeout(() => {{ observer.disconnect(); resolve(check()); }}, {ms});
            }})"#,
            ms = within.as_millis()
        );
        Ok(self.evaluate(&expression).await? == Value::Bool(true))
    }

    /// Waits as [`wait_for`](Self::wait_for) does; when `condition` never
    /// holds, panics with `what`, the page's text and errors, and a
    /// screenshot (`failure-*.png`).
    pub async fn expect(&self, condition: &str, within: Duration, what: &str) {
        match self.wait_for(condition, within).await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => panic!("waiting for {what}: {e}"),
        }
        let name = what.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
        let shot = self.screenshot(&format!("failure-{name}")).await;
        let text = self.evaluate("document.body.innerText").await;
        panic!(
            "the page never showed {what} ({condition}) in {within:?}; screenshot: {shot:?}; \
             page errors: {:?}; the page's text: {text:?}",
            self.browser.problems()
        );
    }

    /// Saves a PNG screenshot of the page as `<name>.png` in the browser's
    /// artifacts directory; returns its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf, String> {
        let path = self.browser.artifacts.join(format!("{name}.png"));
        let path = path.as_path();
        use base64::Engine as _;
        let shot = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| e.to_string())?;
        std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path.to_path_buf())
    }
}
