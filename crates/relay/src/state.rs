//! What every handler can reach: the store, the master keys, the build info. Cheap to clone (an
//! `Arc`); no globals.

use std::net::IpAddr;
use std::sync::Arc;

use ringside_core::BuildInfo;
use ringside_store::Store;
use ringside_vault::MasterKeyring;

use crate::api::rate_limit::{KeyedLimit, PER_CLIENT_PER_MINUTE};

/// Shared state of a running relay.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Store,
    master_keys: MasterKeyring,
    build: BuildInfo,
    limits: Limits,
}

/// The in-memory rate limiters.
#[derive(Debug)]
pub(crate) struct Limits {
    /// Per client IP, on every `/v1` route.
    pub(crate) per_client: KeyedLimit<IpAddr>,
}

impl AppState {
    pub(crate) fn new(store: Store, master_keys: MasterKeyring) -> Self {
        let build = BuildInfo::new("ringside-relay", env!("CARGO_PKG_VERSION"));
        let limits = Limits {
            per_client: KeyedLimit::per_minute(PER_CLIENT_PER_MINUTE),
        };
        Self(Arc::new(Inner {
            store,
            master_keys,
            build,
            limits,
        }))
    }

    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    pub(crate) fn master_keys(&self) -> &MasterKeyring {
        &self.0.master_keys
    }

    pub(crate) fn build(&self) -> &BuildInfo {
        &self.0.build
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.0.limits
    }
}
