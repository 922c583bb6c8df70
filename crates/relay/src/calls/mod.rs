//! The call pipeline: a webhook delivery in, its call moved and its pops made, the caller looked
//! up in the AMS. One way through, no return trips:
//!
//! 1. `ingest`: the integration, its keys and secret, the provider's signature check and
//!    parsing (`ringside-providers`), on one blocking thread;
//! 2. `apply`: routing, then the store's one transaction — dedupe record, call and legs moved
//!    by `ringside_core::calls`, pops and their stream events; the store pushes those to the hub
//!    as it commits (wired once, in `server.rs`);
//! 3. [`lookup`]: for a call's new pops, the AMS lookup on the runtime, bounded by
//!    `ams.timeout_ms`; its answer is stored and pushed (`pop_update`) the same way;
//! 4. `fetch`: a transcript the provider keeps in its API (Dialpad's), fetched on the runtime
//!    and kept for the sync.
//!
//! `Calls` holds exactly what that needs — the store, the org keys, the lookup — not the
//! relay's whole state, and calls nothing back along the way.

mod apply;
pub(crate) mod breaker;
mod fetch;
mod ingest;
pub mod lookup;
pub(crate) mod notes;

use std::sync::Arc;
use std::time::Duration;

use ringside_store::{NumberIndexKey, OrgKeys, Store};

pub(crate) use ingest::{Delivery, Ingested};
use lookup::Lookup;

/// The pipeline's dependencies. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Calls {
    store: Arc<Store>,
    keys: OrgKeys,
    lookup: Arc<dyn Lookup>,
    /// How long an AMS lookup may take.
    ams_timeout: Duration,
    /// Wakes the sync worker when a call is over.
    sync: ringside_sync::Waker,
    /// Keys the blind index every client number is stored with.
    numbers: NumberIndexKey,
    /// Fetches what providers keep in their APIs (`fetch`).
    http: reqwest::Client,
}

impl Calls {
    /// The key of the numbers' blind index.
    pub(crate) fn numbers(&self) -> &NumberIndexKey {
        &self.numbers
    }

    pub(crate) fn new(
        store: Arc<Store>,
        keys: OrgKeys,
        lookup: Arc<dyn Lookup>,
        ams_timeout: Duration,
        sync: ringside_sync::Waker,
        numbers: NumberIndexKey,
    ) -> Self {
        Self {
            store,
            keys,
            lookup,
            ams_timeout,
            sync,
            numbers,
            http: fetch::client(),
        }
    }
}
