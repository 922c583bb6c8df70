//! The caller's own credentials: enrolling a TOTP factor (and its recovery codes), proving it
//! again in a session (step-up), checking a code, and changing the password. Step-up and the
//! password change are throttled in a back-off bucket of the session's device.

use std::net::IpAddr;

use ringside_core::DeviceId;
use ringside_store::{AuditEntry, RevokeReason, ThrottleKey, TotpConfirmation, User};
use sha2::{Digest, Sha256};

use super::{AuthService, Principal, RecoveryCodes, entry_by, secs, store_err};
use crate::AuthError;
use crate::password::check_password;
use crate::totp::{self, Provisioning};

/// The back-off bucket of step-up attempts in one session's device (kept apart from sign-in
/// buckets, so guessing codes with a stolen session cannot slow the owner's sign-in down).
fn step_up_bucket(device: DeviceId) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"ringside/step-up-bucket/v1\0");
    h.update(device.as_bytes());
    h.finalize().into()
}

impl AuthService {
    /// Starts TOTP enrolment: a new secret, pending until [`AuthService::confirm_totp`]. Replacing
    /// an enrolled factor needs a recent second factor (ASVS 7.5.1); the old one keeps working
    /// until the new one is confirmed.
    pub fn enroll_totp(&self, p: &Principal) -> Result<Provisioning, AuthError> {
        if p.mfa_enrolled && !self.recently_verified(p) {
            return Err(AuthError::StepUpRequired);
        }
        let profile = self.own_profile(p)?;
        let secret = totp::new_secret();
        let provisioning = totp::provisioning(&secret, &profile.email)?;
        let keys = self.keys(p.org)?;
        let audit = entry_by(p, "user.mfa_enroll_start", "user", p.user);
        self.store()
            .users()
            .set_pending_totp(p.org, p.user, &secret, self.now(), &keys, &audit)
            .map_err(store_err)?;
        Ok(provisioning)
    }

    /// Confirms enrolment with a first code from the app; returns ten recovery codes (shown
    /// once). The session counts as second-factor verified from now.
    pub fn confirm_totp(&self, p: &Principal, code: &str) -> Result<RecoveryCodes, AuthError> {
        let now = self.now();
        let keys = self.keys(p.org)?;
        let pending = self
            .store()
            .users()
            .pending_totp(p.org, p.user, &keys)
            .map_err(store_err)?
            .ok_or(AuthError::NoPendingEnrollment)?;
        if now - pending.created_at > secs(self.0.config.enrollment_ttl) {
            return Err(AuthError::NoPendingEnrollment);
        }
        let Some(step) = totp::matching_step(&pending.secret, code, now)? else {
            return Err(AuthError::InvalidSecondFactor);
        };
        let (codes, hashes) = totp::new_recovery_codes();
        let audit = entry_by(p, "user.mfa_enroll", "user", p.user);
        self.store()
            .users()
            .confirm_totp(
                p.org,
                p.user,
                &TotpConfirmation {
                    step,
                    recovery: &hashes,
                    now,
                },
                &keys,
                &audit,
            )
            .map_err(|e| match e {
                ringside_store::Error::NotFound(_) => AuthError::NoPendingEnrollment,
                other => store_err(other),
            })?;
        let audit = entry_by(p, "auth.step_up", "session", p.session);
        self.store()
            .sessions()
            .mark_session_mfa_verified(p.org, p.session, now, &audit)
            .map_err(store_err)?;
        Ok(RecoveryCodes(codes))
    }

    /// Step-up: verifies a TOTP or recovery code in the current session, which then counts as
    /// second-factor verified for `step_up_window`. Wrong codes are throttled like sign-ins, in
    /// a bucket of this device's own.
    pub fn verify_step_up(&self, p: &Principal, code: &str, ip: IpAddr) -> Result<(), AuthError> {
        let now = self.now();
        let user = self
            .store()
            .users()
            .user(p.org, p.user)
            .map_err(store_err)?;
        if user.mfa_enrolled_at.is_none() {
            return Err(AuthError::MfaEnrollmentRequired);
        }
        let (key, attempt) = self.session_attempt(&user, p, "auth.step_up", ip, now)?;
        if !self.verify_factor(&user, code, now, ip)? {
            self.record_failure(&key, now, attempt.failed())?;
            return Err(AuthError::InvalidSecondFactor);
        }
        self.store().throttle().clear_throttle_bucket(&key)?;
        self.store()
            .sessions()
            .mark_session_mfa_verified(p.org, p.session, now, &attempt)
            .map_err(store_err)
    }

    /// Changes the caller's password (ASVS 6.2.2, 6.2.3): the current password is required and
    /// wrong guesses are throttled like step-up codes; the new one must pass the policy. Every
    /// other session of the user ends (the current one stays), and the revocations are
    /// published. Returns how many sessions ended.
    pub fn change_password(
        &self,
        p: &Principal,
        current: &str,
        new: &str,
        ip: IpAddr,
    ) -> Result<usize, AuthError> {
        let now = self.now();
        let user = self
            .store()
            .users()
            .user(p.org, p.user)
            .map_err(store_err)?;
        let (key, attempt) = self.session_attempt(&user, p, "user.password_change", ip, now)?;
        if !self.0.hasher.verify(&user.password_hash, current) {
            self.record_failure(&key, now, attempt.failed())?;
            return Err(AuthError::InvalidCredentials);
        }
        let profile = self.own_profile(p)?;
        check_password(new, &profile.email).map_err(AuthError::WeakPassword)?;
        let hash = self.0.hasher.hash(new)?;
        self.store().throttle().clear_throttle_bucket(&key)?;
        self.store()
            .users()
            .set_password_hash(p.org, p.user, &hash, now, &attempt)
            .map_err(store_err)?;
        let reason = RevokeReason::CredentialsChanged;
        let audit =
            entry_by(p, "session.revoke_others", "user", p.user).detail("reason", reason.as_str());
        self.end_other_sessions(p, reason, now, &audit)
    }

    /// The back-off key and audit entry of a credential the caller presents inside their session
    /// (a step-up code, the current password), after checking the key is not in back-off. The
    /// bucket is the session's device's own.
    fn session_attempt(
        &self,
        user: &User,
        p: &Principal,
        action: &'static str,
        ip: IpAddr,
        now: i64,
    ) -> Result<(ThrottleKey, AuditEntry), AuthError> {
        let key = ThrottleKey {
            subject: user.email_index,
            bucket: step_up_bucket(p.device),
        };
        let attempt = self.audit_for(Some(user), action, ip);
        self.check_throttle(&key, now, &attempt)?;
        Ok((key, attempt))
    }

    /// Checks a TOTP code (accepted once: its step must be after the last accepted one) or a
    /// recovery code (used up). `Ok(false)` for anything that is not a valid, unused code.
    pub(super) fn verify_factor(
        &self,
        user: &User,
        code: &str,
        now: i64,
        ip: IpAddr,
    ) -> Result<bool, AuthError> {
        let trimmed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if trimmed.len() == totp::DIGITS && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let keys = self.keys(user.org)?;
            let Some(secret) = self.store().users().totp_secret(user.org, user.id, &keys)? else {
                return Ok(false);
            };
            return match totp::matching_step(&secret, &trimmed, now)? {
                Some(step) => Ok(self
                    .store()
                    .users()
                    .accept_totp_step(user.org, user.id, step)?),
                None => Ok(false),
            };
        }
        let Some(hash) = totp::hash_recovery_code(code) else {
            return Ok(false);
        };
        let used = self
            .store()
            .users()
            .use_recovery_code(user.org, user.id, &hash, now)?;
        if used {
            let left = self
                .store()
                .users()
                .recovery_codes_left(user.org, user.id)?;
            self.store().audit().record_audit(
                &self
                    .audit_for(Some(user), "user.recovery_code_use", ip)
                    .count("codes_left", u64::from(left)),
            )?;
        }
        Ok(used)
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::DeviceId;
    use ringside_store::UNKNOWN_DEVICE_BUCKET;

    use super::step_up_bucket;

    #[test]
    fn step_up_buckets_differ_per_device_and_from_the_unknown_bucket() {
        let a = step_up_bucket(DeviceId::random());
        let b = step_up_bucket(DeviceId::random());
        assert_ne!(a, b, "each device has its own bucket");
        assert_ne!(a, UNKNOWN_DEVICE_BUCKET);
    }
}
