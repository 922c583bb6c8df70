//! After the call, end to end over real sockets with the sandbox AMS: exactly one activity note
//! per call on the right record — the agent's pick, the single match, held for an admin when
//! several match and no one picked — then the call's personal data gone from the database file
//! and its WAL (`retention report` shows nothing); an AMS down for an hour, then back: every
//! note lands once; a refusal no retry fixes is a dead letter an admin can retry; unsynced PII
//! gone at 30 days.

use std::time::{Duration, Instant};

use ringside_ams::sandbox::{SHARED_NUMBER, SandboxActivity};
use ringside_core::Role;
use ringside_core::wire::CallState;
use ringside_store::SyncState;
use serde_json::{Value, json};

use crate::ams::{DANA, SandboxAms, connected_office, pop_and_update};
use crate::office::{Office, Setup};
use crate::stream::Socket;
use crate::utils::assert_not_on_disk;

/// No wait for a transcript, no settling of in-doubt notes: the tests move at once.
const AT_ONCE: &str = "[sync]\ntranscript_grace_secs = 0\nin_doubt_settle_secs = 0\n";

/// The first note waits for the transcript (the default grace, on a fake clock that does not move
/// by itself); an in-doubt note is searched for at once.
pub(crate) const WAITING: &str = "[sync]\nin_doubt_settle_secs = 0\n";

/// What the caller says, a card number in it: the words reach the AMS, the card never does.
const TRANSCRIPT: &str = "Caller: Hi, I'd like to add my son Biscuit-Jones to my auto policy.\n\
    Agent: Sure. I've added him; the premium changes next month.\n\
    Caller: Put it on my card 4111 1111 1111 1111 please.\n";

/// What the agent types: it must land in the AMS and nowhere else.
const NOTE: &str = "Adding teen driver QX-8812 to the auto policy";

/// Waits (up to 15 s) until `check` answers.
pub(crate) async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An office connected to a fresh sandbox AMS, configured by `toml`, and Alice on her route.
pub(crate) async fn sync_office(toml: &'static str) -> (Office, SandboxAms, Socket) {
    connected_office(Setup { toml, lookup: None }, Duration::ZERO, None).await
}

/// The next message of type `kind` on `socket` (others skipped).
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let message = socket
            .next()
            .await
            .unwrap_or_else(|| panic!("a {kind} message"));
        if message["type"] == kind {
            return message;
        }
    }
}

/// The activities the sandbox holds once it holds `n`.
pub(crate) async fn activities(ams: &SandboxAms, n: usize) -> Vec<SandboxActivity> {
    eventually(&format!("{n} activities in the AMS"), || {
        let all = ams.sandbox.activities();
        (all.len() >= n).then_some(all)
    })
    .await
}

/// The state of `call`'s sync, once it is `state` (for `pending`: once an attempt failed).
async fn synced_as(office: &Office, call: &str, state: SyncState) -> Value {
    let call: ringside_core::CallId = call.parse().unwrap();
    let store = &office.operator.store;
    eventually(&format!("the sync {}", state.as_str()), || {
        store
            .sync()
            .list_syncs(Some(office.org), &SyncState::ALL, 100)
            .unwrap()
            .into_iter()
            .find(|row| {
                row.call == call
                    && row.state == state
                    && (state != SyncState::Pending || row.attempts > 0)
            })
            .map(|row| json!({"attempts": row.attempts, "reason": row.reason}))
    })
    .await
}

/// The retention report's records per kind, for the office's org.
fn retained(office: &Office) -> Vec<(String, u64)> {
    office
        .operator
        .store
        .sync()
        .retention(Some(office.org))
        .unwrap()
        .into_iter()
        .map(|r| (r.kind.to_owned(), r.records))
        .collect()
}

#[tokio::test]
async fn a_call_lands_as_one_note_on_the_picked_client_then_its_personal_data_is_gone() {
    let (office, ams, mut alice) = sync_office(WAITING).await;
    let (pop, update) = pop_and_update(&office, &mut alice, DANA, "call-1").await;
    let call = pop["call_id"].as_str().unwrap().to_owned();
    let dana = update["match"]["contacts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    alice
        .send(json!({"type": "note", "call_id": call, "text": NOTE}))
        .await;
    alice
        .send(json!({"type": "note", "call_id": call, "text": "Call back Friday"}))
        .await;
    alice
        .send(json!({"type": "pick", "call_id": call, "contact": dana}))
        .await;
    alice.quiet("notes are taken without an answer").await;
    assert!(
        retained(&office)
            .iter()
            .any(|(k, n)| k == "agent_note" && *n == 3),
        "two notes and a pick held: {:?}",
        retained(&office)
    );

    office
        .ring("call-1", CallState::Answered, Some("u-alice"))
        .await;
    office.advance(252);
    office
        .ring("call-1", CallState::Ended, Some("u-alice"))
        .await;

    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        ams.sandbox.activities().is_empty(),
        "the note waits for the transcript (sync.transcript_grace_secs)"
    );
    assert_eq!(office.transcript("call-1", TRANSCRIPT).await, 200);

    let written = activities(&ams, 1).await;
    synced_as(&office, &call, SyncState::Done).await;
    assert_eq!(written.len(), 1, "exactly one note");
    let note = &written[0];
    assert_eq!(note.client_id, dana, "on the picked client");
    assert_eq!(note.description, "Inbound call, answered, 4 min 12 s");
    let body = note.notes.concat();
    assert!(
        body.starts_with(&format!("Ringside ref: {call}\n")),
        "{body}"
    );
    assert!(
        body.contains("- Contact number: (617) 555-0199 (+16175550199)"),
        "{body}"
    );
    assert!(body.contains("- Agent: Test Person"), "{body}");
    assert!(
        body.contains(&format!("Agent notes:\n{NOTE}\nCall back Friday")),
        "{body}"
    );
    assert!(
        body.contains("Summary:\nReason for call: Hi, I'd like to add my son"),
        "the built-in summary opens with the reason: {body}"
    );
    assert!(
        body.contains("Transcript:\nCaller: Hi, I'd like to add my son Biscuit-Jones"),
        "{body}"
    );
    assert!(
        !body.contains("4111 1111"),
        "the card is redacted everywhere: {body}"
    );

    for (kind, records) in retained(&office) {
        assert_eq!(records, 0, "{kind} is still held after the sync");
    }
    let done = office
        .operator
        .store
        .sync()
        .list_syncs(Some(office.org), &[SyncState::Done], 10)
        .unwrap();
    assert_eq!(
        done[0].number_masked.as_deref(),
        Some("***-***-0199"),
        "the metrics row keeps the last four digits only"
    );
    assert_not_on_disk(
        &office.dir.path().join("data"),
        &[
            NOTE,
            "QX-8812",
            "6175550199",
            "Dana Whitfield",
            "Biscuit-Jones",
            "4111 1111",
        ],
    );

    alice
        .send(json!({"type": "note", "call_id": call, "text": "one more thing"}))
        .await;
    let refused = next_of(&mut alice, "error").await;
    assert_eq!(refused["code"], "call_synced", "{refused}");
    assert_eq!(ams.sandbox.activities().len(), 1, "still one note");
}

#[tokio::test]
async fn several_matches_and_no_pick_hold_the_call_for_an_admin_until_someone_picks() {
    let (office, ams, mut alice_socket) = sync_office(AT_ONCE).await;
    let admin = office.enrolled("admin@acme.example", Role::Admin).await;
    let (pop, update) = pop_and_update(&office, &mut alice_socket, SHARED_NUMBER, "call-1").await;
    let call = pop["call_id"].as_str().unwrap().to_owned();
    office
        .ring("call-1", CallState::Ended, Some("u-alice"))
        .await;

    let held = synced_as(&office, &call, SyncState::Held).await;
    assert_eq!(held["reason"], "ambiguous_match");
    let listed = office
        .api
        .get_json(
            "/v1/admin/sync/dead-letters",
            admin.token(),
            "the dead letters",
        )
        .await;
    assert_eq!(listed["entries"][0]["call_id"], call.as_str(), "{listed}");
    assert_eq!(listed["entries"][0]["state"], "held");
    assert!(ams.sandbox.activities().is_empty(), "no note on a guess");

    let ellen = update["match"]["contacts"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    alice_socket
        .send(json!({"type": "pick", "call_id": call, "contact": ellen}))
        .await;
    let written = activities(&ams, 1).await;
    assert_eq!(written[0].client_id, ellen, "the pick woke the call");
    synced_as(&office, &call, SyncState::Done).await;
    let listed = office
        .api
        .get_json(
            "/v1/admin/sync/dead-letters",
            admin.token(),
            "the dead letters",
        )
        .await;
    assert_eq!(listed["entries"], json!([]));
}

#[tokio::test]
async fn an_ams_down_for_an_hour_then_back_gets_each_note_once_and_a_422_is_a_dead_letter() {
    let (office, ams, mut alice) = sync_office(AT_ONCE).await;
    let mut admin = office.enrolled("admin@acme.example", Role::Admin).await;
    ams.sandbox.refuse_writes(Some(503));
    let mut calls = Vec::new();
    for n in 1..=3 {
        let id = format!("call-{n}");
        let (pop, _) = pop_and_update(&office, &mut alice, DANA, &id).await;
        office.ring(&id, CallState::Ended, Some("u-alice")).await;
        next_of(&mut alice, "call_state").await;
        calls.push(pop["call_id"].as_str().unwrap().to_owned());
    }
    for call in &calls {
        let waiting = synced_as(&office, call, SyncState::Pending).await;
        assert_eq!(waiting["reason"], "unavailable", "{waiting}");
    }

    // An hour of the AMS refusing: every call is retried on its jittered schedule.
    for _ in 0..12 {
        office.advance(300);
        tokio::time::sleep(Duration::from_millis(1_200)).await;
    }
    assert!(ams.sandbox.activities().is_empty());
    let tries: Vec<u32> = office
        .operator
        .store
        .sync()
        .list_syncs(Some(office.org), &[SyncState::Pending], 10)
        .unwrap()
        .iter()
        .map(|r| r.attempts)
        .collect();
    assert!(
        tries.iter().all(|n| *n >= 3),
        "retried while down: {tries:?}"
    );

    ams.sandbox.refuse_writes(None);
    office.advance(11 * 3600);
    let written = activities(&ams, 3).await;
    for call in &calls {
        synced_as(&office, call, SyncState::Done).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let written_now = ams.sandbox.activities();
    assert_eq!(written_now.len(), 3, "each once: {written:?}");
    for call in &calls {
        let reference = format!("Ringside ref: {call}\n");
        assert_eq!(
            written_now
                .iter()
                .filter(|a| a.notes[0].starts_with(&reference))
                .count(),
            1,
            "{call} landed exactly once"
        );
    }

    ams.sandbox.refuse_writes(Some(422));
    office
        .ring_from(DANA, "call-4", CallState::Ringing, Some("u-alice"))
        .await;
    let pop = next_of(&mut alice, "pop").await;
    let refused = pop["call_id"].as_str().unwrap().to_owned();
    office
        .ring("call-4", CallState::Ended, Some("u-alice"))
        .await;
    let dead = synced_as(&office, &refused, SyncState::Dead).await;
    assert_eq!(dead["reason"], "http_422", "no retry for a refusal: {dead}");
    office.sign_in(&mut admin).await; // twelve hours on: a new session
    let listed = office
        .api
        .get_json(
            "/v1/admin/sync/dead-letters",
            admin.token(),
            "the dead letters",
        )
        .await;
    assert_eq!(listed["entries"][0]["reason"], "http_422", "{listed}");

    ams.sandbox.refuse_writes(None);
    office
        .api
        .post(
            &format!("/v1/admin/sync/dead-letters/{refused}/retry"),
            admin.token(),
            json!({}),
        )
        .await
        .expect(204, "the admin retries");
    activities(&ams, 4).await;
    synced_as(&office, &refused, SyncState::Done).await;
    office
        .api
        .post(
            &format!("/v1/admin/sync/dead-letters/{refused}/retry"),
            admin.token(),
            json!({}),
        )
        .await
        .problem(404, "not_found", "a done call is not a dead letter");
    let (actions, _) = office.api.audit_actions("sync.*", admin.token()).await;
    assert!(
        actions.iter().any(|a| a == "sync.retry"),
        "the retry is audited: {actions:?}"
    );
}

#[tokio::test]
async fn unsynced_personal_data_is_gone_at_30_days_and_the_admins_are_told() {
    // No AMS connected: the note can never be written, so only the cap ends it.
    let office = Office::with(Setup {
        toml: AT_ONCE,
        lookup: None,
    })
    .await;
    let mut admin = office.enrolled("admin@acme.example", Role::Admin).await;
    let (_alice, mut alice) = office.alice_on_her_route().await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    let pop = alice.next().await.unwrap();
    let call = pop["call_id"].as_str().unwrap().to_owned();
    alice
        .send(json!({"type": "note", "call_id": call, "text": NOTE}))
        .await;
    office
        .ring("call-1", CallState::Ended, Some("u-alice"))
        .await;
    let waiting = synced_as(&office, &call, SyncState::Pending).await;
    assert_eq!(waiting["reason"], "not_connected");

    office.advance(31 * 86_400);
    let report = office.hygiene();
    assert!(
        report.contains("1 call(s) whose note never landed expired"),
        "{report}"
    );
    synced_as(&office, &call, SyncState::Expired).await;
    for (kind, records) in retained(&office) {
        assert_eq!(records, 0, "{kind} is still held at 30 days");
    }
    assert_not_on_disk(&office.dir.path().join("data"), &[NOTE, "6172430734"]);
    office.sign_in(&mut admin).await;
    let mut socket = office.connect(&admin).await;
    socket.resume(0).await;
    let notice = socket.next().await.expect("the admins are told");
    assert_eq!(
        (notice["type"].as_str(), notice["code"].as_str()),
        (Some("notice"), Some("sync_expired")),
        "{notice}"
    );
    let (actions, _) = office.api.audit_actions("sync.*", admin.token()).await;
    assert!(
        actions.iter().any(|a| a == "sync.expired"),
        "audited: {actions:?}"
    );
}

/// The real binary, killed with SIGKILL at `point` of its first sync attempt, then restarted:
/// exactly one note in the AMS and the call purged, whatever the point. Logs at debug level
/// hold neither the number nor the client's name.
async fn killed_at(point: &str) {
    use std::sync::Arc;

    use ringside_core::SystemClock;
    use ringside_store::Store;

    use crate::bin;

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let org = bin::create_org(home);
    let ams = crate::ams::sandbox_ams(Duration::ZERO).await;
    let credentials = home.join("sandbox.json");
    std::fs::write(&credentials, ams.sandbox.credentials_json()).unwrap();
    std::fs::set_permissions(
        &credentials,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let connect = bin::in_data(home)
        .args([
            "ams",
            "connect",
            "--org",
            &org,
            "--kind",
            "sandbox",
            "--base-url",
            &ams.base,
        ])
        .arg("--credentials-file")
        .arg(&credentials)
        .output()
        .await
        .unwrap();
    assert!(
        connect.status.success(),
        "{}",
        String::from_utf8_lossy(&connect.stderr)
    );
    let created = bin::in_data(home)
        .args([
            "integration",
            "create",
            "--org",
            &org,
            "--provider",
            "standard",
            "--json",
        ])
        .output()
        .await
        .unwrap();
    let integration = bin::json_of(&created)["integration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let relay = |pause: Option<&str>| {
        let mut cmd = bin::in_data(home);
        cmd.env("RINGSIDE_SYNC__TRANSCRIPT_GRACE_SECS", "0")
            .env("RINGSIDE_SYNC__IN_DOUBT_SETTLE_SECS", "0")
            .env("RINGSIDE_LOG__LEVEL", "debug");
        if let Some(point) = pause {
            cmd.env("RINGSIDE_TEST_SYNC_PAUSE", point);
        }
        cmd
    };
    let store = Store::open(&home.join("data"), Arc::new(SystemClock)).unwrap();
    let state_of = |store: &Store| {
        store
            .sync()
            .list_syncs(None, &SyncState::ALL, 10)
            .unwrap()
            .first()
            .map(|row| row.state)
    };

    let transcript = home.join("transcript.txt");
    std::fs::write(&transcript, TRANSCRIPT).unwrap();
    let mut first = bin::serve(&mut relay(Some(point))).await;
    let simulated = bin::in_data(home)
        .args([
            "simulate",
            "call",
            "--integration",
            &integration,
            "--from",
            DANA,
        ])
        .args([
            "--states",
            "ringing,answered,ended",
            "--gap-ms",
            "0",
            "--transcript",
        ])
        .arg(&transcript)
        .args(["--relay", &format!("http://{}", first.addr)])
        .output()
        .await
        .unwrap();
    assert!(
        simulated.status.success(),
        "{}",
        String::from_utf8_lossy(&simulated.stderr)
    );
    let frozen = match point {
        "after_purge" => SyncState::Done,
        _ => SyncState::Writing,
    };
    eventually(&format!("the sync frozen at {point}"), || {
        (state_of(&store) == Some(frozen)
            && (point == "before_write") == ams.sandbox.activities().is_empty())
        .then_some(())
    })
    .await;
    bin::signal(&mut first.child, "KILL", Duration::from_secs(10)).await;
    let mut logs = first.logs.await.unwrap();

    let second = bin::serve(&mut relay(None)).await;
    eventually("the sync done after the restart", || {
        (state_of(&store) == Some(SyncState::Done)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        ams.sandbox.activities().len(),
        1,
        "killed at {point}: exactly one note"
    );
    for retained in store.sync().retention(None).unwrap() {
        assert_eq!(
            retained.records, 0,
            "killed at {point}: {} held",
            retained.kind
        );
    }
    bin::stop(second.child).await;
    logs.extend(second.logs.await.unwrap());
    assert_not_on_disk(
        &home.join("data"),
        &["6175550199", "Dana Whitfield", "Biscuit-Jones", "4111 1111"],
    );
    let simulated = String::from_utf8_lossy(&simulated.stdout);
    assert!(simulated.contains("transcript  200"), "{simulated}");
    for line in &logs {
        for needle in [
            "6175550199",
            "555-0199",
            "Whitfield",
            "Biscuit",
            "4111 1111",
        ] {
            assert!(
                !line.contains(needle),
                "a log line holds {needle:?}: {line}"
            );
        }
    }
}

#[tokio::test]
async fn killed_before_the_write_the_restarted_relay_writes_the_note_once() {
    killed_at("before_write").await;
}

#[tokio::test]
async fn killed_after_the_write_the_restarted_relay_finds_the_note_and_does_not_write_it_again() {
    killed_at("after_write").await;
}

#[tokio::test]
async fn killed_after_the_purge_the_restarted_relay_has_nothing_left_to_do() {
    killed_at("after_purge").await;
}

/// What a client texts: it must land in the AMS and nowhere else; the card never does.
const TEXT: &str = "Marker question about renewal ZQ-5531, card 4111 1111 1111 1111";

#[tokio::test]
async fn a_text_lands_as_one_note_on_its_client_then_its_body_is_gone_and_a_stop_shows_on_the_next_pop()
 {
    let (office, ams, mut alice) = sync_office(AT_ONCE).await;
    assert_eq!(
        office.text("m-1", DANA, TEXT, 2).await,
        200,
        "sent and retried"
    );
    let sms = next_of(&mut alice, "sms").await;
    assert_eq!(sms["text"], TEXT, "the agent sees it live");

    let written = activities(&ams, 1).await;
    let note = &written[0];
    assert_eq!(note.description, "Text message received");
    let body = note.notes.concat();
    assert!(body.starts_with("Ringside ref: cal_"), "{body}");
    assert!(
        body.contains("- Contact number: (617) 555-0199 (+16175550199)"),
        "{body}"
    );
    assert!(
        body.contains("Message:\nMarker question about renewal ZQ-5531, card "),
        "{body}"
    );
    assert!(!body.contains("4111 1111"), "the card is redacted: {body}");
    let (_, update) = pop_and_update(&office, &mut alice, DANA, "call-1").await;
    assert_eq!(
        note.client_id, update["match"]["contacts"][0]["id"],
        "on the number's one client"
    );
    assert!(
        retained(&office)
            .iter()
            .all(|(kind, n)| kind == "phone_number"
                || kind == "pop"
                || kind == "contact_name"
                || *n == 0),
        "the text's body is gone: {:?}",
        retained(&office)
    );
    assert_not_on_disk(&office.dir.path().join("data"), &["ZQ-5531", "4111 1111"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        ams.sandbox.activities().len(),
        1,
        "the retry made no second note"
    );

    assert_eq!(office.text("m-2", DANA, "Stop", 1).await, 200);
    next_of(&mut alice, "sms").await;
    activities(&ams, 2).await;
    let (pop, _) = pop_and_update(&office, &mut alice, DANA, "call-2").await;
    assert_eq!(pop["sms_opted_out"], true, "{pop}");
    assert_eq!(office.text("m-3", DANA, "START", 1).await, 200);
    next_of(&mut alice, "sms").await;
    activities(&ams, 3).await;
    let (pop, _) = pop_and_update(&office, &mut alice, DANA, "call-3").await;
    assert_eq!(pop["sms_opted_out"], false, "{pop}");
}

/// A model behind an OpenAI-compatible chat-completions endpoint on `127.0.0.1:0`: answers every
/// request with `summary` and keeps what it was sent (the `Authorization` header and the body).
struct Model {
    base_url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
    _task: tokio::task::JoinHandle<()>,
}

async fn model(summary: &'static str) -> Model {
    use axum::http::HeaderMap;

    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = std::sync::Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let kept = std::sync::Arc::clone(&kept);
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                kept.lock().unwrap().push((auth, body.0));
                axum::Json(json!({
                    "id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": summary}}]
                }))
            }
        }),
    );
    let (base, task) = crate::utils::serve_stand_in(app).await;
    Model {
        base_url: format!("{base}/v1"),
        seen,
        _task: task,
    }
}

#[tokio::test]
async fn an_org_that_chose_a_model_gets_its_summary_from_it_redacted_both_ways_and_can_go_back() {
    let (office, ams, mut alice) = sync_office(WAITING).await;
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;
    let model = model("Adds son as a driver; card 4111 1111 1111 1111 given.").await;
    let path = "/v1/admin/summarizer";

    let built_in = office.api.get(path, owner.token()).await;
    assert_eq!(built_in.body["kind"], "built_in", "{:?}", built_in.body);
    let bad = office
        .api
        .send(
            "PUT",
            path,
            owner.token(),
            Some(&json!({"base_url": "http://models.example/v1", "model": "m"})),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (422, "invalid_input"),
        "plain http off loopback"
    );
    let set = office
        .api
        .send(
            "PUT",
            path,
            owner.token(),
            Some(&json!({"base_url": model.base_url, "model": "test-model",
                        "api_key": "sk-marker-7731"})),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(set.body["kind"], "openai_compatible");
    assert_eq!(set.body["has_key"], true);
    assert!(
        set.body.get("api_key").is_none(),
        "the key is never answered"
    );

    let (pop, _) = pop_and_update(&office, &mut alice, DANA, "call-1").await;
    office
        .ring("call-1", CallState::Ended, Some("u-alice"))
        .await;
    assert_eq!(office.transcript("call-1", TRANSCRIPT).await, 200);
    let written = activities(&ams, 1).await;
    let body = written[0].notes.concat();
    assert!(
        body.contains("Summary:\nAdds son as a driver; card [card number removed] given."),
        "the model's answer, redacted again: {body}"
    );
    synced_as(&office, pop["call_id"].as_str().unwrap(), SyncState::Done).await;
    let sent = model.seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one request per call");
    assert_eq!(sent[0].0, "Bearer sk-marker-7731");
    let text = sent[0].1.to_string();
    assert!(
        text.contains("Biscuit-Jones") && !text.contains("4111 1111"),
        "{text}"
    );
    assert!(
        !text.contains("6175550199"),
        "no number leaves for the model: {text}"
    );

    let cleared = office.api.send("DELETE", path, owner.token(), None).await;
    assert_eq!(cleared.status, 204);
    next_of(&mut alice, "call_state").await;
    pop_and_update(&office, &mut alice, DANA, "call-2").await;
    office
        .ring("call-2", CallState::Ended, Some("u-alice"))
        .await;
    assert_eq!(office.transcript("call-2", TRANSCRIPT).await, 200);
    let written = activities(&ams, 2).await;
    assert!(
        written[1]
            .notes
            .concat()
            .contains("Summary:\nReason for call: Hi, I'd like to add"),
        "back to the built-in summary"
    );
    assert_eq!(
        model.seen.lock().unwrap().len(),
        1,
        "the model is asked no more"
    );
    assert_not_on_disk(&office.dir.path().join("data"), &["sk-marker-7731"]);
}

#[tokio::test]
async fn a_whole_call_and_a_text_with_marker_values_leave_nothing_on_disk_or_in_the_debug_logs() {
    let logs = crate::logs::captured();
    let (office, ams, mut alice) = sync_office(WAITING).await;
    const CALLER_ID: &str = "Quillon Marker-Callerid";
    const SAID: &str = "Caller: my dog Zephyrine-Boots chewed the policy papers\nAgent: noted\n";
    const TYPED: &str = "Marker agent note KX-4490";
    const TEXTED: &str = "Marker text message WV-7731 about the claim";

    let mut plan = ringside_relay::commands::simulate::CallPlan::inbound(
        ringside_core::PhoneNumber::parse(DANA).unwrap(),
        None,
    );
    plan.call_id = Some("call-leak".to_owned());
    plan.states = vec![CallState::Ringing];
    plan.provider_user_id = Some("u-alice".to_owned());
    plan.contact_name = Some(CALLER_ID.to_owned());
    assert_eq!(office.ring_plan(&plan).await.status, 200);
    let pop = next_of(&mut alice, "pop").await;
    assert_eq!(pop["caller_name"], CALLER_ID, "the agent sees it");
    let update = next_of(&mut alice, "pop_update").await;
    let call = pop["call_id"].as_str().unwrap().to_owned();
    let dana = update["match"]["contacts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    alice
        .send(json!({"type": "note", "call_id": call, "text": TYPED}))
        .await;
    alice
        .send(json!({"type": "pick", "call_id": call, "contact": dana}))
        .await;
    alice.quiet("notes are taken without an answer").await;
    office
        .ring("call-leak", CallState::Ended, Some("u-alice"))
        .await;
    assert_eq!(office.transcript("call-leak", SAID).await, 200);
    assert_eq!(office.text("m-leak", DANA, TEXTED, 1).await, 200);

    let written = activities(&ams, 2).await;
    let notes: String = written.iter().map(|a| a.notes.concat()).collect();
    for landed in [TYPED, "Zephyrine-Boots", TEXTED] {
        assert!(notes.contains(landed), "{landed} reached the AMS: {notes}");
    }
    for (kind, records) in retained(&office) {
        assert_eq!(records, 0, "{kind} is still held after the syncs");
    }
    let markers = [
        &DANA[1..],
        "555-0199",
        "Dana Whitfield",
        "Whitfield",
        CALLER_ID,
        "Marker-Callerid",
        "Zephyrine",
        TYPED,
        "KX-4490",
        TEXTED,
        "WV-7731",
    ];
    assert_not_on_disk(&office.dir.path().join("data"), &markers);
    let logged = logs.text();
    assert!(
        logged.contains("sync: attempt done"),
        "the capture sees this relay's debug log"
    );
    for marker in markers {
        assert!(!logged.contains(marker), "a log line holds {marker:?}");
    }
}
