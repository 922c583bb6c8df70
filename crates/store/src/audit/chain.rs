//! The hash chain: how an entry is stored, encoded and hashed, and where the chain's head is.
//!
//! Why one canonical encoding in one place: the hash must be recomputable by anyone who reads
//! `docs/audit.md` (and by verification here) from the stored columns alone, so the columns, the
//! framing and the domain tag are defined together and nowhere else.

use ringside_core::wire::{Actor, AuditRecord};
use rusqlite::{Connection, OptionalExtension, Row, params};
use sha2::{Digest, Sha256};

use super::AuditSeq;
use crate::Error;

/// Domain tag that starts every entry's hashed encoding.
pub const ENTRY_DOMAIN: &str = "ringside/audit/entry/v1";
/// The `prev_hash` of the first entry of an installation.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// The canonical encoding, fed straight into SHA-256: a domain tag, then each field as a
/// big-endian u64 length and its bytes; an optional field is one byte 0x00 when absent or 0x01
/// followed by the framed value. Length prefixes make it injective (moving a byte across a field
/// boundary changes the encoding), the domain tag keeps it distinct from any other hash.
struct Canonical(Sha256);

impl Canonical {
    fn new(domain: &str) -> Self {
        let mut canonical = Self(Sha256::new());
        canonical.field(domain.as_bytes());
        canonical
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
        self
    }

    fn optional(&mut self, bytes: Option<&[u8]>) -> &mut Self {
        match bytes {
            None => self.0.update([0u8]),
            Some(bytes) => {
                self.0.update([1u8]);
                self.field(bytes);
            }
        }
        self
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// An entry as stored: every column as text or bytes, exactly what is hashed. Verification works
/// on this form so that a tampered row is still readable and reportable.
#[derive(Debug, Clone)]
pub(super) struct StoredEntry {
    pub(super) seq: i64,
    pub(super) time_ms: i64,
    pub(super) org: Option<String>,
    pub(super) actor_kind: String,
    pub(super) actor_id: String,
    pub(super) source_ip: Option<String>,
    pub(super) action: String,
    pub(super) resource_type: String,
    pub(super) resource_id: Option<String>,
    pub(super) outcome: String,
    pub(super) details: String,
    pub(super) prev_hash: Vec<u8>,
    pub(super) hash: Vec<u8>,
}

pub(super) const ENTRY_COLUMNS: &str = "seq, time_ms, org, actor_kind, actor_id, source_ip, action, \
                             resource_type, resource_id, outcome, details, prev_hash, hash";

pub(super) fn stored_entry(r: &Row<'_>) -> rusqlite::Result<StoredEntry> {
    Ok(StoredEntry {
        seq: r.get(0)?,
        time_ms: r.get(1)?,
        org: r.get(2)?,
        actor_kind: r.get(3)?,
        actor_id: r.get(4)?,
        source_ip: r.get(5)?,
        action: r.get(6)?,
        resource_type: r.get(7)?,
        resource_id: r.get(8)?,
        outcome: r.get(9)?,
        details: r.get(10)?,
        prev_hash: r.get(11)?,
        hash: r.get(12)?,
    })
}

impl StoredEntry {
    /// The entry's hash with its stored `prev_hash`, as if it were numbered `seq`.
    pub(super) fn hash_as(&self, seq: i64) -> [u8; 32] {
        let mut c = Canonical::new(ENTRY_DOMAIN);
        c.field(&self.prev_hash)
            .field(&seq.to_be_bytes())
            .field(&self.time_ms.to_be_bytes())
            .optional(self.org.as_deref().map(str::as_bytes))
            .field(self.actor_kind.as_bytes())
            .field(self.actor_id.as_bytes())
            .optional(self.source_ip.as_deref().map(str::as_bytes))
            .field(self.action.as_bytes())
            .field(self.resource_type.as_bytes())
            .optional(self.resource_id.as_deref().map(str::as_bytes))
            .field(self.outcome.as_bytes())
            .field(self.details.as_bytes());
        c.finish()
    }

    pub(super) fn is_self_consistent(&self) -> bool {
        self.hash_as(self.seq)[..] == self.hash[..]
    }

    /// Writes the row as it is, every column given (the hash is not recomputed).
    pub(super) fn insert(&self, conn: &Connection) -> rusqlite::Result<usize> {
        conn.execute(
            &format!(
                "INSERT INTO audit_log ({ENTRY_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ),
            params![
                self.seq,
                self.time_ms,
                self.org,
                self.actor_kind,
                self.actor_id,
                self.source_ip,
                self.action,
                self.resource_type,
                self.resource_id,
                self.outcome,
                self.details,
                self.prev_hash,
                self.hash
            ],
        )
    }

    pub(super) fn into_record(self) -> Result<AuditRecord, Error> {
        let corrupt = |what: &'static str| Error::AuditCorrupt {
            seq: AuditSeq::from_db(self.seq),
            what,
        };
        Ok(AuditRecord {
            seq: AuditSeq::from_db(self.seq).0,
            time_ms: self.time_ms,
            actor: Actor {
                kind: self.actor_kind.parse().map_err(|_| corrupt("actor kind"))?,
                id: self.actor_id,
            },
            outcome: self.outcome.parse().map_err(|_| corrupt("outcome"))?,
            org: self.org,
            source_ip: self.source_ip,
            action: self.action,
            resource_type: self.resource_type,
            resource_id: self.resource_id,
            details: self.details,
            prev_hash: hex::encode(&self.prev_hash),
            hash: hex::encode(&self.hash),
        })
    }
}

/// The number and hash the next entry links to: the newest entry, else (everything pruned) the
/// newest pruning checkpoint, else genesis.
pub(super) fn head(conn: &Connection) -> Result<(i64, Vec<u8>), Error> {
    if let Some(head) = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
    {
        return Ok(head);
    }
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM audit_checkpoints WHERE kind = 'prune' ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, GENESIS_HASH.to_vec())))
}
