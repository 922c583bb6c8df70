-- 0011: finding a number without reading it, text messages in the sync, ending an account, and
-- each org's summarizer (docs/lifecycle.md).
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- `number_index`: HMAC-SHA256 of the client's number (E.164) under the installation's
-- `number-index` secret — a blind index. It finds every record of one number for an erasure
-- request or an SMS opt-out without storing the number in clear (an unkeyed hash of a phone
-- number is a dictionary lookup away from it). It goes with the number: the sync's purge and the
-- PII cap clear both.
ALTER TABLE calls ADD COLUMN number_index BLOB CHECK (number_index IS NULL OR length(number_index) = 32);

CREATE INDEX calls_by_number ON calls (org_id, number_index) WHERE number_index IS NOT NULL;

-- A text message is kept as a one-event interaction on `calls` (`kind = 'sms'`, state `ended`,
-- no legs, no pops): it has what a call has — a direction, the client's number, a time — and the
-- same life after it: one outbox row, one note in the AMS, then the purge, the cap and the
-- erasure, by the same code. `call_key` is then SHA-256(integration id || "sms:" || event id).
ALTER TABLE calls ADD COLUMN kind TEXT NOT NULL DEFAULT 'call' CHECK (kind IN ('call', 'sms'));

-- The text and the provider's contact name of an SMS, sealed (bound to the row), until the sync
-- or the PII cap.
CREATE TABLE sms_bodies (
    call_id              BLOB PRIMARY KEY NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    org_id               BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    text_sealed          BLOB,
    contact_name_sealed  BLOB,
    received_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX sms_bodies_by_age ON sms_bodies (received_at);

-- The `sms` stream event of a text (its sealed copy for `resume`) goes when the text does.
ALTER TABLE stream_events ADD COLUMN call_id BLOB REFERENCES calls (id) ON DELETE CASCADE;

CREATE INDEX stream_events_by_call ON stream_events (call_id) WHERE call_id IS NOT NULL;

-- Numbers that texted STOP (or UNSUBSCRIBE, …) and not START since: the agency's suppression
-- list, shown on that number's next pop. Only the blind index is kept, and it outlives the cap
-- and an erasure on purpose: it is the record that this person asked not to be texted.
CREATE TABLE sms_opt_outs (
    org_id        BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    number_index  BLOB NOT NULL CHECK (length(number_index) = 32),
    opted_out_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, number_index)
) STRICT, WITHOUT ROWID;

-- Ending an account: when the org was terminated (NULL: it is live). From then on it is
-- read-only and its webhooks answer 410; `org restore` clears it; 30 days later the org's data
-- keys are destroyed and its rows deleted in cascade.
ALTER TABLE orgs ADD COLUMN terminated_at INTEGER;

-- Each org's choice of summarizer: none (the built-in, local extractive one) or an
-- OpenAI-compatible chat-completions endpoint the agency trusts (OpenAI, Azure OpenAI, Ollama,
-- vLLM). The endpoint and model are configuration, not personal data; the API key is sealed
-- with the org's data key, bound to the org.
CREATE TABLE summarizers (
    org_id      BLOB PRIMARY KEY NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    base_url    TEXT NOT NULL CHECK (length(base_url) BETWEEN 1 AND 2048),
    model       TEXT NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    auth        TEXT NOT NULL CHECK (auth IN ('bearer', 'azure_api_key')),
    key_sealed  BLOB,
    updated_at  INTEGER NOT NULL
) STRICT;

-- A provider API key for an integration (Dialpad's: its post-call AI transcripts are fetched
-- from its API), sealed with the org's data key, bound to the integration; and the API's base
-- URL when not the provider's own (a proxy, a test server). Revoking the integration deletes it.
ALTER TABLE integrations ADD COLUMN api_key_sealed BLOB;
ALTER TABLE integrations ADD COLUMN api_base TEXT CHECK (api_base IS NULL OR length(api_base) <= 2048);
