//! What every handler can reach: the store, the master and org keys, the identity service, the
//! integrations, the clock, the rate limiters, the stream hub, the call pipeline, the build
//! info. Cheap to clone (an `Arc`); no globals, so a test can run several relays in one process,
//! each on its own clock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ringside_core::{BuildInfo, Clock, IntegrationId, OrgId, UserId};
use ringside_identity::AuthService;
use ringside_store::{OrgKeys, Store};
use ringside_vault::MasterKeyring;

use crate::ams::AmsConnections;
use crate::api::rate_limit::{KeyedLimit, PER_CLIENT_PER_MINUTE, PER_USER_PER_MINUTE};
use crate::calls::Calls;
use crate::calls::lookup::Lookup;
use crate::hub::{History, Hub, Stream, StreamSettings, Tickets};
use crate::integrations::Integrations;
use crate::open::DataFolder;

/// Shared state of a running relay.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Arc<Store>,
    master_keys: Arc<MasterKeyring>,
    keys: OrgKeys,
    auth: AuthService,
    integrations: Integrations,
    ams: AmsConnections,
    build: BuildInfo,
    limits: Limits,
    webhook_base: WebhookBase,
    clock: Arc<dyn Clock>,
    hub: Arc<Hub>,
    calls: Calls,
    sync: ringside_sync::Worker,
    allowed_origins: Vec<String>,
    /// Which org each recently seen integration belongs to, so a webhook's quota is checked
    /// before anything is read. Never trusted for more: the delivery re-reads the integration.
    integration_orgs: Mutex<HashMap<IntegrationId, OrgId>>,
}

/// More integrations than this in the org cache and it starts over.
const INTEGRATION_ORGS_MAX: usize = 100_000;

/// The settings the request handlers and the pipeline need, from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) webhook_base: WebhookBase,
    pub(crate) stream: StreamSettings,
    /// Origins allowed to open the stream, the desktop app's included.
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) ams_timeout: Duration,
    pub(crate) webhooks_per_org_per_minute: NonZeroU32,
}

/// Where webhook URLs are rebuilt from for providers that sign over the URL they called.
#[derive(Debug, Clone)]
pub(crate) struct WebhookBase {
    /// `public_url` from the configuration, without a trailing slash.
    pub(crate) public_url: Option<String>,
    /// The scheme the relay itself serves (`https` with TLS, else `http`).
    pub(crate) scheme: &'static str,
}

/// The in-memory rate limiters. Every `/v1` request is counted once: per signed-in user when its
/// access token is valid, otherwise per client address (docs/api.md#rate-limits).
#[derive(Debug)]
pub(crate) struct Limits {
    /// Per client IP: public routes, and requests whose token is missing or refused.
    pub(crate) per_client: KeyedLimit<IpAddr>,
    /// Per signed-in user, on every authenticated route.
    pub(crate) per_user: KeyedLimit<UserId>,
    /// Per org, on its webhooks: one org's flood never uses another's quota.
    pub(crate) per_org_webhooks: KeyedLimit<OrgId>,
}

impl AppState {
    pub(crate) fn new(
        folder: DataFolder,
        settings: Settings,
        ams: AmsConnections,
        lookup: Arc<dyn Lookup>,
        sync: ringside_sync::Worker,
    ) -> Self {
        let integrations = folder.integrations();
        let calls = Calls::new(
            Arc::clone(&folder.store),
            folder.keys.clone(),
            lookup,
            settings.ams_timeout,
            sync.waker(),
            folder.numbers.clone(),
        );
        let clock = &folder.clock;
        let build = BuildInfo::new("ringside-relay", env!("CARGO_PKG_VERSION"));
        let limits = Limits {
            per_client: KeyedLimit::per_minute(PER_CLIENT_PER_MINUTE, Arc::clone(clock)),
            per_user: KeyedLimit::per_minute(PER_USER_PER_MINUTE, Arc::clone(clock)),
            per_org_webhooks: KeyedLimit::per_minute(
                settings.webhooks_per_org_per_minute,
                Arc::clone(clock),
            ),
        };
        let hub = Arc::new(Hub::new(settings.stream, Tickets::new(Arc::clone(clock))));
        Self(Arc::new(Inner {
            store: Arc::clone(&folder.store),
            master_keys: Arc::clone(&folder.masters),
            keys: folder.keys.clone(),
            auth: folder.auth.clone(),
            integrations,
            ams,
            build,
            limits,
            webhook_base: settings.webhook_base,
            clock: Arc::clone(clock),
            hub,
            calls,
            sync,
            allowed_origins: settings.allowed_origins,
            integration_orgs: Mutex::new(HashMap::new()),
        }))
    }

    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.0.store
    }

    pub(crate) fn master_keys(&self) -> &MasterKeyring {
        &self.0.master_keys
    }

    /// The org data keys (clone them into `spawn_blocking`: an `Arc`).
    pub(crate) fn keys(&self) -> &OrgKeys {
        &self.0.keys
    }

    /// Creating, listing and revoking integrations.
    pub(crate) fn integrations(&self) -> &Integrations {
        &self.0.integrations
    }

    /// The orgs' AMS connections.
    pub(crate) fn ams(&self) -> &AmsConnections {
        &self.0.ams
    }

    /// The sync worker (to wake it, or to follow its attempts).
    pub(crate) fn sync(&self) -> &ringside_sync::Worker {
        &self.0.sync
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

    /// The relay's clock (signed timestamps are checked against it).
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.0.clock.now()
    }

    pub(crate) fn webhook_base(&self) -> &WebhookBase {
        &self.0.webhook_base
    }
}

impl AppState {
    /// The stream hub.
    pub(crate) fn hub(&self) -> &Arc<Hub> {
        &self.0.hub
    }

    /// The stream's stored history (replay, dismissal, expiry).
    pub(crate) fn history(&self) -> History {
        History::new(Arc::clone(&self.0.store), self.0.keys.clone())
    }

    /// What a stream connection needs: the hub and the history.
    pub(crate) fn stream(&self) -> Stream {
        Stream {
            hub: Arc::clone(&self.0.hub),
            history: self.history(),
        }
    }

    /// The call pipeline.
    pub(crate) fn calls(&self) -> &Calls {
        &self.0.calls
    }

    /// The org of integration `id`, if it was seen recently.
    pub(crate) fn integration_org(&self, id: IntegrationId) -> Option<OrgId> {
        let orgs = self
            .0
            .integration_orgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        orgs.get(&id).copied()
    }

    /// Remembers the org of integration `id`.
    pub(crate) fn remember_integration_org(&self, id: IntegrationId, org: OrgId) {
        let mut orgs = self
            .0
            .integration_orgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if orgs.len() >= INTEGRATION_ORGS_MAX {
            orgs.clear();
        }
        orgs.insert(id, org);
    }

    /// Forgets the org of integration `id` (it was revoked).
    pub(crate) fn forget_integration_org(&self, id: IntegrationId) {
        let mut orgs = self
            .0
            .integration_orgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        orgs.remove(&id);
    }

    /// Whether a browser page from `origin` may open the stream.
    pub(crate) fn origin_allowed(&self, origin: &str) -> bool {
        self.0.allowed_origins.iter().any(|o| o == origin)
    }
}
