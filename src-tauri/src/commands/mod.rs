//! Tauri commands, one module per area. Each command is a thin adapter: convert the arguments,
//! call plain-Rust logic from `crates/`, map the error to [`crate::Error`]. A new command must also
//! be listed in `build.rs` (`COMMANDS`), registered in `lib.rs` (`generate_handler!`), granted in
//! `capabilities/default.json` and given a method on the UI's `Backend` (`ui/src/lib/`).

pub mod agent;
pub mod app;
