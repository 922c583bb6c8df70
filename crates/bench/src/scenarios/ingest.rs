//! (b) ingest: the highest sustained rate of signed, durably accepted webhooks (200s only), each
//! a new ringing call routed to one of ten agents (its pop stored sealed), from several
//! concurrent HTTP clients — beside a bare axum handler that reads the body and answers 200.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Bench, start_relay};
use crate::baseline::Forwarder;
use crate::client::{Signer, post};
use crate::relay::OrgSpec;
use crate::report::{Report, Row, ratio};

const AGENTS: usize = 10;

pub(super) async fn run(bench: &Bench, report: &mut Report) -> Result<()> {
    let (clients, secs) = (bench.options.clients, bench.options.ingest_secs());
    report.section(&format!(
        "(b) ingest: {clients} concurrent clients for {secs} s, new ringing calls routed to one of {AGENTS} agents"
    ));
    let disk = bench.disk_dir()?;
    let (ours, signer) = relay_run(bench, disk.path(), clients, secs).await?;
    crate::report::progress("bare axum 200-OK handler, in process");
    let forwarder = Forwarder::start().await?;
    let ok_url = format!("http://{}/ok", forwarder.http);
    let base = hammer(clients, secs, Arc::new(signer), move |_| ok_url.clone()).await;
    let row = |label: &str, ours: &Rate| Row {
        figure: label.to_owned(),
        ours: format!("{:.0}/s", ours.per_sec),
        baseline: format!("{:.0}/s", base.per_sec),
        ratio: ratio(ours.per_sec, base.per_sec),
        target: "≥ 0.5× baseline".to_owned(),
    };
    report.row(row("(b) accepted webhooks, SQLite on disk", &ours));
    report.note(format!(
        "(b) disk: {} accepted, {} other answers; baseline {} answered 200",
        ours.ok, ours.other, base.ok
    ));
    if let Some(tmpfs) = bench.tmpfs_dir()? {
        let (ours_tmpfs, _) = relay_run(bench, tmpfs.path(), clients, secs).await?;
        report.row(row("(b) accepted webhooks, SQLite on tmpfs", &ours_tmpfs));
        report.note(format!(
            "(b) tmpfs: {} accepted, {} other answers",
            ours_tmpfs.ok, ours_tmpfs.other
        ));
    }
    Ok(())
}

async fn relay_run(
    bench: &Bench,
    dir: &std::path::Path,
    clients: usize,
    secs: u64,
) -> Result<(Rate, Signer)> {
    let (relay, prepared) = start_relay(
        bench,
        dir,
        1_000_000,
        vec![OrgSpec {
            name: "Ingest",
            agents: AGENTS,
        }],
    )
    .await?;
    let org = prepared.orgs.first().context("the org")?;
    let signer = Signer::new(relay.addr, &org.integration, &org.secret)?;
    let url = signer.url.clone();
    let rate = hammer(clients, secs, Arc::new(signer.clone()), move |_| {
        url.clone()
    })
    .await;
    relay.stop().await;
    Ok((rate, signer))
}

/// Answers counted over a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    pub(crate) ok: u64,
    pub(crate) other: u64,
    pub(crate) per_sec: f64,
}

/// `clients` loops, each signing and POSTing a new call and waiting for the answer, for `secs`.
pub(crate) async fn hammer(
    clients: usize,
    secs: u64,
    signer: Arc<Signer>,
    url: impl Fn(u64) -> String + Send + Sync + 'static,
) -> Rate {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap_or_default();
    let next = Arc::new(AtomicU64::new(1));
    let ok = Arc::new(AtomicU64::new(0));
    let other = Arc::new(AtomicU64::new(0));
    let url = Arc::new(url);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, next, ok, other) = (
                http.clone(),
                Arc::clone(&next),
                Arc::clone(&ok),
                Arc::clone(&other),
            );
            let (signer, url) = (Arc::clone(&signer), Arc::clone(&url));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let agent = format!("agent-{}", n % AGENTS as u64);
                    let Ok(signed) = signer.ringing(n, &agent) else {
                        other.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    match post(&http, &url(n), &signed).await {
                        Ok(200) => ok.fetch_add(1, Ordering::Relaxed),
                        _ => other.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ok = ok.load(Ordering::Relaxed);
    Rate {
        ok,
        other: other.load(Ordering::Relaxed),
        per_sec: ok as f64 / elapsed,
    }
}
