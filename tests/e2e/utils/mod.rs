//! Helpers shared by the end-to-end scenarios: finding the programs under test, starting
//! `tauri-driver`, and where to leave artifacts (logs, screenshots) for a person to look at.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

pub(crate) mod admin;
pub(crate) mod relay;
pub(crate) mod ui;
pub(crate) mod x11;

/// How long `tauri-driver` may take to accept connections (it starts WebKitWebDriver first).
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);
/// How many times a WebDriver session is asked for again while WebKitWebDriver starts.
const SESSION_ATTEMPTS: u32 = 6;
/// How long one WebDriver session may take to start (the app launched and attached).
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `tauri-driver` gets to shut down WebKitWebDriver after SIGTERM before it is killed.
const DRIVER_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The build profile directory this test binary was built into (e.g. `target/debug`), whatever
/// `CARGO_TARGET_DIR` was: the test binary lives in `<profile dir>/deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug"))
}

/// Where scenarios leave logs and screenshots: `<target dir>/e2e/`, created on first use.
pub(crate) fn artifacts_dir() -> PathBuf {
    let dir = profile_dir()
        .parent()
        .map(|target| target.join("e2e"))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e"));
    std::fs::create_dir_all(&dir).expect("can create the e2e artifacts directory");
    dir
}

/// The absolute path of the `ringside-desktop` binary to test: `RINGSIDE_DESKTOP_BIN` if set,
/// else the one next to this test binary's profile directory.
///
/// Cargo does not build another package's binary for a test, so a missing binary fails here with
/// the commands that build it rather than with an obscure WebDriver error.
pub(crate) fn desktop_binary() -> PathBuf {
    let path = std::env::var_os("RINGSIDE_DESKTOP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("ringside-desktop"));
    let path = std::path::absolute(&path).expect("the desktop binary path can be made absolute");
    assert!(
        path.is_file(),
        "the desktop app is not built: {} does not exist.\n\
         Build it first:  npm --prefix ui ci && npm --prefix ui run build && cargo build -p ringside-desktop\n\
         (or point RINGSIDE_DESKTOP_BIN at a built ringside-desktop binary)",
        path.display()
    );
    path
}

/// The absolute path of the `ringside-relay` binary: `RINGSIDE_RELAY_BIN` if set, else the one
/// in this test binary's profile directory (built by `cargo build --workspace`).
pub(crate) fn relay_binary() -> PathBuf {
    let path = std::env::var_os("RINGSIDE_RELAY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("ringside-relay"));
    let path = std::path::absolute(&path).expect("the relay binary path can be made absolute");
    assert!(
        path.is_file(),
        "the relay is not built: {} does not exist. Build it first: cargo build -p ringside-relay",
        path.display()
    );
    path
}

/// A TCP port that was free a moment ago. Another process could take it before we bind it again;
/// on a test machine that race is rare, and far rarer than two runs fighting over a fixed 4444.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("the OS hands out a free loopback port")
        .port()
}

/// A running `tauri-driver` (which runs WebKitWebDriver) on free ports. Dropping it stops both.
#[derive(Debug)]
pub(crate) struct TauriDriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl TauriDriver {
    /// Starts `tauri-driver` (from `TAURI_DRIVER`, else `PATH`) and waits until it accepts
    /// connections. Its output goes to `<target>/e2e/tauri-driver.log`.
    pub(crate) fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// [`TauriDriver::start`] with `env` set for it, and so for the app it launches.
    pub(crate) fn start_with_env(env: &[(&str, &Path)]) -> Self {
        let program = std::env::var_os("TAURI_DRIVER").unwrap_or_else(|| "tauri-driver".into());
        let (port, native_port) = (free_port(), free_port());
        let log = artifacts_dir().join("tauri-driver.log");
        let out = File::create(&log).expect("can create the tauri-driver log");
        let err = out.try_clone().expect("can share the log file handle");
        let child = Command::new(&program)
            .envs(env.iter().copied())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {program:?}: {error}.\n\
                     Install it with `cargo install tauri-driver --version ^2 --locked` (it also \
                     needs WebKitWebDriver: Debian package webkit2gtk-driver), or set TAURI_DRIVER"
                )
            });
        let mut driver = Self { child, port, log };
        // tauri-driver listens before the WebKitWebDriver it starts does; a session asked for in
        // between is refused and must be asked again, which can race a launch already under way.
        driver.wait_until_listening(port);
        driver.wait_until_listening(native_port);
        driver
    }

    fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "tauri-driver exited ({status}) before accepting connections; its log ({}):\n{}",
                    self.log.display(),
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on port {port} within {DRIVER_START_TIMEOUT:?}; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What tauri-driver and WebKitWebDriver have printed so far, for failure messages.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Opens a WebDriver session, which launches `application` with command-line `args` and
    /// attaches to its webview.
    pub(crate) async fn launch_with(&self, application: &Path, args: &[String]) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("wry"));
        capabilities.insert(
            "tauri:options".to_owned(),
            json!({ "application": application, "args": args }),
        );
        // The workspace builds rustls with both `ring` (ours) and `aws-lc-rs` (fantoccini's
        // hyper-rustls), so rustls cannot pick a provider by itself: choose ours explicitly.
        // A second call (several tests in one process) finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // tauri-driver listens before the WebKitWebDriver behind it does: a session refused for
        // want of a connection is asked for again, a few times, before it counts as a failure.
        let mut attempt = 0;
        loop {
            let mut builder = ClientBuilder::rustls().expect("rustls client for WebDriver");
            builder.capabilities(capabilities.clone());
            let address = format!("http://127.0.0.1:{}", self.port);
            let session = builder.connect(&address);
            // A launch that never attaches (the app exited at start) would otherwise wait
            // forever: WebKitWebDriver waits for the browser it started without a limit.
            let session = tokio::time::timeout(SESSION_TIMEOUT, session)
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no WebDriver session with {} within {SESSION_TIMEOUT:?}; driver log:\n{}",
                        application.display(),
                        self.log_text()
                    )
                });
            match session {
                Ok(client) => return client,
                Err(error)
                    if attempt < SESSION_ATTEMPTS && error.to_string().contains("SendRequest") =>
                {
                    attempt += 1;
                    // The refused request may still have started the app: one left starting
                    // would hold the profile, and the next launch would find it and exit.
                    stop_launched(application, args);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(error) => panic!(
                    "could not start {} through tauri-driver: {error}\n\
                     (is there a display? run under `xvfb-run -a`); driver log:\n{}",
                    application.display(),
                    self.log_text()
                ),
            }
        }
    }
}

/// Stops every process running `application` with `args`, and waits until they are gone.
fn stop_launched(application: &Path, args: &[String]) {
    let mut wanted = vec![application.to_string_lossy().into_owned()];
    wanted.extend(args.iter().cloned());
    let running = || -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let parts: Vec<String> = cmdline
                    .split(|b| *b == 0)
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect();
                parts.starts_with(&wanted)
            })
            .collect()
    };
    let deadline = Instant::now() + DRIVER_STOP_TIMEOUT;
    loop {
        let pids = running();
        if pids.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the half-launched app (pids {pids:?}) did not stop"
        );
        for pid in pids {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: on SIGTERM tauri-driver stops WebKitWebDriver too, while SIGKILL
        // would leave it running. `kill` the command avoids unsafe code (the workspace forbids it).
        let asked = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        let deadline = Instant::now() + DRIVER_STOP_TIMEOUT;
        while asked && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
