//! The desktop app as an agent uses it, against a real relay (the `ringside-relay` binary) and
//! the sandbox AMS, with the real Secret Service keychain: join with an invitation, see a call
//! pop with the matched client, type a note that reaches the relay, close the pop; a call from a
//! number several clients share shows the picker, and the choice reaches the relay; the relay
//! crashes and comes back: the status line says so, and the next call pops once; the history
//! lists the three calls. Every screen
//! is screenshotted into `<target>/e2e/` (and `docs/screenshots/` copies them for people).

use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::utils::relay::Relay;
use crate::utils::{TauriDriver, artifacts_dir, desktop_binary};

/// Dana Whitfield's number in the sandbox AMS: one match.
const DANA: &str = "+16175550199";
/// A number two sandbox clients share: the picker.
const SHARED: &str = "+14135550165";
const PASSWORD: &str = "harbour violet anchor 58";

/// How long the UI may take to show what it is waited for.
const WAIT: Duration = Duration::from_secs(20);

async fn shot(client: &Client, name: &str) {
    // WebKit paints a moment after the DOM changes: let the frame catch up with it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let path = artifacts_dir().join(format!("{name}.png"));
    match client.screenshot().await {
        Ok(png) => {
            std::fs::write(&path, png).expect("the screenshot is kept");
            println!("screenshot: {}", path.display());
        }
        Err(error) => eprintln!("could not take the {name} screenshot: {error}"),
    }
}

async fn fill(client: &Client, css: &str, text: &str) -> Result<(), fantoccini::error::CmdError> {
    let field = shown(client, css).await?;
    field.clear().await?;
    field.send_keys(text).await
}

async fn text_of(client: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    shown(client, css).await?.text().await
}

/// The element `css` once the UI shows it (at most [`WAIT`]).
async fn shown(
    client: &Client,
    css: &str,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
}

/// Waits until `check` holds, polling the relay every 100 ms for up to 20 s.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The journey, step by step; any WebDriver failure ends it and is reported by the caller.
async fn journey(
    client: &Client,
    relay: &mut Relay,
) -> Result<(String, String), fantoccini::error::CmdError> {
    shown(client, "#join-form").await?;
    shown(client, "#app-version").await?;
    shot(client, "desktop-join").await;
    let code = relay.invite_agent("desk@e2e.example");
    fill(client, "#join-code", &code).await?;
    fill(client, "#join-name", "Desk Agent").await?;
    fill(client, "#join-password", PASSWORD).await?;
    client
        .find(Locator::Css("#join-submit"))
        .await?
        .click()
        .await?;
    shown(client, "#status[data-state=connected]").await?;
    shot(client, "desktop-connected").await;

    relay.ring(DANA);
    let client_name = text_of(client, "[data-testid=pop] [data-testid=pop-client]").await?;
    shot(client, "desktop-pop").await;
    fill(
        client,
        "[data-testid=pop] [data-testid=pop-note]",
        "Marker E2E note: renewal question",
    )
    .await?;
    client
        .find(Locator::Css("[data-testid=pop] [data-testid=pop-dismiss]"))
        .await?
        .click()
        .await?;
    eventually("the note at the relay", || {
        relay.retained("agent_note") == 1
    })
    .await;
    shown(client, "#pops-empty").await?;

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
    client
        .find(Locator::Css("#close-all, [data-testid=pop-dismiss]"))
        .await?
        .click()
        .await?;
    shown(client, "#pops-empty").await?;
    relay.ring(DANA);
    shown(client, "[data-testid=pop]").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pops = client.find_all(Locator::Css("[data-testid=pop]")).await?;
    assert_eq!(pops.len(), 1, "the call after the restart pops once");

    client
        .find(Locator::Css("#show-history"))
        .await?
        .click()
        .await?;
    shown(client, "[data-testid=history-row]").await?;
    let rows = client
        .find_all(Locator::Css("[data-testid=history-row]"))
        .await?;
    assert_eq!(rows.len(), 3, "the three calls that rang for the agent");
    shot(client, "desktop-history").await;
    client
        .find(Locator::Css("#show-pops"))
        .await?
        .click()
        .await?;
    Ok((client_name, legend))
}

#[tokio::test]
async fn an_agent_joins_sees_the_matched_client_adds_a_note_and_picks_among_several() {
    let home = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(home.path()).await;
    // The webview's own storage (localStorage, IndexedDB, caches) goes under these: scanned below.
    let (data, cache) = (home.path().join("xdg-data"), home.path().join("xdg-cache"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    let profile = home.path().join("profile");
    let driver =
        TauriDriver::start_with_env(&[("XDG_DATA_HOME", &data), ("XDG_CACHE_HOME", &cache)]);
    let args = vec![
        "--relay".to_owned(),
        relay.url.clone(),
        "--profile".to_owned(),
        profile.to_string_lossy().into_owned(),
    ];
    let client = driver.launch_with(&desktop_binary(), &args).await;

    let outcome = journey(&client, &mut relay).await;
    if outcome.is_err() {
        shot(&client, "desktop-agent-failure").await;
    }
    if let Err(error) = client.close().await {
        eprintln!("closing the WebDriver session failed: {error}");
    }
    let (client_name, legend) = outcome.unwrap_or_else(|error| {
        panic!(
            "the agent's journey stopped: {error}; driver log:\n{}",
            driver.log_text()
        )
    });
    drop(driver);

    assert_eq!(
        client_name, "Dana Whitfield",
        "the pop shows the sandbox's match"
    );
    assert!(legend.contains("2 clients share this number"), "{legend}");
    let mut files: Vec<String> = walk(&profile);
    files.extend(walk(&data));
    files.extend(walk(&cache));
    assert!(!files.is_empty(), "the profile was written");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for marker in ["6175550199", "555-0199", "Whitfield", "Marker E2E note"] {
            assert!(
                !text.contains(marker),
                "{marker:?} is in the profile's {file}"
            );
        }
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    out
}
