//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations and the
//! wire types' schemas, served at `/v1/openapi.json` so clients and reviewers read the contract
//! the code actually implements.
//!
//! Routes are registered together with their annotation (`utoipa_axum::routes!` in
//! [`super::routes`]), so a route without its description does not compile. Each operation's
//! `security` names the `bearer` scheme and, as its scope, the permission its extractor demands
//! (none for "any signed-in user"); public routes have no `security`. The route table test
//! checks those scopes against its rows.

use std::sync::Arc;

use axum::{Extension, Json};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::extract::Public;
use super::problem;

#[derive(OpenApi)]
#[openapi(
    info(title = "Ringside relay API", description = "Screen pops for insurance agencies. \
        Errors are application/problem+json with a stable `code`; docs/api.md walks through \
        sign-in, tokens, limits and the route list."),
    components(schemas(problem::Problem)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Signing in and out, joining by invitation"),
        (name = "me", description = "The signed-in person's own account"),
        (name = "admin", description = "Running the organisation (owners and admins)"),
        (name = "calls", description = "What an agent adds to a call for its AMS note"),
        (name = "operations", description = "Probes and the API description"),
    )
)]
pub(crate) struct ApiDoc;

/// Adds the `bearer` security scheme: opaque access tokens from sign-in.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "An access token from /v1/auth/login (15 minutes; refresh with /v1/auth/refresh). \
             The scope names the permission the route needs."
                .to_owned(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// The base document (info, tags, the security scheme) that the routes are added to.
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The OpenAPI 3.1 document of this relay.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json"),
        problem::responses::TooManyRequests))]
pub(crate) async fn document(
    _caller: Public,
    Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(doc.as_ref().clone())
}
