-- 0001: organisations and their wrapped data keys.
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).

CREATE TABLE orgs (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    -- The agency's display name is business data, not a person's PII; stored in clear so the
    -- operator's CLI can list organisations without the master key.
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  INTEGER NOT NULL      -- unix seconds, UTC
) STRICT;

-- Envelope encryption: each org has one or more data-key generations (the newest seals, all
-- open), each wrapped by one master-key version. `keys rotate` re-wraps every row under a new
-- master version in one transaction. Deleting an org's rows crypto-shreds its sealed data.
CREATE TABLE org_keys (
    org_id          BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    generation      INTEGER NOT NULL CHECK (generation >= 1),
    master_version  INTEGER NOT NULL CHECK (master_version >= 1),
    wrapped         BLOB NOT NULL,
    -- Seals made with this data key (NIST SP 800-38D caps random-nonce GCM at 2^32 per key).
    seal_count      INTEGER NOT NULL DEFAULT 0 CHECK (seal_count >= 0),
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (org_id, generation)
) STRICT;

CREATE INDEX org_keys_by_master_version ON org_keys (master_version);
