//! Verification: walking the retained chain and checking it against the signed checkpoints.
//!
//! Why a walk that names the first bad entry: "the log was tampered with" is not actionable; an
//! entry number and what happened there (edited, deleted, inserted, reordered, re-hashed under a
//! checkpoint) is. The pruner and the checkpoint signer run the same walk first, so neither can
//! sign over tampering or prune its evidence away.

use ringside_vault::MasterKeyring;
use rusqlite::{Connection, OptionalExtension};

use super::chain::{ENTRY_COLUMNS, StoredEntry, stored_entry};
use super::checkpoint::{StoredCheckpoint, checkpoints, signing_key};
use super::{AuditSeq, AuditViolation, Checkpoint, GENESIS_HASH, ViolationKind};
use crate::{Error, Store};

/// How far a renumbered entry is looked for when diagnosing a broken link.
const RENUMBER_SEARCH: i64 = 1024;

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The pruning checkpoint the walk started from; `None`: from the first entry (genesis).
    pub pruned_through: Option<AuditSeq>,
    /// How many entries were checked.
    pub entries: u64,
    /// The first and last entry numbers checked (`None` for an empty log).
    pub range: Option<(AuditSeq, AuditSeq)>,
    /// The head's hash (the genesis or pruning hash for an empty log).
    pub head_hash: [u8; 32],
    /// Checkpoints whose signatures were checked.
    pub checkpoints: usize,
    /// The newest checkpoint.
    pub latest_checkpoint: Option<Checkpoint>,
    /// The Ed25519 public key the checkpoints verify under, if one was ever created: record it
    /// outside the machine to pin it.
    pub public_key: Option<[u8; 32]>,
}

/// Where a walk stopped.
pub(super) struct WalkEnd {
    pub(super) head_seq: i64,
    pub(super) head_hash: Vec<u8>,
    first_seq: Option<i64>,
    entries: u64,
}

/// Walks the entries numbered after `from_seq` (all entries when `all`), checking numbering,
/// linkage, hashes and every checkpoint above `start_seq`. `Ok(Err(_))` is the first violation.
pub(super) fn walk(
    conn: &Connection,
    start_seq: i64,
    start_hash: &[u8],
    checkpoints: &[StoredCheckpoint],
    all: bool,
) -> Result<Result<WalkEnd, AuditViolation>, Error> {
    let mut pending = checkpoints.iter().filter(|c| c.seq > start_seq).peekable();
    let mut end = WalkEnd {
        head_seq: start_seq,
        head_hash: start_hash.to_vec(),
        first_seq: None,
        entries: 0,
    };
    let mut verified_through = start_seq;
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq"
    ))?;
    let from = if all { i64::MIN } else { start_seq };
    let mut rows = stmt.query_map([from], stored_entry)?;
    for row in &mut rows {
        let row = row?;
        let expected = end.head_seq + 1;
        if row.seq <= start_seq {
            return Ok(Err(AuditViolation::new(row.seq, ViolationKind::Inserted)));
        }
        if row.seq > expected {
            let missing = u64::try_from(row.seq - expected).unwrap_or(u64::MAX);
            return Ok(Err(AuditViolation::new(
                expected,
                ViolationKind::Deleted { missing },
            )));
        }
        if row.prev_hash != end.head_hash {
            return Ok(Err(diagnose_link(conn, &row)?));
        }
        if !row.is_self_consistent() {
            return Ok(Err(AuditViolation::new(row.seq, ViolationKind::Edited)));
        }
        end.first_seq.get_or_insert(row.seq);
        end.entries += 1;
        end.head_seq = row.seq;
        end.head_hash = row.hash;
        while let Some(checkpoint) = pending.next_if(|c| c.seq <= end.head_seq) {
            if checkpoint.hash != end.head_hash {
                return Ok(Err(AuditViolation::new(
                    end.head_seq,
                    ViolationKind::CheckpointMismatch {
                        verified_through: AuditSeq::from_db(verified_through),
                    },
                )));
            }
            verified_through = end.head_seq;
        }
    }
    if let Some(checkpoint) = pending.next() {
        let missing = u64::try_from(checkpoint.seq - end.head_seq).unwrap_or(u64::MAX);
        return Ok(Err(AuditViolation::new(
            end.head_seq + 1,
            ViolationKind::Deleted { missing },
        )));
    }
    Ok(Ok(end))
}

/// Names what happened when an entry's `prev_hash` is not its predecessor's hash.
fn diagnose_link(conn: &Connection, row: &StoredEntry) -> Result<AuditViolation, Error> {
    // It links to another entry that is still there: a later one means reordering; an earlier
    // one (not the one just before) means entries were slipped in between.
    let linked: Option<i64> = conn
        .query_row(
            "SELECT seq FROM audit_log WHERE hash = ?1 ORDER BY seq LIMIT 1",
            [&row.prev_hash],
            |r| r.get(0),
        )
        .optional()?;
    match linked {
        Some(linked) if linked >= row.seq => {
            return Ok(AuditViolation::new(row.seq, ViolationKind::Reordered));
        }
        Some(linked) if linked < row.seq - 1 => {
            return Ok(AuditViolation::new(linked + 1, ViolationKind::Inserted));
        }
        _ => {}
    }
    // Its hash is right for another number: it was renumbered — down to close a gap left by
    // deleted entries, or up to make room for inserted ones.
    let original = (row.seq - RENUMBER_SEARCH..=row.seq + RENUMBER_SEARCH)
        .filter(|seq| *seq != row.seq)
        .find(|seq| row.hash_as(*seq)[..] == row.hash[..]);
    if let Some(original) = original {
        return Ok(if original > row.seq {
            let missing = u64::try_from(original - row.seq).unwrap_or(u64::MAX);
            AuditViolation::new(row.seq, ViolationKind::Deleted { missing })
        } else {
            AuditViolation::new(original, ViolationKind::Inserted)
        });
    }
    Ok(if row.is_self_consistent() {
        AuditViolation::new(row.seq, ViolationKind::BrokenLink)
    } else {
        AuditViolation::new(row.seq, ViolationKind::Edited)
    })
}

/// The full verification, on a connection the caller holds a transaction on.
pub(super) fn verify_in(
    conn: &Connection,
    masters: &MasterKeyring,
) -> Result<Result<VerifyReport, AuditViolation>, Error> {
    let checkpoints = checkpoints(conn)?;
    let key = signing_key(conn, masters)?;
    if let Some(first) = checkpoints.first() {
        let Some(key) = &key else {
            return Ok(Err(AuditViolation::new(
                first.seq,
                ViolationKind::SigningKeyMissing,
            )));
        };
        let public = key.verifying_key();
        if let Some(forged) = checkpoints.iter().find(|c| !c.signature_is_valid(&public)) {
            return Ok(Err(AuditViolation::new(
                forged.seq,
                ViolationKind::CheckpointForged,
            )));
        }
    }
    let start = checkpoints.iter().rfind(|c| c.is_prune());
    let (start_seq, start_hash) =
        start.map_or((0, GENESIS_HASH.to_vec()), |c| (c.seq, c.hash.clone()));
    if let Some(other) = checkpoints
        .iter()
        .find(|c| c.seq == start_seq && c.hash != start_hash)
    {
        return Ok(Err(AuditViolation::new(
            other.seq,
            ViolationKind::CheckpointMismatch {
                verified_through: AuditSeq::from_db(start_seq),
            },
        )));
    }
    let end = match walk(conn, start_seq, &start_hash, &checkpoints, true)? {
        Ok(end) => end,
        Err(violation) => return Ok(Err(violation)),
    };
    Ok(Ok(VerifyReport {
        pruned_through: start.map(|c| AuditSeq::from_db(c.seq)),
        entries: end.entries,
        range: end
            .first_seq
            .map(|first| (AuditSeq::from_db(first), AuditSeq::from_db(end.head_seq))),
        head_hash: end.head_hash.as_slice().try_into().unwrap_or(GENESIS_HASH),
        checkpoints: checkpoints.len(),
        latest_checkpoint: checkpoints
            .iter()
            .max_by_key(|c| (c.seq, c.time_ms))
            .and_then(StoredCheckpoint::to_checkpoint),
        public_key: key.map(|k| k.verifying_key().to_bytes()),
    }))
}

pub(super) fn verify_audit(store: &Store, masters: &MasterKeyring) -> Result<VerifyReport, Error> {
    let mut conn = store.conn();
    // A read transaction: one consistent snapshot even while a relay keeps appending.
    let tx = conn.transaction()?;
    verify_in(&tx, masters)?.map_err(Error::AuditViolation)
}
