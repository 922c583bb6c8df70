//! The sync for admins (docs/lifecycle.md): the calls whose AMS note needs someone
//! (`GET /v1/admin/sync/dead-letters`), a retry (`POST …/{call_id}/retry`), and how much personal
//! data the relay holds for the org right now (`GET /v1/admin/retention`). Ids, states, codes and
//! counts only; the work is `crate::sync`'s, shared with the CLI.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ringside_core::CallId;
use ringside_core::wire::{RetentionReport, SyncEntryList};

use super::extract::{
    Authorized, blocking,
    perm::{ManageSettings, ViewAllCalls},
};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, NotFound, TooManyRequests, Unauthorized};
use crate::caller::{Caller, store_err};
use crate::state::AppState;
use crate::sync::{DEAD_LETTERS, entry};

/// The organisation's calls whose note could not be written by retrying: `held` (several AMS
/// records match and no agent picked one) and `dead` (a refusal no retry fixes, or a note that
/// may have landed but cannot be checked), oldest first.
#[utoipa::path(get, path = "/v1/admin/sync/dead-letters", tag = "admin",
    security(("bearer" = ["view_all_calls"])),
    responses((status = 200, description = "Held and dead calls", body = SyncEntryList),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn dead_letters(
    State(state): State<AppState>,
    caller: Authorized<ViewAllCalls>,
) -> Result<Json<SyncEntryList>, ApiError> {
    let store = std::sync::Arc::clone(state.store());
    let rows = blocking(move || {
        crate::sync::list(&store, Caller::Member(&caller.principal), &DEAD_LETTERS)
            .map_err(store_err)
    })
    .await?;
    Ok(Json(SyncEntryList {
        entries: rows.iter().map(entry).collect(),
    }))
}

/// Tries a held or dead call's note again now (audited). For a note that may have landed
/// (`in_doubt`), check the AMS first: a retry writes it.
#[utoipa::path(post, path = "/v1/admin/sync/dead-letters/{call_id}/retry", tag = "admin",
    security(("bearer" = ["view_all_calls"])),
    params(("call_id" = String, Path, description = "The call (call_…)")),
    responses((status = 204, description = "Due again now"),
        Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn retry(
    State(state): State<AppState>,
    caller: Authorized<ViewAllCalls>,
    Path(call): Path<CallId>,
) -> Result<StatusCode, ApiError> {
    let store = std::sync::Arc::clone(state.store());
    let waker = state.sync().waker();
    blocking(move || {
        crate::sync::retry(
            &store,
            Some(&waker),
            Caller::Member(&caller.principal),
            call,
        )
        .map_err(store_err)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// For each kind of personal data — `phone_number`, `contact_name`, `transcript`, `summary`,
/// `agent_note`, `sms_body`, `pop` — how many of the organisation's records hold it now, and
/// the age of the oldest.
#[utoipa::path(get, path = "/v1/admin/retention", tag = "admin",
    security(("bearer" = ["manage_settings"])),
    responses((status = 200, description = "The report", body = RetentionReport),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn retention(
    State(state): State<AppState>,
    caller: Authorized<ManageSettings>,
) -> Result<Json<RetentionReport>, ApiError> {
    let store = std::sync::Arc::clone(state.store());
    let (org, now) = (caller.principal.org, state.now());
    let report =
        blocking(move || crate::sync::retention_report(&store, Some(org), now).map_err(store_err))
            .await?;
    Ok(Json(report))
}
