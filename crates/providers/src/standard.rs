//! Standard Webhooks (standardwebhooks.com, spec v1): the generic format for senders that are not
//! one of the named providers — and the one our own simulator can speak.
//!
//! `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256>` over
//! `{webhook-id}.{webhook-timestamp}.{raw body}`, keyed with the base64-decoded `whsec_…` secret.
//! Several signatures let a sender rotate its secret without downtime: any matching `v1` entry is
//! enough (each compared in constant time). `webhook-timestamp` (unix seconds) must be within
//! ±[`TOLERANCE_SECS`] of our clock, which the caller passes in — so replays of a captured request
//! are refused after five minutes, and deduplication on `webhook-id` covers the five minutes.
//!
//! The payload is the spec's recommended `{type, timestamp, data}`; the event types and `data`
//! fields we read are listed in `docs/providers.md` (`call.ringing` … `call.transferred`,
//! `call.transcript`, `sms.received`, `sms.sent`); other types are ignored.
//!
//! `call.transcript` carries `data.transcript`: one string (one utterance, speaker unknown) or a
//! list of `{speaker, text, start_ms}` lines, at most [`MAX_TRANSCRIPT_LINES`]. A line whose text
//! is missing or blank is skipped; a transcript with no text left, a field of the wrong type or
//! too many lines refuses the event ([`ProviderError::Unprocessable`], 422, as any other authentic
//! event we cannot read), each with its own message.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ringside_core::Pii;
use ringside_core::transcript::{Speaker, Utterance};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::event::{Number, Routing};
use crate::fields::{
    Scalar, clean_id, direction, drain_map, drain_seq, id_or_string, pii_list, pii_string, rfc3339,
    utterance_text,
};
use crate::{
    CallEvent, CallState, Direction, MAX_TRANSCRIPT_LINES, Outcome, ProviderError, ProviderKind,
    ProviderSecret, Request, SmsEvent, TranscriptEvent, WebhookEvent, jwt,
};

/// How far (either way) the signed timestamp may be from our clock, in seconds.
pub const TOLERANCE_SECS: i64 = 300;

/// The most signatures we look at in one header (rotation needs two or three).
pub const MAX_SIGNATURES: usize = 16;

/// The secret prefix of the spec's symmetric scheme.
pub const SECRET_PREFIX: &str = "whsec_";

/// The event type of a call's transcript.
pub const TRANSCRIPT_TYPE: &str = "call.transcript";

/// The HMAC key of a `whsec_…` secret (the prefix is optional, as in the reference libraries).
///
/// # Errors
/// [`ProviderError::InvalidSecret`] when the rest is not base64.
pub fn key(secret: &ProviderSecret) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
    let text = secret.text();
    let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
    STANDARD
        .decode(encoded)
        .map(Zeroizing::new)
        .map_err(|_| ProviderError::InvalidSecret {
            what: "a Standard Webhooks secret is `whsec_` followed by base64",
        })
}

/// The `v1,…` signature of a message, as the sender puts it in `webhook-signature`.
///
/// # Errors
/// [`ProviderError::InvalidSecret`] when the secret is not a valid `whsec_` secret.
pub fn sign(
    secret: &ProviderSecret,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, ProviderError> {
    let key = key(secret)?;
    Ok(format!(
        "v1,{}",
        STANDARD.encode(jwt::hmac_sha256(
            &key,
            &signed_content(id, &timestamp.to_string(), body)
        ))
    ))
}

/// `{id}.{timestamp}.{body}`, with the timestamp exactly as the header carries it.
fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + 24 + body.len());
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// Verifies and parses one Standard Webhooks request.
///
/// # Errors
/// [`ProviderError::MissingSignature`] without the three headers; [`ProviderError::BadSignature`]
/// when no `v1` signature matches; [`ProviderError::UnsupportedAlgorithm`] when only other
/// versions (`v1a`) are offered; [`ProviderError::TimestampOutOfTolerance`] beyond ±5 minutes.
pub fn verify_and_parse(
    secret: &ProviderSecret,
    request: &Request<'_>,
    now: OffsetDateTime,
) -> Result<Outcome, ProviderError> {
    let missing = |what| ProviderError::MissingSignature { what };
    let id = request
        .header("webhook-id")?
        .ok_or(missing("webhook-id header"))?;
    let timestamp = request
        .header("webhook-timestamp")?
        .ok_or(missing("webhook-timestamp header"))?;
    let signatures = request
        .header("webhook-signature")?
        .ok_or(missing("webhook-signature header"))?;
    if id.is_empty() || id.contains('.') || clean_id(id).is_none() {
        return Err(ProviderError::Malformed {
            what: "webhook-id is empty, too long or contains a dot",
        });
    }
    let signed_at: i64 = timestamp
        .parse()
        .ok()
        .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(ProviderError::Malformed {
            what: "webhook-timestamp is not unix seconds",
        })?;

    let key = key(secret)?;
    let content = signed_content(id, timestamp, request.body);
    let expected = jwt::hmac_sha256(&key, &content);
    let mut offered_v1 = false;
    let mut matched = false;
    for entry in signatures.split_ascii_whitespace().take(MAX_SIGNATURES) {
        let Some((version, signature)) = entry.split_once(',') else {
            continue;
        };
        if version != "v1" {
            continue;
        }
        offered_v1 = true;
        if let Ok(signature) = STANDARD.decode(signature) {
            matched |= bool::from(expected.as_slice().ct_eq(&signature));
        }
    }
    if !offered_v1 {
        return Err(ProviderError::UnsupportedAlgorithm {
            what: "no v1 (HMAC-SHA256) signature offered",
        });
    }
    if !matched {
        return Err(ProviderError::BadSignature);
    }
    if now.unix_timestamp().saturating_sub(signed_at).abs() > TOLERANCE_SECS {
        return Err(ProviderError::TimestampOutOfTolerance);
    }
    parse(id, request.body)
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: Option<String>,
    timestamp: Option<String>,
    data: Option<Data>,
}

/// The `data` of our call and SMS event types.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Data {
    #[serde(deserialize_with = "id_or_string")]
    call_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    parent_call_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    message_id: Option<String>,
    direction: Option<String>,
    #[serde(deserialize_with = "pii_string")]
    from: Option<Pii<String>>,
    #[serde(deserialize_with = "pii_list")]
    to: Vec<Pii<String>>,
    #[serde(deserialize_with = "pii_string")]
    contact_name: Option<Pii<String>>,
    #[serde(deserialize_with = "pii_string")]
    text: Option<Pii<String>>,
    #[serde(deserialize_with = "id_or_string")]
    user_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    extension: Option<String>,
    #[serde(deserialize_with = "pii_string")]
    dialed_number: Option<Pii<String>>,
    transcript: RawTranscript,
}

/// `data.transcript` as sent, read without ever failing the payload on its shape: what is wrong
/// with it is kept and reported as the event's own error.
#[derive(Default)]
enum RawTranscript {
    /// Absent or `null`.
    #[default]
    Absent,
    /// The lines that have text (possibly none).
    Lines(Vec<Utterance>),
    /// Why it cannot be read.
    Invalid(&'static str),
}

impl<'de> Deserialize<'de> for RawTranscript {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TranscriptVisitor)
    }
}

const NOT_A_TRANSCRIPT: &str = "data.transcript is neither a string nor a list of lines";

struct TranscriptVisitor;

impl<'de> Visitor<'de> for TranscriptVisitor {
    type Value = RawTranscript;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a transcript: a string or a list of lines")
    }

    fn visit_unit<E>(self) -> Result<RawTranscript, E> {
        Ok(RawTranscript::Absent)
    }

    fn visit_none<E>(self) -> Result<RawTranscript, E> {
        Ok(RawTranscript::Absent)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<RawTranscript, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E>(self, v: &str) -> Result<RawTranscript, E> {
        Ok(RawTranscript::Lines(
            utterance_text(v)
                .map(|text| Utterance {
                    speaker: Speaker::Unknown,
                    text,
                    start_ms: None,
                })
                .into_iter()
                .collect(),
        ))
    }

    fn visit_string<E: serde::de::Error>(self, mut v: String) -> Result<RawTranscript, E> {
        let lines = self.visit_str(&v);
        zeroize::Zeroize::zeroize(&mut v);
        lines
    }

    fn visit_u64<E>(self, _: u64) -> Result<RawTranscript, E> {
        Ok(RawTranscript::Invalid(NOT_A_TRANSCRIPT))
    }

    fn visit_i64<E>(self, _: i64) -> Result<RawTranscript, E> {
        Ok(RawTranscript::Invalid(NOT_A_TRANSCRIPT))
    }

    fn visit_f64<E>(self, _: f64) -> Result<RawTranscript, E> {
        Ok(RawTranscript::Invalid(NOT_A_TRANSCRIPT))
    }

    fn visit_bool<E>(self, _: bool) -> Result<RawTranscript, E> {
        Ok(RawTranscript::Invalid(NOT_A_TRANSCRIPT))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawTranscript, A::Error> {
        drain_map(map)?;
        Ok(RawTranscript::Invalid(NOT_A_TRANSCRIPT))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawTranscript, A::Error> {
        let mut lines = Vec::new();
        let mut count = 0_usize;
        while count < MAX_TRANSCRIPT_LINES {
            match seq.next_element::<RawLine>()? {
                None => return Ok(RawTranscript::Lines(lines)),
                Some(RawLine::Line(line)) => lines.extend(line),
                Some(RawLine::Invalid(why)) => {
                    drain_seq(seq)?;
                    return Ok(RawTranscript::Invalid(why));
                }
            }
            count += 1;
        }
        if seq.next_element::<IgnoredAny>()?.is_none() {
            return Ok(RawTranscript::Lines(lines));
        }
        drain_seq(seq)?;
        // The message names the limit: keep the two in step.
        const _: () = assert!(MAX_TRANSCRIPT_LINES == 5_000);
        Ok(RawTranscript::Invalid(
            "data.transcript has more than 5000 lines",
        ))
    }
}

/// One element of a `data.transcript` list.
enum RawLine {
    /// A line: `None` when it has no text (skipped).
    Line(Option<Utterance>),
    /// Why it cannot be read.
    Invalid(&'static str),
}

/// The fields of a line; anything else is skipped unread.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum LineField {
    Speaker,
    Text,
    StartMs,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for RawLine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LineVisitor)
    }
}

const NOT_A_LINE: &str = "a line of data.transcript is not an object {speaker, text, start_ms}";

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = RawLine;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a transcript line {speaker, text, start_ms}")
    }

    fn visit_unit<E>(self) -> Result<RawLine, E> {
        Ok(RawLine::Invalid(NOT_A_LINE))
    }

    fn visit_bool<E>(self, _: bool) -> Result<RawLine, E> {
        Ok(RawLine::Invalid(NOT_A_LINE))
    }

    fn visit_u64<E>(self, _: u64) -> Result<RawLine, E> {
        Ok(RawLine::Invalid(NOT_A_LINE))
    }

    fn visit_i64<E>(self, _: i64) -> Result<RawLine, E> {
        Ok(RawLine::Invalid(NOT_A_LINE))
    }

    fn visit_f64<E>(self, _: f64) -> Result<RawLine, E> {
        Ok(RawLine::Invalid(NOT_A_LINE))
    }

    fn visit_str<E>(self, _: &str) -> Result<RawLine, E> {
        Ok(RawLine::Invalid(NOT_A_LINE))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawLine, A::Error> {
        drain_seq(seq)?;
        Ok(RawLine::Invalid(NOT_A_LINE))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawLine, A::Error> {
        let mut speaker = Speaker::Unknown;
        let mut text = None;
        let mut start_ms = None;
        let mut problem = None;
        while let Some(field) = map.next_key::<LineField>()? {
            match field {
                LineField::Speaker => match map.next_value::<Scalar>()? {
                    Scalar::Null => speaker = Speaker::Unknown,
                    Scalar::Text(word) => speaker = speaker_word(word.expose()),
                    Scalar::Unsigned(_) | Scalar::Other => {
                        problem.get_or_insert("a speaker in data.transcript is not a string");
                    }
                },
                LineField::Text => match map.next_value::<Scalar>()? {
                    Scalar::Null => text = None,
                    Scalar::Text(said) => text = utterance_text(said.expose()),
                    Scalar::Unsigned(_) | Scalar::Other => {
                        problem.get_or_insert("a text in data.transcript is not a string");
                    }
                },
                LineField::StartMs => match map.next_value::<Scalar>()? {
                    Scalar::Null => start_ms = None,
                    Scalar::Unsigned(ms) => start_ms = Some(ms),
                    Scalar::Text(_) | Scalar::Other => {
                        problem.get_or_insert(
                            "a start_ms in data.transcript is not a whole number of milliseconds",
                        );
                    }
                },
                LineField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match problem {
            Some(why) => RawLine::Invalid(why),
            None => RawLine::Line(text.map(|text| Utterance {
                speaker,
                text,
                start_ms,
            })),
        })
    }
}

/// A line's `speaker`: `caller`, `agent` (any case); anything else is unknown.
fn speaker_word(word: &str) -> Speaker {
    let word = word.trim();
    if word.eq_ignore_ascii_case("caller") {
        Speaker::Caller
    } else if word.eq_ignore_ascii_case("agent") {
        Speaker::Agent
    } else {
        Speaker::Unknown
    }
}

/// Our state for a `call.*` event type; `None` for other types.
pub fn map_type(kind: &str) -> Option<CallState> {
    Some(match kind.strip_prefix("call.")? {
        "ringing" => CallState::Ringing,
        "answered" => CallState::Answered,
        "ended" => CallState::Ended,
        "missed" => CallState::Missed,
        "voicemail" => CallState::Voicemail,
        "transferred" => CallState::Transferred,
        _ => return None,
    })
}

fn parse(id: &str, body: &[u8]) -> Result<Outcome, ProviderError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|_| ProviderError::Unprocessable {
            what: "the body is not a JSON object of the form {type, timestamp, data}",
        })?;
    let kind = envelope.kind.unwrap_or_default();
    let data = envelope.data.unwrap_or_default();
    if kind == TRANSCRIPT_TYPE {
        return parse_transcript(id, data);
    }
    let occurred_at = envelope.timestamp.as_deref().and_then(rfc3339);
    let direction = direction(data.direction.as_deref());
    let routing = Routing {
        provider_user_id: data.user_id,
        extension: data.extension,
        dialed_number: Number::from_pii(data.dialed_number.as_ref()),
    };
    if let Some(state) = map_type(&kind) {
        let call_id = data.call_id.ok_or(ProviderError::Unprocessable {
            what: "a call event without data.call_id",
        })?;
        return Ok(Outcome::Event(WebhookEvent::Call(CallEvent {
            provider: ProviderKind::Standard,
            event_id: id.to_owned(),
            call_id,
            parent_call_id: data.parent_call_id,
            direction,
            state,
            provider_state: state.as_str().to_owned(),
            from: Number::from_pii(data.from.as_ref()),
            to: data.to.first().and_then(|to| Number::parse(to.expose())),
            contact_name: data.contact_name,
            routing,
            occurred_at,
        })));
    }
    if kind == "sms.received" || kind == "sms.sent" {
        let message_id = data.message_id.ok_or(ProviderError::Unprocessable {
            what: "an SMS event without data.message_id",
        })?;
        let direction = if kind == "sms.received" {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        return Ok(Outcome::Event(WebhookEvent::Sms(SmsEvent {
            provider: ProviderKind::Standard,
            event_id: id.to_owned(),
            message_id,
            direction,
            from: Number::from_pii(data.from.as_ref()),
            to: data
                .to
                .iter()
                .filter_map(|to| Number::parse(to.expose()))
                .collect(),
            text: data.text,
            contact_name: data.contact_name,
            routing,
            occurred_at,
        })));
    }
    Ok(Outcome::Ignored {
        reason: "a Standard Webhooks event type we do not use",
    })
}

fn parse_transcript(id: &str, data: Data) -> Result<Outcome, ProviderError> {
    let call_id = data.call_id.ok_or(ProviderError::Unprocessable {
        what: "a call.transcript event without data.call_id",
    })?;
    let utterances = match data.transcript {
        RawTranscript::Absent => {
            return Err(ProviderError::Unprocessable {
                what: "a call.transcript event without data.transcript",
            });
        }
        RawTranscript::Invalid(what) => return Err(ProviderError::Unprocessable { what }),
        RawTranscript::Lines(lines) if lines.is_empty() => {
            return Err(ProviderError::Unprocessable {
                what: "a call.transcript event with no text in data.transcript",
            });
        }
        RawTranscript::Lines(lines) => lines,
    };
    Ok(Outcome::Event(WebhookEvent::Transcript(TranscriptEvent {
        provider: ProviderKind::Standard,
        event_id: id.to_owned(),
        call_id,
        parent_call_id: data.parent_call_id,
        utterances,
    })))
}
