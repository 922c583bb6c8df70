use std::time::Duration;

use crate::bin::{self, Served};

#[tokio::test]
async fn help_documents_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin::command(dir.path())
        .arg("--help")
        .output()
        .await
        .unwrap();
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
    let keys = bin::command(dir.path())
        .args(["keys", "--help"])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8(keys.stdout).unwrap().contains("rotate"));
}

#[tokio::test]
async fn a_bad_value_exits_2_with_a_message_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin::command(dir.path())
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
    let out = bin::command(dir.path())
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

#[tokio::test]
async fn sigterm_shuts_the_relay_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let Served { child, addr, logs } = bin::serve(&mut bin::in_data(dir.path())).await;
    let res = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the relay serves before the signal");
    bin::stop(child).await;
    let logs = logs.await.unwrap().join("\n");
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
    let Served {
        mut child, logs, ..
    } = bin::serve(&mut bin::in_data(dir.path())).await;
    let status = bin::signal(&mut child, "INT", Duration::from_secs(15)).await;
    assert!(status.success(), "Ctrl-C is a clean exit, got {status}");
    assert!(
        logs.await
            .unwrap()
            .iter()
            .any(|l| l.contains("shut down cleanly"))
    );
}

#[tokio::test]
async fn hygiene_now_runs_one_pass_and_prints_counts_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let mut cmd = bin::command(dir.path());
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
