//! Team administration (`/v1/admin/users/...`, `/v1/admin/org/...`): roles, disabling,
//! unlocking, second-factor resets, other people's sessions, the org's second-factor policy.
//!
//! All of it needs `manage_team`; changes also need a recent second factor (the matrix says so,
//! and [`Authorized`] enforces it). The identity core adds the rules a role alone cannot: nobody
//! touches a user with more permissions than their own (an admin cannot disable an owner), the
//! org keeps an active owner, and a user id from another org is "not found".

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ringside_core::UserId;
use ringside_core::wire::{MfaPolicyRequest, SessionList, SessionsEnded, SetRoleRequest, UserList};

use super::dto;
use super::extract::{Authorized, blocking, perm::ManageTeam};
use super::problem::ApiError;
use super::problem::responses::{
    Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized,
};
use crate::state::AppState;

/// Everyone in the organisation, disabled users included. The read is audited.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = ["manage_team"])),
    responses((status = 200, description = "The team", body = UserList),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
) -> Result<Json<UserList>, ApiError> {
    let auth = state.auth().clone();
    let users = blocking(move || auth.list_users(&caller.principal)).await?;
    Ok(Json(UserList {
        users: users.into_iter().map(dto::user_info).collect(),
    }))
}

/// Changes a user's role; it applies to their very next request.
#[utoipa::path(put, path = "/v1/admin/users/{id}/role", tag = "admin", security(("bearer" = ["manage_team"])),
    params(("id" = String, Path, description = "User id (usr_…)")), request_body = SetRoleRequest,
    responses((status = 204, description = "Changed"),
        Unauthorized, Forbidden, NotFound, Conflict, Invalid, TooManyRequests))]
pub(crate) async fn set_role(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Path(user): Path<UserId>,
    Json(body): Json<SetRoleRequest>,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.set_role(&caller.principal, user, body.role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables a user: they cannot sign in, and every session of theirs ends at once.
#[utoipa::path(post, path = "/v1/admin/users/{id}/disable", tag = "admin", security(("bearer" = ["manage_team"])),
    params(("id" = String, Path, description = "User id (usr_…)")),
    responses((status = 204, description = "Disabled"),
        Unauthorized, Forbidden, NotFound, Conflict, TooManyRequests))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Path(user): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.disable_user(&caller.principal, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-enables a disabled user (they sign in again; old sessions stay ended).
#[utoipa::path(post, path = "/v1/admin/users/{id}/enable", tag = "admin", security(("bearer" = ["manage_team"])),
    params(("id" = String, Path, description = "User id (usr_…)")),
    responses((status = 204, description = "Enabled"), Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn enable(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Path(user): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.enable_user(&caller.principal, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clears a user's sign-in back-off on every device.
#[utoipa::path(post, path = "/v1/admin/users/{id}/unlock", tag = "admin", security(("bearer" = ["manage_team"])),
    params(("id" = String, Path, description = "User id (usr_…)")),
    responses((status = 204, description = "Unlocked"), Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn unlock(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Path(user): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.unlock_user(&caller.principal, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a user's second factor (lost phone): they enrol again, and their sessions end.
#[utoipa::path(post, path = "/v1/admin/users/{id}/reset-second-factor", tag = "admin",
    security(("bearer" = ["manage_team"])), params(("id" = String, Path, description = "User id (usr_…)")),
    responses((status = 204, description = "Reset"), Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn reset_second_factor(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Path(user): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.reset_second_factor(&caller.principal, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's live sessions.
#[utoipa::path(get, path = "/v1/admin/users/{id}/sessions", tag = "admin", security(("bearer" = ["manage_team"])),
    params(("id" = String, Path, description = "User id (usr_…)")),
    responses((status = 200, description = "Live sessions", body = SessionList),
        Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn user_sessions(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Path(user): Path<UserId>,
) -> Result<Json<SessionList>, ApiError> {
    let auth = state.auth().clone();
    let sessions = blocking(move || auth.list_user_sessions(&caller.principal, user)).await?;
    Ok(Json(SessionList {
        sessions: sessions.into_iter().map(dto::session_info).collect(),
    }))
}

/// Ends every session of a user.
#[utoipa::path(delete, path = "/v1/admin/users/{id}/sessions", tag = "admin", security(("bearer" = ["manage_team"])),
    params(("id" = String, Path, description = "User id (usr_…)")),
    responses((status = 200, description = "How many ended", body = SessionsEnded),
        Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn revoke_user_sessions(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Path(user): Path<UserId>,
) -> Result<Json<SessionsEnded>, ApiError> {
    let auth = state.auth().clone();
    let ended = blocking(move || auth.revoke_user_sessions(&caller.principal, user)).await?;
    Ok(Json(SessionsEnded {
        ended: dto::count(ended),
    }))
}

/// Sets whether everyone, not only owners and admins, must enrol a second factor.
#[utoipa::path(put, path = "/v1/admin/org/mfa-policy", tag = "admin", security(("bearer" = ["manage_team"])),
    request_body = MfaPolicyRequest,
    responses((status = 204, description = "Set"), Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn set_mfa_policy(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Json(body): Json<MfaPolicyRequest>,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.set_org_mfa_policy(&caller.principal, body.require_for_all)).await?;
    Ok(StatusCode::NO_CONTENT)
}
