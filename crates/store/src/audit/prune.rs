//! Retention: removing the oldest entries without breaking verification.
//!
//! Why a prefix and a signed `prune` checkpoint: entries past `retention.audit_days` are removed,
//! but a chain that no longer starts at genesis must not look like tampering. The pruner cuts a
//! prefix in one transaction and signs the last removed entry, so verification starts from that
//! checkpoint instead of genesis.

use std::time::Duration;

use ringside_vault::MasterKeyring;
use rusqlite::TransactionBehavior;

use super::checkpoint::sign_checkpoint;
use super::verify::verify_in;
use super::{AuditContext, AuditSeq, Checkpoint, CheckpointKind, append};
use crate::{Error, Store};

/// What one run of the retention pruner did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    /// How many entries were removed.
    pub pruned: u64,
    /// The signed checkpoint of the last removed entry (`None` if nothing was old enough).
    pub checkpoint: Option<Checkpoint>,
    /// The `audit.prune` entry recording the run.
    pub entry: Option<AuditSeq>,
}

pub(super) fn prune_audit(
    store: &Store,
    older_than: Duration,
    masters: &MasterKeyring,
    ctx: &AuditContext,
) -> Result<PruneReport, Error> {
    let mut conn = store.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let report = verify_in(&tx, masters)?.map_err(Error::AuditViolation)?;
    let now_ms = store.now_ms();
    let older_ms = i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now_ms.saturating_sub(older_ms);
    let start = report.pruned_through.map_or(0, AuditSeq::to_db);
    let first_kept: Option<i64> = tx.query_row(
        "SELECT min(seq) FROM audit_log WHERE time_ms >= ?1",
        [cutoff],
        |r| r.get(0),
    )?;
    let through = match first_kept {
        Some(seq) => seq - 1,
        None => report.range.map_or(start, |(_, last)| last.to_db()),
    };
    if through <= start {
        return Ok(PruneReport {
            pruned: 0,
            checkpoint: None,
            entry: None,
        });
    }
    let hash: Vec<u8> = tx.query_row(
        "SELECT hash FROM audit_log WHERE seq = ?1",
        [through],
        |r| r.get(0),
    )?;
    tx.execute("INSERT INTO audit_prune_gate (open) VALUES (1)", [])?;
    let pruned = tx.execute("DELETE FROM audit_log WHERE seq <= ?1", [through])?;
    tx.execute("DELETE FROM audit_checkpoints WHERE seq < ?1", [through])?;
    tx.execute("DELETE FROM audit_prune_gate", [])?;
    let checkpoint = sign_checkpoint(
        &tx,
        masters,
        CheckpointKind::Prune,
        through,
        &hash,
        now_ms,
        store.now(),
    )?;
    let pruned = pruned as u64;
    let entry = ctx
        .entry("audit.prune", "audit_log")
        .count("pruned", pruned)
        .count("through_seq", AuditSeq::from_db(through).0);
    let seq = append(&tx, &entry, now_ms)?;
    tx.commit()?;
    Ok(PruneReport {
        pruned,
        checkpoint: Some(checkpoint),
        entry: Some(seq),
    })
}
