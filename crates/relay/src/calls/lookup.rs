//! The AMS lookup seam: who is calling, according to the agency's management system.
//!
//! Why a seam: the pop goes out the moment the call rings, with `match: pending` only when a
//! lookup will really follow — an agency without a connected AMS sees `unavailable`, not a
//! spinner that never resolves. [`AmsLookup`] fills it with each org's own connection
//! (`ringside-ams`); [`NoAms`] is the stand-in where no AMS may be asked at all. A lookup gets the
//! number for this call only and returns a [`MatchState`]; it must not cache either.
//!
//! [`AmsLookup`], for one ringing call: the org's circuit breaker first (an AMS that keeps
//! failing is answered `failed {reason: "unavailable"}` at once); then the org's credentials
//! unsealed for this call only and the connector's search within `ams.timeout_ms`; then the
//! connector and the credentials are dropped (wiped). What the AMS said goes back as the match —
//! stored only inside the sealed 5-minute pop. The first refusal of the credentials sends the
//! org's owners and admins one `notice`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use ringside_ams::AmsError;
use ringside_core::wire::MatchState;
use ringside_core::{OrgId, PhoneNumber, Pii};

use crate::ams::{AmsConnections, Opened};

/// A lookup in flight.
pub type LookupFuture = Pin<Box<dyn Future<Output = MatchState> + Send>>;

/// Finds the callers in an org's AMS by phone number.
pub trait Lookup: Send + Sync + fmt::Debug + 'static {
    /// Whether `org` has an AMS to ask. `false`: pops say `unavailable` and no lookup runs.
    fn connected(&self, org: OrgId) -> bool;

    /// Looks `number` up in `org`'s AMS, within `ams.timeout_ms` (`failed {reason: "timeout"}`
    /// past it). The relay stops a lookup that overruns its budget by more than a moment.
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

/// Each org's own AMS, through its stored connection.
#[derive(Debug, Clone)]
pub struct AmsLookup {
    connections: AmsConnections,
}

impl AmsLookup {
    /// Looks callers up through `connections`.
    pub fn new(connections: AmsConnections) -> Self {
        Self { connections }
    }

    async fn run(self, org: OrgId, number: Pii<PhoneNumber>) -> MatchState {
        let breakers = self.connections.breakers().clone();
        if !breakers.admit(org) {
            return failed("unavailable");
        }
        let connections = self.connections.clone();
        let opened = tokio::task::spawn_blocking(move || connections.open(org)).await;
        let connector = match opened {
            Ok(Ok(Some(connector))) => connector,
            Ok(Ok(None)) => return MatchState::Unavailable,
            Ok(Err(Opened::Unusable(err))) => return failed(err.reason()),
            Ok(Err(Opened::Store(err))) => {
                tracing::error!(%org, error = %err, "opening the AMS connection failed");
                return failed("unavailable");
            }
            Err(_) => return failed("unavailable"),
        };
        let result = tokio::time::timeout(
            self.connections.budget(),
            connector.lookup_by_phone(number.expose()),
        )
        .await
        .unwrap_or(Err(AmsError::Timeout));
        drop(connector);
        if breakers.record(org, &result).notify
            && let Err(err) = &result
        {
            self.tell_admins(org, err).await;
        }
        match result {
            Ok(contacts) if contacts.is_empty() => MatchState::NoMatch,
            Ok(contacts) => MatchState::Found { contacts },
            Err(err) => {
                tracing::info!(%org, reason = err.reason(), "AMS lookup failed");
                failed(err.reason())
            }
        }
    }

    /// One `notice` to the org's owners and admins: the AMS refuses the credentials.
    async fn tell_admins(&self, org: OrgId, err: &AmsError) {
        let (code, message) = match err {
            AmsError::Forbidden => (
                "ams_forbidden",
                "The AMS accepts Ringside's credentials but refuses what pops need (a missing \
                 scope or permission): callers are not matched until an owner fixes the AMS \
                 app's permissions and reconnects it (Settings → AMS, or `ringside-relay ams \
                 connect`).",
            ),
            _ => (
                "ams_credentials",
                "The AMS refuses Ringside's credentials: callers are not matched until an owner \
                 reconnects it with valid ones (Settings → AMS, or `ringside-relay ams connect`).",
            ),
        };
        let connections = self.connections.clone();
        let told = tokio::task::spawn_blocking(move || {
            let users = connections.admins(org)?;
            let keys = connections.keys().get(org)?;
            connections
                .store()
                .stream()
                .push_notice(org, &users, code, message, &keys)
        })
        .await;
        match told {
            Ok(Ok(events)) => {
                tracing::warn!(%org, code, told = events.len(), "AMS credentials refused; admins told")
            }
            Ok(Err(err)) => tracing::error!(%org, error = %err, "telling the admins failed"),
            Err(_) => tracing::error!(%org, "telling the admins failed"),
        }
    }
}

fn failed(reason: &str) -> MatchState {
    MatchState::Failed {
        reason: reason.to_owned(),
    }
}

impl Lookup for AmsLookup {
    fn connected(&self, org: OrgId) -> bool {
        self.connections.connected(org).unwrap_or_else(|err| {
            tracing::error!(%org, error = %err, "reading the AMS connection failed");
            false
        })
    }

    fn lookup(&self, org: OrgId, number: Pii<PhoneNumber>) -> LookupFuture {
        Box::pin(self.clone().run(org, number))
    }
}
