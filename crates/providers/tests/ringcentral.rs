//! RingCentral: the `Validation-Token` handshake, the verification token (and its fallback
//! header), telephony-session and SMS parsing, and the status mapping.

mod common;

use common::*;
use ringside_providers::ringcentral::map_status;
use ringside_providers::{
    CallState, Direction, Outcome, ProviderError, ProviderKind, Request, echo_header,
};

const TOKEN: &str = "rc-verification-token-0123456789";

fn ringcentral(headers: &[(&str, &str)], body: &[u8]) -> Result<Outcome, ProviderError> {
    run(
        ProviderKind::Ringcentral,
        TOKEN,
        "https://relay.example/v1/hooks/int_0",
        headers,
        body,
        now(),
    )
}

fn session_body(code: &str, missed: bool) -> String {
    format!(
        r#"{{"uuid":"uuid-1","event":"/restapi/v1.0/account/~/extension/~/telephony/sessions","timestamp":"2023-11-14T22:13:20.000Z","subscriptionId":"s","ownerId":"o","body":{{"sequence":3,"sessionId":"S1","telephonySessionId":"TS-1","eventTime":"2023-11-14T22:13:20.000Z","parties":[{{"id":"P-1","accountId":"a","extensionId":"ext-7","direction":"Inbound","from":{{"phoneNumber":"{MARKER_NUMBER}","name":"{MARKER_NAME}"}},"to":{{"phoneNumber":"+18005551212","extensionNumber":"101","extensionId":"ext-7"}},"status":{{"code":"{code}"}},"missedCall":{missed}}}]}}}}"#
    )
}

#[test]
fn the_validation_token_handshake_is_echoed() {
    let outcome = ringcentral(&[("Validation-Token", "abc")], b"");
    assert_eq!(
        outcome,
        Ok(Outcome::Handshake {
            name: "Validation-Token",
            echo: "abc".to_owned()
        }),
        "the handshake echoes the token"
    );
}

#[test]
fn a_handshake_token_that_could_inject_headers_or_overflow_1_kb_is_refused() {
    let long = "a".repeat(600);
    for token in ["abc\r\nSet-Cookie: x=1", "a b", long.as_str()] {
        let outcome = ringcentral(&[("Validation-Token", token)], b"");
        assert!(
            matches!(outcome, Err(ProviderError::Malformed { .. })),
            "{token:?} must not be echoed: {outcome:?}"
        );
    }
}

#[test]
fn a_notification_with_the_verification_token_becomes_a_call_event() {
    let event = call(ringcentral(
        &[("Verification-Token", TOKEN)],
        session_body("Setup", false).as_bytes(),
    ));
    assert_eq!(event.state, CallState::Ringing, "Setup is ringing");
    assert_eq!(event.event_id, "uuid-1", "dedupe on the envelope uuid");
    assert_eq!(event.call_id, "P-1", "the party is the leg");
    assert_eq!(
        event.call_key(),
        "TS-1",
        "legs follow the telephony session"
    );
    assert_eq!(event.direction, Direction::Inbound, "direction");
    assert_eq!(
        event.routing.provider_user_id.as_deref(),
        Some("ext-7"),
        "extension id"
    );
    assert_eq!(
        event.routing.extension.as_deref(),
        Some("101"),
        "extension number"
    );
    assert_eq!(
        e164(event.from.as_ref()).as_deref(),
        Some(MARKER_NUMBER),
        "from"
    );
    assert_eq!(
        event.contact_name.as_ref().map(|n| n.expose().as_str()),
        Some(MARKER_NAME),
        "caller name, wrapped"
    );
    assert_eq!(event.occurred_at, Some(now()), "eventTime");
    assert_no_markers(&format!("{event:?}"));
}

#[test]
fn the_older_validation_token_header_is_accepted_and_echoed() {
    let headers = [("Validation-Token", TOKEN)];
    let body = session_body("Answered", false);
    let event = call(ringcentral(&headers, body.as_bytes()));
    assert_eq!(event.state, CallState::Answered, "Answered");
    let request = Request {
        url: "https://relay.example/",
        headers: &headers,
        body: body.as_bytes(),
    };
    assert_eq!(
        echo_header(ProviderKind::Ringcentral, &request),
        Some(("Validation-Token", TOKEN.to_owned())),
        "every answer echoes Validation-Token"
    );
    assert_eq!(
        echo_header(ProviderKind::Twilio, &request),
        None,
        "other providers need no echo"
    );
}

#[test]
fn a_wrong_or_missing_token_is_refused() {
    let body = session_body("Setup", false);
    assert_eq!(
        ringcentral(&[("Verification-Token", "wrong")], body.as_bytes()),
        Err(ProviderError::BadSignature),
        "wrong token"
    );
    let mut tampered = TOKEN.as_bytes().to_vec();
    for at in 0..tampered.len() {
        tampered[at] ^= 0x01;
        let token = String::from_utf8_lossy(&tampered).into_owned();
        assert_eq!(
            ringcentral(&[("Verification-Token", &token)], body.as_bytes()),
            Err(ProviderError::BadSignature),
            "token byte {at} flipped"
        );
        tampered[at] ^= 0x01;
    }
    let missing = ringcentral(&[], body.as_bytes());
    assert!(
        matches!(missing, Err(ProviderError::MissingSignature { .. })),
        "no token: {missing:?}"
    );
}

#[test]
fn an_inbound_sms_is_parsed_and_other_filters_are_ignored() {
    let body = format!(
        r#"{{"uuid":"uuid-2","event":"/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS","body":{{"id":"m-1","from":{{"phoneNumber":"{MARKER_NUMBER}","name":"{MARKER_NAME}"}},"to":[{{"phoneNumber":"+18005551212","extensionNumber":"101"}}],"direction":"Inbound","subject":"{MARKER_TEXT}","creationTime":"2023-11-14T22:13:20Z"}}}}"#
    );
    let message = sms(ringcentral(
        &[("Verification-Token", TOKEN)],
        body.as_bytes(),
    ));
    assert_eq!(message.event_id, "uuid-2", "dedupe on uuid");
    assert_eq!(message.message_id, "m-1", "message id");
    assert_eq!(
        message.text.as_ref().map(|t| t.expose().as_str()),
        Some(MARKER_TEXT),
        "subject is the text"
    );
    assert_no_markers(&format!("{message:?}"));

    let reminder =
        r#"{"uuid":"uuid-3","event":"/restapi/v1.0/subscription/~?threshold=86400","body":{}}"#;
    assert!(
        matches!(
            ringcentral(&[("Verification-Token", TOKEN)], reminder.as_bytes()),
            Ok(Outcome::Ignored { .. })
        ),
        "a renewal reminder is ignored"
    );
}

#[test]
fn party_status_codes_map_to_our_states() {
    for (code, missed, state) in [
        ("Setup", false, Some(CallState::Ringing)),
        ("Proceeding", false, Some(CallState::Ringing)),
        ("Answered", false, Some(CallState::Answered)),
        ("Disconnected", false, Some(CallState::Ended)),
        ("Disconnected", true, Some(CallState::Missed)),
        ("VoiceMail", false, Some(CallState::Voicemail)),
        ("VoiceMailScreening", false, Some(CallState::Voicemail)),
        ("Gone", false, Some(CallState::Transferred)),
        ("Hold", false, None),
        ("Parked", false, None),
        ("FaxReceive", false, None),
    ] {
        assert_eq!(
            map_status(code, missed),
            state,
            "{code} (missedCall {missed})"
        );
    }
    let missed = call(ringcentral(
        &[("Verification-Token", TOKEN)],
        session_body("Disconnected", true).as_bytes(),
    ));
    assert_eq!(
        missed.state,
        CallState::Missed,
        "missedCall makes it missed"
    );
}

#[test]
fn an_empty_notification_needs_the_token_and_is_then_ignored() {
    assert!(
        matches!(
            ringcentral(&[("Verification-Token", TOKEN)], b""),
            Ok(Outcome::Ignored { .. })
        ),
        "an authentic empty notification is ignored"
    );
    assert!(
        matches!(
            ringcentral(&[], b""),
            Err(ProviderError::MissingSignature { .. })
        ),
        "an empty request with no header is unauthenticated"
    );
}
