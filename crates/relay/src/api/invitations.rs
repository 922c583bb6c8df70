//! Invitations (`/v1/admin/invitations/...`): how everyone after the first owner joins.
//!
//! A code is 128 random bits, shown once in the answer to its creation, stored only hashed,
//! single use, and expires after 72 hours. Nobody can invite a role they could not manage (an
//! admin cannot invite an owner), and an address that already belongs to a user cannot be
//! invited (`email_unavailable`). Accepting is public: `POST /v1/invitations/accept`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ringside_core::InvitationId;
use ringside_core::wire::{CreateInvitationRequest, InvitationCreated, InvitationList};

use super::dto;
use super::extract::{Authorized, blocking, perm::ManageTeam};
use super::problem::ApiError;
use super::problem::responses::{
    Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized,
};
use crate::state::AppState;

/// The invitations that can still be accepted.
#[utoipa::path(get, path = "/v1/admin/invitations", tag = "admin",
    security(("bearer" = ["manage_team"])),
    responses((status = 200, description = "Pending invitations", body = InvitationList),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
) -> Result<Json<InvitationList>, ApiError> {
    let auth = state.auth().clone();
    let invitations = blocking(move || auth.list_invitations(&caller.principal)).await?;
    Ok(Json(InvitationList {
        invitations: invitations.into_iter().map(dto::invitation_info).collect(),
    }))
}

/// Invites someone: answers the code, to pass on to them, this one time.
#[utoipa::path(post, path = "/v1/admin/invitations", tag = "admin",
    security(("bearer" = ["manage_team"])), request_body = CreateInvitationRequest,
    responses((status = 201, description = "Invited", body = InvitationCreated),
        Unauthorized, Forbidden, Conflict, Invalid, TooManyRequests))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Json(body): Json<CreateInvitationRequest>,
) -> Result<(StatusCode, Json<InvitationCreated>), ApiError> {
    let auth = state.auth().clone();
    let role = body.role;
    let created =
        blocking(move || auth.create_invitation(&caller.principal, body.email.expose(), role))
            .await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationCreated {
            id: created.id,
            code: ringside_core::Pii::new(created.code.expose().to_owned()),
            role,
            expires_at: created.expires_at,
        }),
    ))
}

/// Revokes a pending invitation: its code stops working.
#[utoipa::path(delete, path = "/v1/admin/invitations/{id}", tag = "admin",
    security(("bearer" = ["manage_team"])),
    params(("id" = String, Path, description = "Invitation id (inv_…)")),
    responses((status = 204, description = "Revoked"), Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Authorized<ManageTeam>,
    Path(id): Path<InvitationId>,
) -> Result<StatusCode, ApiError> {
    let auth = state.auth().clone();
    blocking(move || auth.revoke_invitation(&caller.principal, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
