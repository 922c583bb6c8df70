//! `GET /v1/leaderboard` against a real relay and the sandbox AMS: a call Alice answered and one
//! she missed count for her once their notes are done; a colleague with no calls is listed with
//! zeros, a viewer is not listed and may not look; the range is checked; each read is audited.

use std::time::{Duration, Instant};

use ringside_core::Role;
use ringside_core::wire::CallState;
use serde_json::Value;

use crate::ams::{DANA, connected_office};
use crate::office::Setup;

#[tokio::test]
async fn the_team_is_ranked_by_calls_answered_from_the_rows_that_outlive_the_purge() {
    let setup = Setup {
        toml: "[sync]\ntranscript_grace_secs = 0\nin_doubt_settle_secs = 0\n",
        ..Setup::default()
    };
    // The office's Alice takes the calls routed to `u-alice`.
    let (office, ams, _alice) = connected_office(setup, Duration::ZERO, None).await;
    let bob = office.agent("bob@acme.example").await;
    let viewer = office.member("vera@acme.example", Role::Viewer).await;
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;

    for state in [CallState::Ringing, CallState::Answered, CallState::Ended] {
        office
            .ring_from(DANA, "call-taken", state, Some("u-alice"))
            .await;
    }
    for state in [CallState::Ringing, CallState::Missed] {
        office
            .ring_from(DANA, "call-missed", state, Some("u-alice"))
            .await;
    }
    crate::sync::activities(&ams, 2).await;

    // The tallies count a call once its note is done: wait for both.
    let deadline = Instant::now() + Duration::from_secs(15);
    let board = loop {
        let board = office.api.get("/v1/leaderboard?days=1", bob.token()).await;
        assert_eq!(board.status, 200, "{:?}", board.body);
        if board.body["entries"][0]["missed"] == 1 {
            break board.body;
        }
        assert!(
            Instant::now() < deadline,
            "the calls were never counted: {}",
            board.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(board["days"], 1);
    let entries = board["entries"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        3,
        "Alice, Bob and the owner; the viewer takes no calls: {board}"
    );
    let first = &entries[0];
    assert_eq!(
        (
            &first["answered"],
            &first["missed"],
            &first["notes_in_ams"],
            &first["me"]
        ),
        (
            &Value::from(1),
            &Value::from(1),
            &Value::from(2),
            &Value::from(false)
        ),
        "Alice first: {board}"
    );
    assert!(first["average_call_secs"].is_u64(), "{board}");
    let me = entries
        .iter()
        .find(|e| e["user_id"] == bob.user.as_str())
        .unwrap();
    assert_eq!(
        (&me["answered"], &me["missed"], &me["me"]),
        (&Value::from(0), &Value::from(0), &Value::from(true)),
        "Bob, the caller, with zeros"
    );
    assert!(
        me.get("average_call_secs").is_none(),
        "no average without a call"
    );
    assert!(
        entries.iter().all(|e| e["user_id"] != viewer.user.as_str()),
        "no viewer"
    );

    let default = office.api.get("/v1/leaderboard", bob.token()).await;
    assert_eq!(
        (default.status, &default.body["days"]),
        (200, &Value::from(7))
    );
    for bad in ["days=0", "days=91", "days=week", "since=1"] {
        let refused = office
            .api
            .get(&format!("/v1/leaderboard?{bad}"), bob.token())
            .await;
        assert_eq!(refused.status, 400, "{bad}: {:?}", refused.body);
    }
    let forbidden = office.api.get("/v1/leaderboard", viewer.token()).await;
    assert_eq!(
        (forbidden.status, forbidden.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (actions, _) = office
        .api
        .audit_actions("leaderboard.*", owner.token())
        .await;
    assert!(
        actions.iter().filter(|a| *a == "leaderboard.read").count() >= 2,
        "each read is audited: {actions:?}"
    );
}
