//! The HTTP API's sync, retention, erasure and termination bodies (`/v1/admin/sync/…`,
//! `/v1/admin/retention`, `/v1/admin/erase`, `/v1/admin/org/terminate`): which calls' notes are
//! waiting or stuck, how much personal data the relay holds right now, and what an erasure
//! removed (docs/lifecycle.md). Answers carry ids, states, codes, counts and times only.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::CallId;

/// One call's sync, as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SyncEntry {
    /// The call.
    #[schema(value_type = String)]
    pub call_id: CallId,
    /// `call`, or `sms` for a text message (synced the same way).
    #[schema(example = "call")]
    pub kind: String,
    /// `pending`, `writing`, `held` (several AMS records match and no one picked), `dead` (a
    /// refusal no retry fixes), `done`, `skipped` or `expired`.
    #[schema(example = "dead")]
    pub state: String,
    /// Attempts so far.
    pub attempts: u32,
    /// The last failure's stable code (`http_422`, `ambiguous_match`, `in_doubt`, `timeout`, …).
    pub reason: Option<String>,
    /// When the call started.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub started_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub updated_at: OffsetDateTime,
}

/// `GET /v1/admin/sync/dead-letters`: the calls whose note needs an admin (held and dead),
/// oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SyncEntryList {
    /// The entries.
    pub entries: Vec<SyncEntry>,
}

/// One kind of personal data in the retention report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RetentionKind {
    /// `phone_number`, `contact_name`, `transcript`, `summary`, `agent_note`, `sms_body` or
    /// `pop`.
    #[schema(example = "transcript")]
    pub kind: String,
    /// How many records hold it now (sealed, not yet purged).
    pub records: u64,
    /// The age of the oldest of them, in seconds; `null` when there are none.
    pub oldest_age_secs: Option<u64>,
}

/// `GET /v1/admin/retention` and `ringside-relay retention report --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RetentionReport {
    /// When the report was made.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub generated_at: OffsetDateTime,
    /// Every kind, in a fixed order, with zero counts included.
    pub kinds: Vec<RetentionKind>,
}

/// `POST /v1/admin/erase`: a data-subject request — erase every record of one client number.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct EraseRequest {
    /// The number, in any common format (`+1 617 555 0100`, `(617) 555-0100`).
    #[schema(value_type = String, example = "+16175550100")]
    pub number: crate::Pii<String>,
}

/// What an erasure removed (the same counts its audit entry records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct EraseReport {
    /// Calls deleted, with everything that hung off them.
    pub calls: u64,
    /// Text messages deleted.
    pub texts: u64,
}

/// `POST /v1/admin/org/terminate`: the owner ends the organisation's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TerminateRequest {
    /// The organisation's name, typed again: a guard against the wrong tab.
    pub confirm_name: String,
}

/// The answer to a termination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct TerminateReport {
    /// When it was terminated.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub terminated_at: OffsetDateTime,
    /// When its keys are destroyed and its data deleted, unless the operator restores it first.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub shred_at: OffsetDateTime,
    /// Sessions ended.
    pub sessions: u64,
}

/// One of the caller's own calls (or texts), as `GET /v1/me/calls` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct MyCall {
    /// The call.
    #[schema(value_type = String)]
    pub call_id: CallId,
    /// `call` or `sms`.
    pub kind: String,
    /// `inbound`, `outbound` or `unknown`.
    pub direction: String,
    /// Its state (`ringing` … `ended`, `missed`, `voicemail`).
    pub state: String,
    /// Whether anyone answered.
    pub answered: bool,
    /// The client's number: in full (E.164) while its personal data is held, `***-***-1234` once
    /// the note is in the AMS and it was purged; absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[schema(value_type = Option<String>)]
    pub number: Option<crate::Pii<String>>,
    /// `waiting` (for its note), `in_ams`, `failed` (held or a dead letter), `skipped` or
    /// `expired`; absent while the call is live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub sync: Option<String>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub started_at: OffsetDateTime,
}

/// `GET /v1/me/calls`: the caller's most recent calls, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct MyCallList {
    /// At most 100.
    pub calls: Vec<MyCall>,
}

/// One of the caller's own notes the relay still holds, as `GET /v1/me/notes` lists it. A note is
/// held only until the call's note is in the AMS (then it is deleted here), so these are the
/// caller's words that are not in the AMS yet: waiting, or failed for an admin to see to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct MyNote {
    /// The note.
    #[schema(value_type = String)]
    pub note_id: crate::NoteId,
    /// The call it is on.
    #[schema(value_type = String)]
    pub call_id: CallId,
    /// What the caller wrote.
    #[schema(value_type = String)]
    pub text: crate::Pii<String>,
    /// The call's number (E.164); absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[schema(value_type = Option<String>)]
    pub number: Option<crate::Pii<String>>,
    /// The call's sync, as in [`MyCall::sync`]; absent while the call is live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub sync: Option<String>,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
}

/// `GET /v1/me/notes`: the caller's notes still held, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct MyNoteList {
    /// At most 100.
    pub notes: Vec<MyNote>,
}

/// `GET /v1/leaderboard` query: how many days back (1–90, default 7).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, IntoParams,
)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
#[ts(export)]
pub struct LeaderboardQuery {
    /// Days back from now, 1–90; 7 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub days: Option<u32>,
}

/// One member of the team on the leaderboard: counts from the anonymized call rows that outlive
/// the purge (DESIGN "anonymized metrics"), never from personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct LeaderboardEntry {
    /// The member.
    #[schema(value_type = String)]
    pub user_id: crate::UserId,
    /// Their name, as colleagues see it.
    #[schema(value_type = String)]
    #[ts(type = "string")]
    pub display_name: crate::Pii<String>,
    /// Calls they answered.
    pub answered: u32,
    /// Calls that rang for them alone and were not answered.
    pub missed: u32,
    /// Their calls whose note is in the AMS.
    pub notes_in_ams: u32,
    /// The average length of their answered calls, from the first ring to hang-up (seconds);
    /// absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub average_call_secs: Option<u32>,
    /// This is the caller.
    pub me: bool,
}

/// `GET /v1/leaderboard`: the team over the last `days`, most calls answered first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Leaderboard {
    /// The days counted.
    pub days: u32,
    /// Every active member who takes calls, zeros included.
    pub entries: Vec<LeaderboardEntry>,
}
