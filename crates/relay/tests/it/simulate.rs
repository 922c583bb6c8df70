//! `simulate call` through the real binary against a real `serve`: the webhooks are signed as the
//! provider would sign them, so the relay accepts every one; the output shows states
//! and statuses, never the numbers; states a provider cannot express are refused before anything
//! is sent. Plus `simulate::place_call` against an in-process relay (the demo's and the
//! benchmarks' path).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ringside_core::{IntegrationId, PhoneNumber, SystemClock};
use ringside_relay::commands::simulate::{self, CallPlan, Signer, Target};
use ringside_store::Store;

use crate::bin::{self, Served};
use crate::utils::{TestRelay, assert_not_on_disk};

const FROM: &str = "+14155550123";
const TO: &str = "+14155550199";

async fn create_integration(home: &Path, org: &str, provider: &str) -> String {
    let out = bin::in_data(home)
        .args([
            "integration",
            "create",
            "--org",
            org,
            "--provider",
            provider,
            "--json",
        ])
        .output()
        .await
        .unwrap();
    bin::json_of(&out)["integration_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn accepted(home: &Path, id: &str) -> u64 {
    let store = Store::open(&home.join("data"), Arc::new(SystemClock)).unwrap();
    store
        .inbox()
        .accepted_events(id.parse::<IntegrationId>().unwrap())
        .unwrap()
}

#[tokio::test]
async fn simulate_call_is_accepted_by_a_running_relay_for_twilio_and_dialpad() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let org = bin::create_org(home);
    let twilio = create_integration(home, &org, "twilio").await;
    let dialpad = create_integration(home, &org, "dialpad").await;
    let Served { child, addr, logs } =
        bin::serve(bin::in_data(home).env("RINGSIDE_LOG__LEVEL", "debug")).await;
    let base = format!("http://{addr}");

    let out = bin::in_data(home)
        .args([
            "simulate",
            "call",
            "--integration",
            &twilio,
            "--from",
            FROM,
            "--to",
            TO,
        ])
        .args(["--relay", &base, "--gap-ms", "0"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        out.status.success(),
        "simulate exits 0:\n{stdout}\n{stderr}"
    );
    for state in ["ringing", "answered", "ended"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(state) && l.trim_end().ends_with("200")),
            "one line per webhook with its state and status:\n{stdout}"
        );
    }
    for shown in [&stdout, &stderr] {
        assert!(
            !shown.contains("5550123") && !shown.contains("5550199"),
            "the numbers are never printed:\n{shown}"
        );
    }

    let out = bin::in_data(home)
        .args([
            "simulate",
            "call",
            "--integration",
            &dialpad,
            "--from",
            FROM,
        ])
        .args([
            "--states",
            "ringing,missed",
            "--user",
            "7712",
            "--extension",
            "204",
        ])
        .args(["--relay", &base, "--gap-ms", "10"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "a JWT provider too: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Twilio has no voicemail: refused before anything is sent.
    let out = bin::in_data(home)
        .args(["simulate", "call", "--integration", &twilio, "--from", FROM])
        .args(["--states", "ringing,voicemail", "--relay", &base])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "an inexpressible state fails");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("twilio cannot sign this call"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    bin::stop(child).await;
    let logs = logs.await.unwrap().join("\n");
    assert_eq!(
        logs.matches("\"outcome\":\"accepted\"").count(),
        5,
        "3 Twilio + 2 Dialpad webhooks accepted, nothing else:\n{logs}"
    );
    assert_eq!(accepted(home, &twilio), 3, "three Twilio events accepted");
    assert_eq!(accepted(home, &dialpad), 2, "two Dialpad events accepted");

    // The numbers went through parsing, the state machine and the call rows: sealed on disk,
    // never in a debug log.
    for digits in ["4155550123", "4155550199"] {
        assert!(
            !logs.contains(digits),
            "the debug log holds a number:\n{logs}"
        );
    }
    assert_not_on_disk(&home.join("data"), &["4155550123", "4155550199"]);
}

#[tokio::test]
async fn simulate_call_of_an_unknown_integration_fails_without_sending() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin::in_data(dir.path())
        .args([
            "simulate",
            "call",
            "--integration",
            "int_5f3a9c7e5f3a9c7e5f3a9c7e5f3a9c7e",
        ])
        .args(["--from", FROM, "--relay", "http://127.0.0.1:9"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no active integration"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn place_call_drives_an_in_process_relay_and_every_provider_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let config = relay.config.clone();
    let store = Store::open(&config.data_dir, Arc::new(SystemClock)).unwrap();
    let org = ringside_relay::commands::org::create_org(&config, "Acme", "o@example.com")
        .unwrap()
        .org;
    let client = reqwest::Client::new();
    for provider in ringside_providers::ProviderKind::ALL {
        let created =
            ringside_relay::commands::org::create_integration(&config, org, provider, None, "")
                .unwrap();
        let signer = Signer::from_config(&config, created.id).unwrap();
        let target = Target::direct(&format!("http://{}", relay.addr), created.id);
        let plan = CallPlan {
            gap: Duration::ZERO,
            ..CallPlan::inbound(
                PhoneNumber::parse(FROM).unwrap(),
                Some(PhoneNumber::parse(TO).unwrap()),
            )
        };
        let mut seen = Vec::new();
        let (call_id, deliveries) =
            simulate::place_call(&client, &signer, &target, &plan, &relay.clock, |d| {
                seen.push(d.state)
            })
            .await
            .unwrap();
        assert!(!call_id.is_empty());
        assert_eq!(
            seen, plan.states,
            "{provider}: each state reported in order"
        );
        assert!(
            deliveries.iter().all(simulate::Delivery::accepted),
            "{provider}: every webhook accepted: {deliveries:?}"
        );
        assert_eq!(
            store.inbox().accepted_events(created.id).unwrap(),
            3,
            "{provider}: three events accepted"
        );
    }
    relay.stop().await.unwrap();
}
