//! The desktop app as an agent uses it, against a real relay (the `ringside-relay` binary) and
//! the sandbox AMS, with the real Secret Service keychain: join with an invitation, see a call
//! pop with the matched client, type a note that reaches the relay, close the pop; a call from a
//! number several clients share shows the picker, and the choice reaches the relay; the relay
//! crashes and comes back: the status line says so, and the next call pops once; the history
//! lists the three calls, the team view ranks the agent, the settings keep a new cap; the app
//! restarts signed in from the keychain with the last pop back
//! once from its sealed cache. Every screen is screenshotted into `<target>/e2e/`.

use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::utils::relay::Relay;
use crate::utils::ui::{AgentApp, click, eventually, fill, shot, shown, text_of};
use crate::utils::x11;

/// Dana Whitfield's number in the sandbox AMS: one match.
pub(crate) const DANA: &str = "+16175550199";
/// A number two sandbox clients share: the picker.
const SHARED: &str = "+14135550165";
/// The compact pop window's title.
const POP_WINDOW: &str = "Ringside: a call";

/// The journey, step by step; any WebDriver failure ends it and is reported by the caller.
async fn journey(
    app: &AgentApp,
    relay: &mut Relay,
) -> Result<(String, String), fantoccini::error::CmdError> {
    let client: &Client = &app.client;
    shown(client, "#join-form").await?;
    shown(client, "#app-version").await?;
    shot(client, "desktop-join").await;
    app.join(relay, "desk@e2e.example").await?;
    shot(client, "desktop-connected").await;

    relay.ring(DANA);
    let client_name = text_of(client, "[data-testid=pop] [data-testid=pop-client]").await?;
    shot(client, "desktop-pop").await;
    let pid = app.pid().expect("the app runs");
    let window = eventually_some("the pop window on screen", || {
        x11::window(pid, POP_WINDOW).filter(|w| w.viewable)
    })
    .await;
    assert_eq!(
        (window.x + window.width, window.y),
        (x11::SCREEN.0 - 24, 24),
        "the pop window sits in the top-right corner of the screen: {window:?}"
    );
    fill(
        client,
        "[data-testid=pop] [data-testid=pop-note]",
        "Marker E2E note: renewal question",
    )
    .await?;
    click(client, "[data-testid=pop] [data-testid=pop-dismiss]").await?;
    eventually("the note at the relay", || {
        relay.retained("agent_note") == 1
    })
    .await;
    shown(client, "#pops-empty").await?;
    eventually(
        "the pop window closed with no pop left (its web process gone)",
        || x11::window(pid, POP_WINDOW).is_none(),
    )
    .await;

    relay.ring(SHARED);
    let legend = text_of(client, "[data-testid=pop-picker] legend").await?;
    shot(client, "desktop-picker").await;
    let choices = client
        .find_all(Locator::Css("[data-testid=pop-picker] input[type=radio]"))
        .await?;
    choices[1].click().await?;
    eventually("the pick at the relay", || {
        relay.retained("agent_note") == 2
    })
    .await;

    // The relay crashes: the status line says so, and once it is back the next call pops once.
    relay.crash();
    shown(
        client,
        "#status[data-state=reconnecting], #status[data-state=unreachable]",
    )
    .await?;
    shot(client, "desktop-reconnecting").await;
    relay.start_again();
    shown(client, "#status[data-state=connected]").await?;
    click(client, "#close-all, [data-testid=pop-dismiss]").await?;
    shown(client, "#pops-empty").await?;
    relay.ring(DANA);
    shown(client, "[data-testid=pop]").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pops = client.find_all(Locator::Css("[data-testid=pop]")).await?;
    assert_eq!(pops.len(), 1, "the call after the restart pops once");

    click(client, "#show-history").await?;
    shown(client, "[data-testid=history-row]").await?;
    let rows = client
        .find_all(Locator::Css("[data-testid=history-row]"))
        .await?;
    assert_eq!(rows.len(), 3, "the three calls that rang for the agent");
    // Its call is still live, so the note waits at the relay: the agent reads it back.
    let note = text_of(client, "[data-testid=note-row] .note-text").await?;
    assert_eq!(note, "Marker E2E note: renewal question");
    shot(client, "desktop-history").await;

    click(client, "#show-team").await?;
    let me = text_of(client, "[data-testid=team-row][aria-current=true]").await?;
    assert!(me.contains("Desk Agent (you)"), "{me}");
    shot(client, "desktop-team").await;

    click(client, "#show-settings").await?;
    let cap = shown(client, "#pop-cap").await?;
    cap.select_by_value("2").await?;
    click(client, "#settings-save").await?;
    shown(client, "#settings-saved").await?;
    shot(client, "desktop-settings").await;
    click(client, "#show-pops").await?;
    Ok((client_name, legend))
}

/// What `find` answers once it answers something (polled every 100 ms for up to 20 s).
async fn eventually_some<T>(what: &str, find: impl Fn() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = find() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; the X server's windows:\n{}\napp log:\n{}",
            x11::tree(),
            std::fs::read_to_string(crate::utils::artifacts_dir().join("tauri-driver.log"))
                .unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// After a restart: signed in from the keychain (no form), and the call on screen before it is
/// back once, from the sealed cache.
async fn after_restart(client: &Client) -> Result<(), fantoccini::error::CmdError> {
    shown(client, "#status[data-state=connected]").await?;
    shown(client, "[data-testid=pop]").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pops = client.find_all(Locator::Css("[data-testid=pop]")).await?;
    assert_eq!(pops.len(), 1, "the pop on screen before the restart, once");
    Ok(())
}

#[tokio::test]
async fn an_agent_joins_sees_the_matched_client_adds_a_note_and_picks_among_several() {
    let home = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(home.path()).await;
    let app = AgentApp::launch(home.path(), &relay).await;
    let (app, outcome) = match journey(&app, &mut relay).await {
        Ok(seen) => {
            let app = app.restart().await;
            let after = after_restart(&app.client).await.map(|()| seen);
            (app, after)
        }
        Err(error) => (app, Err(error)),
    };
    let finished = app.finish("agent", outcome).await;
    let (client_name, legend) = &finished.value;

    assert_eq!(
        client_name, "Dana Whitfield",
        "the pop shows the sandbox's match"
    );
    assert!(legend.contains("2 clients share this number"), "{legend}");
    finished.assert_nothing_readable(&["6175550199", "555-0199", "Whitfield", "Marker E2E note"]);
}
