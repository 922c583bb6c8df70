//! Integrations (`/v1/admin/integrations/...`): an org's connections to telephony providers.
//!
//! Provider credentials are the owner's alone (`ManageCredentials` in the matrix) and creating
//! or revoking one needs a recent second factor — the extractor checks both. The secret is
//! answered once, to the creation; the list never carries it. A provider API key (Dialpad's, for
//! its AI transcripts) is set and deleted on its own route and never answered either. An id of
//! another org is 404, the same answer as an id that does not exist.

use std::str::FromStr;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ringside_core::IntegrationId;
use ringside_core::wire::{
    CreateIntegrationRequest, IntegrationApiKeyRequest, IntegrationCreated, IntegrationInfo,
    IntegrationList,
};
use ringside_identity::AuthError;
use ringside_providers::ProviderKind;

use super::extract::{Authorized, blocking, perm::ManageCredentials};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized};
use crate::integrations::{Caller, webhook_path};
use crate::state::AppState;

fn info(i: ringside_store::Integration) -> IntegrationInfo {
    let at = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    };
    IntegrationInfo {
        id: i.id,
        webhook_path: webhook_path(i.id),
        provider: i.provider,
        label: i.label,
        created_at: at(i.created_at),
        disabled_at: i.disabled_at.map(at),
        has_api_key: i.has_api_key,
    }
}

/// The organisation's integrations, revoked ones included; never their secrets.
#[utoipa::path(get, path = "/v1/admin/integrations", tag = "admin",
    security(("bearer" = ["manage_credentials"])),
    responses((status = 200, description = "Integrations", body = IntegrationList),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
) -> Result<Json<IntegrationList>, ApiError> {
    let integrations = state.integrations().clone();
    let list = blocking(move || integrations.list(Caller::Member(&caller.principal))).await?;
    Ok(Json(IntegrationList {
        integrations: list.into_iter().map(info).collect(),
    }))
}

/// Connects a provider: answers the webhook path and the secret, this one time.
#[utoipa::path(post, path = "/v1/admin/integrations", tag = "admin",
    security(("bearer" = ["manage_credentials"])), request_body = CreateIntegrationRequest,
    responses((status = 201, description = "Created", body = IntegrationCreated),
        Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
    Json(body): Json<CreateIntegrationRequest>,
) -> Result<(StatusCode, Json<IntegrationCreated>), ApiError> {
    let provider =
        ProviderKind::from_str(&body.provider).map_err(|_| AuthError::InvalidInput("provider"))?;
    let integrations = state.integrations().clone();
    let caller_org = caller.principal.org;
    let created = blocking(move || {
        let secret = body.secret.as_ref().map(|s| s.expose().as_str());
        integrations.create(
            Caller::Member(&caller.principal),
            provider,
            secret,
            &body.label,
        )
    })
    .await?;
    let integration = info(ringside_store::Integration {
        id: created.id,
        org: caller_org,
        provider: created.provider.as_str().to_owned(),
        settings: String::new(),
        label: created.label.clone(),
        created_at: created.created_at,
        disabled_at: None,
        has_api_key: false,
        api_base: None,
        org_terminated: false,
    });
    Ok((
        StatusCode::CREATED,
        Json(IntegrationCreated {
            integration,
            secret: ringside_core::Pii::new(created.secret.as_str().to_owned()),
        }),
    ))
}

/// Revokes an integration: its secret is deleted and its webhook URL answers 404 from now on.
#[utoipa::path(delete, path = "/v1/admin/integrations/{id}", tag = "admin",
    security(("bearer" = ["manage_credentials"])),
    params(("id" = String, Path, description = "Integration id (int_…)")),
    responses((status = 204, description = "Revoked"), Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
    Path(id): Path<IntegrationId>,
) -> Result<StatusCode, ApiError> {
    let integrations = state.integrations().clone();
    blocking(move || integrations.delete(Caller::Member(&caller.principal), id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Keeps a provider API key for an integration (owner, recent second factor): Dialpad's
/// post-call AI transcripts are then fetched from its API when it announces them. Sealed; never
/// answered.
#[utoipa::path(put, path = "/v1/admin/integrations/{id}/api-key", tag = "admin",
    security(("bearer" = ["manage_credentials"])), request_body = IntegrationApiKeyRequest,
    params(("id" = String, Path, description = "The integration (int_…)")),
    responses((status = 204, description = "Kept"),
        Unauthorized, Forbidden, NotFound, Invalid, TooManyRequests))]
pub(crate) async fn set_api_key(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
    Path(id): Path<IntegrationId>,
    Json(body): Json<IntegrationApiKeyRequest>,
) -> Result<StatusCode, ApiError> {
    let integrations = state.integrations().clone();
    blocking(move || {
        integrations.set_api_key(
            Caller::Member(&caller.principal),
            id,
            Some(body.api_key.expose()),
            body.api_base.as_deref(),
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an integration's provider API key: transcripts are no longer fetched.
#[utoipa::path(delete, path = "/v1/admin/integrations/{id}/api-key", tag = "admin",
    security(("bearer" = ["manage_credentials"])),
    params(("id" = String, Path, description = "The integration (int_…)")),
    responses((status = 204, description = "Deleted"),
        Unauthorized, Forbidden, NotFound, Invalid, TooManyRequests))]
pub(crate) async fn delete_api_key(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
    Path(id): Path<IntegrationId>,
) -> Result<StatusCode, ApiError> {
    let integrations = state.integrations().clone();
    blocking(move || integrations.set_api_key(Caller::Member(&caller.principal), id, None, None))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
