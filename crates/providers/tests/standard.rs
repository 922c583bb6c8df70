//! Standard Webhooks: the official vector, rotation, the ±300 s window, tampering, and our event
//! types.

mod common;

use common::*;
use ringside_providers::standard::{self, map_type};
use ringside_providers::{CallState, Direction, Outcome, ProviderError, ProviderKind};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const TS: i64 = 1_649_367_553;
const BODY: &str = r#"{"email":"test@example.com","username":"test_user"}"#;
const SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

fn standard(
    secret: &str,
    id: &str,
    ts: &str,
    signature: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<Outcome, ProviderError> {
    run(
        ProviderKind::Standard,
        secret,
        "https://relay.example/v1/hooks/int_0",
        &[
            ("webhook-id", id),
            ("webhook-timestamp", ts),
            ("webhook-signature", signature),
        ],
        body,
        at(now_unix),
    )
}

#[test]
fn the_official_vector_signs_and_verifies() {
    assert_eq!(
        standard::sign(&secret(SECRET), ID, TS, BODY.as_bytes()).unwrap(),
        SIG,
        "our signer reproduces the reference library's vector"
    );
    let outcome = standard(SECRET, ID, &TS.to_string(), SIG, BODY.as_bytes(), TS);
    assert!(
        matches!(outcome, Ok(Outcome::Ignored { .. })),
        "the vector verifies (its body is not a call event): {outcome:?}"
    );
}

#[test]
fn any_one_matching_signature_of_several_is_enough_for_rotation() {
    let old = "v1,Zm9yZ2VkIHNpZ25hdHVyZSBvZiB0aGlydHktdHdvIGJ5dGVz";
    for header in [
        format!("{old} {SIG}"),
        format!("{SIG} {old}"),
        format!("v1a,AAAA {SIG}"),
        format!("garbage {SIG}"),
    ] {
        let outcome = standard(SECRET, ID, &TS.to_string(), &header, BODY.as_bytes(), TS);
        assert!(outcome.is_ok(), "{header} must verify: {outcome:?}");
    }
    let only_old = standard(SECRET, ID, &TS.to_string(), old, BODY.as_bytes(), TS);
    assert_eq!(
        only_old,
        Err(ProviderError::BadSignature),
        "no v1 entry matches"
    );
    let only_v1a = standard(SECRET, ID, &TS.to_string(), "v1a,AAAA", BODY.as_bytes(), TS);
    assert!(
        matches!(only_v1a, Err(ProviderError::UnsupportedAlgorithm { .. })),
        "only an asymmetric signature is unsupported: {only_v1a:?}"
    );
}

#[test]
fn timestamps_outside_five_minutes_either_way_are_refused() {
    for (now_unix, ok) in [
        (TS, true),
        (TS + 300, true),
        (TS - 300, true),
        (TS + 301, false),
        (TS - 301, false),
        (TS + 86_400, false),
    ] {
        let outcome = standard(SECRET, ID, &TS.to_string(), SIG, BODY.as_bytes(), now_unix);
        if ok {
            assert!(outcome.is_ok(), "{}s off must be accepted", now_unix - TS);
        } else {
            assert_eq!(
                outcome,
                Err(ProviderError::TimestampOutOfTolerance),
                "{}s off must be refused",
                now_unix - TS
            );
        }
    }
}

#[test]
fn every_tampered_byte_of_body_id_timestamp_or_signature_is_refused() {
    for at in 0..BODY.len() {
        let outcome = standard(
            SECRET,
            ID,
            &TS.to_string(),
            SIG,
            &flipped(BODY.as_bytes(), at),
            TS,
        );
        assert_eq!(
            outcome,
            Err(ProviderError::BadSignature),
            "flipping body byte {at} must be refused"
        );
    }
    for at in 0..SIG.len() {
        let signature = String::from_utf8_lossy(&flipped(SIG.as_bytes(), at)).into_owned();
        let outcome = standard(SECRET, ID, &TS.to_string(), &signature, BODY.as_bytes(), TS);
        assert!(
            outcome.as_ref().is_err_and(ProviderError::is_auth_failure),
            "flipping signature byte {at} must be refused, got {outcome:?}"
        );
    }
    for at in 0..ID.len() {
        let id = String::from_utf8_lossy(&flipped(ID.as_bytes(), at)).into_owned();
        let outcome = standard(SECRET, &id, &TS.to_string(), SIG, BODY.as_bytes(), TS);
        assert!(outcome.is_err(), "flipping id byte {at} must be refused");
    }
    let ts = TS.to_string();
    for at in 0..ts.len() {
        let tampered = String::from_utf8_lossy(&flipped(ts.as_bytes(), at)).into_owned();
        let outcome = standard(SECRET, ID, &tampered, SIG, BODY.as_bytes(), TS);
        assert!(
            outcome.is_err(),
            "flipping timestamp byte {at} must be refused"
        );
    }
}

#[test]
fn a_wrong_secret_missing_headers_and_bad_secrets_are_refused() {
    let wrong = standard(
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ID,
        &TS.to_string(),
        SIG,
        BODY.as_bytes(),
        TS,
    );
    assert_eq!(wrong, Err(ProviderError::BadSignature), "wrong secret");
    let missing = run(
        ProviderKind::Standard,
        SECRET,
        "https://relay.example/",
        &[("webhook-id", ID), ("webhook-timestamp", "1649367553")],
        BODY.as_bytes(),
        at(TS),
    );
    assert!(
        matches!(missing, Err(ProviderError::MissingSignature { .. })),
        "no webhook-signature: {missing:?}"
    );
    let not_base64 = standard("whsec_!!!", ID, &TS.to_string(), SIG, BODY.as_bytes(), TS);
    assert!(
        matches!(not_base64, Err(ProviderError::InvalidSecret { .. })),
        "a secret that is not base64 is our misconfiguration: {not_base64:?}"
    );
    let bad_ts = standard(SECRET, ID, "16493675.3", SIG, BODY.as_bytes(), TS);
    assert!(
        matches!(bad_ts, Err(ProviderError::Malformed { .. })),
        "a timestamp that is not unix seconds: {bad_ts:?}"
    );
}

#[test]
fn a_signed_call_event_is_parsed_with_its_webhook_id_as_identity() {
    let body = format!(
        r#"{{"type":"call.ringing","timestamp":"2023-11-14T22:13:20Z","data":{{"call_id":42,"direction":"inbound","from":"{MARKER_NUMBER}","to":"+18005551212","contact_name":"{MARKER_NAME}","user_id":"u-7","extension":"101","dialed_number":"+18005551212"}}}}"#
    );
    let ts = now().unix_timestamp();
    let signature = standard::sign(&secret(SECRET), "evt_1", ts, body.as_bytes()).unwrap();
    let event = call(standard(
        SECRET,
        "evt_1",
        &ts.to_string(),
        &signature,
        body.as_bytes(),
        ts,
    ));
    assert_eq!(event.state, CallState::Ringing, "call.ringing");
    assert_eq!(event.event_id, "evt_1", "dedupe on webhook-id");
    assert_eq!(event.call_id, "42", "numeric ids are accepted");
    assert_eq!(event.direction, Direction::Inbound, "direction");
    assert_eq!(
        event.routing.provider_user_id.as_deref(),
        Some("u-7"),
        "user id"
    );
    assert_eq!(event.routing.extension.as_deref(), Some("101"), "extension");
    assert_eq!(event.occurred_at, Some(now()), "timestamp");
    assert_eq!(
        e164(event.from.as_ref()).as_deref(),
        Some(MARKER_NUMBER),
        "from"
    );
    assert_no_markers(&format!("{event:?}"));
}

#[test]
fn event_types_map_to_our_states() {
    for (kind, state) in [
        ("call.ringing", Some(CallState::Ringing)),
        ("call.answered", Some(CallState::Answered)),
        ("call.ended", Some(CallState::Ended)),
        ("call.missed", Some(CallState::Missed)),
        ("call.voicemail", Some(CallState::Voicemail)),
        ("call.transferred", Some(CallState::Transferred)),
        ("call.hold", None),
        ("invoice.paid", None),
    ] {
        assert_eq!(map_type(kind), state, "type {kind}");
    }
}
