//! (a) webhook → pop latency at a fixed call rate with N agents connected. Each call is routed
//! (provider user `agent-k`) to exactly one agent, the agents in turn; the baseline forwards each
//! body to the one matching socket.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::{Bench, Shot, agents_on_stream, paced, start_relay};
use crate::baseline::Forwarder;
use crate::client::{
    Arrivals, Awaited, CALLER, Signer, baseline_agent, connect, next_text, source,
};
use crate::relay::{OrgSpec, PreparedOrg};
use crate::report::{Report, Row, ratio};
use crate::stats::{Summary, ms};

/// Warm-up calls before each measured run (connection pools, caches); not counted.
pub(super) const WARM_UP: u64 = 10;

pub(super) async fn run(bench: &Bench, report: &mut Report) -> Result<()> {
    let o = &bench.options;
    let (rate, secs, agents) = (o.rate, o.latency_seconds(), o.latency_agents());
    let calls = u64::from(rate) * secs;
    report.section(&format!(
        "(a) webhook → pop latency: {rate} calls/s for {secs} s, {agents} agents connected, each call routed to one agent"
    ));
    let disk = bench.disk_dir()?;
    let (ours, signer) = relay_run(bench, disk.path(), agents, rate, calls).await?;
    let base = baseline_run(&signer, agents, rate, calls).await?;
    rows(report, "(a) latency, SQLite on disk", &ours, &base);
    if let Some(tmpfs) = bench.tmpfs_dir()? {
        let (ours_tmpfs, _) = relay_run(bench, tmpfs.path(), agents, rate, calls).await?;
        rows(report, "(a) latency, SQLite on tmpfs", &ours_tmpfs, &base);
    }
    report.note(
        "(a) the relay answers 200 only after one SQLite transaction (dedupe record, call state, \
         routing, sealed pop) is committed with synchronous=FULL, i.e. after an fsync; the \
         forwarder stores nothing. The tmpfs rows show the same relay with the fsync made free.",
    );
    Ok(())
}

fn rows(report: &mut Report, label: &str, ours: &(Summary, usize), base: &(Summary, usize)) {
    let (o, b) = (&ours.0, &base.0);
    for (name, ov, bv) in [
        ("p50", o.p50, b.p50),
        ("p99", o.p99, b.p99),
        ("max", o.max, b.max),
    ] {
        report.row(Row {
            figure: format!("{label} {name}"),
            ours: ms(ov),
            baseline: ms(bv),
            ratio: ratio(ov.as_secs_f64(), bv.as_secs_f64()),
            target: if name == "p99" {
                "≤ 1.5× baseline".to_owned()
            } else {
                String::new()
            },
        });
    }
    report.note(format!(
        "{label}: ours {} pops ({} lost, {} non-200), baseline {} ({} lost, {} non-200)",
        o.count, o.lost, ours.1, b.count, b.lost, base.1
    ));
}

/// Marks `from..from+n` routed to the agents in turn, every call from the number `caller`.
pub(super) fn shots(
    signer: &Signer,
    org: &[String],
    url: impl Fn(usize) -> String,
    (from, n): (u64, u64),
    caller: &str,
) -> Result<Vec<Shot>> {
    (from..from + n)
        .map(|mark| {
            let k = (mark % org.len() as u64) as usize;
            Ok(Shot {
                url: url(k),
                signed: signer.ringing_from(mark, &org[k], caller)?,
                mark,
            })
        })
        .collect()
}

async fn relay_run(
    bench: &Bench,
    dir: &Path,
    agents: usize,
    rate: u32,
    calls: u64,
) -> Result<((Summary, usize), Signer)> {
    let (relay, prepared) = start_relay(
        bench,
        dir,
        1_000_000,
        vec![OrgSpec {
            name: "Latency",
            agents,
        }],
    )
    .await?;
    let org: &PreparedOrg = prepared.orgs.first().context("the org")?;
    let http = reqwest::Client::new();
    let arrivals = Arc::new(Arrivals::default());
    let sockets = agents_on_stream(&http, relay.addr, &org.agents, &arrivals, Awaited::Pop).await?;
    let signer = Signer::new(relay.addr, &org.integration, &org.secret)?;
    let users: Vec<String> = org.agents.iter().map(|a| a.provider_user.clone()).collect();
    let url = |_| signer.url.clone();
    paced(
        &http,
        rate,
        shots(&signer, &users, url, (1, WARM_UP), CALLER)?,
        &arrivals,
    )
    .await?;
    let measured = paced(
        &http,
        rate,
        shots(&signer, &users, url, (1_000, calls), CALLER)?,
        &arrivals,
    )
    .await?;
    for s in sockets {
        s.abort();
    }
    relay.stop().await;
    Ok((measured, signer))
}

pub(super) async fn baseline_run(
    signer: &Signer,
    agents: usize,
    rate: u32,
    calls: u64,
) -> Result<(Summary, usize)> {
    crate::report::progress("bare forwarder (axum POST → tokio-tungstenite), in process");
    let forwarder = Forwarder::start().await?;
    let arrivals = Arc::new(Arrivals::default());
    let mut index = Vec::with_capacity(agents);
    let mut sockets = Vec::new();
    for _ in 0..agents {
        let url = format!("ws://{}/", forwarder.ws);
        let mut ws = connect(forwarder.ws, &url, source(0, 1)).await?;
        let n: usize = next_text(&mut ws)
            .await
            .context("the forwarder's hello")?
            .parse()?;
        index.push(n);
        sockets.push(tokio::spawn(baseline_agent(ws, Arc::clone(&arrivals))));
    }
    let http = reqwest::Client::new();
    let users: Vec<String> = (0..agents).map(|k| format!("agent-{k}")).collect();
    let base = forwarder.http;
    let url = |k: usize| format!("http://{base}/hook/{}", index[k]);
    paced(
        &http,
        rate,
        shots(signer, &users, url, (1, WARM_UP), CALLER)?,
        &arrivals,
    )
    .await?;
    let measured = paced(
        &http,
        rate,
        shots(signer, &users, url, (1_000, calls), CALLER)?,
        &arrivals,
    )
    .await?;
    for s in sockets {
        s.abort();
    }
    Ok(measured)
}
