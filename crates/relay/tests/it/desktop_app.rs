//! The desktop app's logic (`ringside-desktop-core`, no webview) against a real relay and the
//! sandbox AMS, with the real Secret Service keychain: an agent joins with an invitation and is
//! connected; a call pops once with the matched client; the note and the pick reach the relay;
//! after a restart the session comes back from the keychain and the pop comes back once from the
//! sealed cache (nothing readable in the profile folder), gone from both at its expiry; the
//! relay killed and restarted shows "reconnecting", then the next call pops exactly once; an
//! admin disabling the agent signs the app out with the reason and empties the keychain entry.

use std::sync::Arc;
use std::time::Duration;

use ringside_core::Role;
use ringside_core::wire::{CallState, ConnectionStatus, MatchState};
use ringside_desktop_core::keychain::Keychain;
use ringside_desktop_core::profile::Profile;
use ringside_desktop_core::{App, Update};
use serde_json::json;
use tokio::sync::mpsc;

use crate::ams::{DANA, connected_office};
use crate::office::{Office, Restart, Setup};

const PASSWORD: &str = "heron lantern quilt 72";

/// An app on the profile in `dir`, signing in to the office's relay on its clock, and what it
/// publishes.
fn app(office: &Office, dir: &std::path::Path) -> (App, mpsc::UnboundedReceiver<Update>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let notify: ringside_desktop_core::app::Notify = Arc::new(move |update| {
        let _ = tx.send(update);
    });
    let app = App::with_clock(
        Profile::open(dir).unwrap(),
        Some(format!("http://{}", office.relay.addr)),
        "Desk PC".to_owned(),
        notify,
        Arc::new(office.relay.clock.clone()),
    );
    (app, rx)
}

/// The next update that `want` accepts (others skipped), within 10 s.
async fn next<T>(
    rx: &mut mpsc::UnboundedReceiver<Update>,
    what: &str,
    mut want: impl FnMut(&Update) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let update = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("the app is alive");
        if let Some(found) = want(&update) {
            return found;
        }
    }
}

fn status(want: ConnectionStatus) -> impl FnMut(&Update) -> Option<()> {
    move |u| matches!(u, Update::Status(s) if *s == want).then_some(())
}

#[tokio::test]
async fn an_agent_joins_sees_a_pop_once_adds_a_note_rides_out_a_relay_crash_and_is_signed_out_by_an_admin()
 {
    let (office, _ams, _alice) = connected_office(Setup::default(), Duration::ZERO, None).await;
    office.fallback_all(office.org);
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;
    let (_, code) = office
        .operator
        .invite(office.org, "desk@acme.example", Role::Agent);
    let dir = tempfile::tempdir().unwrap();
    let (desk, mut updates) = app(&office, dir.path());

    desk.start().await;
    assert_eq!(desk.overview().status, ConnectionStatus::SignedOut);
    assert!(
        desk.overview().insecure_relay,
        "plain http to loopback is flagged"
    );
    desk.accept_invitation(&code, "Desk Agent", PASSWORD)
        .await
        .unwrap();
    next(
        &mut updates,
        "connected",
        status(ConnectionStatus::Connected),
    )
    .await;

    assert_eq!(
        office
            .ring_from(DANA, "call-d1", CallState::Ringing, None)
            .await
            .status,
        200
    );
    let pop = next(&mut updates, "the pop", |u| match u {
        Update::NewPop(pop) => Some(*pop),
        _ => None,
    })
    .await;
    let dana = next(&mut updates, "the match", |u| match u {
        Update::Board(board) => board.cards.iter().find_map(|c| match &c.match_state {
            MatchState::Found { contacts } if c.pop_id == pop => Some(contacts[0].id.clone()),
            _ => None,
        }),
        _ => None,
    })
    .await;
    let card = desk.board().cards[0].clone();
    assert_eq!(
        card.number.as_ref().map(|n| n.expose().as_str()),
        Some("(617) 555-0199")
    );

    desk.note(pop, "Marker desk note").await.unwrap();
    desk.pick(pop, &dana).await.unwrap();
    assert!(
        desk.pick(pop, "not-a-match").await.is_err(),
        "only one of the matches"
    );
    let store = &office.operator.store;
    crate::sync::eventually("the note and the pick at the relay", || {
        let held = store.sync().retention(Some(office.org)).unwrap();
        let notes = held
            .iter()
            .find(|r| r.kind == "agent_note")
            .unwrap()
            .records;
        (notes == 2).then_some(())
    })
    .await;

    assert_eq!(
        office
            .ring_from(DANA, "call-d1", CallState::Ended, None)
            .await
            .status,
        200
    );
    let history = desk.history().await.unwrap();
    let call = history
        .calls
        .iter()
        .find(|c| c.call_id == card.call_id)
        .unwrap();
    assert_eq!(
        call.number.as_ref().map(|n| n.expose().as_str()),
        Some("(617) 555-0199"),
        "held: in full, formatted for reading"
    );
    assert_eq!(
        call.sync.as_deref(),
        Some("waiting"),
        "its note waits for the transcript"
    );
    let notes = desk.notes().await.unwrap();
    let note = notes
        .notes
        .iter()
        .find(|n| n.call_id == card.call_id)
        .unwrap();
    assert_eq!(
        (
            note.text.expose().as_str(),
            note.number.as_ref().map(|n| n.expose().as_str()),
            note.sync.as_deref()
        ),
        ("Marker desk note", Some("(617) 555-0199"), Some("waiting")),
        "the agent reads back the note that is not in the AMS yet"
    );

    desk.shutdown();
    let (again, mut updates) = app(&office, dir.path());
    again.start().await;
    next(
        &mut updates,
        "connected again",
        status(ConnectionStatus::Connected),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        again
            .board()
            .cards
            .iter()
            .map(|c| c.call_id)
            .collect::<Vec<_>>(),
        [card.call_id],
        "the pop on screen before the restart is back, once, from the sealed cache"
    );
    assert_eq!(
        again.board().cards[0].picked.as_deref(),
        Some(dana.as_str()),
        "with the agent's pick"
    );
    assert_no_markers(dir.path(), &["Whitfield", "555-0199", "5550199"]);
    let relay = format!("http://{}", office.relay.addr);
    let profile = Profile::open(dir.path()).unwrap();
    assert!(
        Keychain::new(&relay, profile.id())
            .load()
            .unwrap()
            .is_some(),
        "the session is in the keychain"
    );

    let office = office.restarted(Restart::Kill).await;
    next(&mut updates, "reconnecting", |u| {
        matches!(
            u,
            Update::Status(ConnectionStatus::Reconnecting { .. } | ConnectionStatus::Unreachable)
        )
        .then_some(())
    })
    .await;
    next(
        &mut updates,
        "connected after the restart",
        status(ConnectionStatus::Connected),
    )
    .await;
    assert_eq!(
        office
            .ring_from(DANA, "call-d2", CallState::Ringing, None)
            .await
            .status,
        200
    );
    next(&mut updates, "the next pop", |u| {
        matches!(u, Update::NewPop(_)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        again.board().cards.len(),
        2,
        "the restored pop and the new one, each once, after the reconnect"
    );

    office.relay.clock.advance(Duration::from_secs(5 * 60 + 1));
    next(&mut updates, "the pops' five minutes are up", |u| {
        matches!(u, Update::Board(board) if board.cards.is_empty()).then_some(())
    })
    .await;
    assert_eq!(
        cached_pops(dir.path()),
        0,
        "gone from the cache file as from the screen"
    );

    let users = office.api.get("/v1/admin/users", owner.token()).await;
    let id = users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "desk@acme.example")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disabled = office
        .api
        .post(
            &format!("/v1/admin/users/{id}/disable"),
            owner.token(),
            json!(null),
        )
        .await;
    assert_eq!(disabled.status, 204, "{:?}", disabled.body);
    let reason = next(&mut updates, "signed out", |u| match u {
        Update::Status(ConnectionStatus::Revoked { reason }) => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason, "user_disabled", "the app is told why");
    assert!(
        Keychain::new(&relay, profile.id())
            .load()
            .unwrap()
            .is_none(),
        "the ended session's tokens left the keychain"
    );
    assert!(again.board().cards.is_empty());
}

/// How many pops the profile's cache file holds.
fn cached_pops(dir: &std::path::Path) -> i64 {
    rusqlite::Connection::open(dir.join(ringside_desktop_core::cache::FILE))
        .unwrap()
        .query_row("SELECT count(*) FROM pops", [], |r| r.get(0))
        .unwrap()
}

/// No file of the profile folder holds any of `needles` in readable form.
fn assert_no_markers(dir: &std::path::Path, needles: &[&str]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap_or_default();
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} is readable in {}",
                path.display()
            );
        }
    }
}
