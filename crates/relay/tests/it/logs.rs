//! The debug-level log of every in-process relay of this test binary, kept in memory, so a test
//! can scan whole flows for marker values (`ringside_relay::telemetry`: logs never carry personal
//! data). Installed once, by the first test that asks; from then on every relay in the process
//! logs into it, so a marker found there is a leak whichever test caused it.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::EnvFilter;

/// Everything at `debug` from Ringside's crates and the HTTP stack's own logs at `info` (the
/// connection-level chatter of hyper, h2 and rustls is noise, not data).
const FILTER: &str = "debug,hyper=info,hyper_util=info,h2=info,rustls=info,reqwest=info,\
                      tungstenite=info,tokio_tungstenite=info";

/// The captured log lines.
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// What was logged so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The process's captured log, installed as the global subscriber on first use.
pub(crate) fn captured() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(FILTER))
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&writer)))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test installs a global subscriber");
        Logs(buffer)
    })
}
