//! Each org's summarizer (docs/lifecycle.md, "Summaries"): its owner points the org's notes at
//! an OpenAI-compatible endpoint the agency trusts, or back at the built-in one — over the API
//! (`/v1/admin/summarizer`) or, as the operator, on the CLI (`summarizer set|show|clear`), by the
//! same code with the same checks and audit entries. The settings are checked by building the
//! summarizer (`ringside_sync::summary::choice`) before anything is stored; the key is sealed.

use ringside_core::Permission;
use ringside_core::wire::{SetSummarizerRequest, SummarizerSettings};
use ringside_identity::{AuthError, AuthService};
use ringside_store::{NewSummarizer, OrgKeys, Store, SummarizerRow};
use ringside_sync::summary::OpenAiConfigError;
use ringside_sync::summary::choice;

use crate::caller::{Caller, store_err};

/// The settings as admins see them (never the key).
pub(crate) fn settings(row: Option<SummarizerRow>) -> SummarizerSettings {
    match row {
        None => SummarizerSettings {
            kind: "built_in".to_owned(),
            base_url: None,
            model: None,
            auth: None,
            has_key: false,
        },
        Some(row) => SummarizerSettings {
            kind: "openai_compatible".to_owned(),
            base_url: Some(row.base_url),
            model: Some(row.model),
            auth: Some(row.auth),
            has_key: row.has_key,
        },
    }
}

/// The caller's org's summarizer (blocking).
pub(crate) fn show(
    auth: &AuthService,
    store: &Store,
    caller: Caller<'_>,
) -> Result<SummarizerSettings, AuthError> {
    caller.admit(auth, store, Permission::ManageCredentials, false)?;
    let row = store
        .summarizers()
        .summarizer(caller.org())
        .map_err(store_err)?;
    Ok(settings(row))
}

/// Sets the caller's org's summarizer endpoint (blocking), once it checks out: an unusable base
/// URL, model, auth style or key is [`AuthError::InvalidInput`] naming the field, and nothing
/// is stored. Audited as `summarizer.set` (the host and model, never the key).
pub(crate) fn set(
    auth: &AuthService,
    store: &Store,
    keys: &OrgKeys,
    caller: Caller<'_>,
    request: &SetSummarizerRequest,
) -> Result<SummarizerSettings, AuthError> {
    caller.admit(auth, store, Permission::ManageCredentials, true)?;
    let style = request.auth.as_deref().unwrap_or("bearer");
    let key = request.api_key.as_ref().map(|k| k.expose().trim());
    let checked = choice::endpoint(&request.base_url, &request.model, style, key)
        .map_err(|err| AuthError::InvalidInput(field_of(err)))?;
    let org = caller.org();
    let org_keys = keys.get(org).map_err(store_err)?;
    let new = NewSummarizer {
        base_url: request.base_url.trim(),
        model: checked.model(),
        auth: style,
        api_key: key,
    };
    let host = reqwest::Url::parse(checked.endpoint())
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    let audit = caller
        .entry("summarizer.set", "org")
        .resource(org)
        .detail("host", host)
        .detail("model", checked.model());
    store
        .summarizers()
        .set_summarizer(org, &new, &org_keys, &audit)
        .map_err(store_err)?;
    tracing::info!(%org, "summarizer set");
    show(auth, store, caller)
}

/// Back to the built-in summarizer (blocking); the sealed key is deleted. Audited as
/// `summarizer.clear`. [`AuthError::NotFound`] when none was set.
pub(crate) fn clear(
    auth: &AuthService,
    store: &Store,
    caller: Caller<'_>,
) -> Result<(), AuthError> {
    caller.admit(auth, store, Permission::ManageCredentials, true)?;
    let org = caller.org();
    let audit = caller.entry("summarizer.clear", "org").resource(org);
    store
        .summarizers()
        .clear_summarizer(org, &audit)
        .map_err(store_err)
}

fn field_of(err: OpenAiConfigError) -> &'static str {
    match err {
        OpenAiConfigError::BaseUrl(_) => "base_url",
        OpenAiConfigError::Model => "model",
        OpenAiConfigError::ApiKey(_) => "api_key or auth",
        _ => "summarizer",
    }
}
