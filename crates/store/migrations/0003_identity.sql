-- 0003: identity — users, invitations, second factors, devices, sessions, login throttling.
-- Released migrations are never edited: add a new numbered file instead (docs/operations.md).
--
-- Conventions: ids are the 16 raw bytes of a ringside-core id; times are unix seconds (UTC);
-- `*_sealed` columns hold AES-256-GCM blobs sealed with the org's data key and bound to
-- (org, table, column, row id), so the file alone reveals no personal data (DESIGN §3); `*_hash`
-- columns hold SHA-256 of a 128-bit (or longer) random secret, never the secret itself.

-- Org-wide sign-in policy. One row per org once an admin changes it; no row = defaults.
CREATE TABLE org_auth_policy (
    org_id               BLOB PRIMARY KEY NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    -- Owners and admins must always enrol a second factor; this extends it to everyone.
    require_mfa_for_all  INTEGER NOT NULL DEFAULT 0 CHECK (require_mfa_for_all IN (0, 1)),
    updated_at           INTEGER NOT NULL
) STRICT;

-- People who sign in. An email address belongs to at most one user in the whole installation
-- (one person, one org): `email_index` is an HMAC-SHA256 blind index of the normalized address
-- under an installation secret, so login can find the user without the org and without the
-- address being readable in the file.
CREATE TABLE users (
    id                   BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id               BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email_index          BLOB NOT NULL UNIQUE CHECK (length(email_index) = 32),
    email_sealed         BLOB NOT NULL,
    display_name_sealed  BLOB NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent', 'viewer')),
    status               TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    -- argon2id PHC string (parameters inside it, so they can be raised later and old hashes
    -- still verify; a successful login re-hashes with the current parameters).
    password_hash        TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    password_changed_at  INTEGER NOT NULL,
    -- The confirmed TOTP secret, when it was confirmed, and the last time step accepted: a code
    -- whose step is not greater than this one is a replay and is refused (ASVS 6.5.1).
    totp_secret_sealed   BLOB,
    totp_enrolled_at     INTEGER,
    totp_last_step       INTEGER,
    -- A secret being enrolled but not yet confirmed with a first code. Kept apart so that
    -- re-enrolling does not disable the factor in use until the new one is proven.
    totp_pending_sealed  BLOB,
    totp_pending_at      INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    CHECK ((totp_secret_sealed IS NULL) = (totp_enrolled_at IS NULL)),
    CHECK ((totp_pending_sealed IS NULL) = (totp_pending_at IS NULL))
) STRICT;

CREATE INDEX users_by_org ON users (org_id, role, status);

-- Single-use recovery codes (10 per enrolment, 80 bits each), SHA-256 only.
CREATE TABLE recovery_codes (
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   BLOB NOT NULL CHECK (length(code_hash) = 32),
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

-- Invitations: the only way in (nobody signs up). The code is shown once; only its SHA-256 is
-- kept. Single use (accepted_at), expiring (expires_at), revocable (revoked_at).
CREATE TABLE invitations (
    id             BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id         BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    code_hash      BLOB NOT NULL UNIQUE CHECK (length(code_hash) = 32),
    email_index    BLOB NOT NULL CHECK (length(email_index) = 32),
    email_sealed   BLOB NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent', 'viewer')),
    -- NULL: created by the operator on the relay's command line.
    invited_by     BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    accepted_at    INTEGER,
    accepted_user  BLOB REFERENCES users (id) ON DELETE SET NULL,
    revoked_at     INTEGER,
    CHECK (expires_at > created_at)
) STRICT;

CREATE INDEX invitations_by_org ON invitations (org_id, created_at);
CREATE INDEX invitations_by_expiry ON invitations (expires_at);

-- Devices that completed a sign-in. The desktop app keeps the device token in the OS keychain;
-- presenting it puts failed logins from that device in their own back-off bucket, so an attacker
-- who hammers the account from elsewhere cannot lock its owner out (docs/security.md).
CREATE TABLE known_devices (
    id            BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id        BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id       BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX known_devices_by_user ON known_devices (user_id);

-- Sessions. One row is one refresh-token family: each refresh replaces both token hashes and
-- files the old refresh hash under retired_refresh_tokens; presenting a retired one revokes the
-- row (the whole family).
CREATE TABLE sessions (
    id                   BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    org_id               BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id              BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id            BLOB NOT NULL CHECK (length(device_id) = 16),
    device_name_sealed   BLOB NOT NULL,
    access_hash          BLOB NOT NULL UNIQUE CHECK (length(access_hash) = 32),
    access_expires_at    INTEGER NOT NULL,
    refresh_hash         BLOB NOT NULL UNIQUE CHECK (length(refresh_hash) = 32),
    created_at           INTEGER NOT NULL,
    last_seen_at         INTEGER NOT NULL,
    absolute_expires_at  INTEGER NOT NULL,
    -- When the second factor was last verified in this session (login or step-up).
    mfa_verified_at      INTEGER,
    rotations            INTEGER NOT NULL DEFAULT 0 CHECK (rotations >= 0),
    revoked_at           INTEGER,
    revoked_reason       TEXT CHECK (revoked_reason IN ('logout', 'revoked_by_user',
                             'revoked_by_admin', 'user_disabled', 'refresh_reuse',
                             'credentials_changed')),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
) STRICT;

CREATE INDEX sessions_by_user ON sessions (org_id, user_id);
CREATE INDEX sessions_by_expiry ON sessions (absolute_expires_at);

CREATE TABLE retired_refresh_tokens (
    token_hash  BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    session_id  BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    retired_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX retired_refresh_tokens_by_session ON retired_refresh_tokens (session_id);

-- Login back-off, keyed by the email's blind index (`subject`), NOT by user: an address that
-- belongs to nobody is throttled exactly like one that does, so the answers never tell them
-- apart. `bucket` is 32 zero bytes for unknown devices, or a known device's token hash.
CREATE TABLE login_throttle (
    subject          BLOB NOT NULL CHECK (length(subject) = 32),
    bucket           BLOB NOT NULL CHECK (length(bucket) = 32),
    failures         INTEGER NOT NULL CHECK (failures >= 0),
    last_failure_at  INTEGER NOT NULL,
    next_allowed_at  INTEGER NOT NULL,
    PRIMARY KEY (subject, bucket)
) STRICT;

-- Every counted failure of the last hour, for the per-account ceiling (ASVS 4.0.3 V2.2.1: at
-- most 100 failed attempts per hour per account). Rows older than an hour are pruned.
CREATE TABLE login_failures (
    subject  BLOB NOT NULL CHECK (length(subject) = 32),
    at       INTEGER NOT NULL
) STRICT;

CREATE INDEX login_failures_by_subject ON login_failures (subject, at);
