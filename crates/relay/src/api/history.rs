//! The caller's own call history (`GET /v1/me/calls`): the calls and texts that rang for them or
//! that they handled, newest first, with their note's state — the number in full while the call's
//! data is held, masked once it is purged. Agents, admins and owners (`view_own_calls`); each read
//! is audited (`calls.read_own`, with the count).

use axum::Json;
use axum::extract::State;
use ringside_core::wire::{MyCall, MyCallList};
use ringside_store::{SyncState, UserCall};

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

fn entry(call: UserCall) -> MyCall {
    MyCall {
        call_id: call.call,
        kind: call.kind.as_str().to_owned(),
        direction: call.direction,
        state: call.state,
        answered: call.answered,
        number: call.number,
        sync: call.sync.map(|s| sync_name(s).to_owned()),
        started_at: time::OffsetDateTime::from_unix_timestamp(call.started_at)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
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
    let (store, keys) = (std::sync::Arc::clone(state.store()), state.keys().clone());
    let calls = blocking(move || {
        let p = &caller.principal;
        let org_keys = keys.get(p.org).map_err(store_err)?;
        let calls = store
            .history()
            .user_calls(p.org, p.user, &org_keys, LIMIT)
            .map_err(store_err)?;
        let read = Caller::Member(p)
            .entry("calls.read_own", "user")
            .resource(p.user)
            .detail("calls", calls.len());
        store.audit().record_audit(&read).map_err(store_err)?;
        Ok::<_, ringside_identity::AuthError>(calls)
    })
    .await?;
    Ok(Json(MyCallList {
        calls: calls.into_iter().map(entry).collect(),
    }))
}
