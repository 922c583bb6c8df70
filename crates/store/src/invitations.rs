//! Invitations: the only way into an organisation (nobody signs up).
//!
//! Why it looks like this (ASVS 6.4.1): the code is 128 bits from the CSPRNG, shown once and
//! stored only as its SHA-256; it works once (`accepted_at`), expires (`expires_at`) and can be
//! revoked; it never becomes the password — accepting it sets one. Acceptance re-checks all of
//! that and creates the user in ONE transaction, so two people racing with the same code cannot
//! both get in. The invited address is sealed like every other email address, with the same
//! blind index as users so "is this address already a user?" needs no decryption.

use ringside_core::{InvitationId, OrgId, Pii, Role, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::{Row, params};

use crate::audit::AuditEntry;
use crate::rows::{Table, bytes32, id, optional_id, require_changed, role_from};
use crate::sealed::{SealedColumn, persist_seal_counts};
use crate::users::{EmailIndex, NewUser, TokenHash, User, email_index_taken, insert_user};
use crate::{Error, Store};

/// What creating an invitation needs.
#[derive(Debug)]
pub struct NewInvitation {
    /// Fresh id (names the invitation; not the secret).
    pub id: InvitationId,
    /// The org joined.
    pub org: OrgId,
    /// SHA-256 of the secret code.
    pub code_hash: TokenHash,
    /// Normalized email address of the invitee.
    pub email: Pii<String>,
    /// Its blind index.
    pub email_index: EmailIndex,
    /// The role they will have.
    pub role: Role,
    /// Who invited (`None`: the operator on the command line).
    pub invited_by: Option<UserId>,
    /// Now.
    pub created_at: i64,
    /// When the code stops working.
    pub expires_at: i64,
}

/// An invitation as stored (no code, no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Id.
    pub id: InvitationId,
    /// The org joined.
    pub org: OrgId,
    /// Blind index of the invited address.
    pub email_index: EmailIndex,
    /// The role granted.
    pub role: Role,
    /// Who invited (`None`: the operator).
    pub invited_by: Option<UserId>,
    /// Created.
    pub created_at: i64,
    /// Expires.
    pub expires_at: i64,
    /// Accepted (it is then used up).
    pub accepted_at: Option<i64>,
    /// Revoked.
    pub revoked_at: Option<i64>,
}

impl Invitation {
    /// Whether the code can still be accepted at `now`.
    pub fn is_usable(&self, now: i64) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

/// An invitation with the invited address opened, for the admin's list.
#[derive(Debug, Clone)]
pub struct InvitationInfo {
    /// The invitation.
    pub invitation: Invitation,
    /// The invited address.
    pub email: Pii<String>,
}

const INVITATIONS: Table<Invitation> = Table {
    name: "invitations",
    columns: "id, org_id, email_index, role, invited_by, created_at, expires_at, accepted_at, \
              revoked_at",
    what: "invitation",
    read: invitation_row,
};

/// The invited address, sealed like every other email address.
const EMAIL: SealedColumn = SealedColumn::new("invitations", "email");

fn invitation_row(r: &Row<'_>) -> rusqlite::Result<Invitation> {
    Ok(Invitation {
        id: id(r, 0, InvitationId::from_bytes)?,
        org: id(r, 1, OrgId::from_bytes)?,
        email_index: EmailIndex(bytes32(r.get(2)?)?),
        role: role_from(r.get(3)?)?,
        invited_by: optional_id(r, 4, UserId::from_bytes)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        accepted_at: r.get(7)?,
        revoked_at: r.get(8)?,
    })
}

/// Invitations: created, accepted, listed, revoked.
pub trait InvitationStore {
    /// Stores a new invitation. [`Error::Conflict`] if the address already belongs to a user
    /// (in any org: one person, one org).
    fn create_invitation(
        &self,
        new: &NewInvitation,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error>;

    /// The invitation whose code hashes to `hash`, whatever its state (the code is the
    /// credential, so this lookup is not scoped by org; the row names the org).
    fn invitation_by_code(&self, hash: &TokenHash) -> Result<Option<Invitation>, Error>;

    /// The invited address of an invitation of `org`, opened.
    fn invitation_email(
        &self,
        org: OrgId,
        id: InvitationId,
        keys: &OrgKeyring,
    ) -> Result<Pii<String>, Error>;

    /// Accepts an invitation: in one transaction, checks the code is still usable at `now` and
    /// is for `user`'s org, address and role, marks it used and creates the user.
    /// [`Error::NotFound`]`("invitation")` if it is not usable (used, revoked, expired, unknown);
    /// [`Error::Conflict`] if the address became a user meanwhile.
    fn accept_invitation(
        &self,
        code_hash: &TokenHash,
        now: i64,
        user: &NewUser,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<User, Error>;

    /// The invitations of `org` that can still be accepted at `now`, newest first, with the
    /// invited addresses opened.
    fn pending_invitations(
        &self,
        org: OrgId,
        now: i64,
        keys: &OrgKeyring,
    ) -> Result<Vec<InvitationInfo>, Error>;

    /// One invitation of `org`.
    fn invitation(&self, org: OrgId, id: InvitationId) -> Result<Invitation, Error>;

    /// Revokes a pending invitation of `org`. [`Error::NotFound`] if there is no such pending
    /// invitation in this org.
    fn revoke_invitation(
        &self,
        org: OrgId,
        id: InvitationId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error>;
}

impl InvitationStore for Store {
    fn create_invitation(
        &self,
        new: &NewInvitation,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        let email = EMAIL.seal_text(keys, new.org, new.id.as_bytes(), &new.email)?;
        self.audited(audit, |tx| {
            if email_index_taken(tx, &new.email_index)? {
                return Err(Error::Conflict("email address"));
            }
            tx.execute(
                "INSERT INTO invitations (id, org_id, code_hash, email_index, email_sealed, role,
                                          invited_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    new.id.as_bytes(),
                    new.org.as_bytes(),
                    new.code_hash.0,
                    new.email_index.0,
                    email,
                    new.role.as_str(),
                    new.invited_by.map(|u| *u.as_bytes()),
                    new.created_at,
                    new.expires_at
                ],
            )?;
            persist_seal_counts(tx, keys)
        })
    }

    fn invitation_by_code(&self, hash: &TokenHash) -> Result<Option<Invitation>, Error> {
        INVITATIONS.find(&self.conn(), "WHERE code_hash = ?1", [hash.0])
    }

    fn invitation_email(
        &self,
        org: OrgId,
        id: InvitationId,
        keys: &OrgKeyring,
    ) -> Result<Pii<String>, Error> {
        let sealed: Vec<u8> =
            INVITATIONS.read_in_org(&self.conn(), "email_sealed", org, id.as_bytes(), |r| {
                r.get(0)
            })?;
        EMAIL.open_text(keys, org, id.as_bytes(), &sealed)
    }

    fn accept_invitation(
        &self,
        code_hash: &TokenHash,
        now: i64,
        user: &NewUser,
        keys: &OrgKeyring,
        audit: &AuditEntry,
    ) -> Result<User, Error> {
        self.audited(audit, |tx| {
            let used = tx.execute(
                "UPDATE invitations SET accepted_at = ?2
                 WHERE code_hash = ?1 AND accepted_at IS NULL AND revoked_at IS NULL
                   AND expires_at > ?2 AND org_id = ?3 AND email_index = ?4 AND role = ?5",
                params![
                    code_hash.0,
                    now,
                    user.org.as_bytes(),
                    user.email_index.0,
                    user.role.as_str()
                ],
            )?;
            if used != 1 {
                return Err(Error::NotFound("invitation"));
            }
            insert_user(tx, user, keys, now)?;
            tx.execute(
                "UPDATE invitations SET accepted_user = ?2 WHERE code_hash = ?1",
                params![code_hash.0, user.id.as_bytes()],
            )?;
            Ok(())
        })?;
        Ok(User {
            id: user.id,
            org: user.org,
            email_index: user.email_index,
            role: user.role,
            status: crate::UserStatus::Active,
            password_hash: user.password_hash.clone(),
            mfa_enrolled_at: None,
            totp_last_step: None,
            created_at: now,
        })
    }

    fn pending_invitations(
        &self,
        org: OrgId,
        now: i64,
        keys: &OrgKeyring,
    ) -> Result<Vec<InvitationInfo>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&INVITATIONS.select(
            "email_sealed",
            "WHERE org_id = ?1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?2
             ORDER BY created_at DESC, id",
        ))?;
        let rows = stmt
            .query_map(params![org.as_bytes(), now], |r| {
                Ok((invitation_row(r)?, r.get::<_, Vec<u8>>(9)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(invitation, sealed)| {
                let email = EMAIL.open_text(keys, org, invitation.id.as_bytes(), &sealed)?;
                Ok(InvitationInfo { invitation, email })
            })
            .collect()
    }

    fn invitation(&self, org: OrgId, id: InvitationId) -> Result<Invitation, Error> {
        INVITATIONS.in_org(&self.conn(), org, id.as_bytes())
    }

    fn revoke_invitation(
        &self,
        org: OrgId,
        id: InvitationId,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<(), Error> {
        self.audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE invitations SET revoked_at = ?3
                 WHERE org_id = ?1 AND id = ?2 AND accepted_at IS NULL AND revoked_at IS NULL",
                params![org.as_bytes(), id.as_bytes(), now],
            )?;
            require_changed(changed, "invitation")
        })
    }
}
