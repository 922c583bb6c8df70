//! The app's updates, emitted to the UI as Tauri events: `status` (a `ConnectionStatus`),
//! `board` (a `Board`) and `new_pop` (the pop's id). The UI listens and renders; it asks for
//! the current values with the `overview` and `board` commands when it starts. The tray shows
//! the status and whether pops are paused.
//!
//! A new pop also makes a desktop notification, when the agent has them on. It names no caller:
//! notification centres keep a history that outlives the pop's 5 minutes, and the number and
//! the name must not.

use ringside_desktop_core::{App, Update};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::tray::Tray;

/// Emits one update to every window.
pub fn emit(handle: &AppHandle, update: &Update) {
    let tray = handle.try_state::<Tray>();
    let sent = match update {
        Update::Status(status) => {
            if let Some(tray) = &tray {
                tray.status(status);
            }
            handle.emit("status", status)
        }
        Update::Board(board) => {
            if let Some(tray) = &tray {
                tray.board(board);
            }
            crate::pop_window::follow(handle, board);
            handle.emit("board", board)
        }
        Update::NewPop(pop) => {
            notify_desktop(handle);
            crate::pop_window::show(handle);
            handle.emit("new_pop", pop.to_string())
        }
    };
    if let Err(error) = sent {
        tracing::warn!(%error, "an update could not reach the UI");
    }
}

fn notify_desktop(handle: &AppHandle) {
    let wanted = handle
        .try_state::<App>()
        .is_some_and(|app| app.settings().notifications);
    if !wanted {
        return;
    }
    let shown = handle
        .notification()
        .builder()
        .title("Ringside: a call for you")
        .body("Open Ringside to see who it is.")
        .show();
    if let Err(error) = shown {
        tracing::info!(%error, "the desktop notification could not be shown");
    }
}
