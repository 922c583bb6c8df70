//! Dialpad: the whole body is a compact JWT signed HS256 with the webhook's secret (its UTF-8
//! bytes). We pin HS256 (`none`, RS*, anything else is refused), require no `exp` (Dialpad
//! documents none) but honour one if present, and rely on deduplication against replays.
//!
//! Dialpad is inconsistent about types: ids and epoch-millisecond times arrive as JSON numbers or
//! as strings, so both are accepted. A body that is plain JSON (a webhook created without a
//! secret) is refused: we never create one.
//!
//! Call states (one payload per transition): `preanswer`/`calling`/`ringing` → ringing,
//! `connected` → answered, `hangup` → ended (transferred when `is_transferred`), `missed` →
//! missed, `voicemail`/`voicemail_uploaded` → voicemail; the other states (recording, hold,
//! recaps, …) are ignored. Dedupe identity: `call_id:state:event_timestamp`.
//!
//! Transcripts: the `transcription` state carries a voicemail's transcript in
//! `transcription_text`, which becomes a [`TranscriptEvent`] of one utterance (speaker unknown;
//! ignored when the text is empty). Its identity has the state in it
//! (`call_id:transcription:event_timestamp`), so it never collides with the call's state events.
//! The post-call AI transcript (`call_transcription`) is not in the event: the event only says it
//! is ready, and the lines are Dialpad's transcript API's (`GET /api/v2/transcripts/{call_id}`,
//! [`transcript_url`]), which [`transcript_from_api`] reads. The event becomes a
//! [`TranscriptReady`]; fetching is the caller's (this crate does no I/O). The recaps are
//! ignored.

use ringside_core::Pii;
use ringside_core::transcript::{Speaker, Utterance};
use serde::Deserialize;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::event::{Number, Routing, wipe};
use crate::fields::{
    self, Scalar, epoch_auto, epoch_ms, id_or_string, pii_list, pii_string, utterance_text,
};
use crate::{
    CallEvent, CallState, Direction, MAX_TRANSCRIPT_LINES, Outcome, ProviderError, ProviderKind,
    ProviderSecret, Request, SmsEvent, TranscriptEvent, TranscriptReady, WebhookEvent, jwt,
};

/// How far past a token's `exp` we still accept it (Dialpad retries within seconds; clocks drift).
pub const EXP_LEEWAY_SECS: i64 = 300;

/// A Dialpad party (`contact`, `target`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Party {
    #[serde(deserialize_with = "id_or_string")]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(deserialize_with = "pii_string")]
    name: Option<Pii<String>>,
    #[serde(deserialize_with = "pii_string")]
    phone: Option<Pii<String>>,
    #[serde(deserialize_with = "pii_string")]
    phone_number: Option<Pii<String>>,
    #[serde(deserialize_with = "id_or_string")]
    extension: Option<String>,
}

impl Party {
    /// Routing to this party (the agent side): its id when it is a user (or untyped), its
    /// extension, and the agency's number.
    fn routing(self, dialed_number: Option<Number>) -> Routing {
        Routing {
            provider_user_id: self
                .kind
                .as_deref()
                .is_none_or(|kind| kind == "user")
                .then_some(self.id)
                .flatten(),
            extension: self.extension,
            dialed_number,
        }
    }
}

/// The fields of a call or SMS event we use; everything else is skipped unread.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Payload {
    // Call events.
    #[serde(deserialize_with = "id_or_string")]
    call_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    master_call_id: Option<String>,
    state: Option<String>,
    direction: Option<String>,
    #[serde(deserialize_with = "pii_string")]
    external_number: Option<Pii<String>>,
    #[serde(deserialize_with = "pii_string")]
    internal_number: Option<Pii<String>>,
    is_transferred: Option<bool>,
    #[serde(deserialize_with = "epoch_ms")]
    event_timestamp: Option<OffsetDateTime>,
    #[serde(deserialize_with = "epoch_ms")]
    date_started: Option<OffsetDateTime>,
    contact: Option<Party>,
    target: Option<Party>,
    /// The voicemail's transcript, on `transcription` events.
    #[serde(deserialize_with = "pii_string")]
    transcription_text: Option<Pii<String>>,
    // SMS events.
    #[serde(deserialize_with = "id_or_string")]
    id: Option<String>,
    #[serde(deserialize_with = "epoch_auto")]
    created_date: Option<OffsetDateTime>,
    #[serde(deserialize_with = "pii_string")]
    from_number: Option<Pii<String>>,
    #[serde(deserialize_with = "pii_list")]
    to_number: Vec<Pii<String>>,
    #[serde(deserialize_with = "pii_string")]
    text: Option<Pii<String>>,
    message_status: Option<String>,
    // Time claims, when present.
    exp: Option<i64>,
}

/// Verifies and parses one Dialpad webhook: a call event, a voicemail transcript (the
/// `transcription` state) or an SMS event.
///
/// # Errors
/// See [`jwt::verify_hs256`]; [`ProviderError::TimestampOutOfTolerance`] past `exp`;
/// [`ProviderError::Unprocessable`] when the payload is not a call or SMS event we can read.
pub fn verify_and_parse(
    secret: &ProviderSecret,
    request: &Request<'_>,
    now: OffsetDateTime,
) -> Result<Outcome, ProviderError> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ProviderError::MissingSignature { what: "JWT body" });
    }
    if request.body.trim_ascii_start().first() == Some(&b'{') {
        // Plain JSON: a webhook without a secret. Unauthenticated by definition.
        return Err(ProviderError::MissingSignature {
            what: "JWT body (got plain JSON: set a secret on the Dialpad webhook)",
        });
    }
    let claims = jwt::verify_hs256(request.body, secret.bytes())?;
    let parsed = serde_json::from_slice::<Payload>(&claims);
    wipe(claims);
    let payload = parsed.map_err(|_| ProviderError::Unprocessable {
        what: "the Dialpad payload is not a JSON object of the expected shape",
    })?;
    if let Some(exp) = payload.exp
        && now.unix_timestamp() > exp.saturating_add(EXP_LEEWAY_SECS)
    {
        return Err(ProviderError::TimestampOutOfTolerance);
    }
    if payload.call_id.is_some() {
        parse_call(payload)
    } else if payload.id.is_some()
        && (payload.from_number.is_some() || !payload.to_number.is_empty())
    {
        parse_sms(payload)
    } else {
        Ok(Outcome::Ignored {
            reason: "not a Dialpad call or SMS event",
        })
    }
}

/// Our state for a Dialpad call state; `None` for states we do not use.
pub fn map_state(state: &str, is_transferred: bool) -> Option<CallState> {
    Some(match state {
        "preanswer" | "calling" | "ringing" => CallState::Ringing,
        "connected" => CallState::Answered,
        "hangup" if is_transferred => CallState::Transferred,
        "hangup" => CallState::Ended,
        "missed" => CallState::Missed,
        "voicemail" | "voicemail_uploaded" => CallState::Voicemail,
        _ => return None,
    })
}

/// The call state that carries a voicemail's transcript (`transcription_text`).
pub const TRANSCRIPTION_STATE: &str = "transcription";

/// The call state that announces the post-call AI transcript, kept in Dialpad's API
/// (`GET /api/v2/transcripts/{call_id}`, see [`transcript_from_api`]): a
/// [`TranscriptReady`] event.
pub const AI_TRANSCRIPT_STATE: &str = "call_transcription";

/// The API every Dialpad transcript is fetched from, unless an integration names another.
pub const API_BASE: &str = "https://dialpad.com/api/v2";

/// The URL of call `call_id`'s transcript in the Dialpad API at `base` (no trailing slash
/// needed); the id is percent-encoded as a path segment.
pub fn transcript_url(base: &str, call_id: &str) -> String {
    let id: String = call_id
        .bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("{}/transcripts/{id}", base.trim_end_matches('/'))
}

/// Whether a Dialpad call state announces a post-call AI transcript or recap. The transcript
/// ([`AI_TRANSCRIPT_STATE`]) is fetched from Dialpad's API; the recaps are ignored (Ringside
/// writes its own summary).
pub fn is_ai_transcript_state(state: &str) -> bool {
    state == "call_transcription" || state.starts_with("recap_")
}

fn parse_call(payload: Payload) -> Result<Outcome, ProviderError> {
    let Payload {
        call_id,
        master_call_id,
        state,
        direction,
        external_number,
        internal_number,
        is_transferred,
        event_timestamp,
        date_started,
        contact,
        target,
        transcription_text,
        ..
    } = payload;
    let call_id = call_id.ok_or(ProviderError::Unprocessable {
        what: "the Dialpad call event has no call_id",
    })?;
    let provider_state =
        state
            .map(|s| s.trim().to_ascii_lowercase())
            .ok_or(ProviderError::Unprocessable {
                what: "the Dialpad call event has no state",
            })?;
    let occurred_at = event_timestamp.or(date_started);
    let stamp = occurred_at.map_or_else(String::new, |t| {
        (t.unix_timestamp_nanos() / 1_000_000).to_string()
    });
    let event_id = format!("{call_id}:{provider_state}:{stamp}");
    let parent_call_id = master_call_id.filter(|master| *master != call_id);
    if provider_state == TRANSCRIPTION_STATE {
        let Some(text) = transcription_text.and_then(|text| utterance_text(text.expose())) else {
            return Ok(Outcome::Ignored {
                reason: "a Dialpad voicemail transcription without text",
            });
        };
        return Ok(Outcome::Event(WebhookEvent::Transcript(TranscriptEvent {
            provider: ProviderKind::Dialpad,
            event_id,
            call_id,
            parent_call_id,
            utterances: vec![Utterance {
                speaker: Speaker::Unknown,
                text,
                start_ms: None,
            }],
        })));
    }
    if provider_state == AI_TRANSCRIPT_STATE {
        return Ok(Outcome::Event(WebhookEvent::TranscriptReady(
            TranscriptReady {
                provider: ProviderKind::Dialpad,
                event_id,
                call_id,
                parent_call_id,
            },
        )));
    }
    if is_ai_transcript_state(&provider_state) {
        return Ok(Outcome::Ignored {
            reason: "a Dialpad AI transcript or recap: its content is in Dialpad's transcript API",
        });
    }
    let Some(state) = map_state(&provider_state, is_transferred.unwrap_or(false)) else {
        return Ok(Outcome::Ignored {
            reason: "a Dialpad call state we do not use",
        });
    };
    let direction = fields::direction(direction.as_deref());
    let external = Number::from_pii(external_number.as_ref());
    let internal = Number::from_pii(internal_number.as_ref());
    let (from, to) = match direction {
        Direction::Outbound => (internal.clone(), external),
        Direction::Inbound | Direction::Unknown => (external, internal.clone()),
    };
    Ok(Outcome::Event(WebhookEvent::Call(CallEvent {
        provider: ProviderKind::Dialpad,
        event_id,
        call_id,
        parent_call_id,
        direction,
        state,
        provider_state,
        from,
        to,
        contact_name: contact.and_then(|c| c.name),
        routing: target.unwrap_or_default().routing(internal),
        occurred_at,
    })))
}

fn parse_sms(payload: Payload) -> Result<Outcome, ProviderError> {
    let Payload {
        id,
        direction,
        created_date,
        from_number,
        to_number,
        text,
        message_status,
        contact,
        target,
        ..
    } = payload;
    let message_id = id.ok_or(ProviderError::Unprocessable {
        what: "the Dialpad SMS event has no id",
    })?;
    let status = message_status.unwrap_or_default().to_ascii_lowercase();
    let target = target.unwrap_or_default();
    let dialed = Number::from_pii(target.phone_number.as_ref().or(target.phone.as_ref()));
    Ok(Outcome::Event(WebhookEvent::Sms(SmsEvent {
        provider: ProviderKind::Dialpad,
        event_id: format!("{message_id}:{status}"),
        message_id,
        direction: fields::direction(direction.as_deref()),
        from: Number::from_pii(from_number.as_ref()),
        to: to_number
            .iter()
            .filter_map(|n| Number::parse(n.expose()))
            .collect(),
        text,
        contact_name: contact.and_then(|c| c.name),
        routing: target.routing(dialed),
        occurred_at: created_date,
    })))
}

/// Dialpad's answer to `GET /api/v2/transcripts/{call_id}`: `{call_id, lines}`.
#[derive(Deserialize)]
struct ApiTranscript {
    #[serde(default)]
    lines: Option<Vec<ApiLine>>,
}

/// One transcript line. `name` (the speaker's name, or the caller's number) is never read.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ApiLine {
    #[serde(deserialize_with = "id_or_string")]
    contact_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    user_id: Option<String>,
    content: Option<Pii<String>>,
    #[serde(rename = "type")]
    kind: Option<String>,
    time: Option<Scalar>,
}

/// Reads Dialpad's transcript API answer (`GET /api/v2/transcripts/{call_id}`, `{call_id,
/// lines: [{contact_id, content, name, time, type, user_id}]}`) into utterances — a pure function:
/// fetching it is the caller's.
///
/// - Speaker: a line with `user_id` is the [`Speaker::Agent`] (a Dialpad user), else one with
///   `contact_id` is the [`Speaker::Caller`], else unknown. `name` is never read: it is the
///   person's name, or for a caller often their number.
/// - Only spoken lines are kept: `type` `transcript` (or absent). Dialpad mixes in `moment`,
///   `real_time_moment`, `custom_moment` and `ai_question` lines, which are AI labels
///   (`price_inquiry`, …), not what was said. Lines with empty `content` are skipped.
/// - `time` is the wall-clock time the line was spoken. Dialpad's spec example writes it as an
///   ISO 8601 date-time without an offset and with microseconds (`2018-05-08T21:33:19.300000`);
///   we read that (as UTC), RFC 3339 with an offset, and epoch seconds or milliseconds (number or
///   digits), and leave `start_ms` empty for anything else. The answer has no call start, so
///   `start_ms` counts from the earliest line's time. When every kept line has a time the lines
///   are put in time order (the spec's example is not); otherwise Dialpad's order is kept.
///
/// A transcript without lines is `Ok` and empty (the call had no speech, or no AI transcript).
///
/// # Errors
/// [`ProviderError::Unprocessable`] when the answer is not an object of that shape (a field of
/// the wrong type included) or has more than [`MAX_TRANSCRIPT_LINES`] lines.
pub fn transcript_from_api(json: &[u8]) -> Result<Vec<Utterance>, ProviderError> {
    let not_a_transcript = ProviderError::Unprocessable {
        what: "the Dialpad transcript is not a JSON object {call_id, lines: [{content, time, \
               type, user_id or contact_id}]} of the expected types",
    };
    // serde would also read a struct from a JSON list; the answer is an object.
    if json.trim_ascii_start().first() != Some(&b'{') {
        return Err(not_a_transcript);
    }
    let answer: ApiTranscript = serde_json::from_slice(json).map_err(|_| not_a_transcript)?;
    let lines = answer.lines.unwrap_or_default();
    if lines.len() > MAX_TRANSCRIPT_LINES {
        // The message names the limit: keep the two in step.
        const _: () = assert!(MAX_TRANSCRIPT_LINES == 5_000);
        return Err(ProviderError::Unprocessable {
            what: "the Dialpad transcript has more than 5000 lines",
        });
    }
    let mut spoken: Vec<(Option<OffsetDateTime>, Utterance)> = lines
        .into_iter()
        .filter(|line| {
            line.kind
                .as_deref()
                .is_none_or(|kind| kind.trim().eq_ignore_ascii_case("transcript"))
        })
        .filter_map(|line| {
            let text = line
                .content
                .as_ref()
                .and_then(|content| utterance_text(content.expose()))?;
            let speaker = if line.user_id.is_some() {
                Speaker::Agent
            } else if line.contact_id.is_some() {
                Speaker::Caller
            } else {
                Speaker::Unknown
            };
            let at = line.time.as_ref().and_then(api_time);
            Some((
                at,
                Utterance {
                    speaker,
                    text,
                    start_ms: None,
                },
            ))
        })
        .collect();
    if spoken.iter().all(|(at, _)| at.is_some()) {
        spoken.sort_by_key(|(at, _)| *at);
    }
    let first = spoken.iter().filter_map(|(at, _)| *at).min();
    Ok(spoken
        .into_iter()
        .map(|(at, mut utterance)| {
            utterance.start_ms = at
                .zip(first)
                .and_then(|(at, first)| u64::try_from((at - first).whole_milliseconds()).ok());
            utterance
        })
        .collect())
}

/// A transcript line's `time` (see [`transcript_from_api`]); `None` when it is none of the forms.
fn api_time(time: &Scalar) -> Option<OffsetDateTime> {
    match time {
        Scalar::Unsigned(n) => epoch_seconds_or_ms(*n),
        Scalar::Text(text) => {
            let text = text.expose().trim();
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                return text.parse().ok().and_then(epoch_seconds_or_ms);
            }
            fields::rfc3339(text).or_else(|| {
                PrimitiveDateTime::parse(
                    text,
                    time::macros::format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
                    ),
                )
                .ok()
                .map(PrimitiveDateTime::assume_utc)
            })
        }
        Scalar::Null | Scalar::Other => None,
    }
}

/// Epoch seconds or milliseconds: below 10^11 are seconds (as for SMS `created_date`).
fn epoch_seconds_or_ms(n: u64) -> Option<OffsetDateTime> {
    let n = i64::try_from(n).ok()?;
    if n < 100_000_000_000 {
        OffsetDateTime::from_unix_timestamp(n).ok()
    } else {
        fields::from_epoch_ms(n)
    }
}
