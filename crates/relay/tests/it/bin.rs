//! The real `ringside-relay` binary: a command with a clean environment, `serve` on
//! 127.0.0.1:0 with its address and logs, a stop by signal, and the JSON of `--json` commands.

use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, Lines};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_ringside-relay");

/// The binary with a clean environment (no RINGSIDE_* leaking in from the developer's shell) and
/// `home` as HOME; killed when dropped.
pub(crate) fn command(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().env("HOME", home).kill_on_drop(true);
    cmd
}

/// [`command`] with `home/data` as the data folder.
pub(crate) fn in_data(home: &Path) -> Command {
    let mut cmd = command(home);
    cmd.arg("--data-dir").arg(home.join("data"));
    cmd
}

/// Runs the binary to the end, blocking: a clean environment, `home` as HOME, `flag path` (such
/// as `--data-dir` or `--config`), then `args`.
pub(crate) fn run(home: &Path, flag: &str, path: &Path, args: &[&str]) -> Output {
    std::process::Command::new(BIN)
        .env_clear()
        .env("HOME", home)
        .arg(flag)
        .arg(path)
        .args(args)
        .output()
        .unwrap()
}

/// The one JSON value a successful `--json` command printed.
pub(crate) fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "the command succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON value")
}

/// A fresh org in `home/data`, made with `org create --json`; its id.
pub(crate) fn create_org(home: &Path) -> String {
    let created = json_of(&run(
        home,
        "--data-dir",
        &home.join("data"),
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--owner-email",
            "o@example.com",
            "--json",
        ],
    ));
    created["org_id"].as_str().unwrap().to_owned()
}

/// A `serve` started by [`serve`].
pub(crate) struct Served {
    pub(crate) child: Child,
    /// Where it listens, read from its JSON log: `127.0.0.1:port`.
    pub(crate) addr: String,
    /// Every line it logs, until it exits.
    pub(crate) logs: JoinHandle<Vec<String>>,
}

/// Runs `cmd serve` on 127.0.0.1:0, logging JSON; waits until it listens.
pub(crate) async fn serve(cmd: &mut Command) -> Served {
    let mut child = cmd
        .env("RINGSIDE_LOG__FORMAT", "json")
        .args(["--listen", "127.0.0.1:0", "serve"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: Value = serde_json::from_str(&line).unwrap_or_default();
            let addr = event["addr"].as_str().map(str::to_owned);
            seen.push(line);
            if let Some(addr) = addr {
                return addr;
            }
        }
        panic!("the relay exited before listening");
    })
    .await
    .expect("the relay starts listening within 30 s");
    let rest = collect(lines);
    let logs = tokio::spawn(async move {
        seen.extend(rest.await.unwrap());
        seen
    });
    Served { child, addr, logs }
}

/// Collects the remaining `lines` until the stream ends.
pub(crate) fn collect<R>(mut lines: Lines<BufReader<R>>) -> JoinHandle<Vec<String>>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    })
}

/// Sends `SIG{signal}` (`"TERM"`, `"INT"`) to `child`; its exit status, within `within`.
pub(crate) async fn signal(child: &mut Child, signal: &str, within: Duration) -> ExitStatus {
    let pid = child.id().expect("the process is running").to_string();
    let kill = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(&pid)
        .status()
        .await
        .unwrap();
    assert!(kill.success(), "kill -{signal} {pid}");
    tokio::time::timeout(within, child.wait())
        .await
        .unwrap_or_else(|_| panic!("the process exits within {within:?} of SIG{signal}"))
        .unwrap()
}

/// SIGTERM, then a clean exit within 15 s.
pub(crate) async fn stop(mut child: Child) {
    let status = signal(&mut child, "TERM", Duration::from_secs(15)).await;
    assert!(status.success(), "SIGTERM is a clean exit, got {status}");
}
