//! RingCentral: no signature. A subscription carries a static verification token that RingCentral
//! sends back on every notification; we compare it, in constant time, with the integration's
//! secret. The header's name is not settled in RingCentral's documentation: current subscriptions
//! are read by third parties from `Verification-Token`, and the older `validationToken` arrives as
//! `Validation-Token` on every notification — so we read `Verification-Token` and fall back to
//! `Validation-Token` (an assumption, documented in `docs/providers.md`).
//!
//! Creating a subscription sends a request with a `Validation-Token` header and no body: the
//! [`Outcome::Handshake`] answer echoes it (200, ≤ 1 KB, within 3 s). It carries no data, so it
//! needs no token; the echo is checked to be a short visible-ASCII value first, so nothing can be
//! smuggled into our response headers.
//!
//! Events: telephony sessions (`…/telephony/sessions`) become call events, one per notification,
//! from the agent's party (the first party with an `extensionId`); instant SMS
//! (`…/message-store/instant`) become SMS events; everything else (renewal reminders, presence)
//! is ignored. Party `status.code`: Setup/Proceeding → ringing, Answered → answered, Disconnected
//! → ended (missed when `missedCall`), VoiceMail/VoiceMailScreening → voicemail, Gone →
//! transferred; Hold/Parked/FaxReceive are ignored. Dedupe identity: the envelope's `uuid`.

use ringside_core::Pii;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::event::{Number, Routing};
use crate::fields::{self, clean_id, id_or_string, pii_string, rfc3339};
use crate::{
    CallEvent, CallState, Direction, Outcome, ProviderError, ProviderKind, ProviderSecret, Request,
    SmsEvent, WebhookEvent,
};

/// The header the current verification token is read from.
pub const VERIFICATION_HEADER: &str = "Verification-Token";

/// The handshake header (and the older per-notification token header).
pub const VALIDATION_HEADER: &str = "Validation-Token";

/// The longest handshake token we echo; RingCentral's whole answer must stay under 1 KB.
pub const MAX_ECHO_BYTES: usize = 512;

/// The envelope without its body, read first to learn which body type follows.
#[derive(Deserialize)]
struct Head {
    #[serde(default, deserialize_with = "id_or_string")]
    uuid: Option<String>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

/// The envelope's body, typed (so personal data goes straight into its wrappers).
#[derive(Deserialize)]
struct WithBody<T> {
    body: Option<T>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SessionBody {
    #[serde(deserialize_with = "id_or_string")]
    telephony_session_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    session_id: Option<String>,
    event_time: Option<String>,
    parties: Vec<Party>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Party {
    #[serde(deserialize_with = "id_or_string")]
    id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    extension_id: Option<String>,
    direction: Option<String>,
    from: Option<Endpoint>,
    to: Option<Endpoint>,
    status: Option<Status>,
    missed_call: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Endpoint {
    #[serde(deserialize_with = "pii_string")]
    phone_number: Option<Pii<String>>,
    #[serde(deserialize_with = "pii_string")]
    name: Option<Pii<String>>,
    #[serde(deserialize_with = "id_or_string")]
    extension_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    extension_number: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Status {
    code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SmsBody {
    #[serde(deserialize_with = "id_or_string")]
    id: Option<String>,
    from: Option<Endpoint>,
    to: Vec<Endpoint>,
    direction: Option<String>,
    #[serde(deserialize_with = "pii_string")]
    subject: Option<Pii<String>>,
    creation_time: Option<String>,
}

/// The handshake token, when the request carries a usable one.
fn validation_token<'r>(request: &Request<'r>) -> Result<Option<&'r str>, ProviderError> {
    let Some(token) = request.header(VALIDATION_HEADER)? else {
        return Ok(None);
    };
    if token.is_empty()
        || token.len() > MAX_ECHO_BYTES
        || !token.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ProviderError::Malformed {
            what: "the Validation-Token header is not a short visible-ASCII token",
        });
    }
    Ok(Some(token))
}

/// The `Validation-Token` echo every answer carries when RingCentral sent one.
pub(crate) fn echo(request: &Request<'_>) -> Option<(&'static str, String)> {
    validation_token(request)
        .ok()
        .flatten()
        .map(|token| (VALIDATION_HEADER, token.to_owned()))
}

/// Verifies and parses one RingCentral notification (or answers its handshake).
///
/// # Errors
/// [`ProviderError::MissingSignature`] without a token header, [`ProviderError::BadSignature`]
/// when it does not match, [`ProviderError::Unprocessable`] for a body we cannot read.
pub fn verify_and_parse(
    secret: &ProviderSecret,
    request: &Request<'_>,
) -> Result<Outcome, ProviderError> {
    let validation = validation_token(request)?;
    let empty = request.body.iter().all(u8::is_ascii_whitespace);
    if empty && let Some(token) = validation {
        return Ok(Outcome::Handshake {
            name: VALIDATION_HEADER,
            echo: token.to_owned(),
        });
    }
    let token = match request.header(VERIFICATION_HEADER)? {
        Some(token) => token,
        None => validation.ok_or(ProviderError::MissingSignature {
            what: "Verification-Token header",
        })?,
    };
    // Constant time over the bytes; `ct_eq` on slices of different lengths is false without
    // looking at the contents (the length of a token is not a secret worth hiding).
    if !bool::from(token.as_bytes().ct_eq(secret.bytes())) {
        return Err(ProviderError::BadSignature);
    }
    if empty {
        return Ok(Outcome::Ignored {
            reason: "a RingCentral notification without a body",
        });
    }
    parse(request.body)
}

/// Our state for a party's `status.code`; `None` for codes we do not use.
pub fn map_status(code: &str, missed_call: bool) -> Option<CallState> {
    Some(match code {
        "Setup" | "Proceeding" => CallState::Ringing,
        "Answered" => CallState::Answered,
        "Disconnected" if missed_call => CallState::Missed,
        "Disconnected" => CallState::Ended,
        "VoiceMail" | "VoiceMailScreening" => CallState::Voicemail,
        "Gone" => CallState::Transferred,
        _ => return None,
    })
}

fn parse(raw: &[u8]) -> Result<Outcome, ProviderError> {
    let head: Head = serde_json::from_slice(raw).map_err(|_| ProviderError::Unprocessable {
        what: "the RingCentral notification is not a JSON object of the expected shape",
    })?;
    let event = head.event.as_deref().unwrap_or_default();
    let event_id = head.uuid.clone().ok_or(ProviderError::Unprocessable {
        what: "the RingCentral notification has no uuid",
    })?;
    let envelope_time = head.timestamp.as_deref().and_then(rfc3339);
    if event.contains("/telephony/sessions") {
        let Some(session) = body::<SessionBody>(raw)? else {
            return Ok(Outcome::Ignored {
                reason: "a RingCentral notification without a body",
            });
        };
        parse_session(event_id, session, envelope_time)
    } else if event.contains("/message-store/instant") {
        let Some(sms) = body::<SmsBody>(raw)? else {
            return Ok(Outcome::Ignored {
                reason: "a RingCentral notification without a body",
            });
        };
        parse_sms(event_id, sms, envelope_time)
    } else {
        Ok(Outcome::Ignored {
            reason: "a RingCentral event filter we do not use",
        })
    }
}

fn body<T: for<'de> Deserialize<'de>>(raw: &[u8]) -> Result<Option<T>, ProviderError> {
    serde_json::from_slice::<WithBody<T>>(raw)
        .map(|envelope| envelope.body)
        .map_err(|_| ProviderError::Unprocessable {
            what: "the RingCentral notification body is not of the expected shape",
        })
}

fn parse_session(
    event_id: String,
    session: SessionBody,
    envelope_time: Option<time::OffsetDateTime>,
) -> Result<Outcome, ProviderError> {
    let SessionBody {
        telephony_session_id,
        session_id,
        event_time,
        mut parties,
    } = session;
    let at = parties
        .iter()
        .position(|p| p.extension_id.is_some())
        .unwrap_or(0);
    if at >= parties.len() {
        return Ok(Outcome::Ignored {
            reason: "a RingCentral telephony session without parties",
        });
    }
    let party = parties.swap_remove(at);
    let code = party
        .status
        .and_then(|s| s.code)
        .and_then(|c| clean_id(&c))
        .ok_or(ProviderError::Unprocessable {
            what: "the RingCentral party has no status code",
        })?;
    let Some(state) = map_status(&code, party.missed_call.unwrap_or(false)) else {
        return Ok(Outcome::Ignored {
            reason: "a RingCentral party status we do not use",
        });
    };
    let session_id = telephony_session_id.or(session_id);
    let call_id =
        party
            .id
            .clone()
            .or_else(|| session_id.clone())
            .ok_or(ProviderError::Unprocessable {
                what: "the RingCentral session has no id",
            })?;
    let parent_call_id = session_id.filter(|s| *s != call_id);
    let direction = fields::direction(party.direction.as_deref());
    let from = party.from.unwrap_or_default();
    let to = party.to.unwrap_or_default();
    let (contact, agent) = match direction {
        Direction::Outbound => (&to, &from),
        Direction::Inbound | Direction::Unknown => (&from, &to),
    };
    let routing = Routing {
        provider_user_id: party.extension_id.clone().or(agent.extension_id.clone()),
        extension: agent.extension_number.clone(),
        dialed_number: Number::from_pii(agent.phone_number.as_ref()),
    };
    Ok(Outcome::Event(WebhookEvent::Call(CallEvent {
        provider: ProviderKind::Ringcentral,
        event_id,
        call_id,
        parent_call_id,
        direction,
        state,
        provider_state: code,
        from: Number::from_pii(from.phone_number.as_ref()),
        to: Number::from_pii(to.phone_number.as_ref()),
        contact_name: contact.name.clone(),
        routing,
        occurred_at: event_time.as_deref().and_then(rfc3339).or(envelope_time),
    })))
}

fn parse_sms(
    event_id: String,
    sms: SmsBody,
    envelope_time: Option<time::OffsetDateTime>,
) -> Result<Outcome, ProviderError> {
    let SmsBody {
        id,
        from,
        to,
        direction,
        subject,
        creation_time,
    } = sms;
    let message_id = id.ok_or(ProviderError::Unprocessable {
        what: "the RingCentral message has no id",
    })?;
    let from = from.unwrap_or_default();
    let agent = to.first();
    let routing = Routing {
        provider_user_id: agent.and_then(|a| a.extension_id.clone()),
        extension: agent.and_then(|a| a.extension_number.clone()),
        dialed_number: agent.and_then(|a| Number::from_pii(a.phone_number.as_ref())),
    };
    Ok(Outcome::Event(WebhookEvent::Sms(SmsEvent {
        provider: ProviderKind::Ringcentral,
        event_id,
        message_id,
        direction: fields::direction(direction.as_deref()),
        from: Number::from_pii(from.phone_number.as_ref()),
        to: to
            .iter()
            .filter_map(|t| Number::from_pii(t.phone_number.as_ref()))
            .collect(),
        text: subject,
        contact_name: from.name.clone(),
        routing,
        occurred_at: creation_time.as_deref().and_then(rfc3339).or(envelope_time),
    })))
}
