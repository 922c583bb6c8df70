use serde_json::Value;

use crate::utils::TestRelay;

#[tokio::test]
async fn healthz_answers_with_what_the_relay_is() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let res = reqwest::get(format!("http://{}/healthz", relay.addr))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["build"]["name"], "ringside-relay");
    assert_eq!(body["build"]["version"], env!("CARGO_PKG_VERSION"));
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn readyz_reports_the_database_and_the_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let res = reqwest::get(format!("http://{}/readyz", relay.addr))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a fresh relay is ready");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(
        body["master_key_version"], "v1",
        "the first start creates master key v1"
    );
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn first_start_creates_the_data_folder_the_database_and_a_private_key_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let data = dir.path().join("data");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&data),
        0o700,
        "the data folder is private to the relay's user"
    );
    assert_eq!(
        mode(&data.join("ringside.db")),
        0o600,
        "the database is private"
    );
    assert_eq!(
        mode(&data.join("master.key")),
        0o600,
        "the key file is private"
    );
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn a_graceful_stop_returns_ok_and_frees_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let addr = relay.addr;
    relay
        .stop()
        .await
        .expect("run returns Ok after a requested shutdown");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens after shutdown"
    );
}

#[tokio::test]
async fn a_second_start_on_the_same_folder_keeps_its_key_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let key_before = {
        let relay = TestRelay::start(dir.path(), "").await;
        relay.stop().await.unwrap();
        std::fs::read(dir.path().join("data/master.key")).unwrap()
    };
    let relay = TestRelay::start(dir.path(), "").await;
    let res = reqwest::get(format!("http://{}/readyz", relay.addr))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    relay.stop().await.unwrap();
    let key_after = std::fs::read(dir.path().join("data/master.key")).unwrap();
    assert_eq!(
        key_before, key_after,
        "a restart must not replace the master key"
    );
}
