//! The HTTP surface. Every route is listed in [`router`]; handlers are thin adapters that live in
//! one file per area and take their authorisation, tenant and body validation from extractors,
//! never from code inside the handler (style.md item 2).
//!
//! Layers, outermost first: security headers (so even a 404 or a 429 carries them), request
//! tracing (method, path, status, latency — never bodies), problem+json normalisation of every
//! error, panic catching, the body-size limit, and per-route rate limits.

mod headers;
mod health;
mod openapi;
pub(crate) mod problem;
pub(crate) mod rate_limit;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Router, middleware};
use tower_http::catch_panic::CatchPanicLayer;

use crate::state::AppState;

/// The largest request body the API accepts (webhooks have their own limit).
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// The whole HTTP API.
pub(crate) fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/v1/openapi.json", get(openapi::document))
        .fallback(problem::fallback)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::per_client,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::new())
        .layer(middleware::map_response(problem::normalize))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state);
    for layer in headers::layers() {
        router = router.layer(layer);
    }
    router
}
