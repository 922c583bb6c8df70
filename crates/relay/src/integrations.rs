//! Integrations: an org's connection to a telephony provider (docs/providers.md). Created by an
//! owner (provider credentials: `ManageCredentials`, with a recent second factor) or by the
//! operator's CLI; listed without secrets; revoked, which deletes the sealed secret.
//!
//! Why in the relay and not in identity: an integration is provider configuration (its secret's
//! form is the provider's), so it needs `ringside-providers`, which identity must not know. It
//! asks identity only whether the caller may ([`AuthService::authorize`]). The secret is sealed
//! with the org's data key, audited like every other credential change, and shown only in the
//! answer to its creation.

use std::sync::Arc;

use base64::Engine as _;
use ringside_core::{Clock, IntegrationId, Permission, random_bytes};
use ringside_identity::{AuthError, AuthService};
use ringside_providers::{ProviderKind, ProviderSecret, ProviderSettings};
use ringside_store::{Integration, NewIntegration, OrgKeys, Store};

pub use crate::caller::Caller;
use crate::caller::store_err;
use zeroize::Zeroizing;

/// Longest integration label, in characters (the database refuses longer).
pub const MAX_INTEGRATION_LABEL_CHARS: usize = 64;

/// A provider API's base URL, checked: absolute https (plain http only to a loopback host), no
/// credentials, query or fragment; without its trailing slash.
fn check_api_base(raw: &str) -> Result<String, AuthError> {
    let bad = || AuthError::InvalidInput("api_base");
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| bad())?;
    let secure = match url.scheme() {
        "https" => true,
        "http" => url
            .host_str()
            .is_some_and(ringside_core::net::is_loopback_host),
        _ => false,
    };
    if !secure
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(bad());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

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

/// Creating, listing and revoking integrations. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Integrations {
    store: Arc<Store>,
    keys: OrgKeys,
    auth: AuthService,
    clock: Arc<dyn Clock>,
}

impl Integrations {
    /// The integrations of `store`, sealing with `keys`, authorizing through `auth`.
    pub fn new(store: Arc<Store>, keys: OrgKeys, auth: AuthService, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            keys,
            auth,
            clock,
        }
    }

    /// Creates an integration (a member needs `ManageCredentials` with a recent second factor;
    /// the operator names an existing org). `secret` is generated when not given.
    pub fn create(
        &self,
        caller: Caller<'_>,
        provider: ProviderKind,
        secret: Option<&str>,
        label: &str,
    ) -> Result<CreatedIntegration, AuthError> {
        self.admit(caller, true)?;
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
        let org = caller.org();
        let new = NewIntegration {
            id: IntegrationId::random(),
            org,
            provider: provider.as_str().to_owned(),
            settings,
            label: label.to_owned(),
            created_at: self.clock.now().unix_timestamp(),
        };
        let keys = self.keys.get(org).map_err(store_err)?;
        let audit = caller
            .entry("integration.create", "integration")
            .resource(new.id)
            .detail("provider", provider.as_str());
        self.store
            .integrations()
            .create_integration(&new, &secret, &keys, &audit)
            .map_err(store_err)?;
        tracing::info!(%org, integration = %new.id, provider = provider.as_str(), "integration created");
        Ok(CreatedIntegration {
            id: new.id,
            provider,
            label: new.label,
            secret,
            created_at: new.created_at,
        })
    }

    /// The integrations of the caller's org, without secrets.
    pub fn list(&self, caller: Caller<'_>) -> Result<Vec<Integration>, AuthError> {
        self.admit(caller, false)?;
        self.store
            .integrations()
            .list(caller.org())
            .map_err(store_err)
    }

    /// Revokes an integration of the caller's org: its sealed secret is deleted, and webhooks
    /// naming it are answered 404 from then on.
    pub fn delete(&self, caller: Caller<'_>, id: IntegrationId) -> Result<(), AuthError> {
        if let Caller::Member(p) = caller {
            self.auth.authorize(p, Permission::ManageCredentials)?;
        }
        let audit = caller
            .entry("integration.delete", "integration")
            .resource(id);
        self.store
            .integrations()
            .delete_integration(caller.org(), id, self.clock.now().unix_timestamp(), &audit)
            .map_err(store_err)
    }

    /// Keeps a provider API key for an active integration of the caller's org (`None` deletes
    /// it), to fetch what the provider keeps in its API rather than in its webhooks: Dialpad's
    /// post-call AI transcripts. `api_base` is the API's base URL when not the provider's own
    /// (https; plain http only to a loopback host). Audited (`integration.api_key`), never the
    /// key. [`AuthError::InvalidInput`] for a provider whose API Ringside does not call, a blank
    /// or oversized key, or an unusable base URL: nothing changes.
    pub fn set_api_key(
        &self,
        caller: Caller<'_>,
        id: IntegrationId,
        api_key: Option<&str>,
        api_base: Option<&str>,
    ) -> Result<(), AuthError> {
        self.admit(caller, true)?;
        let org = caller.org();
        let integration = self
            .store
            .integrations()
            .integration(org, id)
            .map_err(store_err)?;
        if integration.provider != ProviderKind::Dialpad.as_str() {
            return Err(AuthError::InvalidInput(
                "provider (only Dialpad's API is used, for its AI transcripts)",
            ));
        }
        let api_key = api_key.map(str::trim);
        if api_key
            .is_some_and(|k| k.is_empty() || k.len() > 1024 || k.chars().any(char::is_control))
        {
            return Err(AuthError::InvalidInput("api_key"));
        }
        let api_base = api_base.map(check_api_base).transpose()?;
        let keys = self.keys.get(org).map_err(store_err)?;
        let audit = caller
            .entry("integration.api_key", "integration")
            .resource(id)
            .detail("set", api_key.is_some());
        self.store
            .integrations()
            .set_integration_api_key(org, id, api_key, api_base.as_deref(), &keys, &audit)
            .map_err(store_err)
    }

    fn admit(&self, caller: Caller<'_>, change: bool) -> Result<(), AuthError> {
        caller.admit(
            &self.auth,
            &self.store,
            Permission::ManageCredentials,
            change,
        )
    }
}
