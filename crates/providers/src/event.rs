//! The normalized events every provider module produces: one [`CallEvent`] per call-state change,
//! one [`SmsEvent`] per message and one [`TranscriptEvent`] per transcript a provider sends,
//! whatever the provider's own payload looked like — so the pipeline (state machine, routing,
//! pops, the sync) is written once.
//!
//! Every personal datum — phone numbers, names, message text — is wrapped in [`Pii`] at parse time
//! ([`Number`] wraps numbers, parsed or not), so `format!("{event:?}")` is safe to log. Ids
//! (call ids, provider user ids, extensions) are the provider's internal identifiers, not personal
//! data, and stay plain.
//!
//! Events serialize (serde) so the relay can keep an accepted event durably — sealed, like every
//! other PII it stores: serialization carries the wrapped values, as `Pii<T>` always does.

use std::fmt;

use ringside_core::transcript::Utterance;
use ringside_core::{PhoneNumber, Pii, phone::PhoneError};
use time::OffsetDateTime;
use zeroize::Zeroize;

pub use ringside_core::wire::{CallState, Direction};

use crate::ProviderKind;

/// An authenticated, parsed webhook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum WebhookEvent {
    /// A call changed state.
    Call(CallEvent),
    /// A text message was sent or received.
    Sms(SmsEvent),
    /// A call's transcript (after the call, or a voicemail's).
    Transcript(TranscriptEvent),
    /// A call's transcript is ready in the provider's API, not in the event (Dialpad's
    /// `call_transcription`): the relay fetches it where the integration has an API key.
    TranscriptReady(TranscriptReady),
}

impl WebhookEvent {
    /// The provider that sent it.
    pub fn provider(&self) -> ProviderKind {
        match self {
            Self::Call(call) => call.provider,
            Self::Sms(sms) => sms.provider,
            Self::Transcript(transcript) => transcript.provider,
            Self::TranscriptReady(ready) => ready.provider,
        }
    }

    /// The provider's identity of this event, for deduplication (unique per provider and
    /// integration; identical across the provider's retries).
    pub fn event_id(&self) -> &str {
        match self {
            Self::Call(call) => &call.event_id,
            Self::Sms(sms) => &sms.event_id,
            Self::Transcript(transcript) => &transcript.event_id,
            Self::TranscriptReady(ready) => &ready.event_id,
        }
    }
}

/// A call's transcript, as the provider sent it: the utterances in order, each text wrapped
/// (so `Debug` prints no word of it), never empty, at most [`crate::MAX_TRANSCRIPT_LINES`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TranscriptEvent {
    /// Who sent it.
    pub provider: ProviderKind,
    /// The provider's identity of this event, for deduplication.
    pub event_id: String,
    /// The provider's id of the call (or leg) it transcribes.
    pub call_id: String,
    /// The id the call's legs share, when sent (as on [`CallEvent`]).
    pub parent_call_id: Option<String>,
    /// What was said.
    pub utterances: Vec<Utterance>,
}

impl TranscriptEvent {
    /// The id that follows the call across its legs: the parent id when there is one.
    pub fn call_key(&self) -> &str {
        self.parent_call_id.as_deref().unwrap_or(&self.call_id)
    }
}

/// A call whose transcript the provider made and keeps in its API (see
/// [`crate::dialpad::transcript_from_api`]): ids only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TranscriptReady {
    /// Who sent it.
    pub provider: ProviderKind,
    /// The provider's identity of this event, for deduplication.
    pub event_id: String,
    /// The provider's id of the call (or leg): the one its transcript API is asked for.
    pub call_id: String,
    /// The id the call's legs share, when sent (as on [`CallEvent`]).
    pub parent_call_id: Option<String>,
}

impl TranscriptReady {
    /// The id that follows the call across its legs: the parent id when there is one.
    pub fn call_key(&self) -> &str {
        self.parent_call_id.as_deref().unwrap_or(&self.call_id)
    }
}

/// A phone number from a webhook: parsed into E.164 when possible, kept as (wrapped) text when not,
/// or known to be withheld. Either way it never prints itself.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Number {
    /// A valid number.
    Phone(Pii<PhoneNumber>),
    /// The caller id was withheld (anonymous, private, restricted, …).
    Withheld,
    /// Text that is not a phone number we can parse (a SIP address, a short code, …).
    Unparsed(Pii<String>),
}

impl Number {
    /// Parses a provider's number field. Empty text is `None`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(match PhoneNumber::parse(trimmed) {
            Ok(number) => Self::Phone(Pii::new(number)),
            Err(ringside_core::Error::InvalidPhone(PhoneError::Withheld)) => Self::Withheld,
            Err(_) => Self::Unparsed(Pii::new(trimmed.to_owned())),
        })
    }

    /// Parses a wrapped field, leaving no unwrapped copy behind.
    pub(crate) fn from_pii(text: Option<&Pii<String>>) -> Option<Self> {
        text.and_then(|text| Self::parse(text.expose()))
    }

    /// The parsed number, if there is one.
    pub fn phone(&self) -> Option<&Pii<PhoneNumber>> {
        match self {
            Self::Phone(phone) => Some(phone),
            _ => None,
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `Pii` prints `[redacted]`; even the masked last four digits stay out of logs.
            Self::Phone(phone) => write!(f, "Phone({phone:?})"),
            Self::Withheld => f.write_str("Withheld"),
            Self::Unparsed(text) => write!(f, "Unparsed({text:?})"),
        }
    }
}

/// What routing can use to pick the agents for a call or message: the provider's own user id, an
/// extension, the number that was dialed. Whichever the provider sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Routing {
    /// The provider's id of the user (agent) the call or message is for.
    pub provider_user_id: Option<String>,
    /// The extension (number or provider extension id).
    pub extension: Option<String>,
    /// The agency's number that was dialed (or that sent, for outbound).
    pub dialed_number: Option<Number>,
}

impl Routing {
    /// Routing by the agency's number alone.
    pub(crate) fn by_number(dialed_number: Option<Number>) -> Self {
        Self {
            dialed_number,
            ..Self::default()
        }
    }

    /// Routing by the agency's side of a call: the called number on inbound (and unknown) calls,
    /// the calling one on outbound calls.
    pub(crate) fn by_call_numbers(
        direction: Direction,
        from: Option<&Number>,
        to: Option<&Number>,
    ) -> Self {
        let dialed = match direction {
            Direction::Outbound => from,
            Direction::Inbound | Direction::Unknown => to,
        };
        Self::by_number(dialed.cloned())
    }
}

/// One state change of one call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallEvent {
    /// Who sent it.
    pub provider: ProviderKind,
    /// The provider's identity of this event, for deduplication (see `docs/providers.md`).
    pub event_id: String,
    /// The provider's id of this call (or call leg).
    pub call_id: String,
    /// The id the legs of a multi-leg call share (Dialpad `master_call_id`, RingCentral
    /// `telephonySessionId`, Twilio `ParentCallSid`, Vonage `conversation_uuid`), when sent.
    pub parent_call_id: Option<String>,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Our state.
    pub state: CallState,
    /// The provider's own state name, for the event log (never personal data).
    pub provider_state: String,
    /// The calling number.
    pub from: Option<Number>,
    /// The called number.
    pub to: Option<Number>,
    /// The caller's (or callee's) name as the provider knows it.
    pub contact_name: Option<Pii<String>>,
    /// What routing can use.
    pub routing: Routing,
    /// When the provider says it happened.
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
}

impl CallEvent {
    /// The id that follows the call across its legs: the parent id when there is one.
    pub fn call_key(&self) -> &str {
        self.parent_call_id.as_deref().unwrap_or(&self.call_id)
    }

    /// The client's number: `from` on inbound calls, `to` on outbound ones.
    pub fn client_number(&self) -> Option<&Number> {
        match self.direction {
            Direction::Outbound => self.to.as_ref(),
            Direction::Inbound | Direction::Unknown => self.from.as_ref(),
        }
    }
}

/// One text message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SmsEvent {
    /// Who sent it.
    pub provider: ProviderKind,
    /// The provider's identity of this event, for deduplication.
    pub event_id: String,
    /// The provider's id of the message.
    pub message_id: String,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The sender's number.
    pub from: Option<Number>,
    /// The recipients' numbers.
    pub to: Vec<Number>,
    /// The text, when the provider sends it.
    pub text: Option<Pii<String>>,
    /// The sender's (or recipient's) name as the provider knows it.
    pub contact_name: Option<Pii<String>>,
    /// What routing can use.
    pub routing: Routing,
    /// When the provider says it happened.
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
}

impl SmsEvent {
    /// An inbound message to (at most) one number, routed by that number: what the form-posting
    /// providers (Twilio, Vonage's Messages and SMS APIs) send.
    pub(crate) fn inbound_to_one(
        provider: ProviderKind,
        event_id: String,
        message_id: String,
        from: Option<Number>,
        to: Option<Number>,
        text: Option<Pii<String>>,
        occurred_at: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            provider,
            event_id,
            message_id,
            direction: Direction::Inbound,
            from,
            routing: Routing::by_number(to.clone()),
            to: to.into_iter().collect(),
            text,
            contact_name: None,
            occurred_at,
        }
    }
}

/// Zeroizes a buffer that held personal data once we are done with it.
pub(crate) fn wipe(mut buffer: Vec<u8>) {
    buffer.zeroize();
}
