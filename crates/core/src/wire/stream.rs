//! The WebSocket stream (`GET /v1/stream`, docs/stream.md): what the relay pushes to a signed-in user's
//! devices and what they answer.
//!
//! Why these shapes: every message is one JSON object with a `type`, so a client can skip a type
//! it does not know. Every event the relay keeps for replay carries the user's `seq`, which only
//! grows (across devices and relay restarts): a client that remembers the highest `seq` it has
//! handled shows each pop exactly once however often it reconnects — it acks what it handled and
//! resumes after it. `hello` and `session_revoked` are about the connection, not the user's
//! events, so they carry no `seq`. Phone numbers and names are [`Pii`]: never in a `Debug` line.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{CallId, Pii, PopId, UserId};

/// Our call states. Providers have many more; each provider module maps its own onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum CallState {
    /// The call is ringing (or being set up): the moment to pop.
    Ringing,
    /// Someone picked up.
    Answered,
    /// The call (or one leg of it) was transferred elsewhere; the call goes on.
    Transferred,
    /// The call ended (after being answered, or for an outbound call that was not).
    Ended,
    /// An inbound call ended without being answered.
    Missed,
    /// The call went to voicemail.
    Voicemail,
}

impl CallState {
    /// Every state, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::Ringing,
        Self::Answered,
        Self::Transferred,
        Self::Ended,
        Self::Missed,
        Self::Voicemail,
    ];

    /// The lowercase name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ringing => "ringing",
            Self::Answered => "answered",
            Self::Transferred => "transferred",
            Self::Ended => "ended",
            Self::Missed => "missed",
            Self::Voicemail => "voicemail",
        }
    }

    /// Parses the wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// Whether a call in this state can change no further (the state machine never leaves one).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Ended | Self::Missed | Self::Voicemail)
    }

    /// How far along a call this state is: a call only ever moves to a higher rank. A transfer
    /// ranks with `answered` (the call goes on); the final states share the top rank.
    pub fn rank(self) -> u8 {
        match self {
            Self::Ringing => 0,
            Self::Answered | Self::Transferred => 1,
            Self::Ended | Self::Missed | Self::Voicemail => 2,
        }
    }
}

/// Which way a call or message goes, seen from the agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Direction {
    /// From a client to the agency.
    Inbound,
    /// From the agency to a client.
    Outbound,
    /// The provider did not say (or said something we do not know).
    Unknown,
}

impl Direction {
    /// Reads a provider's direction word: `inbound`, `INBOUND`, `Inbound`, `outbound-api`,
    /// `incoming`, … Anything else is [`Direction::Unknown`].
    pub fn parse(text: &str) -> Self {
        let lower = text.trim().to_ascii_lowercase();
        if lower.starts_with("inbound") || lower == "incoming" {
            Self::Inbound
        } else if lower.starts_with("outbound") || lower == "outgoing" {
            Self::Outbound
        } else {
            Self::Unknown
        }
    }
}

/// `POST /v1/stream/ticket`: a single-use ticket to open the stream with.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct StreamTicket {
    /// Pass it as `GET /v1/stream?ticket=…` within `expires_in` seconds; it works once.
    #[schema(value_type = String)]
    pub ticket: Pii<String>,
    /// Seconds until it stops working.
    pub expires_in: u32,
}

/// What kind of AMS record a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RecordKind {
    /// A client (an insured, a customer account).
    Client,
    /// A prospect: a lead not yet insured.
    Prospect,
    /// A contact person on an account (a spouse, a business's office manager).
    Contact,
}

/// A contact the AMS lookup found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Contact {
    /// The AMS's id of the record (client, prospect, contact).
    pub id: String,
    /// What kind of record it is.
    pub kind: RecordKind,
    /// The name the AMS holds.
    pub name: Pii<String>,
    /// A short description to tell several matches apart (account, policy type, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub detail: Option<Pii<String>>,
    /// A link that opens the record in the AMS, where the AMS has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub open_url: Option<String>,
}

/// Where the AMS lookup for a pop stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
#[ts(export)]
pub enum MatchState {
    /// The lookup is under way; a `pop_update` follows.
    Pending,
    /// No AMS is connected (or the number was withheld): there is nothing to look up.
    Unavailable,
    /// The AMS answered: no record has this number.
    NoMatch,
    /// The AMS answered with one or more records. Several are shown as several: never one
    /// silently picked.
    Found {
        /// The records, in the AMS's order.
        contacts: Vec<Contact>,
    },
    /// The lookup failed or timed out.
    Failed {
        /// A stable reason (`timeout`, `credentials`, `unreachable`, …).
        reason: String,
    },
}

/// `hello`: the first message on a new connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Hello {
    /// The protocol version ([`crate::PROTOCOL_VERSION`]).
    pub protocol_version: u32,
    /// Whose stream this is.
    pub user_id: UserId,
    /// The relay pings this often (seconds) and drops a connection silent for twice as long;
    /// a client should do the same.
    pub heartbeat_secs: u32,
    /// The highest `seq` the relay has given this user so far (0: none).
    pub last_seq: u64,
}

/// `pop`: a call for this user is ringing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Pop {
    /// The user's event sequence number.
    pub seq: u64,
    /// This pop.
    pub pop_id: PopId,
    /// The call it is about.
    pub call_id: CallId,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The client's number in E.164 (`+15551234567`); absent when withheld or unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub number: Option<Pii<String>>,
    /// The caller's name as the telephony provider knows it (caller ID), when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub caller_name: Option<Pii<String>>,
    /// The call's state when the pop was made.
    pub state: CallState,
    /// The AMS lookup.
    #[serde(rename = "match")]
    pub match_state: MatchState,
    /// The number texted STOP (or UNSUBSCRIBE, …) and not START since: do not text it.
    #[serde(default)]
    pub sms_opted_out: bool,
    /// When the pop was made.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    /// When it goes away (`pop_expired`), 5 minutes after it was made.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub expires_at: OffsetDateTime,
}

/// `pop_update`: the AMS lookup for a pop finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PopUpdate {
    /// The user's event sequence number.
    pub seq: u64,
    /// The pop it updates.
    pub pop_id: PopId,
    /// The lookup's result.
    #[serde(rename = "match")]
    pub match_state: MatchState,
}

/// `pop_expired` and `pop_dismissed`: a pop is gone (5 minutes passed, or the user dismissed it
/// on one of their devices): clear it everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PopGone {
    /// The user's event sequence number.
    pub seq: u64,
    /// The pop.
    pub pop_id: PopId,
}

/// `call_state`: a call this user has a pop for moved on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CallStateChange {
    /// The user's event sequence number.
    pub seq: u64,
    /// The call.
    pub call_id: CallId,
    /// Its new state.
    pub state: CallState,
}

/// `sms`: a text message to or from a client, for this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Sms {
    /// The user's event sequence number.
    pub seq: u64,
    /// Received from the client (`inbound`) or sent to them.
    pub direction: Direction,
    /// The client's number in E.164; absent when unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub number: Option<Pii<String>>,
    /// The client's name as the telephony provider knows it, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub contact_name: Option<Pii<String>>,
    /// The text, when the provider sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub text: Option<Pii<String>>,
    /// When the relay received it.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub received_at: OffsetDateTime,
}

/// `error`: the relay refused one client message (a note on a call that did not ring for this
/// user, say). Only this connection gets it, it has no `seq`, and the connection stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StreamError {
    /// A stable code: `call_not_routed`, `note_too_long`, `unavailable`.
    pub code: String,
    /// For people.
    pub message: String,
}

/// `notice`: something the user should know that is not a call (e.g. the AMS credentials fail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Notice {
    /// The user's event sequence number.
    pub seq: u64,
    /// A stable code.
    pub code: String,
    /// For people.
    pub message: String,
}

/// `session_revoked`: the session behind this connection ended; the relay closes the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionRevoked {
    /// Why (`signed_out`, `revoked`, `disabled`, …).
    pub reason: String,
}

/// A message from the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ServerMessage {
    /// The connection is open.
    Hello(Hello),
    /// A call is ringing for this user.
    Pop(Pop),
    /// A pop's AMS lookup finished.
    PopUpdate(PopUpdate),
    /// A pop expired.
    PopExpired(PopGone),
    /// A pop was dismissed on one of the user's devices.
    PopDismissed(PopGone),
    /// A call moved on.
    CallState(CallStateChange),
    /// A text message to or from a client.
    Sms(Sms),
    /// Something to know.
    Notice(Notice),
    /// A client message was refused (this connection only; no `seq`).
    Error(StreamError),
    /// The session ended; the socket closes.
    SessionRevoked(SessionRevoked),
}

impl ServerMessage {
    /// The user's sequence number of this event; `None` for the connection's own messages.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Pop(m) => Some(m.seq),
            Self::PopUpdate(m) => Some(m.seq),
            Self::PopExpired(m) | Self::PopDismissed(m) => Some(m.seq),
            Self::CallState(m) => Some(m.seq),
            Self::Sms(m) => Some(m.seq),
            Self::Notice(m) => Some(m.seq),
            Self::Hello(_) | Self::SessionRevoked(_) | Self::Error(_) => None,
        }
    }
}

/// A message from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
// Unknown `type`s are refused; unknown fields are ignored, so a newer client can add one
// without breaking an older relay.
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ClientMessage {
    /// Everything up to and including `seq` is handled: do not replay it.
    Ack {
        /// The highest handled sequence number.
        seq: u64,
    },
    /// Replay what is unacked, after `after_seq`, and still within its time to live.
    Resume {
        /// The highest sequence number this client has handled.
        after_seq: u64,
    },
    /// The user closed this pop: clear it on their other devices too.
    Dismiss {
        /// The pop.
        pop_id: PopId,
    },
    /// The agent's note for a call (kept sealed until the AMS sync).
    Note {
        /// The call.
        call_id: CallId,
        /// The note.
        text: Pii<String>,
    },
    /// The contact the agent picked to log the call against.
    Pick {
        /// The call.
        call_id: CallId,
        /// The AMS's id of the record.
        contact: String,
    },
}

/// `POST /v1/calls/{call_id}/note`: the stream's `note` for a client without a socket.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CallNoteRequest {
    /// The note (personal data: kept sealed until the AMS sync).
    #[schema(value_type = String)]
    pub text: Pii<String>,
}

/// `POST /v1/calls/{call_id}/pick`: the stream's `pick` for a client without a socket.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CallPickRequest {
    /// The AMS's id of the record (one of the pop's `contacts`).
    pub contact: String,
}

/// WebSocket close codes the relay uses (4000–4999 are the application's range, RFC 6455 §7.4.2).
pub mod close {
    /// The ticket was missing, unknown, used or expired (before the upgrade this is a 401).
    pub const UNAUTHORIZED: u16 = 4401;
    /// The session behind the connection was revoked or the user disabled.
    pub const SESSION_REVOKED: u16 = 4403;
    /// The client read too slowly and its queue filled up: reconnect and `resume`.
    pub const SLOW_CONSUMER: u16 = 4408;
    /// Nothing heard from the client for two heartbeats.
    pub const HEARTBEAT_TIMEOUT: u16 = 4409;
    /// The client sent something that is not a [`super::ClientMessage`].
    pub const BAD_MESSAGE: u16 = 4400;
    /// The relay is shutting down: reconnect and `resume`.
    pub const GOING_AWAY: u16 = 1001;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_only_rank_forward_and_finals_share_the_top() {
        for state in [
            CallState::Ringing,
            CallState::Answered,
            CallState::Transferred,
            CallState::Ended,
            CallState::Missed,
            CallState::Voicemail,
        ] {
            assert_eq!(CallState::from_name(state.as_str()), Some(state));
            assert_eq!(state.is_final(), state.rank() == 2, "{state:?}");
        }
        assert!(CallState::Ringing.rank() < CallState::Answered.rank());
        assert_eq!(CallState::from_name("RINGING"), None);
    }

    #[test]
    fn messages_are_tagged_by_type_and_carry_their_seq() {
        let msg = ServerMessage::PopExpired(PopGone {
            seq: 7,
            pop_id: PopId::random(),
        });
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["type"], "pop_expired");
        assert_eq!(json["seq"], 7);
        assert_eq!(msg.seq(), Some(7));
        let back: ServerMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, msg);
    }

    #[test]
    fn client_messages_refuse_unknown_types_and_malformed_fields() {
        let ack: ClientMessage = serde_json::from_str(r#"{"type":"ack","seq":3}"#).unwrap();
        assert_eq!(ack, ClientMessage::Ack { seq: 3 });
        let newer: ClientMessage =
            serde_json::from_str(r#"{"type":"ack","seq":3,"added_later":1}"#).unwrap();
        assert_eq!(newer, ack, "a field a newer client adds is ignored");
        for bad in [
            r#"{"type":"ack"}"#,
            r#"{"type":"shout"}"#,
            r#"{"seq":3}"#,
            r#"{"type":"ack","seq":-1}"#,
        ] {
            assert!(serde_json::from_str::<ClientMessage>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pop_never_prints_its_number() {
        let pop = Pop {
            seq: 1,
            pop_id: PopId::random(),
            call_id: CallId::random(),
            direction: Direction::Inbound,
            number: Some(Pii::new("+15550100777".to_owned())),
            caller_name: Some(Pii::new("Marker Name".to_owned())),
            state: CallState::Ringing,
            match_state: MatchState::Unavailable,
            sms_opted_out: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        let debug = format!("{pop:?}");
        assert!(
            !debug.contains("0100777") && !debug.contains("Marker"),
            "{debug}"
        );
        let json = serde_json::to_value(&pop).unwrap();
        assert_eq!(json["number"], "+15550100777", "the wire carries it");
        assert_eq!(json["match"]["status"], "unavailable");
    }

    #[test]
    fn direction_words_from_providers() {
        assert_eq!(Direction::parse("INBOUND"), Direction::Inbound);
        assert_eq!(Direction::parse("outbound-api"), Direction::Outbound);
        assert_eq!(Direction::parse("incoming"), Direction::Inbound);
        assert_eq!(Direction::parse("sideways"), Direction::Unknown);
    }
}
