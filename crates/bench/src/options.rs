//! The command line: which scenarios, at what scale.

use std::path::PathBuf;

/// Benchmarks the relay against bare baselines measured in the same run.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "ringside-bench", version)]
pub(crate) struct Options {
    /// A ~30 s smoke run: every scenario at a small scale.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Scenarios to run, comma-separated: latency, ingest, connections, flood, ams, sync.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "latency,ingest,connections,flood,ams,sync"
    )]
    pub(crate) only: Vec<String>,
    /// The `ringside-relay` binary (default: next to this one, i.e. target/release).
    #[arg(long)]
    pub(crate) relay_bin: Option<PathBuf>,
    /// Folder for the relay's data on disk (default: a temporary folder under target/).
    #[arg(long)]
    pub(crate) disk_dir: Option<PathBuf>,
    /// Folder on tmpfs for the "tmpfs" runs (skipped when it does not exist).
    #[arg(long, default_value = "/dev/shm")]
    pub(crate) tmpfs_dir: PathBuf,

    /// (a) calls per second.
    #[arg(long, default_value_t = 20)]
    pub(crate) rate: u32,
    /// (a) seconds of calls.
    #[arg(long)]
    pub(crate) seconds: Option<u64>,
    /// (a) agents connected; each call is routed to one of them in turn.
    #[arg(long)]
    pub(crate) agents: Option<usize>,

    /// (b) concurrent HTTP clients.
    #[arg(long, default_value_t = 32)]
    pub(crate) clients: usize,
    /// (b) seconds per ingest measurement.
    #[arg(long)]
    pub(crate) ingest_seconds: Option<u64>,

    /// (c) connections to aim for (capped by the open-file limit).
    #[arg(long)]
    pub(crate) connections: Option<usize>,
    /// (c) 127.0.0.x source addresses to spread the connections over.
    #[arg(long, default_value_t = 4)]
    pub(crate) sources: u8,

    /// (d) org B's calls per second.
    #[arg(long, default_value_t = 10)]
    pub(crate) flood_b_rate: u32,
    /// (d) seconds per phase (without, then with the flood).
    #[arg(long)]
    pub(crate) flood_seconds: Option<u64>,
    /// (d) the webhook quota of each org a minute (org B stays under it).
    #[arg(long, default_value_t = 600)]
    pub(crate) flood_quota: u32,
    /// (d) concurrent flooding clients of org A.
    #[arg(long, default_value_t = 16)]
    pub(crate) flood_clients: usize,

    /// Internal: run the bare tokio-tungstenite server of scenario (c) on this port.
    #[arg(long, hide = true)]
    pub(crate) bare_ws_server: Option<u16>,
    /// Internal: the bare server's read buffer in bytes (tokio-tungstenite's default otherwise).
    #[arg(long, hide = true)]
    pub(crate) bare_ws_read_buffer: Option<usize>,
}

impl Options {
    pub(crate) fn wants(&self, scenario: &str) -> bool {
        self.only.iter().any(|s| s == scenario)
    }
    pub(crate) fn latency_seconds(&self) -> u64 {
        self.seconds.unwrap_or(if self.quick { 3 } else { 10 })
    }
    pub(crate) fn latency_agents(&self) -> usize {
        self.agents.unwrap_or(if self.quick { 10 } else { 50 })
    }
    pub(crate) fn ingest_secs(&self) -> u64 {
        self.ingest_seconds
            .unwrap_or(if self.quick { 2 } else { 8 })
    }
    pub(crate) fn target_connections(&self) -> usize {
        self.connections
            .unwrap_or(if self.quick { 2_000 } else { 50_000 })
    }
    pub(crate) fn flood_secs(&self) -> u64 {
        self.flood_seconds
            .unwrap_or(if self.quick { 3 } else { 10 })
    }
}
