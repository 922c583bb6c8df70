//! The real Applied Epic connector against the sandbox AMS — what the demo and the relay's
//! end-to-end tests run: numbers typed the ways agencies type them are found, the sandbox's loose
//! search hit on another number is dropped, a shared household number shows both clients, and an
//! activity written is one the sandbox received.

use std::time::Duration;

use ringside_ams::sandbox::{KNOWN_NUMBERS, SHARED_NUMBER, Sandbox, SandboxOptions};
use ringside_ams::{ActivityNote, AmsConnector, AmsError, AmsKind};
use ringside_core::wire::{Direction, RecordKind};
use ringside_core::{PhoneNumber, Pii};

use crate::fake::{Fake, serve};

async fn sandbox() -> (Sandbox, Fake, Box<dyn AmsConnector>) {
    let sandbox = Sandbox::new(SandboxOptions::default());
    let server = serve(sandbox.router()).await;
    let epic = crate::connector(
        AmsKind::Sandbox,
        &server.base,
        &sandbox.credentials_json(),
        Duration::from_secs(5),
    );
    (sandbox, server, epic)
}

fn names(found: &[ringside_core::wire::Contact]) -> Vec<&str> {
    found.iter().map(|c| c.name.expose().as_str()).collect()
}

#[tokio::test]
async fn a_number_typed_with_parentheses_is_found_and_the_near_miss_is_dropped() {
    let (_sandbox, server, epic) = sandbox().await;
    let found = epic
        .lookup_by_phone(&PhoneNumber::parse("+16175550199").unwrap())
        .await
        .unwrap();
    // The sandbox's loose search also returns Jordan Pike, "(508) 555-0199".
    assert_eq!(names(&found), ["Dana Whitfield"]);
    assert_eq!(found[0].kind, RecordKind::Client);
    assert_eq!(found[0].detail.as_ref().unwrap().expose(), "WHITDA-01");
    let url = found[0].open_url.as_deref().unwrap();
    assert!(
        url.starts_with(&server.base) && url.ends_with(&found[0].id),
        "{url}"
    );
}

#[tokio::test]
async fn a_shared_household_number_shows_both_clients_and_an_unknown_one_none() {
    let (_sandbox, _server, epic) = sandbox().await;
    let shared = epic
        .lookup_by_phone(&PhoneNumber::parse(SHARED_NUMBER).unwrap())
        .await
        .unwrap();
    assert_eq!(
        names(&shared),
        ["Tom Kowalski", "Ellen Kowalski"],
        "both, never one picked"
    );
    let unknown = epic
        .lookup_by_phone(&PhoneNumber::parse("+12125550100").unwrap())
        .await
        .unwrap();
    assert!(unknown.is_empty());
}

#[tokio::test]
async fn every_known_number_finds_exactly_one_record_whatever_way_it_was_typed() {
    let (_sandbox, _server, epic) = sandbox().await;
    for number in KNOWN_NUMBERS {
        let found = epic
            .lookup_by_phone(&PhoneNumber::parse(number).unwrap())
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{number}: {:?}", names(&found));
    }
    let dental = epic
        .lookup_by_phone(&PhoneNumber::parse("+18575550133").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (dental[0].kind, names(&dental)[0]),
        (RecordKind::Contact, "Beacon Hill Dental"),
        "a contact person's number, reported on their account"
    );
}

#[tokio::test]
async fn an_activity_written_is_the_one_the_sandbox_received_with_its_note_in_parts() {
    let (sandbox, _server, epic) = sandbox().await;
    let client = "5f0c1a8e-0001-4a5b-9c1d-000000000001";
    let body = format!(
        "Ringside ref: call_00000000000000000000000000000002\nSummary: renewal question.\n{}",
        "Transcript line.\n".repeat(1000)
    );
    let note = ActivityNote {
        record_id: client.to_owned(),
        record_kind: RecordKind::Client,
        subject: "Inbound call, answered, 4 min 12 s".to_owned(),
        body: Pii::new(body.clone()),
        started_at: time::macros::datetime!(2026-12-03 10:00 UTC),
        duration_secs: Some(252),
        direction: Direction::Inbound,
        reference: "call_00000000000000000000000000000002".to_owned(),
    };
    assert_eq!(
        epic.find_activity(&note).await.unwrap(),
        None,
        "not written yet"
    );
    let written = epic.write_activity(&note).await.unwrap();
    assert_eq!(
        epic.find_activity(&note).await.unwrap(),
        Some(written.clone()),
        "found again by the reference on its first line"
    );
    let received = sandbox.activities();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].id, written.id);
    assert_eq!(received[0].client_id, client);
    assert_eq!(received[0].description, note.subject);
    assert!(
        received[0].notes.len() > 1,
        "a long note continues in further notes"
    );
    assert_eq!(
        received[0].notes.concat(),
        body,
        "nothing lost or reordered"
    );
}

#[tokio::test]
async fn the_wrong_secret_is_refused_as_credentials() {
    let sandbox = Sandbox::new(SandboxOptions::default());
    let server = serve(sandbox.router()).await;
    let epic = crate::connector(
        AmsKind::Sandbox,
        &server.base,
        r#"{"client_id":"ringside-sandbox","client_secret":"wrong"}"#,
        Duration::from_secs(5),
    );
    assert_eq!(
        epic.lookup_by_phone(&PhoneNumber::parse("+16175550199").unwrap())
            .await
            .unwrap_err(),
        AmsError::Credentials
    );
    assert!(epic.check().await.is_err());
}
