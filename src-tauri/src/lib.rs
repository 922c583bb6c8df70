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
pub mod pop_window;
pub mod tray;

use std::sync::Arc;

use ringside_desktop_core::profile::Profile;
use ringside_desktop_core::{App, instance};
use tauri::{AppHandle, Manager};

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
    let dir = args.profile.clone().unwrap_or_else(Profile::default_dir);
    let profile = Profile::open(&dir)?;
    let instance = match instance::claim(&dir)? {
        instance::Claim::First(instance) => instance,
        instance::Claim::AlreadyRunning => {
            tracing::info!("Ringside already runs on this profile: its window was brought forward");
            return Ok(());
        }
    };
    let autostart_args = vec!["--profile".to_owned(), dir.to_string_lossy().into_owned()];
    tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .args(autostart_args)
                .build(),
        )
        .plugin(
            tauri_plugin_global_shortcut::Builder::new()
                .with_handler(|handle, _shortcut, event| {
                    if event.state() == tauri_plugin_global_shortcut::ShortcutState::Pressed {
                        show_main(handle);
                    }
                })
                .build(),
        )
        .setup(move |app| {
            let shown = app.handle().clone();
            instance.on_show(move || show_main(&shown))?;
            app.manage(instance);
            desktop_conventions(app.handle());
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
            commands::app::autostart,
            commands::app::set_autostart,
            commands::agent::overview,
            commands::agent::board,
            commands::agent::choose_relay,
            commands::agent::accept_invitation,
            commands::agent::sign_in,
            commands::agent::second_factor,
            commands::agent::start_totp,
            commands::agent::confirm_totp,
            commands::agent::sign_out,
            commands::agent::dismiss,
            commands::agent::dismiss_all,
            commands::agent::pick,
            commands::agent::note,
            commands::agent::mark_missed_seen,
            commands::agent::open_record,
            commands::agent::step_up,
            commands::agent::history,
            commands::agent::notes,
            commands::agent::leaderboard,
            commands::agent::set_paused,
            commands::agent::show_main,
            commands::agent::settings,
            commands::agent::set_settings,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
}

/// The shortcut that brings the window and its latest pop forward from any application.
pub const SHOW_SHORTCUT: &str = "CommandOrControl+Alt+R";

/// The tray and the global shortcut. Neither is needed to take calls, so a desktop without a
/// tray host or a shortcut taken by another app gets a warning, not a failure.
fn desktop_conventions(handle: &AppHandle) {
    match tray::install(handle) {
        Ok(tray) => {
            handle.manage(tray);
        }
        Err(error) => tracing::warn!(%error, "no tray icon"),
    }
    use tauri_plugin_global_shortcut::GlobalShortcutExt;
    if let Err(error) = handle.global_shortcut().register(SHOW_SHORTCUT) {
        tracing::warn!(%error, shortcut = SHOW_SHORTCUT, "the shortcut could not be registered");
    }
}

/// Brings the main window forward (another start on this profile asked, the tray, the shortcut).
pub(crate) fn show_main(handle: &AppHandle) {
    if let Some(window) = handle.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
