//! Structured logs through `tracing`: human-readable lines by default, JSON for log shippers.
//!
//! Logs never carry personal data. That is enforced where data enters (phone numbers, names,
//! transcripts are `Pii<T>`, which prints `[redacted]`), not by filtering here; tests capture the
//! logs of whole flows and scan them for marker values.

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber, writing to standard error. Call once, from the binary.
pub fn init(log: &LogConfig) {
    // The level was validated with the config; fall back to `info` rather than panic.
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into a log file or a journal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    // A second init (e.g. two commands in one test process) keeps the first subscriber.
    let _ = match log.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}
