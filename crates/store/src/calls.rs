//! Calls, their legs and the pops they make, persisted.
//!
//! The rules — a leg only moves to a later state, a call is over only when every leg it has is,
//! a final state is never left — are `ringside_core::calls`'s, pure and unit-tested there; this
//! module stores their results. Why in one transaction: providers retry, duplicate and reorder
//! events, and a call can have several legs (a transfer, a ring group). The call's row, its legs,
//! the pops it makes and the stream events they produce must change together — with the inbox row
//! the event came from deleted in the same commit — or a crash would either lose a pop or make a
//! second one.

use ringside_core::calls::{advances, call_state};
use ringside_core::wire::{CallState, Direction, MatchState};
use ringside_core::{CallId, IntegrationId, OrgId, PhoneNumber, Pii, PopId, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::numbers::{NumberIndex, opted_out};
use crate::rows::bytes16;
use crate::sealed::{SealedColumn, check_keys};
use crate::stream::{self, Event, PopMessage};
use crate::{Error, Store};

/// The client's number on the call row: sealed, bound to the call.
pub(crate) const NUMBER: SealedColumn = SealedColumn::new("calls", "number");

/// One normalized call event to apply, with the users routing picked for it.
#[derive(Debug)]
pub struct CallUpdate<'a> {
    /// The org the integration belongs to.
    pub org: OrgId,
    /// The integration the event came through.
    pub integration: IntegrationId,
    /// The provider's id that follows the call across its legs (parent/master id, else the
    /// call id). Hashed before it is stored.
    pub call_key: &'a str,
    /// The provider's id of this leg. Hashed before it is stored.
    pub leg: &'a str,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The leg's new state.
    pub state: CallState,
    /// The client's number, when the provider sent a readable one.
    pub number: Option<&'a Pii<PhoneNumber>>,
    /// Its blind index ([`NumberIndexKey::index`](crate::NumberIndexKey::index)), with it.
    pub number_index: Option<NumberIndex>,
    /// The caller's name from caller id, when sent.
    pub caller_name: Option<&'a Pii<String>>,
    /// Who should see this call (routing's answer for this event).
    pub targets: &'a [UserId],
    /// The match state new pops start with (`pending` when an AMS lookup follows).
    pub match_state: MatchState,
}

/// What applying an event did.
#[derive(Debug)]
pub struct CallOutcome {
    /// The call.
    pub call: CallId,
    /// Its state afterwards.
    pub state: CallState,
    /// Whether the event moved the call (false: a duplicate, late or out-of-order event).
    pub changed: bool,
    /// The pops this event made, and for whom.
    pub new_pops: Vec<(PopId, UserId)>,
    /// The stream events to push, in seq order per user.
    pub events: Vec<Event>,
}

/// What [`CallStore::purge_call_pii`] removed (counts only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallPurge {
    /// Calls whose client number was cleared.
    pub numbers: u64,
    /// Inbox events deleted.
    pub inbox: u64,
    /// Agents' notes and picks deleted.
    pub notes: u64,
    /// Transcripts and summaries deleted.
    pub transcripts: u64,
    /// Text message bodies deleted.
    pub texts: u64,
    /// Calls whose note never reached the AMS, now expired, per org (for the admins' notice).
    pub expired_syncs: Vec<(OrgId, u64)>,
}

/// SHA-256(integration id || provider id): how provider call and leg ids are stored.
pub(crate) fn key_hash(integration: IntegrationId, provider_id: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(integration.as_bytes());
    hash.update(provider_id.as_bytes());
    hash.finalize().into()
}

fn state_from(text: &str) -> rusqlite::Result<CallState> {
    CallState::from_name(text).ok_or_else(|| crate::rows::conversion("call state"))
}

/// Calls: the client's number while it is held, the call's state, and the purges.
pub trait CallStore {
    /// The client's number of `call`, while it is still held (until the AMS sync or the cap).
    fn call_number(
        &self,
        org: OrgId,
        call: CallId,
        keys: &OrgKeyring,
    ) -> Result<Option<Pii<String>>, Error>;

    /// The PII hard cap (docs/architecture.md#data-lifecycle): clears the client number of calls started more than
    /// `older_than` ago and deletes inbox events and agents' notes and picks made before then,
    /// synced or not.
    fn purge_call_pii(&self, older_than: std::time::Duration) -> Result<CallPurge, Error>;

    /// Deletes what a finished call no longer needs once it has been over for `older_than`: its
    /// legs and its pops' rows (the markers that stop a live call from popping a user twice).
    /// The call row stays, without personal data, for the metrics and so that a very late
    /// event still finds the call finished. Answers how many rows went.
    fn prune_finished_calls(&self, older_than: std::time::Duration) -> Result<u64, Error>;

    /// The state of `call` (of `org`).
    fn call_state(&self, org: OrgId, call: CallId) -> Result<Option<CallState>, Error>;
}

impl CallStore for Store {
    fn call_number(
        &self,
        org: OrgId,
        call: CallId,
        keys: &OrgKeyring,
    ) -> Result<Option<Pii<String>>, Error> {
        check_keys(keys, org)?;
        let sealed: Option<Option<Vec<u8>>> = self
            .conn()
            .query_row(
                "SELECT number_sealed FROM calls WHERE id = ?1 AND org_id = ?2",
                params![call.as_bytes(), org.as_bytes()],
                |r| r.get(0),
            )
            .optional()?;
        match sealed.flatten() {
            Some(sealed) => Ok(Some(NUMBER.open_text(
                keys,
                org,
                call.as_bytes(),
                &sealed,
            )?)),
            None => Ok(None),
        }
    }

    fn purge_call_pii(&self, older_than: std::time::Duration) -> Result<CallPurge, Error> {
        let age = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        let before = self.now().saturating_sub(age);
        self.write(|tx| {
            let numbers = tx
                .prepare_cached(
                    "UPDATE calls SET number_sealed = NULL, number_index = NULL, purged_at = ?2
                     WHERE number_sealed IS NOT NULL AND started_at < ?1",
                )?
                .execute(params![before, self.now()])?;
            let inbox = tx
                .prepare_cached("DELETE FROM inbox WHERE received_at < ?1")?
                .execute([before])?;
            let notes = tx
                .prepare_cached("DELETE FROM call_notes WHERE created_at < ?1")?
                .execute([before])?
                + tx.prepare_cached("DELETE FROM call_picks WHERE picked_at < ?1")?
                    .execute([before])?;
            let texts = tx
                .prepare_cached("DELETE FROM sms_bodies WHERE received_at < ?1")?
                .execute([before])?;
            let transcripts = tx
                .prepare_cached("DELETE FROM call_transcripts WHERE received_at < ?1")?
                .execute([before])?
                + tx.prepare_cached(
                    "UPDATE sync_outbox SET summary_sealed = NULL
                     WHERE summary_sealed IS NOT NULL AND created_at < ?1",
                )?
                .execute([before])?;
            let expired_syncs = tx
                .prepare_cached(
                    "UPDATE sync_outbox SET state = 'expired', reason = 'pii_cap', updated_at = ?2
                     WHERE created_at < ?1 AND state IN ('pending', 'writing', 'held', 'dead')
                     RETURNING org_id",
                )?
                .query_map(params![before, self.now()], |r| {
                    Ok(OrgId::from_bytes(bytes16(r.get(0)?)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut by_org: Vec<(OrgId, u64)> = Vec::new();
            for org in expired_syncs {
                match by_org.iter_mut().find(|(o, _)| *o == org) {
                    Some((_, n)) => *n += 1,
                    None => by_org.push((org, 1)),
                }
            }
            Ok(CallPurge {
                numbers: u64::try_from(numbers).unwrap_or(0),
                inbox: u64::try_from(inbox).unwrap_or(0),
                notes: u64::try_from(notes).unwrap_or(0),
                transcripts: u64::try_from(transcripts).unwrap_or(0),
                texts: u64::try_from(texts).unwrap_or(0),
                expired_syncs: by_org,
            })
        })
    }

    fn prune_finished_calls(&self, older_than: std::time::Duration) -> Result<u64, Error> {
        let age = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        let before = self.now().saturating_sub(age);
        self.write(|tx| {
            let legs = tx
                .prepare_cached(
                    "DELETE FROM call_legs WHERE call_id IN
                     (SELECT id FROM calls WHERE ended_at IS NOT NULL AND ended_at < ?1)",
                )?
                .execute([before])?;
            let pops = tx
                .prepare_cached(
                    "DELETE FROM pops WHERE expired_at IS NOT NULL AND call_id IN
                     (SELECT id FROM calls WHERE ended_at IS NOT NULL AND ended_at < ?1)",
                )?
                .execute([before])?;
            Ok(u64::try_from(legs + pops).unwrap_or(u64::MAX))
        })
    }

    fn call_state(&self, org: OrgId, call: CallId) -> Result<Option<CallState>, Error> {
        let state: Option<String> = self
            .conn()
            .query_row(
                "SELECT state FROM calls WHERE id = ?1 AND org_id = ?2",
                params![call.as_bytes(), org.as_bytes()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(state.map(|s| state_from(&s)).transpose()?)
    }
}

pub(crate) fn apply(
    tx: &Transaction<'_>,
    update: &CallUpdate<'_>,
    keys: &OrgKeyring,
    now: i64,
    pop_ttl: i64,
) -> Result<CallOutcome, Error> {
    let call_key = key_hash(update.integration, update.call_key);
    let existing = tx
        .prepare_cached(
            "SELECT id, state, answered FROM calls WHERE integration_id = ?1 AND call_key = ?2",
        )?
        .query_row(params![update.integration.as_bytes(), call_key], |r| {
            Ok((
                CallId::from_bytes(bytes16(r.get(0)?)?),
                state_from(&r.get::<_, String>(1)?)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .optional()?;
    let (call, before, was_answered) = match existing {
        Some(found) => {
            if let Some(number) = update.number {
                // The first events may not have carried it (a withheld leg, a provider that
                // sends it late): keep it once it comes, for the AMS sync.
                let sealed = NUMBER.seal(
                    keys,
                    update.org,
                    found.0.as_bytes(),
                    number.expose().e164().as_bytes(),
                )?;
                tx.prepare_cached(
                    "UPDATE calls SET number_sealed = ?2, number_index = ?3
                     WHERE id = ?1 AND number_sealed IS NULL AND purged_at IS NULL",
                )?
                .execute(params![
                    found.0.as_bytes(),
                    sealed,
                    update.number_index.map(|i| i.0)
                ])?;
            }
            found
        }
        None => {
            let call = CallId::random();
            let sealed = update
                .number
                .map(|n| {
                    NUMBER.seal(
                        keys,
                        update.org,
                        call.as_bytes(),
                        n.expose().e164().as_bytes(),
                    )
                })
                .transpose()?;
            tx.prepare_cached(
                "INSERT INTO calls (id, org_id, integration_id, call_key, direction, state,
                                    number_sealed, number_index, started_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            )?
            .execute(params![
                call.as_bytes(),
                update.org.as_bytes(),
                update.integration.as_bytes(),
                call_key,
                direction_name(update.direction),
                update.state.as_str(),
                sealed,
                update.number.and(update.number_index).map(|i| i.0),
                now
            ])?;
            (call, update.state, false)
        }
    };
    let fresh = existing.is_none();

    let leg_key = key_hash(update.integration, update.leg);
    let leg_before: Option<CallState> = tx
        .prepare_cached("SELECT state FROM call_legs WHERE call_id = ?1 AND leg_key = ?2")?
        .query_row(params![call.as_bytes(), leg_key], |r| {
            state_from(&r.get::<_, String>(0)?)
        })
        .optional()?;
    let leg_moves = leg_before.is_none_or(|s| advances(s, update.state));
    if leg_moves {
        tx.prepare_cached(
            "INSERT INTO call_legs (call_id, leg_key, state, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (call_id, leg_key) DO UPDATE SET state = ?3, updated_at = ?4",
        )?
        .execute(params![
            call.as_bytes(),
            leg_key,
            update.state.as_str(),
            now
        ])?;
    }
    let answered = was_answered || matches!(update.state, CallState::Answered);
    let after = if fresh {
        update.state
    } else if leg_moves && !before.is_final() {
        let legs = leg_states(tx, call)?;
        call_state(before, &legs, update.state, answered)
    } else {
        before
    };
    let changed = fresh || after != before;
    if changed || answered != was_answered {
        tx.prepare_cached(
            "UPDATE calls SET state = ?2, answered = ?3, updated_at = ?4,
                    ended_at = CASE WHEN ?5 THEN ?4 ELSE ended_at END
             WHERE id = ?1",
        )?
        .execute(params![
            call.as_bytes(),
            after.as_str(),
            answered,
            now,
            after.is_final()
        ])?;
    }

    if changed && after.is_final() {
        // The durable outbox: the call's sync is owed from the moment it is over.
        crate::sync::enqueue(tx, update.org, call, now)?;
    }

    let mut events = Vec::new();
    if changed && !fresh {
        for (pop, user) in live_pops(tx, call)? {
            events.push(stream::append_call_state(
                tx, keys, update.org, user, pop, call, after, now,
            )?);
        }
    }
    let mut new_pops = Vec::new();
    // A pop is made once per call and user, ever (the row outlives the pop's 5 minutes), and
    // only for a ringing leg — or for the first event seen of a call whose ring never came.
    // So a later answer or transfer that routes elsewhere does not pop anyone again.
    let pops_now =
        !after.is_final() && (update.state == CallState::Ringing || !has_pops(tx, call)?);
    if pops_now {
        let sms_opted_out =
            !update.targets.is_empty() && opted_out(tx, update.org, update.number_index.as_ref())?;
        for &user in update.targets {
            let pop = PopId::random();
            let made = tx
                .prepare_cached(
                    "INSERT INTO pops (id, org_id, user_id, call_id, created_at, expires_at)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6
                 WHERE NOT EXISTS (SELECT 1 FROM pops WHERE call_id = ?4 AND user_id = ?3)",
                )?
                .execute(params![
                    pop.as_bytes(),
                    update.org.as_bytes(),
                    user.as_bytes(),
                    call.as_bytes(),
                    now,
                    now + pop_ttl
                ])?;
            if made == 0 {
                continue;
            }
            let message = PopMessage {
                pop,
                call,
                direction: update.direction,
                number: update.number,
                caller_name: update.caller_name,
                state: after,
                match_state: update.match_state.clone(),
                sms_opted_out,
                created_at: now,
                expires_at: now + pop_ttl,
            };
            events.push(stream::append_pop(tx, keys, update.org, user, &message)?);
            new_pops.push((pop, user));
        }
    }
    Ok(CallOutcome {
        call,
        state: after,
        changed,
        new_pops,
        events,
    })
}

pub(crate) fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
        Direction::Unknown => "unknown",
    }
}

fn leg_states(tx: &Transaction<'_>, call: CallId) -> Result<Vec<CallState>, Error> {
    let mut stmt = tx.prepare_cached("SELECT state FROM call_legs WHERE call_id = ?1")?;
    let states = stmt
        .query_map([call.as_bytes()], |r| state_from(&r.get::<_, String>(0)?))?
        .collect::<Result<_, _>>()?;
    Ok(states)
}

/// Whether the call ever made a pop.
fn has_pops(tx: &Transaction<'_>, call: CallId) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pops WHERE call_id = ?1)")?
        .query_row([call.as_bytes()], |r| r.get(0))?)
}

/// The call's pops that are neither dismissed nor expired, with their users.
fn live_pops(tx: &Transaction<'_>, call: CallId) -> Result<Vec<(PopId, UserId)>, Error> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, user_id FROM pops
         WHERE call_id = ?1 AND dismissed_at IS NULL AND expired_at IS NULL ORDER BY rowid",
    )?;
    let pops = stmt
        .query_map([call.as_bytes()], |r| {
            Ok((
                PopId::from_bytes(bytes16(r.get(0)?)?),
                UserId::from_bytes(bytes16(r.get(1)?)?),
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(pops)
}
