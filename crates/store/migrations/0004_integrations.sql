-- 0004: integrations — an org's connection to one telephony provider (DESIGN §4, Webhooks).
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- The id is a random 128-bit token and is the only thing in the webhook URL
-- (`/v1/hooks/int_…`), so the URL is unguessable; the provider's own signature scheme is still
-- checked with `secret_sealed`, which is sealed with the org's data key and bound to
-- (org, "integrations", "secret", id). Revoking an integration sets `disabled_at` and deletes the
-- sealed secret in the same statement: a revoked integration can never authenticate again.
CREATE TABLE integrations (
    id             BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id         BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    provider       TEXT NOT NULL
                   CHECK (provider IN ('dialpad', 'ringcentral', 'vonage', 'twilio', 'standard')),
    secret_sealed  BLOB,
    -- Provider options that are not secrets (the Vonage VIS signature header, the SMS signature
    -- method), as the providers crate serializes them.
    settings       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    -- Chosen by an admin to tell integrations apart ("Main line"); not personal data.
    label          TEXT NOT NULL DEFAULT '' CHECK (length(label) <= 64),
    created_at     INTEGER NOT NULL,
    disabled_at    INTEGER,
    CHECK ((secret_sealed IS NULL) = (disabled_at IS NOT NULL))
) STRICT;

CREATE INDEX integrations_by_org ON integrations (org_id, created_at);
