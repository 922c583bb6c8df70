//! An agent's own call history (`GET /v1/me/calls`): the calls and texts that rang for them or
//! that they handled, newest first, with their sync's state — the number in full while the call's
//! personal data is held (it is theirs to call back), masked once it is purged. And their own
//! notes (`GET /v1/me/notes`), which exist here only until the call's note is in the AMS (the
//! sync deletes them then, hygiene at the PII cap): what they wrote that is not there yet.

use ringside_core::{CallId, NoteId, OrgId, Pii, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::params;

use crate::calls::NUMBER;
use crate::notes::TEXT;
use crate::rows::bytes16;
use crate::sealed::check_keys;
use crate::sync::{CallKind, SyncState};
use crate::{Error, Store};

/// One call of the history, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCall {
    /// The call.
    pub call: CallId,
    /// A call or a text.
    pub kind: CallKind,
    /// `inbound`, `outbound`, `unknown`.
    pub direction: String,
    /// Its state's name.
    pub state: String,
    /// Whether anyone answered.
    pub answered: bool,
    /// The number in full (E.164) while held, else the masked one.
    pub number: Option<Pii<String>>,
    /// Its sync's state, once it has one.
    pub sync: Option<SyncState>,
    /// When it started (unix seconds).
    pub started_at: i64,
}

/// One of a user's own notes still held, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNote {
    /// The note.
    pub note: NoteId,
    /// The call it is on.
    pub call: CallId,
    /// What they wrote.
    pub text: Pii<String>,
    /// The call's number in full (E.164), absent when withheld.
    pub number: Option<Pii<String>>,
    /// The call's sync's state, once it has one (absent while the call is live).
    pub sync: Option<SyncState>,
    /// When it was written (unix seconds).
    pub created_at: i64,
}

/// One agent's calls since a moment, counted from the call rows that outlive the purge (the
/// anonymized metrics: states, times, the agent), never from personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentTally {
    /// The agent.
    pub user: UserId,
    /// Calls they answered.
    pub answered: u32,
    /// Calls that were theirs and ended unanswered.
    pub missed: u32,
    /// Their calls whose note landed in the AMS.
    pub notes_in_ams: u32,
    /// The summed length (first ring to hang-up, seconds) of their answered, ended calls.
    pub answered_secs: i64,
    /// How many calls that sum counts.
    pub timed: u32,
}

impl AgentTally {
    /// The tally of an agent with no call in the range.
    #[must_use]
    pub fn none(user: UserId) -> Self {
        Self {
            user,
            answered: 0,
            missed: 0,
            notes_in_ams: 0,
            answered_secs: 0,
            timed: 0,
        }
    }
}

/// The calls of one user, and the team's tallies.
pub trait HistoryStore {
    /// Up to `limit` calls of `org` that rang for `user` (a pop) or that `user` handled (notes,
    /// pick, or the one agent it rang for), newest first.
    fn user_calls(
        &self,
        org: OrgId,
        user: UserId,
        keys: &OrgKeyring,
        limit: u32,
    ) -> Result<Vec<UserCall>, Error>;

    /// Up to `limit` of `user`'s notes on calls of `org` still held (not yet in the AMS, not
    /// purged), newest first.
    fn user_notes(
        &self,
        org: OrgId,
        user: UserId,
        keys: &OrgKeyring,
        limit: u32,
    ) -> Result<Vec<UserNote>, Error>;

    /// Each agent's tally of `org`'s calls (not texts) started at or after `since` (unix
    /// seconds): only agents with a call in the range appear.
    fn agent_tallies(&self, org: OrgId, since: i64) -> Result<Vec<AgentTally>, Error>;
}

impl HistoryStore for Store {
    fn agent_tallies(&self, org: OrgId, since: i64) -> Result<Vec<AgentTally>, Error> {
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT agent_id,
                    sum(answered),
                    sum(answered = 0 AND state IN ('ended', 'missed', 'voicemail')),
                    sum(synced_at IS NOT NULL),
                    total(CASE WHEN answered = 1 AND ended_at IS NOT NULL
                               THEN ended_at - started_at END),
                    sum(answered = 1 AND ended_at IS NOT NULL)
             FROM calls
             WHERE org_id = ?1 AND kind = 'call' AND started_at >= ?2 AND agent_id IS NOT NULL
             GROUP BY agent_id",
        )?;
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        stmt.query_map(params![org.as_bytes(), since], |r| {
            Ok(AgentTally {
                user: UserId::from_bytes(bytes16(r.get(0)?)?),
                answered: count(r.get(1)?),
                missed: count(r.get(2)?),
                notes_in_ams: count(r.get(3)?),
                // `total` is a float sum of whole seconds.
                #[allow(clippy::cast_possible_truncation)]
                answered_secs: r.get::<_, f64>(4)? as i64,
                timed: count(r.get(5)?),
            })
        })?
        .collect::<Result<_, _>>()
        .map_err(Error::from)
    }

    fn user_calls(
        &self,
        org: OrgId,
        user: UserId,
        keys: &OrgKeyring,
        limit: u32,
    ) -> Result<Vec<UserCall>, Error> {
        check_keys(keys, org)?;
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.kind, c.direction, c.state, c.answered, c.number_sealed,
                    c.number_masked, o.state, c.started_at
             FROM calls c LEFT JOIN sync_outbox o ON o.call_id = c.id
             WHERE c.org_id = ?1
               AND (c.agent_id = ?2
                    OR EXISTS (SELECT 1 FROM pops p WHERE p.call_id = c.id AND p.user_id = ?2))
             ORDER BY c.started_at DESC, c.rowid DESC LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![org.as_bytes(), user.as_bytes(), limit], |r| {
                Ok((
                    CallId::from_bytes(bytes16(r.get(0)?)?),
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, Option<Vec<u8>>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, i64>(8)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(
                |(call, kind, direction, state, answered, sealed, masked, sync, started_at)| {
                    let number = match sealed {
                        Some(sealed) => {
                            Some(NUMBER.open_text(keys, org, call.as_bytes(), &sealed)?)
                        }
                        None => masked.map(Pii::new),
                    };
                    Ok(UserCall {
                        call,
                        kind: if kind == "sms" {
                            CallKind::Sms
                        } else {
                            CallKind::Call
                        },
                        direction,
                        state,
                        answered,
                        number,
                        sync: sync.as_deref().and_then(SyncState::from_name),
                        started_at,
                    })
                },
            )
            .collect()
    }

    fn user_notes(
        &self,
        org: OrgId,
        user: UserId,
        keys: &OrgKeyring,
        limit: u32,
    ) -> Result<Vec<UserNote>, Error> {
        check_keys(keys, org)?;
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT n.id, n.call_id, n.text_sealed, c.number_sealed, o.state, n.created_at
             FROM call_notes n
             JOIN calls c ON c.id = n.call_id
             LEFT JOIN sync_outbox o ON o.call_id = n.call_id
             WHERE n.org_id = ?1 AND n.user_id = ?2
             ORDER BY n.created_at DESC, n.rowid DESC LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![org.as_bytes(), user.as_bytes(), limit], |r| {
                let id: Vec<u8> = r.get(0)?;
                Ok((
                    NoteId::from_bytes(bytes16(id.clone())?),
                    id,
                    CallId::from_bytes(bytes16(r.get(1)?)?),
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(note, id, call, text, number, sync, created_at)| {
                let number = number
                    .map(|sealed| NUMBER.open_text(keys, org, call.as_bytes(), &sealed))
                    .transpose()?;
                Ok(UserNote {
                    note,
                    call,
                    text: TEXT.open_text(keys, org, &id, &text)?,
                    number,
                    sync: sync.as_deref().and_then(SyncState::from_name),
                    created_at,
                })
            })
            .collect()
    }
}
