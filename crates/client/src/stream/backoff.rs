//! When to try again after a connection is lost: exponential back-off with full jitter.
//!
//! Why full jitter: when a relay restarts, every agent's app loses its connection at the same
//! instant. Doubling alone would bring them all back in synchronised waves; a delay drawn
//! uniformly from `[0, ceiling]` spreads them out (the "full jitter" of AWS's Architecture Blog,
//! "Exponential Backoff And Jitter"). The ceiling starts at [`BackoffPolicy::initial`], doubles
//! with each failed attempt and stops at [`BackoffPolicy::max`].
//!
//! Why the reset waits for a healthy connection: a relay that accepts and then closes at once (a
//! crash loop, a slow consumer refused again) would otherwise reset the back-off on every
//! attempt and be hammered. Only a connection that stayed up for [`BackoffPolicy::healthy_after`]
//! starts the next outage from the initial delay again.
//!
//! Time and randomness are passed in ([`Backoff::connected`], [`Backoff::disconnected`] take the
//! instant; [`Backoff::next_delay`] takes the random draw), so the schedule is unit-tested exactly.

use std::time::{Duration, Instant};

/// How the back-off grows. The defaults are 250 ms doubling to 30 s, reset after 10 s connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The ceiling of the first retry.
    pub initial: Duration,
    /// The ceiling never grows beyond this.
    pub max: Duration,
    /// A connection that stayed up this long resets the back-off.
    pub healthy_after: Duration,
    /// How the delay is drawn below the ceiling.
    pub jitter: Jitter,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(30),
            healthy_after: Duration::from_secs(10),
            jitter: Jitter::Full,
        }
    }
}

/// How a delay is drawn below the ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Uniformly from `[0, ceiling]` (the default: spreads reconnecting clients out).
    #[default]
    Full,
    /// Exactly the ceiling (predictable; for tests and single clients).
    None,
}

impl BackoffPolicy {
    /// The ceiling of retry number `attempt` (0 for the first): `initial × 2^attempt`, at most
    /// [`BackoffPolicy::max`].
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// The back-off state of one stream: how many attempts have failed since the last healthy
/// connection.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
    connected_at: Option<Instant>,
}

impl Backoff {
    pub(crate) fn new(policy: BackoffPolicy) -> Self {
        Self {
            policy,
            attempt: 0,
            connected_at: None,
        }
    }

    /// How many retries have been scheduled since the last reset.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt, given `unit`, a random draw from `[0, 1)`; counts the
    /// attempt.
    pub(crate) fn next_delay(&mut self, unit: f64) -> Duration {
        let ceiling = self.policy.ceiling(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        match self.policy.jitter {
            Jitter::None => ceiling,
            Jitter::Full => ceiling.mul_f64(unit.clamp(0.0, 1.0)),
        }
    }

    /// A connection was established (the relay said `hello`) at `at`.
    pub(crate) fn connected(&mut self, at: Instant) {
        self.connected_at = Some(at);
    }

    /// The connection ended at `at`: the back-off starts over if it stayed up long enough.
    pub(crate) fn disconnected(&mut self, at: Instant) {
        if let Some(since) = self.connected_at.take()
            && at.saturating_duration_since(since) >= self.policy.healthy_after
        {
            self.attempt = 0;
        }
    }
}

/// A uniform draw from `[0, 1)` from the operating system's generator (53 random bits).
pub(crate) fn unit_random() -> f64 {
    let bits = u64::from_le_bytes(ringside_core::random_bytes::<8>()) >> 11;
    #[allow(clippy::cast_precision_loss)] // 53 bits fit an f64's mantissa exactly
    let unit = bits as f64 / (1u64 << 53) as f64;
    unit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The default policy's first `n` ceilings: doubling from 250 ms, capped at 30 s.
    fn default_ceilings(n: usize) -> Vec<Duration> {
        [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000][..n]
            .iter()
            .copied()
            .map(ms)
            .collect()
    }

    /// The default policy without jitter.
    fn unjittered() -> Backoff {
        Backoff::new(BackoffPolicy {
            jitter: Jitter::None,
            ..BackoffPolicy::default()
        })
    }

    #[test]
    fn the_ceiling_doubles_from_250_ms_and_stops_at_30_s() {
        let policy = BackoffPolicy::default();
        let ceilings: Vec<Duration> = (0..10).map(|n| policy.ceiling(n)).collect();
        assert_eq!(ceilings, default_ceilings(10), "doubling, capped at max");
        assert_eq!(policy.ceiling(u32::MAX), ms(30_000), "no overflow, ever");
    }

    #[test]
    fn without_jitter_the_schedule_is_the_ceilings() {
        let mut backoff = unjittered();
        let delays: Vec<Duration> = (0..9).map(|_| backoff.next_delay(0.3)).collect();
        assert_eq!(delays, default_ceilings(9));
        assert_eq!(backoff.attempt(), 9, "each delay counts an attempt");
    }

    #[test]
    fn full_jitter_draws_between_zero_and_the_ceiling() {
        let policy = BackoffPolicy::default();
        for attempt in 0..12 {
            let ceiling = policy.ceiling(attempt);
            for (unit, expected) in [
                (0.0, Duration::ZERO),
                (0.5, ceiling / 2),
                (0.999_999, ceiling.mul_f64(0.999_999)),
                (7.0, ceiling),
                (-1.0, Duration::ZERO),
            ] {
                let mut backoff = Backoff::new(policy.clone());
                for _ in 0..attempt {
                    backoff.next_delay(0.0);
                }
                let delay = backoff.next_delay(unit);
                assert_eq!(delay, expected, "attempt {attempt}, draw {unit}");
                assert!(delay <= ceiling, "never above the ceiling");
            }
        }
    }

    #[test]
    fn real_draws_stay_within_bounds_and_spread_out() {
        let policy = BackoffPolicy::default();
        let mut backoff = Backoff::new(policy.clone());
        for _ in 0..5 {
            backoff.next_delay(0.0);
        }
        let ceiling = policy.ceiling(5);
        let draws: Vec<Duration> = (0..200)
            .map(|_| {
                let mut b = backoff.clone();
                b.next_delay(unit_random())
            })
            .collect();
        assert!(
            draws.iter().all(|d| *d <= ceiling),
            "all within [0, ceiling]"
        );
        let low = draws.iter().filter(|d| **d < ceiling / 2).count();
        assert!(
            (40..=160).contains(&low),
            "about half fall in the lower half ({low} of 200): the draws are spread"
        );
        for _ in 0..1000 {
            let unit = unit_random();
            assert!((0.0..1.0).contains(&unit), "{unit} is in [0, 1)");
        }
    }

    #[test]
    fn a_healthy_connection_resets_the_schedule_and_a_short_one_does_not() {
        let mut backoff = unjittered();
        let t0 = Instant::now();
        assert_eq!(backoff.next_delay(0.0), ms(250));
        assert_eq!(backoff.next_delay(0.0), ms(500));

        backoff.connected(t0);
        backoff.disconnected(t0 + Duration::from_secs(9));
        assert_eq!(
            backoff.next_delay(0.0),
            ms(1000),
            "up for 9 s: a flapping relay keeps the back-off growing"
        );

        backoff.connected(t0 + Duration::from_secs(20));
        backoff.disconnected(t0 + Duration::from_secs(30));
        assert_eq!(
            backoff.next_delay(0.0),
            ms(250),
            "up for 10 s: the next outage starts over"
        );

        backoff.disconnected(t0 + Duration::from_secs(300));
        assert_eq!(
            backoff.next_delay(0.0),
            ms(500),
            "a failed attempt (never connected) does not reset"
        );
    }
}
