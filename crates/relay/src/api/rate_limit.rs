//! Per-key rate limits (governor's GCRA): 100 requests a minute per signed-in user on the API
//! (docs/api.md#rate-limits), and the same per client address for requests that do not (yet) identify a user.
//! A refusal is a 429 problem with `Retry-After`, so well-behaved clients know exactly when to
//! come back.
//!
//! Why per user and not only per address: an agency's agents often share one office address
//! behind NAT, and twenty busy desktops must not throttle each other. So each `/v1` request is
//! counted exactly once, by the route's access extractor (`api::extract`): public routes per
//! address (`Public`); routes behind a bearer token per user once the token checks out, or per
//! address when it is missing or refused (`Authenticated`) — so a stream of bad tokens is
//! throttled like any other anonymous traffic. Probes (`/healthz`, `/readyz`) are not limited:
//! load balancers poll them.
//!
//! The limiters read the relay's [`Clock`], so tests move past a refusal without sleeping. Keys
//! live in memory and are forgotten once idle ([`KeyedLimit::forget_idle`]), so a flood of
//! distinct keys cannot grow the map without bound between sweeps.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use ringside_core::Clock;

use super::problem::ApiError;

/// A `governor` clock reading the relay's [`Clock`].
#[derive(Debug, Clone)]
struct RelayClock(Arc<dyn Clock>);

impl GovernorClock for RelayClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        let nanos = self.0.now().unix_timestamp_nanos();
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
    }
}

/// A rate limit applied separately to each key.
#[derive(Debug)]
pub(crate) struct KeyedLimit<K: Hash + Eq + Clone> {
    limiter: RateLimiter<K, DefaultKeyedStateStore<K>, RelayClock, NoOpMiddleware<Duration>>,
    clock: RelayClock,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// `per_minute` requests a minute per key, with bursts of up to the same number, on `clock`.
    pub(crate) fn per_minute(per_minute: NonZeroU32, clock: Arc<dyn Clock>) -> Self {
        let clock = RelayClock(clock);
        Self {
            limiter: RateLimiter::new(
                Quota::per_minute(per_minute),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
        }
    }

    /// Counts one request for `key`; refused with a 429 problem once the key is over its quota.
    pub(crate) fn check(&self, key: &K) -> Result<(), ApiError> {
        self.limiter.check_key(key).map_err(|not_until| {
            ApiError::rate_limited(
                not_until
                    .wait_time_from(self.clock.now())
                    .max(Duration::from_secs(1)),
            )
        })
    }

    /// Drops keys whose quota is fully replenished (the hygiene task calls it periodically).
    pub(crate) fn forget_idle(&self) {
        self.limiter.retain_recent();
    }

    /// How many keys are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// Requests a minute one client address may make to public routes, and to authenticated routes
/// without a valid token.
pub(crate) const PER_CLIENT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(100).expect("non-zero");

/// Requests a minute one signed-in user may make (docs/api.md#rate-limits).
pub(crate) const PER_USER_PER_MINUTE: NonZeroU32 = NonZeroU32::new(100).expect("non-zero");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_gets_its_own_quota_and_refusals_say_when_to_retry() {
        let clock = ringside_core::FakeClock::new(time::macros::datetime!(2026-11-23 09:00 UTC));
        let limit = KeyedLimit::per_minute(NonZeroU32::new(3).unwrap(), Arc::new(clock.clone()));
        for _ in 0..3 {
            limit.check(&"alice").expect("within quota");
        }
        let refused = limit
            .check(&"alice")
            .expect_err("the fourth request in a minute is refused");
        assert_eq!(refused.code(), "rate_limited");
        clock.advance(Duration::from_secs(20));
        limit
            .check(&"alice")
            .expect("a third of a minute later, one request's quota is back");
        limit
            .check(&"bob")
            .expect("another key is not affected by alice's use");
        assert_eq!(limit.len(), 2);
        limit.forget_idle();
        assert_eq!(limit.len(), 2, "keys with recent use are kept");
    }
}
