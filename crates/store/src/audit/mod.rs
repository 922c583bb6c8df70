//! The tamper-evident audit log (`docs/audit.md` is the full specification).
//!
//! **No audit, no change.** Every mutating repository method writes its entry with [`append`]
//! inside its own transaction, so the change and its record commit together or not at all — as
//! HashiCorp Vault refuses a request it cannot log. Events with no other change (a failed login, a
//! read of sensitive data, an export) go through [`AuditStore::record_audit`].
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

use ringside_core::OrgId;
use ringside_core::wire::AuditRecord;
use ringside_vault::MasterKeyring;
use rusqlite::{Transaction, TransactionBehavior};
use std::time::Duration;
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

/// The audit log: append, query, export, verify, sign and prune (`docs/audit.md`).
pub trait AuditStore {
    /// Records an event that changes nothing else (a failed login, a read of sensitive data),
    /// in its own transaction. Returns its entry number.
    fn record_audit(&self, entry: &AuditEntry) -> Result<AuditSeq, Error>;

    /// One page of an org's audit entries for its admins: only entries of `org` (never another
    /// org's, never installation-level ones), narrowed by `filter`, oldest first.
    fn query_audit(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        page: AuditPage,
    ) -> Result<Vec<AuditRecord>, Error>;

    /// Exports every entry from `since` on (all when `None`) to `write`, oldest first, after
    /// recording the export itself as `audit.export` (committed first: an export that cannot be
    /// audited does not happen). `format` is a code for the record (`jsonl`, `csv`).
    fn export_audit(
        &self,
        ctx: &AuditContext,
        since: Option<OffsetDateTime>,
        format: &'static str,
        write: &mut dyn FnMut(&AuditRecord) -> std::io::Result<()>,
    ) -> Result<ExportReport, Error>;

    /// Verifies the whole retained chain: every checkpoint's signature, then from the newest
    /// pruning checkpoint (or genesis) every entry's number, link and hash, and that every
    /// checkpoint matches the recomputed chain. A violation is [`Error::AuditViolation`] naming
    /// the first bad entry number.
    fn verify_audit(&self, masters: &MasterKeyring) -> Result<VerifyReport, Error>;

    /// Signs the chain's head now (a `head` checkpoint), after checking that every entry since
    /// the newest checkpoint links up to it — so tampering is never signed over. Returns `None`
    /// when there is nothing new to sign. Creates the signing key on first use.
    fn audit_checkpoint(&self, masters: &MasterKeyring) -> Result<Option<Checkpoint>, Error>;

    /// The public half of the checkpoint signing key, if it was ever created.
    fn audit_public_key(&self, masters: &MasterKeyring) -> Result<Option<[u8; 32]>, Error>;

    /// The retention pruner: removes, in ONE transaction, the oldest entries up to the last one
    /// older than `older_than` (a prefix of the chain: an entry is kept while any entry before
    /// it is still within retention), leaves a signed `prune` checkpoint of the last removed
    /// entry, drops the checkpoints it supersedes, and records an `audit.prune` entry.
    ///
    /// The whole chain is verified first; a violation is returned and nothing is pruned, so the
    /// pruner can never sign over tampering or erase its evidence.
    fn prune_audit(
        &self,
        older_than: Duration,
        masters: &MasterKeyring,
        ctx: &AuditContext,
    ) -> Result<PruneReport, Error>;
}

impl AuditStore for Store {
    fn record_audit(&self, entry: &AuditEntry) -> Result<AuditSeq, Error> {
        record_audit(self, entry)
    }

    fn query_audit(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        page: AuditPage,
    ) -> Result<Vec<AuditRecord>, Error> {
        query::query_audit(self, org, filter, page)
    }

    fn export_audit(
        &self,
        ctx: &AuditContext,
        since: Option<OffsetDateTime>,
        format: &'static str,
        write: &mut dyn FnMut(&AuditRecord) -> std::io::Result<()>,
    ) -> Result<ExportReport, Error> {
        export::export_audit(self, ctx, since, format, write)
    }

    fn verify_audit(&self, masters: &MasterKeyring) -> Result<VerifyReport, Error> {
        verify::verify_audit(self, masters)
    }

    fn audit_checkpoint(&self, masters: &MasterKeyring) -> Result<Option<Checkpoint>, Error> {
        checkpoint::audit_checkpoint(self, masters)
    }

    fn audit_public_key(&self, masters: &MasterKeyring) -> Result<Option<[u8; 32]>, Error> {
        checkpoint::audit_public_key(self, masters)
    }

    fn prune_audit(
        &self,
        older_than: Duration,
        masters: &MasterKeyring,
        ctx: &AuditContext,
    ) -> Result<PruneReport, Error> {
        prune::prune_audit(self, older_than, masters, ctx)
    }
}

impl Store {
    /// Unix milliseconds now, from the store's clock: the time of every audit entry.
    pub(crate) fn now_ms(&self) -> i64 {
        unix_ms(self.clock.now())
    }
}

fn record_audit(store: &Store, entry: &AuditEntry) -> Result<AuditSeq, Error> {
    let mut conn = store.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seq = append(&tx, entry, store.now_ms())?;
    tx.commit()?;
    Ok(seq)
}

#[cfg(test)]
mod tests;
