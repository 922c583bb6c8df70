//! Stoplight Prism, the mock server the AMS contract tests run the connectors against.
//!
//! Each test starts Prism on one of the vendors' own OpenAPI files (the unmodified copies in
//! `../shared/specs`, listed in its `SOURCES.md`) and points a connector at it. Prism answers from
//! the spec's examples (or, `dynamic`, with data generated from its schemas) and validates every
//! request the connector sends against the vendor's contract — path, parameters, body, security.
//! That is the point: a connector that builds a request the real AMS would reject (a wrong
//! parameter name, a missing required field, an enum value the vendor does not know) fails here,
//! in CI, not at an agency on its first call.
//!
//! Prism is `@stoplight/prism-cli` 5.14.2, pinned in `tools/prism/package-lock.json` and installed
//! by `make prism-deps` (which `make test-rust` runs). What it does, as measured with that version:
//!
//! - It is ready once it prints `… [CLI] ▶  start     Prism is listening on
//!   http://127.0.0.1:PORT`, 2–4 s after it starts on a busy 2-core machine.
//! - It logs each way a request breaks the spec on a line of its own, such as
//!   `… [VALIDATOR] ✖  error     Violation: request.query.limit Request query parameter limit
//!   must be <= 500` (`⚠  warning` for warning-level ones). The log is the one reliable signal:
//!   the status it answers with depends on the spec — the operation's own 400 (401 for missing
//!   credentials) when it declares one, a 422 built from a `default` response, a 500 on HubSpot,
//!   whose `default` is `*/*` without an example — and the `sl-violations` header that comes with
//!   it is not something a connector shows. Prism runs without `--errors`: with that flag it stops
//!   logging the violations.
//! - `Violation: response…` lines are Prism checking its own answer against the spec (HubSpot's
//!   examples are `null`), nothing a connector did; they are not counted.
//! - A violation reaches the log a moment after the answer it belongs to, so settle first:
//!
//! ```ignore
//! let prism = prism::start("applied-epic/account-v1.yml", false).await;
//! // … a connector with base URL `prism.base` searches by phone …
//! prism.settle().await;
//! prism.assert_no_violations("a search by phone");
//! ```

// Test helpers panic on failure: that is how a test reports it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// What Prism prints once it is serving (after it has bound the port).
const READY: &str = "Prism is listening on";
/// The logger name on Prism's validation lines.
const VALIDATOR: &str = "[VALIDATOR]";
/// How each violation line about the request (not about Prism's own answer) begins.
const REQUEST_VIOLATION: &str = "Violation: request";
/// How long Prism may take to start: seconds usually, more on a machine busy compiling.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long [`Prism::settle`] waits for its marker request to reach the log.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Ports tried: another process may take the free port between our pick and Prism's bind.
const PORT_ATTEMPTS: usize = 3;
/// How often the log is looked at while waiting on it.
const POLL: Duration = Duration::from_millis(25);

/// Numbers [`Prism::settle`]'s marker requests, so each is told apart from the ones before it.
static MARKERS: AtomicU64 = AtomicU64::new(0);

/// Prism mocking one vendor spec on a port of its own; killed when dropped.
#[derive(Debug)]
pub(crate) struct Prism {
    /// Where it listens, `http://127.0.0.1:PORT` without a trailing slash: the connector's base URL.
    pub(crate) base: String,
    child: Child,
    /// Everything Prism printed, stdout and stderr, a line an entry, colour codes removed.
    log: Arc<Mutex<Vec<String>>>,
}

/// Starts Prism on `spec`, a path under the shared specs folder (`"applied-epic/account-v1.yml"`),
/// answering from the spec's examples or, with `dynamic`, with data generated from its schemas.
/// Returns once it listens.
///
/// The shared folder is `../shared` beside the workspace; `RINGSIDE_SHARED_DIR` names another
/// (a relative path is taken from `crates/ams`). Panics, with Prism's output, if Prism exits or is
/// not listening within 60 s.
pub(crate) async fn start(spec: &str, dynamic: bool) -> Prism {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = manifest.join("../../tools/prism/node_modules/.bin/prism");
    assert!(
        bin.is_file(),
        "Prism is not installed ({} is missing): run `make prism-deps`",
        bin.display()
    );
    let shared = std::env::var_os("RINGSIDE_SHARED_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| manifest.join("../../../shared"), PathBuf::from);
    let spec = shared.join("specs").join(spec);
    assert!(
        spec.is_file(),
        "no spec at {} (RINGSIDE_SHARED_DIR names the shared folder)",
        spec.display()
    );
    for _ in 0..PORT_ATTEMPTS {
        if let Some(prism) = launch(&bin, &spec, dynamic).await {
            return prism;
        }
    }
    panic!(
        "Prism found its port taken {PORT_ATTEMPTS} times over for {}",
        spec.display()
    );
}

/// One try on a fresh port: `None` if another process took the port before Prism could.
async fn launch(bin: &Path, spec: &Path, dynamic: bool) -> Option<Prism> {
    let port = free_port();
    let mut command = Command::new(bin);
    command.args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()]);
    if dynamic {
        command.arg("-d");
    }
    command
        .arg(spec)
        // Plain text even where CI forces colours, so the log reads as Prism's words.
        .env("FORCE_COLOR", "0")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let log = Arc::new(Mutex::new(Vec::new()));
    let readers = [
        record(stdout, Arc::clone(&log)),
        record(stderr, Arc::clone(&log)),
    ];
    let mut prism = Prism {
        base: format!("http://127.0.0.1:{port}"),
        child,
        log,
    };
    let waited = tokio::time::timeout(START_TIMEOUT, async {
        loop {
            if prism.logged(|line| line.contains(READY)) {
                return None;
            }
            if let Some(status) = prism.child.try_wait().expect("asking whether Prism runs") {
                return Some(status);
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await;
    match waited {
        Ok(None) => Some(prism),
        Ok(Some(status)) => {
            // All it printed on the way out, before judging why it stopped.
            for reader in readers {
                let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
            }
            if prism.logged(|line| line.contains("EADDRINUSE")) {
                return None;
            }
            panic!(
                "Prism exited ({status}) before listening:\n{}",
                prism.log_text()
            );
        }
        Err(_) => panic!(
            "Prism was not listening after {} s:\n{}",
            START_TIMEOUT.as_secs(),
            prism.log_text()
        ),
    }
}

impl Prism {
    /// Returns once Prism has logged all it will about the requests already answered: it sends
    /// Prism a marker request (answered with Prism's own 404) and waits for that to be logged,
    /// which Prism does after everything it logged before.
    pub(crate) async fn settle(&self) {
        let path = format!(
            "/__ringside/settle/{}",
            MARKERS.fetch_add(1, Ordering::Relaxed)
        );
        let addr = self
            .base
            .strip_prefix("http://")
            .expect("the base is http://127.0.0.1:PORT")
            .to_owned();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        // Off the runtime's threads, so the log keeps being read meanwhile.
        tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(&addr).expect("connecting to Prism");
            stream.set_read_timeout(Some(SETTLE_TIMEOUT)).unwrap();
            stream
                .write_all(request.as_bytes())
                .expect("sending Prism the marker request");
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        })
        .await
        .unwrap();
        // Prism's request line names the path: `… [HTTP SERVER] get /__ringside/settle/7 ℹ …`.
        let logged = format!(" {path} ");
        let waited = tokio::time::timeout(SETTLE_TIMEOUT, async {
            while !self.logged(|line| line.contains(&logged)) {
                tokio::time::sleep(POLL).await;
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "Prism did not log {path} within {} s:\n{}",
            SETTLE_TIMEOUT.as_secs(),
            self.log_text()
        );
    }

    /// The lines in which Prism reported a request that broke the spec — a `[VALIDATOR]` line
    /// with `Violation: request…` — of those logged so far ([`Prism::settle`] waits for the rest).
    pub(crate) fn violations(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(VALIDATOR) && line.contains(REQUEST_VIOLATION))
            .cloned()
            .collect()
    }

    /// Panics, naming `what` and listing the violations with Prism's whole log, if any request
    /// broke the vendor's spec. Call [`Prism::settle`] first.
    pub(crate) fn assert_no_violations(&self, what: &str) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "{what}: {} violation(s) of the vendor's spec:\n{}\n\nPrism's log:\n{}",
            violations.len(),
            violations.join("\n"),
            self.log_text()
        );
    }

    /// Whether any line logged so far satisfies `matches`.
    fn logged(&self, matches: impl Fn(&str) -> bool) -> bool {
        self.log.lock().unwrap().iter().any(|line| matches(line))
    }

    /// The log so far, for failure messages.
    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// Copies `stream` into `log`, line by line, until Prism closes it.
fn record(
    stream: impl AsyncRead + Unpin + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).split(b'\n');
        while let Ok(Some(line)) = lines.next_segment().await {
            let line = plain(&String::from_utf8_lossy(&line));
            log.lock().unwrap().push(line);
        }
    })
}

/// `line` without terminal colour codes (`ESC [ … final byte`) or a trailing carriage return.
fn plain(line: &str) -> String {
    let mut parts = line.split('\u{1b}');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let rest = part.strip_prefix('[').map_or(part, |csi| {
            csi.find(|c: char| ('@'..='~').contains(&c))
                .map_or("", |end| &csi[end + 1..])
        });
        out.push_str(rest);
    }
    out.trim_end_matches('\r').to_owned()
}
