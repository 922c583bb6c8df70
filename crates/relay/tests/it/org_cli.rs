use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use ringside_core::{OrgId, SystemClock};
use ringside_identity::{AuthConfig, AuthService, DeviceInfo, EmailIndexKey, LoginRequest};
use ringside_store::{OrgKeys, Store};

use crate::api::client::PASSWORD;

/// A client address (10.0.0.n).
fn ip(n: u32) -> std::net::IpAddr {
    std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0A00_0000 | n))
}

const BIN: &str = env!("CARGO_BIN_EXE_ringside-relay");

fn relay(home: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env_clear()
        .env("HOME", home)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

/// `org create --name NAME --owner-email EMAIL`, with `--json` if asked.
fn org_create(home: &Path, data: &Path, name: &str, owner_email: &str, json: bool) -> Output {
    let mut args = vec![
        "org",
        "create",
        "--name",
        name,
        "--owner-email",
        owner_email,
    ];
    if json {
        args.push("--json");
    }
    relay(home, data, &args)
}

/// `invite --org ORG --email EMAIL --role ROLE`.
fn invite(home: &Path, data: &Path, org: &str, email: &str, role: &str) -> Output {
    relay(
        home,
        data,
        &["invite", "--org", org, "--email", email, "--role", role],
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The identity service on the data folder the binary wrote.
fn service(home: &Path, data: &Path) -> AuthService {
    let config = crate::utils::config_for(home, "");
    assert_eq!(config.data_dir, data);
    let store = Arc::new(Store::open(data, Arc::new(SystemClock)).unwrap());
    let masters = Arc::new(config.master_key_source.load().unwrap());
    let key = EmailIndexKey::load(&store, &masters).unwrap();
    let keys = OrgKeys::new(Arc::clone(&store), masters);
    let config = AuthConfig::fast_insecure_for_tests();
    AuthService::with_unvalidated_config(store, keys, Arc::new(SystemClock), key, config).unwrap()
}

#[test]
fn org_create_prints_a_one_time_owner_invitation_that_signs_the_owner_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = org_create(
        dir.path(),
        &data,
        "Acme Insurance",
        "Owner@Acme.example",
        true,
    );
    assert!(out.status.success(), "org create failed: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let org: OrgId = json["org_id"].as_str().unwrap().parse().unwrap();
    let code = json["invitation"].as_str().unwrap().to_owned();
    assert!(code.starts_with("rsi_"), "{json}");
    assert_eq!(json["role"], "owner");
    assert!(
        !stdout(&out).to_lowercase().contains("owner@acme.example")
            && !stderr(&out).to_lowercase().contains("owner@acme"),
        "the address is not echoed"
    );

    let invited = invite(
        dir.path(),
        &data,
        &org.to_string(),
        "agent@acme.example",
        "agent",
    );
    assert!(
        invited.status.success(),
        "invite failed: {}",
        stderr(&invited)
    );
    let human = stdout(&invited);
    assert!(
        human.contains("agent invitation") && human.contains("rsi_"),
        "{human}"
    );
    assert!(!human.contains("agent@acme.example"), "{human}");

    let auth = service(dir.path(), &data);
    let owner = auth
        .accept_invitation(&code, "Olive Owner", PASSWORD, ip(1))
        .unwrap();
    assert_eq!(owner.org, org);
    let outcome = auth
        .login(&LoginRequest {
            email: "owner@acme.example",
            password: PASSWORD,
            second_factor: None,
            ip: ip(1),
            device: DeviceInfo {
                name: "laptop",
                token: None,
            },
        })
        .unwrap();
    assert_eq!(outcome.code(), "signed_in");
}

#[test]
fn refused_input_exits_1_without_echoing_the_address_or_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bad = org_create(dir.path(), &data, "Acme", "not-an-address", false);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("invalid email"), "{}", stderr(&bad));
    assert!(!stderr(&bad).contains("not-an-address"), "{}", stderr(&bad));

    let first = org_create(dir.path(), &data, "Acme", "pat@acme.example", true);
    assert!(first.status.success(), "{}", stderr(&first));
    let json: serde_json::Value = serde_json::from_str(stdout(&first).trim()).unwrap();
    let auth = service(dir.path(), &data);
    auth.accept_invitation(json["invitation"].as_str().unwrap(), "Pat", PASSWORD, ip(1))
        .unwrap();
    let again = org_create(dir.path(), &data, "Other", "PAT@acme.example", false);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("cannot be invited"),
        "{}",
        stderr(&again)
    );
    let store = Store::open(&data, Arc::new(SystemClock)).unwrap();
    assert_eq!(
        store.orgs().list().unwrap().len(),
        1,
        "no org without an owner was left behind"
    );

    let unknown_org = invite(
        dir.path(),
        &data,
        &OrgId::random().to_string(),
        "x@acme.example",
        "agent",
    );
    assert_eq!(unknown_org.status.code(), Some(1));
    assert!(
        stderr(&unknown_org).contains("not found"),
        "{}",
        stderr(&unknown_org)
    );
    let bad_role = invite(
        dir.path(),
        &data,
        &OrgId::random().to_string(),
        "x@acme.example",
        "king",
    );
    assert_eq!(
        bad_role.status.code(),
        Some(2),
        "clap refuses an unknown role"
    );
}

#[test]
fn help_documents_the_identity_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay(dir.path(), &dir.path().join("data"), &["--help"]);
    let help = stdout(&out);
    assert!(help.contains("org") && help.contains("invite"), "{help}");
    let create = relay(
        dir.path(),
        &dir.path().join("data"),
        &["org", "create", "--help"],
    );
    let help = stdout(&create);
    assert!(
        help.contains("--owner-email") && help.contains("--json"),
        "{help}"
    );
}
