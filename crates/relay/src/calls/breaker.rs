//! A circuit breaker per org in front of its AMS, and the "tell the admins once" latch.
//!
//! Why: when an agency's AMS is down, every ringing call would otherwise wait out the whole
//! lookup budget before its pop says `failed` — and keep hammering an AMS that is already
//! struggling. After [`TRIP_AFTER`] failures in a row the breaker opens: lookups answer
//! `failed {reason: "unavailable"}` at once for [`OPEN_FOR`] (or for as long as a 429's
//! `Retry-After` asked), then one probe is let through; a success closes it again.
//!
//! Refused credentials are worth a `notice` to the org's admins — once, not per call: the latch
//! is set by the first such failure and cleared by a success or a new connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ringside_ams::AmsError;
use ringside_core::{Clock, OrgId};
use time::OffsetDateTime;

/// Consecutive failures that open the breaker.
pub(crate) const TRIP_AFTER: u32 = 3;

/// How long an open breaker refuses before it lets a probe through.
pub(crate) const OPEN_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<OffsetDateTime>,
    notified: bool,
}

/// The breakers of every org. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub(crate) struct Breakers {
    states: Arc<Mutex<HashMap<OrgId, State>>>,
    clock: Arc<dyn Clock>,
}

/// What recording an outcome means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// The admins should be told (the first refusal of the credentials).
    pub(crate) notify: bool,
}

impl Breakers {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            states: Arc::new(Mutex::new(HashMap::new())),
            clock,
        }
    }

    /// Whether a lookup for `org` may go to its AMS now. An open breaker past its time lets this
    /// one through as the probe and stays open for the others until the probe is recorded.
    pub(crate) fn admit(&self, org: OrgId) -> bool {
        let now = self.clock.now();
        let mut states = self.lock();
        let state = states.entry(org).or_default();
        match state.open_until {
            Some(until) if until > now => false,
            Some(_) => {
                state.open_until = Some(now + OPEN_FOR);
                true
            }
            None => true,
        }
    }

    /// Records how a lookup for `org` ended.
    pub(crate) fn record<T>(&self, org: OrgId, outcome: &Result<T, AmsError>) -> Recorded {
        let now = self.clock.now();
        let mut states = self.lock();
        let state = states.entry(org).or_default();
        let Err(error) = outcome else {
            *state = State::default();
            return Recorded { notify: false };
        };
        state.failures = state.failures.saturating_add(1);
        if let AmsError::RateLimited { retry_after } = error {
            state.open_until =
                Some(now + retry_after.unwrap_or(OPEN_FOR).max(Duration::from_secs(1)));
        } else if state.failures >= TRIP_AFTER {
            state.open_until = Some(now + OPEN_FOR);
        } else {
            state.open_until = None;
        }
        let notify = error.needs_admin() && !state.notified;
        state.notified |= notify;
        Recorded { notify }
    }

    /// Forgets `org`'s history (it connected another AMS, or disconnected).
    pub(crate) fn reset(&self, org: OrgId) {
        self.lock().remove(&org);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, State>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::FakeClock;

    use super::*;

    fn breakers() -> (Breakers, FakeClock, OrgId) {
        let clock = FakeClock::new(time::macros::datetime!(2026-12-03 10:00 UTC));
        (
            Breakers::new(Arc::new(clock.clone())),
            clock,
            OrgId::random(),
        )
    }

    #[test]
    fn repeated_failures_open_it_and_one_probe_after_the_pause_closes_it() {
        let (breakers, clock, org) = breakers();
        for _ in 0..TRIP_AFTER {
            assert!(breakers.admit(org));
            breakers.record::<()>(org, &Err(AmsError::Unavailable));
        }
        assert!(!breakers.admit(org), "open: refused at once");
        clock.advance(OPEN_FOR + Duration::from_secs(1));
        assert!(breakers.admit(org), "the probe");
        assert!(!breakers.admit(org), "only one probe at a time");
        breakers.record(org, &Ok(()));
        assert!(breakers.admit(org) && breakers.admit(org), "closed again");
        assert!(
            breakers.admit(OrgId::random()),
            "another org is not affected"
        );
    }

    #[test]
    fn a_429_waits_as_long_as_retry_after_says() {
        let (breakers, clock, org) = breakers();
        let limited = AmsError::RateLimited {
            retry_after: Some(Duration::from_secs(90)),
        };
        breakers.record::<()>(org, &Err(limited));
        clock.advance(Duration::from_secs(60));
        assert!(!breakers.admit(org), "still inside Retry-After");
        clock.advance(Duration::from_secs(31));
        assert!(breakers.admit(org));
    }

    #[test]
    fn refused_credentials_notify_once_until_a_success_or_a_reset() {
        let (breakers, _, org) = breakers();
        let refused = || {
            breakers
                .record::<()>(org, &Err(AmsError::Credentials))
                .notify
        };
        assert!(refused(), "the first refusal is told");
        assert!(!refused(), "not per call");
        assert!(!breakers.record::<()>(org, &Err(AmsError::Timeout)).notify);
        breakers.record(org, &Ok(()));
        assert!(refused(), "after a success, a new refusal is news");
        breakers.reset(org);
        assert!(refused(), "and after a new connection");
    }
}
