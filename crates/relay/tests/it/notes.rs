//! What an agent adds to a call for its AMS note — notes (joined) and the picked contact — over
//! the stream's `note`/`pick` messages and over HTTP: kept sealed when the call rang for them;
//! refused with nothing stored for anyone else (an `error` on their stream, which stays open; a
//! 404 over HTTP).

use ringside_core::wire::CallState;
use ringside_core::{CallId, Role};
use serde_json::json;

use crate::api::client::Member;
use crate::office::Office;
use crate::utils::assert_not_on_disk;

/// A phrase that must never be readable on disk.
const MARKER: &str = "teen driver QX-8812";

/// The notes and pick stored for `call`, opened.
fn stored(office: &Office, call: &str) -> (Vec<String>, Option<String>) {
    let keys = office.operator.keyring(office.org);
    let call: CallId = call.parse().unwrap();
    let added = office
        .operator
        .store
        .notes()
        .call_additions(office.org, call, &keys)
        .unwrap();
    (
        added.notes.iter().map(|n| n.expose().clone()).collect(),
        added.pick.map(|p| p.expose().clone()),
    )
}

async fn bob_on_his_route(office: &Office) -> (Member, crate::stream::Socket) {
    let bob = office.agent("bob@acme.example").await;
    office.route("u-bob", &bob);
    let mut socket = office.connect(&bob).await;
    socket.resume(0).await;
    (bob, socket)
}

#[tokio::test]
async fn the_routed_agents_notes_and_pick_are_kept_and_anyone_elses_are_refused_on_the_stream() {
    let office = Office::open().await;
    let (_alice, mut alice) = office.alice_on_her_route().await;
    let (_bob, mut bob) = bob_on_his_route(&office).await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    let pop = alice.next().await.expect("alice's pop");
    let call = pop["call_id"].as_str().unwrap().to_owned();

    alice
        .send(json!({"type": "note", "call_id": call, "text": format!("Wants to add a {MARKER}")}))
        .await;
    alice
        .send(json!({"type": "note", "call_id": call, "text": "Call back Friday"}))
        .await;
    alice
        .send(json!({"type": "pick", "call_id": call, "contact": "client-7"}))
        .await;
    alice.quiet("accepted without an answer").await;

    bob.send(json!({"type": "note", "call_id": call, "text": "not mine"}))
        .await;
    let refused = bob.next().await.expect("told why");
    assert_eq!(
        (
            refused["type"].as_str(),
            refused["code"].as_str(),
            refused.get("seq")
        ),
        (Some("error"), Some("call_not_routed"), None),
        "{refused}"
    );
    bob.send(json!({"type": "pick", "call_id": call, "contact": "client-9"}))
        .await;
    assert_eq!(bob.next().await.unwrap()["code"], "call_not_routed");
    office
        .ring("call-2", CallState::Ringing, Some("u-bob"))
        .await;
    assert_eq!(
        bob.next().await.expect("the connection stayed open")["type"],
        "pop"
    );

    let (notes, pick) = stored(&office, &call);
    assert_eq!(
        notes,
        [
            format!("Wants to add a {MARKER}"),
            "Call back Friday".to_owned()
        ]
    );
    assert_eq!(
        pick.as_deref(),
        Some("client-7"),
        "bob's pick was not taken"
    );
    assert_not_on_disk(&office.dir.path().join("data"), &[MARKER]);
}

#[tokio::test]
async fn over_http_the_same_rule_holds_404_for_a_call_that_did_not_ring_and_403_for_a_viewer() {
    let office = Office::open().await;
    let (alice, mut alice_socket) = office.alice_on_her_route().await;
    let bob = office.agent("bob@acme.example").await;
    let viewer = office.member("viewer@acme.example", Role::Viewer).await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    let pop = alice_socket.next().await.unwrap();
    let call = pop["call_id"].as_str().unwrap();
    let api = &office.api;
    let note = format!("/v1/calls/{call}/note");
    let pick = format!("/v1/calls/{call}/pick");

    api.post(&note, alice.token(), json!({"text": MARKER}))
        .await
        .expect(204, "alice's note");
    api.post(&pick, alice.token(), json!({"contact": "client-7"}))
        .await
        .expect(204, "alice's pick");
    api.post(&note, alice.token(), json!({"text": " "}))
        .await
        .problem(422, "note_too_long", "an empty note");
    api.post(&note, bob.token(), json!({"text": "not mine"}))
        .await
        .problem(404, "not_found", "the call did not ring for bob");
    api.post(&note, viewer.token(), json!({"text": "x"}))
        .await
        .problem(403, "forbidden", "viewers do not write notes");
    api.post(&note, alice.token(), json!({"text": "x", "extra": 1}))
        .await
        .expect(422, "unknown fields are refused");

    assert_eq!(
        stored(&office, call),
        (vec![MARKER.to_owned()], Some("client-7".to_owned()))
    );
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;
    let (actions, audit) = api.audit_actions("call.*", owner.token()).await;
    assert_eq!(
        actions,
        ["call.note", "call.pick"],
        "refusals store nothing, not even an entry"
    );
    assert!(
        !audit.to_string().contains("QX-8812"),
        "the audit log never holds the text"
    );
}

#[tokio::test]
async fn an_agent_reads_back_only_their_own_notes_still_held_and_they_leave_the_list_with_the_purge()
 {
    let office = Office::open().await;
    let (alice, mut alice_socket) = office.alice_on_her_route().await;
    let (bob, mut bob_socket) = bob_on_his_route(&office).await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    office
        .ring("call-2", CallState::Ringing, Some("u-bob"))
        .await;
    let alices = alice_socket.next().await.unwrap()["call_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bobs = bob_socket.next().await.unwrap()["call_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = &office.api;
    for (who, call, text) in [
        (&alice, &alices, MARKER),
        (&alice, &alices, "Call back Friday"),
        (&bob, &bobs, "Bob's own words"),
    ] {
        api.post(
            &format!("/v1/calls/{call}/note"),
            who.token(),
            json!({"text": text}),
        )
        .await
        .expect(204, "a note");
    }

    let listed = api
        .get_json("/v1/me/notes", alice.token(), "alice's notes")
        .await;
    let notes = listed["notes"].as_array().unwrap();
    let texts: Vec<&str> = notes.iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert_eq!(
        texts,
        ["Call back Friday", MARKER],
        "hers only, newest first"
    );
    assert!(
        notes
            .iter()
            .all(|n| n["call_id"] == alices.as_str() && n.get("sync").is_none()),
        "on her call, still live: {listed}"
    );
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;
    let (actions, page) = api.audit_actions("notes.read_own", owner.token()).await;
    assert_eq!(actions, ["notes.read_own"], "the read is audited");
    assert!(!page.to_string().contains(MARKER), "without the words");

    // The PII cap's purge, as hygiene runs it, on notes a second old.
    office.advance(2);
    office
        .operator
        .store
        .calls()
        .purge_call_pii(std::time::Duration::from_secs(1))
        .unwrap();
    let after = api
        .get_json("/v1/me/notes", alice.token(), "after the purge")
        .await;
    assert_eq!(after["notes"], json!([]), "purged notes are gone");
}
