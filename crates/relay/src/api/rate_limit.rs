//! Per-key rate limits (governor's GCRA): per user for the API (100 requests a minute, DESIGN
//! §4), per IP for unauthenticated routes, per org for webhooks. A refusal is a 429 problem with
//! `Retry-After`, so well-behaved clients know exactly when to come back.
//!
//! Keys live in memory and are forgotten once idle ([`KeyedLimit::forget_idle`]), so a flood of
//! distinct keys cannot grow the map without bound between sweeps.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::ApiError;
use crate::state::AppState;

/// A rate limit applied separately to each key.
#[derive(Debug)]
pub(crate) struct KeyedLimit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// `per_minute` requests a minute per key, with bursts of up to the same number.
    pub(crate) fn per_minute(per_minute: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
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

/// Requests a minute one client may make to the API before authentication identifies it
/// (DESIGN §4: 100 a minute per user; the per-user limit applies on top once a route knows the
/// user).
pub(crate) const PER_CLIENT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(100).expect("non-zero");

/// Middleware: limits every `/v1` request per client IP; probes are exempt (load balancers poll
/// them).
pub(crate) async fn per_client(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/v1/")
        && let Err(refused) = state.limits().per_client.check(&peer.ip())
    {
        return refused.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_gets_its_own_quota_and_refusals_say_when_to_retry() {
        let limit = KeyedLimit::per_minute(NonZeroU32::new(3).unwrap());
        for _ in 0..3 {
            limit.check(&"alice").expect("within quota");
        }
        let refused = limit
            .check(&"alice")
            .expect_err("the fourth request in a minute is refused");
        assert_eq!(refused.code(), "rate_limited");
        limit
            .check(&"bob")
            .expect("another key is not affected by alice's use");
        assert_eq!(limit.len(), 2);
        limit.forget_idle();
        assert_eq!(limit.len(), 2, "keys with recent use are kept");
    }
}
