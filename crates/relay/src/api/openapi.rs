//! The OpenAPI document, generated from the handlers' annotations (utoipa), served at
//! `/v1/openapi.json` so clients and reviewers read the contract the code actually implements.

use axum::Json;
use utoipa::OpenApi;

use super::{health, problem};

#[derive(OpenApi)]
#[openapi(
    info(title = "Ringside relay API", description = "Screen pops for insurance agencies. Errors are application/problem+json with a stable `code`."),
    paths(health::healthz, health::readyz, document),
    components(schemas(problem::Problem, health::Health, health::Readiness)),
    tags((name = "operations", description = "Probes and the API description"))
)]
struct ApiDoc;

/// The OpenAPI 3.1 document of this relay.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(spec())
}

/// The document (also used by tests to check every route is described).
pub(crate) fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}
