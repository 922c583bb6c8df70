//! Driving the app's window as a person does: wait for what is shown, type, click, and keep a
//! screenshot of each screen in `<target>/e2e/` (docs/screenshots/ copies them for people). And
//! the agent's side of the scenarios that every one of them starts with: the app on its own
//! profile and webview folders, joined with an invitation.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};

use super::relay::Relay;
use super::{TauriDriver, artifacts_dir, desktop_binary};

/// How long the UI may take to show what it is waited for.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The agent's password in every scenario.
pub(crate) const PASSWORD: &str = "harbour violet anchor 58";

/// Saves a screenshot of the window as `<target>/e2e/{name}.png`.
pub(crate) async fn shot(client: &Client, name: &str) {
    // From the top, as a person first sees the screen (the status line in the header), whatever
    // an earlier step scrolled to; then WebKit paints a moment later: let the frame catch up.
    if let Err(error) = client.execute("window.scrollTo(0, 0);", vec![]).await {
        eprintln!("could not scroll to the top for the {name} screenshot: {error}");
    }
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

/// Types `text` into the field `css`, replacing what was there.
pub(crate) async fn fill(client: &Client, css: &str, text: &str) -> Result<(), CmdError> {
    let field = in_view(client, css).await?;
    field.clear().await?;
    field.send_keys(text).await
}

/// Clicks `css` once it is shown.
pub(crate) async fn click(client: &Client, css: &str) -> Result<(), CmdError> {
    in_view(client, css).await?.click().await
}

/// The element `css` once shown, scrolled to the middle of the window as a person would before
/// using it: WebKitWebDriver refuses an element cut by the window's edge, which large text
/// (the scaling runs) makes common.
async fn in_view(client: &Client, css: &str) -> Result<Element, CmdError> {
    let element = shown(client, css).await?;
    let arg = serde_json::to_value(&element).map_err(|e| CmdError::NotJson(e.to_string()))?;
    client
        .execute(
            "arguments[0].scrollIntoView({ block: 'center' });",
            vec![arg],
        )
        .await?;
    Ok(element)
}

/// The text of `css` once it is shown.
pub(crate) async fn text_of(client: &Client, css: &str) -> Result<String, CmdError> {
    shown(client, css).await?.text().await
}

/// The element `css` once the UI shows it (at most [`WAIT`]).
pub(crate) async fn shown(client: &Client, css: &str) -> Result<Element, CmdError> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
}

/// Waits until `check` holds, polling every 100 ms for up to [`WAIT`].
pub(crate) async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The app of one agent: its WebDriver session, and the folders it may write to.
pub(crate) struct AgentApp {
    pub(crate) driver: TauriDriver,
    pub(crate) client: Client,
    /// `--profile`.
    pub(crate) profile: PathBuf,
    /// The webview's own storage (localStorage, IndexedDB, caches) and the app's window state
    /// go under these (`XDG_DATA_HOME`, `XDG_CACHE_HOME`, `XDG_CONFIG_HOME`).
    webview: [PathBuf; 3],
    /// The app's command line.
    args: Vec<String>,
}

impl AgentApp {
    /// Launches the app on fresh folders under `home`, pointed at `relay`.
    pub(crate) async fn launch(home: &Path, relay: &Relay) -> Self {
        let (data, cache, config) = (
            home.join("xdg-data"),
            home.join("xdg-cache"),
            home.join("xdg-config"),
        );
        for dir in [&data, &cache, &config] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let profile = home.join("profile");
        let driver = TauriDriver::start_with_env(&[
            ("XDG_DATA_HOME", &data),
            ("XDG_CACHE_HOME", &cache),
            ("XDG_CONFIG_HOME", &config),
        ]);
        let args = vec![
            "--relay".to_owned(),
            relay.url.clone(),
            "--profile".to_owned(),
            profile.to_string_lossy().into_owned(),
        ];
        let client = driver.launch_with(&desktop_binary(), &args).await;
        Self {
            driver,
            client,
            profile,
            webview: [data, cache, config],
            args,
        }
    }

    /// The app's process: the `ringside-desktop` started on this profile.
    pub(crate) fn pid(&self) -> Option<u32> {
        let profile = self.profile.to_string_lossy();
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                cmdline.contains("ringside-desktop") && cmdline.contains(profile.as_ref())
            })
    }

    /// Quits the app (its WebDriver session closed) and starts it again on the same folders.
    pub(crate) async fn restart(self) -> Self {
        self.quit().await;
        let client = self.driver.launch_with(&desktop_binary(), &self.args).await;
        Self { client, ..self }
    }

    /// Quits the app and starts it again on the same folders by itself, with no WebDriver
    /// session attached (as an agent runs it: automation keeps state in the web process that
    /// the app does not). It is stopped when the returned process is dropped.
    #[allow(
        dead_code,
        reason = "the desktop bench's: the scenarios drive the app through WebDriver"
    )]
    pub(crate) async fn unattended(self) -> Unattended {
        self.quit().await;
        let [data, cache, config] = &self.webview;
        let child = std::process::Command::new(desktop_binary())
            .args(&self.args)
            .env("XDG_DATA_HOME", data)
            .env("XDG_CACHE_HOME", cache)
            .env("XDG_CONFIG_HOME", config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the desktop app starts");
        Unattended(child)
    }

    /// Closes the WebDriver session and waits until the app's process is gone: a new one
    /// started while the old one is still quitting would find it through the single-instance
    /// lock, hand it its arguments and exit, leaving WebDriver waiting for a window forever.
    async fn quit(&self) {
        if let Err(error) = self.client.clone().close().await {
            eprintln!("closing the WebDriver session failed: {error}");
        }
        eventually("the app to quit", || self.pid().is_none()).await;
    }

    /// Joins `relay`'s org as the agent `email` with a fresh invitation, until connected.
    pub(crate) async fn join(&self, relay: &Relay, email: &str) -> Result<(), CmdError> {
        self.submit_invitation(relay, email).await?;
        shown(&self.client, "#status[data-state=connected]")
            .await
            .map(drop)
    }

    /// Fills in and sends the join form with a fresh invitation for `email`.
    pub(crate) async fn submit_invitation(
        &self,
        relay: &Relay,
        email: &str,
    ) -> Result<(), CmdError> {
        let client = &self.client;
        shown(client, "#join-form").await?;
        let code = relay.invite_agent(email);
        fill(client, "#join-code", &code).await?;
        fill(client, "#join-name", "Desk Agent").await?;
        fill(client, "#join-password", PASSWORD).await?;
        click(client, "#join-submit").await
    }

    /// Ends the WebDriver session; a failed `outcome` gets a screenshot (`{name}-failure`) and
    /// the driver's log in its panic.
    pub(crate) async fn finish<T>(self, name: &str, outcome: Result<T, CmdError>) -> Finished<T> {
        if outcome.is_err() {
            shot(&self.client, &format!("{name}-failure")).await;
        }
        if let Err(error) = self.client.close().await {
            eprintln!("closing the WebDriver session failed: {error}");
        }
        let value = outcome.unwrap_or_else(|error| {
            panic!(
                "the {name} scenario stopped: {error}; driver log:\n{}",
                self.driver.log_text()
            )
        });
        Finished {
            value,
            profile: self.profile,
            webview: self.webview,
        }
    }
}

/// The app running by itself ([`AgentApp::unattended`]).
#[allow(
    dead_code,
    reason = "the desktop bench's: the scenarios drive the app through WebDriver"
)]
pub(crate) struct Unattended(std::process::Child);

#[allow(
    dead_code,
    reason = "the desktop bench's: the scenarios drive the app through WebDriver"
)]
impl Unattended {
    /// The app's process.
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Unattended {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a scenario answered, and the folders the app wrote.
pub(crate) struct Finished<T> {
    pub(crate) value: T,
    profile: PathBuf,
    webview: [PathBuf; 3],
}

impl<T> Finished<T> {
    /// Asserts no file the app wrote (its profile, the webview's storage and caches) holds
    /// any of `markers` in readable form.
    pub(crate) fn assert_nothing_readable(&self, markers: &[&str]) {
        let mut files = walk(&self.profile);
        for dir in &self.webview {
            files.extend(walk(dir));
        }
        assert!(!files.is_empty(), "the profile was written");
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for marker in markers {
                assert!(
                    !text.contains(marker),
                    "{marker:?} is in the app's {}",
                    file.display()
                );
            }
        }
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.is_file() {
            // Not the instance's socket, which a killed app leaves behind.
            out.push(path);
        }
    }
    out
}
