//! The mirror of the verifiers: signs a call-state webhook exactly as each provider would, so the
//! relay can be exercised end to end without a provider account (`ringside-relay simulate call`,
//! the demo, the benchmarks, the tests).
//!
//! Each provider's payload has that provider's own shape — field names, state words, number and
//! time formats — as `shared/reference/voip-webhooks.md` describes them, and is signed with the
//! provider's scheme through the same helpers the verifiers use ([`jwt::sign_hs256`],
//! [`twilio::signature`], [`standard::sign`]):
//!
//! | Provider | Body | Authentication |
//! |---|---|---|
//! | Dialpad | compact JWT (HS256) of a call event (`call_id`, `master_call_id`, `state`, `date_started` in epoch ms, `contact`, `target`, …) | the JWT itself |
//! | RingCentral | telephony-session notification (`uuid`, `event`, `body.parties[]` with `status.code`) | `Verification-Token` header |
//! | Vonage | Voice API event (`uuid`, `conversation_uuid`, `status`, `from`/`to` without `+`) | `Authorization: Bearer` JWT with `payload_hash` |
//! | Twilio | form-encoded status callback (`CallSid`, `CallStatus`, `From`, `To`, …) | `X-Twilio-Signature` over the URL and the sorted parameters |
//! | Standard Webhooks | `{type: "call.…", timestamp, data}` | `webhook-id`, `webhook-timestamp`, `webhook-signature` |
//!
//! What a provider's payload has no place for is left out: Vonage Voice carries no user id,
//! extension or name, Twilio no user id or extension. Vonage Voice and Twilio cannot say
//! "voicemail" or "transferred"; [`supported_states`] lists what each can.
//!
//! **Transcripts.** [`sign_transcript`] signs a call's transcript as the providers that send one by
//! webhook would ([`sends_transcripts`]): a Standard Webhooks `call.transcript` event with every
//! utterance (speaker, text, `start_ms`), and a Dialpad `transcription` state event whose
//! `transcription_text` is the utterances' text joined by newlines (Dialpad's is a voicemail's
//! transcript, with no speakers). [`parse_transcript_file`] reads the `Caller: …` / `Agent: …`
//! text file `simulate call --transcript FILE` takes.
//!
//! **Event identity.** The relay deduplicates on each provider's event identity, so every signed
//! request reports the identity it carries ([`SignedRequest::event_id`]). With
//! [`SimulatedCall::event_id`] `None`, each request is a new event: a fresh random RingCentral
//! `uuid`, Twilio `I-Twilio-Idempotency-Token` or Standard `webhook-id`, and for Dialpad an
//! `event_timestamp` of `now` (Dialpad's identity is `call_id:state:event_timestamp`). Passing a
//! previous request's `event_id` back signs a retry of that delivery, which the relay must treat as
//! a duplicate. Vonage Voice's identity is always `uuid:status`, so one state of one call leg is one
//! event whatever the `event_id`.
//!
//! Unlike the verifiers this module is not pure: fresh ids come from the OS random generator.
//! It never reads the clock (the caller passes `now`).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ringside_core::transcript::{Speaker, Utterance};
use ringside_core::{PhoneNumber, Pii, random_bytes};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use crate::{
    CallState, Direction, MAX_TRANSCRIPT_LINES, ProviderError, ProviderKind, ProviderSecret,
    ProviderSettings, jwt, ringcentral, standard, twilio,
};

/// Content type of a JSON body.
pub const JSON: &str = "application/json";
/// Content type of RingCentral's notifications, exactly as it sends them.
pub const JSON_UTF8: &str = "application/json; charset=UTF-8";
/// Content type of a Twilio status callback.
pub const FORM: &str = "application/x-www-form-urlencoded";
/// Content type of a Dialpad webhook: the body is a JWT. Dialpad's own value is undocumented.
pub const JWT: &str = "application/jwt";

/// The Twilio account the simulator claims to be (no real account: all zeros).
pub const SIMULATED_TWILIO_ACCOUNT: &str = "AC00000000000000000000000000000000";

/// One state change of one call, to be signed as a provider would send it.
#[derive(Clone, PartialEq, Eq)]
pub struct SimulatedCall {
    /// The provider's id of the call (leg): see [`new_call_id`] for one in the provider's form.
    pub call_id: String,
    /// The id the legs share (Dialpad `master_call_id`, RingCentral `telephonySessionId`, Twilio
    /// `ParentCallSid`, Vonage `conversation_uuid`, Standard `parent_call_id`), if any.
    pub parent_call_id: Option<String>,
    /// Inbound or outbound; `Unknown` leaves the provider's direction field out.
    pub direction: Direction,
    /// The state to report.
    pub state: CallState,
    /// The calling number.
    pub from: PhoneNumber,
    /// The called number.
    pub to: Option<PhoneNumber>,
    /// The client's name as the provider knows it (not sent by Vonage Voice).
    pub contact_name: Option<String>,
    /// The provider's id of the agent (Dialpad `target.id`, RingCentral `extensionId`, Standard
    /// `user_id`; Vonage Voice and Twilio have none).
    pub provider_user_id: Option<String>,
    /// The agent's extension (Dialpad `target.extension`, RingCentral `extensionNumber`, Standard
    /// `extension`; Vonage Voice and Twilio have none).
    pub extension: Option<String>,
    /// `None`: a new event. `Some`: the [`SignedRequest::event_id`] of an earlier request, to sign
    /// a retry of that delivery (see the module docs).
    pub event_id: Option<String>,
}

impl SimulatedCall {
    /// A call in `state` from `from`, with no other party details; set the public fields for more.
    pub fn new(
        call_id: impl Into<String>,
        direction: Direction,
        state: CallState,
        from: PhoneNumber,
    ) -> Self {
        Self {
            call_id: call_id.into(),
            parent_call_id: None,
            direction,
            state,
            from,
            to: None,
            contact_name: None,
            provider_user_id: None,
            extension: None,
            event_id: None,
        }
    }

    /// The client's side and the agency's side (`from`/`to` swapped on outbound calls).
    fn sides(&self) -> (Option<&PhoneNumber>, Option<&PhoneNumber>) {
        match self.direction {
            Direction::Outbound => (self.to.as_ref(), Some(&self.from)),
            Direction::Inbound | Direction::Unknown => (Some(&self.from), self.to.as_ref()),
        }
    }
}

impl fmt::Debug for SimulatedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Numbers and the name are personal data: not even the masked last four digits print.
        f.debug_struct("SimulatedCall")
            .field("call_id", &self.call_id)
            .field("parent_call_id", &self.parent_call_id)
            .field("direction", &self.direction)
            .field("state", &self.state)
            .field("from", &"[redacted]")
            .field("to", &self.to.as_ref().map(|_| "[redacted]"))
            .field(
                "contact_name",
                &self.contact_name.as_ref().map(|_| "[redacted]"),
            )
            .field("provider_user_id", &self.provider_user_id)
            .field("extension", &self.extension)
            .field("event_id", &self.event_id)
            .finish()
    }
}

/// A webhook request signed as the provider would send it.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The URL the request was signed for (Twilio signs over it): POST it there, or to the same
    /// path on another base when the relay checks Twilio against its configured `public_url`.
    pub url: String,
    /// The provider's headers (signature, token, ids), without `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// The body, exactly as signed.
    pub body: Vec<u8>,
    /// The `Content-Type` to send.
    pub content_type: &'static str,
    /// The event identity the relay deduplicates on ([`crate::WebhookEvent::event_id`]).
    pub event_id: String,
}

impl SignedRequest {
    /// Every header to send, `Content-Type` included, for [`crate::Request::headers`].
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        std::iter::once(("Content-Type", self.content_type))
            .chain(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .collect()
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Like `Request`: no header value (signatures, tokens) and no body (numbers, names).
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("SignedRequest")
            .field(
                "url",
                &self.url.split(['?', '#']).next().unwrap_or_default(),
            )
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .field("content_type", &self.content_type)
            .field("event_id", &self.event_id)
            .finish()
    }
}

/// The states each provider's call events can express.
pub fn supported_states(kind: ProviderKind) -> &'static [CallState] {
    const PROGRESS_ONLY: &[CallState] = &[
        CallState::Ringing,
        CallState::Answered,
        CallState::Ended,
        CallState::Missed,
    ];
    match kind {
        ProviderKind::Dialpad | ProviderKind::Ringcentral | ProviderKind::Standard => {
            &CallState::ALL
        }
        ProviderKind::Vonage | ProviderKind::Twilio => PROGRESS_ONLY,
    }
}

/// A fresh random call id in the provider's own form: a Dialpad numeric id, a RingCentral party
/// id, a Vonage UUID, a Twilio `CA…` sid, a Standard `call_…` id.
pub fn new_call_id(kind: ProviderKind) -> String {
    match kind {
        ProviderKind::Dialpad => {
            // 16 digits, like Dialpad's int64 call ids.
            let n = u64::from_be_bytes(random_bytes::<8>()) % 9_000_000_000_000_000;
            (n + 1_000_000_000_000_000).to_string()
        }
        ProviderKind::Ringcentral => format!("p-{}-1", hex::encode(random_bytes::<16>())),
        ProviderKind::Vonage => uuid_v4(),
        ProviderKind::Twilio => format!("CA{}", hex::encode(random_bytes::<16>())),
        ProviderKind::Standard => format!("call_{}", hex::encode(random_bytes::<16>())),
    }
}

/// Signs one call-state webhook as `kind` would send it to `url`.
///
/// # Errors
/// [`ProviderError::Unprocessable`] when the provider cannot express the state (see
/// [`supported_states`]) or `event_id` is not a Dialpad identity; [`ProviderError::InvalidSecret`]
/// when the secret is unusable for the provider (a Standard secret that is not base64).
pub fn sign_call(
    kind: ProviderKind,
    secret: &ProviderSecret,
    // Only Vonage has settings, and they concern its SMS and VIS schemes, not Voice events.
    _settings: &ProviderSettings,
    url: &str,
    call: &SimulatedCall,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    if !supported_states(kind).contains(&call.state) {
        return Err(ProviderError::Unprocessable {
            what: "this provider's call events cannot express that state",
        });
    }
    match kind {
        ProviderKind::Dialpad => dialpad(secret, url, call, now),
        ProviderKind::Ringcentral => ringcentral(secret, url, call, now),
        ProviderKind::Vonage => vonage(secret, url, call, now),
        ProviderKind::Twilio => twilio(secret, url, call, now),
        ProviderKind::Standard => standard(secret, url, call, now),
    }
}

/// Whether `kind` sends a call's transcript by webhook (and so [`sign_transcript`] can sign one):
/// Standard Webhooks (`call.transcript`) and Dialpad (a voicemail's `transcription`). RingCentral,
/// Vonage and Twilio make transcripts available through their APIs, not in webhooks.
pub fn sends_transcripts(kind: ProviderKind) -> bool {
    matches!(kind, ProviderKind::Standard | ProviderKind::Dialpad)
}

/// Signs a call's transcript as `kind` would send it to `url`: a Standard Webhooks
/// `call.transcript` event (every utterance with its speaker and `start_ms`), or a Dialpad
/// `transcription` state event whose `transcription_text` is the utterances' text joined by
/// newlines (Dialpad's has no speakers or times). `call` gives the ids, the numbers and parties
/// (Dialpad), and `event_id` for a retry as in [`sign_call`]; its `state` is not used. Utterances
/// with blank text are left out, as the verifiers skip them.
///
/// # Errors
/// [`ProviderError::Unprocessable`] when `kind` sends no transcript by webhook (see
/// [`sends_transcripts`]), when no utterance has text, when there are more than
/// [`MAX_TRANSCRIPT_LINES`], or when `event_id` is not a Dialpad identity of this call's
/// `transcription`; [`ProviderError::InvalidSecret`] when the secret is unusable for the provider.
pub fn sign_transcript(
    kind: ProviderKind,
    secret: &ProviderSecret,
    // As for `sign_call`: no provider that sends transcripts has settings.
    _settings: &ProviderSettings,
    url: &str,
    call: &SimulatedCall,
    utterances: &[Utterance],
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    if !sends_transcripts(kind) {
        return Err(ProviderError::Unprocessable {
            what: "this provider sends no transcript by webhook (only through its API)",
        });
    }
    let spoken: Vec<&Utterance> = utterances
        .iter()
        .filter(|u| !u.text.expose().trim().is_empty())
        .collect();
    if spoken.is_empty() {
        return Err(ProviderError::Unprocessable {
            what: "a transcript needs at least one utterance with text",
        });
    }
    if spoken.len() > MAX_TRANSCRIPT_LINES {
        return Err(ProviderError::Unprocessable {
            what: "a transcript has at most 5000 utterances (MAX_TRANSCRIPT_LINES)",
        });
    }
    match kind {
        ProviderKind::Dialpad => {
            let text: Vec<&str> = spoken.iter().map(|u| u.text.expose().trim()).collect();
            dialpad_event(
                secret,
                url,
                call,
                &DIALPAD_TRANSCRIPTION,
                Some(("transcription_text", text.join("\n").into())),
                now,
            )
        }
        _ => standard_transcript(secret, url, call, &spoken, now),
    }
}

/// Signs Dialpad's `call_transcription` event for `call` (the post-call AI transcript is ready in
/// Dialpad's API) as Dialpad would send it to `url`.
///
/// # Errors
/// [`ProviderError::Unprocessable`] for a provider other than Dialpad (only Dialpad announces
/// transcripts this way); [`ProviderError::InvalidSecret`] when the secret is unusable.
pub fn sign_transcript_ready(
    kind: ProviderKind,
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    if kind != ProviderKind::Dialpad {
        return Err(ProviderError::Unprocessable {
            what: "only Dialpad announces a transcript kept in its API",
        });
    }
    dialpad_event(secret, url, call, &DIALPAD_CALL_TRANSCRIPTION, None, now)
}

/// Reads a transcript file as `simulate call --transcript FILE` takes it: one utterance per
/// non-empty line, `Caller: …` or `Agent: …` (the label in any case, spaces around it allowed)
/// for a speaker, any other line as an utterance of an unknown speaker. No times (`start_ms` is
/// `None`). A labelled line with nothing after the label is skipped.
pub fn parse_transcript_file(text: &str) -> Vec<Utterance> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let (speaker, said) = match line.split_once(':') {
                Some((label, rest)) if label.trim().eq_ignore_ascii_case("caller") => {
                    (Speaker::Caller, rest)
                }
                Some((label, rest)) if label.trim().eq_ignore_ascii_case("agent") => {
                    (Speaker::Agent, rest)
                }
                _ => (Speaker::Unknown, line),
            };
            let said = said.trim();
            (!said.is_empty()).then(|| Utterance {
                speaker,
                text: Pii::new(said.to_owned()),
                start_ms: None,
            })
        })
        .collect()
}

/// A random UUID (version 4), as RingCentral and Vonage write their ids.
fn uuid_v4() -> String {
    let mut bytes = random_bytes::<16>();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Epoch milliseconds.
fn epoch_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A JSON id the way Dialpad writes them: a number when it is one, else a string.
fn numeric_or_string(id: &str) -> Value {
    match id.parse::<u64>() {
        Ok(n) if n.to_string() == id => Value::from(n),
        _ => Value::from(id),
    }
}

/// A provider's direction word, or `None` to leave the field out.
fn direction_word(
    direction: Direction,
    inbound: &'static str,
    outbound: &'static str,
) -> Option<&'static str> {
    match direction {
        Direction::Inbound => Some(inbound),
        Direction::Outbound => Some(outbound),
        Direction::Unknown => None,
    }
}

/// Inserts `value` under `key` when there is one.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value.into());
    }
}

/// The position of a state in a call's life, for providers' sequence numbers.
fn sequence(state: CallState) -> u32 {
    match state {
        CallState::Ringing => 1,
        CallState::Answered => 2,
        CallState::Transferred => 3,
        CallState::Ended | CallState::Missed | CallState::Voicemail => 4,
    }
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------

/// A Dialpad call state as the simulator sends it: the state word and the fields that go with it.
struct DialpadState {
    word: &'static str,
    transferred: bool,
    connected: bool,
    ended: bool,
}

/// The `transcription` state: after the call, which went to voicemail (never connected).
const DIALPAD_TRANSCRIPTION: DialpadState = DialpadState {
    word: crate::dialpad::TRANSCRIPTION_STATE,
    transferred: false,
    connected: false,
    ended: true,
};

const DIALPAD_CALL_TRANSCRIPTION: DialpadState = DialpadState {
    word: crate::dialpad::AI_TRANSCRIPT_STATE,
    transferred: false,
    connected: true,
    ended: true,
};

fn dialpad(
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    let (word, transferred) = match call.state {
        CallState::Ringing => ("ringing", false),
        CallState::Answered => ("connected", false),
        CallState::Ended => ("hangup", false),
        CallState::Transferred => ("hangup", true),
        CallState::Missed => ("missed", false),
        CallState::Voicemail => ("voicemail", false),
    };
    let state = DialpadState {
        word,
        transferred,
        connected: matches!(
            call.state,
            CallState::Answered | CallState::Ended | CallState::Transferred
        ),
        ended: call.state.is_final() || call.state == CallState::Transferred,
    };
    dialpad_event(secret, url, call, &state, None, now)
}

/// Signs one Dialpad call event in `state`, with one `extra` payload field when given.
fn dialpad_event(
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    state: &DialpadState,
    extra: Option<(&str, Value)>,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    let word = state.word;
    // Dialpad's identity is `call_id:state:event_timestamp`: a retry carries the same timestamp.
    let event_ms = match &call.event_id {
        None => epoch_ms(now),
        Some(id) => id
            .strip_prefix(&format!("{}:{word}:", call.call_id))
            .and_then(|ms| ms.parse::<i64>().ok())
            .ok_or(ProviderError::Unprocessable {
                what: "a Dialpad event id is call_id:state:event_timestamp of the same call and state",
            })?,
    };
    let (external, internal) = call.sides();
    let mut contact = Map::new();
    put(&mut contact, "name", call.contact_name.clone());
    put(&mut contact, "phone", external.map(|n| n.e164().to_owned()));
    contact.insert("type".to_owned(), "contact".into());
    let mut target = Map::new();
    put(
        &mut target,
        "id",
        call.provider_user_id.as_deref().map(numeric_or_string),
    );
    target.insert("type".to_owned(), "user".into());
    put(&mut target, "phone", internal.map(|n| n.e164().to_owned()));
    put(&mut target, "extension", call.extension.clone());

    let mut payload = Map::new();
    payload.insert("call_id".to_owned(), numeric_or_string(&call.call_id));
    payload.insert(
        "master_call_id".to_owned(),
        numeric_or_string(call.parent_call_id.as_deref().unwrap_or(&call.call_id)),
    );
    payload.insert("state".to_owned(), word.into());
    put(
        &mut payload,
        "direction",
        direction_word(call.direction, "inbound", "outbound"),
    );
    put(
        &mut payload,
        "external_number",
        external.map(|n| n.e164().to_owned()),
    );
    put(
        &mut payload,
        "internal_number",
        internal.map(|n| n.e164().to_owned()),
    );
    payload.insert("is_transferred".to_owned(), state.transferred.into());
    payload.insert("date_started".to_owned(), epoch_ms(now).into());
    if state.connected {
        payload.insert("date_connected".to_owned(), epoch_ms(now).into());
    }
    if state.ended {
        payload.insert("date_ended".to_owned(), epoch_ms(now).into());
    }
    payload.insert("event_timestamp".to_owned(), event_ms.into());
    payload.insert("contact".to_owned(), contact.into());
    payload.insert("target".to_owned(), target.into());
    if let Some((key, value)) = extra {
        payload.insert(key.to_owned(), value);
    }

    let token = jwt::sign_hs256(&json_bytes(&Value::Object(payload)), secret.bytes());
    Ok(SignedRequest {
        url: url.to_owned(),
        headers: Vec::new(),
        body: token.into_bytes(),
        content_type: JWT,
        event_id: format!("{}:{word}:{event_ms}", call.call_id),
    })
}

fn ringcentral(
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    let code = match call.state {
        CallState::Ringing if call.direction == Direction::Outbound => "Setup",
        CallState::Ringing => "Proceeding",
        CallState::Answered => "Answered",
        CallState::Ended | CallState::Missed => "Disconnected",
        CallState::Voicemail => "VoiceMail",
        CallState::Transferred => "Gone",
    };
    let uuid = call.event_id.clone().unwrap_or_else(uuid_v4);
    let (client, agency) = call.sides();
    let mut contact = Map::new();
    put(
        &mut contact,
        "phoneNumber",
        client.map(|n| n.e164().to_owned()),
    );
    put(&mut contact, "name", call.contact_name.clone());
    let mut agent = Map::new();
    put(
        &mut agent,
        "phoneNumber",
        agency.map(|n| n.e164().to_owned()),
    );
    put(&mut agent, "extensionId", call.provider_user_id.clone());
    put(&mut agent, "extensionNumber", call.extension.clone());
    let (from, to) = match call.direction {
        Direction::Outbound => (agent, contact),
        Direction::Inbound | Direction::Unknown => (contact, agent),
    };
    let mut party = Map::new();
    party.insert("accountId".to_owned(), "400000000000".into());
    put(&mut party, "extensionId", call.provider_user_id.clone());
    party.insert("id".to_owned(), call.call_id.clone().into());
    put(
        &mut party,
        "direction",
        direction_word(call.direction, "Inbound", "Outbound"),
    );
    party.insert("from".to_owned(), from.into());
    party.insert("to".to_owned(), to.into());
    party.insert("status".to_owned(), json!({ "code": code, "rcc": false }));
    party.insert(
        "missedCall".to_owned(),
        (call.state == CallState::Missed).into(),
    );
    party.insert("standAlone".to_owned(), false.into());
    party.insert("muted".to_owned(), false.into());
    let session = call.parent_call_id.as_deref().unwrap_or(&call.call_id);
    let extension = call.provider_user_id.as_deref().unwrap_or("~");
    let body = json!({
        "uuid": uuid,
        "event": format!("/restapi/v1.0/account/~/extension/{extension}/telephony/sessions"),
        "timestamp": rfc3339(now),
        "subscriptionId": "00000000-0000-4000-8000-000000000000",
        "ownerId": "400000000000",
        "body": {
            "sequence": sequence(call.state),
            "sessionId": "1000000000000",
            "telephonySessionId": session,
            "serverId": "10.13.22.240.TAM",
            "eventTime": rfc3339(now),
            "parties": [Value::Object(party)],
            "origin": { "type": "Call" },
        },
    });
    Ok(SignedRequest {
        url: url.to_owned(),
        headers: vec![
            (
                ringcentral::VERIFICATION_HEADER.to_owned(),
                secret.text().to_owned(),
            ),
            (
                "User-Agent".to_owned(),
                "RingCentral-Webhook/8.3".to_owned(),
            ),
        ],
        body: json_bytes(&body),
        content_type: JSON_UTF8,
        event_id: uuid,
    })
}

/// A number as Vonage writes it: E.164 without the `+` — unless that would read back as another
/// number (short international numbers), where the `+` is kept.
fn vonage_number(number: &PhoneNumber) -> String {
    let digits = number.e164().trim_start_matches('+');
    match PhoneNumber::parse(digits) {
        Ok(back) if back.e164() == number.e164() => digits.to_owned(),
        _ => number.e164().to_owned(),
    }
}

/// The word a provider that reports call progress only uses for `state`: `words` are its words
/// for ringing, answered, ended and missed; voicemail and transfers are `what` it cannot express.
fn progress_word(
    state: CallState,
    [ringing, answered, ended, missed]: [&'static str; 4],
    what: &'static str,
) -> Result<&'static str, ProviderError> {
    match state {
        CallState::Ringing => Ok(ringing),
        CallState::Answered => Ok(answered),
        CallState::Ended => Ok(ended),
        CallState::Missed => Ok(missed),
        CallState::Voicemail | CallState::Transferred => Err(ProviderError::Unprocessable { what }),
    }
}

fn vonage(
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    let status = progress_word(
        call.state,
        ["ringing", "answered", "completed", "unanswered"],
        "Vonage Voice events cannot express that state",
    )?;
    let mut event = Map::new();
    event.insert("from".to_owned(), vonage_number(&call.from).into());
    put(&mut event, "to", call.to.as_ref().map(vonage_number));
    event.insert("uuid".to_owned(), call.call_id.clone().into());
    put(&mut event, "conversation_uuid", call.parent_call_id.clone());
    event.insert("status".to_owned(), status.into());
    put(
        &mut event,
        "direction",
        direction_word(call.direction, "inbound", "outbound"),
    );
    event.insert(
        "timestamp".to_owned(),
        now.format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
        .into(),
    );
    let body = json_bytes(&Value::Object(event));
    let claims = json!({
        "iat": now.unix_timestamp(),
        "jti": uuid_v4(),
        "iss": "Vonage",
        "payload_hash": hex::encode(Sha256::digest(&body)),
    });
    let token = jwt::sign_hs256(&json_bytes(&claims), secret.bytes());
    Ok(SignedRequest {
        url: url.to_owned(),
        headers: vec![("Authorization".to_owned(), format!("Bearer {token}"))],
        body,
        content_type: JSON,
        event_id: format!("{}:{status}", call.call_id),
    })
}

fn twilio(
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    let status = progress_word(
        call.state,
        ["ringing", "in-progress", "completed", "no-answer"],
        "Twilio status callbacks cannot express that state",
    )?;
    let token = call
        .event_id
        .clone()
        .unwrap_or_else(|| hex::encode(random_bytes::<16>()));
    let sequence = (sequence(call.state) - 1).to_string();
    let timestamp = now.format(&Rfc2822).unwrap_or_default();
    let from = call.from.e164();
    let to = call.to.as_ref().map(PhoneNumber::e164);
    let mut params: Vec<(&str, &str)> = vec![
        ("AccountSid", SIMULATED_TWILIO_ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", &call.call_id),
        ("CallStatus", status),
        ("CallbackSource", "call-progress-events"),
        ("Caller", from),
        ("From", from),
        ("SequenceNumber", &sequence),
        ("Timestamp", &timestamp),
    ];
    if let Some(to) = to {
        params.extend([("Called", to), ("To", to)]);
    }
    if let Some(direction) = direction_word(call.direction, "inbound", "outbound-api") {
        params.push(("Direction", direction));
    }
    if let Some(parent) = &call.parent_call_id {
        params.push(("ParentCallSid", parent));
    }
    if let Some(name) = &call.contact_name {
        params.push(("CallerName", name));
    }
    if call.state == CallState::Ended {
        params.push(("CallDuration", "0"));
    }
    let signature = twilio::signature(secret.bytes(), url, &params);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    Ok(SignedRequest {
        url: url.to_owned(),
        headers: vec![
            (twilio::SIGNATURE_HEADER.to_owned(), signature),
            (twilio::IDEMPOTENCY_HEADER.to_owned(), token.clone()),
            ("User-Agent".to_owned(), "TwilioProxy/1.1".to_owned()),
        ],
        body: body.into_bytes(),
        content_type: FORM,
        event_id: token,
    })
}

fn standard(
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    let (_, agency) = call.sides();
    let mut data = Map::new();
    data.insert("call_id".to_owned(), call.call_id.clone().into());
    put(&mut data, "parent_call_id", call.parent_call_id.clone());
    put(
        &mut data,
        "direction",
        direction_word(call.direction, "inbound", "outbound"),
    );
    data.insert("from".to_owned(), call.from.e164().into());
    put(
        &mut data,
        "to",
        call.to.as_ref().map(|n| n.e164().to_owned()),
    );
    put(&mut data, "contact_name", call.contact_name.clone());
    put(&mut data, "user_id", call.provider_user_id.clone());
    put(&mut data, "extension", call.extension.clone());
    put(
        &mut data,
        "dialed_number",
        agency.map(|n| n.e164().to_owned()),
    );
    standard_event(
        secret,
        url,
        call,
        &format!("call.{}", call.state.as_str()),
        data,
        now,
    )
}

fn standard_transcript(
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    utterances: &[&Utterance],
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    let lines: Vec<Value> = utterances
        .iter()
        .map(|utterance| {
            let mut line = Map::new();
            line.insert("speaker".to_owned(), speaker_word(utterance.speaker).into());
            line.insert("text".to_owned(), utterance.text.expose().as_str().into());
            put(&mut line, "start_ms", utterance.start_ms);
            Value::Object(line)
        })
        .collect();
    let mut data = Map::new();
    data.insert("call_id".to_owned(), call.call_id.clone().into());
    put(&mut data, "parent_call_id", call.parent_call_id.clone());
    data.insert("transcript".to_owned(), lines.into());
    standard_event(secret, url, call, standard::TRANSCRIPT_TYPE, data, now)
}

/// A speaker as a `call.transcript` line names it.
fn speaker_word(speaker: Speaker) -> &'static str {
    match speaker {
        Speaker::Caller => "caller",
        Speaker::Agent => "agent",
        Speaker::Unknown => "unknown",
    }
}

/// Signs one Standard Webhooks event of type `kind` with `data`.
fn standard_event(
    secret: &ProviderSecret,
    url: &str,
    call: &SimulatedCall,
    kind: &str,
    data: Map<String, Value>,
    now: OffsetDateTime,
) -> Result<SignedRequest, ProviderError> {
    let id = call
        .event_id
        .clone()
        .unwrap_or_else(|| format!("msg_{}", URL_SAFE_NO_PAD.encode(random_bytes::<18>())));
    let body = json_bytes(&json!({
        "type": kind,
        "timestamp": rfc3339(now),
        "data": Value::Object(data),
    }));
    let timestamp = now.unix_timestamp();
    let signature = standard::sign(secret, &id, timestamp, &body)?;
    Ok(SignedRequest {
        url: url.to_owned(),
        headers: vec![
            ("webhook-id".to_owned(), id.clone()),
            ("webhook-timestamp".to_owned(), timestamp.to_string()),
            ("webhook-signature".to_owned(), signature),
        ],
        body,
        content_type: JSON,
        event_id: id,
    })
}
