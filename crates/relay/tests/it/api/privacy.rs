//! No personal data in logs: the real binary, logging JSON at debug level, carries a person
//! with marker values through `org create` → invitation → sign-in → TOTP enrolment → sign-in
//! with the second factor → step-up → team administration, with a few failures on the way; then
//! neither its logs nor the CLI's output nor the database file and its WAL hold the markers.
//!
//! The binary runs on the real clock, so TOTP codes are computed from the real time: the code of
//! the next step is accepted too (±1 step), which lets the test use two steps without waiting.

use serde_json::{Value, json};
use tokio::process::Command;

use crate::bin::{self, Served};

const EMAIL: &str = "zebulon.marker@example.com";
const NAME: &str = "Zebulon Quartermaine";
const DEVICE: &str = "Marker-Laptop-7731";
const PASSWORD: &str = "tangerine walrus ledger 58";

/// What must appear nowhere: the values, and recognisable parts of them.
const MARKERS: [&str; 5] = [EMAIL, "zebulon", "quartermaine", "marker-laptop", PASSWORD];

fn relay(home: &std::path::Path) -> Command {
    let mut cmd = bin::command(home);
    cmd.env("RINGSIDE_DATA_DIR", home.join("data"))
        .env("RINGSIDE_LOG__FORMAT", "json")
        .env("RINGSIDE_LOG__LEVEL", "debug");
    cmd
}

/// The TOTP code of `uri` at the real time, `steps` 30-second steps ahead.
fn code(uri: &str, steps: u64) -> String {
    let now = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .unsigned_abs();
    totp_rs::TOTP::from_url(uri)
        .unwrap()
        .generate(now + 30 * steps)
}

/// The relay under test, over HTTP.
struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    /// `method path` with `token` and a JSON `body` (none when `Null`): status and JSON answer.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let res = request.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_invitation_sign_in_and_totp_flow_logs_no_personal_data_and_stores_none_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (invitation, cli_output) = the_operator_creates_the_org_and_invites_the_owner(home).await;

    let Served {
        mut child,
        addr,
        logs: log,
    } = bin::serve(&mut relay(home)).await;
    let http = Http {
        client: reqwest::Client::new(),
        base: format!("http://{addr}"),
    };
    let token = the_owner_joins_enrols_signs_in_and_steps_up(&http, &invitation).await;
    the_owner_reads_and_changes_what_carries_the_markers(&http, &token, &invitation).await;

    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let log = log.await.unwrap();
    no_marker_is_in_the_logs_or_the_cli_output(&log, &cli_output);
    no_marker_is_readable_in_the_database_or_its_wal(&home.join("data"));
}

/// `org create` with the owner's marked address: the invitation code, and what it printed.
async fn the_operator_creates_the_org_and_invites_the_owner(
    home: &std::path::Path,
) -> (String, Vec<String>) {
    let created = relay(home)
        .args([
            "org",
            "create",
            "--name",
            "Marker Agency",
            "--owner-email",
            EMAIL,
            "--json",
        ])
        .output()
        .await
        .unwrap();
    assert!(created.status.success(), "org create: {:?}", created);
    let printed: Value = serde_json::from_slice(&created.stdout).unwrap();
    let invitation = printed["invitation"].as_str().unwrap().to_owned();
    let output = vec![
        String::from_utf8_lossy(&created.stdout).into_owned(),
        String::from_utf8_lossy(&created.stderr).into_owned(),
    ];
    (invitation, output)
}

/// Join, enrol TOTP, a wrong password, sign in with the second factor, step up with a recovery
/// code: the owner's access token.
async fn the_owner_joins_enrols_signs_in_and_steps_up(http: &Http, invitation: &str) -> String {
    let (status, tokens) = http
        .call("POST", "/v1/invitations/accept", None,
            json!({"code": invitation, "display_name": NAME, "password": PASSWORD, "device_name": DEVICE}))
        .await;
    assert_eq!(status, 201, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let (_, enrolment) = http
        .call("POST", "/v1/me/totp", Some(&token), Value::Null)
        .await;
    let uri = enrolment["otpauth_uri"].as_str().unwrap().to_owned();
    let (status, codes) = http
        .call(
            "POST",
            "/v1/me/totp/confirm",
            Some(&token),
            json!({"code": code(&uri, 0)}),
        )
        .await;
    assert_eq!(status, 200, "{codes}");
    let (status, _) = http
        .call(
            "POST",
            "/v1/auth/login",
            None,
            json!({"email": EMAIL, "password": "a wrong password here", "device_name": DEVICE}),
        )
        .await;
    assert_eq!(status, 401, "a wrong password");
    let (_, first) = http
        .call(
            "POST",
            "/v1/auth/login",
            None,
            json!({"email": EMAIL, "password": PASSWORD, "device_name": DEVICE,
                   "device_token": tokens["device_token"]}),
        )
        .await;
    assert_eq!(first["status"], "second_factor_required", "{first}");
    let (status, signed_in) = http
        .call(
            "POST",
            "/v1/auth/second-factor",
            None,
            json!({"challenge": first["challenge"], "code": code(&uri, 1)}),
        )
        .await;
    assert_eq!(status, 200, "{signed_in}");
    let token = signed_in["access_token"].as_str().unwrap().to_owned();
    let (status, _) = http
        .call(
            "POST",
            "/v1/me/step-up",
            Some(&token),
            json!({"code": codes["recovery_codes"][0]}),
        )
        .await;
    assert_eq!(status, 204, "step-up with a recovery code");
    token
}

/// Reads that show the markers to their owner, and refusals that name them.
async fn the_owner_reads_and_changes_what_carries_the_markers(
    http: &Http,
    token: &str,
    invitation: &str,
) {
    let token = Some(token);
    let (_, me) = http.call("GET", "/v1/me", token, Value::Null).await;
    assert_eq!(
        me["user"]["display_name"], NAME,
        "the person sees their own name"
    );
    let (_, team) = http
        .call("GET", "/v1/admin/users", token, Value::Null)
        .await;
    assert_eq!(
        team["users"][0]["email"], EMAIL,
        "the owner sees the team's addresses"
    );
    let (_, sessions) = http
        .call("GET", "/v1/me/sessions", token, Value::Null)
        .await;
    assert_eq!(sessions["sessions"][0]["device_name"], DEVICE);
    let (status, _) = http
        .call(
            "POST",
            "/v1/admin/invitations",
            token,
            json!({"email": "zebulon.marker+agent@example.com", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = http
        .call(
            "POST",
            "/v1/admin/invitations",
            token,
            json!({"email": EMAIL, "role": "agent"}),
        )
        .await;
    assert_eq!(
        status, 409,
        "the owner's own address cannot be invited again"
    );
    let (status, _) = http
        .call("POST", "/v1/invitations/accept", None,
            json!({"code": invitation, "display_name": NAME, "password": PASSWORD, "device_name": DEVICE}))
        .await;
    assert_eq!(status, 404, "a used invitation");
    let (status, _) = http
        .call(
            "POST",
            "/v1/auth/login",
            None,
            json!({"email": EMAIL, "password": PASSWORD, "device_name": DEVICE, "zebulon": NAME}),
        )
        .await;
    assert_eq!(status, 422, "an unknown field, named after the marker");
}

/// Every line of the debug log is JSON, the log traced the whole flow, and neither it nor the
/// CLI's output holds a marker.
fn no_marker_is_in_the_logs_or_the_cli_output(log: &[String], cli_output: &[String]) {
    for line in log {
        let _: Value = serde_json::from_str(line).expect("every log line is JSON");
    }
    assert!(
        log.iter().any(|l| l.contains("/v1/auth/second-factor")),
        "the debug log traced the requests, so the scan below looks at something"
    );
    assert!(
        log.len() > 20,
        "a debug log of the whole flow: {} lines",
        log.len()
    );
    let logs = [log, cli_output].concat().join("\n").to_lowercase();
    for marker in MARKERS {
        assert!(
            !logs.contains(&marker.to_lowercase()),
            "{marker:?} leaked into the logs or the CLI's output"
        );
    }
}

/// The database file and its WAL, read whole, hold none of the markers readable.
fn no_marker_is_readable_in_the_database_or_its_wal(data: &std::path::Path) {
    let mut bytes = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("ringside.db") {
            bytes.extend(std::fs::read(&path).unwrap());
            files += 1;
        }
    }
    assert!(
        files >= 2 && bytes.len() > 8192,
        "the database and its WAL were read"
    );
    let stored = String::from_utf8_lossy(&bytes).to_lowercase();
    for marker in [EMAIL, "zebulon", "quartermaine", "marker-laptop"] {
        assert!(
            !stored.contains(marker),
            "{marker:?} is readable in the database file or its WAL: it must be sealed"
        );
    }
}

/// The contact the sandbox AMS holds for +16175550199, and recognisable parts of it.
const CONTACT_MARKERS: [&str; 6] = [
    "dana whitfield",
    "whitfield",
    "whitda",
    "6175550199",
    "617-555-0199",
    "555-0199",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_call_matched_in_the_ams_leaves_no_contact_name_or_number_in_the_logs_or_on_disk() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let sandbox = ringside_ams::sandbox::Sandbox::new(Default::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sandbox.clone().serve(listener, std::future::pending()));

    // The operator's set-up, through the binary: org, integration, fallback, AMS.
    let mut outputs = Vec::new();
    let mut cli = |args: &[&str]| -> Value {
        let out = std::process::Command::new(bin::BIN)
            .env("HOME", home)
            .env("RINGSIDE_DATA_DIR", home.join("data"))
            .env("RINGSIDE_LOG__FORMAT", "json")
            .env("RINGSIDE_LOG__LEVEL", "debug")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        outputs.push(stdout.clone());
        outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
        serde_json::from_str(&stdout).unwrap_or(Value::Null)
    };
    let created = cli(&[
        "org",
        "create",
        "--name",
        "Matched Agency",
        "--owner-email",
        EMAIL,
        "--json",
    ]);
    let org = created["org_id"].as_str().unwrap().to_owned();
    let invitation = created["invitation"].as_str().unwrap().to_owned();
    let integration = cli(&[
        "integration",
        "create",
        "--org",
        &org,
        "--provider",
        "standard",
        "--json",
    ]);
    let integration = integration["integration_id"].as_str().unwrap().to_owned();
    cli(&["route", "fallback", "--org", &org, "--all"]);
    let file = home.join("ams.json");
    std::fs::write(&file, sandbox.credentials_json()).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let file = file.display().to_string();
    cli(&[
        "ams",
        "connect",
        "--org",
        &org,
        "--kind",
        "sandbox",
        "--base-url",
        &sandbox_url,
        "--credentials-file",
        &file,
    ]);

    let Served {
        mut child,
        addr,
        logs,
    } = bin::serve(&mut relay(home)).await;
    let http = Http {
        client: reqwest::Client::new(),
        base: format!("http://{addr}"),
    };
    let (status, tokens) = http
        .call("POST", "/v1/invitations/accept", None,
            json!({"code": invitation, "display_name": NAME, "password": PASSWORD, "device_name": DEVICE}))
        .await;
    assert_eq!(status, 201, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let (_, ticket) = http
        .call("POST", "/v1/stream/ticket", Some(&token), Value::Null)
        .await;
    let url = format!(
        "ws://{addr}/v1/stream?ticket={}",
        ticket["ticket"].as_str().unwrap()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::Text(
        json!({"type": "resume", "after_seq": 0}).to_string().into(),
    ))
    .await
    .unwrap();

    cli(&[
        "simulate",
        "call",
        "--integration",
        &integration,
        "--from",
        "+16175550199",
        "--states",
        "ringing",
        "--relay",
        &http.base,
    ]);
    let matched = tokio::time::timeout(std::time::Duration::from_secs(15), async {
        while let Some(Ok(frame)) = ws.next().await {
            if let Message::Text(text) = frame {
                let message: Value = serde_json::from_str(&text).unwrap();
                if message["type"] == "pop_update" {
                    return message;
                }
            }
        }
        panic!("the stream closed before the AMS's answer");
    })
    .await
    .expect("the match within 15 s");
    assert_eq!(
        matched["match"]["contacts"][0]["name"], "Dana Whitfield",
        "{matched}"
    );

    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let log = logs.await.unwrap();
    assert!(
        log.iter().any(|l| l.contains("accounts/search")
            || l.contains("pop_update")
            || l.contains("/v1/hooks/")),
        "the debug log traced the call, so the scan below looks at something"
    );
    let everything = [log, outputs].concat().join("\n").to_lowercase();
    for marker in CONTACT_MARKERS {
        assert!(
            !everything.contains(marker),
            "{marker:?} leaked into the logs or the CLI's output"
        );
    }
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(home.join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("ringside.db")
        {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    let stored = String::from_utf8_lossy(&bytes).to_lowercase();
    for marker in CONTACT_MARKERS.into_iter().chain(["sandbox-secret"]) {
        assert!(
            !stored.contains(marker),
            "{marker:?} is readable in the database file or its WAL"
        );
    }
}
