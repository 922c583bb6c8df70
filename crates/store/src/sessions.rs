//! Sessions, refresh-token families and known devices.
//!
//! Why it looks like this:
//! - **Only hashes of tokens are stored.** Access and refresh tokens are 128-bit random values;
//!   the row holds their SHA-256, so a copy of the database cannot be replayed as a session.
//!   Lookup by hash is the one query that is not scoped by org: the token *is* the credential,
//!   and the row it finds names the org for everything after.
//! - **One row per token family.** A refresh replaces both hashes in place (conditionally on the
//!   old refresh hash, so two concurrent refreshes cannot both win) and files the old refresh
//!   hash in `retired_refresh_tokens`. Seeing a retired hash again means a token was copied:
//!   the caller revokes the row, which is the whole family.
//! - **Revocation is a state, not a delete**, so "why did my session end?" has an answer
//!   (`revoked_reason`) until hygiene removes old rows.
//! - **The device name is personal data** (people name laptops after themselves): sealed.

use ringside_core::{DeviceId, OrgId, Pii, SessionId, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::audit::{AuditEntry, append};
use crate::rows::{Table, bytes16, id, require_changed};
use crate::sealed::{SealedColumn, persist_seal_counts};
use crate::users::TokenHash;
use crate::{Error, Store};

/// Why a session ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// The user signed out.
    Logout,
    /// The user ended it from their session list.
    RevokedByUser,
    /// An admin ended it.
    RevokedByAdmin,
    /// The user was disabled.
    UserDisabled,
    /// A retired refresh token was presented: the family is presumed stolen.
    RefreshReuse,
    /// The user's password or second factor changed and they chose to end other sessions.
    CredentialsChanged,
}

impl RevokeReason {
    /// The stored (and wire) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::RevokedByUser => "revoked_by_user",
            Self::RevokedByAdmin => "revoked_by_admin",
            Self::UserDisabled => "user_disabled",
            Self::RefreshReuse => "refresh_reuse",
            Self::CredentialsChanged => "credentials_changed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Logout,
            Self::RevokedByUser,
            Self::RevokedByAdmin,
            Self::UserDisabled,
            Self::RefreshReuse,
            Self::CredentialsChanged,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A session as stored (no token, no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Org of the user.
    pub org: OrgId,
    /// The user.
    pub user: UserId,
    /// The device it is bound to.
    pub device: DeviceId,
    /// When the current access token stops working.
    pub access_expires_at: i64,
    /// Created (sign-in time).
    pub created_at: i64,
    /// Last use of either token (idle timeout counts from here).
    pub last_seen_at: i64,
    /// The absolute end, whatever the activity.
    pub absolute_expires_at: i64,
    /// When the second factor was last verified in this session.
    pub mfa_verified_at: Option<i64>,
    /// How many times the tokens were rotated.
    pub rotations: u32,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// Why it was revoked.
    pub revoked_reason: Option<RevokeReason>,
}

/// A session with its device name opened, for "my sessions" and the admin view.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// The session.
    pub session: Session,
    /// The device name the client gave at sign-in.
    pub device_name: Pii<String>,
}

/// What creating a session needs.
#[derive(Debug)]
pub struct NewSession {
    /// Fresh id.
    pub id: SessionId,
    /// Org.
    pub org: OrgId,
    /// User.
    pub user: UserId,
    /// The known device it is bound to.
    pub device: DeviceId,
    /// The device's name.
    pub device_name: Pii<String>,
    /// SHA-256 of the access token.
    pub access_hash: TokenHash,
    /// When the access token stops working.
    pub access_expires_at: i64,
    /// SHA-256 of the refresh token.
    pub refresh_hash: TokenHash,
    /// Now.
    pub created_at: i64,
    /// The absolute end.
    pub absolute_expires_at: i64,
    /// When the second factor was verified, if it was at sign-in.
    pub mfa_verified_at: Option<i64>,
}

/// New tokens for a session (a refresh).
#[derive(Debug, Clone, Copy)]
pub struct Rotation {
    /// SHA-256 of the new access token.
    pub access_hash: TokenHash,
    /// When it stops working.
    pub access_expires_at: i64,
    /// SHA-256 of the new refresh token.
    pub refresh_hash: TokenHash,
    /// Now.
    pub now: i64,
}

/// What a refresh-token hash is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshLookup {
    /// The current refresh token of this session.
    Current(Session),
    /// A refresh token this session already used: a replay.
    Retired(Session),
    /// Nothing we issued (or long purged).
    Unknown,
}

const SESSIONS: Table<Session> = Table {
    name: "sessions",
    columns: "id, org_id, user_id, device_id, access_expires_at, created_at, last_seen_at, \
              absolute_expires_at, mfa_verified_at, rotations, revoked_at, revoked_reason",
    what: "session",
    read: session_row,
};

/// The device name, sealed (personal data).
const DEVICE_NAME: SealedColumn = SealedColumn::new("sessions", "device_name");

fn session_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    let reason: Option<String> = r.get(11)?;
    Ok(Session {
        id: id(r, 0, SessionId::from_bytes)?,
        org: id(r, 1, OrgId::from_bytes)?,
        user: id(r, 2, UserId::from_bytes)?,
        device: id(r, 3, DeviceId::from_bytes)?,
        access_expires_at: r.get(4)?,
        created_at: r.get(5)?,
        last_seen_at: r.get(6)?,
        absolute_expires_at: r.get(7)?,
        mfa_verified_at: r.get(8)?,
        rotations: r.get(9)?,
        revoked_at: r.get(10)?,
        revoked_reason: reason.as_deref().and_then(RevokeReason::parse),
    })
}

/// Revokes every live session of a user inside `tx`, except `keep`; returns their ids.
pub(crate) fn revoke_user_sessions_in(
    tx: &Transaction<'_>,
    org: OrgId,
    user: UserId,
    reason: RevokeReason,
    now: i64,
    keep: Option<SessionId>,
) -> Result<Vec<SessionId>, Error> {
    let keep = keep.map(|k| *k.as_bytes()).unwrap_or_default();
    let mut stmt = tx.prepare(
        "UPDATE sessions SET revoked_at = ?3, revoked_reason = ?4
         WHERE org_id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND id != ?5
         RETURNING id",
    )?;
    let ids = stmt
        .query_map(
            params![org.as_bytes(), user.as_bytes(), now, reason.as_str(), keep],
            |r| id(r, 0, SessionId::from_bytes),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids)
}

/// Sessions and known devices, and the identity purge.
pub trait SessionStore {
    /// Stores a new session (sign-in), its device name sealed.
    fn create_session(
        &self,
        new: &NewSession,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// The session whose current access token hashes to `hash` (revoked or expired ones too:
    /// the caller decides and says why).
    fn session_by_access_hash(&self, hash: &TokenHash) -> Result<Option<Session>, Error>;

    /// What a refresh-token hash is: current, retired (a replay), or unknown.
    fn session_by_refresh_hash(&self, hash: &TokenHash) -> Result<RefreshLookup, Error>;

    /// One session of `org`.
    fn session(&self, org: OrgId, id: SessionId) -> Result<Session, Error>;

    /// Replaces a live session's tokens, if `old_refresh` is still its current refresh token;
    /// the old one is filed as retired. Returns `false` (nothing changed) if another refresh
    /// won the race or the session was revoked meanwhile.
    fn rotate_session(
        &self,
        org: OrgId,
        id: SessionId,
        old_refresh: &TokenHash,
        rotation: &Rotation,
        audit: &AuditEntry,
    ) -> Result<bool, Error>;

    /// Records activity on a session (the idle timeout counts from the last activity). Not
    /// audited: it is a clock reading, not a change anyone made.
    fn touch_session(&self, id: SessionId, now: i64) -> Result<(), Error>;

    /// Records that the second factor was verified in this session now (login or step-up).
    fn mark_session_mfa_verified(
        &self,
        org: OrgId,
        id: SessionId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// Revokes one session of `org`; returns its user if it was live (nothing to do otherwise:
    /// [`Error::NotFound`] if it does not exist in this org).
    fn revoke_session(
        &self,
        org: OrgId,
        id: SessionId,
        reason: RevokeReason,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<Option<UserId>, Error>;

    /// Revokes every live session of a user of `org` (except `keep`); returns their ids.
    fn revoke_user_sessions(
        &self,
        org: OrgId,
        user: UserId,
        reason: RevokeReason,
        now: i64,
        keep: Option<SessionId>,
        audit: &AuditEntry,
    ) -> Result<Vec<SessionId>, Error>;

    /// The live sessions (not revoked, not past their absolute end) of a user of `org`, newest
    /// first, with device names opened.
    fn sessions_of_user(
        &self,
        org: OrgId,
        user: UserId,
        now: i64,
        keys: &OrgKeyring,
    ) -> Result<Vec<SessionInfo>, Error>;

    /// The known device of this user whose token hashes to `hash`.
    fn known_device(
        &self,
        org: OrgId,
        user: UserId,
        hash: &TokenHash,
    ) -> Result<Option<DeviceId>, Error>;

    /// Remembers a device that completed a sign-in (its token hashed), or refreshes its
    /// last use if it is already known.
    fn remember_device(
        &self,
        org: OrgId,
        user: UserId,
        id: DeviceId,
        hash: &TokenHash,
        now: i64,
    ) -> Result<(), Error>;

    /// Hygiene: deletes sessions that ended (revoked or past their absolute end) before
    /// `ended_before`, devices unused since `devices_unused_since`, and invitations that expired,
    /// were accepted or revoked before `invitations_before`. Returns the counts.
    fn purge_identity(
        &self,
        ended_before: i64,
        devices_unused_since: i64,
        invitations_before: i64,
    ) -> Result<IdentityPurge, Error>;
}

impl SessionStore for Store {
    fn create_session(
        &self,
        new: &NewSession,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        let name = DEVICE_NAME.seal_text(keys, new.org, new.id.as_bytes(), &new.device_name)?;
        self.audited(audit, |tx| {
            let inserted = tx.execute(
            "INSERT INTO sessions (id, org_id, user_id, device_id, device_name_sealed, access_hash,
                                   access_expires_at, refresh_hash, created_at, last_seen_at,
                                   absolute_expires_at, mfa_verified_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11
             WHERE EXISTS (SELECT 1 FROM users WHERE id = ?3 AND org_id = ?2 AND status = 'active')",
                params![
                    new.id.as_bytes(),
                    new.org.as_bytes(),
                    new.user.as_bytes(),
                    new.device.as_bytes(),
                    name,
                    new.access_hash.0,
                    new.access_expires_at,
                    new.refresh_hash.0,
                    new.created_at,
                    new.absolute_expires_at,
                    new.mfa_verified_at
                ],
            )?;
            // No row: the user is not (or no longer) an active user of the org.
            require_changed(inserted, "user")?;
            persist_seal_counts(tx, keys)
        })
    }

    fn session_by_access_hash(&self, hash: &TokenHash) -> Result<Option<Session>, Error> {
        SESSIONS.find(&self.read(), "WHERE access_hash = ?1", [hash.0])
    }

    fn session_by_refresh_hash(&self, hash: &TokenHash) -> Result<RefreshLookup, Error> {
        let conn = self.conn();
        if let Some(session) = SESSIONS.find(&conn, "WHERE refresh_hash = ?1", [hash.0])? {
            return Ok(RefreshLookup::Current(session));
        }
        let retired = SESSIONS.find(
            &conn,
            "WHERE id = (SELECT session_id FROM retired_refresh_tokens WHERE token_hash = ?1)",
            [hash.0],
        )?;
        Ok(retired.map_or(RefreshLookup::Unknown, RefreshLookup::Retired))
    }

    fn session(&self, org: OrgId, id: SessionId) -> Result<Session, Error> {
        SESSIONS.in_org(&self.read(), org, id.as_bytes())
    }

    fn rotate_session(
        &self,
        org: OrgId,
        id: SessionId,
        old_refresh: &TokenHash,
        rotation: &Rotation,
        audit: &AuditEntry,
    ) -> Result<bool, Error> {
        // Not `audited`: a refresh that lost the race changed nothing and is not audited.
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE sessions SET access_hash = ?4, access_expires_at = ?5, refresh_hash = ?6,
                                     last_seen_at = ?7, rotations = rotations + 1
                 WHERE org_id = ?1 AND id = ?2 AND refresh_hash = ?3 AND revoked_at IS NULL",
                params![
                    org.as_bytes(),
                    id.as_bytes(),
                    old_refresh.0,
                    rotation.access_hash.0,
                    rotation.access_expires_at,
                    rotation.refresh_hash.0,
                    rotation.now
                ],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO retired_refresh_tokens (token_hash, session_id, retired_at) VALUES (?1, ?2, ?3)",
                params![old_refresh.0, id.as_bytes(), rotation.now],
            )?;
            append(tx, audit, self.now_ms())?;
            Ok(true)
        })
    }

    fn touch_session(&self, id: SessionId, now: i64) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE sessions SET last_seen_at = max(last_seen_at, ?2) WHERE id = ?1",
            params![id.as_bytes(), now],
        )?;
        Ok(())
    }

    fn mark_session_mfa_verified(
        &self,
        org: OrgId,
        id: SessionId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE sessions SET mfa_verified_at = ?3, last_seen_at = max(last_seen_at, ?3)
                 WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                params![org.as_bytes(), id.as_bytes(), now],
            )?;
            require_changed(changed, "session")
        })
    }

    fn revoke_session(
        &self,
        org: OrgId,
        id: SessionId,
        reason: RevokeReason,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<Option<UserId>, Error> {
        // Not `audited`: ending an ended session changes nothing and is not audited.
        let user: Option<Vec<u8>> = self.write(|tx| {
            let user = tx
                .query_row(
                    "UPDATE sessions SET revoked_at = ?3, revoked_reason = ?4
                     WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL RETURNING user_id",
                    params![org.as_bytes(), id.as_bytes(), now, reason.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            if user.is_some() {
                append(tx, audit, self.now_ms())?;
            } else {
                // Already ended; or `NotFound` if there is no such session in `org`.
                SESSIONS.in_org(tx, org, id.as_bytes())?;
            }
            Ok(user)
        })?;
        Ok(user.map(bytes16).transpose()?.map(UserId::from_bytes))
    }

    fn revoke_user_sessions(
        &self,
        org: OrgId,
        user: UserId,
        reason: RevokeReason,
        now: i64,
        keep: Option<SessionId>,
        audit: &AuditEntry,
    ) -> Result<Vec<SessionId>, Error> {
        self.audited(audit, |tx| {
            revoke_user_sessions_in(tx, org, user, reason, now, keep)
        })
    }

    fn sessions_of_user(
        &self,
        org: OrgId,
        user: UserId,
        now: i64,
        keys: &OrgKeyring,
    ) -> Result<Vec<SessionInfo>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&SESSIONS.select(
            "device_name_sealed",
            "WHERE org_id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND absolute_expires_at > ?3
             ORDER BY created_at DESC, id",
        ))?;
        let rows = stmt
            .query_map(params![org.as_bytes(), user.as_bytes(), now], |r| {
                Ok((session_row(r)?, r.get::<_, Vec<u8>>(12)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(session, sealed)| {
                let device_name =
                    DEVICE_NAME.open_text(keys, org, session.id.as_bytes(), &sealed)?;
                Ok(SessionInfo {
                    session,
                    device_name,
                })
            })
            .collect()
    }

    fn known_device(
        &self,
        org: OrgId,
        user: UserId,
        hash: &TokenHash,
    ) -> Result<Option<DeviceId>, Error> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM known_devices WHERE org_id = ?1 AND user_id = ?2 AND token_hash = ?3",
                params![org.as_bytes(), user.as_bytes(), hash.0],
                |r| id(r, 0, DeviceId::from_bytes),
            )
            .optional()?)
    }

    fn remember_device(
        &self,
        org: OrgId,
        user: UserId,
        id: DeviceId,
        hash: &TokenHash,
        now: i64,
    ) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO known_devices (id, org_id, user_id, token_hash, created_at, last_used_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (id) DO UPDATE SET last_used_at = ?5
             WHERE known_devices.org_id = ?2 AND known_devices.user_id = ?3",
            params![id.as_bytes(), org.as_bytes(), user.as_bytes(), hash.0, now],
        )?;
        Ok(())
    }

    fn purge_identity(
        &self,
        ended_before: i64,
        devices_unused_since: i64,
        invitations_before: i64,
    ) -> Result<IdentityPurge, Error> {
        self.write(|tx| {
            Ok(IdentityPurge {
                sessions: tx.execute(
                    "DELETE FROM sessions WHERE absolute_expires_at < ?1 OR revoked_at < ?1",
                    [ended_before],
                )?,
                devices: tx.execute(
                    "DELETE FROM known_devices WHERE last_used_at < ?1",
                    [devices_unused_since],
                )?,
                invitations: tx.execute(
                    "DELETE FROM invitations
                     WHERE expires_at < ?1 OR accepted_at < ?1 OR revoked_at < ?1",
                    [invitations_before],
                )?,
            })
        })
    }
}

/// What [`SessionStore::purge_identity`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IdentityPurge {
    /// Ended sessions.
    pub sessions: usize,
    /// Devices unused for too long.
    pub devices: usize,
    /// Finished invitations.
    pub invitations: usize,
}
