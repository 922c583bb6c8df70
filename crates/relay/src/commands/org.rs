//! The operator's organisation commands: `org create`, `invite` and
//! `integration create|list|delete`, run on the relay's own machine with the relay's
//! configuration (data folder, master-key source).
//!
//! Why on the command line: Ringside is invitation-only, so the very first person of an org
//! cannot be invited by anyone signed in. Whoever can run commands on the relay host already
//! holds the database and the master key, so they are the natural root of trust; what they get
//! is an invitation (single use, expiring), never a password. Both commands are audited with the
//! actor `system:cli`.

use std::sync::Arc;

use ringside_core::{IntegrationId, OrgId, Role, SystemClock};
use ringside_identity::{AuthError, CreatedInvitation, normalize_email};
use ringside_providers::ProviderKind;
use ringside_store::{AuditContext, Integration};

use crate::integrations::{Caller, CreatedIntegration};
use crate::open::DataFolder;
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

/// Opens the data folder on the system clock.
fn open(config: &Config) -> Result<DataFolder, Error> {
    DataFolder::open(config, Arc::new(SystemClock))
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
    let folder = open(config)?;
    if folder.auth.email_in_use(owner_email)? {
        return Err(AuthError::EmailUnavailable.into());
    }
    let org =
        folder
            .store
            .orgs()
            .create_org(name, &folder.masters, &AuditContext::system("cli"))?;
    let invitation = folder
        .auth
        .invite_as_operator(org.id, owner_email, Role::Owner)?;
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
    let invitation = open(config)?.auth.invite_as_operator(org, email, role)?;
    tracing::info!(%org, invitation = %invitation.id, %role, "invitation created");
    Ok(invitation)
}

/// `integration create`: a new integration of `org`; the answer carries its secret, shown once.
pub fn create_integration(
    config: &Config,
    org: OrgId,
    provider: ProviderKind,
    secret: Option<&str>,
    label: &str,
) -> Result<CreatedIntegration, Error> {
    let integrations = open(config)?.integrations();
    Ok(integrations.create(Caller::Operator(org), provider, secret, label)?)
}

/// `integration list`: the integrations of `org`, without secrets.
pub fn list_integrations(config: &Config, org: OrgId) -> Result<Vec<Integration>, Error> {
    Ok(open(config)?.integrations().list(Caller::Operator(org))?)
}

/// `integration api-key`: keeps the key in `key_file` (mode 0600) for an integration of `org`,
/// or deletes its key when `None`; answers whether a key is kept now.
pub fn set_integration_api_key(
    config: &Config,
    org: OrgId,
    id: IntegrationId,
    key_file: Option<&std::path::Path>,
    api_base: Option<&str>,
) -> Result<bool, Error> {
    let key = key_file
        .map(crate::commands::ams::read_credentials)
        .transpose()?;
    let key = key.as_ref().map(|bytes| String::from_utf8_lossy(bytes));
    open(config)?.integrations().set_api_key(
        Caller::Operator(org),
        id,
        key.as_deref(),
        api_base,
    )?;
    Ok(key.is_some())
}

/// `integration delete`: revokes an integration of `org` (its sealed secret is deleted).
pub fn delete_integration(config: &Config, org: OrgId, id: IntegrationId) -> Result<(), Error> {
    Ok(open(config)?
        .integrations()
        .delete(Caller::Operator(org), id)?)
}
