//! Each user's stream of events: the per-user `seq`, the sealed copies kept for `resume`, and the
//! life of a pop — made, updated, dismissed, expired (docs/architecture.md#data-lifecycle: 5 minutes, then gone).
//!
//! Why events are stored before they are sent: delivery is at-least-once across reconnects and
//! relay restarts, so what a device missed must be replayable after a crash — and it holds phone
//! numbers and names, so each copy is sealed with the org's data key, bound to (user, seq). The
//! `seq` comes from `stream_cursors` in the same transaction as the event, so it never repeats
//! and never goes backwards. Events about a pop are deleted with it (ON DELETE CASCADE).

use std::collections::HashMap;
use std::sync::Arc;

use ringside_core::wire::{
    CallState, CallStateChange, Direction, MatchState, Notice, Pop, PopGone, PopUpdate,
    ServerMessage, Sms,
};
use ringside_core::{CallId, OrgId, PhoneNumber, Pii, PopId, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use crate::rows::bytes16;
use crate::sealed::{SealedColumn, check_keys, persist_seal_counts};
use crate::{Error, Store};

/// How long a pop lives (docs/architecture.md#data-lifecycle) unless the relay is configured
/// shorter ([`Store::set_pop_ttl`]), and how long the events saying a pop is gone are kept.
pub const POP_TTL_SECS: i64 = 5 * 60;

/// How long a `notice` waits for its user to connect (a day: an admin reads it next morning).
pub const NOTICE_TTL_SECS: i64 = 24 * 60 * 60;

/// The stored copy of an event, sealed and bound to (user, seq).
const MESSAGE: SealedColumn = SealedColumn::new("stream_events", "message");

/// An event for one user's devices, with its `seq` inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Whose.
    pub user: UserId,
    /// The message (its `seq` is the user's).
    pub message: ServerMessage,
}

/// What a new pop shows (the `seq` is added when it is queued).
#[derive(Debug)]
pub(crate) struct PopMessage<'a> {
    pub(crate) pop: PopId,
    pub(crate) call: CallId,
    pub(crate) direction: Direction,
    pub(crate) number: Option<&'a Pii<PhoneNumber>>,
    pub(crate) caller_name: Option<&'a Pii<String>>,
    pub(crate) state: CallState,
    pub(crate) match_state: MatchState,
    pub(crate) sms_opted_out: bool,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
}

/// A text message to show the users routing picked (see [`InboxStore::accept_sms_event`](crate::InboxStore::accept_sms_event)).
#[derive(Debug)]
pub struct NewSms<'a> {
    /// Received from the client or sent to them.
    pub direction: Direction,
    /// The client's number, when readable.
    pub number: Option<&'a Pii<PhoneNumber>>,
    /// Its blind index ([`NumberIndexKey::index`](crate::NumberIndexKey::index)), with it.
    pub number_index: Option<crate::NumberIndex>,
    /// The client's name from the provider.
    pub contact_name: Option<&'a Pii<String>>,
    /// The text.
    pub text: Option<&'a Pii<String>>,
}

/// What [`StreamStore::expire_stream`] removed.
#[derive(Debug, Default)]
pub struct Expired {
    /// `pop_expired` events to push.
    pub events: Vec<Event>,
    /// Other stream events past their time (counted, for the hygiene report).
    pub stale_events: u64,
    /// Orgs whose keys could not be opened: their pops wait for the next pass.
    pub orgs_skipped: u64,
}

fn row_id(user: UserId, seq: u64) -> [u8; 24] {
    let mut id = [0; 24];
    id[..16].copy_from_slice(user.as_bytes());
    id[16..].copy_from_slice(&seq.to_be_bytes());
    id
}

fn time_of(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn to_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Takes the user's next `seq`.
fn next_seq(tx: &Transaction<'_>, user: UserId) -> Result<u64, Error> {
    let seq: i64 = tx
        .prepare_cached(
            "INSERT INTO stream_cursors (user_id, last_seq) VALUES (?1, 1)
         ON CONFLICT (user_id) DO UPDATE SET last_seq = last_seq + 1
         RETURNING last_seq",
        )?
        .query_row([user.as_bytes()], |r| r.get(0))?;
    Ok(u64::try_from(seq).unwrap_or(0))
}

/// Gives `build` the user's next seq and stores the message it makes, sealed.
/// What a stream event is about, so it goes when that goes (ON DELETE CASCADE).
#[derive(Debug, Clone, Copy)]
enum About {
    /// A pop: its events go with it.
    Pop(PopId),
    /// A text message (its row on `calls`): its `sms` event goes with it.
    Text(CallId),
    /// Nothing that is deleted before the event expires (a notice).
    Nothing,
}

fn append(
    tx: &Transaction<'_>,
    keys: &OrgKeyring,
    org: OrgId,
    user: UserId,
    about: About,
    expires_at: i64,
    build: impl FnOnce(u64) -> ServerMessage,
) -> Result<Event, Error> {
    let seq = next_seq(tx, user)?;
    let message = build(seq);
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(&message).map_err(|_| crate::rows::conversion("stream message"))?,
    );
    let sealed = MESSAGE.seal(keys, org, &row_id(user, seq), &json)?;
    tx.prepare_cached(
        "INSERT INTO stream_events (user_id, seq, org_id, pop_id, call_id, message_sealed,
                                    expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        user.as_bytes(),
        to_i64(seq),
        org.as_bytes(),
        match about {
            About::Pop(pop) => Some(*pop.as_bytes()),
            _ => None,
        },
        match about {
            About::Text(call) => Some(*call.as_bytes()),
            _ => None,
        },
        sealed,
        expires_at
    ])?;
    Ok(Event { user, message })
}

pub(crate) fn append_pop(
    tx: &Transaction<'_>,
    keys: &OrgKeyring,
    org: OrgId,
    user: UserId,
    pop: &PopMessage<'_>,
) -> Result<Event, Error> {
    append(
        tx,
        keys,
        org,
        user,
        About::Pop(pop.pop),
        pop.expires_at,
        |seq| {
            ServerMessage::Pop(Pop {
                seq,
                pop_id: pop.pop,
                call_id: pop.call,
                direction: pop.direction,
                number: pop.number.map(|n| n.map(|n| n.e164().to_owned())),
                caller_name: pop.caller_name.cloned(),
                state: pop.state,
                match_state: pop.match_state.clone(),
                sms_opted_out: pop.sms_opted_out,
                created_at: time_of(pop.created_at),
                expires_at: time_of(pop.expires_at),
            })
        },
    )
}

pub(crate) fn append_sms(
    tx: &Transaction<'_>,
    keys: &OrgKeyring,
    org: OrgId,
    user: UserId,
    text: CallId,
    sms: &NewSms<'_>,
    now: i64,
) -> Result<Event, Error> {
    append(
        tx,
        keys,
        org,
        user,
        About::Text(text),
        now + POP_TTL_SECS,
        |seq| {
            ServerMessage::Sms(Sms {
                seq,
                direction: sms.direction,
                number: sms.number.map(|n| n.map(|n| n.e164().to_owned())),
                contact_name: sms.contact_name.cloned(),
                text: sms.text.cloned(),
                received_at: time_of(now),
            })
        },
    )
}

#[allow(clippy::too_many_arguments)] // one event's fields, all required
pub(crate) fn append_call_state(
    tx: &Transaction<'_>,
    keys: &OrgKeyring,
    org: OrgId,
    user: UserId,
    pop: PopId,
    call: CallId,
    state: CallState,
    now: i64,
) -> Result<Event, Error> {
    let expires_at = pop_expiry(tx, pop)?.unwrap_or(now + POP_TTL_SECS);
    append(tx, keys, org, user, About::Pop(pop), expires_at, |seq| {
        ServerMessage::CallState(CallStateChange {
            seq,
            call_id: call,
            state,
        })
    })
}

fn pop_expiry(tx: &Transaction<'_>, pop: PopId) -> Result<Option<i64>, Error> {
    Ok(tx
        .prepare_cached("SELECT expires_at FROM pops WHERE id = ?1")?
        .query_row([pop.as_bytes()], |r| r.get(0))
        .optional()?)
}

/// Each user's stream: replay, the last `seq`, pop matches, dismissals and expiry.
pub trait StreamStore {
    /// The highest `seq` given to `user` so far (0: none).
    fn stream_last_seq(&self, user: UserId) -> Result<u64, Error>;

    /// The user's events after `after_seq` that have not expired, oldest first (for `resume`).
    fn stream_replay(
        &self,
        org: OrgId,
        user: UserId,
        after_seq: u64,
        keys: &OrgKeyring,
    ) -> Result<Vec<ServerMessage>, Error>;

    /// Records the AMS lookup's answer for a pop and queues `pop_update`; `None` when the pop is
    /// gone (expired or dismissed) — nobody needs the answer then.
    fn update_pop_match(
        &self,
        org: OrgId,
        pop: PopId,
        match_state: &MatchState,
        keys: &OrgKeyring,
    ) -> Result<Option<Event>, Error>;

    /// The user dismissed a pop on one device: it is marked dismissed, its events stop being
    /// replayed, and `pop_dismissed` is queued for the user's other devices. `None` when it is
    /// not this user's live pop (already dismissed, expired, someone else's).
    fn dismiss_pop(
        &self,
        org: OrgId,
        user: UserId,
        pop: PopId,
        keys: &OrgKeyring,
    ) -> Result<Option<Event>, Error>;

    /// Queues a `notice` (`code`, `message`) for each of `users` of `org`, kept for
    /// [`NOTICE_TTL_SECS`] so someone who connects later still gets it; pushed as committed.
    fn push_notice(
        &self,
        org: OrgId,
        users: &[UserId],
        code: &str,
        message: &str,
        keys: &OrgKeyring,
    ) -> Result<Vec<Event>, Error>;

    /// Deletes every pop past its 5 minutes (with the events that carried it) and queues
    /// `pop_expired` for those that were not dismissed; deletes other stream events past their
    /// time. `keyring` gives an org's keys (the events are sealed with them). Every pass marks the
    /// pops it expires, so a pop is expired once; the events are pushed as they are committed.
    fn expire_stream(
        &self,
        keyring: &dyn Fn(OrgId) -> Result<Arc<OrgKeyring>, Error>,
    ) -> Result<Expired, Error>;
}

impl StreamStore for Store {
    fn stream_last_seq(&self, user: UserId) -> Result<u64, Error> {
        let seq: Option<i64> = self
            .read()
            .query_row(
                "SELECT last_seq FROM stream_cursors WHERE user_id = ?1",
                [user.as_bytes()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
    }

    fn stream_replay(
        &self,
        org: OrgId,
        user: UserId,
        after_seq: u64,
        keys: &OrgKeyring,
    ) -> Result<Vec<ServerMessage>, Error> {
        check_keys(keys, org)?;
        let conn = self.read();
        let mut stmt = conn.prepare(
            "SELECT seq, message_sealed FROM stream_events
             WHERE user_id = ?1 AND org_id = ?2 AND seq > ?3 AND expires_at > ?4
             ORDER BY seq",
        )?;
        let rows = stmt.query_map(
            params![
                user.as_bytes(),
                org.as_bytes(),
                to_i64(after_seq),
                self.now()
            ],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, sealed) = row?;
            let seq = u64::try_from(seq).unwrap_or(0);
            let json = MESSAGE.open(keys, org, &row_id(user, seq), &sealed)?;
            out.push(
                serde_json::from_slice(&json)
                    .map_err(|_| crate::rows::conversion("stream message"))?,
            );
        }
        Ok(out)
    }

    fn update_pop_match(
        &self,
        org: OrgId,
        pop: PopId,
        match_state: &MatchState,
        keys: &OrgKeyring,
    ) -> Result<Option<Event>, Error> {
        check_keys(keys, org)?;
        self.write_publishing(
            |tx| {
                let Some((user, expires_at)) = live_pop(tx, org, pop)? else {
                    return Ok(None);
                };
                let event = append(tx, keys, org, user, About::Pop(pop), expires_at, |seq| {
                    ServerMessage::PopUpdate(PopUpdate {
                        seq,
                        pop_id: pop,
                        match_state: match_state.clone(),
                    })
                })?;
                persist_seal_counts(tx, keys)?;
                Ok(Some(event))
            },
            Option::as_slice,
        )
    }

    fn push_notice(
        &self,
        org: OrgId,
        users: &[UserId],
        code: &str,
        message: &str,
        keys: &OrgKeyring,
    ) -> Result<Vec<Event>, Error> {
        check_keys(keys, org)?;
        let expires_at = self.now() + NOTICE_TTL_SECS;
        self.write_publishing(
            |tx| {
                let mut events = Vec::with_capacity(users.len());
                for &user in users {
                    events.push(append(
                        tx,
                        keys,
                        org,
                        user,
                        About::Nothing,
                        expires_at,
                        |seq| {
                            ServerMessage::Notice(Notice {
                                seq,
                                code: code.to_owned(),
                                message: message.to_owned(),
                            })
                        },
                    )?);
                }
                persist_seal_counts(tx, keys)?;
                Ok(events)
            },
            Vec::as_slice,
        )
    }

    fn dismiss_pop(
        &self,
        org: OrgId,
        user: UserId,
        pop: PopId,
        keys: &OrgKeyring,
    ) -> Result<Option<Event>, Error> {
        check_keys(keys, org)?;
        let now = self.now();
        self.write_publishing(
            |tx| {
                match live_pop(tx, org, pop)? {
                    Some((owner, _)) if owner == user => {}
                    _ => return Ok(None),
                }
                tx.prepare_cached("UPDATE pops SET dismissed_at = ?2 WHERE id = ?1")?
                    .execute(params![pop.as_bytes(), now])?;
                tx.prepare_cached("DELETE FROM stream_events WHERE pop_id = ?1")?
                    .execute([pop.as_bytes()])?;
                let event = append(
                    tx,
                    keys,
                    org,
                    user,
                    About::Nothing,
                    now + POP_TTL_SECS,
                    |seq| ServerMessage::PopDismissed(PopGone { seq, pop_id: pop }),
                )?;
                persist_seal_counts(tx, keys)?;
                Ok(Some(event))
            },
            Option::as_slice,
        )
    }

    fn expire_stream(
        &self,
        keyring: &dyn Fn(OrgId) -> Result<Arc<OrgKeyring>, Error>,
    ) -> Result<Expired, Error> {
        let now = self.now();
        let due = self.due_pops(now)?;
        let mut keys: HashMap<OrgId, Arc<OrgKeyring>> = HashMap::new();
        let mut skipped = 0;
        for (org, ..) in &due {
            if keys.contains_key(org) {
                continue;
            }
            // One org whose keys cannot be opened must not hold up everyone's expiry: its pops
            // wait for the next pass.
            match keyring(*org) {
                Ok(k) => {
                    keys.insert(*org, k);
                }
                Err(_) => skipped += 1,
            }
        }
        self.write_publishing(
            |tx| {
                let mut expired = Expired {
                    orgs_skipped: skipped,
                    ..Expired::default()
                };
                for (org, user, pop) in &due {
                    let Some(keys) = keys.get(org) else { continue };
                    let dismissed: Option<bool> = tx
                        .prepare_cached(
                            "UPDATE pops SET expired_at = ?2 WHERE id = ?1 AND expired_at IS NULL
                             RETURNING dismissed_at IS NOT NULL",
                        )?
                        .query_row(params![pop.as_bytes(), now], |r| r.get(0))
                        .optional()?;
                    tx.prepare_cached("DELETE FROM stream_events WHERE pop_id = ?1")?
                        .execute([pop.as_bytes()])?;
                    if dismissed != Some(false) {
                        continue;
                    }
                    let pop = *pop;
                    expired.events.push(append(
                        tx,
                        keys,
                        *org,
                        *user,
                        About::Nothing,
                        now + POP_TTL_SECS,
                        |seq| ServerMessage::PopExpired(PopGone { seq, pop_id: pop }),
                    )?);
                }
                let stale = tx
                    .prepare_cached("DELETE FROM stream_events WHERE expires_at <= ?1")?
                    .execute([now])?;
                expired.stale_events = u64::try_from(stale).unwrap_or(0);
                for keys in keys.values() {
                    persist_seal_counts(tx, keys)?;
                }
                Ok(expired)
            },
            |expired| &expired.events,
        )
    }
}

impl Store {
    fn due_pops(&self, now: i64) -> Result<Vec<(OrgId, UserId, PopId)>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT org_id, user_id, id FROM pops
             WHERE expired_at IS NULL AND expires_at <= ?1 ORDER BY expires_at, rowid",
        )?;
        let rows = stmt
            .query_map([now], |r| {
                Ok((
                    OrgId::from_bytes(bytes16(r.get(0)?)?),
                    UserId::from_bytes(bytes16(r.get(1)?)?),
                    PopId::from_bytes(bytes16(r.get(2)?)?),
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

/// The user and expiry of `org`'s pop, when it is live (not dismissed, not deleted).
fn live_pop(tx: &Transaction<'_>, org: OrgId, pop: PopId) -> Result<Option<(UserId, i64)>, Error> {
    Ok(tx
        .query_row(
            "SELECT user_id, expires_at FROM pops
             WHERE id = ?1 AND org_id = ?2 AND dismissed_at IS NULL AND expired_at IS NULL",
            params![pop.as_bytes(), org.as_bytes()],
            |r| Ok((UserId::from_bytes(bytes16(r.get(0)?)?), r.get(1)?)),
        )
        .optional()?)
}
