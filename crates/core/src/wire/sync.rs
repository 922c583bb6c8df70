//! The HTTP API's sync and retention bodies (`/v1/admin/sync/…`, `/v1/admin/retention`): which
//! calls' notes are waiting or stuck, and how much personal data the relay holds right now
//! (docs/lifecycle.md). Ids, states, codes, counts and times only: never a number or a name.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::CallId;

/// One call's sync, as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SyncEntry {
    /// The call.
    #[schema(value_type = String)]
    pub call_id: CallId,
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
