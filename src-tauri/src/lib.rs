//! The Ringside desktop app: the window agents keep open to see screen pops, and where admins run
//! their organisation.
//!
//! This crate is a shell. Logic lives in plain-Rust crates (`ringside-core`, later
//! `ringside-client` and `ringside-vault`); the modules in [`commands`] only convert IPC arguments,
//! call that logic and map failures to the one [`Error`] type the UI understands. Keeping it thin
//! keeps the logic testable without a webview.

pub mod commands;
pub mod error;

pub use error::{Code, Error};

/// Builds and runs the app until its last window closes.
///
/// The Tauri config is read at compile time from `tauri.conf.json` at the repository root, and the
/// frontend is embedded from `ui/dist` (see `build.rs`).
///
/// # Errors
/// When the windowing system or webview cannot be started (e.g. no display).
pub fn run() -> Result<(), tauri::Error> {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app::app_info])
        .run(tauri::generate_context!("../tauri.conf.json"))
}
