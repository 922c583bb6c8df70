-- 0009: what the agent adds to a call for its AMS note: notes (several are joined) and the
-- contact picked among several matches (docs/lifecycle.md).
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- Only a user the call popped for may add them (checked against `pops` in the same transaction).
-- The text and the picked record id are sealed with the org's data key, bound to the row. They
-- live until the call's note is in the AMS, and never past `retention.pii_max_days`.
CREATE TABLE call_notes (
    id            BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id        BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    call_id       BLOB NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    user_id       BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text_sealed   BLOB NOT NULL,
    -- Its length in characters (not personal data): bounds a call's notes without opening them.
    chars         INTEGER NOT NULL CHECK (chars > 0),
    created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX call_notes_by_call ON call_notes (call_id, created_at);
CREATE INDEX call_notes_by_age ON call_notes (created_at);

-- One pick per call: the latest wins.
CREATE TABLE call_picks (
    call_id          BLOB PRIMARY KEY NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    org_id           BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id          BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_sealed   BLOB NOT NULL,
    picked_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX call_picks_by_age ON call_picks (picked_at);
