//! `integration create|list|delete` through the real binary: the JSON shape, the secret shown
//! once and never again, generated secrets in each provider's form, bad input refused with
//! nothing stored, revocation and the audit entries.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::bin::{self, json_of};

fn relay(home: &Path, args: &[&str]) -> Output {
    bin::run(home, "--data-dir", &home.join("data"), args)
}

/// `integration create --org ORG --provider PROVIDER [extra…] --json`, its output parsed.
fn create(home: &Path, org: &str, provider: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "integration",
        "create",
        "--org",
        org,
        "--provider",
        provider,
    ];
    args.extend_from_slice(extra);
    args.push("--json");
    json_of(&relay(home, &args))
}

#[test]
fn create_prints_the_id_webhook_path_and_secret_once_and_list_never_shows_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let org = bin::create_org(dir.path());
    let secret = "dialpad-secret-marker-5d1c";
    let created = create(
        dir.path(),
        &org,
        "dialpad",
        &["--secret", secret, "--label", "Main line"],
    );
    let id = created["integration_id"]
        .as_str()
        .expect("an integration_id");
    assert!(id.starts_with("int_"), "the id is an int_ token: {id}");
    assert_eq!(
        created["webhook_path"],
        format!("/v1/hooks/{id}"),
        "the webhook path names the integration"
    );
    assert_eq!(
        created["secret"], secret,
        "the given secret is echoed this once"
    );
    assert_eq!(created["provider"], "dialpad");

    for args in [
        vec!["integration", "list", "--org", &org, "--json"],
        vec!["integration", "list", "--org", &org],
    ] {
        let out = relay(dir.path(), &args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "list succeeds: {text}");
        assert!(text.contains(id), "the list names the integration: {text}");
        assert!(
            !text.contains(secret),
            "the list never shows the secret: {text}"
        );
    }
    let listed = json_of(&relay(
        dir.path(),
        &["integration", "list", "--org", &org, "--json"],
    ));
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "one integration: {listed}"
    );
    assert_eq!(listed[0]["label"], "Main line");
    assert!(
        listed[0].get("secret").is_none(),
        "no secret field in the list"
    );

    let db = std::fs::read(dir.path().join("data").join("ringside.db")).unwrap();
    assert!(
        !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is not readable in the database file"
    );
}

#[test]
fn a_generated_secret_takes_the_providers_form() {
    let dir = tempfile::tempdir().unwrap();
    let org = bin::create_org(dir.path());
    let secret_of = |provider: &str| {
        create(dir.path(), &org, provider, &[])["secret"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let standard = secret_of("standard");
    let encoded = standard
        .strip_prefix("whsec_")
        .expect("a whsec_ secret for Standard Webhooks");
    assert_eq!(encoded.len(), 44, "base64 of 32 bytes: {}", encoded.len());
    let twilio = secret_of("twilio");
    assert_eq!(twilio.len(), 64, "32 random bytes in hex");
    assert_ne!(twilio, secret_of("twilio"), "each secret is fresh");
}

#[test]
fn a_bad_provider_org_secret_or_label_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let org = bin::create_org(dir.path());
    let long = "x".repeat(65);
    let refused: [&[&str]; 4] = [
        &[
            "integration",
            "create",
            "--org",
            &org,
            "--provider",
            "skype",
        ],
        &[
            "integration",
            "create",
            "--org",
            "org_AAAAAAAAAAAAAAAAAAAAAA",
            "--provider",
            "twilio",
        ],
        &[
            "integration",
            "create",
            "--org",
            &org,
            "--provider",
            "twilio",
            "--secret",
            " padded ",
        ],
        &[
            "integration",
            "create",
            "--org",
            &org,
            "--provider",
            "twilio",
            "--label",
            &long,
        ],
    ];
    for args in refused {
        let out = relay(dir.path(), args);
        assert!(!out.status.success(), "{args:?} is refused");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("padded"),
            "the error does not echo the secret"
        );
    }
    let listed = json_of(&relay(
        dir.path(),
        &["integration", "list", "--org", &org, "--json"],
    ));
    assert_eq!(listed, serde_json::json!([]), "nothing was stored");
}

#[test]
fn delete_revokes_once_and_both_changes_are_in_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let org = bin::create_org(dir.path());
    let created = create(dir.path(), &org, "ringcentral", &[]);
    let id = created["integration_id"].as_str().unwrap();
    let out = relay(
        dir.path(),
        &["integration", "delete", "--org", &org, "--id", id],
    );
    assert!(
        out.status.success(),
        "delete succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = relay(
        dir.path(),
        &["integration", "delete", "--org", &org, "--id", id],
    );
    assert!(
        !again.status.success(),
        "a revoked integration cannot be revoked again"
    );
    let listed = json_of(&relay(
        dir.path(),
        &["integration", "list", "--org", &org, "--json"],
    ));
    assert!(
        listed[0]["disabled_at"].is_i64(),
        "listed as revoked: {listed}"
    );

    let export = relay(dir.path(), &["audit", "export"]);
    let log = String::from_utf8_lossy(&export.stdout);
    assert!(export.status.success(), "audit export succeeds");
    for action in ["integration.create", "integration.delete"] {
        let entry = log
            .lines()
            .find(|l| l.contains(action))
            .unwrap_or_else(|| panic!("{action} is in the audit log:\n{log}"));
        assert!(
            entry.contains(id),
            "{action} names the integration: {entry}"
        );
    }
    assert!(
        !log.contains(created["secret"].as_str().unwrap()),
        "the audit log never holds the secret"
    );
}
