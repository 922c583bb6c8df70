-- 0008: an org's AMS connection — at most one per org (docs/ams.md).
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- The credentials (OAuth client secret, access token or password, as JSON) are sealed with the
-- org's data key, bound to (org, "ams_connections", "credentials", org id); no route ever returns
-- them. Disconnecting deletes the row, and with it the sealed credentials, at once. What the AMS
-- answers is never stored here: lookups are live.
CREATE TABLE ams_connections (
    org_id               BLOB PRIMARY KEY NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL
                         CHECK (kind IN ('applied-epic', 'hubspot', 'nowcerts', 'sandbox')),
    base_url             TEXT NOT NULL CHECK (length(base_url) <= 512),
    credentials_sealed   BLOB NOT NULL,
    connected_at         INTEGER NOT NULL,
    -- The last `ams test`: when, and `ok` or the failure's stable reason.
    last_test_at         INTEGER,
    last_test_result     TEXT CHECK (length(last_test_result) <= 32),
    CHECK ((last_test_at IS NULL) = (last_test_result IS NULL))
) STRICT;
