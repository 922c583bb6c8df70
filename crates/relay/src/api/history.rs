//! The caller's own call history (`GET /v1/me/calls`): the calls and texts that rang for them or
//! that they handled, newest first, with their note's state — the number in full while the call's
//! data is held, masked once it is purged. Agents, admins and owners (`view_own_calls`); each read
//! is audited (`calls.read_own`, with the count).
//!
//! And the caller's own notes still held (`GET /v1/me/notes`): the words they wrote that are not
//! in the AMS yet, with the call's number and sync state, so an agent can see what waits and what
//! failed. Once a call's note is in the AMS its notes are deleted here, so they leave this list;
//! the AMS is where they are read from then. Same permission; audited as `notes.read_own`.

use axum::Json;
use axum::extract::State;
use ringside_core::wire::{MyCall, MyCallList, MyNote, MyNoteList};
use ringside_identity::Principal;
use ringside_store::{Store, SyncState, UserCall, UserNote};
use ringside_vault::OrgKeyring;

use super::extract::{Authorized, blocking, perm::ViewOwnCalls};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, TooManyRequests, Unauthorized};
use crate::caller::{Caller, store_err};
use crate::state::AppState;

/// The most calls one answer lists.
const LIMIT: u32 = 100;

fn sync_name(state: SyncState) -> &'static str {
    match state {
        SyncState::Pending | SyncState::Writing => "waiting",
        SyncState::Done => "in_ams",
        SyncState::Held | SyncState::Dead => "failed",
        SyncState::Skipped => "skipped",
        SyncState::Expired => "expired",
    }
}

fn at(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn note_entry(note: UserNote) -> MyNote {
    MyNote {
        note_id: note.note,
        call_id: note.call,
        text: note.text,
        number: note.number,
        sync: note.sync.map(|s| sync_name(s).to_owned()),
        created_at: at(note.created_at),
    }
}

fn entry(call: UserCall) -> MyCall {
    MyCall {
        call_id: call.call,
        kind: call.kind.as_str().to_owned(),
        direction: call.direction,
        state: call.state,
        answered: call.answered,
        number: call.number,
        sync: call.sync.map(|s| sync_name(s).to_owned()),
        started_at: at(call.started_at),
    }
}

/// The caller's most recent calls (at most 100), newest first.
#[utoipa::path(get, path = "/v1/me/calls", tag = "me",
    security(("bearer" = ["view_own_calls"])),
    responses((status = 200, description = "The caller's calls", body = MyCallList),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn my_calls(
    State(state): State<AppState>,
    caller: Authorized<ViewOwnCalls>,
) -> Result<Json<MyCallList>, ApiError> {
    let calls = read_own(&state, caller, "calls.read_own", |store, p, keys| {
        store.history().user_calls(p.org, p.user, keys, LIMIT)
    })
    .await?;
    Ok(Json(MyCallList {
        calls: calls.into_iter().map(entry).collect(),
    }))
}

/// The caller's notes not yet in the AMS (at most 100), newest first.
#[utoipa::path(get, path = "/v1/me/notes", tag = "me",
    security(("bearer" = ["view_own_calls"])),
    responses((status = 200, description = "The caller's notes still held", body = MyNoteList),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn my_notes(
    State(state): State<AppState>,
    caller: Authorized<ViewOwnCalls>,
) -> Result<Json<MyNoteList>, ApiError> {
    let notes = read_own(&state, caller, "notes.read_own", |store, p, keys| {
        store.history().user_notes(p.org, p.user, keys, LIMIT)
    })
    .await?;
    Ok(Json(MyNoteList {
        notes: notes.into_iter().map(note_entry).collect(),
    }))
}

/// Runs `read` for the caller with their org's keys, and audits it as `action` (resource: the
/// user; detail: how many rows it answered).
async fn read_own<T: Send + 'static>(
    state: &AppState,
    caller: Authorized<ViewOwnCalls>,
    action: &'static str,
    read: impl FnOnce(&Store, &Principal, &OrgKeyring) -> Result<Vec<T>, ringside_store::Error>
    + Send
    + 'static,
) -> Result<Vec<T>, ApiError> {
    let (store, keys) = (std::sync::Arc::clone(state.store()), state.keys().clone());
    blocking(move || {
        let p = &caller.principal;
        let org_keys = keys.get(p.org).map_err(store_err)?;
        let rows = read(&store, p, &org_keys).map_err(store_err)?;
        let audit = Caller::Member(p)
            .entry(action, "user")
            .resource(p.user)
            .detail("rows", rows.len());
        store.audit().record_audit(&audit).map_err(store_err)?;
        Ok::<_, ringside_identity::AuthError>(rows)
    })
    .await
}
