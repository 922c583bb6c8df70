//! The six scenarios and what they share: the machine header, data folders, paced calls.

mod ams;
mod connections;
mod flood;
mod ingest;
mod latency;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ringside_providers::simulate::SignedRequest;
use tempfile::TempDir;

use crate::client::{Arrivals, Awaited, connect, post, relay_agent, source, ticket};
use crate::options::Options;
use crate::relay::{OrgSpec, Prepared, RelayProcess, prepare};
use crate::report::{Report, progress};
use crate::stats::Summary;

/// What every scenario needs.
#[derive(Debug)]
pub(crate) struct Bench {
    pub(crate) options: Options,
    pub(crate) relay_bin: PathBuf,
    /// The open-file limit after raising it (soft = hard).
    pub(crate) nofile: u64,
}

impl Bench {
    /// A fresh folder for a relay's data on disk.
    pub(crate) fn disk_dir(&self) -> Result<TempDir> {
        let parent = self
            .options
            .disk_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&parent)?;
        Ok(tempfile::Builder::new()
            .prefix("ringside-bench-")
            .tempdir_in(parent)?)
    }

    /// A fresh folder on tmpfs, when there is one.
    pub(crate) fn tmpfs_dir(&self) -> Result<Option<TempDir>> {
        let parent = &self.options.tmpfs_dir;
        if !parent.is_dir() {
            return Ok(None);
        }
        Ok(Some(
            tempfile::Builder::new()
                .prefix("ringside-bench-")
                .tempdir_in(parent)?,
        ))
    }
}

/// Runs the bench (or, with `--bare-ws-server`, the baseline server of scenario (c)).
pub(crate) fn main(options: Options) -> Result<()> {
    if let Some(port) = options.bare_ws_server {
        raise_nofile();
        return crate::baseline::bare_ws_server(port, options.bare_ws_read_buffer);
    }
    let nofile = raise_nofile();
    let relay_bin = match &options.relay_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the bench's folder")?
            .join("ringside-relay"),
    };
    anyhow::ensure!(
        relay_bin.is_file(),
        "{} not found: build it first (cargo build --release -p ringside-relay) or pass --relay-bin",
        relay_bin.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bench = Bench {
        options,
        relay_bin,
        nofile,
    };
    runtime.block_on(run(&bench))
}

async fn run(bench: &Bench) -> Result<()> {
    let mut report = Report::default();
    report.section(&machine(bench));
    let started = Instant::now();
    if bench.options.wants("latency") {
        latency::run(bench, &mut report).await?;
    }
    if bench.options.wants("ingest") {
        ingest::run(bench, &mut report).await?;
    }
    if bench.options.wants("connections") {
        connections::run(bench, &mut report).await?;
    }
    if bench.options.wants("flood") {
        flood::run(bench, &mut report).await?;
    }
    if bench.options.wants("ams") {
        ams::run(bench, &mut report).await?;
    }
    if bench.options.wants("sync") {
        sync::run(bench, &mut report).await?;
    }
    report.note(format!(
        "whole run: {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    report.print();
    Ok(())
}

/// Raises the soft open-file limit to the hard one; the limit now in force.
fn raise_nofile() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024)
}

/// One line about where and when this ran.
fn machine(bench: &Bench) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024 / 1024);
    let now = ringside_core::Clock::now(&ringside_core::SystemClock);
    format!(
        "ringside-bench {}: {cores} cores ({cpu}), {mem_gib} GiB, Linux {}, open-file limit {}, {}-{:02}-{:02} {:02}:{:02} UTC",
        if bench.options.quick {
            "--quick"
        } else {
            "full"
        },
        kernel.trim(),
        bench.nofile,
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    )
}

/// One webhook of a paced run: where it goes, the signed request, its marker.
#[derive(Debug)]
pub(crate) struct Shot {
    pub(crate) url: String,
    pub(crate) signed: SignedRequest,
    pub(crate) mark: u64,
}

/// Fires `shots` at `rate` a second (each POST in its own task, so a slow answer never delays
/// the schedule) and measures, for each answered 200, the time from the start of the POST to the
/// marked message's arrival on a socket. Anything not there 5 s after the last answer is lost.
pub(crate) async fn paced(
    http: &reqwest::Client,
    rate: u32,
    shots: Vec<Shot>,
    arrivals: &Arc<Arrivals>,
) -> Result<(Summary, usize)> {
    let sent: Arc<Mutex<Vec<(u64, Instant, u16)>>> = Arc::default();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let mut tasks = Vec::with_capacity(shots.len());
    for shot in shots {
        ticker.tick().await;
        let (http, sent) = (http.clone(), Arc::clone(&sent));
        tasks.push(tokio::spawn(async move {
            let start = Instant::now();
            let status = post(&http, &shot.url, &shot.signed).await.unwrap_or(0);
            sent.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((shot.mark, start, status));
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let sent = std::mem::take(&mut *sent.lock().unwrap_or_else(PoisonError::into_inner));
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline
        && sent
            .iter()
            .any(|(m, _, s)| *s == 200 && arrivals.get(*m).is_none())
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = sent.iter().filter(|(_, _, s)| *s != 200).count();
    let mut samples = Vec::new();
    let mut lost = 0;
    for (mark, start, status) in &sent {
        if *status != 200 {
            continue;
        }
        match arrivals.get(*mark) {
            Some(at) => samples.push(at.saturating_duration_since(*start)),
            None => lost += 1,
        }
    }
    Ok((Summary::of(samples, lost), refused))
}

/// Each of `agents` on the relay's stream (a ticket, a socket, `resume`), timing `awaited` into
/// `arrivals`; settles for a moment so every socket is registered before the first call.
pub(crate) async fn agents_on_stream(
    http: &reqwest::Client,
    relay: std::net::SocketAddr,
    agents: &[crate::relay::Agent],
    arrivals: &Arc<Arrivals>,
    awaited: Awaited,
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut sockets = Vec::with_capacity(agents.len());
    for agent in agents {
        let t = ticket(http, relay, &agent.access_token).await?;
        let url = format!("ws://{relay}/v1/stream?ticket={t}");
        let ws = connect(relay, &url, source(0, 1)).await?;
        sockets.push(tokio::spawn(relay_agent(ws, Arc::clone(arrivals), awaited)));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(sockets)
}

/// Progress line for a data folder.
pub(crate) fn where_(dir: &Path) -> String {
    let fs = if dir.starts_with("/dev/shm") {
        "tmpfs"
    } else {
        "disk"
    };
    format!("{fs}: {}", dir.display())
}

/// Prepares a relay in `dir` with `orgs` (see [`prepare`]) off the async threads, then starts it.
pub(crate) async fn start_relay(
    bench: &Bench,
    dir: &Path,
    per_org_per_minute: u32,
    orgs: Vec<OrgSpec>,
) -> Result<(RelayProcess, Prepared)> {
    announce("relay", dir);
    let root = dir.to_owned();
    let prepared =
        tokio::task::spawn_blocking(move || prepare(&root, per_org_per_minute, &orgs)).await??;
    let relay = RelayProcess::start(&bench.relay_bin, &prepared).await?;
    Ok((relay, prepared))
}

/// Prints where a relay runs.
pub(crate) fn announce(what: &str, dir: &Path) {
    progress(&format!("{what} ({})", where_(dir)));
}
