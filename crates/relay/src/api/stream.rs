//! `POST /v1/stream/ticket` and `GET /v1/stream`: the signed-in agent's live pops
//! (docs/stream.md).
//!
//! Why two steps: browsers cannot put an `Authorization` header on a WebSocket, and a bearer
//! token in a URL ends up in logs. The ticket is obtained with the bearer token, works once and
//! for 30 seconds. The upgrade checks it, the session behind it (not revoked, not past its
//! absolute lifetime) and the `Origin` — a page from anywhere else gets 403 — and only then
//! hands the socket to the hub.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ringside_core::Pii;
use ringside_core::wire::StreamTicket;

use super::extract::{Authorized, ClientIp, blocking, perm::ReceivePops};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, TooManyRequests, Unauthorized};
use crate::hub::{Connection, tickets::TICKET_TTL_SECS};
use crate::state::AppState;

/// The read buffer of a stream socket.
const READ_BUFFER: usize = 2 * 1024;

/// The largest message a client may send (a note is the largest kind).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// A single-use ticket to open the stream with, valid for 30 seconds.
#[utoipa::path(post, path = "/v1/stream/ticket", tag = "stream",
    security(("bearer" = ["receive_pops"])),
    responses((status = 200, description = "A ticket", body = StreamTicket),
        Unauthorized, Forbidden, TooManyRequests))]
pub(crate) async fn ticket(
    State(state): State<AppState>,
    caller: Authorized<ReceivePops>,
) -> Json<StreamTicket> {
    let p = &caller.principal;
    let token = state.hub().tickets().issue(p.org, p.user, p.session);
    Json(StreamTicket {
        ticket: Pii::new(token.expose().to_owned()),
        expires_in: TICKET_TTL_SECS,
    })
}

/// The query of `GET /v1/stream`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct StreamQuery {
    /// The ticket from `POST /v1/stream/ticket`.
    #[param(value_type = String)]
    ticket: Pii<String>,
}

/// Opens the WebSocket stream of pops and call states (docs/stream.md).
#[utoipa::path(get, path = "/v1/stream", tag = "stream", params(StreamQuery),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 403, description = "The Origin is not allowed"),
        Unauthorized, TooManyRequests))]
pub(crate) async fn open(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| state.origin_allowed(o));
        if !allowed {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "Origin not allowed",
            )
            .detail("add the page's origin to websocket.allowed_origins"));
        }
    }
    let Some(ticket) = state.hub().tickets().redeem(query.ticket.expose()) else {
        // Only refusals count against the address: an office behind one NAT address reconnects
        // all its agents at once after a relay restart, and a 128-bit ticket cannot be guessed.
        state.limits().per_client.check(&ip)?;
        return Err(bad_ticket());
    };
    let store = Arc::clone(state.store());
    let now = state.now().unix_timestamp();
    let session = blocking(
        move || match store.sessions().session(ticket.org, ticket.session) {
            Ok(session) => Ok(Some(session)),
            Err(ringside_store::Error::NotFound(_)) => Ok(None),
            Err(err) => {
                tracing::error!(error = %err, "reading the stream's session failed");
                Err(ApiError::internal())
            }
        },
    )
    .await?;
    let Some(session) = session
        .filter(|s| s.user == ticket.user && s.revoked_at.is_none() && s.absolute_expires_at > now)
    else {
        state.limits().per_client.check(&ip)?;
        return Err(bad_ticket());
    };
    let who = Connection {
        org: ticket.org,
        user: ticket.user,
        session: ticket.session,
        lifetime: Duration::from_secs(
            u64::try_from(session.absolute_expires_at - now).unwrap_or_default(),
        ),
    };
    Ok(upgrade
        // A 2 KiB read buffer instead of tungstenite's 128 KiB: client messages are small, and
        // a relay holds one socket per agent device (docs/benchmarks.md: 134 → ~11 KiB each).
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| crate::hub::serve(socket, state.stream(), who))
        .into_response())
}

fn bad_ticket() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_ticket",
        "Invalid stream ticket",
    )
    .detail("get a new ticket from POST /v1/stream/ticket: each works once, for 30 seconds")
}
