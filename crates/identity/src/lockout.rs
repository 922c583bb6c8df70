//! Slowing password guessing down without letting an attacker lock the owner out.
//!
//! Three mechanisms, all on the injected clock:
//!
//! 1. **Per-account exponential back-off** ([`LockoutPolicy`]). After [`LockoutPolicy::free_attempts`]
//!    consecutive failures, each further failure makes the account wait `base_delay × 2^(n−1)`,
//!    capped at `max_delay` (defaults: 5 free, then 1 s, 2 s, 4 s … capped at 15 min). While
//!    waiting, attempts are refused *without looking at the password and without counting*, so
//!    hammering during the delay neither helps a guesser nor extends the delay.
//! 2. **A ceiling of `hourly_ceiling` counted failures per account per hour** (default 100, the
//!    ASVS 4.0.3 V2.2.1 figure), across all device buckets. With the default back-off a single
//!    bucket can only reach about 18 failures in its first hour and 4 an hour after that, so the
//!    ceiling is a backstop, not the working limit.
//! 3. **Per-IP rate limit** ([`IpLimiter`], governor GCRA; default 10 attempts a minute with bursts
//!    of 10), which slows one source spraying many accounts.
//!
//! **Why this cannot lock the owner out indefinitely.** Back-off is a delay, never a lock: once it
//! has passed the correct password works, and its cap bounds how long that is. And the counters
//! are kept per *device bucket*: attempts from a device that completed a sign-in before (the
//! desktop app presents its device token, kept in the OS keychain) are counted in that device's
//! own bucket, not in the "unknown devices" bucket everyone else shares. An attacker without the
//! victim's device token can push only the shared bucket into back-off, so the victim, signing in
//! from their own computer, never waits on the attacker's failures; and the attacker alone (≈ 18
//! failures in the first hour, 4 an hour after) cannot reach the hourly ceiling that would also
//! hold the victim's bucket. An admin can clear it all at once (unlock). A victim on a brand-new
//! device waits at most `max_delay` per attempt in the worst case. `docs/security.md` has the
//! arithmetic.
//!
//! The counters are keyed by the address's blind index, not by user, so an address with no
//! account is slowed down exactly like one with an account: the delays do not reveal which
//! addresses exist.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use ringside_core::Clock;
use ringside_store::{FailureWindow, ThrottleState};

/// The back-off policy. See the module docs for what each value protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures allowed without any delay.
    pub free_attempts: u32,
    /// The delay after the first failure beyond the free ones; it doubles with each further one.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Counted failures per account per hour before every bucket waits for the window.
    pub hourly_ceiling: u32,
    /// A bucket with no failure for this long starts again from zero.
    pub forget_after: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            hourly_ceiling: 100,
            forget_after: Duration::from_secs(24 * 3600),
        }
    }
}

/// The ceiling's window.
pub const CEILING_WINDOW: Duration = Duration::from_secs(3600);

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl LockoutPolicy {
    /// The delay imposed after the `failures`-th consecutive failure.
    pub fn delay_after(&self, failures: u32) -> Duration {
        let Some(beyond) = failures.checked_sub(self.free_attempts).filter(|n| *n > 0) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(beyond - 1).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The bucket state after one more failure at `now`.
    pub fn after_failure(&self, previous: Option<ThrottleState>, now: i64) -> ThrottleState {
        let failures = match previous {
            Some(p) if now - p.last_failure_at < secs(self.forget_after) => {
                p.failures.saturating_add(1)
            }
            _ => 1,
        };
        ThrottleState {
            failures,
            last_failure_at: now,
            next_allowed_at: now.saturating_add(secs_ceil(self.delay_after(failures))),
        }
    }

    /// Whether an attempt may be looked at now: `Err(retry_after)` while the bucket is in
    /// back-off or the account's hourly ceiling is reached.
    pub fn check(
        &self,
        bucket: Option<ThrottleState>,
        window: FailureWindow,
        now: i64,
    ) -> Result<(), Duration> {
        let mut wait = 0;
        if let Some(b) = bucket {
            wait = wait.max(b.next_allowed_at - now);
        }
        if window.count >= self.hourly_ceiling {
            let oldest = window.oldest.unwrap_or(now);
            wait = wait.max(oldest + secs(CEILING_WINDOW) - now);
        }
        if wait > 0 {
            Err(Duration::from_secs(wait.unsigned_abs()))
        } else {
            Ok(())
        }
    }
}

fn secs_ceil(d: Duration) -> i64 {
    secs(d) + i64::from(d.subsec_nanos() > 0)
}

/// A `governor` clock reading the relay's [`Clock`], so tests move it with a `FakeClock`.
#[derive(Debug, Clone)]
pub struct GovernorAdapter(Arc<dyn Clock>);

impl GovernorClock for GovernorAdapter {
    type Instant = Duration;

    fn now(&self) -> Duration {
        let t = self.0.now();
        Duration::from_nanos(u64::try_from(t.unix_timestamp_nanos()).unwrap_or(0))
    }
}

type IpRateLimiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, GovernorAdapter, NoOpMiddleware<Duration>>;

/// Per-source-address limit on sign-in attempts (login, second factor, invitation acceptance).
pub struct IpLimiter {
    limiter: IpRateLimiter,
    clock: GovernorAdapter,
}

impl std::fmt::Debug for IpLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpLimiter").finish_non_exhaustive()
    }
}

/// The per-IP quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpLimit {
    /// Attempts replenished per minute.
    pub per_minute: NonZeroU32,
    /// Attempts allowed back to back.
    pub burst: NonZeroU32,
}

impl Default for IpLimit {
    fn default() -> Self {
        Self {
            per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl IpLimiter {
    /// A limiter with `limit`, on `clock`.
    pub fn new(limit: IpLimit, clock: Arc<dyn Clock>) -> Self {
        let clock = GovernorAdapter(clock);
        let quota = Quota::per_minute(limit.per_minute).allow_burst(limit.burst);
        Self {
            limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
        }
    }

    /// Counts one attempt from `ip`; `Err(retry_after)` once it is over its quota.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops addresses whose quota is full again (call from hygiene).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_core::FakeClock;

    fn state(failures: u32, last: i64, next: i64) -> ThrottleState {
        ThrottleState {
            failures,
            last_failure_at: last,
            next_allowed_at: next,
        }
    }

    #[test]
    fn five_attempts_are_free_then_the_delay_doubles_from_one_second_up_to_fifteen_minutes() {
        let p = LockoutPolicy::default();
        let delays: Vec<u64> = (1..=20).map(|n| p.delay_after(n).as_secs()).collect();
        assert_eq!(
            delays,
            [
                0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900, 900
            ],
            "the delay after each consecutive failure"
        );
        assert_eq!(
            p.delay_after(u32::MAX),
            Duration::from_secs(900),
            "no overflow, still capped"
        );
    }

    #[test]
    fn a_quiet_bucket_is_forgotten() {
        let p = LockoutPolicy::default();
        let s = p.after_failure(Some(state(12, 0, 100)), 24 * 3600 + 1);
        assert_eq!(s.failures, 1, "a day without failures starts afresh");
        let s = p.after_failure(Some(state(12, 0, 100)), 3600);
        assert_eq!(s.failures, 13);
        assert_eq!(
            s.next_allowed_at,
            3600 + 128,
            "the 13th failure waits 2^7 s"
        );
    }

    #[test]
    fn the_check_waits_for_the_bucket_and_for_the_hourly_ceiling() {
        let p = LockoutPolicy::default();
        let empty = FailureWindow {
            count: 0,
            oldest: None,
        };
        assert_eq!(p.check(None, empty, 1000), Ok(()));
        assert_eq!(
            p.check(Some(state(7, 990, 1002)), empty, 1000),
            Err(Duration::from_secs(2))
        );
        assert_eq!(p.check(Some(state(7, 990, 1000)), empty, 1000), Ok(()));
        let full = FailureWindow {
            count: 100,
            oldest: Some(400),
        };
        assert_eq!(
            p.check(None, full, 1000),
            Err(Duration::from_secs(3000)),
            "the ceiling frees a slot when the oldest failure is an hour old"
        );
    }

    #[test]
    fn one_unknown_device_bucket_alone_stays_far_below_the_hourly_ceiling() {
        // An attacker retrying the instant each delay ends, for an hour, from unknown devices.
        let p = LockoutPolicy::default();
        let mut now = 0;
        let mut bucket = None;
        let mut failures_in_first_hour = 0;
        while now < 3600 {
            bucket = Some(p.after_failure(bucket, now));
            failures_in_first_hour += 1;
            now = bucket.map_or(now, |b| b.next_allowed_at);
        }
        assert!(
            failures_in_first_hour < p.hourly_ceiling / 4,
            "back-off alone keeps one bucket at {failures_in_first_hour} failures an hour"
        );
    }

    #[test]
    fn the_ip_limit_allows_a_burst_then_one_attempt_every_six_seconds() {
        let clock = FakeClock::new(time::macros::datetime!(2026-11-23 09:00 UTC));
        let limiter = IpLimiter::new(IpLimit::default(), Arc::new(clock.clone()));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for i in 0..10 {
            assert_eq!(limiter.check(ip), Ok(()), "attempt {i} is within the burst");
        }
        let wait = limiter
            .check(ip)
            .expect_err("the 11th attempt in a burst is refused");
        assert!(
            wait <= Duration::from_secs(6) && wait > Duration::ZERO,
            "{wait:?}"
        );
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            limiter.check(other),
            Ok(()),
            "another address has its own quota"
        );
        clock.advance(Duration::from_secs(6));
        assert_eq!(limiter.check(ip), Ok(()), "one more after six seconds");
    }
}
