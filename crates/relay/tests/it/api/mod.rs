//! The HTTP API: its common behaviour (headers, problem+json, rate limits, OpenAPI) here; the
//! route table and the matrix walk, whole flows and the privacy of logs in the modules below.

/// A typed client, the operator, and members who join and sign in over HTTP.
pub(crate) mod client;
/// Whole journeys: invitation to disabled agent, token rotation, timeouts, limits, audit query.
mod flows;
/// The real binary's JSON debug log and its database file hold no marker values.
mod privacy;
/// Every route as data, walked for every role against the permission matrix.
mod routes;
/// Call routing: routes and the fallback over HTTP, refusals that store nothing.
mod routing;

use reqwest::{Method, StatusCode};

use crate::utils::App;

/// The security headers every response must carry (docs/api.md#conventions).
const EXPECTED: &[(&str, &str)] = &[
    ("cache-control", "no-store"),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains; preload",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
];

/// Asserts the security headers every response must carry.
pub(super) fn assert_security_headers_of(headers: &reqwest::header::HeaderMap, what: &str) {
    for (name, value) in EXPECTED {
        assert_eq!(
            headers.get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{what}: header {name}"
        );
    }
    assert!(
        headers.contains_key("permissions-policy"),
        "{what}: permissions-policy"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers_errors_included() {
    let app = App::new().await;
    for (method, path, status) in [
        (Method::GET, "/healthz", StatusCode::OK),
        (Method::GET, "/readyz", StatusCode::OK),
        (Method::GET, "/v1/openapi.json", StatusCode::OK),
        (Method::GET, "/v1/no-such-route", StatusCode::NOT_FOUND),
        (Method::POST, "/healthz", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let reply = app.request(method.clone(), path).await;
        assert_eq!(reply.status, status, "{method} {path}");
        assert_security_headers_of(&reply.headers, &format!("{method} {path}"));
    }
}

#[tokio::test]
async fn errors_are_problem_json_with_a_stable_code() {
    let app = App::new().await;
    for (method, path, code) in [
        (Method::GET, "/v1/no-such-route", "not_found"),
        (Method::POST, "/healthz", "method_not_allowed"),
    ] {
        let reply = app.request(method.clone(), path).await;
        assert_eq!(
            reply.headers["content-type"], "application/problem+json",
            "{method} {path} answers problem+json"
        );
        let body = reply.json();
        assert_eq!(body["code"], code, "{method} {path}");
        assert_eq!(
            body["type"],
            format!("https://ringside.dev/problems/{code}")
        );
        assert!(body["status"].as_u64().is_some() && body["title"].is_string());
    }
}

#[tokio::test]
async fn past_100_requests_a_minute_a_client_gets_429_with_retry_after() {
    let app = App::new().await;
    for i in 0..100 {
        let reply = app.request(Method::GET, "/v1/openapi.json").await;
        assert_eq!(
            reply.status,
            200,
            "request {} of 100 is within the limit",
            i + 1
        );
    }
    let refused = app.request(Method::GET, "/v1/openapi.json").await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the 101st request is refused"
    );
    assert_security_headers_of(&refused.headers, "429");
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry),
        "Retry-After says when to come back: {retry}"
    );
    assert_eq!(refused.json()["code"], "rate_limited");
    let probe = app.request(Method::GET, "/healthz").await;
    assert_eq!(probe.status, 200, "health probes are never rate limited");
}

#[tokio::test]
async fn the_openapi_document_describes_the_routes_and_the_error_shape() {
    let doc = App::new()
        .await
        .request(Method::GET, "/v1/openapi.json")
        .await
        .json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "an OpenAPI 3 document"
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for path in ["/healthz", "/readyz", "/v1/openapi.json"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(
        doc["components"]["schemas"]["Problem"].is_object(),
        "the problem shape is documented"
    );
}
