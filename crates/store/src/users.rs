//! Users: who signs in, their role and status, password hash and second factor.
//!
//! Why it looks like this:
//! - **Personal data is sealed.** Email and display name are sealed with the org's data key and
//!   bound to (org, `users`, column, user id), so a copy of the file shows neither, and a sealed
//!   value pasted into another row or org fails to open.
//! - **Login needs a lookup without the org.** An email address is globally unique (one person,
//!   one org: an address invited into a second org is refused), and the relay computes a blind
//!   index of it (HMAC under an installation secret). [`UserStore::user_by_email_index`] is the only
//!   query here that is not scoped by org, because the person signing in has not told us their
//!   org; everything after it takes the org the user row names.
//! - **Rules that need a consistent read live in the transaction.** "The last owner cannot be
//!   demoted or disabled" and "a TOTP step is accepted once" are checked and written in one
//!   transaction (or one conditional `UPDATE`), so two concurrent requests cannot both pass.

use std::fmt;
use std::str::FromStr;

use ringside_core::{OrgId, Pii, Role, SessionId, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use zeroize::Zeroizing;

use crate::audit::AuditEntry;
use crate::rows::{Table, bytes32, conversion, id, require_changed, role_from};
use crate::sealed::{SealedColumn, check_keys, persist_seal_counts};
use crate::sessions::{RevokeReason, revoke_user_sessions_in};
use crate::{Error, Store};

/// A blind index of a normalized email address: HMAC-SHA256 under an installation secret,
/// computed by the relay. Equal addresses give equal indexes; the index reveals nothing about
/// the address without the secret. `Debug` does not print it (it still identifies a person).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmailIndex(pub [u8; 32]);

impl fmt::Debug for EmailIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailIndex([redacted])")
    }
}

/// SHA-256 of a random secret (session token, invitation code, recovery code, device token).
/// The secret itself is never stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash([redacted])")
    }
}

/// An argon2id password hash in PHC string format. `Debug` does not print it: a hash is
/// offline-crackable material.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string (the relay's password module makes them).
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// May sign in.
    Active,
    /// May not; every session ended when the user was disabled.
    Disabled,
}

impl UserStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

impl FromStr for UserStatus {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            _ => Err(()),
        }
    }
}

/// A user without their personal data: what sign-in and authorization need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// The org they belong to.
    pub org: OrgId,
    /// Blind index of their email address (login lookup, back-off subject).
    pub email_index: EmailIndex,
    /// Role in that org.
    pub role: Role,
    /// Active or disabled.
    pub status: UserStatus,
    /// argon2id PHC string.
    pub password_hash: PasswordHash,
    /// When a TOTP second factor was confirmed (`None`: not enrolled).
    pub mfa_enrolled_at: Option<i64>,
    /// The last TOTP time step accepted.
    pub totp_last_step: Option<i64>,
    /// Created (unix seconds).
    pub created_at: i64,
}

/// A user with their (opened) personal data, for the team list and "me".
#[derive(Debug, Clone)]
pub struct UserProfile {
    /// The user.
    pub user: User,
    /// Email address.
    pub email: Pii<String>,
    /// Display name.
    pub display_name: Pii<String>,
}

/// What creating a user needs (the invitation's acceptance does it).
#[derive(Debug)]
pub struct NewUser {
    /// A fresh id.
    pub id: UserId,
    /// The org.
    pub org: OrgId,
    /// Normalized email address.
    pub email: Pii<String>,
    /// Its blind index.
    pub email_index: EmailIndex,
    /// Display name.
    pub display_name: Pii<String>,
    /// Role.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: PasswordHash,
}

/// A TOTP secret waiting for its first code.
#[derive(Debug)]
pub struct PendingTotp {
    /// The secret (zeroized on drop).
    pub secret: Zeroizing<Vec<u8>>,
    /// When enrolment started (unix seconds).
    pub created_at: i64,
}

/// What confirming a TOTP enrolment records.
#[derive(Debug, Clone, Copy)]
pub struct TotpConfirmation<'a> {
    /// The step of the confirming code (it cannot be replayed).
    pub step: i64,
    /// Hashes of the new recovery codes.
    pub recovery: &'a [TokenHash],
    /// Now.
    pub now: i64,
}

const USERS: Table<User> = Table {
    name: "users",
    columns: "id, org_id, role, status, password_hash, totp_enrolled_at, totp_last_step, \
              created_at, email_index",
    what: "user",
    read: user_row,
};

/// The sealed personal data and second factor of a user.
const EMAIL: SealedColumn = SealedColumn::new("users", "email");
const DISPLAY_NAME: SealedColumn = SealedColumn::new("users", "display_name");
const TOTP_PENDING: SealedColumn = SealedColumn::new("users", "totp_pending");
const TOTP_SECRET: SealedColumn = SealedColumn::new("users", "totp_secret");

/// The sealed columns [`profile_row`] reads after the user's own.
const PROFILE_COLUMNS: &str = "email_sealed, display_name_sealed";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: id(r, 0, UserId::from_bytes)?,
        org: id(r, 1, OrgId::from_bytes)?,
        role: role_from(r.get(2)?)?,
        status: r
            .get::<_, String>(3)?
            .parse()
            .map_err(|()| conversion("unknown user status"))?,
        password_hash: PasswordHash(r.get(4)?),
        mfa_enrolled_at: r.get(5)?,
        totp_last_step: r.get(6)?,
        created_at: r.get(7)?,
        email_index: EmailIndex(bytes32(r.get(8)?)?),
    })
}

/// A user row followed by [`PROFILE_COLUMNS`], still sealed.
fn profile_row(r: &Row<'_>) -> rusqlite::Result<(User, Vec<u8>, Vec<u8>)> {
    Ok((user_row(r)?, r.get(9)?, r.get(10)?))
}

fn profile(keys: &OrgKeyring, user: User, email: &[u8], name: &[u8]) -> Result<UserProfile, Error> {
    let row = *user.id.as_bytes();
    let email = EMAIL.open_text(keys, user.org, &row, email)?;
    let display_name = DISPLAY_NAME.open_text(keys, user.org, &row, name)?;
    Ok(UserProfile {
        user,
        email,
        display_name,
    })
}

pub(crate) fn insert_user(
    tx: &Transaction<'_>,
    new: &NewUser,
    keys: &OrgKeyring,
    now: i64,
) -> Result<(), Error> {
    check_keys(keys, new.org)?;
    let row = new.id.as_bytes();
    let email = EMAIL.seal_text(keys, new.org, row, &new.email)?;
    let name = DISPLAY_NAME.seal_text(keys, new.org, row, &new.display_name)?;
    let inserted = tx.execute(
        "INSERT INTO users (id, org_id, email_index, email_sealed, display_name_sealed, role, status,
                            password_hash, password_changed_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8, ?8, ?8)
         ON CONFLICT (email_index) DO NOTHING",
        params![
            row,
            new.org.as_bytes(),
            new.email_index.0,
            email,
            name,
            new.role.as_str(),
            new.password_hash.as_str(),
            now
        ],
    )?;
    if inserted == 0 {
        return Err(Error::Conflict("email address"));
    }
    persist_seal_counts(tx, keys)?;
    Ok(())
}

/// Whether any user, in any org, has the address with this blind index.
pub(crate) fn email_index_taken(conn: &Connection, index: &EmailIndex) -> Result<bool, Error> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM users WHERE email_index = ?1",
            [index.0],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn active_owners(conn: &Connection, org: OrgId) -> Result<u32, Error> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE org_id = ?1 AND role = 'owner' AND status = 'active'",
        [org.as_bytes()],
        |r| r.get(0),
    )?)
}

/// [`Error::LastOwner`] if `user` is the last active owner of their org (call it before a
/// change that would stop them being one, inside that change's transaction).
fn keep_an_owner(tx: &Transaction<'_>, user: &User) -> Result<(), Error> {
    if user.role == Role::Owner
        && user.status == UserStatus::Active
        && active_owners(tx, user.org)? <= 1
    {
        return Err(Error::LastOwner);
    }
    Ok(())
}

/// Members: profiles, roles, status, passwords, TOTP and recovery codes.
pub trait UserStore {
    /// The user with this email blind index, in whichever org. The ONE user query not scoped by
    /// org: the person signing in has not told us their org yet (see the module docs).
    fn user_by_email_index(&self, index: &EmailIndex) -> Result<Option<User>, Error>;

    /// Whether any user, in any org, has this email address.
    fn email_index_in_use(&self, index: &EmailIndex) -> Result<bool, Error>;

    /// One user of `org`; [`Error::NotFound`] if there is none — including when the id belongs
    /// to another org.
    fn user(&self, org: OrgId, id: UserId) -> Result<User, Error>;

    /// One user of `org` with their personal data opened.
    fn user_profile(&self, org: OrgId, id: UserId, keys: &OrgKeyring)
    -> Result<UserProfile, Error>;

    /// Every user of `org`, oldest first, with their personal data opened.
    fn list(&self, org: OrgId, keys: &OrgKeyring) -> Result<Vec<UserProfile>, Error>;

    /// How many active owners `org` has.
    fn active_owner_count(&self, org: OrgId) -> Result<u32, Error>;

    /// The active users of `org` whose role is one of `roles`, oldest first (no personal data:
    /// for choosing who gets a notice).
    fn active_users_with_roles(&self, org: OrgId, roles: &[Role]) -> Result<Vec<UserId>, Error>;

    /// Changes a user's role. [`Error::LastOwner`] if that would leave `org` without an active
    /// owner (checked in the same transaction as the write).
    fn set_user_role(
        &self,
        org: OrgId,
        id: UserId,
        role: Role,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// Enables or disables a user. Disabling ends every session of the user in the same
    /// transaction (ASVS 7.4.2) and returns their ids, so the caller can tell open WebSockets.
    /// [`Error::LastOwner`] if it would leave `org` without an active owner.
    fn set_user_status(
        &self,
        org: OrgId,
        id: UserId,
        status: UserStatus,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<Vec<SessionId>, Error>;

    /// Replaces a user's password hash (a re-hash with stronger parameters after a successful
    /// login, or a password change).
    fn set_password_hash(
        &self,
        org: OrgId,
        id: UserId,
        hash: &PasswordHash,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// Stores a TOTP secret being enrolled (sealed), replacing any earlier pending one. The
    /// confirmed factor, if any, stays in force until [`UserStore::confirm_totp`].
    fn set_pending_totp(
        &self,
        org: OrgId,
        id: UserId,
        secret: &[u8],
        now: i64,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// The pending (unconfirmed) TOTP secret and when it was created, if any.
    fn pending_totp(
        &self,
        org: OrgId,
        id: UserId,
        keys: &OrgKeyring,
    ) -> Result<Option<PendingTotp>, Error>;

    /// The confirmed TOTP secret, if the user has enrolled.
    fn totp_secret(
        &self,
        org: OrgId,
        id: UserId,
        keys: &OrgKeyring,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Error>;

    /// Makes the pending TOTP secret the user's second factor: re-seals it into its own column,
    /// records `step` as the last one used (the confirming code cannot be replayed), and replaces
    /// the recovery codes with `recovery` (hashes), all in one transaction.
    /// [`Error::NotFound`]`("pending second factor")` if nothing is pending.
    fn confirm_totp(
        &self,
        org: OrgId,
        id: UserId,
        confirmation: &TotpConfirmation<'_>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// Removes the user's second factor and recovery codes (an admin resetting a lost device).
    fn remove_totp(
        &self,
        org: OrgId,
        id: UserId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// Records `step` as the last TOTP step used, if it is later than the last one; returns
    /// whether it was. One conditional `UPDATE`, so two requests racing with the same code
    /// cannot both get `true` (ASVS 6.5.1: a code works once).
    fn accept_totp_step(&self, org: OrgId, id: UserId, step: i64) -> Result<bool, Error>;

    /// Uses up a recovery code; returns whether it existed and was unused (one conditional
    /// `UPDATE`: a code works once, even under a race).
    fn use_recovery_code(
        &self,
        org: OrgId,
        id: UserId,
        hash: &TokenHash,
        now: i64,
    ) -> Result<bool, Error>;

    /// How many unused recovery codes the user has left.
    fn recovery_codes_left(&self, org: OrgId, id: UserId) -> Result<u32, Error>;

    /// Whether `org` requires every user (not only owners and admins) to enrol a second factor.
    fn org_requires_mfa_for_all(&self, org: OrgId) -> Result<bool, Error>;

    /// Sets whether `org` requires every user to enrol a second factor.
    fn set_org_requires_mfa_for_all(
        &self,
        org: OrgId,
        required: bool,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error>;
}

impl UserStore for Store {
    fn user_by_email_index(&self, index: &EmailIndex) -> Result<Option<User>, Error> {
        USERS.find(&self.conn(), "WHERE email_index = ?1", [index.0])
    }

    fn email_index_in_use(&self, index: &EmailIndex) -> Result<bool, Error> {
        email_index_taken(&self.conn(), index)
    }

    fn user(&self, org: OrgId, id: UserId) -> Result<User, Error> {
        USERS.in_org(&self.conn(), org, id.as_bytes())
    }

    fn user_profile(
        &self,
        org: OrgId,
        id: UserId,
        keys: &OrgKeyring,
    ) -> Result<UserProfile, Error> {
        check_keys(keys, org)?;
        let conn = self.read();
        let columns = format!("{}, {PROFILE_COLUMNS}", USERS.columns);
        let (user, email, name) =
            USERS.read_in_org(&conn, &columns, org, id.as_bytes(), profile_row)?;
        profile(keys, user, &email, &name)
    }

    fn list(&self, org: OrgId, keys: &OrgKeyring) -> Result<Vec<UserProfile>, Error> {
        check_keys(keys, org)?;
        let conn = self.read();
        let mut stmt = conn
            .prepare(&USERS.select(PROFILE_COLUMNS, "WHERE org_id = ?1 ORDER BY created_at, id"))?;
        let rows = stmt
            .query_map([org.as_bytes()], profile_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(user, email, name)| profile(keys, user, &email, &name))
            .collect()
    }

    fn active_owner_count(&self, org: OrgId) -> Result<u32, Error> {
        active_owners(&self.conn(), org)
    }

    fn active_users_with_roles(&self, org: OrgId, roles: &[Role]) -> Result<Vec<UserId>, Error> {
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT id, role FROM users WHERE org_id = ?1 AND status = 'active'
             ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([org.as_bytes()], |r| {
            Ok((
                crate::rows::id(r, 0, UserId::from_bytes)?,
                crate::rows::role_from(r.get(1)?)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, role) = row?;
            if roles.contains(&role) {
                out.push(id);
            }
        }
        Ok(out)
    }

    fn set_user_role(
        &self,
        org: OrgId,
        id: UserId,
        role: Role,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let user = USERS.in_org(tx, org, id.as_bytes())?;
            if role != Role::Owner {
                keep_an_owner(tx, &user)?;
            }
            tx.execute(
                "UPDATE users SET role = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2",
                params![org.as_bytes(), id.as_bytes(), role.as_str(), now],
            )?;
            Ok(())
        })
    }

    fn set_user_status(
        &self,
        org: OrgId,
        id: UserId,
        status: UserStatus,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<Vec<SessionId>, Error> {
        self.audited(audit, |tx| {
            let user = USERS.in_org(tx, org, id.as_bytes())?;
            if status == UserStatus::Disabled {
                keep_an_owner(tx, &user)?;
            }
            tx.execute(
                "UPDATE users SET status = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2",
                params![org.as_bytes(), id.as_bytes(), status.as_str(), now],
            )?;
            if status == UserStatus::Disabled {
                revoke_user_sessions_in(tx, org, id, RevokeReason::UserDisabled, now, None)
            } else {
                Ok(Vec::new())
            }
        })
    }

    fn set_password_hash(
        &self,
        org: OrgId,
        id: UserId,
        hash: &PasswordHash,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE users SET password_hash = ?3, password_changed_at = ?4, updated_at = ?4
                 WHERE org_id = ?1 AND id = ?2",
                params![org.as_bytes(), id.as_bytes(), hash.as_str(), now],
            )?;
            require_changed(changed, "user")
        })
    }

    fn set_pending_totp(
        &self,
        org: OrgId,
        id: UserId,
        secret: &[u8],
        now: i64,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        check_keys(keys, org)?;
        let sealed = TOTP_PENDING.seal(keys, org, id.as_bytes(), secret)?;
        self.audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE users SET totp_pending_sealed = ?3, totp_pending_at = ?4, updated_at = ?4
                 WHERE org_id = ?1 AND id = ?2",
                params![org.as_bytes(), id.as_bytes(), sealed, now],
            )?;
            require_changed(changed, "user")?;
            persist_seal_counts(tx, keys)
        })
    }

    fn pending_totp(
        &self,
        org: OrgId,
        id: UserId,
        keys: &OrgKeyring,
    ) -> Result<Option<PendingTotp>, Error> {
        check_keys(keys, org)?;
        let (sealed, at): (Option<Vec<u8>>, Option<i64>) = USERS.read_in_org(
            &self.conn(),
            "totp_pending_sealed, totp_pending_at",
            org,
            id.as_bytes(),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        match (sealed, at) {
            (Some(sealed), Some(at)) => Ok(Some(PendingTotp {
                secret: TOTP_PENDING.open(keys, org, id.as_bytes(), &sealed)?,
                created_at: at,
            })),
            _ => Ok(None),
        }
    }

    fn totp_secret(
        &self,
        org: OrgId,
        id: UserId,
        keys: &OrgKeyring,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        check_keys(keys, org)?;
        let sealed: Option<Vec<u8>> = USERS.read_in_org(
            &self.conn(),
            "totp_secret_sealed",
            org,
            id.as_bytes(),
            |r| r.get(0),
        )?;
        sealed
            .map(|sealed| TOTP_SECRET.open(keys, org, id.as_bytes(), &sealed))
            .transpose()
    }

    fn confirm_totp(
        &self,
        org: OrgId,
        id: UserId,
        confirmation: &TotpConfirmation<'_>,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        let TotpConfirmation {
            step,
            recovery,
            now,
        } = *confirmation;
        check_keys(keys, org)?;
        let row = id.as_bytes();
        self.audited(audit, |tx| {
            let pending: Option<Vec<u8>> =
                USERS.read_in_org(tx, "totp_pending_sealed", org, row, |r| r.get(0))?;
            let pending = pending.ok_or(Error::NotFound("pending second factor"))?;
            let secret = TOTP_PENDING.open(keys, org, row, &pending)?;
            let sealed = TOTP_SECRET.seal(keys, org, row, &secret)?;
            tx.execute(
                "UPDATE users SET totp_secret_sealed = ?3, totp_enrolled_at = ?4, totp_last_step = ?5,
                                  totp_pending_sealed = NULL, totp_pending_at = NULL, updated_at = ?4
                 WHERE org_id = ?1 AND id = ?2",
                params![org.as_bytes(), row, sealed, now, step],
            )?;
            tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [row])?;
            for hash in recovery {
                tx.execute(
                    "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?1, ?2, ?3)",
                    params![row, hash.0, now],
                )?;
            }
            persist_seal_counts(tx, keys)
        })
    }

    fn remove_totp(
        &self,
        org: OrgId,
        id: UserId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE users SET totp_secret_sealed = NULL, totp_enrolled_at = NULL, totp_last_step = NULL,
                                  totp_pending_sealed = NULL, totp_pending_at = NULL, updated_at = ?3
                 WHERE org_id = ?1 AND id = ?2",
                params![org.as_bytes(), id.as_bytes(), now],
            )?;
            require_changed(changed, "user")?;
            tx.execute(
                "DELETE FROM recovery_codes WHERE user_id = ?1",
                [id.as_bytes()],
            )?;
            Ok(())
        })
    }

    fn accept_totp_step(&self, org: OrgId, id: UserId, step: i64) -> Result<bool, Error> {
        let changed = self.conn().execute(
            "UPDATE users SET totp_last_step = ?3
             WHERE org_id = ?1 AND id = ?2 AND totp_enrolled_at IS NOT NULL
               AND (totp_last_step IS NULL OR totp_last_step < ?3)",
            params![org.as_bytes(), id.as_bytes(), step],
        )?;
        Ok(changed == 1)
    }

    fn use_recovery_code(
        &self,
        org: OrgId,
        id: UserId,
        hash: &TokenHash,
        now: i64,
    ) -> Result<bool, Error> {
        let changed = self.conn().execute(
            "UPDATE recovery_codes SET used_at = ?4
             WHERE user_id = ?2 AND code_hash = ?3 AND used_at IS NULL
               AND EXISTS (SELECT 1 FROM users WHERE id = ?2 AND org_id = ?1)",
            params![org.as_bytes(), id.as_bytes(), hash.0, now],
        )?;
        Ok(changed == 1)
    }

    fn recovery_codes_left(&self, org: OrgId, id: UserId) -> Result<u32, Error> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM recovery_codes r JOIN users u ON u.id = r.user_id
             WHERE u.org_id = ?1 AND r.user_id = ?2 AND r.used_at IS NULL",
            params![org.as_bytes(), id.as_bytes()],
            |r| r.get(0),
        )?)
    }

    fn org_requires_mfa_for_all(&self, org: OrgId) -> Result<bool, Error> {
        Ok(self
            .conn()
            .query_row(
                "SELECT require_mfa_for_all FROM org_auth_policy WHERE org_id = ?1",
                [org.as_bytes()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .is_some_and(|v| v == 1))
    }

    fn set_org_requires_mfa_for_all(
        &self,
        org: OrgId,
        required: bool,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        self.audited(audit, |tx| {
            tx.execute(
                "INSERT INTO org_auth_policy (org_id, require_mfa_for_all, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (org_id) DO UPDATE SET require_mfa_for_all = ?2, updated_at = ?3",
                params![org.as_bytes(), i64::from(required), now],
            )?;
            Ok(())
        })
    }
}
