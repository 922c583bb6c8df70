//! The Applied Epic connector: against Prism on Applied's own specs (behind the gateway) for the
//! contract — the search, the activity and its further notes must pass Prism's validation, and
//! the spec's error answers must map to the right [`AmsError`] — and against fakes for what the
//! specs do not show: paging, a token the AMS stops accepting, slow, huge and broken answers, 429.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use ringside_ams::{ActivityNote, AmsError, AmsKind};
use ringside_core::wire::{Direction, RecordKind};
use ringside_core::{PhoneNumber, Pii};
use serde_json::{Value, json};

use crate::fake::{Seen, serve};
use crate::gateway::{CREDENTIALS, Gateway};

const BUDGET: Duration = Duration::from_secs(5);

fn note(body: String) -> ActivityNote {
    ActivityNote {
        record_id: "03de6e6d-7d02-4ef4-aea4-dcfc4f9709da".to_owned(),
        record_kind: RecordKind::Client,
        subject: "Inbound call, answered, 1 min 35 s".to_owned(),
        body: Pii::new(body),
        started_at: time::macros::datetime!(2026-12-03 10:00 UTC),
        duration_secs: Some(95),
        direction: Direction::Inbound,
        reference: "call_00000000000000000000000000000001".to_owned(),
    }
}

#[tokio::test]
async fn a_search_by_phone_passes_the_vendors_contract_and_finds_the_client_and_the_contact() {
    let gateway = Gateway::start().await;
    // The spec's example of a search with `expand=matchedResults`: two accounts whose matched
    // records carry +15555555555 — Jane Doe herself, and a contact person on John Doe's account.
    gateway.prefer("epic/account/v1", "example=searchResponseWithExpand");
    let epic = crate::connector(AmsKind::AppliedEpic, &gateway.base, CREDENTIALS, BUDGET);
    let number = PhoneNumber::parse("+15555555555").unwrap();

    let found = epic.lookup_by_phone(&number).await.unwrap();

    gateway.assert_no_violations("a search by phone").await;
    let shown: Vec<(&str, RecordKind, &str)> = found
        .iter()
        .map(|c| (c.id.as_str(), c.kind, c.name.expose().as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            (
                "03de6e6d-7d02-4ef4-aea4-dcfc4f9709da",
                RecordKind::Client,
                "Jane Doe"
            ),
            (
                "497f6eca-6276-4993-bfeb-53cbbbba6f08",
                RecordKind::Contact,
                "John Doe"
            ),
        ],
        "the client itself before the contact person on another account"
    );
    assert_eq!(gateway.grants(), 1);
}

#[tokio::test]
async fn an_activity_with_a_long_note_passes_the_contract_and_continues_in_further_notes() {
    let gateway = Gateway::start().await;
    let epic = crate::connector(AmsKind::AppliedEpic, &gateway.base, CREDENTIALS, BUDGET);
    let transcript = "Agent: Good morning, how can I help?\n".repeat(400); // ~15k characters

    let written = epic.write_activity(&note(transcript)).await.unwrap();

    gateway
        .assert_no_violations("the CALL code, the activity and its further note")
        .await;
    assert!(!written.id.is_empty(), "the activity's id: {written:?}");
    assert!(
        epic.check().await.is_ok(),
        "the test request is the CALL code lookup"
    );
}

#[tokio::test]
async fn the_specs_error_answers_map_to_credentials_forbidden_and_rejected() {
    let gateway = Gateway::start().await;
    let epic = crate::connector(AmsKind::AppliedEpic, &gateway.base, CREDENTIALS, BUDGET);
    let number = PhoneNumber::parse("+15555555555").unwrap();
    for (prefer, want) in [
        ("code=401", AmsError::Credentials),
        ("code=403", AmsError::Forbidden),
        ("code=400", AmsError::Rejected(400)),
    ] {
        gateway.prefer("epic/account/v1", prefer);
        let err = epic.lookup_by_phone(&number).await.unwrap_err();
        assert_eq!(err, want, "Prism answering the spec's {prefer}");
        assert!(!err.to_string().contains("5555"), "no number in {err}");
    }
    assert_eq!(
        gateway.grants(),
        2,
        "the 401 made the connector fetch one fresh token and try once more, no more"
    );
    gateway.prefer("workflow-management/v1", "code=403");
    assert_eq!(
        epic.write_activity(&note("x".to_owned()))
            .await
            .unwrap_err(),
        AmsError::Forbidden
    );
}

#[tokio::test]
async fn wrong_client_credentials_are_a_credentials_failure() {
    let gateway = Gateway::start().await;
    let wrong = r#"{"client_id":"ringside-test","client_secret":"nope"}"#;
    let epic = crate::connector(AmsKind::AppliedEpic, &gateway.base, wrong, BUDGET);
    let number = PhoneNumber::parse("+15555555555").unwrap();
    assert_eq!(
        epic.lookup_by_phone(&number).await.unwrap_err(),
        AmsError::Credentials
    );
}

/// A fake Epic whose search answers `page` for each request; tokens are counted.
async fn fake_epic(
    search: impl Fn(usize, &Uri) -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (crate::fake::Fake, Seen, Arc<AtomicUsize>) {
    let seen = Seen::default();
    let grants = Arc::new(AtomicUsize::new(0));
    let searches = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route(
            "/v1/auth/connect/token",
            post({
                let grants = Arc::clone(&grants);
                move || async move {
                    let n = grants.fetch_add(1, Ordering::SeqCst) + 1;
                    axum::Json(json!({"access_token": format!("t{n}"), "expires_in": 3600}))
                }
            }),
        )
        .route(
            "/epic/account/v1/accounts/search",
            get({
                let seen = seen.clone();
                move |uri: Uri, headers: HeaderMap| async move {
                    seen.record(&uri, &headers);
                    search(searches.fetch_add(1, Ordering::SeqCst), &uri)
                }
            }),
        );
    (serve(router).await, seen, grants)
}

fn account(id: &str, name: &str, number: &str) -> Value {
    json!({"id": id, "type": "CLIENT", "name": name, "active": true,
           "matchedResults": [{"id": id, "type": "CLIENT", "phoneNumbers": [{"number": number}]}]})
}

fn page(total: usize, accounts: Vec<Value>) -> axum::response::Response {
    axum::Json(json!({"total": total, "_embedded": {"accounts": accounts}})).into_response()
}

#[tokio::test]
async fn a_number_on_more_than_a_page_of_accounts_is_read_page_by_page() {
    let (fake, seen, _) = fake_epic(|n, _| {
        let size = if n == 0 { 100 } else { 3 };
        let accounts = (0..size)
            .map(|i| account(&format!("acc-{n}-{i}"), "Shared Line", "+16175550100"))
            .collect();
        page(103, accounts)
    })
    .await;
    let epic = crate::connector(AmsKind::AppliedEpic, &fake.base, CREDENTIALS, BUDGET);
    let found = epic
        .lookup_by_phone(&PhoneNumber::parse("+16175550100").unwrap())
        .await
        .unwrap();
    assert_eq!(found.len(), 103, "every account on both pages");
    let asked = seen.to("/epic/account/v1/accounts/search");
    assert_eq!(asked.len(), 2);
    assert!(asked[1].0.contains("offset=100"), "{asked:?}");
    assert!(
        asked[0].0.contains("phoneNumber=%2B16175550100")
            && asked[0].0.contains("expand=matchedResults"),
        "the number in E.164, with the matched records: {asked:?}"
    );
}

#[tokio::test]
async fn the_token_is_reused_until_the_ams_refuses_it_then_renewed_once() {
    let (fake, seen, grants) = fake_epic(|n, _| {
        if n == 1 {
            StatusCode::UNAUTHORIZED.into_response() // the AMS revoked the token
        } else {
            page(0, Vec::new())
        }
    })
    .await;
    let epic = crate::connector(AmsKind::AppliedEpic, &fake.base, CREDENTIALS, BUDGET);
    let number = PhoneNumber::parse("+16175550100").unwrap();
    assert!(epic.lookup_by_phone(&number).await.unwrap().is_empty());
    assert!(epic.lookup_by_phone(&number).await.unwrap().is_empty());
    assert_eq!(
        grants.load(Ordering::SeqCst),
        2,
        "one grant, then one after the 401"
    );
    let tokens: Vec<Option<String>> = seen.to("/epic").into_iter().map(|(_, a)| a).collect();
    assert_eq!(
        tokens,
        [
            Some("Bearer t1".into()),
            Some("Bearer t1".into()),
            Some("Bearer t2".into())
        ]
    );
}

#[tokio::test]
async fn slow_huge_broken_and_limited_answers_fail_with_their_own_reason() {
    let router = Router::new().route(
        "/epic/account/v1/accounts/search",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "{}"
        }),
    );
    let slow_search = serve(router.merge(token_only())).await;
    let number = PhoneNumber::parse("+16175550100").unwrap();
    let epic = crate::connector(
        AmsKind::AppliedEpic,
        &slow_search.base,
        CREDENTIALS,
        Duration::from_millis(300),
    );
    let started = Instant::now();
    assert_eq!(
        epic.lookup_by_phone(&number).await.unwrap_err(),
        AmsError::Timeout
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "within the budget"
    );

    let cases: Vec<(axum::response::Response, AmsError)> = vec![
        (
            "x".repeat(2 * 1024 * 1024).into_response(),
            AmsError::InvalidResponse("the answer is larger than the limit"),
        ),
        (
            "{not json".into_response(),
            AmsError::InvalidResponse("not the JSON this AMS documents"),
        ),
        (
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "7")]).into_response(),
            AmsError::RateLimited {
                retry_after: Some(Duration::from_secs(7)),
            },
        ),
        (
            StatusCode::SERVICE_UNAVAILABLE.into_response(),
            AmsError::Unavailable,
        ),
    ];
    for (answer, want) in cases {
        let answer = Arc::new(std::sync::Mutex::new(Some(answer)));
        let (fake, ..) = fake_epic(move |_, _| answer.lock().unwrap().take().unwrap()).await;
        let epic = crate::connector(AmsKind::AppliedEpic, &fake.base, CREDENTIALS, BUDGET);
        assert_eq!(epic.lookup_by_phone(&number).await.unwrap_err(), want);
    }
}

fn token_only() -> Router {
    Router::new().route(
        "/v1/auth/connect/token",
        post(|| async { axum::Json(json!({"access_token": "t", "expires_in": 3600})) }),
    )
}

#[tokio::test]
async fn an_unreachable_ams_is_unavailable_and_the_error_names_no_number() {
    let epic = crate::connector(
        AmsKind::AppliedEpic,
        "http://127.0.0.1:9",
        CREDENTIALS,
        BUDGET,
    );
    let err = epic
        .lookup_by_phone(&PhoneNumber::parse("+16175550100").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, AmsError::Unavailable);
    assert!(!format!("{err} {err:?}").contains("555"));
}
