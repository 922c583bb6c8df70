//! Integrations: an org's connection to a telephony provider (DESIGN §4, Webhooks). Created by
//! an owner (provider credentials: `ManageCredentials`, with a recent second factor) or by the
//! operator's CLI; listed without secrets; revoked, which deletes the sealed secret.
//!
//! Why here: creating one seals a secret with the org's data key and is audited like every
//! other credential change, and the service already holds the keyrings, the clock and the
//! authorization rules. The secret is shown only in the answer to its creation.

use base64::Engine as _;
use ringside_core::wire::Actor;
use ringside_core::{IntegrationId, OrgId, Permission, random_bytes};
use ringside_providers::{ProviderKind, ProviderSecret, ProviderSettings};
use ringside_store::{Integration, NewIntegration};
use zeroize::Zeroizing;

use super::{AuthService, Principal, entry, store_err};
use crate::auth::AuthError;

/// Longest integration label, in characters (the database refuses longer).
pub const MAX_INTEGRATION_LABEL_CHARS: usize = 64;

/// An integration just created: the only time its secret is shown.
pub struct CreatedIntegration {
    /// Its id (the webhook URL's last segment).
    pub id: IntegrationId,
    /// The provider.
    pub provider: ProviderKind,
    /// The admin-given label.
    pub label: String,
    /// The secret to paste into the provider's console (or the one the operator gave).
    pub secret: Zeroizing<String>,
    /// When it was created (unix seconds).
    pub created_at: i64,
}

impl std::fmt::Debug for CreatedIntegration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedIntegration")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// The path a provider posts to for integration `id`.
pub fn webhook_path(id: IntegrationId) -> String {
    format!("/v1/hooks/{id}")
}

/// A fresh secret for `provider`: 32 random bytes, as `whsec_` + base64 for Standard Webhooks
/// (the form its spec and libraries expect) and as hex for the others.
pub fn generate_secret(provider: ProviderKind) -> Zeroizing<String> {
    let bytes = Zeroizing::new(random_bytes::<32>());
    Zeroizing::new(match provider {
        ProviderKind::Standard => format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(bytes.as_slice())
        ),
        _ => hex::encode(bytes.as_slice()),
    })
}

impl AuthService {
    /// Creates an integration of the caller's org (owner only, recent second factor).
    pub fn create_integration(
        &self,
        p: &Principal,
        provider: ProviderKind,
        secret: Option<&str>,
        label: &str,
    ) -> Result<CreatedIntegration, AuthError> {
        self.authorize(p, Permission::ManageCredentials)?;
        let audit = |id| {
            entry(
                Some(p.org),
                Actor::user(p.user),
                "integration.create",
                "integration",
                id,
            )
            .from_ip(p.source_ip)
        };
        self.insert_integration(p.org, provider, secret, label, audit)
    }

    /// Creates an integration as the operator on the relay's command line.
    pub fn create_integration_as_operator(
        &self,
        org: OrgId,
        provider: ProviderKind,
        secret: Option<&str>,
        label: &str,
    ) -> Result<CreatedIntegration, AuthError> {
        self.store().org(org).map_err(store_err)?;
        let audit = |id| {
            entry(
                Some(org),
                Actor::system("cli"),
                "integration.create",
                "integration",
                id,
            )
        };
        self.insert_integration(org, provider, secret, label, audit)
    }

    fn insert_integration(
        &self,
        org: OrgId,
        provider: ProviderKind,
        secret: Option<&str>,
        label: &str,
        audit: impl FnOnce(IntegrationId) -> ringside_store::AuditEntry,
    ) -> Result<CreatedIntegration, AuthError> {
        let label = label.trim();
        if label.chars().count() > MAX_INTEGRATION_LABEL_CHARS
            || label.chars().any(char::is_control)
        {
            return Err(AuthError::InvalidInput("label"));
        }
        let secret = match secret {
            Some(given) => Zeroizing::new(given.to_owned()),
            None => generate_secret(provider),
        };
        let checked =
            ProviderSecret::new(secret.as_str()).map_err(|_| AuthError::InvalidInput("secret"))?;
        if provider == ProviderKind::Standard {
            ringside_providers::standard::key(&checked)
                .map_err(|_| AuthError::InvalidInput("secret"))?;
        }
        let settings = serde_json::to_string(&ProviderSettings::default())
            .map_err(|_| AuthError::InvalidInput("settings"))?;
        let id = IntegrationId::random();
        let new = NewIntegration {
            id,
            org,
            provider: provider.as_str().to_owned(),
            settings,
            label: label.to_owned(),
            created_at: self.now(),
        };
        let created_at = new.created_at;
        let keys = self.keys(org)?;
        let audit = audit(id).detail("provider", provider.as_str());
        self.store()
            .create_integration(&new, &secret, &keys, &audit)
            .map_err(store_err)?;
        tracing::info!(%org, integration = %id, provider = provider.as_str(), "integration created");
        Ok(CreatedIntegration {
            id,
            provider,
            label: label.to_owned(),
            secret,
            created_at,
        })
    }

    /// The integrations of the caller's org, without secrets.
    pub fn list_integrations(&self, p: &Principal) -> Result<Vec<Integration>, AuthError> {
        self.authorize_read(p, Permission::ManageCredentials)?;
        self.store().integrations(p.org).map_err(store_err)
    }

    /// The integrations of `org`, for the operator's CLI.
    pub fn list_integrations_as_operator(&self, org: OrgId) -> Result<Vec<Integration>, AuthError> {
        self.store().org(org).map_err(store_err)?;
        self.store().integrations(org).map_err(store_err)
    }

    /// Revokes an integration of `org` as the operator on the relay's command line.
    pub fn delete_integration_as_operator(
        &self,
        org: OrgId,
        id: IntegrationId,
    ) -> Result<(), AuthError> {
        let audit = entry(
            Some(org),
            Actor::system("cli"),
            "integration.delete",
            "integration",
            id,
        );
        self.store()
            .delete_integration(org, id, self.now(), &audit)
            .map_err(store_err)
    }

    /// Revokes an integration of the caller's org: its sealed secret is deleted, and webhooks
    /// naming it are answered 404 from then on.
    pub fn delete_integration(&self, p: &Principal, id: IntegrationId) -> Result<(), AuthError> {
        self.authorize(p, Permission::ManageCredentials)?;
        let audit = entry(
            Some(p.org),
            Actor::user(p.user),
            "integration.delete",
            "integration",
            id,
        )
        .from_ip(p.source_ip);
        self.store()
            .delete_integration(p.org, id, self.now(), &audit)
            .map_err(store_err)
    }
}
