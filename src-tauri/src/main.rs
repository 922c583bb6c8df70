//! The `ringside-desktop` binary. Everything lives in the library (`ringside_desktop::run`) so the
//! app's wiring can be reused and tested; this file reads the command line and reports a failure
//! to start.

// Release builds on Windows must not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match ringside_desktop::args::Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("ringside-desktop: {message}");
            return ExitCode::from(2);
        }
    };
    match ringside_desktop::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ringside-desktop: {error}");
            ExitCode::FAILURE
        }
    }
}
