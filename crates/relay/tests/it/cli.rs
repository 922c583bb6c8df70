use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_ringside-relay");

/// The binary with a clean environment (no RINGSIDE_* leaking in from the developer's shell).
fn relay(home: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().env("HOME", home).kill_on_drop(true);
    cmd
}

#[tokio::test]
async fn help_documents_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay(dir.path()).arg("--help").output().await.unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for command in [
        "serve",
        "keys",
        "config",
        "hygiene",
        "audit",
        "org",
        "invite",
        "integration",
    ] {
        assert!(help.contains(command), "--help lists `{command}`:\n{help}");
    }
    for flag in [
        "--config",
        "--data-dir",
        "--listen",
        "RINGSIDE_CONFIG",
        "RINGSIDE_DATA_DIR",
        "RINGSIDE_LISTEN",
    ] {
        assert!(help.contains(flag), "--help documents {flag}:\n{help}");
    }
    let keys = relay(dir.path())
        .args(["keys", "--help"])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8(keys.stdout).unwrap().contains("rotate"));
}

#[tokio::test]
async fn a_bad_value_exits_2_with_a_message_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay(dir.path())
        .env("RINGSIDE_LISTEN", "not-an-address")
        .arg("serve")
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a refused configuration exits 2"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("config key `listen`"),
        "the message names the key: {stderr}"
    );
    assert!(
        !dir.path().join(".local").exists(),
        "nothing was created for a refused configuration"
    );
}

#[tokio::test]
async fn flags_override_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay(dir.path())
        .env("RINGSIDE_LISTEN", "not-an-address")
        .args(["--listen", "127.0.0.1:9", "--data-dir"])
        .arg(dir.path().join("d"))
        .args(["config", "check"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "the flag replaces the bad env value: {stdout}"
    );
    assert!(
        stdout.contains("127.0.0.1:9")
            && stdout.contains(&dir.path().join("d").display().to_string())
    );
}

async fn start_serving(home: &std::path::Path) -> (Child, String, tokio::task::JoinHandle<String>) {
    let mut child = relay(home)
        .env("RINGSIDE_LOG__FORMAT", "json")
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(home.join("data"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(addr) = event["addr"].as_str() {
                return addr.to_owned();
            }
        }
        panic!("the relay exited before listening");
    })
    .await
    .expect("the relay starts listening within 30 s");
    let rest = tokio::spawn(async move {
        let mut all = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    (child, addr, rest)
}

#[tokio::test]
async fn sigterm_shuts_the_relay_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, rest) = start_serving(dir.path()).await;
    let res = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the relay serves before the signal");
    let pid = child.id().unwrap().to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("the relay exits within the grace period")
        .unwrap();
    assert!(status.success(), "SIGTERM is a clean exit, got {status}");
    let logs = rest.await.unwrap();
    assert!(
        logs.contains("SIGTERM received"),
        "the signal is logged:\n{logs}"
    );
    assert!(
        logs.contains("shut down cleanly"),
        "the shutdown completes:\n{logs}"
    );
}

#[tokio::test]
async fn sigint_shuts_the_relay_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _addr, rest) = start_serving(dir.path()).await;
    let pid = child.id().unwrap().to_string();
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "Ctrl-C is a clean exit, got {status}");
    assert!(rest.await.unwrap().contains("shut down cleanly"));
}

#[tokio::test]
async fn hygiene_now_runs_one_pass_and_prints_counts_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let mut cmd = relay(dir.path());
        cmd.arg("--data-dir").arg(&data).args(args);
        cmd.output()
    };
    let created = run(&[
        "org",
        "create",
        "--name",
        "Acme",
        "--owner-email",
        "owner@example.com",
    ])
    .await
    .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let out = run(&["hygiene", "--now"]).await.unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "hygiene --now succeeds: {stdout}");
    assert!(
        stdout.starts_with("removed: 0 ended session(s)"),
        "counts only: {stdout}"
    );
    assert!(!stdout.contains("owner@example.com"));
    let refused = run(&["hygiene"]).await.unwrap();
    assert_eq!(refused.status.code(), Some(2), "without --now nothing runs");
}
