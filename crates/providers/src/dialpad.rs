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
//! transcription, recaps, …) are ignored for now. Dedupe identity: `call_id:state:event_timestamp`.

use ringside_core::Pii;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::event::{Number, Routing, wipe};
use crate::fields::{self, epoch_auto, epoch_ms, id_or_string, pii_list, pii_string};
use crate::{
    CallEvent, CallState, Direction, Outcome, ProviderError, ProviderKind, ProviderSecret, Request,
    SmsEvent, WebhookEvent, jwt,
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

/// Verifies and parses one Dialpad webhook.
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
    let occurred_at = event_timestamp.or(date_started);
    let stamp = occurred_at.map_or_else(String::new, |t| {
        (t.unix_timestamp_nanos() / 1_000_000).to_string()
    });
    let parent_call_id = master_call_id.filter(|master| *master != call_id);
    Ok(Outcome::Event(WebhookEvent::Call(CallEvent {
        provider: ProviderKind::Dialpad,
        event_id: format!("{call_id}:{provider_state}:{stamp}"),
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
