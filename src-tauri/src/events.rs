//! The app's updates, emitted to the UI as Tauri events: `status` (a `ConnectionStatus`),
//! `board` (a `Board`) and `new_pop` (the pop's id). The UI listens and renders; it asks for
//! the current values with the `overview` and `board` commands when it starts.

use ringside_desktop_core::Update;
use tauri::{AppHandle, Emitter};

/// Emits one update to every window.
pub fn emit(handle: &AppHandle, update: &Update) {
    let sent = match update {
        Update::Status(status) => handle.emit("status", status),
        Update::Board(board) => handle.emit("board", board),
        Update::NewPop(pop) => handle.emit("new_pop", pop.to_string()),
    };
    if let Err(error) = sent {
        tracing::warn!(%error, "an update could not reach the UI");
    }
}
