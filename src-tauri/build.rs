//! Build script: checks that the frontend has been built, then runs tauri-build.
//!
//! `tauri::generate_context!` embeds `ui/dist` into the binary at compile time, so a missing
//! `ui/dist` would otherwise surface as an obscure proc-macro error. The Tauri config lives at the
//! repository root, not in this crate, hence `config_path`. App commands are declared here so
//! tauri-build generates an `allow-<command>` permission for each, which
//! `capabilities/default.json` grants to the main window.

use std::path::Path;
use std::process::ExitCode;

/// Every `#[tauri::command]` registered in `lib.rs`; a command missing here cannot be granted.
const COMMANDS: &[&str] = &[
    "app_info",
    "autostart",
    "set_autostart",
    "set_paused",
    "show_main",
    "overview",
    "board",
    "choose_relay",
    "accept_invitation",
    "sign_in",
    "second_factor",
    "start_totp",
    "confirm_totp",
    "sign_out",
    "dismiss",
    "dismiss_all",
    "pick",
    "note",
    "mark_missed_seen",
    "open_record",
    "step_up",
    "history",
    "notes",
    "leaderboard",
    "settings",
    "set_settings",
];

fn main() -> ExitCode {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("index.html").is_file() {
        eprintln!(
            "error: the desktop frontend is not built ({} is missing).\n\
             run `npm --prefix ui ci && npm --prefix ui run build` first (see docs/desktop.md)",
            dist.join("index.html").display()
        );
        return ExitCode::FAILURE;
    }

    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("error: tauri-build failed: {error:#}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
