//! [`OrgKeys`]: each org's data keys, unwrapped once and shared by everything that seals or
//! opens that org's rows — identity, webhook ingest, the stream hub's replay and hygiene.
//!
//! Why a component of its own: unwrapping an org's keyring costs a master-key decryption per
//! generation, so it is cached; and the cache belongs to no single domain. Before it existed the
//! cache lived in the identity service, so every webhook reached into identity for keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ringside_core::OrgId;
use ringside_vault::{MasterKeyring, OrgKeyring};

use crate::{Error, Store};

/// More orgs than this in the cache and it starts over (a relay serves far fewer).
const CACHED_ORGS_MAX: usize = 10_000;

/// The org data-key cache over one store and one set of master keys. Cheap to clone.
#[derive(Clone)]
pub struct OrgKeys(Arc<Inner>);

struct Inner {
    store: Arc<Store>,
    masters: Arc<MasterKeyring>,
    cache: Mutex<HashMap<OrgId, Arc<OrgKeyring>>>,
}

impl std::fmt::Debug for OrgKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgKeys")
            .field("cached_orgs", &self.lock().len())
            .finish_non_exhaustive()
    }
}

impl OrgKeys {
    /// An empty cache over `store`, unwrapping with `masters`.
    pub fn new(store: Arc<Store>, masters: Arc<MasterKeyring>) -> Self {
        Self(Arc::new(Inner {
            store,
            masters,
            cache: Mutex::new(HashMap::new()),
        }))
    }

    /// The master keys (for installation secrets and new orgs).
    pub fn masters(&self) -> &Arc<MasterKeyring> {
        &self.0.masters
    }

    /// The data keys of `org`, unwrapped on first use. `NotFound` for an org without keys.
    pub fn get(&self, org: OrgId) -> Result<Arc<OrgKeyring>, Error> {
        if let Some(keys) = self.lock().get(&org) {
            return Ok(Arc::clone(keys));
        }
        let keys = Arc::new(self.0.store.orgs().org_keyring(org, &self.0.masters)?);
        let mut cache = self.lock();
        if cache.len() >= CACHED_ORGS_MAX {
            cache.clear();
        }
        cache.insert(org, Arc::clone(&keys));
        Ok(keys)
    }

    /// Drops `org`'s cached keys (a new data-key generation was added elsewhere).
    pub fn forget(&self, org: OrgId) {
        self.lock().remove(&org);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<OrgId, Arc<OrgKeyring>>> {
        // Only whole inserts and removals happen under the lock: a panic leaves it consistent.
        self.0.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
