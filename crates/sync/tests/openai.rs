//! The OpenAI-compatible summarizer against a real local HTTP server speaking the
//! chat-completions protocol: what is sent (path, model, auth header, redacted text), what comes
//! back, and how each failure is mapped.

// Test helpers panic on failure: that is how a test reports it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use ringside_core::Pii;
use ringside_sync::redact::{CARD_MARKER, SSN_MARKER};
use ringside_sync::summary::openai::SYSTEM_PROMPT;
use ringside_sync::summary::{
    ApiKey, AuthStyle, OpenAiCompatible, OpenAiConfig, OpenAiConfigError, Speaker, Summarizer,
    SummaryError, SummaryInput, Utterance,
};
use serde_json::{Value, json};

const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "123-45-6789";
const KEY: &str = "sk-test-key-0123456789";

/// How the test server answers every request.
#[derive(Clone)]
enum Reply {
    /// 200 with a chat-completions answer whose first choice says this.
    Answer(String),
    /// This status, with a small JSON error body.
    Status(u16),
    /// 200 with this body as it is.
    Body(String),
    /// 302 to another path on the same server.
    Redirect,
    /// Never answers (well, after a minute).
    Hang,
}

/// One request the server received.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

struct Server {
    /// `http://127.0.0.1:PORT`.
    origin: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(reply: Reply) -> Self {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let record = Arc::clone(&seen);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let record = Arc::clone(&record);
                let reply = reply.clone();
                async move {
                    record.lock().unwrap().push(Seen {
                        method,
                        path: uri.path().to_owned(),
                        query: uri.query().map(str::to_owned),
                        headers,
                        body: body.to_vec(),
                    });
                    respond(reply).await
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { origin, seen }
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn only_request(&self) -> Seen {
        let seen = self.requests();
        assert_eq!(seen.len(), 1, "exactly one request");
        seen.into_iter().next().unwrap()
    }

    /// A Bearer-keyed config for `{origin}/v1`.
    fn config(&self) -> OpenAiConfig {
        OpenAiConfig {
            api_key: Some(ApiKey::new(KEY)),
            timeout: Duration::from_secs(5),
            ..OpenAiConfig::new(format!("{}/v1", self.origin), "gpt-test")
        }
    }

    fn summarizer(&self) -> OpenAiCompatible {
        OpenAiCompatible::new(self.config()).unwrap()
    }
}

async fn respond(reply: Reply) -> Response {
    let json_body = |status: StatusCode, body: String| {
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    match reply {
        Reply::Answer(content) => json_body(
            StatusCode::OK,
            json!({
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 1_764_000_000,
                "model": "gpt-test",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop"
                }],
                "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
            })
            .to_string(),
        ),
        Reply::Status(status) => json_body(
            StatusCode::from_u16(status).unwrap(),
            json!({"error": {"message": "nope", "type": "test"}}).to_string(),
        ),
        Reply::Body(body) => json_body(StatusCode::OK, body),
        Reply::Redirect => {
            (StatusCode::FOUND, [(header::LOCATION, "/elsewhere")], "").into_response()
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            json_body(StatusCode::OK, String::new())
        }
    }
}

fn utterance(speaker: Speaker, text: &str, start_ms: u64) -> Utterance {
    Utterance {
        speaker,
        text: Pii::new(text.to_owned()),
        start_ms: Some(start_ms),
    }
}

/// A call whose transcript holds a card number and an SSN, not redacted: the summarizer must
/// redact it itself.
fn call() -> SummaryInput {
    SummaryInput {
        transcript: vec![
            utterance(
                Speaker::Caller,
                &format!("Hi, I'd like to pay my auto premium. My card is {CARD}."),
                0,
            ),
            utterance(
                Speaker::Agent,
                &format!("Thanks. And your social is {SSN}?"),
                4_000,
            ),
            utterance(Speaker::Caller, "Yes,\n   that's right.", 8_000),
        ],
        agent_notes: vec![Pii::new(
            "Took the premium payment for policy HO-1234567.".to_owned(),
        )],
    }
}

fn answer(content: &str) -> Reply {
    Reply::Answer(content.to_owned())
}

#[tokio::test]
async fn sends_the_redacted_call_to_chat_completions_and_returns_the_trimmed_answer() {
    let server = Server::start(answer(
        "  Reason for call: pay the auto premium.\nPaid by card.\n ",
    ))
    .await;

    let summary = server.summarizer().summarize(&call()).await.unwrap();
    assert_eq!(
        summary.expose(),
        "Reason for call: pay the auto premium.\nPaid by card."
    );

    let seen = server.only_request();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.query, None);
    assert_eq!(
        seen.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(seen.header("api-key"), None);
    assert_eq!(seen.header("content-type"), Some("application/json"));

    let raw = String::from_utf8(seen.body.clone()).unwrap();
    for secret in [CARD, "4111111111111111", SSN, "123456789"] {
        assert!(!raw.contains(secret), "{secret} left the relay");
    }

    let body = seen.json();
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(body["temperature"].as_f64(), Some(0.0));
    assert_eq!(body["max_tokens"], 300);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[0]["content"], SYSTEM_PROMPT);
    assert_eq!(messages[1]["role"], "user");
    assert_eq!(
        messages[1]["content"].as_str().unwrap(),
        format!(
            "Transcript:\n\
             Caller: Hi, I'd like to pay my auto premium. My card is {CARD_MARKER}.\n\
             Agent: Thanks. And your social is {SSN_MARKER}?\n\
             Caller: Yes, that's right.\n\
             \n\
             Agent notes:\n\
             - Took the premium payment for policy HO-1234567.\n"
        )
    );
}

#[test]
fn the_system_prompt_says_what_the_brief_asks() {
    for must in [
        "insurance agency",
        "at most 3 short lines",
        "Start with the reason for the call",
        "State only what was said",
        "payment card, Social Security, bank account or routing number",
    ] {
        assert!(SYSTEM_PROMPT.contains(must), "{must:?}");
    }
}

#[tokio::test]
async fn utterances_go_in_call_order_and_notes_alone_are_summarized() {
    let server = Server::start(answer("Notes only.")).await;
    let input = SummaryInput {
        transcript: vec![
            utterance(Speaker::Agent, "Second.", 2_000),
            utterance(Speaker::Unknown, "Third.", 3_000),
            utterance(Speaker::Caller, "First.", 1_000),
        ],
        agent_notes: vec![],
    };
    server.summarizer().summarize(&input).await.unwrap();
    let notes_only = SummaryInput {
        transcript: vec![],
        agent_notes: vec![Pii::new("Client called\nabout a renewal.".to_owned())],
    };
    server.summarizer().summarize(&notes_only).await.unwrap();

    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].json()["messages"][1]["content"],
        "Transcript:\nCaller: First.\nAgent: Second.\nUnknown: Third.\n"
    );
    assert_eq!(
        seen[1].json()["messages"][1]["content"],
        "Agent notes:\n- Client called about a renewal.\n"
    );
}

#[tokio::test]
async fn azure_gets_its_api_key_header_and_keeps_the_deployment_url_query() {
    let server = Server::start(answer("Azure summary.")).await;
    let config = OpenAiConfig {
        api_key: Some(ApiKey::new("azure-key-abc")),
        auth: AuthStyle::AzureApiKey,
        ..OpenAiConfig::new(
            format!(
                "{}/openai/deployments/summaries/?api-version=2024-10-21",
                server.origin
            ),
            "summaries",
        )
    };
    let summarizer = OpenAiCompatible::new(config).unwrap();
    assert_eq!(
        summarizer.endpoint(),
        format!(
            "{}/openai/deployments/summaries/chat/completions?api-version=2024-10-21",
            server.origin
        )
    );

    let summary = summarizer.summarize(&call()).await.unwrap();
    assert_eq!(summary.expose(), "Azure summary.");
    let seen = server.only_request();
    assert_eq!(seen.path, "/openai/deployments/summaries/chat/completions");
    assert_eq!(seen.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(seen.header("api-key"), Some("azure-key-abc"));
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.json()["model"], "summaries");
}

#[tokio::test]
async fn without_a_key_no_auth_header_is_sent_like_a_local_ollama() {
    let server = Server::start(answer("Local summary.")).await;
    // A trailing slash, as people paste it.
    let config = OpenAiConfig::new(format!("{}/v1/", server.origin), "llama3.1:8b");
    let summary = OpenAiCompatible::new(config)
        .unwrap()
        .summarize(&call())
        .await
        .unwrap();
    assert_eq!(summary.expose(), "Local summary.");
    let seen = server.only_request();
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.header("api-key"), None);
    assert_eq!(seen.json()["model"], "llama3.1:8b");
}

#[tokio::test]
async fn numbers_the_model_echoes_are_redacted_from_the_answer() {
    let server = Server::start(answer(&format!(
        "Reason for call: payment with card {CARD}.\nCaller confirmed SSN {SSN}."
    )))
    .await;
    let summary = server.summarizer().summarize(&call()).await.unwrap();
    assert_eq!(
        *summary.expose(),
        format!(
            "Reason for call: payment with card {CARD_MARKER}.\nCaller confirmed SSN {SSN_MARKER}."
        )
    );
}

#[tokio::test]
async fn a_long_answer_is_cut_to_max_output_chars() {
    let long = "The caller asked about adding a second driver to the auto policy. ".repeat(10);
    let server = Server::start(answer(&long)).await;
    let config = OpenAiConfig {
        max_output_chars: 50,
        ..server.config()
    };
    let summary = OpenAiCompatible::new(config)
        .unwrap()
        .summarize(&call())
        .await
        .unwrap();
    let text = summary.expose();
    assert!(text.chars().count() <= 50, "{} chars", text.chars().count());
    assert!(
        text.starts_with("The caller asked about adding"),
        "{text:?}"
    );
    assert!(text.ends_with('…'), "{text:?}");

    // Multi-byte characters are cut at a character boundary, not a byte.
    let server = Server::start(answer(&"é".repeat(100))).await;
    let config = OpenAiConfig {
        max_output_chars: 10,
        ..server.config()
    };
    let summary = OpenAiCompatible::new(config)
        .unwrap()
        .summarize(&call())
        .await
        .unwrap();
    assert_eq!(summary.expose().chars().count(), 10);
}

#[tokio::test]
async fn statuses_map_to_summary_errors() {
    for (status, expected) in [
        (500, SummaryError::Unavailable),
        (502, SummaryError::Unavailable),
        (503, SummaryError::Unavailable),
        (429, SummaryError::Unavailable),
        (408, SummaryError::Timeout),
        (401, SummaryError::Rejected(401)),
        (400, SummaryError::Rejected(400)),
        (404, SummaryError::Rejected(404)),
    ] {
        let server = Server::start(Reply::Status(status)).await;
        let err = server.summarizer().summarize(&call()).await.unwrap_err();
        assert_eq!(err, expected, "HTTP {status}");
        assert_eq!(server.requests().len(), 1, "HTTP {status}: no retry here");
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = Server::start(Reply::Redirect).await;
    let err = server.summarizer().summarize(&call()).await.unwrap_err();
    assert_eq!(err, SummaryError::Rejected(302));
    let seen = server.requests();
    assert_eq!(seen.len(), 1, "the Location was not followed");
    assert_eq!(seen[0].path, "/v1/chat/completions");
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout_within_the_budget() {
    let server = Server::start(Reply::Hang).await;
    let config = OpenAiConfig {
        timeout: Duration::from_millis(300),
        ..server.config()
    };
    let summarizer = OpenAiCompatible::new(config).unwrap();
    let started = Instant::now();
    let err = summarizer.summarize(&call()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, SummaryError::Timeout);
    assert!(
        took >= Duration::from_millis(250),
        "gave up early: {took:?}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn nobody_listening_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = OpenAiConfig {
        timeout: Duration::from_secs(5),
        ..OpenAiConfig::new(format!("{origin}/v1"), "gpt-test")
    };
    let err = OpenAiCompatible::new(config)
        .unwrap()
        .summarize(&call())
        .await
        .unwrap_err();
    assert_eq!(err, SummaryError::Unavailable);
}

#[tokio::test]
async fn unusable_answers_are_invalid_responses() {
    let oversized = format!(
        r#"{{"choices":[{{"message":{{"role":"assistant","content":"{}"}}}}]}}"#,
        "a".repeat(300 * 1024)
    );
    for body in [
        "{not json".to_owned(),
        "<html>Bad gateway</html>".to_owned(),
        r#"{"choices":[]}"#.to_owned(),
        r#"{"object":"chat.completion"}"#.to_owned(),
        r#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#.to_owned(),
        r#"{"choices":[{"message":{"role":"assistant","content":"   \n "}}]}"#.to_owned(),
        r#"{"choices":[{"message":{"role":"assistant","content":42}}]}"#.to_owned(),
        oversized,
    ] {
        let server = Server::start(Reply::Body(body.clone())).await;
        let err = server.summarizer().summarize(&call()).await.unwrap_err();
        assert!(
            matches!(err, SummaryError::InvalidResponse(_)),
            "{:?} → {err:?}",
            &body[..body.len().min(60)]
        );
    }
}

#[tokio::test]
async fn nothing_to_summarize_makes_no_request() {
    let server = Server::start(answer("should not be asked")).await;
    let summarizer = server.summarizer();

    let empty = summarizer
        .summarize(&SummaryInput::default())
        .await
        .unwrap();
    assert_eq!(empty.expose(), "");
    let blank = SummaryInput {
        transcript: vec![utterance(Speaker::Caller, "  \n ", 0)],
        agent_notes: vec![Pii::new(String::new())],
    };
    assert_eq!(summarizer.summarize(&blank).await.unwrap().expose(), "");
    assert_eq!(server.requests().len(), 0, "no request for an empty call");

    // The same summarizer does ask when there is something to summarize.
    summarizer.summarize(&call()).await.unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn errors_and_debug_output_never_hold_the_key_or_the_call() {
    let server = Server::start(Reply::Status(401)).await;
    let config = server.config();
    let summarizer = OpenAiCompatible::new(config.clone()).unwrap();
    let err = summarizer.summarize(&call()).await.unwrap_err();
    let printed = [
        format!("{err}"),
        format!("{err:?}"),
        format!("{summarizer:?}"),
        format!("{config:?}"),
        format!("{:?}", ApiKey::new(KEY)),
    ];
    for text in &printed {
        for secret in [KEY, CARD, SSN, "auto premium"] {
            assert!(!text.contains(secret), "{secret:?} in {text:?}");
        }
    }
    assert!(printed[2].contains("gpt-test"), "{}", printed[2]);
}

#[test]
fn config_is_checked_once_with_a_clear_error() {
    let check = |base: &str| OpenAiCompatible::new(OpenAiConfig::new(base, "gpt-test"));
    for bad in [
        "ftp://api.example.com/v1",
        "http://api.example.com/v1",
        "http://10.0.0.5:8000/v1",
        "http://192.168.1.20:11434/v1",
        "localhost:11434/v1",
        "/v1",
        "not a url",
        "",
        "https://user:secret@api.openai.com/v1",
        "https://api.openai.com/v1#frag",
    ] {
        assert!(
            matches!(check(bad).unwrap_err(), OpenAiConfigError::BaseUrl(_)),
            "{bad:?}"
        );
    }
    let err = check("http://api.example.com/v1").unwrap_err();
    assert!(err.to_string().contains("https"), "{err}");

    for (good, endpoint) in [
        (
            "https://api.openai.com/v1",
            "https://api.openai.com/v1/chat/completions",
        ),
        (
            "http://localhost:11434/v1",
            "http://localhost:11434/v1/chat/completions",
        ),
        (
            "http://127.0.0.1:8000/v1/",
            "http://127.0.0.1:8000/v1/chat/completions",
        ),
        (
            "http://[::1]:8000/v1",
            "http://[::1]:8000/v1/chat/completions",
        ),
        (
            "https://agency.openai.azure.com/openai/v1",
            "https://agency.openai.azure.com/openai/v1/chat/completions",
        ),
    ] {
        assert_eq!(check(good).unwrap().endpoint(), endpoint);
    }

    let with = |edit: fn(&mut OpenAiConfig)| {
        let mut config = OpenAiConfig::new("https://api.openai.com/v1", "gpt-test");
        edit(&mut config);
        OpenAiCompatible::new(config)
    };
    assert_eq!(
        with(|c| c.model = String::new()).unwrap_err(),
        OpenAiConfigError::Model
    );
    assert_eq!(
        with(|c| c.model = "  ".to_owned()).unwrap_err(),
        OpenAiConfigError::Model
    );
    assert!(matches!(
        with(|c| c.auth = AuthStyle::AzureApiKey).unwrap_err(),
        OpenAiConfigError::ApiKey(_)
    ));
    assert!(matches!(
        with(|c| c.api_key = Some(ApiKey::new(""))).unwrap_err(),
        OpenAiConfigError::ApiKey(_)
    ));
    assert!(matches!(
        with(|c| c.api_key = Some(ApiKey::new("bad\nkey"))).unwrap_err(),
        OpenAiConfigError::ApiKey(_)
    ));
    assert_eq!(
        with(|c| c.timeout = Duration::ZERO).unwrap_err(),
        OpenAiConfigError::Timeout
    );
    assert_eq!(
        with(|c| c.max_output_chars = 0).unwrap_err(),
        OpenAiConfigError::MaxOutputChars
    );
    assert_eq!(
        with(|c| c.model = " gpt-test ".to_owned()).unwrap().model(),
        "gpt-test"
    );

    let defaults = OpenAiConfig::new("https://api.openai.com/v1", "gpt-test");
    assert_eq!(defaults.timeout, Duration::from_secs(20));
    assert_eq!(defaults.max_output_chars, 1_200);
    assert_eq!(defaults.auth, AuthStyle::Bearer);
    assert!(defaults.api_key.is_none());
}
