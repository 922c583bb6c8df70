//! What verification reports when the chain was tampered with, and how it says it.
//!
//! Why its own file: the kinds and their messages are the operator-facing half of the audit log
//! (`audit verify` prints them, `docs/audit.md` lists them): each names the first bad entry
//! number and what was done there, in words an operator can act on.

use std::fmt;

use super::AuditSeq;

/// What is wrong with the chain, at the first entry number where it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViolationKind {
    /// The entry's fields no longer match its hash.
    Edited,
    /// Entries are missing from this number on: a gap in the numbering, entries renumbered to
    /// close a gap, or the newest entries removed under a checkpoint that vouched for them.
    Deleted {
        /// How many are missing.
        missing: u64,
    },
    /// The entry does not belong: numbered inside the pruned range, or added between two
    /// entries that used to link to each other.
    Inserted,
    /// The entry links to an entry that comes after it: entries were swapped or moved.
    Reordered,
    /// The entry's `prev_hash` is not the previous entry's hash, though both are consistent in
    /// themselves: the previous entry was rewritten together with its hash, or this one inserted.
    BrokenLink,
    /// A checkpoint's signature does not verify: forged or altered.
    CheckpointForged,
    /// The chain was rewritten and every later hash recomputed: the entry no longer has the hash
    /// its signed checkpoint vouches for. The rewrite lies after `verified_through`.
    CheckpointMismatch {
        /// The last entry number still known good (the previous checkpoint, or the start).
        verified_through: AuditSeq,
    },
    /// Checkpoints exist but the installation's signing key is gone from the database.
    SigningKeyMissing,
}

impl ViolationKind {
    /// A short stable code for the kind (`edited`, `deleted`, ...), for audit details and
    /// machine-readable output.
    pub fn code(self) -> &'static str {
        match self {
            Self::Edited => "edited",
            Self::Deleted { .. } => "deleted",
            Self::Inserted => "inserted",
            Self::Reordered => "reordered",
            Self::BrokenLink => "broken_link",
            Self::CheckpointForged => "checkpoint_forged",
            Self::CheckpointMismatch { .. } => "checkpoint_mismatch",
            Self::SigningKeyMissing => "signing_key_missing",
        }
    }
}

/// The first problem `verify` found: the entry number and what is wrong there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditViolation {
    /// The first bad entry number.
    pub seq: AuditSeq,
    /// What is wrong.
    pub kind: ViolationKind,
}

impl AuditViolation {
    pub(super) fn new(seq: i64, kind: ViolationKind) -> Self {
        Self {
            seq: AuditSeq::from_db(seq),
            kind,
        }
    }
}

impl fmt::Display for AuditViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match self.kind {
            ViolationKind::Edited => write!(
                f,
                "entry {seq} was edited: its contents no longer match its hash"
            ),
            ViolationKind::Deleted { missing } => write!(
                f,
                "entry {seq} was deleted: {missing} entr{} missing from entry {seq} on",
                if missing == 1 { "y" } else { "ies" }
            ),
            ViolationKind::Inserted => write!(
                f,
                "entry {seq} was inserted: it does not belong in the chain"
            ),
            ViolationKind::Reordered => write!(
                f,
                "entry {seq} was reordered: it links to an entry that comes after it"
            ),
            ViolationKind::BrokenLink => write!(
                f,
                "entry {seq} does not link to the entry before it: that entry was rewritten \
                 together with its hash, or entry {seq} was inserted"
            ),
            ViolationKind::CheckpointForged => write!(
                f,
                "the checkpoint at entry {seq} has an invalid signature: it was forged or altered"
            ),
            ViolationKind::CheckpointMismatch { verified_through } => {
                write!(
                    f,
                    "entry {seq} no longer matches its signed checkpoint: an entry "
                )?;
                if verified_through.0 > 0 {
                    write!(f, "after {verified_through} and ")?;
                }
                write!(
                    f,
                    "up to {seq} was rewritten and the later hashes recomputed"
                )
            }
            ViolationKind::SigningKeyMissing => write!(
                f,
                "the checkpoint at entry {seq} cannot be checked: the installation's checkpoint \
                 signing key is missing from the database"
            ),
        }
    }
}
