//! [`AuthError`]: the one error type of the identity core, with a stable machine [`code`] per
//! variant for problem+json bodies.
//!
//! Why the messages say so little: they reach people who are not yet (or no longer) trusted.
//! None names a person or an address, none tells an unknown address from a wrong password
//! ([`AuthError::InvalidCredentials`] covers both, and disabled accounts too), and internal
//! failures say only "internal error" here — their cause is kept as the error's `source` for the
//! relay's log, where store and vault errors are themselves free of personal data.
//!
//! [`code`]: AuthError::code

use std::fmt;
use std::time::Duration;

use crate::password::PasswordProblem;

/// Why an identity operation was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Unknown address, wrong password or disabled account: deliberately one answer.
    #[error("the email address or password is not correct")]
    InvalidCredentials,
    /// A second-factor code (TOTP or recovery) is wrong, expired or already used.
    #[error("the second-factor code is not correct, or was already used")]
    InvalidSecondFactor,
    /// Too many failed sign-ins for this account from this device class: wait.
    #[error("too many failed sign-in attempts; try again in {} s", .retry_after.as_secs().max(1))]
    Locked {
        /// How long until the next attempt is looked at.
        retry_after: Duration,
    },
    /// Too many sign-in attempts from this network address: wait.
    #[error("too many sign-in attempts from this address; try again in {} s", .retry_after.as_secs().max(1))]
    RateLimited {
        /// How long until the next attempt is accepted.
        retry_after: Duration,
    },
    /// The invitation code is unknown, used, revoked or expired (one answer for all four).
    #[error("this invitation is not valid: it may have expired or been used already")]
    InvitationInvalid,
    /// The session's access token, idle timeout or absolute lifetime ran out: sign in again
    /// (or refresh, for an expired access token).
    #[error("the session has expired")]
    SessionExpired,
    /// The session was ended (sign-out, an admin, the account disabled, a reused refresh token).
    #[error("the session was ended")]
    SessionRevoked,
    /// No valid credential was presented.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but the role does not allow it (or the target is out of reach).
    #[error("not allowed")]
    Forbidden,
    /// Allowed, but only with the second factor verified in the last few minutes.
    #[error("confirm your second factor to continue")]
    StepUpRequired,
    /// Allowed once a second factor is enrolled (owners and admins must have one).
    #[error("enrol a second factor to continue")]
    MfaEnrollmentRequired,
    /// A new password was refused by the policy.
    #[error("this password cannot be used: {0}")]
    WeakPassword(PasswordProblem),
    /// A field is malformed (the field is named; its value never is).
    #[error("invalid {0}")]
    InvalidInput(&'static str),
    /// The address cannot be invited: it already belongs to a user (possibly in another org).
    #[error("this email address cannot be invited")]
    EmailUnavailable,
    /// The change would leave the organisation without an active owner.
    #[error("an organisation must keep at least one active owner")]
    LastOwner,
    /// The organisation is terminated: read-only until it is restored or shredded.
    #[error("this organisation was terminated and is read-only")]
    OrgTerminated,
    /// Nothing of that kind in the caller's organisation.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// There is no second-factor enrolment waiting for confirmation.
    #[error("no second-factor enrolment is pending")]
    NoPendingEnrollment,
    /// Something failed inside the relay; the cause is in `source` for the log.
    #[error("internal error")]
    Internal(#[source] Internal),
}

/// The cause of an [`AuthError::Internal`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Internal {
    /// The database.
    #[error(transparent)]
    Store(ringside_store::Error),
    /// Sealing or opening.
    #[error(transparent)]
    Vault(#[from] ringside_vault::Error),
    /// Password hashing or TOTP machinery.
    #[error("{0}")]
    Crypto(&'static str),
}

impl AuthError {
    /// The stable machine code clients switch on (snake_case, never changes meaning).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidSecondFactor => "invalid_second_factor",
            Self::Locked { .. } => "locked",
            Self::RateLimited { .. } => "rate_limited",
            Self::InvitationInvalid => "invitation_invalid",
            Self::SessionExpired => "session_expired",
            Self::SessionRevoked => "session_revoked",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::StepUpRequired => "step_up_required",
            Self::MfaEnrollmentRequired => "mfa_enrollment_required",
            Self::WeakPassword(_) => "weak_password",
            Self::InvalidInput(_) => "invalid_input",
            Self::EmailUnavailable => "email_unavailable",
            Self::LastOwner => "last_owner",
            Self::OrgTerminated => "org_terminated",
            Self::NotFound(_) => "not_found",
            Self::NoPendingEnrollment => "no_pending_enrollment",
            Self::Internal(_) => "internal",
        }
    }

    /// The HTTP status this error should be answered with (the HTTP layer maps; this keeps the
    /// mapping next to the meaning).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::InvalidCredentials
            | Self::InvalidSecondFactor
            | Self::SessionExpired
            | Self::SessionRevoked
            | Self::Unauthenticated => 401,
            Self::Forbidden
            | Self::StepUpRequired
            | Self::MfaEnrollmentRequired
            | Self::OrgTerminated => 403,
            Self::NotFound(_) | Self::InvitationInvalid => 404,
            Self::EmailUnavailable | Self::LastOwner | Self::NoPendingEnrollment => 409,
            Self::WeakPassword(_) | Self::InvalidInput(_) => 422,
            Self::Locked { .. } | Self::RateLimited { .. } => 429,
            Self::Internal(_) => 500,
        }
    }

    /// For `Retry-After`: how long to wait, for [`AuthError::Locked`] and
    /// [`AuthError::RateLimited`]; whole seconds, at least one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Locked { retry_after } | Self::RateLimited { retry_after } => Some(
                Duration::from_secs(
                    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
                )
                .max(Duration::from_secs(1)),
            ),
            _ => None,
        }
    }
}

impl From<ringside_store::Error> for AuthError {
    fn from(err: ringside_store::Error) -> Self {
        Self::Internal(Internal::Store(err))
    }
}

impl From<ringside_vault::Error> for AuthError {
    fn from(err: ringside_vault::Error) -> Self {
        Self::Internal(Internal::Vault(err))
    }
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_snake_case_and_distinct() {
        let all = [
            AuthError::InvalidCredentials,
            AuthError::InvalidSecondFactor,
            AuthError::Locked {
                retry_after: Duration::from_millis(1500),
            },
            AuthError::RateLimited {
                retry_after: Duration::ZERO,
            },
            AuthError::InvitationInvalid,
            AuthError::SessionExpired,
            AuthError::SessionRevoked,
            AuthError::Unauthenticated,
            AuthError::Forbidden,
            AuthError::StepUpRequired,
            AuthError::MfaEnrollmentRequired,
            AuthError::WeakPassword(PasswordProblem::Common),
            AuthError::InvalidInput("email"),
            AuthError::EmailUnavailable,
            AuthError::LastOwner,
            AuthError::OrgTerminated,
            AuthError::NotFound("user"),
            AuthError::NoPendingEnrollment,
            AuthError::Internal(Internal::Crypto("x")),
        ];
        let mut codes: Vec<&str> = all.iter().map(AuthError::code).collect();
        for code in &codes {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code} is snake_case"
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "codes are distinct");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        let locked = AuthError::Locked {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(locked.retry_after(), Some(Duration::from_secs(2)));
        let limited = AuthError::RateLimited {
            retry_after: Duration::ZERO,
        };
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(AuthError::Forbidden.retry_after(), None);
    }

    #[test]
    fn an_internal_error_says_nothing_of_its_cause_in_its_message() {
        let err = AuthError::from(ringside_store::Error::NotFound("user"));
        assert_eq!(err.to_string(), "internal error");
        assert_eq!(err.code(), "internal");
        assert!(
            std::error::Error::source(&err).is_some(),
            "the cause is kept for the log"
        );
    }
}
