//! The AMS lookup seam: who is calling, according to the agency's management system.
//!
//! Why a seam: the pop goes out the moment the call rings, with `match: pending` only when a
//! lookup will really follow — an agency without a connected AMS sees `unavailable`, not a
//! spinner that never resolves. The AMS connectors fill this trait; until then the relay runs
//! with [`NoAms`]. A lookup gets the number for this call only and returns a [`MatchState`];
//! it must not cache either.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use ringside_core::wire::MatchState;
use ringside_core::{OrgId, PhoneNumber, Pii};

/// A lookup in flight.
pub type LookupFuture = Pin<Box<dyn Future<Output = MatchState> + Send>>;

/// Finds the callers in an org's AMS by phone number.
pub trait Lookup: Send + Sync + fmt::Debug + 'static {
    /// Whether `org` has an AMS to ask. `false`: pops say `unavailable` and no lookup runs.
    fn connected(&self, org: OrgId) -> bool;

    /// Looks `number` up in `org`'s AMS. The relay bounds it with `ams.timeout_ms` and reports
    /// `failed {reason: "timeout"}` past it.
    fn lookup(&self, org: OrgId, number: Pii<PhoneNumber>) -> LookupFuture;
}

/// No AMS connected anywhere: every pop's match is `unavailable`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAms;

impl Lookup for NoAms {
    fn connected(&self, _org: OrgId) -> bool {
        false
    }

    fn lookup(&self, _org: OrgId, _number: Pii<PhoneNumber>) -> LookupFuture {
        Box::pin(std::future::ready(MatchState::Unavailable))
    }
}
