//! The `ringside-desktop` binary. Everything lives in the library (`ringside_desktop::run`) so the
//! app's wiring can be reused and tested; this file reads the command line and reports a failure
//! to start.

// Release builds on Windows must not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

/// The log filter when `RINGSIDE_LOG` is not set: warnings, and the app's own notices.
const DEFAULT_LOG: &str = "warn,ringside_desktop=info,ringside_desktop_core=info";

fn main() -> ExitCode {
    // To stderr: the desktop session's journal keeps it. Nothing logged names a caller: the
    // app's personal data is wrapped (`Pii`) and never formatted into a message.
    let filter = tracing_subscriber::EnvFilter::try_from_env("RINGSIDE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // `RINGSIDE_LOG_FILE`: append there instead (a desktop launcher has no terminal to read).
    let file = std::env::var_os("RINGSIDE_LOG_FILE").and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    match file {
        Some(file) => builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init(),
        None => builder.with_writer(std::io::stderr).init(),
    }
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
