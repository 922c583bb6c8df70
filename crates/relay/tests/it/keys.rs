use std::sync::Arc;

use ringside_core::SystemClock;
use ringside_store::{AuditContext, Store};
use ringside_vault::{MasterKeyVersion, SealContext};

const BIN: &str = env!("CARGO_BIN_EXE_ringside-relay");

fn rotate(home: &std::path::Path, data: &std::path::Path) -> std::process::Output {
    std::process::Command::new(BIN)
        .env_clear()
        .env("HOME", home)
        .arg("--data-dir")
        .arg(data)
        .args(["keys", "rotate"])
        .output()
        .unwrap()
}

#[test]
fn keys_rotate_rewraps_every_org_and_retires_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = crate::utils::config_for(dir.path(), "");
    let source = config.master_key_source.clone();
    let (org, ctx_row, sealed) = {
        let store = Store::open(&data, Arc::new(SystemClock)).unwrap();
        let masters = source.load_or_create().unwrap();
        let org = store
            .orgs()
            .create_org("Acme Insurance", &masters, &AuditContext::system("test"))
            .unwrap();
        store
            .orgs()
            .create_org("Other Agency", &masters, &AuditContext::system("test"))
            .unwrap();
        let ctx = SealContext::new(org.id, "calls", "note", b"42");
        let sealed = store
            .orgs()
            .org_keyring(org.id, &masters)
            .unwrap()
            .seal(&ctx, b"sealed before rotation")
            .unwrap();
        (org, b"42", sealed)
    };

    let out = rotate(dir.path(), &data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rotate failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("version v2") && stdout.contains("2 org key(s) re-wrapped"),
        "report: {stdout}"
    );

    let masters = source.load().unwrap();
    assert_eq!(
        masters.versions(),
        vec![MasterKeyVersion(2)],
        "version 1 is gone from the key file"
    );
    let store = Store::open(&data, Arc::new(SystemClock)).unwrap();
    let keys = store.orgs().org_keyring(org.id, &masters).unwrap();
    let ctx = SealContext::new(org.id, "calls", "note", ctx_row);
    assert_eq!(
        &keys.open(&ctx, &sealed).unwrap()[..],
        b"sealed before rotation"
    );

    let again = rotate(dir.path(), &data);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("version v3"),
        "each run moves one version on"
    );
}

#[test]
fn an_interrupted_rotation_is_completed_by_running_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = crate::utils::config_for(dir.path(), "");
    let source = config.master_key_source.clone();
    {
        let store = Store::open(&data, Arc::new(SystemClock)).unwrap();
        let mut masters = source.load_or_create().unwrap();
        store
            .orgs()
            .create_org("Acme", &masters, &AuditContext::system("test"))
            .unwrap();
        // Crash after step 1: the new version is in the source, nothing re-wrapped yet.
        masters.rotate_target(&source).unwrap();
    }
    let out = rotate(dir.path(), &data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("resumed"),
        "the report says it resumed: {stdout}"
    );
    assert_eq!(source.load().unwrap().versions(), vec![MasterKeyVersion(2)]);
}

#[tokio::test]
async fn a_missing_master_key_is_never_replaced_when_the_database_has_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = crate::utils::config_for(dir.path(), "");
    {
        let store = Store::open(&data, Arc::new(SystemClock)).unwrap();
        let masters = config.master_key_source.load_or_create().unwrap();
        store
            .orgs()
            .create_org("Acme", &masters, &AuditContext::system("test"))
            .unwrap();
    }
    std::fs::remove_file(data.join("master.key")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = ringside_relay::run(config, listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no master key"),
        "start-up stops and says why: {err}"
    );
    assert!(
        !data.join("master.key").exists(),
        "no new key was created to hide the loss"
    );
    let out = rotate(dir.path(), &data);
    assert!(!out.status.success(), "keys rotate refuses too");
    assert!(!data.join("master.key").exists());
}
