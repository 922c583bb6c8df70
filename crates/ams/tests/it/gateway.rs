//! Applied's API gateway, as the connector sees it: one base URL with the token endpoint at
//! `/v1/auth/connect/token` and each API under its prefix (`/epic/account/v1`,
//! `/workflow-management/v1`). Behind it, one Prism per vendor spec, each serving its paths at
//! its root — so the requests Prism validates are exactly the connector's, prefix removed.
//!
//! Prism has no token endpoint (the specs only name it), so the gateway answers the client
//! credentials grant itself, per RFC 6749 §4.4, and counts the grants. A test can also ask Prism
//! for one of the spec's own answers by setting the `Prefer` header the gateway adds
//! (`code=401`, `example=…`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};

use crate::fake::{Fake, serve};
use crate::prism::{self, Prism};

/// The credentials the gateway's token endpoint accepts.
pub(crate) const CREDENTIALS: &str = r#"{"client_id":"ringside-test","client_secret":"s3cret"}"#;

/// The gateway and the Prism instances behind it.
pub(crate) struct Gateway {
    /// The connector's base URL.
    pub(crate) base: String,
    /// Prism on the Accounts spec.
    pub(crate) accounts: Prism,
    /// Prism on the Workflow Management spec.
    pub(crate) workflow: Prism,
    state: Arc<Shared>,
    _server: Fake,
}

#[derive(Default)]
struct Shared {
    upstreams: HashMap<&'static str, String>,
    /// `Prefer` values to add, by API prefix.
    prefer: Mutex<HashMap<&'static str, String>>,
    grants: AtomicUsize,
    client: reqwest::Client,
}

impl Gateway {
    /// Starts Prism on the Accounts and Workflow Management specs and the gateway before them.
    pub(crate) async fn start() -> Self {
        let (accounts, workflow) = tokio::join!(
            prism::start("applied-epic/account-v1.yml", false),
            prism::start("applied-epic/workflow-management-v1.yml", false),
        );
        let mut upstreams = HashMap::new();
        upstreams.insert("epic/account/v1", accounts.base.clone());
        upstreams.insert("workflow-management/v1", workflow.base.clone());
        let state = Arc::new(Shared {
            upstreams,
            ..Shared::default()
        });
        let router = Router::new()
            .route("/v1/auth/connect/token", post(token))
            .route("/epic/account/v1/{*rest}", any(account))
            .route("/workflow-management/v1/{*rest}", any(workflow_api))
            .with_state(Arc::clone(&state));
        let server = serve(router).await;
        Self {
            base: server.base.clone(),
            accounts,
            workflow,
            state,
            _server: server,
        }
    }

    /// Adds `Prefer: value` to every request to the API under `prefix` from now on.
    pub(crate) fn prefer(&self, prefix: &'static str, value: &str) {
        self.state
            .prefer
            .lock()
            .unwrap()
            .insert(prefix, value.to_owned());
    }

    /// How many tokens were granted.
    pub(crate) fn grants(&self) -> usize {
        self.state.grants.load(Ordering::SeqCst)
    }

    /// Lets both Prisms log what they saw, then asserts neither found a request breaking its
    /// spec.
    pub(crate) async fn assert_no_violations(&self, what: &str) {
        self.accounts.settle().await;
        self.workflow.settle().await;
        self.accounts.assert_no_violations(what);
        self.workflow.assert_no_violations(what);
    }
}

async fn token(State(state): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("ringside-test:s3cret")
    );
    let authorized = headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes() == expected.as_bytes());
    if !authorized || body != "grant_type=client_credentials" {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let n = state.grants.fetch_add(1, Ordering::SeqCst) + 1;
    axum::Json(serde_json::json!({
        "access_token": format!("token-{n}"),
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
    .into_response()
}

async fn account(
    state: State<Arc<Shared>>,
    method: Method,
    rest: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    forward("epic/account/v1", state, method, rest, query, headers, body).await
}

async fn workflow_api(
    state: State<Arc<Shared>>,
    method: Method,
    rest: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    forward(
        "workflow-management/v1",
        state,
        method,
        rest,
        query,
        headers,
        body,
    )
    .await
}

/// Passes the request to the Prism behind `prefix`, as is, with the test's `Prefer`.
async fn forward(
    prefix: &'static str,
    State(state): State<Arc<Shared>>,
    method: Method,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut url = format!("{}/{rest}", state.upstreams[prefix]);
    if let Some(query) = query {
        url = format!("{url}?{query}");
    }
    let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
    let mut request = state.client.request(method, url).body(body);
    for name in ["authorization", "accept", "content-type"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value.as_bytes());
        }
    }
    if let Some(prefer) = state.prefer.lock().unwrap().get(prefix) {
        request = request.header("prefer", prefer.as_str());
    }
    let answer = request.send().await.unwrap();
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let content_type = answer
        .headers()
        .get("content-type")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let body = answer.bytes().await.unwrap();
    (
        status,
        [(axum::http::header::CONTENT_TYPE, content_type)],
        body.to_vec(),
    )
        .into_response()
}
