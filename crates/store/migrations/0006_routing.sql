-- 0006: call routing — which users a call pops for (issue #4 item 5, docs/routing.md).
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- A route maps a provider user id, an extension or a dialed number to one user. These values are
-- the agency's own (its extensions, its numbers, its provider's user ids), not client personal
-- data, so they are plain text; numbers are stored normalized to E.164 so a lookup is one
-- equality. `integration_id` NULL means "every integration of the org".
--
-- Isolation is enforced by the schema as well as by the queries: the user (and the integration)
-- are referenced together with the org through composite foreign keys, so a row pointing at
-- another org's user cannot be written while foreign keys are on; the resolver also joins on the
-- org, so even a forged row would never route a call to another org's user.
CREATE UNIQUE INDEX users_id_org ON users (id, org_id);
CREATE UNIQUE INDEX integrations_id_org ON integrations (id, org_id);

CREATE TABLE routes (
    id              BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id          BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    integration_id  BLOB CHECK (integration_id IS NULL OR length(integration_id) = 16),
    kind            TEXT NOT NULL CHECK (kind IN ('provider_user', 'extension', 'number')),
    value           TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 128),
    user_id         BLOB NOT NULL CHECK (length(user_id) = 16),
    created_at      INTEGER NOT NULL,
    FOREIGN KEY (user_id, org_id) REFERENCES users (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (integration_id, org_id) REFERENCES integrations (id, org_id) ON DELETE CASCADE,
    CHECK (kind <> 'number' OR value GLOB '+[1-9]*')
) STRICT;

-- One route per (org, integration or all, kind, value, user). A table UNIQUE would let "all
-- integrations" routes repeat (SQLite treats NULLs as distinct), so the index maps NULL to x''.
CREATE UNIQUE INDEX routes_unique
    ON routes (org_id, coalesce(integration_id, x''), kind, value, user_id);
-- The resolver's lookup: this org's routes of one kind and value.
CREATE INDEX routes_lookup ON routes (org_id, kind, value);

-- Where a call no route matches goes. No row means `nobody` (the default), so an org never sends
-- every call to everyone by accident; `users` lists its members in routing_fallback_users.
CREATE TABLE routing_fallback (
    org_id      BLOB PRIMARY KEY NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('nobody', 'all', 'users')),
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE routing_fallback_users (
    org_id   BLOB NOT NULL REFERENCES routing_fallback (org_id) ON DELETE CASCADE,
    user_id  BLOB NOT NULL,
    PRIMARY KEY (org_id, user_id),
    FOREIGN KEY (user_id, org_id) REFERENCES users (id, org_id) ON DELETE CASCADE
) STRICT;
