//! What every handler can reach: the store, the master keys, the identity service, the clock,
//! the rate limiters, the build info. Cheap to clone (an `Arc`); no globals, so a test can run
//! several relays in one process, each on its own clock.

use std::net::IpAddr;
use std::sync::Arc;

use ringside_core::{BuildInfo, Clock, UserId};
use ringside_store::Store;
use ringside_vault::MasterKeyring;

use crate::api::rate_limit::{KeyedLimit, PER_CLIENT_PER_MINUTE, PER_USER_PER_MINUTE};
use crate::auth::AuthService;

/// Shared state of a running relay.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Arc<Store>,
    master_keys: Arc<MasterKeyring>,
    auth: AuthService,
    build: BuildInfo,
    limits: Limits,
}

/// The in-memory rate limiters. Every `/v1` request is counted once: per signed-in user when its
/// access token is valid, otherwise per client address (DESIGN §4).
#[derive(Debug)]
pub(crate) struct Limits {
    /// Per client IP: public routes, and requests whose token is missing or refused.
    pub(crate) per_client: KeyedLimit<IpAddr>,
    /// Per signed-in user, on every authenticated route.
    pub(crate) per_user: KeyedLimit<UserId>,
}

impl AppState {
    pub(crate) fn new(
        store: Arc<Store>,
        master_keys: Arc<MasterKeyring>,
        auth: AuthService,
        clock: &Arc<dyn Clock>,
    ) -> Self {
        let build = BuildInfo::new("ringside-relay", env!("CARGO_PKG_VERSION"));
        let limits = Limits {
            per_client: KeyedLimit::per_minute(PER_CLIENT_PER_MINUTE, Arc::clone(clock)),
            per_user: KeyedLimit::per_minute(PER_USER_PER_MINUTE, Arc::clone(clock)),
        };
        Self(Arc::new(Inner {
            store,
            master_keys,
            auth,
            build,
            limits,
        }))
    }

    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.0.store
    }

    pub(crate) fn master_keys(&self) -> &MasterKeyring {
        &self.0.master_keys
    }

    /// The identity service (clone it into `spawn_blocking`: it is an `Arc`).
    pub(crate) fn auth(&self) -> &AuthService {
        &self.0.auth
    }

    pub(crate) fn build(&self) -> &BuildInfo {
        &self.0.build
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.0.limits
    }
}
