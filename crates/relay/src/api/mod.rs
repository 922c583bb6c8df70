//! The HTTP surface. Every route is listed in [`routes`]; handlers are thin adapters that live in
//! one file per area and take their authorisation, tenant scoping and body validation from
//! extractors ([`extract`]), never from code inside the handler (style.md item 2).
//!
//! Three routers, so what a route is open to can be read from where it is listed: public routes
//! (sign-in, invitation acceptance, probes, the API description), the signed-in person's own
//! routes (`/v1/me`, sign-out), and administration under `/v1/admin`, kept apart from everything
//! an agent uses. Each route is registered with its OpenAPI description (`utoipa_axum`), so the
//! document at `/v1/openapi.json` lists exactly the routes that exist.
//!
//! Layers, outermost first: security headers (so even a 404 or a 429 carries them), request
//! tracing (method, path, status, latency — never bodies), problem+json normalisation of every
//! error, panic catching, and the body-size limit. Rate limits are part of the access
//! extractors (`rate_limit`).

mod ams;
mod audit;
mod auth;
mod calls;
mod dto;
pub(crate) mod extract;
mod headers;
mod health;
mod history;
mod hooks;
mod integrations;
mod invitations;
mod leaderboard;
mod me;
mod openapi;
mod privacy;
pub(crate) mod problem;
pub(crate) mod rate_limit;
mod routing;
mod stream;
mod summarizer;
mod sync;
mod team;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::{Extension, Router, middleware};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The largest request body the API accepts (webhooks have their own limit).
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// Every route, with its OpenAPI description.
fn routes() -> OpenApiRouter<AppState> {
    let public = OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(openapi::document))
        .routes(routes!(auth::login))
        .routes(routes!(auth::second_factor))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::accept_invitation))
        .routes(routes!(hooks::receive))
        .routes(routes!(stream::open));
    let own = OpenApiRouter::new()
        .routes(routes!(auth::logout))
        .routes(routes!(me::me))
        .routes(routes!(me::sessions))
        .routes(routes!(me::revoke_session))
        .routes(routes!(me::revoke_other_sessions))
        .routes(routes!(me::enroll_totp))
        .routes(routes!(me::confirm_totp))
        .routes(routes!(me::step_up))
        .routes(routes!(me::change_password))
        .routes(routes!(stream::ticket))
        .routes(routes!(history::my_calls))
        .routes(routes!(history::my_notes))
        .routes(routes!(leaderboard::leaderboard))
        .routes(routes!(calls::note))
        .routes(routes!(calls::pick));
    let admin = OpenApiRouter::new()
        .routes(routes!(team::list_users))
        .routes(routes!(team::set_role))
        .routes(routes!(team::disable))
        .routes(routes!(team::enable))
        .routes(routes!(team::unlock))
        .routes(routes!(team::reset_second_factor))
        .routes(routes!(team::user_sessions, team::revoke_user_sessions))
        .routes(routes!(team::set_mfa_policy))
        .routes(routes!(invitations::list, invitations::create))
        .routes(routes!(invitations::revoke))
        .routes(routes!(integrations::list, integrations::create))
        .routes(routes!(integrations::revoke))
        .routes(routes!(
            integrations::set_api_key,
            integrations::delete_api_key
        ))
        .routes(routes!(ams::show, ams::connect, ams::disconnect))
        .routes(routes!(ams::test))
        .routes(routes!(routing::list, routing::create))
        .routes(routes!(routing::delete))
        .routes(routes!(routing::fallback, routing::set_fallback))
        .routes(routes!(audit::query))
        .routes(routes!(sync::dead_letters))
        .routes(routes!(sync::retry))
        .routes(routes!(sync::retention))
        .routes(routes!(privacy::erase))
        .routes(routes!(privacy::terminate))
        .routes(routes!(
            summarizer::show,
            summarizer::set,
            summarizer::clear
        ));
    OpenApiRouter::with_openapi(openapi::base())
        .merge(public)
        .merge(own)
        .merge(admin)
}

/// The OpenAPI document, as `/v1/openapi.json` serves it.
#[cfg(test)]
fn document() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

/// The tracing span of a request: its method and its route *template*
/// (`/v1/admin/users/{id}/role`), never the raw path or the query string, which carry whatever a
/// client typed (an address in a filter, a scanner's probe).
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::debug_span!("request", method = %request.method(), route)
}

/// The whole HTTP API.
pub(crate) fn router(state: AppState) -> Router {
    let (routes, document) = routes().split_for_parts();
    let mut router = routes
        .fallback(problem::fallback)
        .layer(Extension(Arc::new(document)))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::new())
        .layer(middleware::map_response(problem::normalize))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state);
    for layer in headers::layers() {
        router = router.layer(layer);
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_admin_route_lives_under_v1_admin_and_nothing_else_does() {
        let doc = document();
        for (path, item) in &doc.paths.paths {
            let admin_tagged = [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
                .any(|op| op.tags.iter().flatten().any(|t| t == "admin"));
            assert_eq!(
                admin_tagged,
                path.starts_with("/v1/admin/"),
                "{path}: admin routes, and only they, sit under /v1/admin"
            );
        }
    }

    #[test]
    fn the_document_names_the_bearer_scheme_every_protected_route_uses() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer",
            "the bearer scheme is declared"
        );
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if let Some(security) = op.get("security") {
                    let schemes: Vec<&String> = security
                        .as_array()
                        .unwrap()
                        .iter()
                        .flat_map(|s| s.as_object().unwrap().keys())
                        .collect();
                    assert_eq!(
                        schemes,
                        ["bearer"],
                        "{method} {path} uses the bearer scheme"
                    );
                }
            }
        }
    }
}
