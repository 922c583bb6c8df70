//! Which summarizer an org's calls get: the org's OpenAI-compatible endpoint when its admins set
//! one (`PUT /v1/admin/summarizer`, `ringside-relay summarizer set`), else the built-in
//! [`Extractive`](super::Extractive) one. The settings are read for each sync, so a change
//! applies to the next call without a restart; the key is opened only for that sync.

use std::sync::Arc;

use ringside_core::OrgId;
use ringside_store::{Store, SummarizerRow};
use ringside_vault::OrgKeyring;
use zeroize::Zeroizing;

use super::Summarizer;
use super::openai::{ApiKey, AuthStyle, OpenAiCompatible, OpenAiConfig, OpenAiConfigError};

/// The stored name of an [`AuthStyle`].
#[must_use]
pub fn auth_name(auth: AuthStyle) -> &'static str {
    match auth {
        AuthStyle::Bearer => "bearer",
        AuthStyle::AzureApiKey => "azure_api_key",
    }
}

/// The [`AuthStyle`] named `name` (`bearer`, `azure_api_key`).
#[must_use]
pub fn auth_style(name: &str) -> Option<AuthStyle> {
    match name {
        "bearer" => Some(AuthStyle::Bearer),
        "azure_api_key" => Some(AuthStyle::AzureApiKey),
        _ => None,
    }
}

/// The summarizer for these settings, checked: what the API and the CLI validate before they
/// store anything, and what a sync builds from what was stored.
///
/// # Errors
/// [`OpenAiConfigError`] as [`OpenAiCompatible::new`] answers it (an unknown auth style is an
/// [`OpenAiConfigError::ApiKey`]).
pub fn endpoint(
    base_url: &str,
    model: &str,
    auth: &str,
    api_key: Option<&str>,
) -> Result<OpenAiCompatible, OpenAiConfigError> {
    let auth = auth_style(auth).ok_or(OpenAiConfigError::ApiKey("style is unknown"))?;
    let mut config = OpenAiConfig::new(base_url, model);
    config.auth = auth;
    config.api_key = api_key.map(ApiKey::new);
    OpenAiCompatible::new(config)
}

fn built(
    row: &SummarizerRow,
    key: Option<&Zeroizing<String>>,
) -> Result<OpenAiCompatible, OpenAiConfigError> {
    endpoint(
        &row.base_url,
        &row.model,
        &row.auth,
        key.map(|k| k.as_str()),
    )
}

/// `org`'s summarizer: its endpoint if it set one, else `default`. `None` when the endpoint it
/// set cannot be built any more (logged): that call's note goes without a summary rather than
/// to a summarizer the org did not choose.
///
/// # Errors
/// The store's, when the settings cannot be read or the key opened.
pub fn for_org(
    store: &Store,
    org: OrgId,
    keys: &OrgKeyring,
    default: &Arc<dyn Summarizer>,
) -> Result<Option<Arc<dyn Summarizer>>, ringside_store::Error> {
    let Some((row, key)) = store.summarizers().open_summarizer(org, keys)? else {
        return Ok(Some(Arc::clone(default)));
    };
    match built(&row, key.as_ref()) {
        Ok(summarizer) => Ok(Some(Arc::new(summarizer))),
        Err(err) => {
            tracing::warn!(%org, error = %err, "sync: the org's summarizer is unusable");
            Ok(None)
        }
    }
}
