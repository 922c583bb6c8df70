//! A call's note and pick over HTTP (`/v1/calls/{call_id}/...`): the stream's `note` and `pick`
//! for a client without a socket, with the same rule — only a user the call rang may add to it
//! (`calls/notes.rs`). A call that did not ring for the caller answers 404, as a call of another
//! organisation does; nothing is stored.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ringside_core::CallId;
use ringside_core::wire::{CallNoteRequest, CallPickRequest};
use ringside_store::NoteRefusal;

use super::extract::{Authorized, blocking, perm::WriteNotes};
use super::problem::ApiError;
use super::problem::responses::{
    Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized,
};
use crate::calls::notes::{self, Addition, Author};
use crate::state::AppState;

/// Stores `addition` for the caller; a refusal as a problem.
async fn add(
    state: AppState,
    caller: Authorized<WriteNotes>,
    call: CallId,
    addition: Addition,
) -> Result<StatusCode, ApiError> {
    let (store, keys) = (std::sync::Arc::clone(state.store()), state.keys().clone());
    let author = Author {
        org: caller.principal.org,
        user: caller.principal.user,
        ip: caller.principal.source_ip,
    };
    let added = blocking(move || {
        notes::add(&store, &keys, author, call, &addition).map_err(|err| {
            tracing::error!(error = %err, "storing a note or pick failed");
            ApiError::internal()
        })
    })
    .await?;
    match added {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(refusal) => {
            let (code, message) = notes::refusal_text(refusal);
            Err(match refusal {
                NoteRefusal::NotRouted => ApiError::not_found().detail(message),
                NoteRefusal::TooLong => {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, "Note refused")
                        .detail(message)
                }
                NoteRefusal::Synced => {
                    ApiError::new(StatusCode::CONFLICT, code, "Call already synced").detail(message)
                }
            })
        }
    }
}

/// Adds a note to a call that rang for the caller; several notes are joined in the AMS note.
#[utoipa::path(post, path = "/v1/calls/{call_id}/note", tag = "calls",
    security(("bearer" = ["write_notes"])), request_body = CallNoteRequest,
    params(("call_id" = String, Path, description = "The call (cal_…), from its pop")),
    responses((status = 204, description = "Kept for the call's AMS note"),
        Unauthorized, Forbidden, NotFound, Conflict, Invalid, TooManyRequests))]
pub(crate) async fn note(
    State(state): State<AppState>,
    caller: Authorized<WriteNotes>,
    Path(call): Path<CallId>,
    Json(body): Json<CallNoteRequest>,
) -> Result<StatusCode, ApiError> {
    add(state, caller, call, Addition::Note(body.text)).await
}

/// Picks the AMS record to log a call against, among its pop's contacts (the latest pick wins).
#[utoipa::path(post, path = "/v1/calls/{call_id}/pick", tag = "calls",
    security(("bearer" = ["write_notes"])), request_body = CallPickRequest,
    params(("call_id" = String, Path, description = "The call (cal_…), from its pop")),
    responses((status = 204, description = "Kept for the call's AMS note"),
        Unauthorized, Forbidden, NotFound, Conflict, Invalid, TooManyRequests))]
pub(crate) async fn pick(
    State(state): State<AppState>,
    caller: Authorized<WriteNotes>,
    Path(call): Path<CallId>,
    Json(body): Json<CallPickRequest>,
) -> Result<StatusCode, ApiError> {
    let contact = ringside_core::Pii::new(body.contact);
    add(state, caller, call, Addition::Pick(contact)).await
}
