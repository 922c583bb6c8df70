//! The sandbox AMS: a small stateful HTTP server speaking the subset of Applied Epic's API the
//! connector uses, over the synthetic clients in [`clients`]. `ringside-relay demo` runs one so
//! pops show real matches with no AMS account, and the relay's end-to-end tests run the real
//! Applied Epic connector code against it (`ringside-relay sandbox-ams` starts one by hand).
//!
//! What it does, and where it differs from Applied Epic on purpose:
//! - `POST /v1/auth/connect/token`: client credentials (HTTP Basic or form fields) → a bearer
//!   token for an hour; anything else is 401.
//! - `GET /epic/account/v1/accounts/search?phoneNumber=…&expand=matchedResults&offset&limit`:
//!   matches on the **last seven digits** of any stored number — looser than Epic, like the
//!   free-text AMSs — and returns the numbers **as typed**, so the connector's digit-by-digit
//!   re-check is exercised on every call.
//! - `GET /workflow-management/v1/activities/codes?code=CALL`, `POST …/activities`,
//!   `POST …/activities/{id}/notes`: activities kept in memory; `GET /sandbox/activities` lists
//!   them (what the AMS "received"), `GET /clients/{id}` shows a client (the pop's `open_url`).
//!
//! Everything is in memory and fictional; it listens where it is told (loopback in practice).

pub mod clients;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use ringside_core::random::random_bytes;
use ringside_core::wire::RecordKind;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use clients::{CLIENTS, KNOWN_NUMBERS, SHARED_NUMBER, SandboxClient};

/// The id of the sandbox's `CALL` activity code.
pub const CALL_CODE_ID: &str = "65536";

/// How a sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// The client id it accepts.
    pub client_id: String,
    /// The client secret it accepts.
    pub client_secret: String,
    /// Added before every API answer (not the token's): a stand-in for a real AMS's time.
    pub latency: Duration,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            client_id: "ringside-sandbox".to_owned(),
            client_secret: "sandbox-secret".to_owned(),
            latency: Duration::ZERO,
        }
    }
}

/// An activity the sandbox received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxActivity {
    /// Its id.
    pub id: String,
    /// The account it was written on.
    pub client_id: String,
    /// Its description (the note's subject).
    pub description: String,
    /// The note's content, then each further note.
    pub notes: Vec<String>,
}

#[derive(Debug, Default)]
struct Book {
    tokens: HashSet<String>,
    activities: Vec<SandboxActivity>,
    /// While set, every write is answered with this status (an AMS down or refusing).
    refusing: Option<u16>,
}

/// A sandbox's state: shared by its server and whoever inspects it.
#[derive(Debug, Clone)]
pub struct Sandbox {
    options: Arc<SandboxOptions>,
    book: Arc<Mutex<Book>>,
}

impl Sandbox {
    /// A sandbox with no activities yet.
    pub fn new(options: SandboxOptions) -> Self {
        Self {
            options: Arc::new(options),
            book: Arc::new(Mutex::new(Book::default())),
        }
    }

    /// The credentials JSON a connection to this sandbox takes.
    pub fn credentials_json(&self) -> String {
        json!({
            "client_id": self.options.client_id,
            "client_secret": self.options.client_secret,
        })
        .to_string()
    }

    /// The activities received so far, oldest first.
    pub fn activities(&self) -> Vec<SandboxActivity> {
        self.lock().activities.clone()
    }

    /// From now on, answer every write with `status` (503: down; 422: a refusal no retry
    /// fixes), or, with `None`, accept writes again.
    pub fn refuse_writes(&self, status: Option<u16>) {
        self.lock().refusing = status;
    }

    /// The HTTP application.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/auth/connect/token", post(token))
            .route("/epic/account/v1/accounts/search", get(search))
            .route("/workflow-management/v1/activities/codes", get(codes))
            .route("/workflow-management/v1/activities", post(create_activity))
            .route(
                "/workflow-management/v1/activities/{id}/notes",
                post(add_note),
            )
            .route("/sandbox/activities", get(list_activities))
            .route("/clients/{id}", get(show_client))
            .with_state(self.clone())
    }

    /// Serves on `listener` until `shutdown` completes.
    ///
    /// # Errors
    /// The listener's I/O errors.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| self.lock().tokens.contains(token))
    }

    async fn pause(&self) {
        if !self.options.latency.is_zero() {
            tokio::time::sleep(self.options.latency).await;
        }
    }
}

fn problem(status: StatusCode, title: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        Json(json!({"title": title, "status": status.as_u16(), "traceId": "sandbox"})),
    )
        .into_response()
}

fn hal(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/hal+json")],
        Json(body),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

async fn token(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64_decode(b.trim()))
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    let (id, secret) = basic.unwrap_or((
        form.client_id.unwrap_or_default(),
        form.client_secret.unwrap_or_default(),
    ));
    let options = &sandbox.options;
    if form.grant_type != "client_credentials"
        || id != options.client_id
        || secret != options.client_secret
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let token = hex_token();
    sandbox.lock().tokens.insert(token.clone());
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})).into_response()
}

fn base64_decode(text: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn hex_token() -> String {
    hex::encode(random_bytes::<16>())
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
    #[serde(default)]
    expand: Option<String>,
    #[serde(default)]
    offset: Option<usize>,
    #[serde(default)]
    limit: Option<usize>,
}

/// The last seven digits of `text`, when it has seven.
fn tail(text: &str) -> Option<String> {
    let digits: Vec<char> = text
        .split(['x', 'X', '#'])
        .next()
        .unwrap_or("")
        .split("ext")
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (digits.len() >= 7).then(|| digits[digits.len() - 7..].iter().collect())
}

async fn search(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    sandbox.pause().await;
    if !sandbox.authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let Some(wanted) = query.phone_number.as_deref().and_then(tail) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "One of phone number or email search must be provided",
        );
    };
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > 500 {
        return problem(StatusCode::BAD_REQUEST, "limit must be between 1 and 500");
    }
    let expand = query.expand.as_deref() == Some("matchedResults");
    let hits: Vec<&SandboxClient> = CLIENTS
        .iter()
        .filter(|c| {
            c.numbers
                .iter()
                .any(|n| tail(n).as_deref() == Some(&wanted))
        })
        .collect();
    let total = hits.len();
    let accounts: Vec<Value> = hits
        .into_iter()
        .skip(query.offset.unwrap_or(0))
        .take(limit)
        .map(|c| account(c, expand))
        .collect();
    hal(
        StatusCode::OK,
        json!({"total": total, "_embedded": {"accounts": accounts}}),
    )
}

fn account(client: &SandboxClient, expand: bool) -> Value {
    let mut value = json!({
        "id": client.id,
        "type": "CLIENT",
        "name": client.name,
        "lookupCode": client.lookup_code,
        "active": client.active,
    });
    if expand {
        let (id, kind) = match client.holder {
            RecordKind::Contact => (client.id.replace("-4a5b-", "-4c0e-"), "CONTACT"),
            _ => (client.id.to_owned(), "CLIENT"),
        };
        let numbers: Vec<Value> = client
            .numbers
            .iter()
            .map(|n| json!({"number": n, "type": "MOBILE"}))
            .collect();
        value["matchedResults"] = json!([{"id": id, "type": kind, "phoneNumbers": numbers}]);
    }
    value
}

#[derive(Deserialize)]
struct CodeQuery {
    #[serde(default)]
    code: Option<String>,
}

async fn codes(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<CodeQuery>,
) -> Response {
    sandbox.pause().await;
    if !sandbox.authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let all = [
        json!({"id": "100", "code": "@AOP", "description": "Add Opportunity"}),
        json!({"id": CALL_CODE_ID, "code": "CALL", "description": "Call the insured"}),
    ];
    let codes: Vec<&Value> = all
        .iter()
        .filter(|c| query.code.as_deref().is_none_or(|want| c["code"] == want))
        .collect();
    hal(
        StatusCode::OK,
        json!({"total": codes.len(), "_embedded": {"activityCodes": codes}}),
    )
}

async fn create_activity(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    sandbox.pause().await;
    if !sandbox.authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    if let Some(status) = sandbox.lock().refusing {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return problem(status, "The sandbox is refusing writes");
    }
    let client = body["association"]["id"].as_str().unwrap_or_default();
    if body["code"]["id"] != CALL_CODE_ID || !CLIENTS.iter().any(|c| c.id == client) {
        return problem(
            StatusCode::BAD_REQUEST,
            "An activity needs a known activity code and client",
        );
    }
    let activity = SandboxActivity {
        id: format!("act-{}", hex_token()),
        client_id: client.to_owned(),
        description: body["description"].as_str().unwrap_or_default().to_owned(),
        notes: body["note"]["content"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect(),
    };
    let id = activity.id.clone();
    sandbox.lock().activities.push(activity);
    hal(
        StatusCode::CREATED,
        json!({"id": id, "code": body["code"], "description": body["description"]}),
    )
}

async fn add_note(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    sandbox.pause().await;
    if !sandbox.authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let content = body["content"].as_str().unwrap_or_default().to_owned();
    let mut book = sandbox.lock();
    let Some(activity) = book.activities.iter_mut().find(|a| a.id == id) else {
        return problem(StatusCode::NOT_FOUND, "No such activity");
    };
    activity.notes.push(content.clone());
    (
        StatusCode::OK,
        Json(json!({"id": hex_token(), "content": content})),
    )
        .into_response()
}

/// `?reference=`: only the activities whose first note carries it.
#[derive(Debug, Deserialize)]
struct ListQuery {
    reference: Option<String>,
}

async fn list_activities(
    State(sandbox): State<Sandbox>,
    Query(query): Query<ListQuery>,
) -> Response {
    let activities: Vec<SandboxActivity> = sandbox
        .activities()
        .into_iter()
        .filter(|a| {
            query.reference.as_deref().is_none_or(|r| {
                a.notes
                    .first()
                    .is_some_and(|n| n.split_whitespace().any(|w| w == r))
            })
        })
        .collect();
    Json(json!({"activities": activities})).into_response()
}

async fn show_client(Path(id): Path<String>) -> Response {
    match CLIENTS.iter().find(|c| c.id == id) {
        Some(client) => Html(format!(
            "<!doctype html><title>{name}</title><h1>{name}</h1><p>{code} · sandbox AMS</p>",
            name = client.name,
            code = client.lookup_code
        ))
        .into_response(),
        None => problem(StatusCode::NOT_FOUND, "No such client"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loose_search_key_is_the_last_seven_digits_before_an_extension() {
        assert_eq!(tail("(617) 555-0199").as_deref(), Some("5550199"));
        assert_eq!(tail("617-555-0117 ext. 4").as_deref(), Some("5550117"));
        assert_eq!(tail("  978 555 0188   ").as_deref(), Some("5550188"));
        assert_eq!(tail("555-01"), None);
    }
}
