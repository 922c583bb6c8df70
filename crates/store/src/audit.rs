//! The tamper-evident audit log (DESIGN §3, §5; `docs/audit.md` is the full specification).
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

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use ringside_core::OrgId;
use ringside_core::wire::{Actor, AuditOutcome, AuditRecord};
use ringside_vault::MasterKeyring;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{Error, Store, secrets};

/// The purpose name of the checkpoint signing seed in `system_secrets`.
pub const CHECKPOINT_KEY_PURPOSE: &str = "audit-checkpoint-ed25519";
/// Domain tag that starts every entry's hashed encoding.
pub const ENTRY_DOMAIN: &str = "ringside/audit/entry/v1";
/// Domain tag that starts every checkpoint's signed message.
pub const CHECKPOINT_DOMAIN: &str = "ringside/audit/checkpoint/v1";
/// The `prev_hash` of the first entry of an installation.
pub const GENESIS_HASH: [u8; 32] = [0; 32];
/// The most entries one [`Store::query_audit`] page returns.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Most details one entry may carry: they are a few ids and counts, not a payload.
const MAX_DETAILS: usize = 16;
/// Longest id, code or detail text.
const MAX_TOKEN_LEN: usize = 128;
/// Longest action or resource-type name.
const MAX_NAME_LEN: usize = 64;
/// How far a renumbered entry is looked for when diagnosing a broken link.
const RENUMBER_SEARCH: i64 = 1024;

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

/// Who is acting and from where: what every mutating repository method takes so it can write
/// its own audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// Who.
    pub actor: Actor,
    /// The client's address, when the action came over the network.
    pub source_ip: Option<IpAddr>,
}

impl AuditContext {
    /// An actor, from an address or none.
    pub fn new(actor: Actor, source_ip: Option<IpAddr>) -> Self {
        Self { actor, source_ip }
    }

    /// A relay component acting on its own (`cli`, `hygiene`, ...), with no address.
    pub fn system(component: &'static str) -> Self {
        Self::new(Actor::system(component), None)
    }

    /// A successful `action` on a `resource_type` by this actor, to fill in further.
    pub fn entry(&self, action: &'static str, resource_type: &'static str) -> AuditEntry {
        AuditEntry::new(self.actor.clone(), action, resource_type).from_ip(self.source_ip)
    }
}

/// One audit entry to write. Built from code-chosen names plus ids, counts, flags and short
/// lowercase codes; [`append`] refuses anything else, so an email address, a phone number or a
/// name cannot end up in the log by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The org concerned; `None` for installation-level events.
    pub org: Option<OrgId>,
    /// Who.
    pub actor: Actor,
    /// From where.
    pub source_ip: Option<IpAddr>,
    /// What, dotted lowercase: `org.create`, `auth.login`, `audit.export`.
    pub action: &'static str,
    /// The kind of thing acted on: `org`, `user`, `audit_log`, `master_key`.
    pub resource_type: &'static str,
    /// Its id text (an id, a version), if any.
    pub resource_id: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// Extra machine facts.
    pub details: AuditDetails,
}

impl AuditEntry {
    /// A successful `action` by `actor` on a `resource_type`, installation-level, no details.
    pub fn new(actor: Actor, action: &'static str, resource_type: &'static str) -> Self {
        Self {
            org: None,
            actor,
            source_ip: None,
            action,
            resource_type,
            resource_id: None,
            outcome: AuditOutcome::Success,
            details: AuditDetails::default(),
        }
    }

    /// Scopes the entry to an org (its admins can query it).
    pub fn in_org(mut self, org: OrgId) -> Self {
        self.org = Some(org);
        self
    }

    /// Names the resource: an id's text form (`org_…`, `usr_…`, `v2`), never personal data.
    pub fn resource(mut self, id: impl fmt::Display) -> Self {
        self.resource_id = Some(id.to_string());
        self
    }

    /// Sets the client's address.
    pub fn from_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.source_ip = ip;
        self
    }

    /// Sets how it ended.
    pub fn outcome(mut self, outcome: AuditOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Marks it as attempted and failed.
    pub fn failed(self) -> Self {
        self.outcome(AuditOutcome::Failure)
    }

    /// Marks it as refused by access control.
    pub fn denied(self) -> Self {
        self.outcome(AuditOutcome::Denied)
    }

    /// Adds a count (`rewrapped: 3`).
    pub fn count(mut self, key: &'static str, n: u64) -> Self {
        self.details.0.insert(key, DetailValue::Count(n));
        self
    }

    /// Adds a flag (`mfa: true`).
    pub fn flag(mut self, key: &'static str, on: bool) -> Self {
        self.details.0.insert(key, DetailValue::Flag(on));
        self
    }

    /// Adds an id or a short lowercase code (`reason: "bad_password"`, `user: "usr_…"`). The
    /// text must be 1–128 characters of `a-z 0-9 _ - . :`; anything else refuses the entry.
    pub fn detail(mut self, key: &'static str, value: impl fmt::Display) -> Self {
        self.details
            .0
            .insert(key, DetailValue::Text(value.to_string()));
        self
    }
}

/// The details of an entry: keys chosen in code, values that are counts, flags or short codes.
/// Stored as a compact JSON object with sorted keys — the exact text that is hashed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditDetails(BTreeMap<&'static str, DetailValue>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum DetailValue {
    Count(u64),
    Flag(bool),
    Text(String),
}

impl AuditDetails {
    /// The JSON text stored and hashed: `{"a":1,"b":"x"}`, keys sorted, no spaces.
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    DetailValue::Count(n) => serde_json::Value::from(*n),
                    DetailValue::Flag(b) => serde_json::Value::from(*b),
                    DetailValue::Text(t) => serde_json::Value::from(t.as_str()),
                };
                ((*key).to_owned(), value)
            })
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_TOKEN_LEN
        && text.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.' | b':')
        })
}

fn is_name_segment(text: &str) -> bool {
    text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_action(text: &str) -> bool {
    text.len() <= MAX_NAME_LEN
        && text.split('.').count() >= 2
        && text.split('.').all(is_name_segment)
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::InvalidAuditEntry { field, reason }
}

/// Refuses an entry with anything but code-chosen names, ids and codes. Messages name the field,
/// never the value (which might be exactly the personal data being kept out).
fn validate(entry: &AuditEntry) -> Result<(), Error> {
    if !is_action(entry.action) {
        return Err(invalid(
            "action",
            "must be dotted lowercase words, e.g. `org.create`",
        ));
    }
    if entry.resource_type.len() > MAX_NAME_LEN || !is_name_segment(entry.resource_type) {
        return Err(invalid(
            "resource_type",
            "must be one lowercase word, e.g. `org`",
        ));
    }
    if entry.resource_id.as_deref().is_some_and(|id| !is_token(id)) {
        return Err(invalid(
            "resource_id",
            "must be an id: 1 to 128 characters of a-z 0-9 _ - . :",
        ));
    }
    if !is_token(&entry.actor.id) {
        return Err(invalid(
            "actor",
            "the actor id must be an id or component name: a-z 0-9 _ - . :",
        ));
    }
    if entry.details.0.len() > MAX_DETAILS {
        return Err(invalid("details", "at most 16 details per entry"));
    }
    for (key, value) in &entry.details.0 {
        if key.len() > MAX_NAME_LEN || !is_name_segment(key) {
            return Err(invalid(key, "a detail key must be one lowercase word"));
        }
        if let DetailValue::Text(text) = value
            && !is_token(text)
        {
            return Err(invalid(
                key,
                "a detail must be a count, a flag, or an id or code of a-z 0-9 _ - . :",
            ));
        }
    }
    Ok(())
}

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
struct StoredEntry {
    seq: i64,
    time_ms: i64,
    org: Option<String>,
    actor_kind: String,
    actor_id: String,
    source_ip: Option<String>,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    outcome: String,
    details: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

const ENTRY_COLUMNS: &str = "seq, time_ms, org, actor_kind, actor_id, source_ip, action, \
                             resource_type, resource_id, outcome, details, prev_hash, hash";

fn stored_entry(r: &Row<'_>) -> rusqlite::Result<StoredEntry> {
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
    fn hash_as(&self, seq: i64) -> [u8; 32] {
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

    fn is_self_consistent(&self) -> bool {
        self.hash_as(self.seq)[..] == self.hash[..]
    }

    fn into_record(self) -> Result<AuditRecord, Error> {
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

/// Unix milliseconds of a time (saturating far outside any real date).
fn unix_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The number and hash the next entry links to: the newest entry, else (everything pruned) the
/// newest pruning checkpoint, else genesis.
fn head(conn: &Connection) -> Result<(i64, Vec<u8>), Error> {
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
    tx.execute(
        &format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ),
        params![
            row.seq,
            row.time_ms,
            row.org,
            row.actor_kind,
            row.actor_id,
            row.source_ip,
            row.action,
            row.resource_type,
            row.resource_id,
            row.outcome,
            row.details,
            row.prev_hash,
            row.hash
        ],
    )?;
    Ok(AuditSeq::from_db(row.seq))
}

/// What a checkpoint vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointKind {
    /// The chain's head when it was signed: everything up to it is fixed.
    Head,
    /// The last entry removed by the retention pruner: the chain verifies from here on.
    Prune,
}

impl CheckpointKind {
    fn as_str(self) -> &'static str {
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

#[derive(Debug, Clone)]
struct StoredCheckpoint {
    kind: String,
    seq: i64,
    hash: Vec<u8>,
    time_ms: i64,
    signature: Vec<u8>,
}

impl StoredCheckpoint {
    fn is_prune(&self) -> bool {
        self.kind == CheckpointKind::Prune.as_str()
    }

    fn signature_is_valid(&self, key: &VerifyingKey) -> bool {
        let Ok(signature) = Signature::from_slice(&self.signature) else {
            return false;
        };
        let message = checkpoint_message(&self.kind, self.seq, &self.hash, self.time_ms);
        key.verify_strict(&message, &signature).is_ok()
    }

    fn to_checkpoint(&self) -> Option<Checkpoint> {
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
fn checkpoint_message(kind: &str, seq: i64, hash: &[u8], time_ms: i64) -> Vec<u8> {
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
fn checkpoints(conn: &Connection) -> Result<Vec<StoredCheckpoint>, Error> {
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
fn signing_key(conn: &Connection, masters: &MasterKeyring) -> Result<Option<SigningKey>, Error> {
    match secrets::load(conn, CHECKPOINT_KEY_PURPOSE)? {
        None => Ok(None),
        Some(wrapped) => {
            let seed = masters.unwrap_secret(&wrapped)?;
            Ok(Some(SigningKey::from_bytes(&seed)))
        }
    }
}

fn sign_checkpoint(
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
    fn new(seq: i64, kind: ViolationKind) -> Self {
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
struct WalkEnd {
    head_seq: i64,
    head_hash: Vec<u8>,
    first_seq: Option<i64>,
    entries: u64,
}

/// Walks the entries numbered after `from_seq` (all entries when `all`), checking numbering,
/// linkage, hashes and every checkpoint above `start_seq`. `Ok(Err(_))` is the first violation.
fn walk(
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
fn verify_in(
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

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportReport {
    /// How many records were handed to the writer.
    pub records: u64,
    /// The `audit.export` entry recording the export (the last record exported).
    pub entry: AuditSeq,
}

/// Which entries an admin query returns. Every field narrows; `Default` is everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor (kind and id).
    pub actor: Option<Actor>,
    /// Only this action (`auth.login`), or every action under a prefix (`auth.*`).
    pub action: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// From this time on (inclusive).
    pub from: Option<OffsetDateTime>,
    /// Before this time (exclusive).
    pub to: Option<OffsetDateTime>,
}

/// One page of a query: entries numbered after `after_seq`, oldest first, at most `limit`
/// (clamped to 1..=[`MAX_PAGE_SIZE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPage {
    /// Continue after this entry number (the last `seq` of the previous page).
    pub after_seq: Option<AuditSeq>,
    /// How many at most.
    pub limit: u32,
}

impl Default for AuditPage {
    fn default() -> Self {
        Self {
            after_seq: None,
            limit: 100,
        }
    }
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

    /// Verifies the whole retained chain: every checkpoint's signature, then from the newest
    /// pruning checkpoint (or genesis) every entry's number, link and hash, and that every
    /// checkpoint matches the recomputed chain. A violation is [`Error::AuditViolation`] naming
    /// the first bad entry number.
    pub fn verify_audit(&self, masters: &MasterKeyring) -> Result<VerifyReport, Error> {
        let mut conn = self.conn();
        // A read transaction: one consistent snapshot even while a relay keeps appending.
        let tx = conn.transaction()?;
        verify_in(&tx, masters)?.map_err(Error::AuditViolation)
    }

    /// Signs the chain's head now (a `head` checkpoint), after checking that every entry since
    /// the newest checkpoint links up to it — so tampering is never signed over. Returns `None`
    /// when there is nothing new to sign. Creates the signing key on first use.
    pub fn audit_checkpoint(&self, masters: &MasterKeyring) -> Result<Option<Checkpoint>, Error> {
        let mut conn = self.conn();
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
        let end =
            walk(&tx, anchor_seq, &anchor_hash, &[], false)?.map_err(Error::AuditViolation)?;
        if end.head_seq == anchor_seq {
            return Ok(None);
        }
        let checkpoint = sign_checkpoint(
            &tx,
            masters,
            CheckpointKind::Head,
            end.head_seq,
            &end.head_hash,
            self.now_ms(),
            self.now(),
        )?;
        tx.commit()?;
        Ok(Some(checkpoint))
    }

    /// The retention pruner: removes, in ONE transaction, the oldest entries up to the last one
    /// older than `older_than` (a prefix of the chain: an entry is kept while any entry before
    /// it is still within retention), leaves a signed `prune` checkpoint of the last removed
    /// entry, drops the checkpoints it supersedes, and records an `audit.prune` entry.
    ///
    /// The whole chain is verified first; a violation is returned and nothing is pruned, so the
    /// pruner can never sign over tampering or erase its evidence.
    pub fn prune_audit(
        &self,
        older_than: Duration,
        masters: &MasterKeyring,
        ctx: &AuditContext,
    ) -> Result<PruneReport, Error> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let report = verify_in(&tx, masters)?.map_err(Error::AuditViolation)?;
        let now_ms = self.now_ms();
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
            self.now(),
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

    /// Exports every entry from `since` on (all when `None`) to `write`, oldest first, after
    /// recording the export itself as `audit.export` (committed first: an export that cannot be
    /// audited does not happen). `format` is a code for the record (`jsonl`, `csv`).
    pub fn export_audit(
        &self,
        ctx: &AuditContext,
        since: Option<OffsetDateTime>,
        format: &'static str,
        mut write: impl FnMut(&AuditRecord) -> std::io::Result<()>,
    ) -> Result<ExportReport, Error> {
        let since_ms = since.map(unix_ms);
        let mut entry = ctx
            .entry("audit.export", "audit_log")
            .detail("format", format);
        if let Some(since_ms) = since_ms {
            entry = entry.count("since_ms", u64::try_from(since_ms).unwrap_or(0));
        }
        let seq = self.record_audit(&entry)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut stmt = tx.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq <= ?1 AND time_ms >= ?2 ORDER BY seq"
        ))?;
        let mut rows = stmt.query_map(
            params![seq.to_db(), since_ms.unwrap_or(i64::MIN)],
            stored_entry,
        )?;
        let mut records = 0;
        for row in &mut rows {
            write(&row?.into_record()?).map_err(Error::Export)?;
            records += 1;
        }
        Ok(ExportReport {
            records,
            entry: seq,
        })
    }

    /// One page of an org's audit entries for its admins: only entries of `org` (never another
    /// org's, never installation-level ones), narrowed by `filter`, oldest first.
    pub fn query_audit(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        page: AuditPage,
    ) -> Result<Vec<AuditRecord>, Error> {
        let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE org = ?1 AND seq > ?2");
        let mut values: Vec<rusqlite::types::Value> = vec![
            org.to_string().into(),
            page.after_seq.map_or(0, AuditSeq::to_db).into(),
        ];
        let mut condition = |sql_part: &str, value: rusqlite::types::Value| {
            values.push(value);
            sql.push_str(&format!(" AND {sql_part} ?{}", values.len()));
        };
        if let Some(actor) = &filter.actor {
            condition("actor_kind =", actor.kind.as_str().to_owned().into());
            condition("actor_id =", actor.id.clone().into());
        }
        if let Some(action) = &filter.action {
            match action.strip_suffix('*') {
                Some(prefix) => {
                    let len = i64::try_from(prefix.len()).unwrap_or(i64::MAX);
                    condition(
                        &format!("substr(action, 1, {len}) ="),
                        prefix.to_owned().into(),
                    );
                }
                None => condition("action =", action.clone().into()),
            }
        }
        if let Some(resource_type) = &filter.resource_type {
            condition("resource_type =", resource_type.clone().into());
        }
        if let Some(from) = filter.from {
            condition("time_ms >=", unix_ms(from).into());
        }
        if let Some(to) = filter.to {
            condition("time_ms <", unix_ms(to).into());
        }
        let limit = page.limit.clamp(1, MAX_PAGE_SIZE);
        sql.push_str(&format!(" ORDER BY seq LIMIT {limit}"));
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), stored_entry)?;
        rows.map(|row| row.map_err(Error::from).and_then(StoredEntry::into_record))
            .collect()
    }

    /// The public half of the checkpoint signing key, if it was ever created.
    pub fn audit_public_key(&self, masters: &MasterKeyring) -> Result<Option<[u8; 32]>, Error> {
        Ok(signing_key(&self.conn(), masters)?.map(|k| k.verifying_key().to_bytes()))
    }
}

#[cfg(test)]
mod tests;
