//! The Ringside desktop app: the window agents keep open to see screen pops, and where admins run
//! their organisation.
//!
//! This crate is a shell. Logic lives in `ringside-desktop-core` (the pops, the session, the
//! keychain, the profile), `ringside-client` and `ringside-core`; the modules in [`commands`] only
//! convert IPC arguments, call that logic and map failures to the one [`Error`] type the UI
//! understands, and [`events`] forwards the app's updates to the UI. Keeping it thin keeps the
//! logic testable without a webview.

pub mod args;
pub mod commands;
pub mod error;
pub mod events;

use std::sync::Arc;

use ringside_desktop_core::App;
use ringside_desktop_core::profile::Profile;
use tauri::Manager;

pub use error::Error;

/// Builds and runs the app until its last window closes, with the command line's `--relay` and
/// `--profile` ([`args::Args`]).
///
/// The Tauri config is read at compile time from `tauri.conf.json` at the repository root, and the
/// frontend is embedded from `ui/dist` (see `build.rs`).
///
/// # Errors
/// When the windowing system or webview cannot be started (e.g. no display), or the profile
/// folder cannot be opened.
pub fn run(args: args::Args) -> Result<(), tauri::Error> {
    tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .setup(move |app| {
            let dir = args.profile.clone().unwrap_or_else(Profile::default_dir);
            let profile = Profile::open(&dir)?;
            let handle = app.handle().clone();
            let notify: ringside_desktop_core::app::Notify =
                Arc::new(move |update| events::emit(&handle, &update));
            let desktop = App::new(profile, args.relay.clone(), args::device_name(), notify);
            app.manage(desktop.clone());
            tauri::async_runtime::spawn(async move { desktop.start().await });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::agent::overview,
            commands::agent::board,
            commands::agent::choose_relay,
            commands::agent::accept_invitation,
            commands::agent::sign_in,
            commands::agent::second_factor,
            commands::agent::sign_out,
            commands::agent::dismiss,
            commands::agent::dismiss_all,
            commands::agent::pick,
            commands::agent::note,
            commands::agent::mark_missed_seen,
            commands::agent::open_record,
            commands::agent::history,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
}
