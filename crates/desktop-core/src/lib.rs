//! `ringside-desktop-core`: everything the desktop app does that is not drawing — the pops on
//! the agent's screen ([`board`]), the session kept in the OS keychain ([`keychain`]), the
//! profile folder ([`profile`]), the sealed pop cache in it ([`cache`]) and the app's life with the relay: onboarding, sign-in, the
//! stream, the agent's notes and picks ([`app`]).
//!
//! Why a crate of its own: the app's rules must be testable without a webview (`cargo test -p
//! ringside-desktop-core`), and the Tauri shell (`src-tauri`) must stay a thin adapter — each
//! command converts its arguments, calls in here, and maps the error to the IPC shape
//! ([`ringside_core::wire::IpcError`]). It depends on `ringside-core`, `ringside-client` and `ringside-vault` only
//! (docs/architecture.md#crates-and-dependencies).

pub mod app;
pub mod board;
pub mod cache;
mod error;
pub mod instance;
pub mod keychain;
pub mod profile;

pub use app::{App, Update};
pub use error::Error;
