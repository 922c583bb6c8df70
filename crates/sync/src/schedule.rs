//! When a failed sync is tried again, and which failures are not worth another try.
//!
//! Why this shape: an AMS that is down for an hour must not be hammered by every call that ended
//! in that hour, all at once, the moment it is back. The waits follow Svix's schedule (5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h, then every 10 h; `anchors.md` §1b) as ceilings, with *full jitter*: each
//! wait is drawn uniformly between one second and its ceiling, so retries spread out instead of
//! arriving in waves. An AMS's `Retry-After` is a floor. Retries go on until the PII cap (30 days),
//! when hygiene expires the call.
//!
//! A refusal that no retry can fix — a 4xx other than 408/429, a connection misconfigured —
//! goes straight to the dead letters, for an admin to look at.

use std::time::Duration;

use ringside_ams::AmsError;

/// The ceilings of the waits after the 1st, 2nd, … failed attempt; the last repeats.
pub const CEILINGS: [Duration; 6] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 60 * 60),
    Duration::from_secs(5 * 60 * 60),
    Duration::from_secs(10 * 60 * 60),
];

/// The ceiling of the wait after failed attempt number `attempt` (1-based).
#[must_use]
pub fn ceiling(attempt: u32) -> Duration {
    let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
    CEILINGS[index.min(CEILINGS.len() - 1)]
}

/// The wait after failed attempt `attempt`: uniform in [1 s, ceiling] given `random` (any
/// 64 bits), and at least `retry_after`.
#[must_use]
pub fn wait(attempt: u32, random: u64, retry_after: Option<Duration>) -> Duration {
    let ceiling = ceiling(attempt).as_millis();
    let ceiling = u64::try_from(ceiling).unwrap_or(u64::MAX).max(1_000);
    let drawn = Duration::from_millis(1_000 + random % (ceiling - 999));
    retry_after.map_or(drawn, |floor| drawn.max(floor))
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again later.
    Retry,
    /// A dead letter: retrying cannot help.
    Dead,
}

/// Whether `err` may pass by itself. Refused credentials are retried: an admin reconnecting
/// fixes them, and the calls already waiting then land without anyone retrying each one.
#[must_use]
pub fn verdict(err: &AmsError) -> Verdict {
    match err {
        AmsError::Rejected(status) if *status != 408 && *status != 429 => Verdict::Dead,
        AmsError::Config { .. } | AmsError::Unsupported(_) => Verdict::Dead,
        _ => Verdict::Retry,
    }
}

/// The stable reason recorded for `err`: its code, with the status of a refusal (`http_422`).
#[must_use]
pub fn reason(err: &AmsError) -> String {
    match err {
        AmsError::Rejected(status) => format!("http_{status}"),
        other => other.reason().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_jittered_under_svix_ceilings_and_respect_retry_after() {
        assert_eq!(ceiling(1), Duration::from_secs(5));
        assert_eq!(ceiling(3), Duration::from_secs(1800));
        assert_eq!(ceiling(6), ceiling(60), "the last ceiling repeats");
        for attempt in 1..10 {
            for random in [0, 1, 12_345, u64::MAX / 3, u64::MAX] {
                let w = wait(attempt, random, None);
                assert!(
                    w >= Duration::from_secs(1) && w <= ceiling(attempt),
                    "{w:?}"
                );
            }
        }
        assert_ne!(
            wait(4, 1, None),
            wait(4, 999_999_999, None),
            "jitter spreads"
        );
        let floor = Duration::from_secs(120);
        assert!(wait(1, 0, Some(floor)) >= floor);
    }

    #[test]
    fn only_refusals_no_retry_can_fix_are_dead_letters() {
        assert_eq!(verdict(&AmsError::Rejected(422)), Verdict::Dead);
        assert_eq!(verdict(&AmsError::Rejected(404)), Verdict::Dead);
        assert_eq!(verdict(&AmsError::Rejected(429)), Verdict::Retry);
        assert_eq!(verdict(&AmsError::Rejected(408)), Verdict::Retry);
        assert_eq!(verdict(&AmsError::Unavailable), Verdict::Retry);
        assert_eq!(verdict(&AmsError::Timeout), Verdict::Retry);
        assert_eq!(verdict(&AmsError::Credentials), Verdict::Retry);
        assert_eq!(verdict(&AmsError::config("x", "y")), Verdict::Dead);
        assert_eq!(reason(&AmsError::Rejected(422)), "http_422");
        assert_eq!(reason(&AmsError::Timeout), "timeout");
    }
}
