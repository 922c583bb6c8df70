//! Transcripts a provider keeps in its API: Dialpad announces a call's AI transcript
//! (`call_transcription`) and serves it at `GET /api/v2/transcripts/{call_id}`. With the
//! integration's API key set, the relay fetches it from a stand-in built from Dialpad's spec
//! (its example answer's shape), with the key in the `Authorization` header only, and the lines
//! land in the call's one note; without a key nothing is fetched.

use std::sync::{Arc, Mutex};

use ringside_core::PhoneNumber;
use ringside_core::wire::CallState;
use ringside_providers::ProviderKind;
use ringside_relay::commands::simulate::{self, CallPlan, Target};
use serde_json::json;

use crate::ams::DANA;
use crate::office::Office;
use crate::sync::{WAITING, activities, sync_office};
use crate::utils::assert_not_on_disk;

/// Dialpad's transcript API on `127.0.0.1:0`: the answer for any call id, in the shape of the
/// spec's example (`{call_id, lines: [{contact_id | user_id, content, name, time, type}]}`),
/// and the `Authorization` header of each request.
struct DialpadApi {
    base: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    _task: tokio::task::JoinHandle<()>,
}

async fn dialpad_api() -> DialpadApi {
    use axum::extract::Path;
    use axum::http::HeaderMap;

    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/api/v2/transcripts/{call_id}",
        axum::routing::get(move |Path(call_id): Path<String>, headers: HeaderMap| {
            let kept = Arc::clone(&kept);
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                kept.lock().unwrap().push((call_id.clone(), auth));
                axum::Json(json!({
                    "call_id": call_id,
                    "lines": [
                        {"contact_id": "c-1", "name": "Caller", "type": "transcript",
                         "time": "2026-11-23T09:00:05.000000",
                         "content": "Hi, please add my daughter Marigold-Vance to the policy."},
                        {"type": "moment", "name": "price_inquiry", "content": "price_inquiry",
                         "time": "2026-11-23T09:00:06.000000"},
                        {"user_id": "u-1", "name": "Agent", "type": "transcript",
                         "time": "2026-11-23T09:00:09.000000",
                         "content": "Done, she is on the policy from today."}
                    ]
                }))
            }
        }),
    );
    let (base, task) = crate::utils::serve_stand_in(app).await;
    DialpadApi {
        base: format!("{base}/api/v2"),
        seen,
        _task: task,
    }
}

/// Rings and ends Dialpad call `call_id` from Dana for Alice through integration `id`, then
/// sends Dialpad's `call_transcription` announcement: its status.
async fn dialpad_call(office: &Office, id: &str, call_id: &str) -> u16 {
    let signer = office.operator.signer(id);
    let target = Target::direct(
        &format!("http://{}", office.relay.addr),
        id.parse().unwrap(),
    );
    let mut plan = CallPlan::inbound(PhoneNumber::parse(DANA).unwrap(), None);
    plan.call_id = Some(call_id.to_owned());
    plan.states = vec![CallState::Ringing, CallState::Answered, CallState::Ended];
    plan.provider_user_id = Some("u-alice".to_owned());
    let (_, sent) = simulate::place_call(
        &office.http,
        &signer,
        &target,
        &plan,
        &office.relay.clock,
        |_| {},
    )
    .await
    .unwrap();
    assert!(sent.iter().all(|d| d.status == 200), "the call's events");
    let (status, _) = simulate::send_transcript_ready(
        &office.http,
        &signer,
        &target,
        &plan,
        call_id,
        &office.relay.clock,
    )
    .await
    .unwrap();
    status
}

#[tokio::test]
async fn a_dialpad_ai_transcript_is_fetched_with_the_integrations_key_and_lands_in_the_note() {
    let (office, ams, _alice) = sync_office(WAITING).await;
    let owner = office
        .enrolled("owner@acme.example", ringside_core::Role::Owner)
        .await;
    let api = dialpad_api().await;
    let (id, _) =
        office
            .operator
            .integration(office.org, ProviderKind::Dialpad, Some("dialpad-secret"));
    let path = format!("/v1/admin/integrations/{id}/api-key");

    let standard = office.line().id.clone();
    let refused = office
        .api
        .send(
            "PUT",
            &format!("/v1/admin/integrations/{standard}/api-key"),
            owner.token(),
            Some(&json!({"api_key": "k"})),
        )
        .await;
    assert_eq!(
        refused.status, 422,
        "only Dialpad's API is used: {:?}",
        refused.body
    );
    let insecure = office
        .api
        .send(
            "PUT",
            &path,
            owner.token(),
            Some(&json!({"api_key": "k", "api_base": "http://dialpad.example/api/v2"})),
        )
        .await;
    assert_eq!(insecure.status, 422, "plain http off loopback");
    let set = office
        .api
        .send(
            "PUT",
            &path,
            owner.token(),
            Some(&json!({"api_key": "dp-marker-key-5521", "api_base": api.base})),
        )
        .await;
    assert_eq!(set.status, 204, "{:?}", set.body);
    let listed = office
        .api
        .get("/v1/admin/integrations", owner.token())
        .await;
    let dialpad = listed.body["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(dialpad["has_api_key"], true);
    assert!(
        !listed.body.to_string().contains("dp-marker"),
        "never answered"
    );

    assert_eq!(dialpad_call(&office, &id, "4711000000000001").await, 200);
    let written = activities(&ams, 1).await;
    let body = written[0].notes.concat();
    assert!(
        body.contains(
            "Transcript:\nCaller: Hi, please add my daughter Marigold-Vance to the policy.\n\
             Agent: Done, she is on the policy from today."
        ),
        "the fetched lines, the AI moment left out: {body}"
    );
    let seen = api.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![(
            "4711000000000001".to_owned(),
            "Bearer dp-marker-key-5521".to_owned()
        )]
    );
    assert_not_on_disk(
        &office.dir.path().join("data"),
        &["Marigold-Vance", "dp-marker-key"],
    );

    let cleared = office.api.send("DELETE", &path, owner.token(), None).await;
    assert_eq!(cleared.status, 204);
    assert_eq!(dialpad_call(&office, &id, "4711000000000002").await, 200);
    office.advance(200);
    activities(&ams, 2).await;
    assert_eq!(api.seen.lock().unwrap().len(), 1, "no key, no fetch");
}
