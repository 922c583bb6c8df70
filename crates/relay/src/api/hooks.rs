//! `POST /v1/hooks/{integration_id}`: provider webhooks in (DESIGN §2 step 1, §4 Webhooks).
//!
//! Why it is shaped this way: a provider waits for our answer and retries what failed, so the
//! route only authenticates, deduplicates and durably accepts: a call event is applied — state
//! machine, routing, pops — in the same transaction as its dedupe record (`pipeline`); a text
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
use ringside_providers::{
    MAX_BODY_BYTES, Outcome, ProviderError, ProviderKind, ProviderSecret, ProviderSettings,
    Request, WebhookEvent, echo_header, verify_and_parse,
};

use super::extract::blocking;
use super::problem::ApiError;
use super::problem::responses::{NotFound, TooManyRequests, Unauthorized};
use crate::pipeline::Applied;
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
    Path(raw_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Ok(id) = IntegrationId::from_str(&raw_id) else {
        return Err(ApiError::not_found());
    };
    let store = Arc::clone(state.store());
    let found = blocking(move || store.integration_for_webhook(id).map_err(store_error)).await?;
    let Some((integration, sealed)) = found else {
        return Err(ApiError::not_found());
    };
    state.limits().per_org_webhooks.check(&integration.org)?;
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

    let org = integration.org;
    let keys = {
        let auth = state.auth().clone();
        blocking(move || auth.org_keyring(org)).await?
    };
    let kind = ProviderKind::from_str(&integration.provider).map_err(|_| ApiError::internal())?;
    let settings: ProviderSettings =
        serde_json::from_str(&integration.settings).map_err(|_| ApiError::internal())?;
    let store = Arc::clone(state.store());
    let opened = {
        let keys = Arc::clone(&keys);
        blocking(move || {
            store
                .open_integration_secret(integration, &sealed, &keys)
                .map_err(store_error)
        })
        .await?
    };
    let secret = ProviderSecret::new(opened.secret.as_str()).map_err(|_| ApiError::internal())?;

    let url = request_url(&state, &uri, &headers);
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let request = Request {
        url: &url,
        headers: &pairs,
        body: &body,
    };
    let now = state.now();
    let outcome = verify_and_parse(kind, &secret, &settings, &request, now);
    let echo = outcome
        .as_ref()
        .ok()
        .and_then(|_| echo_header(kind, &request));

    let store = Arc::clone(state.store());
    let at = now.unix_timestamp();
    let mut response = match outcome {
        Err(err) => {
            tracing::info!(integration = %id, outcome = err.code(), "webhook refused");
            let code = err.code();
            let _ = blocking(move || {
                store
                    .record_webhook_outcome(id, code, at)
                    .map_err(store_error)
            })
            .await;
            // Not a bearer route: the 401 names no scheme the provider could switch to.
            let mut res = refusal(&err).into_response();
            res.headers_mut().remove(header::WWW_AUTHENTICATE);
            return Ok(res);
        }
        Ok(Outcome::Handshake { name, echo }) => {
            tracing::info!(integration = %id, outcome = "handshake", "webhook answered");
            let mut res = (StatusCode::OK, axum::Json(serde_json::json!({}))).into_response();
            set_header(&mut res, name, &echo);
            res
        }
        Ok(Outcome::Ignored { .. }) => {
            tracing::debug!(integration = %id, outcome = "ignored", "webhook answered");
            blocking(move || {
                store
                    .record_webhook_outcome(id, "ignored", at)
                    .map_err(store_error)
            })
            .await?;
            ok()
        }
        Ok(Outcome::Event(event)) => {
            let applied = match event {
                WebhookEvent::Call(call) => {
                    crate::pipeline::accept_call(&state, id, keys, call, at).await
                }
                WebhookEvent::Sms(sms) => {
                    crate::pipeline::accept_sms(&state, id, keys, sms, at).await
                }
                _ => Ok(Applied::Duplicate),
            }
            .map_err(|err| {
                tracing::error!(integration = %id, error = %err, "applying an event failed");
                ApiError::internal()
            })?;
            let outcome = match applied {
                Applied::Accepted => "accepted",
                Applied::Duplicate => "duplicate",
            };
            tracing::info!(integration = %id, outcome, "webhook answered");
            ok()
        }
        Ok(_) => ok(),
    };
    if let Some((name, value)) = echo {
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
