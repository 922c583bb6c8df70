//! Ending an account (docs/lifecycle.md, "Ending an account"): an org is terminated — at once
//! every session ends and the org is read-only, its webhooks refused, its sync paused — and 30
//! days later, unless it was restored, shredded: its data keys are destroyed first (what any
//! copy of the file or a backup still holds can no longer be opened) and then every row of it is
//! deleted in cascade, leaving one audit entry with counts.
//!
//! Why a grace period and not an immediate delete: an owner's mistake, or a stolen owner session
//! with a second factor, must not be able to erase an agency in one request. The grace is the
//! operator's window to `org restore`.

use ringside_core::{OrgId, UserId};
use rusqlite::params;

use crate::audit::{AuditEntry, append};
use crate::rows::bytes16;
use crate::sessions::{RevokeReason, revoke_user_sessions_in};
use crate::{Error, Store};

/// How long a terminated org stays, read-only, before it is shredded.
pub const TERMINATION_GRACE_SECS: i64 = 30 * 24 * 3600;

/// What terminating an org did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terminated {
    /// The users whose sessions ended (their sockets are to be closed).
    pub users: Vec<UserId>,
    /// How many sessions ended.
    pub sessions: u64,
}

/// What shredding one org removed (counts only: this is what its audit entry says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shredded {
    /// The org.
    pub org: OrgId,
    /// Its data-key generations destroyed.
    pub keys: u64,
    /// Its users deleted.
    pub users: u64,
    /// Its calls and texts deleted.
    pub calls: u64,
}

/// Terminating, restoring and shredding organisations.
pub trait TerminationStore {
    /// Terminates `org` now: read-only from this commit on, every session of its users ended,
    /// `audit` recorded in the same transaction. [`Error::Conflict`] when it is already
    /// terminated, [`Error::NotFound`] when there is no such org (nothing changes).
    fn terminate_org(&self, org: OrgId, audit: &AuditEntry) -> Result<Terminated, Error>;

    /// Undoes a termination still in its grace period (users sign in again).
    /// [`Error::Conflict`] when `org` is not terminated.
    fn restore_org(&self, org: OrgId, audit: &AuditEntry) -> Result<(), Error>;

    /// Shreds every org terminated more than [`TERMINATION_GRACE_SECS`] ago, one transaction
    /// each: its wrapped data keys deleted, then its row and, in cascade, everything of it; an
    /// `org.shred` entry (by `actor`, counts only) recorded with it. Then the WAL is
    /// checkpointed.
    fn shred_terminated(&self, audit: &AuditEntry) -> Result<Vec<Shredded>, Error>;
}

impl TerminationStore for Store {
    fn terminate_org(&self, org: OrgId, audit: &AuditEntry) -> Result<Terminated, Error> {
        let now = self.now();
        self.audited(audit, |tx| {
            let state: Option<Option<i64>> = rusqlite::OptionalExtension::optional(
                tx.prepare_cached("SELECT terminated_at FROM orgs WHERE id = ?1")?
                    .query_row([org.as_bytes()], |r| r.get(0)),
            )?;
            match state {
                None => return Err(Error::NotFound("organisation")),
                Some(Some(_)) => return Err(Error::Conflict("already terminated")),
                Some(None) => {}
            }
            tx.prepare_cached("UPDATE orgs SET terminated_at = ?2 WHERE id = ?1")?
                .execute(params![org.as_bytes(), now])?;
            let users: Vec<UserId> = tx
                .prepare_cached("SELECT id FROM users WHERE org_id = ?1 ORDER BY rowid")?
                .query_map([org.as_bytes()], |r| {
                    Ok(UserId::from_bytes(bytes16(r.get(0)?)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut out = Terminated::default();
            for user in users {
                let ended = revoke_user_sessions_in(
                    tx,
                    org,
                    user,
                    RevokeReason::RevokedByAdmin,
                    now,
                    None,
                )?;
                out.sessions += u64::try_from(ended.len()).unwrap_or(u64::MAX);
                out.users.push(user);
            }
            Ok(out)
        })
    }

    fn restore_org(&self, org: OrgId, audit: &AuditEntry) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE orgs SET terminated_at = NULL
                     WHERE id = ?1 AND terminated_at IS NOT NULL",
                )?
                .execute([org.as_bytes()])?;
            if changed == 0 {
                return Err(Error::Conflict("not terminated"));
            }
            Ok(())
        })
    }

    fn shred_terminated(&self, audit: &AuditEntry) -> Result<Vec<Shredded>, Error> {
        let before = self.now().saturating_sub(TERMINATION_GRACE_SECS);
        let due: Vec<OrgId> = self
            .read()
            .prepare_cached(
                "SELECT id FROM orgs WHERE terminated_at IS NOT NULL AND terminated_at < ?1",
            )?
            .query_map([before], |r| Ok(OrgId::from_bytes(bytes16(r.get(0)?)?)))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(due.len());
        for org in due {
            let shredded = self.write(|tx| {
                let id = org.as_bytes();
                let count = |sql: &str| -> Result<u64, Error> {
                    let n: i64 = tx.prepare_cached(sql)?.query_row([id], |r| r.get(0))?;
                    Ok(n.unsigned_abs())
                };
                let users = count("SELECT count(*) FROM users WHERE org_id = ?1")?;
                let calls = count("SELECT count(*) FROM calls WHERE org_id = ?1")?;
                // The keys first: from here on nothing sealed for this org opens, wherever a
                // copy of it is.
                let keys = tx
                    .prepare_cached("DELETE FROM org_keys WHERE org_id = ?1")?
                    .execute([id])?;
                tx.prepare_cached("DELETE FROM orgs WHERE id = ?1")?
                    .execute([id])?;
                let shredded = Shredded {
                    org,
                    keys: u64::try_from(keys).unwrap_or(u64::MAX),
                    users,
                    calls,
                };
                let entry = audit
                    .clone()
                    .in_org(org)
                    .resource(org)
                    .detail("keys", shredded.keys)
                    .detail("users", shredded.users)
                    .detail("calls", shredded.calls);
                append(tx, &entry, self.now_ms())?;
                Ok(shredded)
            })?;
            out.push(shredded);
        }
        if !out.is_empty() {
            self.checkpoint_wal()?;
        }
        Ok(out)
    }
}
