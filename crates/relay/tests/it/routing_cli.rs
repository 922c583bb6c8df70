//! `route add|list|delete|fallback` through the real binary, on a data folder whose people joined
//! over HTTP: a user named by id or by email, numbers stored in E.164, another org's user and a
//! viewer refused with nothing stored, the fallback, deletion, and the audit entries.

use std::path::Path;
use std::process::Output;

use ringside_core::Role;
use serde_json::{Value, json};

use crate::api::client::Member;
use crate::bin::{self, json_of};
use crate::office::Office;

fn relay(home: &Path, args: &[&str]) -> Output {
    bin::run(home, "--config", &home.join("relay.toml"), args)
}

/// `route add --org org --user user` and the match flags.
fn add(home: &Path, org: &str, user: &str, matching: &[&str]) -> Output {
    relay(
        home,
        &[&["route", "add", "--org", org, "--user", user], matching].concat(),
    )
}

fn refused(out: &Output, what: &str) -> String {
    assert!(!out.status.success(), "{what} is refused");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn the_operator_routes_by_id_or_email_sets_the_fallback_and_cannot_route_to_another_org() {
    // People join over HTTP; the operator's commands then run beside the relay, as on a host.
    let office = Office::open().await;
    let other = office.operator.create_org("Other Agency");
    let agent = office.agent("agent@acme.example").await;
    let viewer = office.member("viewer@acme.example", Role::Viewer).await;
    let outsider = office
        .member_of(other, "agent@other.example", Role::Agent)
        .await;
    let home = office.dir.path();
    let org = &office.org.to_string();

    let route_id = a_user_is_named_by_email_or_id_and_numbers_are_stored_in_e164(home, org, &agent);
    another_orgs_user_a_viewer_and_two_matches_are_refused(home, org, &agent, &viewer, &outsider);
    the_list_holds_the_good_routes_and_the_fallback_is_set(home, org, &agent);
    a_route_is_deleted_once(home, org, &route_id);
    every_change_is_audited_as_the_operator_and_refusals_are_not(home);
}

/// An extension route for a user named by email (any case), a number route by id: the first's id.
fn a_user_is_named_by_email_or_id_and_numbers_are_stored_in_e164(
    home: &Path,
    org: &str,
    agent: &Member,
) -> String {
    let by_email = json_of(&add(
        home,
        org,
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
    let by_number = json_of(&add(
        home,
        org,
        &agent.user,
        &["--number", "(415) 555-0100", "--json"],
    ));
    assert_eq!(by_number["value"], "+14155550100", "stored in E.164");
    route_id
}

/// Another org's user (by id or email), a viewer, two matches in one route, a fallback group
/// with an outsider: each refused.
fn another_orgs_user_a_viewer_and_two_matches_are_refused(
    home: &Path,
    org: &str,
    agent: &Member,
    viewer: &Member,
    outsider: &Member,
) {
    let stderr = refused(
        &add(home, org, &outsider.user, &["--extension", "102"]),
        "another org's user",
    );
    assert!(stderr.contains("user not found"), "{stderr}");
    refused(
        &add(home, org, "agent@other.example", &["--extension", "102"]),
        "another org's user by email",
    );
    let stderr = refused(
        &add(home, org, &viewer.user, &["--extension", "102"]),
        "a viewer",
    );
    assert!(stderr.contains("does not receive pops"), "{stderr}");
    let both = add(
        home,
        org,
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
                org,
                "--users",
                &format!("{},{}", agent.user, outsider.user),
            ],
        ),
        "a fallback group with another org's user",
    );
}

/// Only the two good routes are listed, the fallback is nobody until set to a group, then all.
fn the_list_holds_the_good_routes_and_the_fallback_is_set(home: &Path, org: &str, agent: &Member) {
    let listed = json_of(&relay(home, &["route", "list", "--org", org, "--json"]));
    assert_eq!(
        listed["routes"].as_array().unwrap().len(),
        2,
        "only the two good routes: {listed}"
    );
    assert_eq!(listed["fallback"], json!({"kind": "nobody"}), "the default");

    let set = relay(
        home,
        &["route", "fallback", "--org", org, "--users", &agent.user],
    );
    assert!(set.status.success());
    assert_eq!(
        String::from_utf8_lossy(&set.stdout).trim(),
        format!("fallback users {}", agent.user)
    );
    let all = relay(home, &["route", "fallback", "--org", org, "--all"]);
    assert_eq!(String::from_utf8_lossy(&all.stdout).trim(), "fallback all");
}

/// Deleting works once; the list no longer shows the route.
fn a_route_is_deleted_once(home: &Path, org: &str, route_id: &str) {
    let deleted = relay(home, &["route", "delete", "--org", org, "--id", route_id]);
    assert!(deleted.status.success());
    refused(
        &relay(home, &["route", "delete", "--org", org, "--id", route_id]),
        "deleting it twice",
    );
    let text = relay(home, &["route", "list", "--org", org]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("+14155550100") && !text.contains(route_id) && text.contains("fallback all"),
        "{text}"
    );
}

/// `audit export` holds each change, made as the operator; refusals wrote nothing.
fn every_change_is_audited_as_the_operator_and_refusals_are_not(home: &Path) {
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
