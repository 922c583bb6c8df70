//! The org's summarizer for admins (docs/lifecycle.md, "Summaries"): which summarizer writes the
//! summary at the top of its AMS notes. The work is `crate::summarizer`'s, shared with the CLI.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ringside_core::wire::{SetSummarizerRequest, SummarizerSettings};

use super::extract::{Authorized, blocking, perm::ManageCredentials};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized};
use crate::caller::Caller;
use crate::state::AppState;

/// The organisation's summarizer: `built_in` (local; nothing leaves the relay) or its
/// OpenAI-compatible endpoint, without the key.
#[utoipa::path(get, path = "/v1/admin/summarizer", tag = "admin",
    security(("bearer" = ["manage_credentials"])),
    responses((status = 200, description = "The summarizer", body = SummarizerSettings),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
) -> Result<Json<SummarizerSettings>, ApiError> {
    let (auth, store) = (state.auth().clone(), std::sync::Arc::clone(state.store()));
    let settings =
        blocking(move || crate::summarizer::show(&auth, &store, Caller::Member(&caller.principal)))
            .await?;
    Ok(Json(settings))
}

/// Summarizes the organisation's calls with an OpenAI-compatible chat-completions endpoint
/// (OpenAI, Azure OpenAI, Ollama, vLLM) from the next call on. Only redacted transcript and
/// notes are sent. The key is sealed and never answered.
#[utoipa::path(put, path = "/v1/admin/summarizer", tag = "admin",
    security(("bearer" = ["manage_credentials"])), request_body = SetSummarizerRequest,
    responses((status = 200, description = "Set", body = SummarizerSettings),
        Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn set(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
    Json(body): Json<SetSummarizerRequest>,
) -> Result<Json<SummarizerSettings>, ApiError> {
    let (auth, store, keys) = (
        state.auth().clone(),
        std::sync::Arc::clone(state.store()),
        state.keys().clone(),
    );
    let settings = blocking(move || {
        crate::summarizer::set(
            &auth,
            &store,
            &keys,
            Caller::Member(&caller.principal),
            &body,
        )
    })
    .await?;
    Ok(Json(settings))
}

/// Back to the built-in summarizer; the endpoint and its sealed key are deleted.
#[utoipa::path(delete, path = "/v1/admin/summarizer", tag = "admin",
    security(("bearer" = ["manage_credentials"])),
    responses((status = 204, description = "Back to the built-in summarizer"),
        Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn clear(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
) -> Result<StatusCode, ApiError> {
    let (auth, store) = (state.auth().clone(), std::sync::Arc::clone(state.store()));
    blocking(move || crate::summarizer::clear(&auth, &store, Caller::Member(&caller.principal)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
