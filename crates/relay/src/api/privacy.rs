//! Privacy for admins (docs/lifecycle.md): erase every record of a client number
//! (`POST /v1/admin/erase`) and end the organisation's account (`POST /v1/admin/org/terminate`).
//! The work is `crate::privacy`'s, shared with the CLI; a termination's sockets are closed here,
//! where the hub is.

use axum::Json;
use axum::extract::State;
use ringside_core::wire::{EraseReport, EraseRequest, TerminateReport, TerminateRequest};
use ringside_identity::{Revocation, RevocationScope};
use ringside_store::TERMINATION_GRACE_SECS;

use super::extract::{
    Authorized, blocking,
    perm::{ManageSettings, TerminateOrg},
};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, Invalid, TooManyRequests, Unauthorized};
use crate::caller::Caller;
use crate::state::AppState;

/// Erases every record of one client number in the organisation — calls and text messages not
/// yet purged, with their notes, transcripts, summaries and pops, synced or not — and answers
/// the counts. Audited without the number. The AMS's own copy is the agency's to erase there.
#[utoipa::path(post, path = "/v1/admin/erase", tag = "admin",
    security(("bearer" = ["manage_settings"])), request_body = EraseRequest,
    responses((status = 200, description = "Erased", body = EraseReport),
        Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn erase(
    State(state): State<AppState>,
    caller: Authorized<ManageSettings>,
    Json(body): Json<EraseRequest>,
) -> Result<Json<EraseReport>, ApiError> {
    let (auth, store) = (state.auth().clone(), std::sync::Arc::clone(state.store()));
    let numbers = state.calls().numbers().clone();
    let erased = blocking(move || {
        crate::privacy::erase(
            &auth,
            &store,
            &numbers,
            Caller::Member(&caller.principal),
            body.number.expose(),
        )
    })
    .await?;
    Ok(Json(EraseReport {
        calls: erased.calls,
        texts: erased.texts,
    }))
}

/// Terminates the organisation (owner, with a recent second factor, typing its name again): at
/// once every session and stream ends, webhooks answer 410 and the org is read-only; after 30
/// days its keys are destroyed and its data deleted, unless the operator runs `org restore`.
#[utoipa::path(post, path = "/v1/admin/org/terminate", tag = "admin",
    security(("bearer" = ["terminate_org"])), request_body = TerminateRequest,
    responses((status = 200, description = "Terminated", body = TerminateReport),
        Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn terminate(
    State(state): State<AppState>,
    caller: Authorized<TerminateOrg>,
    Json(body): Json<TerminateRequest>,
) -> Result<Json<TerminateReport>, ApiError> {
    let (auth, store) = (state.auth().clone(), std::sync::Arc::clone(state.store()));
    let org = caller.principal.org;
    let ended = blocking(move || {
        crate::privacy::terminate(
            &auth,
            &store,
            Caller::Member(&caller.principal),
            Some(&body.confirm_name),
        )
    })
    .await?;
    for user in &ended.users {
        state.hub().revoke(&Revocation {
            org,
            user: *user,
            scope: RevocationScope::AllSessions,
            reason: ringside_store::RevokeReason::RevokedByAdmin,
        });
    }
    let now = state.now();
    Ok(Json(TerminateReport {
        terminated_at: now,
        shred_at: now + time::Duration::seconds(TERMINATION_GRACE_SECS),
        sessions: ended.sessions,
    }))
}
