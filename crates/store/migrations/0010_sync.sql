-- 0010: the sync — one activity note per call in the org's AMS, then the purge (docs/lifecycle.md).
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- `sync_outbox`: one row per finished call, made in the same transaction that finishes it, so no
-- call is ever forgotten by a crash. The row holds no personal data but the summary, sealed
-- (computed once, so a retry writes the same note and asks a summarizer only once), which goes
-- with the purge. `state`:
--   pending  — waiting for its turn: `next_at`, plus `sync.transcript_grace_secs` before the first
--              attempt unless the transcript is in;
--   writing  — an attempt is in flight. Marked (durably) before the AMS is asked, so a relay that
--              finds a row `writing` at start-up knows the write may have landed: `in_doubt` is
--              set and the AMS is searched for the call's reference before anything is written;
--   done     — the note is in the AMS (`synced_at`, `activity_id`), the call's PII purged;
--   skipped  — no AMS record to write to and the org's policy is `skip`: purged, nothing written;
--   held     — several records match and no agent picked one: listed for the admins, retried
--              when someone picks;
--   dead     — a dead letter: a refusal that cannot succeed by retrying, or the AMS could not be
--              asked whether an in-doubt note landed; listed for the admins (`sync list`).
--   expired  — the PII cap came first: hygiene purged the call unsynced.
-- `reason` is a stable code (`timeout`, `http_422`, `ambiguous_match`, …), never a value.
CREATE TABLE sync_outbox (
    call_id         BLOB PRIMARY KEY NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    org_id          BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    state           TEXT NOT NULL CHECK (state IN
                        ('pending', 'writing', 'done', 'skipped', 'held', 'dead', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    in_doubt        INTEGER NOT NULL DEFAULT 0 CHECK (in_doubt IN (0, 1)),
    next_at         INTEGER NOT NULL,
    reason          TEXT CHECK (length(reason) <= 40),
    summary_sealed  BLOB,
    activity_id     TEXT CHECK (length(activity_id) <= 128),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    synced_at       INTEGER
) STRICT;

CREATE INDEX sync_outbox_due ON sync_outbox (next_at) WHERE state = 'pending';
CREATE INDEX sync_outbox_by_org_state ON sync_outbox (org_id, state);

-- `call_transcripts`: the provider's transcript of a call, sealed (JSON utterances), until the
-- sync or the PII cap.
CREATE TABLE call_transcripts (
    call_id              BLOB PRIMARY KEY NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    org_id               BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    utterances_sealed    BLOB NOT NULL,
    received_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX call_transcripts_by_age ON call_transcripts (received_at);

-- What a purged call keeps: the client's number masked to its last four digits (`***-***-1234`,
-- for the agency's own reporting), when its note landed and its PII went, and its agent. With
-- direction, state, answered and the times, this is the anonymized metrics row.
ALTER TABLE calls ADD COLUMN number_masked TEXT CHECK (length(number_masked) <= 16);
ALTER TABLE calls ADD COLUMN synced_at INTEGER;
ALTER TABLE calls ADD COLUMN purged_at INTEGER;
-- The agent who handled the call (wrote its notes, picked its record, or the one it rang for).
ALTER TABLE calls ADD COLUMN agent_id BLOB REFERENCES users (id) ON DELETE SET NULL;

-- The org's policy for a call that matches no AMS record: skip it (NULL, the default: purged,
-- nothing written) or write it on this catch-all record (an AMS record id, not personal data).
ALTER TABLE ams_connections ADD COLUMN catch_all_record TEXT CHECK (length(catch_all_record) <= 128);
