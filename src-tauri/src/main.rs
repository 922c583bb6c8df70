//! The `ringside-desktop` binary. Everything lives in the library (`ringside_desktop::run`) so the
//! app's wiring can be reused and tested; this file only reports a failure to start.

// Release builds on Windows must not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    match ringside_desktop::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ringside-desktop: {error}");
            ExitCode::FAILURE
        }
    }
}
