-- 0005: the webhook event log and the inbox (DESIGN §2 step 1, §4 Webhooks).
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- `webhook_events` is the log of what each webhook came to: ids and outcome only, never the
-- payload. The provider's event identity is kept only as SHA-256(integration id || event id), so
-- an id that embeds a phone number (some providers build them from call data) is never stored in
-- clear; UNIQUE (integration_id, event_hash) is the deduplication. Rejected requests have no
-- trusted identity, so their hash is NULL (SQLite lets NULLs repeat under UNIQUE). Rows are kept
-- at least 24 h (the dedupe window) and at most retention.webhook_log_days.
CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY,
    integration_id  BLOB NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    event_hash      BLOB CHECK (event_hash IS NULL OR length(event_hash) = 32),
    received_at     INTEGER NOT NULL,
    -- accepted | ignored | a ProviderError code (bad_signature, …)
    outcome         TEXT NOT NULL CHECK (length(outcome) BETWEEN 1 AND 40),
    -- How many times the same event came again (answered 200, not re-processed).
    duplicates      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (integration_id, event_hash)
) STRICT;

CREATE INDEX webhook_events_by_time ON webhook_events (received_at);

-- `inbox`: accepted events waiting for the pipeline (call state machine, routing, hub). The
-- event JSON is sealed with the org's data key, bound to (org, "inbox", "event", id), where id is
-- the event hash: a row cannot be read without the org's key nor pasted into another row.
CREATE TABLE inbox (
    id              BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 32),
    org_id          BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    integration_id  BLOB NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    event_sealed    BLOB NOT NULL,
    received_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX inbox_by_time ON inbox (received_at);
