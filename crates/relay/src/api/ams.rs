//! The AMS connection (`/v1/admin/ams`): connect, show, test, disconnect (docs/ams.md).
//!
//! Credentials are the owner's alone (`ManageCredentials`) and every change needs a recent
//! second factor — the extractor checks both. The credentials go in and never come out: no
//! answer carries them. A test is a real request to the AMS; its answer is the typed result.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ringside_ams::AmsError;
use ringside_core::wire::{AmsStatus, AmsStatusResponse, AmsTestResult, ConnectAmsRequest};
use ringside_identity::AuthError;
use ringside_store::AmsConnection;

use super::extract::{Authorized, blocking, perm::ManageCredentials};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized};
use crate::caller::Caller;
use crate::state::AppState;

fn at(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn status(c: AmsConnection) -> AmsStatus {
    AmsStatus {
        kind: c.kind,
        base_url: c.base_url,
        connected_at: at(c.connected_at),
        catch_all_record: c.catch_all_record,
        last_test: c.last_test.map(|(tested_at, result)| AmsTestResult {
            ok: result == "ok",
            reason: (result != "ok").then_some(result),
            tested_at: at(tested_at),
        }),
    }
}

/// A refused connection as the API answers it: `invalid_input` naming the field (`kind`,
/// `base_url` or `credentials`), never the value.
fn invalid(err: AmsError) -> AuthError {
    match err {
        AmsError::Config { field: "kind", .. } => AuthError::InvalidInput("kind"),
        AmsError::Config {
            field: "base_url", ..
        } => AuthError::InvalidInput("base_url"),
        _ => AuthError::InvalidInput("credentials"),
    }
}

/// The organisation's AMS connection, if any; never its credentials.
#[utoipa::path(get, path = "/v1/admin/ams", tag = "admin",
    security(("bearer" = ["manage_credentials"])),
    responses((status = 200, description = "The connection, or null", body = AmsStatusResponse),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
) -> Result<Json<AmsStatusResponse>, ApiError> {
    let ams = state.ams().clone();
    let found = blocking(move || ams.status(Caller::Member(&caller.principal))).await?;
    Ok(Json(AmsStatusResponse {
        connection: found.map(status),
    }))
}

/// Connects the organisation's AMS, replacing any connection it had. The credentials are
/// checked for the kind's shape and sealed; test them with `POST /v1/admin/ams/test`.
#[utoipa::path(put, path = "/v1/admin/ams", tag = "admin",
    security(("bearer" = ["manage_credentials"])), request_body = ConnectAmsRequest,
    responses((status = 200, description = "Connected", body = AmsStatus),
        Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn connect(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
    Json(body): Json<ConnectAmsRequest>,
) -> Result<Json<AmsStatus>, ApiError> {
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(&body.credentials)
            .map_err(|_| AuthError::InvalidInput("credentials"))?,
    );
    let connection =
        crate::ams::connection(&body.kind, body.base_url.as_deref(), &json).map_err(invalid)?;
    let catch_all = crate::ams::catch_all_record(body.catch_all_record.as_deref())
        .map_err(|_| AuthError::InvalidInput("catch_all_record"))?
        .map(str::to_owned);
    let ams = state.ams().clone();
    let connected = blocking(move || {
        ams.connect(
            Caller::Member(&caller.principal),
            &connection,
            catch_all.as_deref(),
        )
    })
    .await?;
    Ok(Json(status(connected)))
}

/// Sends the AMS a real, harmless request with the stored credentials: `ok`, or why not.
#[utoipa::path(post, path = "/v1/admin/ams/test", tag = "admin",
    security(("bearer" = ["manage_credentials"])),
    responses((status = 200, description = "The result", body = AmsTestResult),
        Unauthorized, Forbidden, NotFound, TooManyRequests))]
pub(crate) async fn test(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
) -> Result<Json<AmsTestResult>, ApiError> {
    let ams = state.ams().clone();
    let principal = caller.principal.clone();
    let connector = blocking(move || ams.tester(Caller::Member(&principal))).await?;
    let result = state.ams().check(connector.as_ref()).await;
    drop(connector);
    let ams = state.ams().clone();
    let tested =
        blocking(move || ams.record_test(Caller::Member(&caller.principal), result)).await?;
    Ok(Json(AmsTestResult {
        ok: tested.result.is_ok(),
        reason: tested.result.err().map(|e| e.reason().to_owned()),
        tested_at: at(tested.at),
    }))
}

/// Disconnects the AMS: its credentials are deleted at once; pops say `unavailable` from now on.
#[utoipa::path(delete, path = "/v1/admin/ams", tag = "admin",
    security(("bearer" = ["manage_credentials"])),
    responses((status = 204, description = "Disconnected"), Unauthorized, Forbidden, NotFound,
        TooManyRequests))]
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    caller: Authorized<ManageCredentials>,
) -> Result<StatusCode, ApiError> {
    let ams = state.ams().clone();
    blocking(move || ams.disconnect(Caller::Member(&caller.principal))).await?;
    Ok(StatusCode::NO_CONTENT)
}
