//! Signed checkpoints: the installation's Ed25519 key and the rows it signs.
//!
//! Why: anyone who can write the file can recompute every hash of the chain, but not sign the
//! new head without the master key. A checkpoint fixes the chain up to one entry (a `head`), or
//! marks where the retention pruner cut it (a `prune`), so verification can start there.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use ringside_vault::MasterKeyring;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::verify::walk;
use super::{AuditSeq, AuditViolation, GENESIS_HASH, ViolationKind};
use crate::{Error, Store, secrets};

/// The purpose name of the checkpoint signing seed in `system_secrets`.
pub const CHECKPOINT_KEY_PURPOSE: &str = "audit-checkpoint-ed25519";
/// Domain tag that starts every checkpoint's signed message.
pub const CHECKPOINT_DOMAIN: &str = "ringside/audit/checkpoint/v1";

/// What a checkpoint vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointKind {
    /// The chain's head when it was signed: everything up to it is fixed.
    Head,
    /// The last entry removed by the retention pruner: the chain verifies from here on.
    Prune,
}

impl CheckpointKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::Prune => "prune",
        }
    }
}

/// A signed checkpoint: (kind, entry number, that entry's hash, time), Ed25519-signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Head or prune.
    pub kind: CheckpointKind,
    /// The entry it vouches for.
    pub seq: AuditSeq,
    /// That entry's hash.
    pub hash: [u8; 32],
    /// When it was signed (unix ms).
    pub time_ms: i64,
    /// The Ed25519 signature over the checkpoint message (`docs/audit.md`).
    pub signature: [u8; 64],
}

/// A checkpoint row as stored, readable even when tampered with.
#[derive(Debug, Clone)]
pub(super) struct StoredCheckpoint {
    kind: String,
    pub(super) seq: i64,
    pub(super) hash: Vec<u8>,
    pub(super) time_ms: i64,
    signature: Vec<u8>,
}

impl StoredCheckpoint {
    pub(super) fn is_prune(&self) -> bool {
        self.kind == CheckpointKind::Prune.as_str()
    }

    pub(super) fn signature_is_valid(&self, key: &VerifyingKey) -> bool {
        let Ok(signature) = Signature::from_slice(&self.signature) else {
            return false;
        };
        let message = checkpoint_message(&self.kind, self.seq, &self.hash, self.time_ms);
        key.verify_strict(&message, &signature).is_ok()
    }

    pub(super) fn to_checkpoint(&self) -> Option<Checkpoint> {
        Some(Checkpoint {
            kind: if self.is_prune() {
                CheckpointKind::Prune
            } else {
                CheckpointKind::Head
            },
            seq: AuditSeq::from_db(self.seq),
            hash: self.hash.as_slice().try_into().ok()?,
            time_ms: self.time_ms,
            signature: self.signature.as_slice().try_into().ok()?,
        })
    }
}

/// The signed message: domain tag, kind, seq, hash, time — framed like the entry encoding.
pub(super) fn checkpoint_message(kind: &str, seq: i64, hash: &[u8], time_ms: i64) -> Vec<u8> {
    let mut message = Vec::with_capacity(128);
    for field in [
        CHECKPOINT_DOMAIN.as_bytes(),
        kind.as_bytes(),
        &seq.to_be_bytes(),
        hash,
        &time_ms.to_be_bytes(),
    ] {
        message.extend_from_slice(&(field.len() as u64).to_be_bytes());
        message.extend_from_slice(field);
    }
    message
}

/// Every checkpoint, by entry number.
pub(super) fn checkpoints(conn: &Connection) -> Result<Vec<StoredCheckpoint>, Error> {
    let mut stmt = conn.prepare(
        "SELECT kind, seq, hash, time_ms, signature FROM audit_checkpoints ORDER BY seq, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(StoredCheckpoint {
            kind: r.get(0)?,
            seq: r.get(1)?,
            hash: r.get(2)?,
            time_ms: r.get(3)?,
            signature: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The checkpoint signing key, if it was ever created.
pub(super) fn signing_key(
    conn: &Connection,
    masters: &MasterKeyring,
) -> Result<Option<SigningKey>, Error> {
    match secrets::load(conn, CHECKPOINT_KEY_PURPOSE)? {
        None => Ok(None),
        Some(wrapped) => {
            let seed = masters.unwrap_secret(&wrapped)?;
            Ok(Some(SigningKey::from_bytes(&seed)))
        }
    }
}

/// Signs (kind, `seq`, `hash`) now and stores the checkpoint; creates the signing key on first
/// use.
pub(super) fn sign_checkpoint(
    tx: &Transaction<'_>,
    masters: &MasterKeyring,
    kind: CheckpointKind,
    seq: i64,
    hash: &[u8],
    now_ms: i64,
    now_unix: i64,
) -> Result<Checkpoint, Error> {
    let seed = secrets::load_or_create(tx, CHECKPOINT_KEY_PURPOSE, masters, now_unix)?;
    let key = SigningKey::from_bytes(&seed);
    let signature = key
        .sign(&checkpoint_message(kind.as_str(), seq, hash, now_ms))
        .to_bytes();
    tx.execute(
        "INSERT INTO audit_checkpoints (kind, seq, hash, time_ms, signature)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![kind.as_str(), seq, hash, now_ms, &signature[..]],
    )?;
    Ok(Checkpoint {
        kind,
        seq: AuditSeq::from_db(seq),
        hash: hash.try_into().map_err(|_| Error::AuditCorrupt {
            seq: AuditSeq::from_db(seq),
            what: "hash length",
        })?,
        time_ms: now_ms,
        signature,
    })
}

pub(super) fn audit_checkpoint(
    store: &Store,
    masters: &MasterKeyring,
) -> Result<Option<Checkpoint>, Error> {
    let mut conn = store.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let all = checkpoints(&tx)?;
    let anchor = all.iter().max_by_key(|c| c.seq);
    let (anchor_seq, anchor_hash) = match anchor {
        None => (0, GENESIS_HASH.to_vec()),
        Some(anchor) => {
            let Some(key) = signing_key(&tx, masters)? else {
                return Err(Error::AuditViolation(AuditViolation::new(
                    anchor.seq,
                    ViolationKind::SigningKeyMissing,
                )));
            };
            if !anchor.signature_is_valid(&key.verifying_key()) {
                return Err(Error::AuditViolation(AuditViolation::new(
                    anchor.seq,
                    ViolationKind::CheckpointForged,
                )));
            }
            if !anchor.is_prune() {
                let stored: Option<Vec<u8>> = tx
                    .query_row(
                        "SELECT hash FROM audit_log WHERE seq = ?1",
                        [anchor.seq],
                        |r| r.get(0),
                    )
                    .optional()?;
                let kind = match stored {
                    None => Some(ViolationKind::Deleted { missing: 1 }),
                    Some(hash) if hash != anchor.hash => {
                        let before = all.iter().map(|c| c.seq).filter(|s| *s < anchor.seq);
                        Some(ViolationKind::CheckpointMismatch {
                            verified_through: AuditSeq::from_db(before.max().unwrap_or(0)),
                        })
                    }
                    Some(_) => None,
                };
                if let Some(kind) = kind {
                    return Err(Error::AuditViolation(AuditViolation::new(anchor.seq, kind)));
                }
            }
            (anchor.seq, anchor.hash.clone())
        }
    };
    let end = walk(&tx, anchor_seq, &anchor_hash, &[], false)?.map_err(Error::AuditViolation)?;
    if end.head_seq == anchor_seq {
        return Ok(None);
    }
    let checkpoint = sign_checkpoint(
        &tx,
        masters,
        CheckpointKind::Head,
        end.head_seq,
        &end.head_hash,
        store.now_ms(),
        store.now(),
    )?;
    tx.commit()?;
    Ok(Some(checkpoint))
}

pub(super) fn audit_public_key(
    store: &Store,
    masters: &MasterKeyring,
) -> Result<Option<[u8; 32]>, Error> {
    Ok(signing_key(&store.conn(), masters)?.map(|k| k.verifying_key().to_bytes()))
}
