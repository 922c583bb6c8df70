//! Signing in and out (`/v1/auth/...`) and joining by invitation (`/v1/invitations/accept`).
//!
//! Everything a person types goes straight to the identity core, which gives one answer for an
//! unknown address, a wrong password and a disabled account, and applies the back-off and the
//! per-address limits (`docs/security.md`). These handlers only translate the bodies.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ringside_core::wire::{
    AcceptInvitationRequest, LoginRequest, LoginResponse, RefreshRequest, SecondFactorRequest,
    SessionTokens,
};

use super::dto;
use super::extract::{Authenticated, Public, blocking};
use super::problem::ApiError;
use super::problem::responses::{Invalid, NotFound, TooManyRequests, Unauthorized};
use crate::state::AppState;
use ringside_identity::{AuthError, AuthService, DeviceInfo, Tokens};

/// Signs in with email and password. An account with a second factor answers
/// `second_factor_required` with a challenge for `POST /v1/auth/second-factor` (or send
/// `second_factor` with the password to do both at once).
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in, or a second factor is needed", body = LoginResponse),
        Unauthorized, Invalid, TooManyRequests))]
pub(crate) async fn login(
    State(state): State<AppState>,
    caller: Public,
    Json(body): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let auth = state.auth().clone();
    let outcome = blocking(move || {
        auth.login(&ringside_identity::LoginRequest {
            email: body.email.expose(),
            password: body.password.expose(),
            second_factor: body.second_factor.as_ref().map(|c| c.expose().as_str()),
            ip: caller.ip,
            device: DeviceInfo {
                name: body.device_name.expose(),
                token: body.device_token.as_ref().map(|t| t.expose().as_str()),
            },
        })
    })
    .await?;
    Ok(Json(dto::login_response(&outcome)))
}

/// Completes a sign-in with a TOTP or recovery code. After five wrong codes, or five minutes,
/// the challenge is void: sign in again.
#[utoipa::path(post, path = "/v1/auth/second-factor", tag = "auth", request_body = SecondFactorRequest,
    responses((status = 200, description = "Signed in", body = SessionTokens),
        Unauthorized, Invalid, TooManyRequests))]
pub(crate) async fn second_factor(
    State(state): State<AppState>,
    caller: Public,
    Json(body): Json<SecondFactorRequest>,
) -> Result<Json<SessionTokens>, ApiError> {
    issue(&state, move |auth| {
        auth.verify_second_factor(body.challenge.expose(), body.code.expose(), caller.ip)
    })
    .await
}

/// Exchanges the refresh token for a new pair. The old refresh token is used up: presenting it
/// again ends the whole session (one of its two holders is not its owner).
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "The next token pair", body = SessionTokens),
        Unauthorized, Invalid, TooManyRequests))]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    caller: Public,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<SessionTokens>, ApiError> {
    issue(&state, move |auth| {
        auth.refresh(body.refresh_token.expose(), caller.ip)
    })
    .await
}

/// Ends the calling session (its access and refresh tokens stop working at once).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), Unauthorized, TooManyRequests))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.logout(&caller.principal)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepts an invitation: sets the display name and password, and signs in on the named
/// device. The code is then used up; a refused password (`weak_password`) leaves it usable.
#[utoipa::path(post, path = "/v1/invitations/accept", tag = "auth", request_body = AcceptInvitationRequest,
    responses((status = 201, description = "Joined and signed in", body = SessionTokens),
        NotFound, Invalid, TooManyRequests))]
pub(crate) async fn accept_invitation(
    State(state): State<AppState>,
    caller: Public,
    Json(body): Json<AcceptInvitationRequest>,
) -> Result<(StatusCode, Json<SessionTokens>), ApiError> {
    let tokens = issue(&state, move |auth| {
        auth.accept_invitation_and_sign_in(
            body.code.expose(),
            body.display_name.expose(),
            body.password.expose(),
            body.device_name.expose(),
            caller.ip,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, tokens))
}

/// Runs a call of the identity core that issues a session's tokens on the blocking pool, and
/// answers the pair (the second sign-in step, a refresh, joining by invitation).
async fn issue(
    state: &AppState,
    work: impl FnOnce(&AuthService) -> Result<Tokens, AuthError> + Send + 'static,
) -> Result<Json<SessionTokens>, ApiError> {
    let auth = state.auth().clone();
    let tokens = blocking(move || work(&auth)).await?;
    Ok(Json(dto::session_tokens(&tokens)))
}
