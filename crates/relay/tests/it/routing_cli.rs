//! `route add|list|delete|fallback` through the real binary, on a data folder whose people joined
//! over HTTP: a user named by id or by email, numbers stored in E.164, another org's user and a
//! viewer refused with nothing stored, the fallback, deletion, and the audit entries.

use std::path::Path;
use std::process::Output;

use ringside_core::Role;
use serde_json::{Value, json};

use crate::api::client::{Api, Operator, invited};
use crate::bin::{self, json_of};
use crate::utils::TestRelay;

fn relay(home: &Path, args: &[&str]) -> Output {
    bin::run(home, "--config", &home.join("relay.toml"), args)
}

fn refused(out: &Output, what: &str) -> String {
    assert!(!out.status.success(), "{what} is refused");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn the_operator_routes_by_id_or_email_sets_the_fallback_and_cannot_route_to_another_org() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let test_relay = TestRelay::start(home, "").await;
    let api = Api::new(&test_relay);
    let operator = Operator::open(&test_relay);
    let org = operator.create_org("Acme Insurance");
    let other = operator.create_org("Other Agency");
    let agent = invited(
        &test_relay,
        &api,
        &operator,
        org,
        "agent@acme.example",
        Role::Agent,
    )
    .await;
    let viewer = invited(
        &test_relay,
        &api,
        &operator,
        org,
        "viewer@acme.example",
        Role::Viewer,
    )
    .await;
    let outsider = invited(
        &test_relay,
        &api,
        &operator,
        other,
        "agent@other.example",
        Role::Agent,
    )
    .await;
    test_relay.stop().await.unwrap();
    let org = org.to_string();
    let add = |user: &str, matching: &[&str]| {
        relay(
            home,
            &[&["route", "add", "--org", &org, "--user", user], matching].concat(),
        )
    };

    let by_email = json_of(&add(
        "Agent@Acme.example",
        &["--extension", "101", "--json"],
    ));
    assert_eq!(
        by_email["user_id"], agent.user,
        "an email address names the org's user"
    );
    assert_eq!(by_email["kind"], "extension");
    let route_id = by_email["route_id"].as_str().unwrap().to_owned();
    assert!(route_id.starts_with("rte_"), "{by_email}");
    let by_number = json_of(&add(&agent.user, &["--number", "(415) 555-0100", "--json"]));
    assert_eq!(by_number["value"], "+14155550100", "stored in E.164");

    let stderr = refused(
        &add(&outsider.user, &["--extension", "102"]),
        "another org's user",
    );
    assert!(stderr.contains("user not found"), "{stderr}");
    refused(
        &add("agent@other.example", &["--extension", "102"]),
        "another org's user by email",
    );
    let stderr = refused(&add(&viewer.user, &["--extension", "102"]), "a viewer");
    assert!(stderr.contains("does not receive pops"), "{stderr}");
    let both = add(
        &agent.user,
        &["--extension", "102", "--number", "+14155550101"],
    );
    assert_eq!(both.status.code(), Some(2), "one match per route");
    refused(
        &relay(
            home,
            &[
                "route",
                "fallback",
                "--org",
                &org,
                "--users",
                &format!("{},{}", agent.user, outsider.user),
            ],
        ),
        "a fallback group with another org's user",
    );

    let listed = json_of(&relay(home, &["route", "list", "--org", &org, "--json"]));
    assert_eq!(
        listed["routes"].as_array().unwrap().len(),
        2,
        "only the two good routes: {listed}"
    );
    assert_eq!(listed["fallback"], json!({"kind": "nobody"}), "the default");

    let set = relay(
        home,
        &["route", "fallback", "--org", &org, "--users", &agent.user],
    );
    assert!(set.status.success());
    assert_eq!(
        String::from_utf8_lossy(&set.stdout).trim(),
        format!("fallback users {}", agent.user)
    );
    let all = relay(home, &["route", "fallback", "--org", &org, "--all"]);
    assert_eq!(String::from_utf8_lossy(&all.stdout).trim(), "fallback all");

    let deleted = relay(home, &["route", "delete", "--org", &org, "--id", &route_id]);
    assert!(deleted.status.success());
    refused(
        &relay(home, &["route", "delete", "--org", &org, "--id", &route_id]),
        "deleting it twice",
    );
    let text = relay(home, &["route", "list", "--org", &org]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("+14155550100") && !text.contains(&route_id) && text.contains("fallback all"),
        "{text}"
    );

    let export = relay(home, &["audit", "export"]);
    let export = String::from_utf8_lossy(&export.stdout).into_owned();
    let count = |action: &str| {
        export
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["action"] == action && e["actor"].to_string().contains("cli"))
            .count()
    };
    assert_eq!(
        (
            count("route.create"),
            count("route.delete"),
            count("routing.fallback")
        ),
        (2, 1, 2),
        "every change is audited as the operator, refusals are not"
    );
}
