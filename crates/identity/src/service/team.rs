//! The team: what owners and admins do to other users of their org (roles, disabling, unlocking,
//! resetting a lost second factor), the org's second-factor policy, and the user lists. Every
//! change to a user starts with `manageable_user`: the permission, the role rank, the caller's
//! org.

use ringside_core::{Permission, Role, UserId};
use ringside_store::{RevokeReason, UserProfile, UserStatus};

use super::authorize::check_can_manage;
use super::{AuthService, Principal, RevocationScope, UserView, at, entry_by, store_err};
use crate::AuthError;

impl AuthService {
    /// Disables a user: they cannot sign in, and every session of theirs ends at once (in the
    /// same transaction) and is announced on the revocation channel (ASVS 7.4.2).
    pub fn disable_user(&self, p: &Principal, user: UserId) -> Result<(), AuthError> {
        self.manageable_user(p, user)?;
        let audit = entry_by(p, "user.disable", "user", user);
        let ended = self
            .store()
            .users()
            .set_user_status(p.org, user, UserStatus::Disabled, self.now(), &audit)
            .map_err(store_err)?;
        tracing::info!(%user, sessions = ended.len(), "user disabled; sessions ended");
        self.publish(
            p.org,
            user,
            RevocationScope::AllSessions,
            RevokeReason::UserDisabled,
        );
        Ok(())
    }

    /// Re-enables a disabled user.
    pub fn enable_user(&self, p: &Principal, user: UserId) -> Result<(), AuthError> {
        self.manageable_user(p, user)?;
        let audit = entry_by(p, "user.enable", "user", user);
        self.store()
            .users()
            .set_user_status(p.org, user, UserStatus::Active, self.now(), &audit)
            .map_err(store_err)?;
        Ok(())
    }

    /// Clears a user's sign-in back-off (every bucket and the hourly count).
    pub fn unlock_user(&self, p: &Principal, user: UserId) -> Result<(), AuthError> {
        let target = self.manageable_user(p, user)?;
        let audit = entry_by(p, "user.unlock", "user", user);
        self.store()
            .throttle()
            .clear_login_throttle(&target.email_index, &audit)?;
        Ok(())
    }

    /// Changes a user's role. The caller must be able to manage both the current and the new
    /// role (an admin can neither touch an owner nor make one), and the org keeps at least one
    /// active owner.
    pub fn set_role(&self, p: &Principal, user: UserId, role: Role) -> Result<(), AuthError> {
        let target = self.manageable_user(p, user)?;
        check_can_manage(p, role)?;
        let audit = entry_by(p, "user.role_change", "user", user)
            .detail("from", target.role)
            .detail("to", role);
        self.store()
            .users()
            .set_user_role(p.org, user, role, self.now(), &audit)
            .map_err(store_err)
    }

    /// Removes a user's second factor (lost phone); they must enrol again, and their sessions
    /// end.
    pub fn reset_second_factor(&self, p: &Principal, user: UserId) -> Result<(), AuthError> {
        self.manageable_user(p, user)?;
        let now = self.now();
        let audit = entry_by(p, "user.mfa_reset", "user", user);
        self.store()
            .users()
            .remove_totp(p.org, user, now, &audit)
            .map_err(store_err)?;
        let reason = RevokeReason::CredentialsChanged;
        let audit =
            entry_by(p, "session.revoke_all", "user", user).detail("reason", reason.as_str());
        self.end_all_sessions(p.org, user, reason, now, &audit)?;
        Ok(())
    }

    /// Sets whether everyone in the org (not only owners and admins) must enrol a second factor.
    pub fn set_org_mfa_policy(
        &self,
        p: &Principal,
        require_for_all: bool,
    ) -> Result<(), AuthError> {
        self.authorize(p, Permission::ManageTeam)?;
        let audit =
            entry_by(p, "org.mfa_policy", "org", p.org).flag("require_for_all", require_for_all);
        self.store().users().set_org_requires_mfa_for_all(
            p.org,
            require_for_all,
            self.now(),
            &audit,
        )?;
        Ok(())
    }

    /// The caller's own profile.
    pub fn me(&self, p: &Principal) -> Result<UserView, AuthError> {
        Ok(user_view(self.own_profile(p)?))
    }

    /// Everyone in the caller's org (admins). A read of personal data, so it is audited.
    pub fn list_users(&self, p: &Principal) -> Result<Vec<UserView>, AuthError> {
        self.authorize_read(p, Permission::ManageTeam)?;
        let keys = self.keys(p.org)?;
        let users = self.store().users().list(p.org, &keys)?;
        self.store().audit().record_audit(
            &entry_by(p, "user.list", "org", p.org)
                .count("count", u64::try_from(users.len()).unwrap_or(u64::MAX)),
        )?;
        Ok(users.into_iter().map(user_view).collect())
    }
}

fn user_view(profile: UserProfile) -> UserView {
    UserView {
        id: profile.user.id,
        email: profile.email,
        display_name: profile.display_name,
        role: profile.user.role,
        active: profile.user.status == UserStatus::Active,
        mfa_enrolled: profile.user.mfa_enrolled_at.is_some(),
        created_at: at(profile.user.created_at),
    }
}
