//! NowCerts: the connector against a fake built from the documented request and answer shapes
//! (`ams-apis.md` §3; NowCerts publishes no OpenAPI file): the form-encoded password grant and
//! its refusal, the token cached across lookups and renewed once on a 401, the OData
//! `InsuredDetailList` search with its free-text phones re-checked (padded, with an extension, a
//! longer number that `contains` also hits), names and kinds and ranking, and
//! `Zapier/InsertNote` confirmed or not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ringside_ams::{ActivityNote, ActivityRef, AmsConnector, AmsError, AmsKind};
use ringside_core::wire::{Direction, RecordKind};
use ringside_core::{PhoneNumber, Pii};
use serde_json::{Value, json};

use crate::fake::{Fake, Seen, serve};

const USERNAME: &str = "api.user@agency.test";
const PASSWORD: &str = "right-password";
const TOKEN: &str = "/api/token";
const LIST: &str = "/api/InsuredDetailList";
const INSERT_NOTE: &str = "/api/Zapier/InsertNote";

const PADDED: &str = "a1b2c3d4-0000-4000-8000-000000000001";
const EXTENSION: &str = "a1b2c3d4-0000-4000-8000-000000000002";
const SUBSTRING: &str = "a1b2c3d4-0000-4000-8000-000000000003";
const PROSPECT: &str = "a1b2c3d4-0000-4000-8000-000000000004";
const INACTIVE: &str = "a1b2c3d4-0000-4000-8000-000000000005";

fn caller() -> PhoneNumber {
    PhoneNumber::parse("+16175550199").unwrap()
}

fn nowcerts(base: &str, password: &str) -> Box<dyn AmsConnector> {
    let credentials = json!({"username": USERNAME, "password": password}).to_string();
    crate::connector(
        AmsKind::Nowcerts,
        base,
        &credentials,
        Duration::from_secs(5),
    )
}

/// An insured as `InsuredDetailList` returns it.
fn insured(
    id: &str,
    (first, last, commercial): (Option<&str>, Option<&str>, Option<&str>),
    kind: &str,
    active: bool,
    (phone, cell, sms): (Option<&str>, Option<&str>, Option<&str>),
) -> Value {
    json!({
        "id": id,
        "firstName": first,
        "lastName": last,
        "commercialName": commercial,
        "type": kind,
        "active": active,
        "eMail": null,
        "phone": phone,
        "cellPhone": cell,
        "smsPhone": sms,
        "insuredId": null,
        "changeDate": "2026-11-20T16:30:00",
    })
}

/// The search's answer: the inactive insured and the prospect first, so the ranking is what
/// orders the matches.
fn insureds() -> Value {
    let values = vec![
        insured(
            INACTIVE,
            (Some("Sam"), Some("Lapsed"), None),
            "Insured",
            false,
            (None, None, Some("6175550199")),
        ),
        insured(
            PROSPECT,
            (Some("Casey"), Some("Prospect"), None),
            "Prospect",
            true,
            (None, Some("(617) 555-0199"), None),
        ),
        insured(
            SUBSTRING,
            (Some("Morgan"), Some("Elsewhere"), None),
            "Insured",
            true,
            (Some("1617555019999"), None, None),
        ),
        insured(
            PADDED,
            (Some("Jordan"), Some("Insured"), None),
            "Insured",
            true,
            (Some("617-555-0199   "), None, None),
        ),
        insured(
            EXTENSION,
            (Some(""), Some(""), Some("Harbor Bakery LLC")),
            "Insured",
            true,
            (Some("617-555-0199 Ext. 3"), None, None),
        ),
    ];
    json!({"@odata.count": values.len(), "value": values})
}

/// A fake NowCerts and what it saw.
#[derive(Debug, Clone)]
struct Nowcerts {
    seen: Seen,
    /// Each token request's form.
    grants: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// Each list request's query, decoded.
    lists: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// Each note's JSON body.
    notes: Arc<Mutex<Vec<Value>>>,
    /// How many list requests are answered 401 before the list is served.
    refused_lists: usize,
    /// What `InsertNote` answers.
    note_answer: Arc<Value>,
}

impl Nowcerts {
    fn new(refused_lists: usize, note_answer: Value) -> Self {
        Self {
            seen: Seen::default(),
            grants: Arc::default(),
            lists: Arc::default(),
            notes: Arc::default(),
            refused_lists,
            note_answer: Arc::new(note_answer),
        }
    }

    fn grants(&self) -> Vec<HashMap<String, String>> {
        self.grants.lock().unwrap().clone()
    }

    fn lists(&self) -> Vec<HashMap<String, String>> {
        self.lists.lock().unwrap().clone()
    }

    fn notes(&self) -> Vec<Value> {
        self.notes.lock().unwrap().clone()
    }

    /// Whether `headers` carry a token this fake issued.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let issued = self.grants.lock().unwrap().len();
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer tok-"))
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| (1..=issued).contains(&n))
    }
}

async fn token(
    State(fake): State<Nowcerts>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    fake.seen.record(&uri, &headers);
    let valid = form.get("grant_type").map(String::as_str) == Some("password")
        && form.get("client_id").map(String::as_str) == Some("ngAuthApp")
        && form.get("username").map(String::as_str) == Some(USERNAME)
        && form.get("password").map(String::as_str) == Some(PASSWORD);
    let n = {
        let mut grants = fake.grants.lock().unwrap();
        grants.push(form);
        grants.len()
    };
    if !valid {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "The user name or password is incorrect."})),
        )
            .into_response();
    }
    Json(json!({
        "access_token": format!("tok-{n}"),
        "token_type": "bearer",
        "expires_in": 86_400,
        "refresh_token": "refresh-1",
        "agencyId": "b5e2c6a0-0000-4000-8000-00000000a9e1",
        "userId": "b5e2c6a0-0000-4000-8000-00000000u5e1",
    }))
    .into_response()
}

async fn list(
    State(fake): State<Nowcerts>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    fake.seen.record(&uri, &headers);
    let n = {
        let mut lists = fake.lists.lock().unwrap();
        lists.push(query);
        lists.len()
    };
    if n <= fake.refused_lists || !fake.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(insureds()).into_response()
}

async fn insert_note(
    State(fake): State<Nowcerts>,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    fake.seen.record(&uri, &headers);
    fake.notes.lock().unwrap().push(body);
    if !fake.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json((*fake.note_answer).clone()).into_response()
}

async fn start(fake: &Nowcerts) -> Fake {
    let router = Router::new()
        .route(TOKEN, post(token))
        .route(LIST, get(list))
        .route(INSERT_NOTE, post(insert_note))
        .with_state(fake.clone());
    serve(router).await
}

fn confirmed() -> Value {
    json!({"status": 1, "data": {"database_id": "n-77", "insured_database_id": PADDED}, "message": "ok"})
}

fn note() -> ActivityNote {
    ActivityNote {
        record_id: PADDED.to_owned(),
        record_kind: RecordKind::Client,
        subject: "Inbound call, answered, 1 min 35 s".to_owned(),
        body: Pii::new(
            "Jordan Insured asked to add a driver; call back on 617-555-0142.".to_owned(),
        ),
        started_at: time::macros::datetime!(2026-12-03 15:04:05 UTC),
        duration_secs: Some(95),
        direction: Direction::Inbound,
        reference: "call_00000000000000000000000000000001".to_owned(),
    }
}

fn no_pii(err: &AmsError) {
    for text in [format!("{err}"), format!("{err:?}")] {
        for secret in ["555", "Jordan", "Insured asked", PASSWORD] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

#[tokio::test]
async fn the_token_is_a_form_encoded_password_grant_for_ngauthapp() {
    let fake = Nowcerts::new(0, confirmed());
    let server = start(&fake).await;
    nowcerts(&server.base, PASSWORD).check().await.unwrap();
    let grants = fake.grants();
    assert_eq!(grants.len(), 1);
    let form = &grants[0];
    assert_eq!(form["grant_type"], "password");
    assert_eq!(form["username"], USERNAME);
    assert_eq!(form["password"], PASSWORD);
    assert_eq!(form["client_id"], "ngAuthApp");
    assert_eq!(form.len(), 4, "nothing else: {:?}", form.keys());
}

#[tokio::test]
async fn a_wrong_password_is_a_credentials_error_and_nothing_is_searched() {
    let fake = Nowcerts::new(0, confirmed());
    let server = start(&fake).await;
    let connector = nowcerts(&server.base, "wrong-password");
    let checked = connector.check().await.unwrap_err();
    assert_eq!(checked, AmsError::Credentials);
    let looked_up = connector.lookup_by_phone(&caller()).await.unwrap_err();
    assert_eq!(looked_up, AmsError::Credentials);
    no_pii(&looked_up);
    assert!(
        !format!("{looked_up}").contains("wrong-password"),
        "{looked_up}"
    );
    assert!(fake.lists().is_empty(), "no list request without a token");
}

#[tokio::test]
async fn the_search_ors_contains_over_the_phone_fields_and_counts() {
    let fake = Nowcerts::new(0, confirmed());
    let server = start(&fake).await;
    nowcerts(&server.base, PASSWORD)
        .lookup_by_phone(&caller())
        .await
        .unwrap();
    let lists = fake.lists();
    assert_eq!(lists.len(), 1);
    let query = &lists[0];
    let filter = &query["$filter"];
    for clause in [
        "contains(phone,'617-555-0199')",
        "contains(cellPhone,'617-555-0199')",
        "contains(smsPhone,'617-555-0199')",
        "contains(phone,'6175550199')",
    ] {
        assert!(filter.contains(clause), "{clause} in {filter}");
    }
    assert!(filter.contains(" or "), "{filter}");
    let top: u32 = query["$top"].parse().unwrap();
    assert!(
        (1..=ringside_ams::nowcerts::MAX_RESULTS).contains(&top),
        "$top={top}"
    );
    assert_eq!(query["$count"], "true");
    let requests = fake.seen.to(LIST);
    assert_eq!(requests[0].1.as_deref(), Some("Bearer tok-1"));
}

#[tokio::test]
async fn free_text_phones_are_rechecked_named_and_ranked() {
    let fake = Nowcerts::new(0, confirmed());
    let server = start(&fake).await;
    let found = nowcerts(&server.base, PASSWORD)
        .lookup_by_phone(&caller())
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
    // Active clients (in NowCerts' order), then the prospect, then the inactive insured; the
    // `contains` hit on 1617555019999 is dropped.
    assert_eq!(ids, [PADDED, EXTENSION, PROSPECT, INACTIVE]);
    let by_id = |id: &str| found.iter().find(|c| c.id == id).unwrap();
    assert_eq!(by_id(PADDED).name.expose(), "Jordan Insured");
    assert_eq!(by_id(PADDED).kind, RecordKind::Client);
    assert_eq!(
        by_id(EXTENSION).name.expose(),
        "Harbor Bakery LLC",
        "a commercial insured shows its commercial name"
    );
    assert_eq!(by_id(PROSPECT).kind, RecordKind::Prospect);
    assert_eq!(by_id(PROSPECT).name.expose(), "Casey Prospect");
    assert_eq!(by_id(INACTIVE).kind, RecordKind::Client);
}

#[tokio::test]
async fn two_lookups_with_one_connector_ask_for_one_token() {
    let fake = Nowcerts::new(0, confirmed());
    let server = start(&fake).await;
    let connector = nowcerts(&server.base, PASSWORD);
    for _ in 0..2 {
        assert_eq!(connector.lookup_by_phone(&caller()).await.unwrap().len(), 4);
    }
    assert_eq!(fake.grants().len(), 1, "the token is cached");
    let auths: Vec<Option<String>> = fake.seen.to(LIST).into_iter().map(|r| r.1).collect();
    assert_eq!(
        auths,
        [
            Some("Bearer tok-1".to_owned()),
            Some("Bearer tok-1".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_and_the_lookup_retried() {
    let fake = Nowcerts::new(1, confirmed());
    let server = start(&fake).await;
    let found = nowcerts(&server.base, PASSWORD)
        .lookup_by_phone(&caller())
        .await
        .unwrap();
    assert_eq!(found.len(), 4);
    assert_eq!(fake.grants().len(), 2, "a fresh token after the 401");
    let auths: Vec<Option<String>> = fake.seen.to(LIST).into_iter().map(|r| r.1).collect();
    assert_eq!(
        auths,
        [
            Some("Bearer tok-1".to_owned()),
            Some("Bearer tok-2".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_token_refused_twice_is_a_credentials_error_without_more_retries() {
    let fake = Nowcerts::new(usize::MAX, confirmed());
    let server = start(&fake).await;
    let err = nowcerts(&server.base, PASSWORD)
        .lookup_by_phone(&caller())
        .await
        .unwrap_err();
    assert_eq!(err, AmsError::Credentials);
    no_pii(&err);
    assert_eq!(fake.grants().len(), 2);
    assert_eq!(fake.lists().len(), 2, "one retry, no more");
}

#[tokio::test]
async fn a_note_is_inserted_on_the_insured_and_its_id_returned() {
    let fake = Nowcerts::new(0, confirmed());
    let server = start(&fake).await;
    let note = note();
    let written = nowcerts(&server.base, PASSWORD)
        .write_activity(&note)
        .await
        .unwrap();
    assert_eq!(
        written,
        ActivityRef {
            id: "n-77".to_owned()
        }
    );
    let notes = fake.notes();
    assert_eq!(notes.len(), 1);
    let body = &notes[0];
    assert_eq!(body["insured_database_id"], PADDED);
    let subject = body["subject"].as_str().unwrap();
    assert!(subject.contains(&note.subject), "{subject}");
    assert!(subject.contains(note.body.expose().as_str()), "{subject}");
    let requests = fake.seen.to(INSERT_NOTE);
    assert_eq!(requests[0].1.as_deref(), Some("Bearer tok-1"));
}

#[tokio::test]
async fn a_note_nowcerts_does_not_confirm_is_an_invalid_response() {
    let fake = Nowcerts::new(0, json!({"status": 0, "message": "Insured not found"}));
    let server = start(&fake).await;
    let err = nowcerts(&server.base, PASSWORD)
        .write_activity(&note())
        .await
        .unwrap_err();
    assert!(matches!(err, AmsError::InvalidResponse(_)), "{err:?}");
    no_pii(&err);
    assert!(
        !format!("{err}").contains("Insured not found"),
        "the AMS's words are not repeated: {err}"
    );
    assert_eq!(fake.notes().len(), 1);
}
