//! Listing and ending sessions: the caller's own, or (with `manage_team`) a teammate's. Every
//! ended session is announced on the revocation channel after it is committed, so the WebSocket
//! hub closes its streams at once.

use ringside_core::wire::Actor;
use ringside_core::{Permission, SessionId, UserId};
use ringside_store::RevokeReason;

use super::{AuthService, Principal, RevocationScope, SessionView, at, entry, store_err};
use crate::auth::AuthError;

impl AuthService {
    /// Ends the caller's session.
    pub fn logout(&self, p: &Principal) -> Result<(), AuthError> {
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "auth.logout",
            "session",
            p.session,
        );
        if self
            .store()
            .revoke_session(p.org, p.session, RevokeReason::Logout, self.now(), &audit)
            .map_err(store_err)?
            .is_some()
        {
            self.publish(p.org, p.user, RevocationScope::Session(p.session));
        }
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
        let target = self.store().user(p.org, user).map_err(store_err)?;
        if !p.role.can_manage(target.role) && target.id != p.user {
            return Err(AuthError::Forbidden);
        }
        self.sessions_view(p, user)
    }

    fn sessions_view(&self, p: &Principal, user: UserId) -> Result<Vec<SessionView>, AuthError> {
        let keys = self.keys(p.org)?;
        let sessions = self
            .store()
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
        let target = self.store().session(p.org, session).map_err(store_err)?;
        let reason = if target.user == p.user {
            RevokeReason::RevokedByUser
        } else {
            self.manage_target(p, target.user, Permission::ManageTeam)?;
            RevokeReason::RevokedByAdmin
        };
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "session.revoke",
            "session",
            session,
        )
        .detail("reason", reason.as_str());
        if self
            .store()
            .revoke_session(p.org, session, reason, self.now(), &audit)
            .map_err(store_err)?
            .is_some()
        {
            self.publish(p.org, target.user, RevocationScope::Session(session));
        }
        Ok(())
    }

    /// Ends every session of the caller except the current one (after changing a factor,
    /// ASVS 7.4.3). Returns how many ended.
    pub fn revoke_other_sessions(&self, p: &Principal) -> Result<usize, AuthError> {
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "session.revoke_others",
            "user",
            p.user,
        );
        let ended = self.store().revoke_user_sessions(
            p.org,
            p.user,
            RevokeReason::RevokedByUser,
            self.now(),
            Some(p.session),
            &audit,
        )?;
        for id in &ended {
            self.publish(p.org, p.user, RevocationScope::Session(*id));
        }
        Ok(ended.len())
    }

    /// Ends every session of a user of the org (admins, ASVS 7.4.5). Returns how many ended.
    pub fn revoke_user_sessions(&self, p: &Principal, user: UserId) -> Result<usize, AuthError> {
        self.manage_target(p, user, Permission::ManageTeam)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "session.revoke_all",
            "user",
            user,
        );
        let ended = self.store().revoke_user_sessions(
            p.org,
            user,
            RevokeReason::RevokedByAdmin,
            self.now(),
            None,
            &audit,
        )?;
        self.publish(p.org, user, RevocationScope::AllSessions);
        Ok(ended.len())
    }
}
