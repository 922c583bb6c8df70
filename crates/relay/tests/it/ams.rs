//! The AMS, live, end to end over real sockets: a signed webhook rings, the routed agent gets
//! `pop {match: pending}` at once and then `pop_update` with what the org's AMS — the sandbox,
//! through the real Applied Epic connector — says; several matches stay several; a slow or dead
//! AMS is `failed` within the budget without delaying the pop; refused credentials are `failed
//! {reason: "credentials"}` and one `notice` to the admins. Plus connecting an AMS over the
//! admin API and the CLI, and nothing the AMS said left readable on disk.

use std::process::Output;
use std::time::{Duration, Instant};

use ringside_ams::sandbox::{SHARED_NUMBER, Sandbox, SandboxOptions};
use ringside_core::Role;
use ringside_core::wire::CallState;
use serde_json::{Value, json};

use crate::bin;
use crate::office::{Office, Setup};
use crate::stream::Socket;
use crate::utils::assert_not_on_disk;

/// Dana Whitfield's number, typed `(617) 555-0199` in the sandbox.
pub(crate) const DANA: &str = "+16175550199";

/// A sandbox AMS on `127.0.0.1:0`, served until the test ends.
pub(crate) struct SandboxAms {
    pub(crate) sandbox: Sandbox,
    pub(crate) base: String,
    _task: tokio::task::JoinHandle<()>,
}

pub(crate) async fn sandbox_ams(latency: Duration) -> SandboxAms {
    let sandbox = Sandbox::new(SandboxOptions {
        latency,
        ..SandboxOptions::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serving = sandbox.clone();
    let task = tokio::spawn(async move {
        serving
            .serve(listener, std::future::pending())
            .await
            .unwrap();
    });
    SandboxAms {
        sandbox,
        base,
        _task: task,
    }
}

/// An office whose org is connected to a fresh sandbox AMS with `credentials` (the sandbox's
/// own when `None`), and Alice, an agent on her route, connected.
pub(crate) async fn connected_office(
    setup: Setup,
    latency: Duration,
    credentials: Option<&str>,
) -> (Office, SandboxAms, Socket) {
    let office = Office::with(setup).await;
    let ams = sandbox_ams(latency).await;
    let credentials = credentials.map_or_else(|| ams.sandbox.credentials_json(), str::to_owned);
    office
        .operator
        .connect_ams(office.org, "sandbox", &ams.base, &credentials);
    let (_alice, socket) = office.alice_on_her_route().await;
    (office, ams, socket)
}

/// Rings `call` from `from` for Alice; her pop (asserted pending) and its update.
pub(crate) async fn pop_and_update(
    office: &Office,
    alice: &mut Socket,
    from: &str,
    call: &str,
) -> (Value, Value) {
    let sent = office
        .ring_from(from, call, CallState::Ringing, Some("u-alice"))
        .await;
    assert_eq!(sent.status, 200);
    let pop = alice.next().await.expect("the pop");
    assert_eq!(
        (pop["type"].as_str(), pop["match"]["status"].as_str()),
        (Some("pop"), Some("pending")),
        "the pop goes out at once, the lookup under way: {pop}"
    );
    let update = alice.next().await.expect("the AMS's answer");
    assert_eq!(update["type"], "pop_update", "{update}");
    assert_eq!(update["pop_id"], pop["pop_id"]);
    (pop, update)
}

#[tokio::test]
async fn the_pop_says_pending_then_the_sandbox_client_typed_messily_arrives_in_pop_update() {
    let (office, _ams, mut alice) = connected_office(Setup::default(), Duration::ZERO, None).await;

    let (_, update) = pop_and_update(&office, &mut alice, DANA, "call-1").await;
    let found = &update["match"];
    assert_eq!(found["status"], "found");
    let contacts = found["contacts"].as_array().unwrap();
    assert_eq!(
        contacts.len(),
        1,
        "the near miss (508) 555-0199 is dropped: {found}"
    );
    assert_eq!(contacts[0]["name"], "Dana Whitfield");
    assert_eq!(contacts[0]["kind"], "client");
    assert!(
        contacts[0]["open_url"]
            .as_str()
            .unwrap()
            .contains("/clients/")
    );

    let (_, shared) = pop_and_update(&office, &mut alice, SHARED_NUMBER, "call-2").await;
    let names: Vec<&str> = shared["match"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Tom Kowalski", "Ellen Kowalski"],
        "both, never one picked"
    );

    let (_, unknown) = pop_and_update(&office, &mut alice, "+12125550100", "call-3").await;
    assert_eq!(unknown["match"]["status"], "no_match");

    assert_not_on_disk(
        &office.dir.path().join("data"),
        &[
            "Dana Whitfield",
            "Kowalski",
            "WHITDA",
            "6175550199",
            "4135550165",
        ],
    );
}

#[tokio::test]
async fn a_slow_ams_fails_with_timeout_within_the_budget_and_the_pop_is_not_delayed() {
    let setup = Setup {
        toml: "[ams]\ntimeout_ms = 400\n",
        ..Setup::default()
    };
    let (office, _ams, mut alice) = connected_office(setup, Duration::from_secs(3), None).await;
    let started = Instant::now();
    let (_, update) = pop_and_update(&office, &mut alice, DANA, "call-1").await;
    assert_eq!(
        update["match"],
        json!({"status": "failed", "reason": "timeout"})
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the budget is 400 ms: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_dead_ams_fails_as_unavailable() {
    let office = Office::open().await;
    office.operator.connect_ams(
        office.org,
        "sandbox",
        "http://127.0.0.1:9",
        r#"{"client_id":"a","client_secret":"b"}"#,
    );
    let (_alice, mut alice) = office.alice_on_her_route().await;
    let (_, update) = pop_and_update(&office, &mut alice, DANA, "call-1").await;
    assert_eq!(
        update["match"],
        json!({"status": "failed", "reason": "unavailable"})
    );
}

#[tokio::test]
async fn after_three_timeouts_the_breaker_answers_unavailable_at_once() {
    let setup = Setup {
        toml: "[ams]\ntimeout_ms = 300\n",
        ..Setup::default()
    };
    let (office, _ams, mut alice) = connected_office(setup, Duration::from_secs(2), None).await;
    for n in 1..=3 {
        let (_, update) = pop_and_update(&office, &mut alice, DANA, &format!("call-{n}")).await;
        assert_eq!(update["match"]["reason"], "timeout", "call {n}");
    }
    let started = Instant::now();
    let (_, update) = pop_and_update(&office, &mut alice, DANA, "call-4").await;
    assert_eq!(
        update["match"],
        json!({"status": "failed", "reason": "unavailable"})
    );
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "the open breaker does not wait out the budget: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn refused_credentials_fail_each_pop_and_tell_the_admins_once() {
    let wrong = r#"{"client_id":"ringside-sandbox","client_secret":"wrong"}"#;
    let (office, _ams, mut alice) =
        connected_office(Setup::default(), Duration::ZERO, Some(wrong)).await;
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;
    let mut owner_socket = office.connect(&owner).await;
    owner_socket.resume(0).await;

    let (_, first) = pop_and_update(&office, &mut alice, DANA, "call-1").await;
    assert_eq!(
        first["match"],
        json!({"status": "failed", "reason": "credentials"})
    );
    let notice = owner_socket.next().await.expect("the admins are told");
    assert_eq!(
        (notice["type"].as_str(), notice["code"].as_str()),
        (Some("notice"), Some("ams_credentials")),
        "{notice}"
    );
    alice.quiet("an agent is not told about credentials").await;

    let (_, second) = pop_and_update(&office, &mut alice, DANA, "call-2").await;
    assert_eq!(second["match"]["reason"], "credentials");
    owner_socket.quiet("once, not per call").await;
}

#[tokio::test]
async fn an_owner_connects_tests_and_disconnects_the_ams_over_the_api_and_nothing_leaks_back() {
    let office = Office::open().await;
    let ams = sandbox_ams(Duration::ZERO).await;
    let api = &office.api;
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;
    office.step_up(&owner).await;
    let body = json!({"kind": "sandbox", "base_url": ams.base,
        "credentials": {"client_id": "ringside-sandbox", "client_secret": "sandbox-secret"}});

    let connected = api
        .send("PUT", "/v1/admin/ams", owner.token(), Some(&body))
        .await
        .expect(200, "connecting")
        .body;
    assert_eq!(
        (connected["kind"].as_str(), connected["last_test"].is_null()),
        (Some("sandbox"), true)
    );
    let tested = api
        .post("/v1/admin/ams/test", owner.token(), json!(null))
        .await
        .expect(200, "a real request to the sandbox")
        .body;
    assert_eq!(
        (tested["ok"].as_bool(), tested["reason"].is_null()),
        (Some(true), true),
        "{tested}"
    );
    let shown = api
        .get_json("/v1/admin/ams", owner.token(), "the status")
        .await;
    assert_eq!(shown["connection"]["last_test"]["ok"], true);
    assert!(
        !shown.to_string().contains("sandbox-secret")
            && !connected.to_string().contains("secret\""),
        "the credentials never come back: {shown}"
    );

    for (bad, field) in [
        (json!({"kind": "epic", "credentials": {}}), "kind"),
        (
            json!({"kind": "hubspot", "base_url": "http://api.example.com", "credentials": {"token": "t"}}),
            "base_url",
        ),
        (
            json!({"kind": "hubspot", "credentials": {"client_id": "a", "client_secret": "b"}}),
            "credentials",
        ),
    ] {
        let refused = api
            .send("PUT", "/v1/admin/ams", owner.token(), Some(&bad))
            .await;
        refused.problem(422, "invalid_input", field);
    }
    let still = api
        .get_json("/v1/admin/ams", owner.token(), "unchanged")
        .await;
    assert_eq!(
        still["connection"]["kind"], "sandbox",
        "a refusal changes nothing"
    );

    let admin = office.enrolled("admin@acme.example", Role::Admin).await;
    api.get("/v1/admin/ams", admin.token()).await.problem(
        403,
        "forbidden",
        "AMS credentials are the owner's alone",
    );

    api.delete("/v1/admin/ams", owner.token())
        .await
        .expect(204, "disconnecting");
    let gone = api.get_json("/v1/admin/ams", owner.token(), "after").await;
    assert_eq!(gone["connection"], Value::Null);
    let (actions, audit) = api.audit_actions("ams.*", owner.token()).await;
    assert_eq!(
        actions,
        ["ams.connect", "ams.test", "ams.disconnect"],
        "{audit}"
    );
    assert_not_on_disk(&office.dir.path().join("data"), &["sandbox-secret"]);
}

fn relay(home: &std::path::Path, args: &[&str]) -> Output {
    bin::run(home, "--config", &home.join("relay.toml"), args)
}

/// Writes `json` to a file in `home` with `mode`; its path.
fn credentials_file(home: &std::path::Path, name: &str, json: &str, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = home.join(name);
    std::fs::write(&path, json).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.display().to_string()
}

// Multi-threaded: the sandbox must answer while this thread waits on the binary.
#[tokio::test(flavor = "multi_thread")]
async fn the_operator_connects_an_ams_from_the_cli_and_bad_input_exits_2_storing_nothing() {
    let office = Office::open().await;
    let ams = sandbox_ams(Duration::ZERO).await;
    let home = office.dir.path();
    let org = office.org.to_string();
    let good = credentials_file(home, "good.json", &ams.sandbox.credentials_json(), 0o600);
    let open = credentials_file(home, "open.json", &ams.sandbox.credentials_json(), 0o644);
    let extra = credentials_file(
        home,
        "extra.json",
        r#"{"client_id":"a","client_secret":"b","x":1}"#,
        0o600,
    );
    let connect = |kind: &str, url: &str, file: &str| {
        relay(
            home,
            &[
                "ams",
                "connect",
                "--org",
                &org,
                "--kind",
                kind,
                "--base-url",
                url,
                "--credentials-file",
                file,
            ],
        )
    };

    for (out, says) in [
        (connect("epic", &ams.base, &good), "unknown AMS kind"),
        (
            connect("sandbox", "http://ams.example.com", &good),
            "must be https",
        ),
        (
            connect("sandbox", &ams.base, &extra),
            "credentials must be JSON",
        ),
        (
            connect("sandbox", &ams.base, &open),
            "can be read by others",
        ),
    ] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{says}: {stderr}");
    }
    let none = relay(home, &["ams", "status", "--org", &org, "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&none.stdout).trim(),
        "null",
        "nothing stored"
    );

    assert!(connect("sandbox", &ams.base, &good).status.success());
    let tested = relay(home, &["ams", "test", "--org", &org]);
    assert_eq!(
        String::from_utf8_lossy(&tested.stdout).trim(),
        "AMS test: ok"
    );
    let status = bin::json_of(&relay(home, &["ams", "status", "--org", &org, "--json"]));
    assert_eq!(
        (
            status["kind"].as_str(),
            status["last_test"]["result"].as_str()
        ),
        (Some("sandbox"), Some("ok"))
    );
    assert!(
        relay(home, &["ams", "disconnect", "--org", &org])
            .status
            .success()
    );
    let after = relay(home, &["ams", "test", "--org", &org]);
    assert_eq!(after.status.code(), Some(1), "nothing to test");
}
