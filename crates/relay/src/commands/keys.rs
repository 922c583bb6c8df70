//! `ringside-relay keys rotate`: moves every organisation's data key to a new master-key version.
//!
//! The order makes every interruption safe to re-run (the vault's `MasterKeyring::rotate_target`
//! documents the same from its side):
//! 1. the new master version is stored in the key source, beside the old one;
//! 2. every org data key is re-wrapped under it in ONE store transaction;
//! 3. only then are older versions retired from the source.
//!
//! A crash after 1 leaves two versions in the source and nothing re-wrapped: re-running resumes at
//! 2 with the same target. A crash after 2 leaves an old version nobody uses: re-running retires
//! it. Data sealed by org keys never needs re-encrypting — only the small wrapped keys change.
//! Installation secrets (the audit checkpoint signing key) are re-wrapped in the same
//! transaction, which also records the `keys.rewrap` audit entry.

use std::fmt;
use std::sync::Arc;

use ringside_core::SystemClock;
use ringside_store::AuditContext;
use ringside_vault::MasterKeyVersion;

use crate::{Config, Error};

/// What a rotation did, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The master-key version every org key is now wrapped under.
    pub version: MasterKeyVersion,
    /// Whether that version was created by this run (false: an interrupted run was resumed).
    pub created: bool,
    /// How many wrapped org keys were re-wrapped.
    pub rewrapped: usize,
    /// Versions removed from the key source.
    pub retired: Vec<MasterKeyVersion>,
}

impl fmt::Display for RotationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let retired: Vec<String> = self.retired.iter().map(ToString::to_string).collect();
        write!(
            f,
            "master key now at version {}{}; {} org key(s) re-wrapped; retired: {}",
            self.version,
            if self.created {
                " (new)"
            } else {
                " (resumed an interrupted rotation)"
            },
            self.rewrapped,
            if retired.is_empty() {
                "none".to_owned()
            } else {
                retired.join(", ")
            },
        )
    }
}

/// Runs a rotation against the configured store and key source. Run it while the relay is
/// stopped, or restart the relay afterwards so it loads the new key.
pub fn rotate(config: &Config) -> Result<RotationReport, Error> {
    let (store, mut ring) = crate::open::open_store(config, Arc::new(SystemClock))?;
    let source = &config.master_key_source;
    let plan = ring.rotate_target(source)?;
    let target = ring
        .get(plan.target)
        .ok_or(ringside_vault::Error::UnknownMasterVersion(plan.target))?;
    let rewrapped = store
        .orgs()
        .rewrap_all(&ring, target, &AuditContext::system("cli"))?;
    let in_use = store.orgs().master_versions_in_use()?;
    debug_assert!(
        in_use.iter().all(|v| *v == plan.target),
        "every org key is on the target now"
    );
    let retired = ring.finish_rotation(source, &plan)?;
    tracing::info!(version = %plan.target, rewrapped, retired = retired.len(), "master key rotated");
    Ok(RotationReport {
        version: plan.target,
        created: plan.created,
        rewrapped,
        retired,
    })
}
