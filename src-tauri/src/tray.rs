//! The tray icon: the connection's status in its tooltip and first line, and the quick actions —
//! show the window, pause or resume pops, sign out, quit. It reads and changes the app only
//! through `ringside_desktop_core::App`, like the commands.

use ringside_core::wire::{Board, ConnectionStatus};
use ringside_desktop_core::App;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

/// The tray's items that change with the app.
pub struct Tray {
    status: MenuItem<Wry>,
    pause: CheckMenuItem<Wry>,
    icon: tauri::tray::TrayIcon<Wry>,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

/// Adds the tray icon.
///
/// # Errors
/// When the menu or the icon cannot be made.
pub fn install(handle: &AppHandle) -> tauri::Result<Tray> {
    let status = MenuItem::with_id(handle, "status", "Signed out", false, None::<&str>)?;
    let show = MenuItem::with_id(handle, "show", "Show Ringside", true, None::<&str>)?;
    let pause = CheckMenuItem::with_id(handle, "pause", "Pause pops", true, false, None::<&str>)?;
    let sign_out = MenuItem::with_id(handle, "sign_out", "Sign out", true, None::<&str>)?;
    let quit = MenuItem::with_id(handle, "quit", "Quit Ringside", true, None::<&str>)?;
    let menu = Menu::with_items(
        handle,
        &[
            &status,
            &PredefinedMenuItem::separator(handle)?,
            &show,
            &pause,
            &sign_out,
            &PredefinedMenuItem::separator(handle)?,
            &quit,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id("ringside")
        .menu(&menu)
        .tooltip("Ringside")
        .on_menu_event(|handle, event| on_menu(handle, event.id.as_ref()));
    if let Some(icon) = handle.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(handle)?;
    Ok(Tray {
        status,
        pause,
        icon,
    })
}

fn on_menu(handle: &AppHandle, id: &str) {
    let Some(app) = handle.try_state::<App>() else {
        return;
    };
    match id {
        "show" => crate::show_main(handle),
        "pause" => {
            let paused = app.board().paused;
            app.set_paused(!paused);
        }
        "sign_out" => {
            let app = app.inner().clone();
            tauri::async_runtime::spawn(async move {
                if let Err(error) = app.sign_out().await {
                    tracing::warn!(%error, "signing out from the tray failed");
                }
            });
        }
        "quit" => {
            app.shutdown();
            handle.exit(0);
        }
        _ => {}
    }
}

impl Tray {
    /// Shows the connection's status.
    pub fn status(&self, status: &ConnectionStatus) {
        let text = match status {
            ConnectionStatus::Connected => "Connected".to_owned(),
            ConnectionStatus::Connecting => "Connecting…".to_owned(),
            ConnectionStatus::Reconnecting { in_secs } => format!("Reconnecting in {in_secs} s"),
            ConnectionStatus::Unreachable => "Relay unreachable".to_owned(),
            ConnectionStatus::SecondFactorRequired => "Set up two-step sign-in".to_owned(),
            ConnectionStatus::Revoked { .. } => "Signed out by an admin".to_owned(),
            ConnectionStatus::SignedOut => "Signed out".to_owned(),
        };
        let _ = self.status.set_text(&text);
        let _ = self.icon.set_tooltip(Some(format!("Ringside — {text}")));
    }

    /// Shows whether pops are paused.
    pub fn board(&self, board: &Board) {
        let _ = self.pause.set_checked(board.paused);
    }
}
