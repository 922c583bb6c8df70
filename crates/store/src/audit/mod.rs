//! The tamper-evident audit log (`docs/audit.md` is the full specification).
//!
//! **No audit, no change.** Every mutating repository method writes its entry with [`append`]
//! inside its own transaction, so the change and its record commit together or not at all — as
//! HashiCorp Vault refuses a request it cannot log. Events with no other change (a failed login, a
//! read of sensitive data, an export) go through [`Store::record_audit`].
//!
//! **Why a hash chain and signed checkpoints, not just triggers.** The table refuses `UPDATE` and
//! `DELETE` through triggers, but those only stop accidents and application bugs: anyone who can
//! write the file can drop them. Tamper *evidence* comes from two things an editor of the file
//! cannot fake:
//! - each entry's `hash` covers the previous entry's hash and every field of its own (canonical,
//!   length-prefixed encoding), so editing, deleting, inserting or reordering an entry breaks the
//!   chain at that entry number — unless the editor also recomputes every later hash, which needs
//!   no secret;
//! - so the chain's head is periodically **signed** (Ed25519, CloudTrail's digest idea) with an
//!   installation key that exists only wrapped by the master key. Recomputing the chain after an
//!   edit changes the hash at every later checkpoint, and without the master key nobody can sign
//!   the new one.
//!
//! **Retention** removes a prefix of the chain (entries past `retention.audit_days`) and leaves
//! a signed `prune` checkpoint of the last removed entry, so verification starts from there.
//!
//! What this cannot detect — an attacker with write access who truncates the newest entries and
//! every checkpoint after them, or who rolls the whole file back to an older copy — needs a copy
//! outside the machine: ship `audit export` and the `audit verify` summary elsewhere (ASVS
//! 16.4.3). `docs/audit.md` lists the guarantees and the limits.
//!
//! The files: `entry` (what an entry may say), `chain` (stored form, canonical encoding, head),
//! `checkpoint` (signing), `verify` and `violation` (the walk and what it reports), `prune`,
//! `query` and `export`. This file holds [`append`], which ties them together.

mod chain;
mod checkpoint;
mod entry;
mod export;
mod prune;
mod query;
mod verify;
mod violation;

use std::fmt;

use rusqlite::{Transaction, TransactionBehavior};
use time::OffsetDateTime;

use crate::{Error, Store};
use chain::{StoredEntry, head};
use entry::validate;

pub use chain::{ENTRY_DOMAIN, GENESIS_HASH};
pub use checkpoint::{CHECKPOINT_DOMAIN, CHECKPOINT_KEY_PURPOSE, Checkpoint, CheckpointKind};
pub use entry::{AuditContext, AuditDetails, AuditEntry};
pub use export::ExportReport;
pub use prune::PruneReport;
pub use query::{AuditFilter, AuditPage, MAX_PAGE_SIZE};
pub use verify::VerifyReport;
pub use violation::{AuditViolation, ViolationKind};

/// An entry number: 1 for an installation's first entry, +1 for each one after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuditSeq(pub u64);

impl AuditSeq {
    fn from_db(seq: i64) -> Self {
        Self(u64::try_from(seq).unwrap_or(0))
    }

    fn to_db(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for AuditSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Unix milliseconds of a time (saturating far outside any real date).
fn unix_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Appends `entry` to the chain inside the caller's transaction, at time `now_ms` (unix
/// milliseconds from the store's clock). If this fails, the caller's change must fail with it:
/// return the error and let the transaction roll back.
pub(crate) fn append(
    tx: &Transaction<'_>,
    entry: &AuditEntry,
    now_ms: i64,
) -> Result<AuditSeq, Error> {
    validate(entry)?;
    let (head_seq, head_hash) = head(tx)?;
    let mut row = StoredEntry {
        seq: head_seq + 1,
        time_ms: now_ms,
        org: entry.org.map(|org| org.to_string()),
        actor_kind: entry.actor.kind.as_str().to_owned(),
        actor_id: entry.actor.id.clone(),
        source_ip: entry.source_ip.map(|ip| ip.to_string()),
        action: entry.action.to_owned(),
        resource_type: entry.resource_type.to_owned(),
        resource_id: entry.resource_id.clone(),
        outcome: entry.outcome.as_str().to_owned(),
        details: entry.details.to_json(),
        prev_hash: head_hash,
        hash: Vec::new(),
    };
    row.hash = row.hash_as(row.seq).to_vec();
    row.insert(tx)?;
    Ok(AuditSeq::from_db(row.seq))
}

impl Store {
    /// Unix milliseconds now, from the store's clock: the time of every audit entry.
    pub(crate) fn now_ms(&self) -> i64 {
        unix_ms(self.clock.now())
    }

    /// Records an event that changes nothing else (a failed login, a read of sensitive data),
    /// in its own transaction. Returns its entry number.
    pub fn record_audit(&self, entry: &AuditEntry) -> Result<AuditSeq, Error> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq = append(&tx, entry, self.now_ms())?;
        tx.commit()?;
        Ok(seq)
    }
}

#[cfg(test)]
mod tests;
