use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use ringside_core::{OrgId, SystemClock};
use ringside_relay::auth::{AuthService, DeviceInfo, EmailIndexKey, LoginRequest};
use ringside_store::Store;

use super::{PASSWORD, ip, test_config};

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
    AuthService::with_unvalidated_config(store, masters, Arc::new(SystemClock), key, test_config())
        .unwrap()
}

#[test]
fn org_create_prints_a_one_time_owner_invitation_that_signs_the_owner_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = relay(
        dir.path(),
        &data,
        &[
            "org",
            "create",
            "--name",
            "Acme Insurance",
            "--owner-email",
            "Owner@Acme.example",
            "--json",
        ],
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

    let invite = relay(
        dir.path(),
        &data,
        &[
            "invite",
            "--org",
            &org.to_string(),
            "--email",
            "agent@acme.example",
            "--role",
            "agent",
        ],
    );
    assert!(
        invite.status.success(),
        "invite failed: {}",
        stderr(&invite)
    );
    let human = stdout(&invite);
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
    let bad = relay(
        dir.path(),
        &data,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--owner-email",
            "not-an-address",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("invalid email"), "{}", stderr(&bad));
    assert!(!stderr(&bad).contains("not-an-address"), "{}", stderr(&bad));

    let first = relay(
        dir.path(),
        &data,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--owner-email",
            "pat@acme.example",
            "--json",
        ],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let json: serde_json::Value = serde_json::from_str(stdout(&first).trim()).unwrap();
    let auth = service(dir.path(), &data);
    auth.accept_invitation(json["invitation"].as_str().unwrap(), "Pat", PASSWORD, ip(1))
        .unwrap();
    let again = relay(
        dir.path(),
        &data,
        &[
            "org",
            "create",
            "--name",
            "Other",
            "--owner-email",
            "PAT@acme.example",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("cannot be invited"),
        "{}",
        stderr(&again)
    );
    let store = Store::open(&data, Arc::new(SystemClock)).unwrap();
    assert_eq!(
        store.orgs().unwrap().len(),
        1,
        "no org without an owner was left behind"
    );

    let unknown_org = relay(
        dir.path(),
        &data,
        &[
            "invite",
            "--org",
            &OrgId::random().to_string(),
            "--email",
            "x@acme.example",
            "--role",
            "agent",
        ],
    );
    assert_eq!(unknown_org.status.code(), Some(1));
    assert!(
        stderr(&unknown_org).contains("not found"),
        "{}",
        stderr(&unknown_org)
    );
    let bad_role = relay(
        dir.path(),
        &data,
        &[
            "invite",
            "--org",
            &OrgId::random().to_string(),
            "--email",
            "x@acme.example",
            "--role",
            "king",
        ],
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
