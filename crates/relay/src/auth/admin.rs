//! The operator's identity commands: `org create`, `invite` and `integration create|list|delete`, run on the relay's own machine
//! with the relay's configuration (data folder, master-key source).
//!
//! Why on the command line: Ringside is invitation-only, so the very first person of an org
//! cannot be invited by anyone signed in. Whoever can run commands on the relay host already
//! holds the database and the master key, so they are the natural root of trust; what they get
//! is an invitation (single use, expiring), never a password. Both commands are audited with the
//! actor `system:cli`.

use std::sync::Arc;

use ringside_core::{OrgId, Role, SystemClock};
use ringside_store::{AuditContext, Store};
use ringside_vault::MasterKeyring;

use crate::auth::{AuthConfig, AuthError, AuthService, CreatedInvitation, normalize_email};
use crate::{Config, Error};

/// Longest org name (the database refuses longer).
pub const MAX_ORG_NAME_CHARS: usize = 200;

/// What `org create` made.
#[derive(Debug, Clone)]
pub struct OrgCreated {
    /// The new org.
    pub org: OrgId,
    /// The first owner's invitation.
    pub invitation: CreatedInvitation,
}

/// Opens the store, the master keys and the identity service for a command.
pub(crate) fn open(
    config: &Config,
) -> Result<(Arc<Store>, Arc<MasterKeyring>, AuthService), Error> {
    let store = Arc::new(Store::open(&config.data_dir, Arc::new(SystemClock))?);
    let masters = Arc::new(crate::keys::load_master_keys(config, &store)?);
    let auth = AuthService::load(
        Arc::clone(&store),
        Arc::clone(&masters),
        Arc::new(SystemClock),
        AuthConfig::default(),
    )?;
    Ok((store, masters, auth))
}

/// `org create`: a new org with its data key, and a one-time invitation for its first owner.
/// The address is checked before the org is created, so a refused address leaves nothing behind.
pub fn create_org(config: &Config, name: &str, owner_email: &str) -> Result<OrgCreated, Error> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_ORG_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AuthError::InvalidInput("organisation name").into());
    }
    normalize_email(owner_email)?;
    let (store, masters, auth) = open(config)?;
    if auth.email_in_use(owner_email)? {
        return Err(AuthError::EmailUnavailable.into());
    }
    let org = store.create_org(name, &masters, &AuditContext::system("cli"))?;
    let invitation = auth.invite_as_operator(org.id, owner_email, Role::Owner)?;
    tracing::info!(org = %org.id, invitation = %invitation.id, "organisation created with an owner invitation");
    Ok(OrgCreated {
        org: org.id,
        invitation,
    })
}

/// `invite`: a one-time invitation into `org` with `role`.
pub fn invite(
    config: &Config,
    org: OrgId,
    email: &str,
    role: Role,
) -> Result<CreatedInvitation, Error> {
    let (_store, _masters, auth) = open(config)?;
    let invitation = auth.invite_as_operator(org, email, role)?;
    tracing::info!(%org, invitation = %invitation.id, %role, "invitation created");
    Ok(invitation)
}

/// `integration create`: a new integration of `org`; the answer carries its secret, shown once.
pub fn create_integration(
    config: &Config,
    org: OrgId,
    provider: ringside_providers::ProviderKind,
    secret: Option<&str>,
    label: &str,
) -> Result<crate::auth::CreatedIntegration, Error> {
    let (_store, _masters, auth) = open(config)?;
    Ok(auth.create_integration_as_operator(org, provider, secret, label)?)
}

/// `integration list`: the integrations of `org`, without secrets.
pub fn list_integrations(
    config: &Config,
    org: OrgId,
) -> Result<Vec<ringside_store::Integration>, Error> {
    let (_store, _masters, auth) = open(config)?;
    Ok(auth.list_integrations_as_operator(org)?)
}

/// `integration delete`: revokes an integration of `org` (its sealed secret is deleted).
pub fn delete_integration(
    config: &Config,
    org: OrgId,
    id: ringside_core::IntegrationId,
) -> Result<(), Error> {
    let (_store, _masters, auth) = open(config)?;
    Ok(auth.delete_integration_as_operator(org, id)?)
}
