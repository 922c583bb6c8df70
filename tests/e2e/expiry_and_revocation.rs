//! A session from its first step to its end, in the real window. The org requires a second
//! factor of everyone, so the agent who joins sets one up in the app — the QR code and the
//! secret as text, a code from the "authenticator" (the secret read off the screen), the recovery
//! codes shown once — and only then connects. On a relay whose pops live 8 seconds
//! (`websocket.pop_ttl_secs`), a call's pop is shown, kept sealed in the cache file, then gone
//! from the window and the file at its expiry, with nothing readable left in the profile or the
//! webview's storage. Then the owner disables the agent from another computer and the app signs
//! out at once, saying why. Before that, the agent moves their factor to a new authenticator: the
//! app asks for a step-up (the enrolment is no longer recent), takes a recovery code, and goes on
//! to the new secret, which the agent then leaves (the current factor stays). Screenshots:
//! `desktop-enrol`, `desktop-recovery-codes`, `desktop-step-up`, `desktop-signed-out-by-admin`.

use fantoccini::Client;
use fantoccini::error::CmdError;

use crate::agent::DANA;
use crate::utils::admin::Owner;
use crate::utils::relay::Relay;
use crate::utils::ui::{AgentApp, click, eventually, fill, shot, shown, text_of};

const AGENT: &str = "ttl@e2e.example";

/// The code an authenticator shows now for the secret as the app displays it (`ABCD EFGH …`).
fn current_code(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.split_whitespace().collect())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        AGENT.to_owned(),
    )
    .unwrap()
    .generate_current()
    .unwrap()
}

/// How many pops the app's cache file holds.
fn cached_pops(app: &AgentApp) -> i64 {
    let Ok(db) = rusqlite::Connection::open(app.profile.join("pops.db")) else {
        return -1;
    };
    db.query_row("SELECT count(*) FROM pops", [], |r| r.get(0))
        .unwrap_or(-1)
}

/// The relay's `auth.step_up_window_secs` in this scenario, plus a second.
const STEP_UP_WINDOW: std::time::Duration = std::time::Duration::from_secs(11);

async fn scenario(app: &AgentApp, relay: &Relay, owner: &Owner) -> Result<String, CmdError> {
    let client: &Client = &app.client;
    app.submit_invitation(relay, AGENT).await?;
    shown(client, "#status[data-state=second_factor_required]").await?;
    click(client, "#totp-start").await?;
    let secret = text_of(client, "#totp-secret").await?;
    shown(client, "#totp-qr").await?;
    shot(client, "desktop-enrol").await;
    fill(client, "#totp-code", &current_code(&secret)).await?;
    click(client, "#totp-submit").await?;
    shown(client, "#recovery-codes li").await?;
    let enrolled = std::time::Instant::now();
    let recovery = text_of(client, "#recovery-codes li").await?;
    shot(client, "desktop-recovery-codes").await;
    click(client, "#codes-kept").await?;
    click(client, "#codes-done").await?;
    shown(client, "#status[data-state=connected]").await?;

    relay.ring(DANA);
    shown(client, "[data-testid=pop] [data-testid=pop-client]").await?;
    eventually("the pop in the cache", || cached_pops(app) == 1).await;
    shown(client, "#pops-empty").await?;
    eventually("the pop gone from the cache", || cached_pops(app) == 0).await;

    // A new phone: moving the factor asks for the current one once the enrolment is no longer
    // recent (the relay's step-up window is 10 s here), then goes on by itself.
    tokio::time::sleep(STEP_UP_WINDOW.saturating_sub(enrolled.elapsed())).await;
    click(client, "#show-settings").await?;
    click(client, "#new-authenticator").await?;
    click(client, "#totp-start").await?;
    shown(client, "#step-up-form").await?;
    shot(client, "desktop-step-up").await;
    fill(client, "#step-up-code", &recovery).await?;
    click(client, "#step-up-submit").await?;
    let replacement = text_of(client, "#totp-secret").await?;
    assert_ne!(replacement, secret, "a new secret, after the step-up");
    click(client, "#totp-cancel").await?;
    shown(client, "#settings-form").await?;

    owner.disable(AGENT).await;
    let said = text_of(client, "#revoked").await?;
    shown(client, "#status[data-state=revoked]").await?;
    shot(client, "desktop-signed-out-by-admin").await;
    Ok(said)
}

#[tokio::test]
async fn a_pop_leaves_the_window_and_the_cache_at_its_ttl_and_an_admin_can_sign_the_agent_out() {
    let home = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(
        home.path(),
        &[
            ("RINGSIDE_WEBSOCKET__POP_TTL_SECS", "8"),
            ("RINGSIDE_AUTH__STEP_UP_WINDOW_SECS", "10"),
        ],
    )
    .await;
    let owner = Owner::join(&relay).await;
    owner.require_second_factor_of_everyone().await;
    let app = AgentApp::launch(home.path(), &relay).await;
    let outcome = scenario(&app, &relay, &owner).await;
    let finished = app.finish("expiry", outcome).await;

    assert!(
        finished.value.contains("an admin disabled your account"),
        "the reason is shown: {}",
        finished.value
    );
    finished.assert_nothing_readable(&["6175550199", "555-0199", "Whitfield"]);
}
