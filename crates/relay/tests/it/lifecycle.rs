//! The data-subject request and the end of an account, over the real API: erasing a number
//! removes every record of it and nothing else, audited without the number; terminating an org
//! ends its sessions and streams at once, answers its webhooks 410 and leaves it read-only,
//! `org restore` undoes it, and 30 days later hygiene shreds it, keeping one audit entry.

use std::time::Duration;

use ringside_core::Role;
use ringside_core::wire::CallState;
use ringside_store::{AuditFilter, AuditPage};
use serde_json::json;

use crate::office::{CALLER, Office};
use crate::utils::assert_not_on_disk;

/// Another client's number: what an erasure of [`CALLER`] must leave.
const OTHER: &str = "+16175550188";

fn audit_details(office: &Office, action: &str) -> Vec<String> {
    let filter = AuditFilter {
        action: Some(action.to_owned()),
        ..AuditFilter::default()
    };
    let page = AuditPage {
        after_seq: None,
        limit: 10,
    };
    office
        .operator
        .store
        .audit()
        .query_audit(office.org, &filter, page)
        .unwrap()
        .into_iter()
        .map(|entry| entry.details)
        .collect()
}

#[tokio::test]
async fn erasing_a_number_removes_its_calls_and_texts_and_nothing_else_audited_without_it() {
    let office = Office::open().await;
    let alice = office.agent("alice@acme.example").await;
    office.route("u-alice", &alice);
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    office
        .ring("call-1", CallState::Ended, Some("u-alice"))
        .await;
    assert_eq!(
        office.text("m-1", CALLER, "Marker erase-me text", 1).await,
        200
    );
    assert_eq!(
        office.text("m-2", OTHER, "Marker keep-me text", 1).await,
        200
    );

    let erase = |number: &str| json!({ "number": number });
    let refused = office
        .api
        .post("/v1/admin/erase", alice.token(), erase(CALLER))
        .await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    let bad = office
        .api
        .post("/v1/admin/erase", owner.token(), erase("call me maybe"))
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (422, "invalid_input"),
        "{:?}",
        bad.body
    );

    let done = office
        .api
        .post("/v1/admin/erase", owner.token(), erase("(617) 243-0734"))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body, json!({"calls": 1, "texts": 1}));
    let retained = office
        .operator
        .store
        .sync()
        .retention(Some(office.org))
        .unwrap();
    let numbers = retained.iter().find(|r| r.kind == "phone_number").unwrap();
    assert_eq!(numbers.records, 1, "the other client's text stays");
    assert_not_on_disk(&office.dir.path().join("data"), &[&CALLER[1..], "erase-me"]);

    let details = audit_details(&office, "privacy.erase");
    assert_eq!(details.len(), 1);
    assert!(details[0].contains("\"texts\":\"1\""), "{}", details[0]);
    assert!(!details[0].contains("0734"), "{}", details[0]);
}

#[tokio::test]
async fn a_terminated_org_is_read_only_at_once_restorable_and_shredded_after_thirty_days() {
    let office = Office::open().await;
    let alice = office.agent("alice@acme.example").await;
    office.route("u-alice", &alice);
    let mut owner = office.enrolled("owner@acme.example", Role::Owner).await;
    let mut socket = office.connect(&alice).await;
    socket.resume(0).await;
    let terminate = |name: &str| json!({ "confirm_name": name });

    let agent = office
        .api
        .post("/v1/admin/org/terminate", alice.token(), terminate("Acme"))
        .await;
    assert_eq!((agent.status, agent.code()), (403, "forbidden"));
    let wrong = office
        .api
        .post(
            "/v1/admin/org/terminate",
            owner.token(),
            terminate("Another org"),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (422, "invalid_input"));
    let name = office.operator.store.orgs().org(office.org).unwrap().name;
    let done = office
        .api
        .post("/v1/admin/org/terminate", owner.token(), terminate(&name))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert!(
        done.body["sessions"].as_u64().unwrap() >= 2,
        "{:?}",
        done.body
    );

    let told = socket
        .within(Duration::from_secs(2))
        .await
        .expect("told why");
    assert_eq!(told["type"], "session_revoked", "{told}");
    let hook = office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    assert_eq!(hook.status, 410, "the provider is told to stop");
    let me = office.api.get("/v1/me", owner.token()).await;
    assert_eq!(me.status, 401, "the session ended");

    office.sign_in(&mut owner).await;
    let read = office.api.get("/v1/me", owner.token()).await;
    assert_eq!(read.status, 200, "reading still works");
    let change = office
        .api
        .post(
            "/v1/admin/invitations",
            owner.token(),
            json!({"email": "x@acme.example", "role": "agent"}),
        )
        .await;
    assert_eq!((change.status, change.code()), (403, "org_terminated"));

    ringside_relay::commands::privacy::restore(&office.relay.config, office.org).unwrap();
    let hook = office
        .ring("call-2", CallState::Ringing, Some("u-alice"))
        .await;
    assert_eq!(hook.status, 200, "restored");
    assert!(
        ringside_relay::commands::privacy::restore(&office.relay.config, office.org).is_err(),
        "a live org cannot be restored"
    );

    office.sign_in(&mut owner).await;
    office.step_up(&owner).await;
    let again = office
        .api
        .post("/v1/admin/org/terminate", owner.token(), terminate(&name))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    office.advance(29 * 86_400);
    assert!(
        office
            .hygiene()
            .contains(" 0 terminated organisation(s) shredded")
    );
    office.advance(2 * 86_400);
    let report = office.hygiene();
    assert!(
        report.contains(" 1 terminated organisation(s) shredded"),
        "{report}"
    );
    assert!(
        office.operator.store.orgs().org(office.org).is_err(),
        "gone"
    );
    let shred = audit_details(&office, "org.shred");
    assert_eq!(shred.len(), 1, "the record outlives the org");
    assert!(shred[0].contains("\"keys\":\"1\""), "{}", shred[0]);
}
