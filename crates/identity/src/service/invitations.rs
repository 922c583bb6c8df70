//! Invitations, the only way in: created by an owner or admin (or the operator's CLI), accepted
//! once with a display name and a password that passes the policy. Unknown, used, revoked and
//! expired codes all get one answer.

use std::net::IpAddr;

use ringside_core::wire::Actor;
use ringside_core::{InvitationId, OrgId, Permission, Pii, Role, UserId};
use ringside_store::{EmailIndex, NewInvitation, NewUser};

use super::authorize::check_can_manage;
use super::{
    AcceptedInvitation, AuthService, CreatedInvitation, InvitationView, Principal, Tokens, at,
    entry, entry_by, secs, store_err,
};
use crate::AuthError;
use crate::email::normalize_email;
use crate::password::check_password;
use crate::tokens::{SecretToken, TokenKind, hash_presented};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

impl AuthService {
    /// Invites `email` into the caller's org with `role` (which the caller must be able to
    /// grant). [`AuthError::EmailUnavailable`] if the address already belongs to a user.
    pub fn create_invitation(
        &self,
        p: &Principal,
        email: &str,
        role: Role,
    ) -> Result<CreatedInvitation, AuthError> {
        self.authorize(p, Permission::ManageTeam)?;
        check_can_manage(p, role)?;
        self.invite(p.org, email, role, Some(p.user), Actor::user(p.user))
    }

    /// Invites `email` as the operator on the relay's command line (no signed-in caller): how
    /// the first owner of an org gets in.
    pub fn invite_as_operator(
        &self,
        org: OrgId,
        email: &str,
        role: Role,
    ) -> Result<CreatedInvitation, AuthError> {
        self.store().orgs().org(org).map_err(store_err)?;
        self.invite(org, email, role, None, Actor::system("cli"))
    }

    fn invite(
        &self,
        org: OrgId,
        email: &str,
        role: Role,
        invited_by: Option<UserId>,
        actor: Actor,
    ) -> Result<CreatedInvitation, AuthError> {
        let email = normalize_email(email)?;
        let email_index: EmailIndex = self.0.email_key.index(&email);
        let now = self.now();
        let code = SecretToken::generate(TokenKind::Invitation);
        let id = InvitationId::random();
        let expires_at = now + secs(self.0.config.invitation_ttl);
        let keys = self.keys(org)?;
        let audit =
            entry(Some(org), actor, "invitation.create", "invitation", id).detail("role", role);
        self.store()
            .invitations()
            .create_invitation(
                &NewInvitation {
                    id,
                    org,
                    code_hash: code.hash(),
                    email,
                    email_index,
                    role,
                    invited_by,
                    created_at: now,
                    expires_at,
                },
                &keys,
                &audit,
            )
            .map_err(store_err)?;
        Ok(CreatedInvitation {
            id,
            org,
            code,
            expires_at: at(expires_at),
        })
    }

    /// Whether an address already belongs to a user (in any org). For the operator's CLI, which
    /// is trusted with the whole installation; the API never answers this question.
    pub fn email_in_use(&self, email: &str) -> Result<bool, AuthError> {
        let email = normalize_email(email)?;
        Ok(self
            .store()
            .users()
            .email_index_in_use(&self.0.email_key.index(&email))?)
    }

    /// The org's invitations that can still be accepted.
    pub fn list_invitations(&self, p: &Principal) -> Result<Vec<InvitationView>, AuthError> {
        self.authorize_read(p, Permission::ManageTeam)?;
        let keys = self.keys(p.org)?;
        Ok(self
            .store()
            .invitations()
            .pending_invitations(p.org, self.now(), &keys)?
            .into_iter()
            .map(|i| InvitationView {
                id: i.invitation.id,
                email: i.email,
                role: i.invitation.role,
                invited_by: i.invitation.invited_by,
                expires_at: at(i.invitation.expires_at),
            })
            .collect())
    }

    /// Revokes a pending invitation of the caller's org.
    pub fn revoke_invitation(&self, p: &Principal, id: InvitationId) -> Result<(), AuthError> {
        self.authorize(p, Permission::ManageTeam)?;
        let invitation = self
            .store()
            .invitations()
            .invitation(p.org, id)
            .map_err(store_err)?;
        check_can_manage(p, invitation.role)?;
        let audit = entry_by(p, "invitation.revoke", "invitation", id);
        self.store()
            .invitations()
            .revoke_invitation(p.org, id, self.now(), &audit)
            .map_err(store_err)
    }

    /// Accepts an invitation: sets the display name and password and creates the user. The code
    /// is then used up. Unknown, used, revoked and expired codes are one answer,
    /// [`AuthError::InvitationInvalid`]; a refused password is [`AuthError::WeakPassword`] and
    /// leaves the code usable.
    pub fn accept_invitation(
        &self,
        code: &str,
        display_name: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<AcceptedInvitation, AuthError> {
        self.check_ip(ip)?;
        let now = self.now();
        let anonymous = entry(
            None,
            Actor::anonymous(),
            "invitation.accept",
            "invitation",
            "unknown",
        )
        .from_ip(Some(ip))
        .failed();
        let hash = hash_presented(TokenKind::Invitation, code);
        let invitation = match hash {
            Some(h) => self.store().invitations().invitation_by_code(&h)?,
            None => None,
        };
        let (Some(hash), Some(invitation)) = (hash, invitation) else {
            self.store().audit().record_audit(&anonymous)?;
            return Err(AuthError::InvitationInvalid);
        };
        if !invitation.is_usable(now) {
            let mut audit = anonymous;
            audit.org = Some(invitation.org);
            audit.resource_id = Some(invitation.id.to_string());
            self.store().audit().record_audit(&audit)?;
            return Err(AuthError::InvitationInvalid);
        }
        let name = display_name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_DISPLAY_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(AuthError::InvalidInput("display_name"));
        }
        let keys = self.keys(invitation.org)?;
        let email = self
            .store()
            .invitations()
            .invitation_email(invitation.org, invitation.id, &keys)
            .map_err(store_err)?;
        check_password(password, &email).map_err(AuthError::WeakPassword)?;
        let password_hash = self.0.hasher.hash(password)?;
        let user = UserId::random();
        let audit = entry(
            Some(invitation.org),
            Actor::user(user),
            "invitation.accept",
            "invitation",
            invitation.id,
        )
        .from_ip(Some(ip))
        .detail("user", user)
        .detail("role", invitation.role);
        let created = self
            .store()
            .invitations()
            .accept_invitation(
                &hash,
                now,
                &NewUser {
                    id: user,
                    org: invitation.org,
                    email,
                    email_index: invitation.email_index,
                    display_name: Pii::new(name.to_owned()),
                    role: invitation.role,
                    password_hash,
                },
                &keys,
                &audit,
            )
            .map_err(|e| match e {
                ringside_store::Error::NotFound(_) => AuthError::InvitationInvalid,
                other => store_err(other),
            })?;
        Ok(AcceptedInvitation {
            user: created.id,
            org: created.org,
            role: created.role,
        })
    }

    /// [`AuthService::accept_invitation`], then a session on the named device: the invitee has
    /// just proved the code and chosen the password, so asking for it again adds nothing. A new
    /// user has no second factor, so this is exactly the session a sign-in would open (with the
    /// permissions enrolment unlocks still held back).
    pub fn accept_invitation_and_sign_in(
        &self,
        code: &str,
        display_name: &str,
        password: &str,
        device_name: &str,
        ip: IpAddr,
    ) -> Result<Tokens, AuthError> {
        let accepted = self.accept_invitation(code, display_name, password, ip)?;
        let user = self
            .store()
            .users()
            .user(accepted.org, accepted.user)
            .map_err(store_err)?;
        self.open_session(&user, None, device_name, false, self.now(), ip)
    }
}
