//! Dialpad: the Dialpad-shaped HS256 vector, numbers-or-strings, pinned algorithm, tampering,
//! the call-state mapping, voicemail transcriptions and the transcript API's answer.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use ringside_core::transcript::Speaker;
use ringside_providers::dialpad::{is_ai_transcript_state, map_state, transcript_from_api};
use ringside_providers::jwt::sign_hs256;
use ringside_providers::{
    CallState, Direction, MAX_TRANSCRIPT_LINES, Outcome, ProviderError, ProviderKind,
};

const SECRET: &str = "test-dialpad-secret";
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
const PAYLOAD: &str = r#"{"call_id":1234567890,"state":"ringing","direction":"inbound","external_number":"+14155550100","internal_number":"+14155550199","date_started":1700000000000}"#;
const SIGNATURE: &str = "Dq6QM3wXZb7JsvAtHRQTjlTvz1r3IJF9jazY_DIuLB4";

fn vector_token() -> String {
    format!(
        "{}.{}.{SIGNATURE}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(PAYLOAD)
    )
}

fn dialpad(secret: &str, body: &[u8]) -> Result<Outcome, ProviderError> {
    run(
        ProviderKind::Dialpad,
        secret,
        "https://relay.example/v1/hooks/int_0",
        &[("Content-Type", "application/jwt")],
        body,
        now(),
    )
}

#[test]
fn the_dialpad_shaped_vector_verifies_and_parses_a_ringing_call() {
    assert_eq!(
        sign_hs256(PAYLOAD.as_bytes(), SECRET.as_bytes()),
        vector_token(),
        "our signer reproduces the vector"
    );
    let event = call(dialpad(SECRET, vector_token().as_bytes()));
    assert_eq!(event.state, CallState::Ringing, "ringing");
    assert_eq!(event.call_id, "1234567890", "numeric call id");
    assert_eq!(event.direction, Direction::Inbound, "direction");
    assert_eq!(
        e164(event.from.as_ref()).as_deref(),
        Some("+14155550100"),
        "from is external"
    );
    assert_eq!(
        e164(event.to.as_ref()).as_deref(),
        Some("+14155550199"),
        "to is internal"
    );
    assert_eq!(
        e164(event.routing.dialed_number.as_ref()).as_deref(),
        Some("+14155550199"),
        "the internal number routes"
    );
    assert_eq!(event.occurred_at, Some(now()), "date_started in epoch ms");
    assert_eq!(
        event.event_id, "1234567890:ringing:1700000000000",
        "dedupe on call_id:state:time"
    );
}

#[test]
fn ids_and_epoch_times_are_accepted_as_numbers_or_strings() {
    for payload in [
        r#"{"call_id":"1234567890","master_call_id":"99","state":"connected","event_timestamp":"1700000000000","direction":"inbound"}"#,
        r#"{"call_id":1234567890,"master_call_id":99,"state":"connected","event_timestamp":1700000000000,"direction":"inbound"}"#,
        r#"{"call_id":1234567890,"master_call_id":99,"state":"connected","event_timestamp":1700000000000.0,"direction":"inbound"}"#,
    ] {
        let token = sign_hs256(payload.as_bytes(), SECRET.as_bytes());
        let event = call(dialpad(SECRET, token.as_bytes()));
        assert_eq!(event.call_id, "1234567890", "call id from {payload}");
        assert_eq!(event.call_key(), "99", "master call id from {payload}");
        assert_eq!(event.occurred_at, Some(now()), "event time from {payload}");
        assert_eq!(event.state, CallState::Answered, "connected is answered");
    }
}

#[test]
fn the_pinned_algorithm_refuses_none_rs256_and_others() {
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"alg":"HS384","typ":"JWT"}"#,
    ] {
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(PAYLOAD)
        );
        let with_vector_sig = format!("{unsigned}{SIGNATURE}");
        for token in [unsigned, with_vector_sig] {
            let outcome = dialpad(SECRET, token.as_bytes());
            assert!(
                matches!(outcome, Err(ProviderError::UnsupportedAlgorithm { .. })),
                "{header} must be refused: {outcome:?}"
            );
            assert_eq!(
                outcome.unwrap_err().http_status(),
                401,
                "an unsupported algorithm is an authentication failure"
            );
        }
    }
}

#[test]
fn every_tampered_byte_and_a_wrong_secret_are_refused() {
    let token = vector_token();
    for at in 0..token.len() {
        let outcome = dialpad(SECRET, &flipped(token.as_bytes(), at));
        assert!(
            outcome.is_err(),
            "flipping byte {at} of the token must be refused"
        );
    }
    assert_eq!(
        dialpad("wrong-secret", token.as_bytes()),
        Err(ProviderError::BadSignature),
        "wrong secret"
    );
}

#[test]
fn plain_json_empty_and_malformed_bodies_are_refused() {
    let plain = dialpad(SECRET, PAYLOAD.as_bytes());
    assert!(
        matches!(plain, Err(ProviderError::MissingSignature { .. })),
        "plain JSON is unsigned: {plain:?}"
    );
    let empty = dialpad(SECRET, b"");
    assert!(
        matches!(empty, Err(ProviderError::MissingSignature { .. })),
        "empty: {empty:?}"
    );
    for body in [&b"not a jwt"[..], b"a.b.c", b"\xff\xfe.\x00.x"] {
        let outcome = dialpad(SECRET, body);
        assert!(
            matches!(outcome, Err(ProviderError::Malformed { .. })),
            "{body:?} is malformed: {outcome:?}"
        );
        assert_eq!(outcome.unwrap_err().http_status(), 400, "malformed is 400");
    }
    let signed_garbage = sign_hs256(b"[1,2,3]", SECRET.as_bytes());
    let outcome = dialpad(SECRET, signed_garbage.as_bytes());
    assert!(
        matches!(outcome, Err(ProviderError::Unprocessable { .. })),
        "an authentic payload of the wrong shape is unprocessable: {outcome:?}"
    );
    assert_eq!(
        outcome.unwrap_err().http_status(),
        422,
        "unprocessable is 422"
    );
}

#[test]
fn an_exp_claim_is_honoured_but_not_required() {
    let expired = sign_hs256(
        br#"{"call_id":1,"state":"ringing","exp":1699999000}"#,
        SECRET.as_bytes(),
    );
    assert_eq!(
        dialpad(SECRET, expired.as_bytes()),
        Err(ProviderError::TimestampOutOfTolerance),
        "a token past its exp is refused"
    );
    let within_leeway = sign_hs256(
        br#"{"call_id":1,"state":"ringing","exp":1699999800}"#,
        SECRET.as_bytes(),
    );
    assert!(
        dialpad(SECRET, within_leeway.as_bytes()).is_ok(),
        "within five minutes of exp is accepted"
    );
}

#[test]
fn states_we_do_not_use_are_ignored_not_refused() {
    let token = sign_hs256(
        br#"{"call_id":1,"state":"recording","direction":"inbound"}"#,
        SECRET.as_bytes(),
    );
    assert!(
        matches!(
            dialpad(SECRET, token.as_bytes()),
            Ok(Outcome::Ignored { .. })
        ),
        "a recording state is authentic but unused"
    );
}

#[test]
fn call_states_map_to_our_states() {
    for (state, transferred, expected) in [
        ("preanswer", false, Some(CallState::Ringing)),
        ("calling", false, Some(CallState::Ringing)),
        ("ringing", false, Some(CallState::Ringing)),
        ("connected", false, Some(CallState::Answered)),
        ("hangup", false, Some(CallState::Ended)),
        ("hangup", true, Some(CallState::Transferred)),
        ("missed", false, Some(CallState::Missed)),
        ("voicemail", false, Some(CallState::Voicemail)),
        ("voicemail_uploaded", false, Some(CallState::Voicemail)),
        ("recording", false, None),
        ("hold", false, None),
        ("transcription", false, None),
    ] {
        assert_eq!(
            map_state(state, transferred),
            expected,
            "state {state} (transferred: {transferred})"
        );
    }
}

#[test]
fn a_call_event_with_marker_values_prints_none_of_them() {
    let payload = format!(
        r#"{{"call_id":"7","state":"ringing","direction":"outbound","external_number":"{MARKER_NUMBER}","internal_number":"+14155550199","contact":{{"id":1,"name":"{MARKER_NAME}","phone":"{MARKER_NUMBER}"}},"target":{{"id":"u1","type":"user","name":"Agent"}}}}"#
    );
    let token = sign_hs256(payload.as_bytes(), SECRET.as_bytes());
    let event = call(dialpad(SECRET, token.as_bytes()));
    assert_eq!(
        event.routing.provider_user_id.as_deref(),
        Some("u1"),
        "target user routes"
    );
    assert_eq!(
        event.contact_name.as_ref().map(|n| n.expose().as_str()),
        Some(MARKER_NAME),
        "the name is kept, wrapped"
    );
    assert_eq!(
        e164(event.to.as_ref()).as_deref(),
        Some(MARKER_NUMBER),
        "outbound: to is external"
    );
    assert_no_markers(&format!("{event:?}"));
    assert_no_markers(&format!("{event:#?}"));
}

#[test]
fn an_sms_event_is_parsed_with_its_text_wrapped() {
    let payload = format!(
        r#"{{"id":555,"created_date":1700000000,"direction":"inbound","from_number":"{MARKER_NUMBER}","to_number":["+14155550199"],"text":"{MARKER_TEXT}","message_status":"success","contact":{{"name":"{MARKER_NAME}"}},"target":{{"id":"u1","type":"user","phone_number":"+14155550199"}}}}"#
    );
    let token = sign_hs256(payload.as_bytes(), SECRET.as_bytes());
    let message = sms(dialpad(SECRET, token.as_bytes()));
    assert_eq!(message.message_id, "555", "numeric id");
    assert_eq!(message.event_id, "555:success", "dedupe on id:status");
    assert_eq!(message.occurred_at, Some(now()), "created_date in seconds");
    assert_eq!(message.to.len(), 1, "recipients");
    assert_eq!(
        message.text.as_ref().map(|t| t.expose().as_str()),
        Some(MARKER_TEXT),
        "text kept, wrapped"
    );
    assert_no_markers(&format!("{message:?}"));
}

#[test]
fn a_transcription_event_is_a_one_utterance_transcript_with_its_own_identity() {
    let transcription = format!(
        r#"{{"call_id":"7","master_call_id":"6","state":"transcription","event_timestamp":1700000000500,"direction":"inbound","external_number":"{MARKER_NUMBER}","contact":{{"name":"{MARKER_NAME}"}},"transcription_text":"  {MARKER_TEXT}: please call me back\n at five  "}}"#
    );
    let token = sign_hs256(transcription.as_bytes(), SECRET.as_bytes());
    let event = transcript(dialpad(SECRET, token.as_bytes()));
    assert_eq!(event.provider, ProviderKind::Dialpad, "provider");
    assert_eq!(event.call_id, "7", "call id");
    assert_eq!(event.call_key(), "6", "master call id is the key");
    assert_eq!(
        event.event_id, "7:transcription:1700000000500",
        "dedupe on call_id:state:event_timestamp"
    );
    assert_eq!(
        lines(&event.utterances),
        vec![(
            Speaker::Unknown,
            format!("{MARKER_TEXT}: please call me back\n at five"),
            None
        )],
        "one utterance, speaker unknown, trimmed"
    );
    assert_no_markers(&format!("{event:?}"));

    // The voicemail state of the same call, at the same instant, is another event.
    let voicemail = sign_hs256(
        br#"{"call_id":"7","master_call_id":"6","state":"voicemail","event_timestamp":1700000000500}"#,
        SECRET.as_bytes(),
    );
    let state = call(dialpad(SECRET, voicemail.as_bytes()));
    assert_eq!(state.state, CallState::Voicemail, "voicemail");
    assert_ne!(
        state.event_id, event.event_id,
        "the transcript never deduplicates against the call's state events"
    );
}

#[test]
fn the_ai_transcript_event_says_the_transcript_is_in_dialpads_api_with_the_calls_ids() {
    let payload = r#"{"call_id":7,"master_call_id":5,"state":"call_transcription",
                      "event_timestamp":1764800000000,"transcription_text":"hi"}"#;
    let token = sign_hs256(payload.as_bytes(), SECRET.as_bytes());
    let Ok(Outcome::Event(ringside_providers::WebhookEvent::TranscriptReady(ready))) =
        dialpad(SECRET, token.as_bytes())
    else {
        panic!("a TranscriptReady");
    };
    assert_eq!(ready.call_id, "7", "the id the API is asked for");
    assert_eq!(ready.call_key(), "5", "the call it belongs to");
    assert_eq!(ready.event_id, "7:call_transcription:1764800000000");
    assert_eq!(
        ringside_providers::dialpad::transcript_url("https://dialpad.com/api/v2/", "7"),
        "https://dialpad.com/api/v2/transcripts/7"
    );
    assert_eq!(
        ringside_providers::dialpad::transcript_url("http://127.0.0.1:9/api/v2", "a/b c"),
        "http://127.0.0.1:9/api/v2/transcripts/a%2Fb%20c",
        "the id stays one path segment"
    );
}

#[test]
fn a_transcription_without_text_and_the_recaps_are_ignored() {
    for payload in [
        r#"{"call_id":1,"state":"transcription"}"#,
        r#"{"call_id":1,"state":"transcription","transcription_text":""}"#,
        r#"{"call_id":1,"state":"transcription","transcription_text":"  \n "}"#,
        r#"{"call_id":1,"state":"transcription","transcription_text":null}"#,
        r#"{"call_id":1,"state":"recap_summary"}"#,
        r#"{"call_id":1,"state":"recap_action_items"}"#,
        r#"{"call_id":1,"state":"recap_outcome"}"#,
        r#"{"call_id":1,"state":"recap_purposes"}"#,
    ] {
        let token = sign_hs256(payload.as_bytes(), SECRET.as_bytes());
        let outcome = dialpad(SECRET, token.as_bytes());
        assert!(
            matches!(outcome, Ok(Outcome::Ignored { .. })),
            "{payload} is authentic but carries no transcript: {outcome:?}"
        );
    }
    assert!(
        is_ai_transcript_state("call_transcription"),
        "AI transcript"
    );
    assert!(is_ai_transcript_state("recap_summary"), "recap");
    assert!(
        !is_ai_transcript_state("transcription"),
        "voicemail transcript"
    );
    // A transcription_text of the wrong type is an unreadable payload, as for any field.
    let token = sign_hs256(
        br#"{"call_id":1,"state":"transcription","transcription_text":42}"#,
        SECRET.as_bytes(),
    );
    assert_unprocessable(
        &dialpad(SECRET, token.as_bytes()),
        "expected shape",
        "transcription_text is a number",
    );
}

/// The example answer of `GET /api/v2/transcripts/{call_id}` in Dialpad's API spec, with a marker
/// in the caller's name (a name, or here a number, that must never be kept).
fn spec_example() -> String {
    format!(
        r#"{{"call_id":"1001","lines":[
            {{"contact_id":"ag5kZXZ-dWJlci12b2ljZXIOCxIHQ29udGFjdBjoBww","content":"hi","name":"{MARKER_NAME} {MARKER_NUMBER}","time":"2018-05-08T21:33:19.300000","type":"transcript"}},
            {{"content":"hello [expletive]","name":"{MARKER_NAME}","time":"2018-05-08T21:33:15.300000","type":"transcript","user_id":"2"}},
            {{"content":"not_white_listed_moment","name":"Bot","time":"2018-05-08T21:33:16.300000","type":"moment","user_id":"2"}},
            {{"content":"price_inquiry","name":"Bot","time":"2018-05-08T21:33:17.300000","type":"moment","user_id":"2"}}
        ]}}"#
    )
}

#[test]
fn the_transcript_api_example_reads_into_ordered_utterances_without_names_or_moments() {
    let utterances = transcript_from_api(spec_example().as_bytes()).unwrap();
    assert_eq!(
        lines(&utterances),
        vec![
            (Speaker::Agent, "hello [expletive]".to_owned(), Some(0)),
            (Speaker::Caller, "hi".to_owned(), Some(4000)),
        ],
        "user_id is the agent, contact_id the caller; moments dropped; in time order, \
         start_ms from the earliest line"
    );
    let printed = format!("{utterances:?}");
    assert_no_markers(&printed);
    let kept = serde_json::to_string(&utterances).unwrap();
    assert!(
        !kept.contains(MARKER_NAME) && !kept.contains(MARKER_DIGITS),
        "the name is never kept: {kept}"
    );
}

#[test]
fn transcript_api_times_speakers_and_types_are_read_leniently() {
    let json = br#"{"call_id":1,"lines":[
        {"content":"one","time":"2024-01-01T10:00:00Z","user_id":5},
        {"content":"two","time":"2024-01-01T11:00:00.250+01:00","contact_id":"c"},
        {"content":"three","time":1704103200500},
        {"content":"four","time":"1704103201","type":"TRANSCRIPT"},
        {"content":"five","time":"2024-01-01T10:00:02"},
        {"content":"   ","time":"2024-01-01T10:00:03","user_id":5},
        {"content":"six","time":"2024-01-01T10:00:04","type":"ai_question"},
        {"user_id":5}
    ]}"#;
    let utterances = transcript_from_api(json).unwrap();
    assert_eq!(
        lines(&utterances),
        vec![
            (Speaker::Agent, "one".to_owned(), Some(0)),
            (Speaker::Caller, "two".to_owned(), Some(250)),
            (Speaker::Unknown, "three".to_owned(), Some(500)),
            (Speaker::Unknown, "four".to_owned(), Some(1000)),
            (Speaker::Unknown, "five".to_owned(), Some(2000)),
        ],
        "RFC 3339 with and without offset, epoch ms and seconds; blank and non-spoken lines skipped"
    );

    // Without a time on every line, Dialpad's order is kept; lines without a time have no start.
    let json = br#"{"lines":[
        {"content":"b","time":"2024-01-01T10:00:05"},
        {"content":"a","time":"2024-01-01T10:00:01"},
        {"content":"c"},
        {"content":"d","time":"yesterday"}
    ]}"#;
    assert_eq!(
        lines(&transcript_from_api(json).unwrap()),
        vec![
            (Speaker::Unknown, "b".to_owned(), Some(4000)),
            (Speaker::Unknown, "a".to_owned(), Some(0)),
            (Speaker::Unknown, "c".to_owned(), None),
            (Speaker::Unknown, "d".to_owned(), None),
        ],
        "order kept; an unreadable time is no start"
    );
    // A line with both ids is the agent's: a user_id is a Dialpad user.
    let both = br#"{"lines":[{"content":"x","user_id":"1","contact_id":"2"}]}"#;
    assert_eq!(
        transcript_from_api(both).unwrap()[0].speaker,
        Speaker::Agent,
        "user_id wins"
    );
}

#[test]
fn an_empty_transcript_api_answer_is_empty_and_bad_ones_are_refused() {
    for json in [
        &br#"{"call_id":1}"#[..],
        br#"{"call_id":1,"lines":[]}"#,
        br#"{"call_id":1,"lines":null}"#,
        br#"{"lines":[{"content":"moment_x","type":"moment"}]}"#,
    ] {
        assert_eq!(
            transcript_from_api(json).map(|u| u.len()),
            Ok(0),
            "{}",
            String::from_utf8_lossy(json)
        );
    }
    for json in [
        &b""[..],
        b"not json",
        b"[]",
        br#"{"lines":"hi"}"#,
        br#"{"lines":{"content":"hi"}}"#,
        br#"{"lines":["hi"]}"#,
        br#"{"lines":[{"content":7}]}"#,
        br#"{"lines":[{"content":"hi","user_id":true}]}"#,
        br#"{"lines":[{"content":"hi","type":3}]}"#,
    ] {
        let outcome = transcript_from_api(json);
        assert!(
            matches!(&outcome, Err(ProviderError::Unprocessable { what }) if what.contains("Dialpad transcript")),
            "{} must be refused: {outcome:?}",
            String::from_utf8_lossy(json)
        );
    }
    let line = r#"{"content":"hi","user_id":1}"#;
    let at_limit = format!(
        r#"{{"lines":[{}]}}"#,
        vec![line; MAX_TRANSCRIPT_LINES].join(",")
    );
    assert_eq!(
        transcript_from_api(at_limit.as_bytes()).map(|u| u.len()),
        Ok(MAX_TRANSCRIPT_LINES),
        "up to the limit"
    );
    let over = format!(
        r#"{{"lines":[{}]}}"#,
        vec![line; MAX_TRANSCRIPT_LINES + 1].join(",")
    );
    let outcome = transcript_from_api(over.as_bytes());
    assert!(
        matches!(&outcome, Err(ProviderError::Unprocessable { what }) if what.contains("more than 5000")),
        "over the limit: {outcome:?}"
    );
}
