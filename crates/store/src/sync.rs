//! The sync outbox, the call's transcript, the purge and the retention report
//! (docs/lifecycle.md).
//!
//! Why the outbox is a table, not a queue in memory: a call's note must reach the AMS exactly
//! once whatever crashes, so the row is made in the transaction that finishes the call
//! (`calls::apply`), and each step of its sync — in flight, landed, purged — is a committed state
//! change here. The one step that cannot share a transaction with the AMS is the write itself; a
//! row found `writing` at start-up is therefore *in doubt* ([`SyncStore::recover_in_flight`]),
//! and the worker asks the AMS before writing again.
//!
//! Why the purge is here, in the same transaction as the `done`: "synced" and "forgotten" must be
//! one fact on disk. A crash can never leave a synced call with its number, notes or transcript.

use ringside_core::transcript::Utterance;
use ringside_core::wire::{CallState, Direction};
use ringside_core::{CallId, IntegrationId, OrgId, Pii, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::audit::AuditEntry;
use crate::calls::{NUMBER, key_hash};
use crate::rows::{bytes16, conversion};
use crate::sealed::{SealedColumn, check_keys, persist_seal_counts};
use crate::{Error, Store};

/// The transcript's utterances (JSON), sealed, bound to the call.
const TRANSCRIPT: SealedColumn = SealedColumn::new("call_transcripts", "utterances");

/// The summary, sealed, bound to the call.
const SUMMARY: SealedColumn = SealedColumn::new("sync_outbox", "summary");

/// The most utterances one call's transcript keeps.
pub const MAX_UTTERANCES: usize = 5_000;

/// Where a call's sync stands (docs/lifecycle.md, "The sync").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncState {
    /// Waiting for its next attempt (or its transcript).
    Pending,
    /// An attempt is in flight.
    Writing,
    /// The note is in the AMS; the call's personal data is gone.
    Done,
    /// Nothing to write to under the org's policy; the call's personal data is gone.
    Skipped,
    /// Several records match and no one picked: waiting for an admin or a pick.
    Held,
    /// A dead letter: cannot succeed by retrying.
    Dead,
    /// The PII cap came first: purged unsynced.
    Expired,
}

impl SyncState {
    /// Every state, in the order `sync list` shows them.
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Writing,
        Self::Held,
        Self::Dead,
        Self::Done,
        Self::Skipped,
        Self::Expired,
    ];

    /// Its name on disk and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Writing => "writing",
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::Held => "held",
            Self::Dead => "dead",
            Self::Expired => "expired",
        }
    }

    /// The state named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether an admin should look at it: held or dead.
    pub fn needs_admin(self) -> bool {
        matches!(self, Self::Held | Self::Dead)
    }
}

/// What a row on `calls` is: a call, or a text message kept for its sync (migration 0011).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// A phone call.
    Call,
    /// A text message.
    Sms,
}

impl CallKind {
    /// Its name on disk and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Sms => "sms",
        }
    }

    fn from_name(name: &str) -> rusqlite::Result<Self> {
        match name {
            "call" => Ok(Self::Call),
            "sms" => Ok(Self::Sms),
            _ => Err(conversion("call kind")),
        }
    }
}

/// A call due for its sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncJob {
    /// The org.
    pub org: OrgId,
    /// The call.
    pub call: CallId,
}

/// Everything a call's note is composed from, opened. `Debug` prints no personal data.
#[derive(Debug)]
pub struct SyncMaterial {
    /// The org.
    pub org: OrgId,
    /// The call.
    pub call: CallId,
    /// A call or a text message.
    pub kind: CallKind,
    /// Which way it went.
    pub direction: Direction,
    /// How it ended.
    pub state: CallState,
    /// Whether anyone answered.
    pub answered: bool,
    /// The client's number (E.164), when the provider sent one.
    pub number: Option<Pii<String>>,
    /// When the relay first saw it, and when it ended (unix seconds).
    pub started_at: i64,
    /// When it ended.
    pub ended_at: Option<i64>,
    /// The agents' notes, oldest first, with their authors.
    pub notes: Vec<(UserId, Pii<String>)>,
    /// The record an agent picked, and who.
    pub pick: Option<(UserId, Pii<String>)>,
    /// Who the call popped for.
    pub popped_for: Vec<UserId>,
    /// The transcript, when the provider sent one.
    pub transcript: Vec<Utterance>,
    /// The summary made by an earlier attempt.
    pub summary: Option<Pii<String>>,
    /// A text message's body.
    pub text: Option<Pii<String>>,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
    /// Whether an earlier attempt may have written the note already (the relay stopped while
    /// it was in flight).
    pub in_doubt: bool,
}

/// How a sync ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncFinish {
    /// The note is in the AMS as this activity.
    Written {
        /// The AMS's id of the activity.
        activity_id: String,
    },
    /// Nothing to write to; the org's policy is to skip.
    Skipped,
}

/// What the purge after a sync removed (counts only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncPurge {
    /// Whether the call's number was masked (it had one).
    pub number: bool,
    /// Agents' notes and picks deleted.
    pub notes: u64,
    /// Transcripts deleted.
    pub transcripts: u64,
    /// Text message bodies deleted.
    pub texts: u64,
    /// Stream events deleted (the pops' and the text's sealed payloads).
    pub pop_events: u64,
}

/// One outbox row, as `sync list` shows it: ids, state and times, no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRow {
    /// The org.
    pub org: OrgId,
    /// The call.
    pub call: CallId,
    /// A call or a text message.
    pub kind: CallKind,
    /// Its state.
    pub state: SyncState,
    /// Attempts so far.
    pub attempts: u32,
    /// The last failure's stable code.
    pub reason: Option<String>,
    /// When the next attempt is due (pending).
    pub next_at: i64,
    /// When the call started.
    pub started_at: i64,
    /// When the row was made (the call ended).
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// What the purge kept of the client's number: `***-***-1234`.
    pub number_masked: Option<String>,
}

/// What happened to a transcript event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptStored {
    /// Kept, sealed, for the call's sync.
    Kept(CallId),
    /// The relay knows no such call: nothing kept.
    UnknownCall,
    /// The call's sync is over: nothing kept (it would never leave).
    TooLate,
}

/// One kind of personal data in the retention report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retained {
    /// The kind (`phone_number`, `contact_name`, `transcript`, `summary`, `agent_note`,
    /// `sms_body`, `pop`).
    pub kind: &'static str,
    /// How many records hold it now.
    pub records: u64,
    /// When the oldest of them was made (unix seconds).
    pub oldest_at: Option<i64>,
}

/// The sync's storage.
pub trait SyncStore {
    /// At start-up: every row left `writing` by a relay that stopped mid-attempt goes back to
    /// `pending`, in doubt, due in `settle_secs` (an AMS's search may trail its writes). Answers
    /// how many.
    fn recover_in_flight(&self, settle_secs: u32) -> Result<u64, Error>;

    /// Up to `limit` calls due now: `pending` with `next_at` passed — and, for a first attempt,
    /// `grace_secs` past the hang-up unless the transcript is in (a text never waits). Oldest
    /// first. A terminated
    /// org's calls wait (it is read-only; a restore resumes them).
    fn due_syncs(&self, grace_secs: u32, limit: u32) -> Result<Vec<SyncJob>, Error>;

    /// Starts an attempt at `job`: `pending` → `writing` (committed before the AMS is asked),
    /// and everything its note needs, opened. `None` when the row is no longer pending.
    fn begin_sync(&self, job: SyncJob, keys: &OrgKeyring) -> Result<Option<SyncMaterial>, Error>;

    /// Keeps the summary an attempt made, sealed, so a retry writes the same note.
    fn save_summary(
        &self,
        org: OrgId,
        call: CallId,
        summary: &Pii<String>,
        keys: &OrgKeyring,
    ) -> Result<(), Error>;

    /// The sync of `call` ended well: `done` (or `skipped`) and, in the same transaction, the
    /// purge: the number replaced by `masked`, the notes, pick, transcript, summary and pop
    /// payloads deleted, `agent` kept on the metrics row. Then the WAL is checkpointed.
    fn finish_sync(
        &self,
        org: OrgId,
        call: CallId,
        finish: &SyncFinish,
        masked: Option<&str>,
        agent: Option<UserId>,
    ) -> Result<SyncPurge, Error>;

    /// The attempt failed but may succeed later: `pending` again, due at `next_at`.
    fn retry_sync_at(
        &self,
        org: OrgId,
        call: CallId,
        next_at: i64,
        reason: &str,
    ) -> Result<(), Error>;

    /// The attempt cannot succeed by itself: `held` (waiting for a pick) or `dead`.
    fn park_sync(
        &self,
        org: OrgId,
        call: CallId,
        state: SyncState,
        reason: &str,
    ) -> Result<(), Error>;

    /// The outbox rows of `org` (every org's when `None`) in `states`, oldest first, at most
    /// `limit`.
    fn list_syncs(
        &self,
        org: Option<OrgId>,
        states: &[SyncState],
        limit: u32,
    ) -> Result<Vec<SyncRow>, Error>;

    /// An admin's retry: a `held` or `dead` row of `org` goes back to `pending`, due now, with
    /// its doubt cleared (the admin checked the AMS), and `audit` recorded with it.
    /// [`Error::NotFound`] when there is no such row (nothing recorded).
    fn retry_sync_now(&self, org: OrgId, call: CallId, audit: &AuditEntry) -> Result<(), Error>;

    /// The counts per kind of personal data held now, for `org` or the whole installation
    /// (docs/lifecycle.md, "Retention report").
    fn retention(&self, org: Option<OrgId>) -> Result<Vec<Retained>, Error>;
}

/// Where a kind of personal data can be held: a table, the rows that hold it, and their time.
struct Source {
    from: &'static str,
    held: &'static str,
    count: &'static str,
    time: &'static str,
    org: &'static str,
}

const CALL_NUMBERS: Source = Source {
    from: "calls",
    held: "number_sealed IS NOT NULL",
    count: "*",
    time: "started_at",
    org: "org_id",
};

/// Events waiting in the inbox carry numbers, names and texts.
const INBOX: Source = Source {
    from: "inbox",
    held: "1",
    count: "*",
    time: "received_at",
    org: "org_id",
};

/// A text message's `sms` stream events carry its number, name and body.
const TEXT_EVENTS: Source = Source {
    from: "stream_events",
    held: "call_id IS NOT NULL",
    count: "DISTINCT call_id",
    time: "expires_at",
    org: "org_id",
};

const fn sms_bodies(held: &'static str) -> Source {
    Source {
        from: "sms_bodies",
        held,
        count: "*",
        time: "received_at",
        org: "org_id",
    }
}

/// A pop's sealed stream events carry the caller-id name and the AMS match.
const POP_EVENTS: Source = Source {
    from: "stream_events e JOIN pops p ON p.id = e.pop_id",
    held: "1",
    count: "DISTINCT e.pop_id",
    time: "p.created_at",
    org: "e.org_id",
};

/// Every kind the report names, in its order, with where it can be.
const RETAINED: [(&str, &[Source]); 7] = [
    ("phone_number", &[CALL_NUMBERS, INBOX]),
    (
        "contact_name",
        &[
            POP_EVENTS,
            INBOX,
            sms_bodies("contact_name_sealed IS NOT NULL"),
        ],
    ),
    (
        "transcript",
        &[Source {
            from: "call_transcripts",
            held: "1",
            count: "*",
            time: "received_at",
            org: "org_id",
        }],
    ),
    (
        "summary",
        &[Source {
            from: "sync_outbox",
            held: "summary_sealed IS NOT NULL",
            count: "*",
            time: "updated_at",
            org: "org_id",
        }],
    ),
    (
        "agent_note",
        &[
            Source {
                from: "call_notes",
                held: "1",
                count: "*",
                time: "created_at",
                org: "org_id",
            },
            Source {
                from: "call_picks",
                held: "1",
                count: "*",
                time: "picked_at",
                org: "org_id",
            },
        ],
    ),
    (
        "sms_body",
        &[INBOX, sms_bodies("text_sealed IS NOT NULL"), TEXT_EVENTS],
    ),
    ("pop", &[POP_EVENTS]),
];

fn state_from(text: &str) -> rusqlite::Result<SyncState> {
    SyncState::from_name(text).ok_or_else(|| conversion("sync state"))
}

fn direction_from(text: &str) -> Direction {
    match text {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        _ => Direction::Unknown,
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Makes the outbox row of a call that just finished (in its transaction); a second finish does
/// nothing.
pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    org: OrgId,
    call: CallId,
    now: i64,
) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO sync_outbox (call_id, org_id, state, next_at, created_at, updated_at)
         VALUES (?1, ?2, 'pending', ?3, ?3, ?3)
         ON CONFLICT (call_id) DO NOTHING",
    )?
    .execute(params![call.as_bytes(), org.as_bytes(), now])?;
    Ok(())
}

/// Whether the call's sync is over (its data is gone or going): notes and transcripts for it are
/// refused.
pub(crate) fn sync_over(tx: &Transaction<'_>, call: CallId) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sync_outbox WHERE call_id = ?1
                            AND state IN ('done', 'skipped', 'expired'))",
        )?
        .query_row([call.as_bytes()], |r| r.get(0))?)
}

/// A pick wakes a call held for want of one.
pub(crate) fn wake_held(tx: &Transaction<'_>, call: CallId, now: i64) -> Result<(), Error> {
    tx.prepare_cached(
        "UPDATE sync_outbox SET state = 'pending', next_at = ?2, reason = NULL, updated_at = ?2
         WHERE call_id = ?1 AND state = 'held'",
    )?
    .execute(params![call.as_bytes(), now])?;
    Ok(())
}

/// Keeps a transcript event's utterances for the call `call_key` of `integration` (in the
/// event's transaction).
pub(crate) fn put_transcript(
    tx: &Transaction<'_>,
    org: OrgId,
    integration: IntegrationId,
    call_key: &str,
    utterances: &[Utterance],
    keys: &OrgKeyring,
    now: i64,
) -> Result<TranscriptStored, Error> {
    if utterances.len() > MAX_UTTERANCES {
        return Err(Error::Conflict("transcript too long"));
    }
    let hash = key_hash(integration, call_key);
    let call: Option<Vec<u8>> = tx
        .prepare_cached(
            "SELECT id FROM calls WHERE integration_id = ?1 AND call_key = ?2 AND org_id = ?3",
        )?
        .query_row(params![integration.as_bytes(), hash, org.as_bytes()], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(call) = call else {
        return Ok(TranscriptStored::UnknownCall);
    };
    let call = CallId::from_bytes(bytes16(call)?);
    if sync_over(tx, call)? {
        return Ok(TranscriptStored::TooLate);
    }
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(utterances).map_err(|_| conversion("transcript"))?,
    );
    let sealed = TRANSCRIPT.seal(keys, org, call.as_bytes(), &json)?;
    tx.prepare_cached(
        "INSERT INTO call_transcripts (call_id, org_id, utterances_sealed, received_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (call_id) DO UPDATE SET
             utterances_sealed = excluded.utterances_sealed, received_at = excluded.received_at",
    )?
    .execute(params![call.as_bytes(), org.as_bytes(), sealed, now])?;
    persist_seal_counts(tx, keys)?;
    Ok(TranscriptStored::Kept(call))
}

/// Deletes every piece of personal data of `call` but its number (the caller masks or clears
/// that): notes, pick, transcript, summary, a text's body, and the stream events that carried
/// them. Counts only.
pub(crate) fn delete_call_pii(tx: &Transaction<'_>, call: CallId) -> Result<SyncPurge, Error> {
    let id = call.as_bytes();
    let notes = tx
        .prepare_cached("DELETE FROM call_notes WHERE call_id = ?1")?
        .execute([id])?
        + tx.prepare_cached("DELETE FROM call_picks WHERE call_id = ?1")?
            .execute([id])?;
    let transcripts = tx
        .prepare_cached("DELETE FROM call_transcripts WHERE call_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("UPDATE sync_outbox SET summary_sealed = NULL WHERE call_id = ?1")?
        .execute([id])?;
    let texts = tx
        .prepare_cached("DELETE FROM sms_bodies WHERE call_id = ?1")?
        .execute([id])?;
    let pop_events = tx
        .prepare_cached(
            "DELETE FROM stream_events
             WHERE pop_id IN (SELECT id FROM pops WHERE call_id = ?1) OR call_id = ?1",
        )?
        .execute([id])?;
    Ok(SyncPurge {
        number: false,
        notes: count(notes),
        transcripts: count(transcripts),
        texts: count(texts),
        pop_events: count(pop_events),
    })
}

impl Store {
    /// Copies the WAL into the database and truncates it, so the page images a purge replaced
    /// do not linger in the WAL file. A busy checkpoint (a reader mid-query) is left for the
    /// next purge or SQLite's own: answers whether the WAL was emptied.
    pub fn checkpoint_wal(&self) -> Result<bool, Error> {
        let (busy, _, _): (i64, i64, i64) =
            self.conn()
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        Ok(busy == 0)
    }
}

fn material(
    tx: &Transaction<'_>,
    job: SyncJob,
    keys: &OrgKeyring,
    attempt: u32,
    in_doubt: bool,
) -> Result<SyncMaterial, Error> {
    let (org, call) = (job.org, job.call);
    let id = call.as_bytes();
    let (kind, direction, state, answered, number, started_at, ended_at, summary) = tx
        .prepare_cached(
            "SELECT c.kind, c.direction, c.state, c.answered, c.number_sealed, c.started_at,
                    c.ended_at, o.summary_sealed
             FROM calls c JOIN sync_outbox o ON o.call_id = c.id
             WHERE c.id = ?1 AND c.org_id = ?2",
        )?
        .query_row(params![id, org.as_bytes()], |r| {
            Ok((
                CallKind::from_name(&r.get::<_, String>(0)?)?,
                direction_from(&r.get::<_, String>(1)?),
                CallState::from_name(&r.get::<_, String>(2)?)
                    .ok_or_else(|| conversion("call state"))?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, Option<Vec<u8>>>(7)?,
            ))
        })?;
    let number = number
        .map(|sealed| NUMBER.open_text(keys, org, id, &sealed))
        .transpose()?;
    let summary = summary
        .map(|sealed| SUMMARY.open_text(keys, org, id, &sealed))
        .transpose()?;
    let transcript: Option<Vec<u8>> = tx
        .prepare_cached("SELECT utterances_sealed FROM call_transcripts WHERE call_id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let transcript = match transcript {
        Some(sealed) => {
            let json = TRANSCRIPT.open(keys, org, id, &sealed)?;
            serde_json::from_slice(&json).map_err(|_| conversion("transcript"))?
        }
        None => Vec::new(),
    };
    let (notes, pick) = crate::notes::read_additions(tx, org, call, keys)?;
    let text = crate::texts::read_text(tx, org, call, keys)?;
    let popped_for = tx
        .prepare_cached("SELECT user_id FROM pops WHERE call_id = ?1 ORDER BY created_at, rowid")?
        .query_map([id], |r| Ok(UserId::from_bytes(bytes16(r.get(0)?)?)))?
        .collect::<Result<_, _>>()?;
    Ok(SyncMaterial {
        org,
        call,
        kind,
        direction,
        state,
        answered,
        number,
        started_at,
        ended_at,
        notes,
        pick,
        popped_for,
        transcript,
        summary,
        text,
        attempt,
        in_doubt,
    })
}

impl SyncStore for Store {
    fn recover_in_flight(&self, settle_secs: u32) -> Result<u64, Error> {
        let now = self.now();
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE sync_outbox SET state = 'pending', in_doubt = 1, next_at = ?2,
                            updated_at = ?1
                     WHERE state = 'writing'",
                )?
                .execute(params![now, now + i64::from(settle_secs)])?;
            Ok(count(n))
        })
    }

    fn due_syncs(&self, grace_secs: u32, limit: u32) -> Result<Vec<SyncJob>, Error> {
        let now = self.now();
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT o.org_id, o.call_id FROM sync_outbox o
             WHERE o.state = 'pending' AND o.next_at <= ?1
               AND o.org_id NOT IN (SELECT id FROM orgs WHERE terminated_at IS NOT NULL)
               AND (o.attempts > 0 OR o.in_doubt = 1 OR o.next_at <= ?1 - ?2
                    OR EXISTS (SELECT 1 FROM call_transcripts t WHERE t.call_id = o.call_id)
                    OR EXISTS (SELECT 1 FROM sms_bodies b WHERE b.call_id = o.call_id))
             ORDER BY o.next_at, o.rowid LIMIT ?3",
        )?;
        let jobs = stmt
            .query_map(params![now, i64::from(grace_secs), limit], |r| {
                Ok(SyncJob {
                    org: OrgId::from_bytes(bytes16(r.get(0)?)?),
                    call: CallId::from_bytes(bytes16(r.get(1)?)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(jobs)
    }

    fn begin_sync(&self, job: SyncJob, keys: &OrgKeyring) -> Result<Option<SyncMaterial>, Error> {
        check_keys(keys, job.org)?;
        let now = self.now();
        self.write(|tx| {
            let row: Option<(u32, bool)> = tx
                .prepare_cached(
                    "UPDATE sync_outbox SET state = 'writing', attempts = attempts + 1,
                            updated_at = ?3
                     WHERE call_id = ?1 AND org_id = ?2 AND state = 'pending'
                     RETURNING attempts, in_doubt",
                )?
                .query_row(params![job.call.as_bytes(), job.org.as_bytes(), now], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            row.map(|(attempt, in_doubt)| material(tx, job, keys, attempt, in_doubt))
                .transpose()
        })
    }

    fn save_summary(
        &self,
        org: OrgId,
        call: CallId,
        summary: &Pii<String>,
        keys: &OrgKeyring,
    ) -> Result<(), Error> {
        check_keys(keys, org)?;
        let sealed = SUMMARY.seal_text(keys, org, call.as_bytes(), summary)?;
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE sync_outbox SET summary_sealed = ?3
                 WHERE call_id = ?1 AND org_id = ?2 AND state = 'writing'",
            )?
            .execute(params![call.as_bytes(), org.as_bytes(), sealed])?;
            persist_seal_counts(tx, keys)
        })
    }

    fn finish_sync(
        &self,
        org: OrgId,
        call: CallId,
        finish: &SyncFinish,
        masked: Option<&str>,
        agent: Option<UserId>,
    ) -> Result<SyncPurge, Error> {
        let now = self.now();
        let (state, activity) = match finish {
            SyncFinish::Written { activity_id } => (SyncState::Done, Some(activity_id.as_str())),
            SyncFinish::Skipped => (SyncState::Skipped, None),
        };
        let purge = self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE sync_outbox SET state = ?3, activity_id = ?4, synced_at = ?5,
                            reason = NULL, in_doubt = 0, updated_at = ?5
                     WHERE call_id = ?1 AND org_id = ?2 AND state = 'writing'",
                )?
                .execute(params![
                    call.as_bytes(),
                    org.as_bytes(),
                    state.as_str(),
                    activity,
                    now
                ])?;
            crate::rows::require_changed(changed, "sync in flight")?;
            // One statement: the right-hand sides read the row as it was, so the mask goes only
            // where a number was held.
            let had_number: bool = tx
                .prepare_cached(
                    "UPDATE calls SET number_sealed = NULL, number_index = NULL,
                            number_masked = CASE WHEN number_sealed IS NOT NULL THEN ?2
                                                 ELSE number_masked END,
                            synced_at = CASE WHEN ?3 THEN ?4 END, purged_at = ?4,
                            agent_id = coalesce(?5, agent_id)
                     WHERE id = ?1
                     RETURNING number_masked IS NOT NULL AND ?2 IS NOT NULL",
                )?
                .query_row(
                    params![
                        call.as_bytes(),
                        masked,
                        state == SyncState::Done,
                        now,
                        agent.as_ref().map(UserId::as_bytes)
                    ],
                    |r| r.get(0),
                )?;
            let mut purge = delete_call_pii(tx, call)?;
            purge.number = had_number;
            Ok(purge)
        })?;
        self.checkpoint_wal()?;
        Ok(purge)
    }

    fn retry_sync_at(
        &self,
        org: OrgId,
        call: CallId,
        next_at: i64,
        reason: &str,
    ) -> Result<(), Error> {
        let now = self.now();
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE sync_outbox SET state = 'pending', next_at = ?3, reason = ?4,
                        updated_at = ?5
                 WHERE call_id = ?1 AND org_id = ?2 AND state = 'writing'",
            )?
            .execute(params![
                call.as_bytes(),
                org.as_bytes(),
                next_at,
                reason,
                now
            ])?;
            Ok(())
        })
    }

    fn park_sync(
        &self,
        org: OrgId,
        call: CallId,
        state: SyncState,
        reason: &str,
    ) -> Result<(), Error> {
        if !state.needs_admin() {
            return Err(Error::Conflict("only held or dead"));
        }
        let now = self.now();
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE sync_outbox SET state = ?3, reason = ?4, updated_at = ?5
                 WHERE call_id = ?1 AND org_id = ?2 AND state = 'writing'",
            )?
            .execute(params![
                call.as_bytes(),
                org.as_bytes(),
                state.as_str(),
                reason,
                now
            ])?;
            Ok(())
        })
    }

    fn list_syncs(
        &self,
        org: Option<OrgId>,
        states: &[SyncState],
        limit: u32,
    ) -> Result<Vec<SyncRow>, Error> {
        let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        let names = serde_json::to_string(&names).map_err(|_| conversion("sync states"))?;
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT o.org_id, o.call_id, o.state, o.attempts, o.reason, o.next_at, c.started_at,
                    o.created_at, o.updated_at, c.number_masked, c.kind
             FROM sync_outbox o JOIN calls c ON c.id = o.call_id
             WHERE (?1 IS NULL OR o.org_id = ?1)
               AND o.state IN (SELECT value FROM json_each(?2))
             ORDER BY o.created_at, o.rowid LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(
                params![org.as_ref().map(OrgId::as_bytes), names, limit],
                |r| {
                    Ok(SyncRow {
                        org: OrgId::from_bytes(bytes16(r.get(0)?)?),
                        call: CallId::from_bytes(bytes16(r.get(1)?)?),
                        state: state_from(&r.get::<_, String>(2)?)?,
                        attempts: r.get(3)?,
                        reason: r.get(4)?,
                        next_at: r.get(5)?,
                        started_at: r.get(6)?,
                        created_at: r.get(7)?,
                        updated_at: r.get(8)?,
                        number_masked: r.get(9)?,
                        kind: CallKind::from_name(&r.get::<_, String>(10)?)?,
                    })
                },
            )?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn retry_sync_now(&self, org: OrgId, call: CallId, audit: &AuditEntry) -> Result<(), Error> {
        let now = self.now();
        self.audited(audit, |tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE sync_outbox SET state = 'pending', next_at = ?3, in_doubt = 0,
                            reason = NULL, updated_at = ?3
                     WHERE call_id = ?1 AND org_id = ?2 AND state IN ('held', 'dead')",
                )?
                .execute(params![call.as_bytes(), org.as_bytes(), now])?;
            crate::rows::require_changed(changed, "held or dead sync")
        })
    }

    fn retention(&self, org: Option<OrgId>) -> Result<Vec<Retained>, Error> {
        let conn = self.read();
        let org = org.as_ref().map(OrgId::as_bytes);
        let mut out = Vec::with_capacity(RETAINED.len());
        for (kind, sources) in RETAINED {
            let mut retained = Retained {
                kind,
                records: 0,
                oldest_at: None,
            };
            for source in sources.iter() {
                let sql = format!(
                    "SELECT count({}), min({}) FROM {} WHERE ({}) AND (?1 IS NULL OR {} = ?1)",
                    source.count, source.time, source.from, source.held, source.org
                );
                let (n, oldest): (i64, Option<i64>) = conn
                    .prepare_cached(&sql)?
                    .query_row([org], |r| Ok((r.get(0)?, r.get(1)?)))?;
                retained.records += u64::try_from(n).unwrap_or(0);
                retained.oldest_at = match (retained.oldest_at, oldest) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            out.push(retained);
        }
        Ok(out)
    }
}
