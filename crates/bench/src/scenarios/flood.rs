//! (d) flood isolation: org A floods webhooks as fast as its clients can send (past its quota,
//! 429) while org B's calls keep their pace; B's webhook → pop latency with and without the
//! flood. Both orgs have the same quota (`--flood-quota`, 600 a minute: org B's measured calls
//! stay under it) on one relay, SQLite on disk. The flooder runs in the bench process, so on a
//! small machine its own CPU use competes with the relay's too, as a real flood's would not.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::ingest::hammer;
use super::{Bench, Shot, agents_on_stream, paced, start_relay};
use crate::client::{Arrivals, Awaited, Signer};
use crate::relay::OrgSpec;
use crate::report::{Report, Row, ratio};
use crate::stats::{Summary, ms};

const B_AGENTS: usize = 10;

pub(super) async fn run(bench: &Bench, report: &mut Report) -> Result<()> {
    let o = &bench.options;
    let (rate, secs, flooders, quota) = (
        o.flood_b_rate,
        o.flood_secs(),
        o.flood_clients,
        o.flood_quota,
    );
    report.section(&format!(
        "(d) flood isolation: org B at {rate} calls/s for {secs} s ({B_AGENTS} agents connected), without and with org A flooding from {flooders} clients; quota {quota}/min per org"
    ));
    let disk = bench.disk_dir()?;
    let (relay, prepared) = start_relay(
        bench,
        disk.path(),
        quota,
        vec![
            OrgSpec {
                name: "Flooder",
                agents: 1,
            },
            OrgSpec {
                name: "Quiet",
                agents: B_AGENTS,
            },
        ],
    )
    .await?;
    let (a, b) = (
        prepared.orgs.first().context("org A")?,
        prepared.orgs.get(1).context("org B")?,
    );
    let http = reqwest::Client::new();
    let arrivals = Arc::new(Arrivals::default());
    let sockets = agents_on_stream(&http, relay.addr, &b.agents, &arrivals, Awaited::Pop).await?;
    let b_signer = Signer::new(relay.addr, &b.integration, &b.secret)?;
    let b_shots = |from: u64, n: u64| -> Result<Vec<Shot>> {
        (from..from + n)
            .map(|mark| {
                let agent = format!("agent-{}", mark % B_AGENTS as u64);
                Ok(Shot {
                    url: b_signer.url.clone(),
                    signed: b_signer.ringing(mark, &agent)?,
                    mark,
                })
            })
            .collect()
    };
    let n = u64::from(rate) * secs;
    paced(&http, rate, b_shots(1, 5)?, &arrivals).await?;
    let quiet = paced(&http, rate, b_shots(1_000, n)?, &arrivals).await?;

    let a_signer = Arc::new(Signer::new(relay.addr, &a.integration, &a.secret)?);
    let a_url = a_signer.url.clone();
    let flood = tokio::spawn(hammer(flooders, secs + 2, a_signer, move |_| a_url.clone()));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let flooded = paced(&http, rate, b_shots(100_000, n)?, &arrivals).await?;
    let a_rate = flood.await?;
    for s in sockets {
        s.abort();
    }
    relay.stop().await;

    rows(report, &flooded, &quiet);
    let a_total = a_rate.ok + a_rate.other;
    report.note(format!(
        "(d) org A sent {a_total} webhooks in {} s ({:.0}/s): {} accepted (its quota), {} refused (429); org B: {} pops without the flood, {} with ({} + {} lost, {} + {} non-200)",
        secs + 2,
        a_total as f64 / (secs + 2) as f64,
        a_rate.ok,
        a_rate.other,
        quiet.0.count,
        flooded.0.count,
        quiet.0.lost,
        flooded.0.lost,
        quiet.1,
        flooded.1
    ));
    Ok(())
}

fn rows(report: &mut Report, flooded: &(Summary, usize), quiet: &(Summary, usize)) {
    for (name, f, q) in [
        ("p50", flooded.0.p50, quiet.0.p50),
        ("p99", flooded.0.p99, quiet.0.p99),
    ] {
        report.row(Row {
            figure: format!("(d) org B latency {name}, A flooding (baseline: no flood)"),
            ours: ms(f),
            baseline: ms(q),
            ratio: ratio(f.as_secs_f64(), q.as_secs_f64()),
            target: "≤ 1.2× baseline".to_owned(),
        });
    }
}
