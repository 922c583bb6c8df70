//! The agent's commands: the relay, joining and signing in, the pops and what the agent does to
//! them. Each is a thin adapter over `ringside_desktop_core::App`, which holds every rule.

use ringside_core::PopId;
use ringside_core::wire::{
    Board, Leaderboard, MyCallList, MyNoteList, Overview, PopSettings, RecoveryCodes, SignInStep,
    TotpSetup,
};
use ringside_desktop_core::App;
use tauri::State;

use crate::Error;

fn pop_id(text: &str) -> Result<PopId, Error> {
    text.parse()
        .map_err(|_| Error::InvalidInput("that pop is not known".to_owned()))
}

/// Which relay, whether sign-ins can be remembered, and the connection.
#[tauri::command]
pub fn overview(app: State<'_, App>) -> Result<Overview, Error> {
    Ok(app.overview())
}

/// The pops and missed calls now.
#[tauri::command]
pub fn board(app: State<'_, App>) -> Result<Board, Error> {
    Ok(app.board())
}

/// Chooses the relay this profile signs in to.
#[tauri::command]
pub fn choose_relay(app: State<'_, App>, url: String) -> Result<Overview, Error> {
    Ok(app.choose_relay(&url)?)
}

/// Joins the organisation with an invitation code.
#[tauri::command]
pub async fn accept_invitation(
    app: State<'_, App>,
    code: String,
    display_name: String,
    password: String,
) -> Result<(), Error> {
    Ok(app
        .accept_invitation(&code, &display_name, &password)
        .await?)
}

/// Signs in with an email and a password.
#[tauri::command]
pub async fn sign_in(
    app: State<'_, App>,
    email: String,
    password: String,
) -> Result<SignInStep, Error> {
    Ok(app.sign_in(&email, &password).await?)
}

/// Completes a sign-in with the second factor's code.
#[tauri::command]
pub async fn second_factor(app: State<'_, App>, code: String) -> Result<(), Error> {
    Ok(app.second_factor(&code).await?)
}

/// Starts setting up a second factor: the secret as text and as a QR code.
#[tauri::command]
pub async fn start_totp(app: State<'_, App>) -> Result<TotpSetup, Error> {
    Ok(app.start_totp().await?)
}

/// Confirms the second factor with a code from the authenticator; the recovery codes.
#[tauri::command]
pub async fn confirm_totp(app: State<'_, App>, code: String) -> Result<RecoveryCodes, Error> {
    Ok(app.confirm_totp(&code).await?)
}

/// Signs out.
#[tauri::command]
pub async fn sign_out(app: State<'_, App>) -> Result<(), Error> {
    Ok(app.sign_out().await?)
}

/// Closes a pop (on the agent's other devices too).
#[tauri::command]
pub async fn dismiss(app: State<'_, App>, pop_id: String) -> Result<Board, Error> {
    Ok(app.dismiss(self::pop_id(&pop_id)?).await?)
}

/// Closes every pop.
#[tauri::command]
pub async fn dismiss_all(app: State<'_, App>) -> Result<Board, Error> {
    Ok(app.dismiss_all().await?)
}

/// Picks one of a pop's matches for the call's note.
#[tauri::command]
pub async fn pick(app: State<'_, App>, pop_id: String, contact: String) -> Result<Board, Error> {
    Ok(app.pick(self::pop_id(&pop_id)?, &contact).await?)
}

/// The agent's note on a pop's call.
#[tauri::command]
pub async fn note(app: State<'_, App>, pop_id: String, text: String) -> Result<(), Error> {
    Ok(app.note(self::pop_id(&pop_id)?, &text).await?)
}

/// The second factor again, for an action the relay refused with `step_up_required`.
#[tauri::command]
pub async fn step_up(app: State<'_, App>, code: String) -> Result<(), Error> {
    Ok(app.step_up(&code).await?)
}

/// The agent's own recent calls.
#[tauri::command]
pub async fn history(app: State<'_, App>) -> Result<MyCallList, Error> {
    Ok(app.history().await?)
}

/// The agent's own notes not yet in the AMS.
#[tauri::command]
pub async fn notes(app: State<'_, App>) -> Result<MyNoteList, Error> {
    Ok(app.notes().await?)
}

/// The team's leaderboard over the last `days`.
#[tauri::command]
pub async fn leaderboard(app: State<'_, App>, days: u32) -> Result<Leaderboard, Error> {
    Ok(app.leaderboard(days).await?)
}

/// Brings the main window forward (the pop window's "Open Ringside").
#[tauri::command]
pub fn show_main(handle: tauri::AppHandle) {
    crate::show_main(&handle);
}

/// Pauses pops (none shown or announced until resumed) or resumes them.
#[tauri::command]
pub fn set_paused(app: State<'_, App>, paused: bool) -> Board {
    app.set_paused(paused)
}

/// What the agent chose about pops.
#[tauri::command]
pub fn settings(app: State<'_, App>) -> PopSettings {
    app.settings()
}

/// Keeps the agent's choices about pops (a cap outside 1–10 is refused).
#[tauri::command]
pub fn set_settings(app: State<'_, App>, settings: PopSettings) -> Result<PopSettings, Error> {
    Ok(app.set_settings(settings)?)
}

/// Marks every missed call seen.
#[tauri::command]
pub fn mark_missed_seen(app: State<'_, App>) -> Result<Board, Error> {
    Ok(app.mark_missed_seen())
}

/// Opens a client's record in the AMS ("Open in AMS") in the system's browser. Only an https
/// link the AMS gave is opened; anything else is refused.
#[tauri::command]
pub fn open_record(app: tauri::AppHandle, url: String) -> Result<(), Error> {
    use tauri_plugin_opener::OpenerExt;
    if !url.starts_with("https://") || url.chars().any(char::is_whitespace) {
        return Err(Error::InvalidInput(
            "only an https link of the AMS is opened".to_owned(),
        ));
    }
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|err| Error::Internal(err.to_string()))
}
