-- 0007: calls, screen pops and each user's stream of events (DESIGN §2 steps 2–5, §4 WebSocket).
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- `calls`: one row per call as the relay follows it, whatever number of legs the provider uses.
-- `call_key` is SHA-256(integration id || the provider's call key — the parent/master id when the
-- provider sends one), so the provider's ids, which some build from call data, are never stored in
-- clear. `state` only moves forward (the state machine is in the store crate, calls.rs). The
-- client's number is sealed with the org's data key, bound to the row, and kept only until the AMS
-- sync (or the PII hard cap).
CREATE TABLE calls (
    id              BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id          BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    integration_id  BLOB NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    call_key        BLOB NOT NULL CHECK (length(call_key) = 32),
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'unknown')),
    state           TEXT NOT NULL CHECK (state IN
                        ('ringing', 'answered', 'transferred', 'ended', 'missed', 'voicemail')),
    answered        INTEGER NOT NULL DEFAULT 0 CHECK (answered IN (0, 1)),
    number_sealed   BLOB,
    started_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    UNIQUE (integration_id, call_key)
) STRICT;

CREATE INDEX calls_by_org_time ON calls (org_id, started_at);

-- `call_legs`: each provider leg of a call and its own forward-only state. A call is over when
-- every leg it has is; a late event for a finished leg changes nothing.
CREATE TABLE call_legs (
    call_id         BLOB NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    leg_key         BLOB NOT NULL CHECK (length(leg_key) = 32),
    state           TEXT NOT NULL CHECK (state IN
                        ('ringing', 'answered', 'transferred', 'ended', 'missed', 'voicemail')),
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (call_id, leg_key)
) STRICT, WITHOUT ROWID;

-- `pops`: one call shown to one user (all of that user's devices), at most once per call and user.
-- 5 minutes after it was made it expires: every stream event that carried it is deleted and
-- `expired_at` set; the row itself (ids and times, no personal data) stays, so the same call
-- never pops the same user twice.
CREATE TABLE pops (
    id              BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id          BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    call_id         BLOB NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    dismissed_at    INTEGER,
    expired_at      INTEGER,
    UNIQUE (call_id, user_id)
) STRICT;

CREATE INDEX pops_by_expiry ON pops (expires_at) WHERE expired_at IS NULL;

-- `stream_cursors`: the last `seq` given to each user; it only grows, across restarts.
CREATE TABLE stream_cursors (
    user_id         BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_seq        INTEGER NOT NULL CHECK (last_seq >= 0)
) STRICT;

-- `stream_events`: every event a user's devices were sent, kept for `resume` until it expires.
-- The message JSON (numbers, names) is sealed with the org's data key, bound to (user, seq).
-- Events about a pop go when the pop goes (ON DELETE CASCADE); the rest at `expires_at`.
CREATE TABLE stream_events (
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    org_id          BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pop_id          BLOB REFERENCES pops (id) ON DELETE CASCADE,
    message_sealed  BLOB NOT NULL,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX stream_events_by_expiry ON stream_events (expires_at);
CREATE INDEX stream_events_by_pop ON stream_events (pop_id);
