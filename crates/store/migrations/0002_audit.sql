-- 0002: the tamper-evident audit log, its signed checkpoints, and wrapped installation secrets.
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
-- docs/audit.md specifies the hash, the canonical encoding and the checkpoint signature.

-- One row per audited event, hash-chained: `hash` = SHA-256 over `prev_hash` and every other
-- column (canonical, length-prefixed encoding), `prev_hash` = the previous entry's `hash` (32
-- zero bytes before the first entry). Text columns hold exactly what is hashed and exported:
-- ids in their text form, so a verifier outside Ringside needs nothing but an export.
-- No personal data: the store accepts ids, counts, flags and reason codes only.
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),  -- entry number, strictly +1
    time_ms        INTEGER NOT NULL,                               -- unix milliseconds, UTC
    -- Org id text (`org_…`), NULL for installation-level events. No foreign key: the record of
    -- what happened to an org outlives the org.
    org            TEXT,
    actor_kind     TEXT NOT NULL
                   CHECK (actor_kind IN ('user', 'system', 'integration', 'anonymous')),
    actor_id       TEXT NOT NULL,
    source_ip      TEXT,
    action         TEXT NOT NULL,                                  -- dotted: org.create
    resource_type  TEXT NOT NULL,
    resource_id    TEXT,
    outcome        TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    details        TEXT NOT NULL,                                  -- JSON object text, as hashed
    prev_hash      BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash           BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE INDEX audit_log_by_org ON audit_log (org, seq);
CREATE INDEX audit_log_by_time ON audit_log (time_ms);

-- Ed25519 signatures over (kind, seq, hash, time) of one entry, with the installation's
-- checkpoint key (a system secret below). `head`: the chain's head at that moment, so a later
-- rewrite of any entry up to it is detected even if every later hash is recomputed. `prune`: the
-- last entry the retention pruner removed, so the chain verifies from there on.
CREATE TABLE audit_checkpoints (
    id         INTEGER PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('head', 'prune')),
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    time_ms    INTEGER NOT NULL,
    signature  BLOB NOT NULL CHECK (length(signature) = 64)
) STRICT;

CREATE INDEX audit_checkpoints_by_seq ON audit_checkpoints (seq);

-- The pruner's gate: empty at rest. The pruner inserts its one row, deletes, and removes the row
-- again inside ONE transaction, so no other connection ever sees it open.
CREATE TABLE audit_prune_gate (
    open  INTEGER PRIMARY KEY NOT NULL CHECK (open = 1)
) STRICT;

-- These triggers stop accidents and application bugs (an UPDATE in a new repository, a stray
-- DELETE in a maintenance script). They are NOT the tamper evidence: anyone who can write the
-- file can drop them. Tampering is caught by the hash chain and the signed checkpoints.
CREATE TRIGGER audit_log_is_append_only
BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_deletes_only_through_the_pruner
BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_gate)
BEGIN
    SELECT RAISE(ABORT, 'audit_log entries are removed only by the retention pruner');
END;

-- The next entry is numbered exactly one past the head (or past the newest pruning checkpoint
-- when everything before was pruned), so a bug can never leave a gap.
CREATE TRIGGER audit_log_numbers_entries_one_by_one
BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT coalesce(
        (SELECT max(seq) FROM audit_log),
        (SELECT max(seq) FROM audit_checkpoints WHERE kind = 'prune'),
        0) + 1
BEGIN
    SELECT RAISE(ABORT, 'audit_log entries are numbered one past the head');
END;

CREATE TRIGGER audit_checkpoints_are_append_only
BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

CREATE TRIGGER audit_checkpoints_delete_only_through_the_pruner
BEFORE DELETE ON audit_checkpoints
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_gate)
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are removed only by the retention pruner');
END;

-- 32-byte secrets of the installation as a whole (the audit checkpoint signing seed, ...),
-- wrapped by the master key and bound to their purpose. `keys rotate` re-wraps them with the
-- org keys, in the same transaction.
CREATE TABLE system_secrets (
    purpose         TEXT PRIMARY KEY NOT NULL,
    master_version  INTEGER NOT NULL CHECK (master_version >= 1),
    wrapped         BLOB NOT NULL,
    created_at      INTEGER NOT NULL      -- unix seconds, UTC
) STRICT;

CREATE INDEX system_secrets_by_master_version ON system_secrets (master_version);
