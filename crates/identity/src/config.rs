//! Every number of the identity core in one struct, with the defaults `docs/security.md`
//! justifies. Tests shorten nothing here except the password-hash cost and (where a test is
//! about the ceiling) the back-off; timeouts are tested at their real values on a fake clock.

use std::time::Duration;

use crate::lockout::{IpLimit, LockoutPolicy};
use crate::password::HashParams;

/// The identity core's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Lifetime of an access token (default 15 min).
    pub access_ttl: Duration,
    /// A session unused this long ends (default 30 min; ASVS L2).
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in whatever the activity (default 12 h; ASVS L2,
    /// and an agent's shift).
    pub absolute_timeout: Duration,
    /// Lifetime of an invitation code (default 72 h).
    pub invitation_ttl: Duration,
    /// How recent the second factor must be for permissions that need it (default 10 min).
    pub step_up_window: Duration,
    /// Lifetime of a sign-in's pending second-factor step (default 5 min).
    pub challenge_ttl: Duration,
    /// Wrong codes allowed on one pending second-factor step before it is void (default 5).
    pub challenge_attempts: u32,
    /// A pending TOTP enrolment must be confirmed within this (default 15 min).
    pub enrollment_ttl: Duration,
    /// A known device unused this long is forgotten (default 90 days).
    pub device_ttl: Duration,
    /// Session activity is written at most this often (default 60 s): the idle timeout is
    /// measured to within this.
    pub touch_interval: Duration,
    /// Per-account back-off.
    pub lockout: LockoutPolicy,
    /// Per-address limit on sign-in attempts.
    pub ip_limit: IpLimit,
    /// argon2id cost.
    pub password_hash: HashParams,
}

const MIN: u64 = 60;
const HOUR: u64 = 3600;

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(15 * MIN),
            idle_timeout: Duration::from_secs(30 * MIN),
            absolute_timeout: Duration::from_secs(12 * HOUR),
            invitation_ttl: Duration::from_secs(72 * HOUR),
            step_up_window: Duration::from_secs(10 * MIN),
            challenge_ttl: Duration::from_secs(5 * MIN),
            challenge_attempts: 5,
            enrollment_ttl: Duration::from_secs(15 * MIN),
            device_ttl: Duration::from_secs(90 * 24 * HOUR),
            touch_interval: Duration::from_secs(MIN),
            lockout: LockoutPolicy::default(),
            ip_limit: IpLimit::default(),
            password_hash: HashParams::OWASP,
        }
    }
}

impl AuthConfig {
    /// The defaults with cheap password hashing and no practical per-address limit: for tests
    /// only, which [`AuthConfig::validate`] refuses (the relay never starts with it).
    #[doc(hidden)]
    pub fn fast_insecure_for_tests() -> Self {
        let wide = std::num::NonZeroU32::new(10_000).unwrap_or(std::num::NonZeroU32::MIN);
        Self {
            password_hash: HashParams::FAST_INSECURE_FOR_TESTS,
            ip_limit: IpLimit {
                per_minute: wide,
                burst: wide,
            },
            ..Self::default()
        }
    }

    /// Refuses values that would fall below the security bar (ASVS L2) or contradict each
    /// other; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        let checks: [(bool, &str); 10] = [
            (
                self.absolute_timeout <= Duration::from_secs(12 * HOUR),
                "absolute_timeout: at most 12 h (ASVS L2)",
            ),
            (
                self.idle_timeout <= Duration::from_secs(30 * MIN),
                "idle_timeout: at most 30 min (ASVS L2)",
            ),
            (
                self.access_ttl <= self.idle_timeout,
                "access_ttl: at most idle_timeout",
            ),
            (
                self.idle_timeout <= self.absolute_timeout,
                "idle_timeout: at most absolute_timeout",
            ),
            (
                self.step_up_window <= Duration::from_secs(10 * MIN),
                "step_up_window: at most 10 min",
            ),
            (
                self.challenge_ttl <= Duration::from_secs(10 * MIN),
                "challenge_ttl: at most 10 min (ASVS 6.5.5)",
            ),
            (
                !self.invitation_ttl.is_zero()
                    && self.invitation_ttl <= Duration::from_secs(30 * 24 * HOUR),
                "invitation_ttl: between 1 s and 30 days",
            ),
            (
                self.lockout.hourly_ceiling <= 100 && self.lockout.hourly_ceiling > 0,
                "lockout.hourly_ceiling: 1 to 100 (ASVS V2.2.1)",
            ),
            (
                self.lockout.max_delay <= Duration::from_secs(HOUR),
                "lockout.max_delay: at most 1 h, so nobody is locked out for long",
            ),
            (
                self.password_hash.memory_kib >= HashParams::OWASP.memory_kib
                    && self.password_hash.iterations >= HashParams::OWASP.iterations,
                "password_hash: at least m=19456 KiB, t=2 (OWASP)",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, message)) => Err((*message).to_owned()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_documented_values_and_pass_validation() {
        let c = AuthConfig::default();
        assert_eq!(c.access_ttl, Duration::from_secs(900));
        assert_eq!(c.idle_timeout, Duration::from_secs(1800));
        assert_eq!(c.absolute_timeout, Duration::from_secs(43_200));
        assert_eq!(c.invitation_ttl, Duration::from_secs(72 * 3600));
        assert_eq!(c.step_up_window, Duration::from_secs(600));
        assert_eq!(c.password_hash, HashParams::OWASP);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn values_below_the_bar_are_refused_by_name() {
        let mut c = AuthConfig {
            absolute_timeout: Duration::from_secs(13 * 3600),
            ..AuthConfig::default()
        };
        assert!(c.validate().unwrap_err().starts_with("absolute_timeout"));
        c = AuthConfig {
            password_hash: HashParams::FAST_INSECURE_FOR_TESTS,
            ..AuthConfig::default()
        };
        assert!(c.validate().unwrap_err().starts_with("password_hash"));
    }
}
