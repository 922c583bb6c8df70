//! `POST /v1/hooks/{integration_id}`: provider webhooks in (docs/architecture.md#the-walk-of-a-webhook; answers: docs/providers.md#answers).
//!
//! Why it is shaped this way: a provider waits for our answer and retries what failed, so the
//! route only authenticates, deduplicates and durably accepts: a call event is applied — state
//! machine, routing, pops — in the same transaction as its dedupe record (`calls::apply`); a text
//! message goes sealed into the inbox (for the AMS sync) and out to the agents routing picks. Nothing slow (no AMS lookup, no socket write) sits between
//! the request and its 2xx. The answers providers act on: 2xx once on disk
//! (duplicates too), 401 for anything that fails authentication (providers do not retry 4xx),
//! 404 for an id that is not an active integration — the same body for a malformed id, so the
//! answer tells nothing about which ids exist — 413 over 1 MiB and 429 past the org's quota.
//! Logs carry the integration id and the outcome only: never a body, a header value or an event id.

use std::str::FromStr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use ringside_core::IntegrationId;
use ringside_providers::{MAX_BODY_BYTES, ProviderError};

use super::extract::{ClientIp, blocking};
use super::problem::ApiError;
use super::problem::responses::{NotFound, TooManyRequests, Unauthorized};
use crate::calls::{Delivery, Ingested};
use crate::state::AppState;

/// Receives a provider webhook: authenticated by the provider's own scheme, deduplicated and
/// durably accepted before it answers 200 (duplicates too). See docs/providers.md.
#[utoipa::path(post, path = "/v1/hooks/{integration_id}", tag = "webhooks",
    params(("integration_id" = String, Path, description = "The integration's id")),
    request_body(content = String, content_type = "application/octet-stream",
        description = "The provider's payload, authenticated by its own scheme"),
    responses((status = 200, description = "Accepted (or a duplicate, or ignored)"),
        (status = 413, description = "Body over 1 MiB"),
        Unauthorized, NotFound, TooManyRequests))]
pub(crate) async fn receive(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(raw_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Unknown ids count against the caller's address (a flood of made-up ids costs reads);
    // a provider's own deliveries never do.
    let unknown = |state: &AppState| match state.limits().per_client.check(&ip) {
        Ok(()) => ApiError::not_found(),
        Err(limited) => limited,
    };
    let Ok(id) = IntegrationId::from_str(&raw_id) else {
        return Err(unknown(&state));
    };
    // The quota is checked before anything is read, so a flood's 429s cost next to nothing.
    let org = match state.integration_org(id) {
        Some(org) => org,
        None => {
            let store = Arc::clone(state.store());
            let found = blocking(move || {
                store
                    .integrations()
                    .integration_for_webhook(id)
                    .map_err(store_error)
            })
            .await?;
            let Some((integration, _)) = found else {
                return Err(unknown(&state));
            };
            state.remember_integration_org(id, integration.org);
            integration.org
        }
    };
    state.limits().per_org_webhooks.check(&org)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())?;

    let delivery = Delivery {
        integration: id,
        url: request_url(&state, &uri, &headers),
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
        received: state.now(),
    };
    let answer = state.calls().ingest(delivery).await.map_err(|err| {
        tracing::error!(integration = %id, error = %err, "a webhook could not be processed");
        ApiError::internal()
    })?;
    let mut response = match answer.outcome {
        Ingested::Unknown => {
            // Revoked since it was cached: forget it, so its URL stops using the org's quota.
            state.forget_integration_org(id);
            return Err(unknown(&state));
        }
        Ingested::Gone => {
            tracing::info!(integration = %id, outcome = "org_terminated", "webhook refused");
            return Err(ApiError::new(
                StatusCode::GONE,
                "org_terminated",
                "This organisation was terminated",
            )
            .detail("stop sending events to this URL"));
        }
        Ingested::Refused(err) => {
            tracing::info!(integration = %id, outcome = err.code(), "webhook refused");
            // Not a bearer route: the 401 names no scheme the provider could switch to.
            let mut res = refusal(&err).into_response();
            res.headers_mut().remove(header::WWW_AUTHENTICATE);
            return Ok(res);
        }
        Ingested::Handshake { name, echo } => {
            tracing::info!(integration = %id, outcome = "handshake", "webhook answered");
            let mut res = ok();
            set_header(&mut res, name, &echo);
            res
        }
        Ingested::Ignored => {
            tracing::debug!(integration = %id, outcome = "ignored", "webhook answered");
            ok()
        }
        Ingested::Accepted | Ingested::Duplicate => {
            let outcome = if matches!(answer.outcome, Ingested::Accepted) {
                "accepted"
            } else {
                "duplicate"
            };
            tracing::info!(integration = %id, outcome, "webhook answered");
            ok()
        }
    };
    if let Some((name, value)) = answer.echo {
        set_header(&mut response, name, &value);
    }
    Ok(response)
}

fn ok() -> Response {
    (StatusCode::OK, axum::Json(serde_json::json!({}))).into_response()
}

fn set_header(res: &mut Response, name: &'static str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        res.headers_mut().insert(name, value);
    }
}

/// The URL the provider called: the configured public base URL, or the request's own scheme and
/// `Host`, plus the path and query as received.
fn request_url(state: &AppState, uri: &Uri, headers: &HeaderMap) -> String {
    let path = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let base = state.webhook_base();
    match &base.public_url {
        Some(public) => format!("{public}{path}"),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .or_else(|| uri.authority().map(|a| a.as_str()))
                .unwrap_or_default();
            format!("{}://{host}{path}", base.scheme)
        }
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "Request body too large",
    )
}

/// The problem for a refused webhook: the provider error's status and fixed message.
fn refusal(err: &ProviderError) -> ApiError {
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        return ApiError::internal();
    }
    ApiError::new(status, err.code(), "Webhook refused").detail(err.to_string())
}

fn store_error(err: ringside_store::Error) -> ApiError {
    tracing::error!(error = %err, "webhook store operation failed");
    ApiError::internal()
}
