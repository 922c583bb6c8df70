//! Authorization: the permission matrix, the second-factor rules (enrolment for admins or for
//! everyone, step-up for marked permissions) and who may manage whom. Checked here, in the
//! service, as well as in the route extractor, and every refusal is audited.

use ringside_core::{Permission, Role, UserId};
use ringside_store::User;

use super::{AuthService, MfaScope, Principal, entry_by, store_err};
use crate::AuthError;

impl AuthService {
    /// Whether `principal` may use `permission` now: the role must hold it; without an enrolled
    /// second factor, owners and admins may use only what agents may (and nothing, if the org
    /// requires it of everyone); permissions marked in the matrix need the second factor
    /// verified within `step_up_window`. Refusals are audited.
    pub fn authorize(
        &self,
        principal: &Principal,
        permission: Permission,
    ) -> Result<(), AuthError> {
        self.authorize_with(
            principal,
            permission,
            permission.requires_recent_second_factor(),
        )
    }

    /// [`AuthService::authorize`] for read-only use of a permission (listing the team): the
    /// same checks except the recent second factor, which guards changes.
    pub fn authorize_read(
        &self,
        principal: &Principal,
        permission: Permission,
    ) -> Result<(), AuthError> {
        self.authorize_with(principal, permission, false)
    }

    fn authorize_with(
        &self,
        p: &Principal,
        permission: Permission,
        step_up: bool,
    ) -> Result<(), AuthError> {
        let result = if !p.role.allows(permission) {
            Err(AuthError::Forbidden)
        } else if !p.mfa_enrolled
            && match p.mfa_required_for {
                MfaScope::Nothing => false,
                MfaScope::AdminPermissions => !Role::Agent.allows(permission),
                MfaScope::Everything => true,
            }
        {
            Err(AuthError::MfaEnrollmentRequired)
        } else if step_up && !self.recently_verified(p) {
            Err(if p.mfa_enrolled {
                AuthError::StepUpRequired
            } else {
                AuthError::MfaEnrollmentRequired
            })
        } else {
            Ok(())
        };
        if let Err(err) = &result {
            self.store().audit().record_audit(
                &entry_by(p, "authz.check", "permission", permission)
                    .denied()
                    .detail("reason", err.code()),
            )?;
        }
        result
    }

    pub(super) fn recently_verified(&self, p: &Principal) -> bool {
        p.mfa_verified_at.is_some_and(|t| {
            let age = self.0.clock.now() - t;
            age >= time::Duration::ZERO && age <= self.0.config.step_up_window
        })
    }

    pub(super) fn mfa_scope(&self, user: &User) -> Result<MfaScope, AuthError> {
        if user.mfa_enrolled_at.is_some() {
            return Ok(MfaScope::Nothing);
        }
        if self.store().users().org_requires_mfa_for_all(user.org)? {
            return Ok(MfaScope::Everything);
        }
        Ok(if matches!(user.role, Role::Owner | Role::Admin) {
            MfaScope::AdminPermissions
        } else {
            MfaScope::Nothing
        })
    }

    /// The user `target` of the caller's org, once the caller is authorized to manage the team
    /// and may manage `target`'s role. A user of another org is "not found".
    pub(super) fn manageable_user(&self, p: &Principal, target: UserId) -> Result<User, AuthError> {
        self.authorize(p, Permission::ManageTeam)?;
        let user = self
            .store()
            .users()
            .user(p.org, target)
            .map_err(store_err)?;
        check_can_manage(p, user.role)?;
        Ok(user)
    }
}

/// Refuses ([`AuthError::Forbidden`]) unless the caller's role may manage (or grant) `role`.
pub(super) fn check_can_manage(p: &Principal, role: Role) -> Result<(), AuthError> {
    if p.role.can_manage(role) {
        Ok(())
    } else {
        Err(AuthError::Forbidden)
    }
}
