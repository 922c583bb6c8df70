//! HubSpot: the connector against Prism serving HubSpot's own contacts and calls specs (every
//! search, check and call engagement validated against the vendor's contract), and against
//! in-process fakes for what Prism's random data cannot show: several matches and a free-text hit
//! on another number, the `after` paging cursor, and every way an answer can go wrong (429 with
//! `Retry-After`, 401, 403, 5xx, a body that is not JSON, one over the size limit, a slow one).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ringside_ams::{ActivityNote, AmsConnector, AmsError, AmsKind};
use ringside_core::wire::{Direction, RecordKind};
use ringside_core::{PhoneNumber, Pii};
use serde_json::{Value, json};

use crate::fake::{Fake, Seen, serve};
use crate::prism;

/// The private app token every HubSpot connector here is given.
const CREDENTIALS: &str = r#"{"token":"pat-test"}"#;
/// Where the connector searches.
const SEARCH: &str = "/crm/v3/objects/contacts/search";

fn caller() -> PhoneNumber {
    PhoneNumber::parse("+16175550199").unwrap()
}

fn hubspot(base: &str, timeout: Duration) -> Box<dyn AmsConnector> {
    crate::connector(AmsKind::Hubspot, base, CREDENTIALS, timeout)
}

/// A HubSpot contact as the search returns it; `None` properties come back as JSON `null`, the
/// way HubSpot answers a requested property the contact has no value for.
fn contact(
    id: &str,
    (first, last): (&str, &str),
    phone: Option<&str>,
    mobile: Option<&str>,
    stage: &str,
) -> Value {
    json!({
        "id": id,
        "properties": {
            "firstname": first,
            "lastname": last,
            "phone": phone,
            "mobilephone": mobile,
            "lifecyclestage": stage,
            "hs_object_id": id,
        },
        "createdAt": "2026-01-05T10:00:00Z",
        "updatedAt": "2026-11-20T16:30:00Z",
        "archived": false,
    })
}

/// What the search fake saw: each request's URI and `Authorization`, and each JSON body.
#[derive(Debug, Clone, Default)]
struct Searches {
    seen: Seen,
    bodies: Arc<Mutex<Vec<Value>>>,
    /// The answer to the n-th search; the last one repeats.
    pages: Arc<Vec<Value>>,
}

impl Searches {
    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

async fn search_page(
    State(state): State<Searches>,
    uri: Uri,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    state.seen.record(&uri, &headers);
    let n = {
        let mut bodies = state.bodies.lock().unwrap();
        bodies.push(body);
        bodies.len() - 1
    };
    let page = state.pages.get(n).or(state.pages.last()).unwrap();
    axum::Json(page.clone())
}

/// A fake HubSpot whose search answers `pages`, one per request (the last one repeating).
async fn search_fake(pages: Vec<Value>) -> (Fake, Searches) {
    let state = Searches {
        pages: Arc::new(pages),
        ..Searches::default()
    };
    let router = Router::new()
        .route(SEARCH, post(search_page))
        .with_state(state.clone());
    (serve(router).await, state)
}

/// A fake HubSpot that answers every request with `answer` after `delay`.
async fn answering(delay: Duration, answer: fn() -> Response) -> Fake {
    let router = Router::new().fallback(move || async move {
        tokio::time::sleep(delay).await;
        answer()
    });
    serve(router).await
}

/// The search's error with a fake answering `answer`; checks it names no number.
async fn lookup_error(answer: fn() -> Response) -> AmsError {
    let fake = answering(Duration::ZERO, answer).await;
    let err = hubspot(&fake.base, Duration::from_secs(5))
        .lookup_by_phone(&caller())
        .await
        .unwrap_err();
    assert!(!format!("{err}").contains("555"), "{err}");
    assert!(!format!("{err:?}").contains("555"), "{err:?}");
    err
}

fn ids(found: &[ringside_core::wire::Contact]) -> Vec<&str> {
    found.iter().map(|c| c.id.as_str()).collect()
}

#[tokio::test]
async fn a_phone_search_passes_hubspots_contacts_contract() {
    let prism = prism::start("hubspot/contacts-v3.json", true).await;
    let found = hubspot(&prism.base, Duration::from_secs(10))
        .lookup_by_phone(&caller())
        .await;
    prism.settle().await;
    prism.assert_no_violations("a HubSpot search by phone");
    // Prism's random contacts carry random phones, so the re-check usually drops them all; what
    // matters is that its schema-shaped answer is read, not refused.
    let found = found.unwrap();
    for contact in &found {
        assert!(!contact.id.is_empty());
    }
}

#[tokio::test]
async fn the_connection_check_passes_hubspots_contacts_contract() {
    let prism = prism::start("hubspot/contacts-v3.json", true).await;
    let checked = hubspot(&prism.base, Duration::from_secs(10)).check().await;
    prism.settle().await;
    prism.assert_no_violations("the HubSpot connection check");
    checked.unwrap();
}

#[tokio::test]
async fn a_call_engagement_passes_hubspots_calls_contract_and_returns_its_id() {
    let prism = prism::start("hubspot/calls-v3.json", true).await;
    let note = ActivityNote {
        record_id: "101".to_owned(),
        record_kind: RecordKind::Contact,
        subject: "Inbound call, answered, 1 min 35 s".to_owned(),
        body: Pii::new(
            "Caller asked about adding a driver to the auto policy.\nAgent: will send the form."
                .to_owned(),
        ),
        started_at: time::macros::datetime!(2026-12-03 15:04:05 UTC),
        duration_secs: Some(95),
        direction: Direction::Inbound,
        reference: "call_00000000000000000000000000000001".to_owned(),
    };
    let written = hubspot(&prism.base, Duration::from_secs(10))
        .write_activity(&note)
        .await;
    prism.settle().await;
    prism.assert_no_violations("a HubSpot call engagement");
    let written = written.unwrap();
    assert!(!written.id.is_empty(), "the call's id");

    // After a crash mid-write, the sync asks for the note by its reference: a search the
    // vendor's contract accepts, answered with the engagement's id.
    let found = hubspot(&prism.base, Duration::from_secs(10))
        .find_activity(&note)
        .await;
    prism.settle().await;
    prism.assert_no_violations("a HubSpot search for a written call");
    found.expect("Prism's answer parses (its content is generated: what it means is tested below)");
}

/// JSON bodies a fake saw, or will answer.
type Bodies = Arc<Mutex<Vec<Value>>>;

#[tokio::test]
async fn a_note_already_written_is_found_by_its_reference_and_an_archived_one_is_not() {
    let seen: Bodies = Arc::default();
    let answers: Bodies = Arc::new(Mutex::new(vec![
        json!({"total": 0, "results": []}),
        json!({"total": 2, "results": [
            {"id": "c-1", "properties": {}, "archived": true},
            {"id": "c-2", "properties": {}, "archived": false},
        ]}),
    ]));
    let router = Router::new()
        .route(
            "/crm/v3/objects/calls/search",
            post(
                |State((seen, answers)): State<(Bodies, Bodies)>,
                 axum::Json(body): axum::Json<Value>| async move {
                    seen.lock().unwrap().push(body);
                    axum::Json(answers.lock().unwrap().remove(0))
                },
            ),
        )
        .with_state((Arc::clone(&seen), answers));
    let fake = serve(router).await;
    let note = ActivityNote {
        record_id: "101".to_owned(),
        record_kind: RecordKind::Contact,
        subject: "Inbound call".to_owned(),
        body: Pii::new("Ringside ref: call_42\n".to_owned()),
        started_at: time::macros::datetime!(2026-12-03 15:04:05 UTC),
        duration_secs: None,
        direction: Direction::Inbound,
        reference: "call_42".to_owned(),
    };
    let hubspot = hubspot(&fake.base, Duration::from_secs(5));
    assert_eq!(
        hubspot.find_activity(&note).await.unwrap(),
        None,
        "not written"
    );
    let found = hubspot.find_activity(&note).await.unwrap();
    assert_eq!(
        found.map(|f| f.id).as_deref(),
        Some("c-2"),
        "the archived one is skipped"
    );
    let filter = &seen.lock().unwrap()[0]["filterGroups"][0]["filters"][0];
    assert_eq!(
        (
            filter["propertyName"].as_str(),
            filter["operator"].as_str(),
            filter["value"].as_str()
        ),
        (
            Some("hs_call_body"),
            Some("CONTAINS_TOKEN"),
            Some("call_42")
        ),
        "searched by the reference only: {filter}"
    );
}

#[tokio::test]
async fn only_contacts_that_store_the_number_are_kept_clients_first() {
    // The lead comes first in HubSpot's answer, so the ranking (clients first) is what puts the
    // customer ahead; the (508) contact is a free-text hit on another number.
    let (fake, searches) = search_fake(vec![json!({
        "total": 3,
        "results": [
            contact("102", ("Casey", "Lead"), None, Some("+1 617 555 0199"), "lead"),
            contact("103", ("Morgan", "Elsewhere"), Some("(508) 555-0199"), None, "customer"),
            contact("101", ("Robin", "Customer"), Some("(617) 555-0199"), None, "customer"),
        ],
    })])
    .await;
    let found = hubspot(&fake.base, Duration::from_secs(5))
        .lookup_by_phone(&caller())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["101", "102"], "the (508) number is dropped");
    assert_eq!(found[0].kind, RecordKind::Client, "lifecyclestage customer");
    assert_eq!(found[0].name.expose(), "Robin Customer");
    assert_eq!(found[1].kind, RecordKind::Prospect, "lifecyclestage lead");
    assert_eq!(found[1].name.expose(), "Casey Lead");

    let bodies = searches.bodies();
    assert_eq!(bodies.len(), 1, "one search request");
    let body = &bodies[0];
    let groups = body["filterGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 4, "digits ×2, typed spellings ×2: {body}");
    assert_eq!(
        groups[0]["filters"][0]["value"], "6175550199",
        "the computed digits"
    );
    assert_eq!(body["after"], "0", "`after` is required by the spec");
    assert!(body["sorts"].is_array(), "`sorts` is required by the spec");
    let requests = searches.seen.to(SEARCH);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].1.as_deref(), Some("Bearer pat-test"));
}

#[tokio::test]
async fn a_second_page_is_asked_for_with_the_after_cursor_and_both_are_kept() {
    let (fake, searches) = search_fake(vec![
        json!({
            "total": 2,
            "results": [contact("101", ("Robin", "Customer"), Some("617-555-0199"), None, "customer")],
            "paging": {"next": {"after": "100", "link": "?after=100"}},
        }),
        json!({
            "total": 2,
            "results": [contact("102", ("Casey", "Lead"), None, Some("6175550199"), "lead")],
        }),
    ])
    .await;
    let found = hubspot(&fake.base, Duration::from_secs(5))
        .lookup_by_phone(&caller())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["101", "102"], "matches of both pages");
    let afters: Vec<Value> = searches
        .bodies()
        .iter()
        .map(|b| b["after"].clone())
        .collect();
    assert_eq!(
        afters,
        [json!("0"), json!("100")],
        "two requests, then stop"
    );
}

#[tokio::test]
async fn paging_stops_after_the_most_pages_read() {
    let (fake, searches) = search_fake(vec![json!({
        "total": 10_000,
        "results": [],
        "paging": {"next": {"after": "100"}},
    })])
    .await;
    let found = hubspot(&fake.base, Duration::from_secs(5))
        .lookup_by_phone(&caller())
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(
        searches.bodies().len(),
        ringside_ams::hubspot::MAX_PAGES as usize,
        "an endless cursor is not followed forever"
    );
}

#[tokio::test]
async fn a_429_is_rate_limited_with_its_retry_after() {
    let err = lookup_error(|| {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "7")],
            axum::Json(json!({"status": "error", "category": "RATE_LIMITS"})),
        )
            .into_response()
    })
    .await;
    assert_eq!(
        err,
        AmsError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
}

#[tokio::test]
async fn a_401_is_a_credentials_error() {
    let err = lookup_error(|| StatusCode::UNAUTHORIZED.into_response()).await;
    assert_eq!(err, AmsError::Credentials);
}

#[tokio::test]
async fn a_403_is_a_missing_permission() {
    let err = lookup_error(|| StatusCode::FORBIDDEN.into_response()).await;
    assert_eq!(err, AmsError::Forbidden);
}

#[tokio::test]
async fn a_503_is_unavailable() {
    let err = lookup_error(|| StatusCode::SERVICE_UNAVAILABLE.into_response()).await;
    assert_eq!(err, AmsError::Unavailable);
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_an_invalid_response() {
    let err = lookup_error(|| {
        (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Robin Customer (617) 555-0199</body></html>",
        )
            .into_response()
    })
    .await;
    assert!(matches!(err, AmsError::InvalidResponse(_)), "{err:?}");
    assert!(!format!("{err}").contains("Robin"), "{err}");
}

#[tokio::test]
async fn an_answer_over_the_size_limit_is_an_invalid_response() {
    // Valid search JSON of 2 MiB: only its size is wrong (the default limit is 1 MiB).
    let err = lookup_error(|| {
        let pad = "x".repeat(2 * 1024 * 1024);
        axum::Json(json!({"total": 0, "results": [], "pad": pad})).into_response()
    })
    .await;
    assert!(matches!(err, AmsError::InvalidResponse(_)), "{err:?}");
}

#[tokio::test]
async fn a_slow_answer_times_out_within_the_budget() {
    let fake = answering(Duration::from_secs(2), || {
        axum::Json(json!({"total": 0, "results": []})).into_response()
    })
    .await;
    let started = Instant::now();
    let err = hubspot(&fake.base, Duration::from_millis(300))
        .lookup_by_phone(&caller())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, AmsError::Timeout);
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert!(!format!("{err}").contains("555"), "{err}");
}
