//! Twilio: the official request-validator vectors (form, default port, multi-valued parameters,
//! JSON `bodySHA256`), tampering, and the call-status mapping.

mod common;

use common::*;
use ringside_providers::twilio::{self, map_call_status};
use ringside_providers::{CallState, Direction, Outcome, ProviderError, ProviderKind};

const TOKEN: &str = "12345";
const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const URL_443: &str = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
/// The SDK test's parameters, form-encoded (`+` as `%2B`).
const FORM: &str = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
const SIG: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
const SIG_443: &str = "kvajT1Ptam85bY51eRf/AJRuM3w=";
const JSON_BODY: &str = r#"{"property": "value", "boolean": true}"#;
const JSON_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
const JSON_SIG: &str = "a9nBmqA0ju/hNViExpshrM61xv4=";

fn twilio(url: &str, signature: &str, body: &[u8]) -> Result<Outcome, ProviderError> {
    run(
        ProviderKind::Twilio,
        TOKEN,
        url,
        &[("X-Twilio-Signature", signature)],
        body,
        now(),
    )
}

#[test]
fn the_official_form_vector_verifies() {
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ];
    assert_eq!(
        twilio::signature(TOKEN.as_bytes(), URL, &params),
        SIG,
        "the signature function reproduces the SDK vector"
    );
    let outcome = twilio(URL, SIG, FORM.as_bytes());
    assert!(
        outcome.is_ok(),
        "the official vector must verify: {outcome:?}"
    );
}

#[test]
fn the_signature_with_the_default_port_verifies_whichever_url_we_know() {
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ];
    assert_eq!(
        twilio::signature(TOKEN.as_bytes(), URL_443, &params),
        SIG_443,
        "the signature function reproduces the SDK's port vector"
    );
    for (url, signature) in [(URL, SIG_443), (URL_443, SIG_443), (URL_443, SIG)] {
        let outcome = twilio(url, signature, FORM.as_bytes());
        assert!(
            outcome.is_ok(),
            "{signature} over {url} must verify with or without :443: {outcome:?}"
        );
    }
}

#[test]
fn a_non_default_port_is_not_dropped() {
    let url = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
    assert_eq!(
        twilio(url, SIG, FORM.as_bytes()),
        Err(ProviderError::BadSignature),
        "a signature over the URL without :8443 must not verify for :8443"
    );
}

#[test]
fn the_official_multi_valued_parameter_vector_verifies() {
    let body = "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
    let outcome = twilio(URL, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", body.as_bytes());
    assert!(
        matches!(outcome, Ok(Outcome::Ignored { .. })),
        "the multi-valued vector must verify (and is not a call): {outcome:?}"
    );
}

#[test]
fn the_official_json_body_vector_verifies() {
    use sha2::Digest as _;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(JSON_BODY)),
        JSON_HASH,
        "the body hash matches the SDK vector"
    );
    let url = format!("{URL}&bodySHA256={JSON_HASH}");
    let outcome = twilio(&url, JSON_SIG, JSON_BODY.as_bytes());
    assert!(
        matches!(outcome, Ok(Outcome::Ignored { .. })),
        "the JSON vector must verify: {outcome:?}"
    );
}

#[test]
fn a_json_body_that_does_not_match_its_hash_is_refused() {
    let url = format!("{URL}&bodySHA256={JSON_HASH}");
    let body = JSON_BODY.as_bytes();
    for at in 0..body.len() {
        assert_eq!(
            twilio(&url, JSON_SIG, &flipped(body, at)),
            Err(ProviderError::BodyHashMismatch),
            "flipping byte {at} of the JSON body must break its hash"
        );
    }
}

#[test]
fn every_tampered_byte_of_the_form_body_is_a_bad_signature() {
    for at in 0..FORM.len() {
        let result = twilio(URL, SIG, &flipped(FORM.as_bytes(), at));
        assert_eq!(
            result,
            Err(ProviderError::BadSignature),
            "flipping byte {at} of the form must be refused"
        );
    }
}

#[test]
fn every_tampered_byte_of_the_signature_or_url_is_refused() {
    for at in 0..SIG.len() {
        let signature = String::from_utf8_lossy(&flipped(SIG.as_bytes(), at)).into_owned();
        let result = twilio(URL, &signature, FORM.as_bytes());
        assert!(
            matches!(
                result,
                Err(ProviderError::BadSignature | ProviderError::Malformed { .. })
            ),
            "flipping byte {at} of the signature must be refused, got {result:?}"
        );
    }
    for at in 0..URL.len() {
        let url = String::from_utf8_lossy(&flipped(URL.as_bytes(), at)).into_owned();
        let result = twilio(&url, SIG, FORM.as_bytes());
        assert!(
            result.as_ref().is_err_and(ProviderError::is_auth_failure),
            "flipping byte {at} of the URL must be refused, got {result:?}"
        );
    }
}

#[test]
fn a_wrong_token_or_a_missing_header_is_refused() {
    let wrong = run(
        ProviderKind::Twilio,
        "54321",
        URL,
        &[("X-Twilio-Signature", SIG)],
        FORM.as_bytes(),
        now(),
    );
    assert_eq!(wrong, Err(ProviderError::BadSignature), "wrong auth token");
    let missing = run(
        ProviderKind::Twilio,
        TOKEN,
        URL,
        &[],
        FORM.as_bytes(),
        now(),
    );
    assert!(
        matches!(missing, Err(ProviderError::MissingSignature { .. })),
        "no X-Twilio-Signature: {missing:?}"
    );
    let twice = run(
        ProviderKind::Twilio,
        TOKEN,
        URL,
        &[("X-Twilio-Signature", SIG), ("x-twilio-signature", SIG)],
        FORM.as_bytes(),
        now(),
    );
    assert!(
        matches!(twice, Err(ProviderError::Malformed { .. })),
        "a repeated signature header is ambiguous: {twice:?}"
    );
}

#[test]
fn a_signed_status_callback_becomes_a_call_event() {
    let url = "https://relay.example/v1/hooks/int_0";
    let params = [
        ("CallSid", "CA42"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", MARKER_NUMBER),
        ("To", "+18005551212"),
        ("CallerName", MARKER_NAME),
        ("ParentCallSid", "CA41"),
    ];
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let signature = twilio::signature(TOKEN.as_bytes(), url, &params);
    let event = call(twilio(url, &signature, body.as_bytes()));
    assert_eq!(event.state, CallState::Ringing, "ringing maps to ringing");
    assert_eq!(event.call_id, "CA42", "call id is the CallSid");
    assert_eq!(event.call_key(), "CA41", "legs follow the parent call");
    assert_eq!(
        event.event_id, "CA42:ringing",
        "dedupe on CallSid:CallStatus"
    );
    assert_eq!(event.direction, Direction::Inbound, "direction");
    assert_eq!(
        e164(event.from.as_ref()).as_deref(),
        Some(MARKER_NUMBER),
        "from"
    );
    assert_eq!(
        e164(event.routing.dialed_number.as_ref()).as_deref(),
        Some("+18005551212"),
        "the dialed number routes an inbound call"
    );
    assert_no_markers(&format!("{event:?}"));

    let with_token = run(
        ProviderKind::Twilio,
        TOKEN,
        url,
        &[
            ("X-Twilio-Signature", &signature),
            ("I-Twilio-Idempotency-Token", "idem-1"),
        ],
        body.as_bytes(),
        now(),
    );
    assert_eq!(
        call(with_token).event_id,
        "idem-1",
        "the idempotency header is the dedupe identity when sent"
    );
}

#[test]
fn call_statuses_map_to_our_states() {
    for (status, state) in [
        ("queued", Some(CallState::Ringing)),
        ("initiated", Some(CallState::Ringing)),
        ("ringing", Some(CallState::Ringing)),
        ("in-progress", Some(CallState::Answered)),
        ("completed", Some(CallState::Ended)),
        ("busy", Some(CallState::Missed)),
        ("no-answer", Some(CallState::Missed)),
        ("canceled", Some(CallState::Missed)),
        ("failed", Some(CallState::Missed)),
        ("paused", None),
    ] {
        assert_eq!(map_call_status(status), state, "CallStatus {status}");
    }
}
