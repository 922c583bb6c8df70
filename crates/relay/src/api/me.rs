//! The signed-in person's own account (`/v1/me/...`): profile, sessions, second factor,
//! step-up, password.
//!
//! Every role may use these, viewers too, and so may an owner who has not enrolled a second
//! factor yet — enrolling is how they get out of that state. Each handler acts on the caller's
//! own user only: there is no user id in these paths to get wrong.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ringside_core::wire::{
    ChangePasswordRequest, CodeRequest, Me, RecoveryCodes, SessionList, SessionsEnded,
    TotpEnrollment,
};

use super::dto;
use super::extract::{Authenticated, OwnSession, blocking};
use super::problem::ApiError;
use super::problem::responses::{
    Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized,
};
use crate::state::AppState;

/// Who is signed in, their permissions, and their second-factor state.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me), Unauthorized, TooManyRequests))]
pub(crate) async fn me(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<Me>, ApiError> {
    let auth = state.auth().clone();
    let p = caller.principal;
    let (user, p) = blocking(move || auth.me(&p).map(|user| (user, p))).await?;
    Ok(Json(Me {
        user: dto::user_info(user),
        org_id: p.org,
        session_id: p.session,
        permissions: p.role.permissions().collect(),
        mfa_required_for: dto::mfa_requirement(p.mfa_required_for),
        mfa_verified_at: p.mfa_verified_at,
    }))
}

/// The caller's live sessions, newest first; `current` marks this one.
#[utoipa::path(get, path = "/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "Live sessions", body = SessionList), Unauthorized, TooManyRequests))]
pub(crate) async fn sessions(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<SessionList>, ApiError> {
    let auth = state.auth().clone();
    let sessions = blocking(move || auth.list_sessions(&caller.principal)).await?;
    Ok(Json(SessionList {
        sessions: sessions.into_iter().map(dto::session_info).collect(),
    }))
}

/// Ends one of the caller's sessions (this one included).
#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "A session id (ses_…) of the caller's")),
    responses((status = 204, description = "Ended"), Unauthorized, NotFound, TooManyRequests))]
pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    own: OwnSession,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.revoke_session(&own.caller.principal, own.session)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller except this one (e.g. after losing a laptop).
#[utoipa::path(post, path = "/v1/me/sessions/revoke-others", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "How many ended", body = SessionsEnded), Unauthorized, TooManyRequests))]
pub(crate) async fn revoke_other_sessions(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<SessionsEnded>, ApiError> {
    let auth = state.auth().clone();
    let ended = blocking(move || auth.revoke_other_sessions(&caller.principal)).await?;
    Ok(Json(SessionsEnded {
        ended: dto::count(ended),
    }))
}

/// Starts TOTP enrolment: a new secret and its `otpauth://` URI, shown once. Replacing an
/// enrolled factor needs a recent second factor (`step_up_required`).
#[utoipa::path(post, path = "/v1/me/totp", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "Provisioning data", body = TotpEnrollment),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn enroll_totp(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<TotpEnrollment>, ApiError> {
    let auth = state.auth().clone();
    let provisioning = blocking(move || auth.enroll_totp(&caller.principal)).await?;
    Ok(Json(dto::totp_enrollment(provisioning)))
}

/// Confirms enrolment with a first code; answers ten recovery codes, shown this once. The
/// session counts as second-factor verified from now.
#[utoipa::path(post, path = "/v1/me/totp/confirm", tag = "me", security(("bearer" = [])),
    request_body = CodeRequest,
    responses((status = 200, description = "Enrolled", body = RecoveryCodes),
        Unauthorized, Conflict, Invalid, TooManyRequests))]
pub(crate) async fn confirm_totp(
    State(state): State<AppState>,
    caller: Authenticated,
    Json(body): Json<CodeRequest>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let auth = state.auth().clone();
    let codes = blocking(move || auth.confirm_totp(&caller.principal, body.code.expose())).await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes.0,
    }))
}

/// Step-up: verifies a TOTP or recovery code in this session, which then may make changes that
/// need a recent second factor for 10 minutes.
#[utoipa::path(post, path = "/v1/me/step-up", tag = "me", security(("bearer" = [])),
    request_body = CodeRequest,
    responses((status = 204, description = "Verified"), Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn step_up(
    State(state): State<AppState>,
    caller: Authenticated,
    Json(body): Json<CodeRequest>,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.verify_step_up(&caller.principal, body.code.expose(), caller.ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password (the current one is required). Every other session ends.
#[utoipa::path(post, path = "/v1/me/password", tag = "me", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Changed; how many other sessions ended", body = SessionsEnded),
        Unauthorized, Invalid, TooManyRequests))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Authenticated,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<Json<SessionsEnded>, ApiError> {
    let auth = state.auth().clone();
    let ended = blocking(move || {
        auth.change_password(
            &caller.principal,
            body.current_password.expose(),
            body.new_password.expose(),
            caller.ip,
        )
    })
    .await?;
    Ok(Json(SessionsEnded {
        ended: dto::count(ended),
    }))
}
