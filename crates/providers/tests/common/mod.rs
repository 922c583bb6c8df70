//! Helpers shared by the provider tests: a fixed clock, requests built from parts, and unwrapping
//! an outcome into the event a test expects.

#![allow(dead_code, unreachable_pub)]

use ringside_providers::{
    CallEvent, Outcome, ProviderError, ProviderKind, ProviderSecret, ProviderSettings, Request,
    SmsEvent, TranscriptEvent, WebhookEvent, verify_and_parse,
};
use time::OffsetDateTime;

/// Values that must never appear in a `Debug` of an event or in an error message.
pub const MARKER_NAME: &str = "Zebulon Quartermaine";
pub const MARKER_NUMBER: &str = "+14155550123";
pub const MARKER_DIGITS: &str = "4155550123";
pub const MARKER_TEXT: &str = "Marmalade-Ostrich-Text";

pub fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("a valid unix time")
}

pub fn now() -> OffsetDateTime {
    at(1_700_000_000)
}

pub fn secret(text: &str) -> ProviderSecret {
    ProviderSecret::new(text).expect("a valid test secret")
}

pub fn run(
    kind: ProviderKind,
    secret_text: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Outcome, ProviderError> {
    run_with(
        kind,
        secret_text,
        &ProviderSettings::default(),
        url,
        headers,
        body,
        now,
    )
}

pub fn run_with(
    kind: ProviderKind,
    secret_text: &str,
    settings: &ProviderSettings,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Outcome, ProviderError> {
    verify_and_parse(
        kind,
        &secret(secret_text),
        settings,
        &Request { url, headers, body },
        now,
    )
}

pub fn call(outcome: Result<Outcome, ProviderError>) -> CallEvent {
    match outcome {
        Ok(Outcome::Event(WebhookEvent::Call(call))) => call,
        other => panic!("expected a call event, got {other:?}"),
    }
}

pub fn sms(outcome: Result<Outcome, ProviderError>) -> SmsEvent {
    match outcome {
        Ok(Outcome::Event(WebhookEvent::Sms(sms))) => sms,
        other => panic!("expected an SMS event, got {other:?}"),
    }
}

pub fn transcript(outcome: Result<Outcome, ProviderError>) -> TranscriptEvent {
    match outcome {
        Ok(Outcome::Event(WebhookEvent::Transcript(transcript))) => transcript,
        other => panic!("expected a transcript event, got {other:?}"),
    }
}

/// The speaker, text and start of each utterance, for comparing transcripts.
pub fn lines(
    utterances: &[ringside_core::transcript::Utterance],
) -> Vec<(ringside_core::transcript::Speaker, String, Option<u64>)> {
    utterances
        .iter()
        .map(|u| (u.speaker, u.text.expose().clone(), u.start_ms))
        .collect()
}

/// Asserts that `outcome` is a 422 whose message contains `needle`.
pub fn assert_unprocessable(outcome: &Result<Outcome, ProviderError>, needle: &str, what: &str) {
    match outcome {
        Err(error @ ProviderError::Unprocessable { .. }) => {
            assert_eq!(error.http_status(), 422, "{what}");
            assert!(
                error.to_string().contains(needle),
                "{what}: the message {error} should say {needle:?}"
            );
        }
        other => panic!("{what}: expected a 422 saying {needle:?}, got {other:?}"),
    }
}

pub fn e164(number: Option<&ringside_providers::Number>) -> Option<String> {
    number
        .and_then(|n| n.phone())
        .map(|p| p.expose().e164().to_owned())
}

/// Asserts that `printed` shows none of the marker values.
pub fn assert_no_markers(printed: &str) {
    for marker in [
        MARKER_NAME,
        MARKER_NUMBER,
        MARKER_DIGITS,
        MARKER_TEXT,
        "0123",
    ] {
        assert!(
            !printed.contains(marker),
            "the marker {marker:?} leaked into {printed}"
        );
    }
}

/// Flips one bit of byte `at`.
pub fn flipped(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}
