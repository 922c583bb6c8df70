//! The smoke test of the desktop app: the real binary starts under WebDriver on a fresh profile,
//! renders its shell — asking which relay to connect to, the first step of onboarding — and the
//! About line shows what the Rust `app_info` command returned. If this passes, the build,
//! the embedded frontend, the capability grants and the IPC round trip all work.

use fantoccini::{Client, Locator};

use crate::utils::ui::shot;
use crate::utils::{TauriDriver, desktop_binary};

/// How long the About line may take to show the result of `app_info`.
const ABOUT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// What the shell showed; gathered first, asserted after the app is closed, so a failed assert
/// never leaves the app running.
#[derive(Debug)]
struct Shell {
    title: String,
    product_name: String,
    first_step: String,
    app_version: Option<String>,
    protocol_version: Option<String>,
    error: Option<String>,
}

async fn read_shell(client: &Client) -> Result<Shell, fantoccini::error::CmdError> {
    // The About line settles either on the version (the call succeeded) or on an error state.
    client
        .wait()
        .at_most(ABOUT_TIMEOUT)
        .for_element(Locator::Css("#app-version, #app-info-error"))
        .await?;
    let text_of = async |css: &str| match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.map(Some),
        Err(error) if error.is_no_such_element() => Ok(None),
        Err(error) => Err(error),
    };
    Ok(Shell {
        title: client.title().await?,
        product_name: text_of("#product-name").await?.unwrap_or_default(),
        first_step: text_of("#relay-form h2").await?.unwrap_or_default(),
        app_version: text_of("#app-version").await?,
        protocol_version: text_of("#protocol-version").await?,
        error: text_of("#app-info-error").await?,
    })
}

#[tokio::test]
async fn the_desktop_app_shows_its_shell_and_the_version_rust_reports() {
    let app = desktop_binary();
    let driver = TauriDriver::start();
    let profile = tempfile::tempdir().unwrap();
    let args = [
        "--profile".to_owned(),
        profile.path().to_string_lossy().into_owned(),
    ];
    let client = driver.launch_with(&app, &args).await;

    let shell = read_shell(&client).await;
    shot(&client, "desktop-smoke").await;
    if let Err(error) = client.close().await {
        eprintln!("closing the WebDriver session failed: {error}");
    }

    let shell = shell.unwrap_or_else(|error| {
        panic!(
            "could not read the app's shell: {error}; driver log:\n{}",
            driver.log_text()
        )
    });
    drop(driver);

    assert_eq!(
        shell.title, "Ringside",
        "the window's document is titled after the product"
    );
    assert_eq!(
        shell.product_name, "Ringside",
        "the header names the product"
    );
    assert!(
        shell.first_step.contains("Connect to your agency's relay"),
        "a fresh profile starts by asking for the relay; it showed {:?}",
        shell.first_step
    );
    assert_eq!(
        shell.error, None,
        "the About line shows no error (an error here means the app_info IPC call failed)"
    );
    assert_eq!(
        shell.app_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION")),
        "the About line shows the workspace version, as returned by the Rust app_info command"
    );
    assert_eq!(
        shell.protocol_version,
        Some(ringside_core::PROTOCOL_VERSION.to_string()),
        "the About line shows ringside-core's protocol version, as returned by app_info"
    );
}
