//! Call routing (`/v1/admin/routes`, `/v1/admin/routing/fallback`): which users a call pops for
//! (docs/routing.md).
//!
//! Routing is the admins' (`ManageRouting` in the matrix; no step-up: it changes neither
//! credentials nor roles). The store enforces the rules — only active users of the caller's org
//! whose role receives pops, only the org's own active integrations — and audits each change;
//! these handlers only adapt. A user, integration or route of another org is 404, the same
//! answer as one that does not exist.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ringside_core::RouteId;
use ringside_core::wire::{Actor, CreateRouteRequest, Fallback, RouteInfo, RouteList, RouteMatch};
use ringside_identity::Principal;
use ringside_store::{AuditContext, NewRoute, Route};

use super::extract::{Authorized, blocking, perm::ManageRouting};
use super::problem::ApiError;
use super::problem::responses::{
    Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized,
};
use crate::state::AppState;

/// A store refusal as a problem: `not_found` (also for anything of another org),
/// `route_exists`, or the routing refusal's own code (`user_disabled`,
/// `user_cannot_receive_pops`, `integration_revoked`, `invalid_route_value`).
fn refused(err: ringside_store::Error) -> ApiError {
    use ringside_store::Error as E;
    match err {
        E::NotFound(what) => {
            ApiError::not_found().detail(format!("no such {what} in this organisation"))
        }
        E::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "route_exists", "Conflict")
            .detail("this route already exists"),
        E::Routing(refusal) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            refusal.code(),
            "Invalid request",
        )
        .detail(refusal.to_string()),
        other => {
            tracing::error!(error = %other, "routing store operation failed");
            ApiError::internal()
        }
    }
}

/// The organisation's routes, in routing order: provider user ids, extensions, numbers.
#[utoipa::path(get, path = "/v1/admin/routes", tag = "admin",
    security(("bearer" = ["manage_routing"])),
    responses((status = 200, description = "Routes", body = RouteList),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Authorized<ManageRouting>,
) -> Result<Json<RouteList>, ApiError> {
    let store = std::sync::Arc::clone(state.store());
    let org = caller.principal.org;
    let routes = blocking(move || store.routing().list_routes(org).map_err(refused)).await?;
    Ok(Json(RouteList {
        routes: routes.into_iter().map(Route::info).collect(),
    }))
}

/// Routes calls matching a provider user id, an extension or a dialed number to a user.
#[utoipa::path(post, path = "/v1/admin/routes", tag = "admin",
    security(("bearer" = ["manage_routing"])), request_body = CreateRouteRequest,
    responses((status = 201, description = "Added", body = RouteInfo),
        Unauthorized, Forbidden, NotFound, Conflict, Invalid, TooManyRequests))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Authorized<ManageRouting>,
    Json(body): Json<CreateRouteRequest>,
) -> Result<(StatusCode, Json<RouteInfo>), ApiError> {
    let store = std::sync::Arc::clone(state.store());
    let new = NewRoute {
        integration: body.integration_id,
        matcher: RouteMatch {
            kind: body.kind,
            value: body.value,
        },
        user: body.user_id,
    };
    let route = blocking(move || {
        let ctx = caller_context(&caller.principal);
        store
            .routing()
            .add_route(caller.principal.org, &new, &ctx)
            .map_err(refused)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(route.info())))
}

/// Deletes a route.
#[utoipa::path(delete, path = "/v1/admin/routes/{route_id}", tag = "admin",
    security(("bearer" = ["manage_routing"])),
    params(("route_id" = String, Path, description = "Route id (rte_…)")),
    responses((status = 204, description = "Deleted"), Unauthorized, Forbidden, NotFound,
        TooManyRequests))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Authorized<ManageRouting>,
    Path(route_id): Path<RouteId>,
) -> Result<StatusCode, ApiError> {
    let store = std::sync::Arc::clone(state.store());
    blocking(move || {
        let ctx = caller_context(&caller.principal);
        store
            .routing()
            .delete_route(caller.principal.org, route_id, &ctx)
            .map_err(refused)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where calls that no route matches go; `nobody` until an admin sets it.
#[utoipa::path(get, path = "/v1/admin/routing/fallback", tag = "admin",
    security(("bearer" = ["manage_routing"])),
    responses((status = 200, description = "The fallback", body = Fallback),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn fallback(
    State(state): State<AppState>,
    caller: Authorized<ManageRouting>,
) -> Result<Json<Fallback>, ApiError> {
    let store = std::sync::Arc::clone(state.store());
    let org = caller.principal.org;
    Ok(Json(
        blocking(move || store.routing().fallback(org).map_err(refused)).await?,
    ))
}

/// Sets where calls that no route matches go: `nobody`, `all` (every active user whose role
/// receives pops) or a group of `users`. Answers the fallback as stored.
#[utoipa::path(put, path = "/v1/admin/routing/fallback", tag = "admin",
    security(("bearer" = ["manage_routing"])), request_body = Fallback,
    responses((status = 200, description = "Set", body = Fallback),
        Unauthorized, Forbidden, NotFound, Invalid, TooManyRequests))]
pub(crate) async fn set_fallback(
    State(state): State<AppState>,
    caller: Authorized<ManageRouting>,
    Json(body): Json<Fallback>,
) -> Result<Json<Fallback>, ApiError> {
    let store = std::sync::Arc::clone(state.store());
    let stored = blocking(move || {
        let ctx = caller_context(&caller.principal);
        let org = caller.principal.org;
        store
            .routing()
            .set_fallback(org, &body, &ctx)
            .map_err(refused)?;
        store.routing().fallback(org).map_err(refused)
    })
    .await?;
    Ok(Json(stored))
}

/// Who is acting, for the audit entries of an HTTP caller's changes.
fn caller_context(p: &Principal) -> AuditContext {
    AuditContext::new(Actor::user(p.user), p.source_ip)
}
