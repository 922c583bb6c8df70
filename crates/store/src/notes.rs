//! What the agent adds to a call for its AMS note: notes and the picked contact.
//!
//! Why in the store with a check: only a user the call popped for may add to it, and that rule
//! must hold whichever way the note arrives (the stream's `note`/`pick` messages or the HTTP
//! routes), so it is checked against `pops` inside the writing transaction. The texts and the
//! picked record id are sealed with the org's data key, bound to their row, and audited without
//! their content. They wait for the call's sync; hygiene deletes them at the PII cap whatever
//! happened (`CallStore::purge_call_pii`).

use ringside_core::{CallId, NoteId, OrgId, Pii, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::audit::AuditEntry;
use crate::rows::bytes16;
use crate::sealed::{SealedColumn, check_keys, persist_seal_counts};
use crate::{Error, Store};

/// A note's text, sealed with the org's data key.
pub(crate) const TEXT: SealedColumn = SealedColumn::new("call_notes", "text");

/// The picked record's AMS id, sealed (it ties a call to a client).
const CONTACT: SealedColumn = SealedColumn::new("call_picks", "contact");

/// The most characters of notes one call keeps, all notes together.
pub const MAX_NOTES_CHARS: usize = 20_000;

/// Why a note or pick was refused; nothing is stored then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteRefusal {
    /// The call did not pop for this user (another agent's call, another org's, or none).
    NotRouted,
    /// Empty, or the call's notes would pass [`MAX_NOTES_CHARS`].
    TooLong,
    /// The call's note is already in the AMS (or its data was purged): nothing more goes in.
    Synced,
}

/// The agent's additions to a call, for its note.
#[derive(Debug, Default)]
pub struct CallAdditions {
    /// The notes, oldest first.
    pub notes: Vec<Pii<String>>,
    /// The picked record's AMS id, if one was picked.
    pub pick: Option<Pii<String>>,
}

/// Notes and picks.
pub trait NoteStore {
    /// Adds `text` as `user`'s note on `call` of `org`, with `audit`; `Ok(Err(..))` when refused
    /// (nothing stored).
    fn add_note(
        &self,
        org: OrgId,
        call: CallId,
        user: UserId,
        text: &Pii<String>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<Result<NoteId, NoteRefusal>, Error>;

    /// Records `contact` (an AMS record id) as the record `user` picked for `call`, replacing an
    /// earlier pick, with `audit`; `Ok(Err(..))` when refused (nothing stored).
    fn pick_contact(
        &self,
        org: OrgId,
        call: CallId,
        user: UserId,
        contact: &Pii<String>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<Result<(), NoteRefusal>, Error>;

    /// Everything agents added to `call` of `org`, opened.
    fn call_additions(
        &self,
        org: OrgId,
        call: CallId,
        keys: &OrgKeyring,
    ) -> Result<CallAdditions, Error>;
}

/// Whether `call` of `org` popped for `user`.
fn routed(tx: &Transaction<'_>, org: OrgId, call: CallId, user: UserId) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM pops WHERE call_id = ?1 AND user_id = ?2 AND org_id = ?3")?
        .query_row(
            params![call.as_bytes(), user.as_bytes(), org.as_bytes()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The characters of `call`'s notes so far.
fn chars_so_far(tx: &Transaction<'_>, call: CallId) -> Result<usize, Error> {
    let chars: i64 = tx
        .prepare_cached("SELECT coalesce(sum(chars), 0) FROM call_notes WHERE call_id = ?1")?
        .query_row([call.as_bytes()], |r| r.get(0))?;
    Ok(usize::try_from(chars).unwrap_or(usize::MAX))
}

impl NoteStore for Store {
    fn add_note(
        &self,
        org: OrgId,
        call: CallId,
        user: UserId,
        text: &Pii<String>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<Result<NoteId, NoteRefusal>, Error> {
        check_keys(keys, org)?;
        let chars = text.expose().chars().count();
        if text.expose().trim().is_empty() || chars > MAX_NOTES_CHARS {
            return Ok(Err(NoteRefusal::TooLong));
        }
        let id = NoteId::random();
        let sealed = TEXT.seal_text(keys, org, id.as_bytes(), text)?;
        let now = self.now();
        self.audited(audit, |tx| {
            if !routed(tx, org, call, user)? {
                return Err(Error::NotFound("call"));
            }
            if crate::sync::sync_over(tx, call)? {
                return Err(Error::Conflict("call synced"));
            }
            if chars_so_far(tx, call)?.saturating_add(chars) > MAX_NOTES_CHARS {
                return Err(Error::Conflict("notes too long"));
            }
            tx.prepare_cached(
                "INSERT INTO call_notes (id, org_id, call_id, user_id, text_sealed, chars,
                                         created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                id.as_bytes(),
                org.as_bytes(),
                call.as_bytes(),
                user.as_bytes(),
                sealed,
                i64::try_from(chars).unwrap_or(i64::MAX),
                now
            ])?;
            persist_seal_counts(tx, keys)
        })
        .map(|()| Ok(id))
        .or_else(refusal)
    }

    fn pick_contact(
        &self,
        org: OrgId,
        call: CallId,
        user: UserId,
        contact: &Pii<String>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<Result<(), NoteRefusal>, Error> {
        check_keys(keys, org)?;
        if contact.expose().trim().is_empty() || contact.expose().len() > 256 {
            return Ok(Err(NoteRefusal::TooLong));
        }
        let sealed = CONTACT.seal_text(keys, org, call.as_bytes(), contact)?;
        let now = self.now();
        self.audited(audit, |tx| {
            if !routed(tx, org, call, user)? {
                return Err(Error::NotFound("call"));
            }
            if crate::sync::sync_over(tx, call)? {
                return Err(Error::Conflict("call synced"));
            }
            crate::sync::wake_held(tx, call, now)?;
            tx.prepare_cached(
                "INSERT INTO call_picks (call_id, org_id, user_id, contact_sealed, picked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (call_id) DO UPDATE SET
                     user_id = excluded.user_id, contact_sealed = excluded.contact_sealed,
                     picked_at = excluded.picked_at",
            )?
            .execute(params![
                call.as_bytes(),
                org.as_bytes(),
                user.as_bytes(),
                sealed,
                now
            ])?;
            persist_seal_counts(tx, keys)
        })
        .map(Ok)
        .or_else(refusal)
    }

    fn call_additions(
        &self,
        org: OrgId,
        call: CallId,
        keys: &OrgKeyring,
    ) -> Result<CallAdditions, Error> {
        check_keys(keys, org)?;
        let (notes, pick) = read_additions(&self.read(), org, call, keys)?;
        Ok(CallAdditions {
            notes: notes.into_iter().map(|(_, text)| text).collect(),
            pick: pick.map(|(_, contact)| contact),
        })
    }
}

/// Notes with their authors, and the pick with whoever made it.
type Additions = (Vec<(UserId, Pii<String>)>, Option<(UserId, Pii<String>)>);

/// `call`'s notes (oldest first) and pick, opened, with who added them.
pub(crate) fn read_additions(
    conn: &Connection,
    org: OrgId,
    call: CallId,
    keys: &OrgKeyring,
) -> Result<Additions, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, user_id, text_sealed FROM call_notes WHERE call_id = ?1 AND org_id = ?2
         ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map(params![call.as_bytes(), org.as_bytes()], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            UserId::from_bytes(bytes16(r.get(1)?)?),
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    let mut notes = Vec::new();
    for row in rows {
        let (id, user, sealed) = row?;
        notes.push((user, TEXT.open_text(keys, org, &id, &sealed)?));
    }
    let pick: Option<(UserId, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT user_id, contact_sealed FROM call_picks WHERE call_id = ?1 AND org_id = ?2",
        )?
        .query_row(params![call.as_bytes(), org.as_bytes()], |r| {
            Ok((UserId::from_bytes(bytes16(r.get(0)?)?), r.get(1)?))
        })
        .optional()?;
    let pick = pick
        .map(|(user, sealed)| {
            CONTACT
                .open_text(keys, org, call.as_bytes(), &sealed)
                .map(|c| (user, c))
        })
        .transpose()?;
    Ok((notes, pick))
}

/// The refusals the writing transaction signals (it rolls back: nothing stored).
fn refusal<T>(err: Error) -> Result<Result<T, NoteRefusal>, Error> {
    match err {
        Error::NotFound("call") => Ok(Err(NoteRefusal::NotRouted)),
        Error::Conflict("notes too long") => Ok(Err(NoteRefusal::TooLong)),
        Error::Conflict("call synced") => Ok(Err(NoteRefusal::Synced)),
        other => Err(other),
    }
}
