//! Standard Webhooks: the official vector, rotation, the ±300 s window, tampering, our event
//! types, and `call.transcript` in both shapes with its bad inputs.

mod common;

use common::*;
use ringside_core::transcript::Speaker;
use ringside_providers::standard::{self, map_type};
use ringside_providers::{
    CallState, Direction, MAX_TRANSCRIPT_LINES, Outcome, ProviderError, ProviderKind,
};

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

/// A `call.transcript` event with `data` (JSON text), signed and verified.
fn transcript_event(data: &str) -> Result<Outcome, ProviderError> {
    let body =
        format!(r#"{{"type":"call.transcript","timestamp":"2023-11-14T22:13:20Z","data":{data}}}"#);
    let ts = now().unix_timestamp();
    let signature = standard::sign(&secret(SECRET), "evt_t1", ts, body.as_bytes()).expect("signs");
    standard(
        SECRET,
        "evt_t1",
        &ts.to_string(),
        &signature,
        body.as_bytes(),
        ts,
    )
}

#[test]
fn a_transcript_list_keeps_speakers_times_and_order_and_skips_lines_without_text() {
    let event = transcript(transcript_event(&format!(
        r#"{{"call_id":"c-1","parent_call_id":"p-1","transcript":[
            {{"speaker":"caller","text":"  {MARKER_TEXT} one  ","start_ms":0}},
            {{"speaker":"agent","text":"two","start_ms":1500}},
            {{"speaker":"AGENT","text":"three"}},
            {{"text":"four","start_ms":null}},
            {{"speaker":"supervisor","text":"five","extra":{{"nested":[1,2]}}}},
            {{"speaker":null,"text":"six"}},
            {{"speaker":"caller","text":"   "}},
            {{"speaker":"caller"}},
            {{"speaker":"caller","text":null}},
            {{"speaker":"unknown","text":"seven","start_ms":9007199254740993}}
        ]}}"#
    )));
    assert_eq!(event.provider, ProviderKind::Standard, "provider");
    assert_eq!(event.event_id, "evt_t1", "dedupe on webhook-id");
    assert_eq!(event.call_id, "c-1", "call id");
    assert_eq!(event.call_key(), "p-1", "the parent id follows the call");
    assert_eq!(
        lines(&event.utterances),
        vec![
            (Speaker::Caller, format!("{MARKER_TEXT} one"), Some(0)),
            (Speaker::Agent, "two".to_owned(), Some(1500)),
            (Speaker::Agent, "three".to_owned(), None),
            (Speaker::Unknown, "four".to_owned(), None),
            (Speaker::Unknown, "five".to_owned(), None),
            (Speaker::Unknown, "six".to_owned(), None),
            (
                Speaker::Unknown,
                "seven".to_owned(),
                Some(9_007_199_254_740_993)
            ),
        ],
        "speakers (any case; absent, null or another word is unknown), trimmed text, times; \
         blank, missing and null text skipped"
    );
    let printed = format!("{event:?}");
    assert_no_markers(&printed);
    assert!(!printed.contains("two"), "no text in Debug: {printed}");
}

#[test]
fn a_transcript_string_is_one_utterance_of_an_unknown_speaker() {
    let event = transcript(transcript_event(&format!(
        r#"{{"call_id":42,"transcript":"{MARKER_TEXT}\nsecond line"}}"#
    )));
    assert_eq!(event.call_id, "42", "numeric ids are accepted");
    assert_eq!(event.parent_call_id, None, "no parent");
    assert_eq!(
        event.call_key(),
        "42",
        "the call id is the key without a parent"
    );
    assert_eq!(
        lines(&event.utterances),
        vec![(
            Speaker::Unknown,
            format!("{MARKER_TEXT}\nsecond line"),
            None
        )],
        "the whole string, one utterance"
    );
    assert_no_markers(&format!("{event:?}"));
}

#[test]
fn a_transcript_of_up_to_the_limit_is_read() {
    let line = r#"{"speaker":"caller","text":"hi"}"#;
    let data = format!(
        r#"{{"call_id":"c","transcript":[{}]}}"#,
        vec![line; MAX_TRANSCRIPT_LINES].join(",")
    );
    let event = transcript(transcript_event(&data));
    assert_eq!(event.utterances.len(), MAX_TRANSCRIPT_LINES, "all lines");
}

#[test]
fn bad_transcripts_are_refused_with_a_message_saying_what_is_wrong() {
    let many = format!(
        r#"{{"call_id":"c","transcript":[{}]}}"#,
        vec![r#"{"text":"hi"}"#; MAX_TRANSCRIPT_LINES + 1].join(",")
    );
    let many_blank = format!(
        r#"{{"call_id":"c","transcript":[{}]}}"#,
        vec!["{}"; MAX_TRANSCRIPT_LINES + 1].join(",")
    );
    let late_bad = format!(
        r#"{{"call_id":"c","transcript":[{},{{"text":7}}]}}"#,
        [r#"{"text":"hi"}"#; 10].join(",")
    );
    for (data, needle) in [
        (r#"{"call_id":"c"}"#, "without data.transcript"),
        (
            r#"{"call_id":"c","transcript":null}"#,
            "without data.transcript",
        ),
        (r#"{"call_id":"c","transcript":""}"#, "no text"),
        (r#"{"call_id":"c","transcript":"   "}"#, "no text"),
        (r#"{"call_id":"c","transcript":[]}"#, "no text"),
        (
            r#"{"call_id":"c","transcript":[{"text":" "},{"speaker":"agent"}]}"#,
            "no text",
        ),
        (
            r#"{"call_id":"c","transcript":12}"#,
            "neither a string nor a list",
        ),
        (
            r#"{"call_id":"c","transcript":true}"#,
            "neither a string nor a list",
        ),
        (
            r#"{"call_id":"c","transcript":{"text":"hi"}}"#,
            "neither a string nor a list",
        ),
        (r#"{"call_id":"c","transcript":["hi"]}"#, "not an object"),
        (r#"{"call_id":"c","transcript":[null]}"#, "not an object"),
        (r#"{"call_id":"c","transcript":[["hi"]]}"#, "not an object"),
        (r#"{"call_id":"c","transcript":[{"text":7}]}"#, "a text"),
        (
            r#"{"call_id":"c","transcript":[{"text":["hi"]}]}"#,
            "a text",
        ),
        (
            r#"{"call_id":"c","transcript":[{"speaker":1,"text":"hi"}]}"#,
            "a speaker",
        ),
        (
            r#"{"call_id":"c","transcript":[{"speaker":{"role":"agent"},"text":"hi"}]}"#,
            "a speaker",
        ),
        (
            r#"{"call_id":"c","transcript":[{"text":"hi","start_ms":-1}]}"#,
            "start_ms",
        ),
        (
            r#"{"call_id":"c","transcript":[{"text":"hi","start_ms":1.5}]}"#,
            "start_ms",
        ),
        (
            r#"{"call_id":"c","transcript":[{"text":"hi","start_ms":"1500"}]}"#,
            "start_ms",
        ),
        (late_bad.as_str(), "a text"),
        (many.as_str(), "more than 5000 lines"),
        (many_blank.as_str(), "more than 5000 lines"),
        (r#"{"transcript":"hi"}"#, "without data.call_id"),
    ] {
        let outcome = transcript_event(data);
        assert_unprocessable(&outcome, needle, &data[..data.len().min(120)]);
        assert_no_markers(&format!("{outcome:?}"));
    }
    // A body that is not JSON at all is still the envelope's error.
    let ts = now().unix_timestamp();
    let body = br#"{"type":"call.transcript","data":{"transcript":"#;
    let signature = standard::sign(&secret(SECRET), "evt_t2", ts, body).unwrap();
    let outcome = standard(SECRET, "evt_t2", &ts.to_string(), &signature, body, ts);
    assert_unprocessable(&outcome, "not a JSON object", "truncated body");
}

#[test]
fn a_transcript_is_authenticated_like_any_event() {
    let body = br#"{"type":"call.transcript","data":{"call_id":"c","transcript":"hi"}}"#;
    let ts = now().unix_timestamp();
    let signature = standard::sign(&secret(SECRET), "evt_t3", ts, body).unwrap();
    let tampered = standard(
        SECRET,
        "evt_t3",
        &ts.to_string(),
        &signature,
        &flipped(body, body.len() - 5),
        ts,
    );
    assert_eq!(tampered, Err(ProviderError::BadSignature), "tampered text");
    assert_eq!(
        map_type(standard::TRANSCRIPT_TYPE),
        None,
        "not a call state"
    );
}
