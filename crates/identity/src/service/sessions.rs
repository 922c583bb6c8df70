//! Listing and ending sessions: the caller's own, or (with `manage_team`) a teammate's. Every
//! ended session is announced on the revocation channel after it is committed, so the WebSocket
//! hub closes its streams at once.

use ringside_core::{OrgId, Permission, SessionId, UserId};
use ringside_store::{AuditEntry, RevokeReason};

use super::authorize::check_can_manage;
use super::{AuthService, Principal, RevocationScope, SessionView, at, entry_by, store_err};
use crate::AuthError;

impl AuthService {
    /// Ends the caller's session.
    pub fn logout(&self, p: &Principal) -> Result<(), AuthError> {
        let audit = entry_by(p, "auth.logout", "session", p.session);
        self.end_session(p.org, p.session, RevokeReason::Logout, self.now(), &audit)?;
        Ok(())
    }

    /// The caller's live sessions, newest first.
    pub fn list_sessions(&self, p: &Principal) -> Result<Vec<SessionView>, AuthError> {
        self.sessions_view(p, p.user)
    }

    /// A user's live sessions (admins; read-only).
    pub fn list_user_sessions(
        &self,
        p: &Principal,
        user: UserId,
    ) -> Result<Vec<SessionView>, AuthError> {
        self.authorize_read(p, Permission::ManageTeam)?;
        let target = self.store().users().user(p.org, user).map_err(store_err)?;
        if target.id != p.user {
            check_can_manage(p, target.role)?;
        }
        self.sessions_view(p, user)
    }

    fn sessions_view(&self, p: &Principal, user: UserId) -> Result<Vec<SessionView>, AuthError> {
        let keys = self.keys(p.org)?;
        let sessions = self
            .store()
            .sessions()
            .sessions_of_user(p.org, user, self.now(), &keys)
            .map_err(store_err)?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionView {
                id: s.session.id,
                device: s.session.device,
                device_name: s.device_name,
                created_at: at(s.session.created_at),
                last_seen_at: at(s.session.last_seen_at),
                expires_at: at(s.session.absolute_expires_at),
                current: s.session.id == p.session,
            })
            .collect())
    }

    /// Ends one session: the caller's own, or (with `manage_team` over its user) anyone's in the
    /// org. Another org's session is "not found".
    pub fn revoke_session(&self, p: &Principal, session: SessionId) -> Result<(), AuthError> {
        let target = self
            .store()
            .sessions()
            .session(p.org, session)
            .map_err(store_err)?;
        let reason = if target.user == p.user {
            RevokeReason::RevokedByUser
        } else {
            self.manageable_user(p, target.user)?;
            RevokeReason::RevokedByAdmin
        };
        let audit =
            entry_by(p, "session.revoke", "session", session).detail("reason", reason.as_str());
        self.end_session(p.org, session, reason, self.now(), &audit)?;
        Ok(())
    }

    /// Ends every session of the caller except the current one (after changing a factor,
    /// ASVS 7.4.3). Returns how many ended.
    pub fn revoke_other_sessions(&self, p: &Principal) -> Result<usize, AuthError> {
        let audit = entry_by(p, "session.revoke_others", "user", p.user);
        self.end_other_sessions(p, RevokeReason::RevokedByUser, self.now(), &audit)
    }

    /// Ends every session of a user of the org (admins, ASVS 7.4.5). Returns how many ended.
    pub fn revoke_user_sessions(&self, p: &Principal, user: UserId) -> Result<usize, AuthError> {
        self.manageable_user(p, user)?;
        let audit = entry_by(p, "session.revoke_all", "user", user);
        self.end_all_sessions(
            p.org,
            user,
            RevokeReason::RevokedByAdmin,
            self.now(),
            &audit,
        )
    }

    /// Revokes one session of `org` with `audit` and, if it was live, announces it. Returns
    /// whether it was live (ending an ended session changes nothing and is not audited).
    pub(super) fn end_session(
        &self,
        org: OrgId,
        session: SessionId,
        reason: RevokeReason,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<bool, AuthError> {
        let user = self
            .store()
            .sessions()
            .revoke_session(org, session, reason, now, audit)
            .map_err(store_err)?;
        if let Some(user) = user {
            self.publish(org, user, RevocationScope::Session(session), reason);
        }
        Ok(user.is_some())
    }

    /// Revokes every session of the caller but the current one with `audit`, announcing each.
    /// Returns how many ended.
    pub(super) fn end_other_sessions(
        &self,
        p: &Principal,
        reason: RevokeReason,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<usize, AuthError> {
        let ended = self.store().sessions().revoke_user_sessions(
            p.org,
            p.user,
            reason,
            now,
            Some(p.session),
            audit,
        )?;
        for id in &ended {
            self.publish(p.org, p.user, RevocationScope::Session(*id), reason);
        }
        Ok(ended.len())
    }

    /// Revokes every session of `user` with `audit`, announced as one message (the hub closes
    /// all their streams). Returns how many ended.
    pub(super) fn end_all_sessions(
        &self,
        org: OrgId,
        user: UserId,
        reason: RevokeReason,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<usize, AuthError> {
        let ended = self
            .store()
            .sessions()
            .revoke_user_sessions(org, user, reason, now, None, audit)?;
        self.publish(org, user, RevocationScope::AllSessions, reason);
        Ok(ended.len())
    }
}
