//! Opening a data folder: the store (migrated on open), the master keys from the configured
//! source, the org data-key cache over them and the identity service.
//!
//! Why one place: `serve` and every operator command open a data folder, and the rule for when a
//! brand-new master key may be created must be the same for all of them (see
//! [`load_master_keys`]).

use std::sync::Arc;

use ringside_core::Clock;
use ringside_identity::{AuthConfig, AuthService};
use ringside_store::{NumberIndexKey, OrgKeys, Store};
use ringside_vault::MasterKeyring;

use crate::integrations::Integrations;
use crate::{Config, Error};

/// An opened data folder.
#[derive(Debug, Clone)]
pub(crate) struct DataFolder {
    pub(crate) store: Arc<Store>,
    pub(crate) masters: Arc<MasterKeyring>,
    /// The org data keys, shared by identity, ingest, the hub and hygiene.
    pub(crate) keys: OrgKeys,
    pub(crate) auth: AuthService,
    /// The installation's key for the numbers' blind index (erasure, SMS opt-outs).
    pub(crate) numbers: NumberIndexKey,
    pub(crate) clock: Arc<dyn Clock>,
}

impl DataFolder {
    /// Opens `config`'s data folder on `clock` with the identity core's default settings.
    pub(crate) fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let (store, masters) = open_store(config, Arc::clone(&clock))?;
        let (store, masters) = (Arc::new(store), Arc::new(masters));
        let keys = OrgKeys::new(Arc::clone(&store), Arc::clone(&masters));
        let auth = AuthService::load(
            Arc::clone(&store),
            keys.clone(),
            Arc::clone(&clock),
            AuthConfig {
                step_up_window: config.step_up_window,
                ..AuthConfig::default()
            },
        )?;
        let numbers = NumberIndexKey::load(&store, &masters)?;
        Ok(Self {
            store,
            masters,
            keys,
            auth,
            numbers,
            clock,
        })
    }

    /// The orgs' AMS connections, each request to an AMS bounded by `timeout`.
    pub(crate) fn ams_connections(
        &self,
        timeout: std::time::Duration,
    ) -> Result<crate::ams::AmsConnections, Error> {
        let limits = ringside_ams::Limits {
            timeout,
            ..ringside_ams::Limits::default()
        };
        let ams = ringside_ams::Ams::new(limits, Arc::clone(&self.clock))?;
        Ok(crate::ams::AmsConnections::new(
            Arc::clone(&self.store),
            self.keys.clone(),
            self.auth.clone(),
            Arc::clone(&self.clock),
            ams,
        ))
    }

    /// Creating, listing and revoking the folder's integrations.
    pub(crate) fn integrations(&self) -> Integrations {
        Integrations::new(
            Arc::clone(&self.store),
            self.keys.clone(),
            self.auth.clone(),
            Arc::clone(&self.clock),
        )
    }
}

/// Only the store and the master keys (for commands that must not write anything else, such as
/// `audit verify`, and for `keys rotate`, which changes the keyring).
pub(crate) fn open_store(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<(Store, MasterKeyring), Error> {
    let store = Store::open(&config.data_dir, clock)?;
    store.set_pop_ttl(i64::from(config.pop_ttl_secs));
    let masters = load_master_keys(config, &store)?;
    Ok((store, masters))
}

/// Loads the master keyring. Only a database with no wrapped keys yet may get a brand-new master
/// key: if the store already holds org keys, a missing key means a misconfigured source (or a
/// lost key), and creating a fresh one would only hide that — it could open nothing.
fn load_master_keys(config: &Config, store: &Store) -> Result<MasterKeyring, Error> {
    let source = &config.master_key_source;
    if store.orgs().master_versions_in_use()?.is_empty() {
        Ok(source.load_or_create()?)
    } else {
        Ok(source.load()?)
    }
}
