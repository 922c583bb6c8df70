//! (c) connections held and resident memory per connection: the relay (a child process) holds
//! as many stream connections as this machine allows toward the target; its RSS growth divided
//! by the connections is the cost of one. The baseline is a bare tokio-tungstenite server in a
//! child process of its own, measured the same way.
//!
//! Each agent may get 100 stream tickets a minute, so the bench signs in one agent per 100
//! connections (several devices per agent, as the hub allows). Connections come from several
//! 127.0.0.x source addresses, each with its own range of ephemeral ports.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use super::{Bench, start_relay};
use crate::client::{connect, hold, source, ticket};
use crate::relay::{OrgSpec, rss_kib};
use crate::report::{Report, Row, progress, ratio};

/// Tickets one agent may get a minute (the per-user API limit).
const PER_AGENT: usize = 100;
/// Connections being opened at once.
const IN_FLIGHT: usize = 32;
/// File descriptors kept aside for everything else (HTTP pool, database, logs).
const SPARE_FDS: u64 = 200;

pub(super) async fn run(bench: &Bench, report: &mut Report) -> Result<()> {
    let wanted = bench.options.target_connections();
    let cap = usize::try_from(bench.nofile.saturating_sub(SPARE_FDS)).unwrap_or(usize::MAX);
    let target = wanted.min(cap);
    report.section(&format!(
        "(c) connections held: aiming for {target} (asked {wanted}; open-file limit {} per process), {} source addresses",
        bench.nofile, bench.options.sources
    ));
    // The data folder hardly matters here (no webhooks); tmpfs makes the sign-ins quick.
    let dir = match bench.tmpfs_dir()? {
        Some(dir) => dir,
        None => bench.disk_dir()?,
    };
    let agents = target.div_ceil(PER_AGENT);
    let (relay, prepared) = start_relay(
        bench,
        dir.path(),
        200,
        vec![OrgSpec {
            name: "Crowd",
            agents,
        }],
    )
    .await?;
    let tokens: Vec<String> = prepared
        .orgs
        .first()
        .context("the org")?
        .agents
        .iter()
        .map(|a| a.access_token.clone())
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = relay.rss_kib()?;
    let ours = open_many(bench, relay.addr, target, Some(tokens)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = relay.rss_kib()?;
    let ours_alive = ours.alive();
    let (elapsed, failed, first_error) = (ours.elapsed, ours.failed, ours.first_error.clone());
    ours.close();
    relay.stop().await;
    let ours_per = per_conn(before, after, ours_alive);

    let base = bare(bench, target, None).await?;
    let tuned = bare(bench, target, Some(TUNED_READ_BUFFER)).await?;
    let (base_alive, base_per) = (base.alive, base.per_conn());

    report.row(Row {
        figure: "(c) stream connections held".to_owned(),
        ours: ours_alive.to_string(),
        baseline: base_alive.to_string(),
        ratio: ratio(ours_alive as f64, base_alive as f64),
        target: "≥ 50,000".to_owned(),
    });
    report.row(Row {
        figure: "(c) server RSS per connection".to_owned(),
        ours: format!("{:.1} KiB", ours_per),
        baseline: format!("{:.1} KiB", base_per),
        ratio: ratio(ours_per, base_per),
        target: "≤ 10 KB".to_owned(),
    });
    report.row(Row {
        figure: "(c) server RSS per connection vs a bare server with a 4 KiB read buffer"
            .to_owned(),
        ours: format!("{:.1} KiB", ours_per),
        baseline: format!("{:.1} KiB", tuned.per_conn()),
        ratio: ratio(ours_per, tuned.per_conn()),
        target: "≤ 10 KB".to_owned(),
    });
    report.note(format!(
        "(c) relay RSS {before} KiB → {after} KiB with {ours_alive} connections (opened in {:.1} s, {} failed{}); bare server {} KiB → {} KiB with {base_alive}; with a 4 KiB read buffer {} KiB → {} KiB with {}",
        elapsed.as_secs_f64(),
        failed,
        first_error.map(|e| format!(", first: {e}")).unwrap_or_default(),
        base.before,
        base.after,
        tuned.before,
        tuned.after,
        tuned.alive,
    ));
    if target < wanted {
        report.note(format!(
            "(c) limited by the open-file limit: {} per process here (hard limit; raising it needs CAP_SYS_RESOURCE), and the relay needs one descriptor per connection",
            bench.nofile
        ));
    }
    Ok(())
}

/// The read buffer of the tuned bare server.
const TUNED_READ_BUFFER: usize = 4096;

/// A bare server's figures.
struct Bare {
    alive: usize,
    before: u64,
    after: u64,
}

impl Bare {
    fn per_conn(&self) -> f64 {
        per_conn(self.before, self.after, self.alive)
    }
}

/// Holds `target` connections on the bare server (a child process) and reads its RSS.
async fn bare(bench: &Bench, target: usize, read_buffer: Option<usize>) -> Result<Bare> {
    progress(&match read_buffer {
        Some(n) => format!("bare tokio-tungstenite server, {n}-byte read buffer (child process)"),
        None => "bare tokio-tungstenite server, default configuration (child process)".to_owned(),
    });
    let (mut child, addr) = bare_server(read_buffer).await?;
    let pid = child.id().context("the baseline's pid")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid)?;
    let opened = open_many(bench, addr, target, None).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid)?;
    let alive = opened.alive();
    opened.close();
    let _ = child.kill().await;
    Ok(Bare {
        alive,
        before,
        after,
    })
}

/// RSS growth per connection, in KiB.
fn per_conn(before: u64, after: u64, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    after.saturating_sub(before) as f64 / n as f64
}

/// Connections opened by [`open_many`].
struct Opened {
    holders: Vec<JoinHandle<()>>,
    alive: Arc<AtomicUsize>,
    failed: usize,
    first_error: Option<String>,
    elapsed: Duration,
}

impl Opened {
    fn alive(&self) -> usize {
        self.alive.load(Ordering::Relaxed)
    }

    fn close(self) {
        for h in self.holders {
            h.abort();
        }
    }
}

/// Opens up to `target` connections to `server`: the relay's stream (a ticket per connection,
/// from `tokens` in turn, [`PER_AGENT`] each) or, without tokens, the bare server. Stops early
/// after 100 failures.
async fn open_many(
    bench: &Bench,
    server: SocketAddr,
    target: usize,
    tokens: Option<Vec<String>>,
) -> Opened {
    let started = Instant::now();
    let http = reqwest::Client::new();
    let alive = Arc::new(AtomicUsize::new(0));
    let failures: Arc<Mutex<(usize, Option<String>)>> = Arc::default();
    let sources = bench.options.sources;
    let tokens = tokens.map(Arc::new);
    let holders: Vec<JoinHandle<()>> = futures_util::stream::iter(0..target)
        .map(|n| {
            let (http, alive, failures, tokens) = (
                http.clone(),
                Arc::clone(&alive),
                Arc::clone(&failures),
                tokens.clone(),
            );
            async move {
                if failures.lock().unwrap_or_else(PoisonError::into_inner).0 >= 100 {
                    return None;
                }
                let opened = async {
                    let url = match &tokens {
                        Some(tokens) => {
                            let token = tokens.get(n / PER_AGENT).context("an agent")?;
                            let t = ticket(&http, server, token).await?;
                            format!("ws://{server}/v1/stream?ticket={t}")
                        }
                        None => format!("ws://{server}/"),
                    };
                    connect(server, &url, source(n, sources)).await
                }
                .await;
                match opened {
                    Ok(ws) => {
                        alive.fetch_add(1, Ordering::Relaxed);
                        if n > 0 && n % 5_000 == 0 {
                            progress(&format!("{n} connections"));
                        }
                        let alive = Arc::clone(&alive);
                        Some(tokio::spawn(async move {
                            hold(ws).await;
                            alive.fetch_sub(1, Ordering::Relaxed);
                        }))
                    }
                    Err(err) => {
                        let mut f = failures.lock().unwrap_or_else(PoisonError::into_inner);
                        f.0 += 1;
                        f.1.get_or_insert_with(|| format!("{err:#}"));
                        None
                    }
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .filter_map(|h| async move { h })
        .collect()
        .await;
    let (failed, first_error) =
        std::mem::take(&mut *failures.lock().unwrap_or_else(PoisonError::into_inner));
    Opened {
        holders,
        alive,
        failed,
        first_error,
        elapsed: started.elapsed(),
    }
}

/// Starts this binary as the bare WebSocket server on a free port.
async fn bare_server(read_buffer: Option<usize>) -> Result<(tokio::process::Child, SocketAddr)> {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command.arg("--bare-ws-server").arg(addr.port().to_string());
    if let Some(n) = read_buffer {
        command.arg("--bare-ws-read-buffer").arg(n.to_string());
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    for _ in 0..250 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok((child, addr));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("the bare WebSocket server did not start on {addr}")
}
