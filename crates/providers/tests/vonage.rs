//! Vonage: the SMS API `sig` vector (md5hash and HMAC-SHA256), the Voice API signed JWT with its
//! `payload_hash`, business-phone (VIS) HMAC with a configurable header, and the state mappings.

mod common;

use base64::Engine as _;
use common::*;
use ringside_providers::jwt::sign_hs256;
use ringside_providers::vonage::{
    self, DEFAULT_VIS_SIGNATURE_HEADER, SmsSignatureMethod, map_vis_state, map_voice_status,
};
use ringside_providers::{
    CallState, Direction, Outcome, ProviderError, ProviderKind, ProviderSettings,
};
use sha2::Digest as _;

const SMS_SECRET: &str = "my_secret_key_for_testing";
const SMS_PARAMS: [(&str, &str); 7] = [
    ("message-timestamp", "2013-11-21 15:27:30"),
    ("messageId", "020000001B0FE827"),
    ("msisdn", "14843472194"),
    ("text", "Test again"),
    ("timestamp", "1385047698"),
    ("to", "13239877404"),
    ("type", "text"),
];
const MD5HASH: &str = "d2e7b1dc968737c5998ad624e02f90b7";
const SHA256: &str = "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330";

const SECRET: &str = "vonage-signature-secret";

fn sms_url(sig: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(SMS_PARAMS)
        .append_pair("sig", sig)
        .finish();
    format!("https://relay.example/v1/hooks/int_0?{query}")
}

fn settings(method: SmsSignatureMethod) -> ProviderSettings {
    ProviderSettings {
        vonage_sms_signature_method: method,
        ..ProviderSettings::default()
    }
}

#[test]
fn the_official_sms_vectors_are_reproduced() {
    assert_eq!(
        vonage::sms_signature(
            SmsSignatureMethod::Md5hash,
            SMS_SECRET.as_bytes(),
            &SMS_PARAMS
        ),
        MD5HASH,
        "md5hash vector"
    );
    assert_eq!(
        vonage::sms_signature(
            SmsSignatureMethod::Sha256,
            SMS_SECRET.as_bytes(),
            &SMS_PARAMS
        ),
        SHA256.to_ascii_lowercase(),
        "HMAC-SHA256 vector"
    );
}

#[test]
fn the_official_sms_vectors_verify_as_webhooks_and_parse_the_message() {
    for (method, sig) in [
        (SmsSignatureMethod::Md5hash, MD5HASH.to_owned()),
        (SmsSignatureMethod::Md5hash, MD5HASH.to_ascii_uppercase()),
        (SmsSignatureMethod::Sha256, SHA256.to_owned()),
        (SmsSignatureMethod::Sha256, SHA256.to_ascii_lowercase()),
    ] {
        let outcome = run_with(
            ProviderKind::Vonage,
            SMS_SECRET,
            &settings(method),
            &sms_url(&sig),
            &[],
            b"",
            now(),
        );
        let message = sms(outcome);
        assert_eq!(message.message_id, "020000001B0FE827", "message id");
        assert_eq!(message.event_id, "020000001B0FE827", "dedupe on messageId");
        assert_eq!(
            e164(message.from.as_ref()).as_deref(),
            Some("+14843472194"),
            "msisdn is the sender"
        );
        assert_eq!(
            message.text.as_ref().map(|t| t.expose().as_str()),
            Some("Test again"),
            "text"
        );
        assert_eq!(
            message.occurred_at,
            Some(time::macros::datetime!(2013-11-21 15:27:30 UTC)),
            "message-timestamp is UTC"
        );
    }
}

#[test]
fn sms_params_in_a_form_body_verify_too() {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(SMS_PARAMS)
        .append_pair("sig", MD5HASH)
        .finish();
    let outcome = run_with(
        ProviderKind::Vonage,
        SMS_SECRET,
        &settings(SmsSignatureMethod::Md5hash),
        "https://relay.example/v1/hooks/int_0",
        &[],
        body.as_bytes(),
        now(),
    );
    assert!(
        outcome.is_ok(),
        "a form-encoded SMS callback verifies: {outcome:?}"
    );
}

#[test]
fn a_tampered_sms_parameter_wrong_method_or_secret_is_a_bad_signature() {
    let url = sms_url(MD5HASH);
    let query_start = url.find('?').unwrap() + 1;
    let sig_start = url.find("&sig=").unwrap();
    for at in query_start..sig_start {
        let tampered = String::from_utf8_lossy(&flipped(url.as_bytes(), at)).into_owned();
        let outcome = run_with(
            ProviderKind::Vonage,
            SMS_SECRET,
            &settings(SmsSignatureMethod::Md5hash),
            &tampered,
            &[],
            b"",
            now(),
        );
        assert!(
            outcome.as_ref().is_err_and(ProviderError::is_auth_failure),
            "flipping query byte {at} must be refused, got {outcome:?}"
        );
    }
    let wrong_method = run_with(
        ProviderKind::Vonage,
        SMS_SECRET,
        &settings(SmsSignatureMethod::Md5),
        &url,
        &[],
        b"",
        now(),
    );
    assert_eq!(
        wrong_method,
        Err(ProviderError::BadSignature),
        "md5hash is not HMAC-MD5"
    );
    let wrong_secret = run_with(
        ProviderKind::Vonage,
        "another_secret",
        &settings(SmsSignatureMethod::Md5hash),
        &url,
        &[],
        b"",
        now(),
    );
    assert_eq!(
        wrong_secret,
        Err(ProviderError::BadSignature),
        "wrong secret"
    );
}

fn voice_token(secret: &str, claims: &serde_json::Value) -> String {
    sign_hs256(claims.to_string().as_bytes(), secret.as_bytes())
}

fn voice_body() -> String {
    format!(
        r#"{{"uuid":"leg-1","conversation_uuid":"CON-1","status":"ringing","direction":"inbound","from":"{}","to":"18005551212","timestamp":"2023-11-14T22:13:20.000Z"}}"#,
        &MARKER_NUMBER[1..]
    )
}

fn voice(secret: &str, token: &str, body: &[u8]) -> Result<Outcome, ProviderError> {
    run(
        ProviderKind::Vonage,
        secret,
        "https://relay.example/v1/hooks/int_0",
        &[("Authorization", &format!("Bearer {token}"))],
        body,
        now(),
    )
}

#[test]
fn a_signed_voice_event_with_a_matching_payload_hash_is_parsed() {
    let body = voice_body();
    let hash = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    let token = voice_token(
        SECRET,
        &serde_json::json!({"iat": 1_700_000_000, "api_key": "abc", "payload_hash": hash}),
    );
    let event = call(voice(SECRET, &token, body.as_bytes()));
    assert_eq!(event.state, CallState::Ringing, "ringing");
    assert_eq!(event.call_id, "leg-1", "the leg is the uuid");
    assert_eq!(event.call_key(), "CON-1", "legs follow the conversation");
    assert_eq!(event.event_id, "leg-1:ringing", "dedupe on uuid:status");
    assert_eq!(event.direction, Direction::Inbound, "direction");
    assert_eq!(
        e164(event.from.as_ref()).as_deref(),
        Some(MARKER_NUMBER),
        "Vonage's E.164 without + is parsed"
    );
    assert_eq!(event.occurred_at, Some(now()), "timestamp");
    assert_no_markers(&format!("{event:?}"));
}

#[test]
fn a_voice_body_that_does_not_match_its_payload_hash_is_refused() {
    let body = voice_body();
    let hash = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    let token = voice_token(SECRET, &serde_json::json!({"payload_hash": hash}));
    for at in 0..body.len() {
        assert_eq!(
            voice(SECRET, &token, &flipped(body.as_bytes(), at)),
            Err(ProviderError::BodyHashMismatch),
            "flipping body byte {at} must break the payload hash"
        );
    }
    let unbound = voice_token(SECRET, &serde_json::json!({"iat": 1}));
    assert_eq!(
        voice(SECRET, &unbound, body.as_bytes()),
        Err(ProviderError::BodyHashMismatch),
        "a token without payload_hash does not cover a body"
    );
}

#[test]
fn voice_tokens_with_a_wrong_secret_alg_none_rs256_or_past_exp_are_refused() {
    let body = voice_body();
    let hash = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    let claims = serde_json::json!({"payload_hash": hash});
    assert_eq!(
        voice(
            "other-secret",
            &voice_token(SECRET, &claims),
            body.as_bytes()
        ),
        Err(ProviderError::BadSignature),
        "wrong secret"
    );
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    for header in [r#"{"alg":"none"}"#, r#"{"alg":"RS256","typ":"JWT"}"#] {
        let token = format!("{}.{}.", b64(header), b64(&claims.to_string()));
        let outcome = voice(SECRET, &token, body.as_bytes());
        assert!(
            matches!(outcome, Err(ProviderError::UnsupportedAlgorithm { .. })),
            "{header} must be refused: {outcome:?}"
        );
    }
    let expired = voice_token(
        SECRET,
        &serde_json::json!({"payload_hash": hash, "exp": 1_700_000_000 - 301}),
    );
    assert_eq!(
        voice(SECRET, &expired, body.as_bytes()),
        Err(ProviderError::TimestampOutOfTolerance),
        "a token past exp (beyond the leeway) is refused"
    );
    let basic = run(
        ProviderKind::Vonage,
        SECRET,
        "https://relay.example/",
        &[("Authorization", "Basic dXNlcjpwYXNz")],
        body.as_bytes(),
        now(),
    );
    assert!(
        matches!(basic, Err(ProviderError::UnsupportedAlgorithm { .. })),
        "only bearer tokens: {basic:?}"
    );
}

#[test]
fn voice_statuses_map_to_our_states() {
    for (status, state) in [
        ("started", Some(CallState::Ringing)),
        ("ringing", Some(CallState::Ringing)),
        ("answered", Some(CallState::Answered)),
        ("completed", Some(CallState::Ended)),
        ("busy", Some(CallState::Missed)),
        ("cancelled", Some(CallState::Missed)),
        ("failed", Some(CallState::Missed)),
        ("rejected", Some(CallState::Missed)),
        ("timeout", Some(CallState::Missed)),
        ("unanswered", Some(CallState::Missed)),
        ("machine", None),
    ] {
        assert_eq!(map_voice_status(status), state, "status {status}");
    }
}

fn vis_body() -> String {
    format!(
        r#"{{"event":{{"accountId":"1","callerId":"{MARKER_NAME}","direction":"INBOUND","duration":0,"externalId":"abc123_101","id":"evt-9","internal":false,"phoneNumber":"{MARKER_NUMBER}","startTime":"2023-11-14T22:13:20Z","state":"RINGING","type":"CALL","userId":4242}}}}"#
    )
}

#[test]
fn a_vis_event_signed_in_the_default_header_is_parsed() {
    let body = vis_body();
    let signature = vonage::sign_vis(SECRET.as_bytes(), body.as_bytes());
    let event = call(run(
        ProviderKind::Vonage,
        SECRET,
        "https://relay.example/",
        &[(DEFAULT_VIS_SIGNATURE_HEADER, &signature)],
        body.as_bytes(),
        now(),
    ));
    assert_eq!(event.state, CallState::Ringing, "RINGING");
    assert_eq!(
        event.call_id, "abc123",
        "the call id is externalId before `_`"
    );
    assert_eq!(
        event.routing.extension.as_deref(),
        Some("101"),
        "extension after `_`"
    );
    assert_eq!(
        event.routing.provider_user_id.as_deref(),
        Some("4242"),
        "numeric userId"
    );
    assert_eq!(event.event_id, "evt-9:RINGING", "dedupe on id:state");
    assert_eq!(
        e164(event.from.as_ref()).as_deref(),
        Some(MARKER_NUMBER),
        "remote party"
    );
    assert_no_markers(&format!("{event:?}"));
}

#[test]
fn the_vis_header_is_configurable_and_accepts_hex_or_base64() {
    let body = vis_body();
    let mac = hex::decode(vonage::sign_vis(SECRET.as_bytes(), body.as_bytes())).unwrap();
    let settings = ProviderSettings {
        vonage_vis_signature_header: Some("X-Signature".to_owned()),
        ..ProviderSettings::default()
    };
    for value in [
        hex::encode(&mac),
        hex::encode_upper(&mac),
        format!("sha256={}", hex::encode(&mac)),
        base64::engine::general_purpose::STANDARD.encode(&mac),
    ] {
        let outcome = run_with(
            ProviderKind::Vonage,
            SECRET,
            &settings,
            "https://relay.example/",
            &[("x-signature", &value)],
            body.as_bytes(),
            now(),
        );
        assert!(
            outcome.is_ok(),
            "{value} in the configured header: {outcome:?}"
        );
    }
    let default_header = run_with(
        ProviderKind::Vonage,
        SECRET,
        &settings,
        "https://relay.example/",
        &[(DEFAULT_VIS_SIGNATURE_HEADER, &hex::encode(&mac))],
        body.as_bytes(),
        now(),
    );
    assert!(
        matches!(default_header, Err(ProviderError::MissingSignature { .. })),
        "once configured, only the configured header counts: {default_header:?}"
    );
}

#[test]
fn every_tampered_byte_of_a_vis_body_is_a_bad_signature() {
    let body = vis_body();
    let signature = vonage::sign_vis(SECRET.as_bytes(), body.as_bytes());
    for at in 0..body.len() {
        let outcome = run(
            ProviderKind::Vonage,
            SECRET,
            "https://relay.example/",
            &[(DEFAULT_VIS_SIGNATURE_HEADER, &signature)],
            &flipped(body.as_bytes(), at),
            now(),
        );
        assert_eq!(outcome, Err(ProviderError::BadSignature), "body byte {at}");
    }
    let no_signature = run(
        ProviderKind::Vonage,
        SECRET,
        "https://relay.example/",
        &[],
        body.as_bytes(),
        now(),
    );
    assert!(
        matches!(no_signature, Err(ProviderError::MissingSignature { .. })),
        "no scheme at all: {no_signature:?}"
    );
}

#[test]
fn vis_states_map_to_our_states() {
    for (state, direction, expected) in [
        ("INITIALIZING", Direction::Inbound, Some(CallState::Ringing)),
        ("RINGING", Direction::Inbound, Some(CallState::Ringing)),
        ("Ringing", Direction::Inbound, Some(CallState::Ringing)),
        ("ACTIVE", Direction::Inbound, Some(CallState::Answered)),
        ("ANSWERED", Direction::Inbound, Some(CallState::Ended)),
        ("CANCELLED", Direction::Outbound, Some(CallState::Ended)),
        ("CANCELLED", Direction::Inbound, Some(CallState::Missed)),
        ("MISSED", Direction::Inbound, Some(CallState::Missed)),
        ("REJECTED", Direction::Inbound, Some(CallState::Missed)),
        ("HELD", Direction::Inbound, None),
        ("Remote Held", Direction::Inbound, None),
        ("REMOTE_HELD", Direction::Inbound, None),
    ] {
        assert_eq!(
            map_vis_state(state, direction),
            expected,
            "state {state} ({direction:?})"
        );
    }
}

#[test]
fn every_tampered_byte_of_a_voice_token_or_a_vis_signature_is_refused() {
    let body = voice_body();
    let hash = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    let token = voice_token(SECRET, &serde_json::json!({"payload_hash": hash}));
    for at in 0..token.len() {
        let tampered = String::from_utf8_lossy(&flipped(token.as_bytes(), at)).into_owned();
        let outcome = voice(SECRET, &tampered, body.as_bytes());
        assert!(
            matches!(
                outcome,
                Err(ProviderError::BadSignature
                    | ProviderError::UnsupportedAlgorithm { .. }
                    | ProviderError::Malformed { .. })
            ),
            "flipping token byte {at} must be refused, got {outcome:?}"
        );
    }
    let vis = vis_body();
    let signature = vonage::sign_vis(SECRET.as_bytes(), vis.as_bytes());
    for at in 0..signature.len() {
        let tampered = String::from_utf8_lossy(&flipped(signature.as_bytes(), at)).into_owned();
        let outcome = run(
            ProviderKind::Vonage,
            SECRET,
            "https://relay.example/",
            &[(DEFAULT_VIS_SIGNATURE_HEADER, &tampered)],
            vis.as_bytes(),
            now(),
        );
        assert!(
            matches!(
                outcome,
                Err(ProviderError::BadSignature | ProviderError::Malformed { .. })
            ),
            "flipping signature byte {at} must be refused, got {outcome:?}"
        );
    }
}
