//! (e) webhook → `pop_update` with an AMS: the org is connected (with `ringside-relay ams
//! connect`, as an operator would) to the sandbox AMS, which runs in the bench's process and
//! answers every request after a fixed delay; every call comes from a number the sandbox knows,
//! so each pop is followed by a `pop_update` that found the client. Timed from the start of the
//! POST to the agent's `pop_update`. The figure to beat is the AMS's own time plus the bare
//! forwarder's webhook → socket, measured in the same run.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use ringside_ams::sandbox::{Sandbox, SandboxOptions};

use super::latency::{WARM_UP, baseline_run, shots};
use super::{Bench, agents_on_stream, paced, start_relay};
use crate::client::{Arrivals, Awaited, Signer};
use crate::relay::OrgSpec;
use crate::report::{Report, Row, ratio};
use crate::stats::{Summary, ms};

/// How long the sandbox takes to answer each request.
const AMS_LATENCY: Duration = Duration::from_millis(20);

/// A sandbox client's number (Dana Whitfield, typed `(617) 555-0199` there).
const KNOWN_CALLER: &str = "+16175550199";

pub(super) async fn run(bench: &Bench, report: &mut Report) -> Result<()> {
    let o = &bench.options;
    let (rate, secs, agents) = (o.rate, o.latency_seconds(), o.latency_agents());
    let calls = u64::from(rate) * secs;
    report.section(&format!(
        "(e) webhook → pop_update: {rate} calls/s for {secs} s, {agents} agents, the sandbox AMS answering each request in {} ms",
        AMS_LATENCY.as_millis()
    ));
    let (sandbox_url, credentials) = start_sandbox().await?;
    let disk = bench.disk_dir()?;
    let (relay, prepared) = start_relay(
        bench,
        disk.path(),
        1_000_000,
        vec![OrgSpec {
            name: "Ams",
            agents,
        }],
    )
    .await?;
    let org = prepared.orgs.first().context("the org")?;
    let file = disk.path().join("ams.json");
    std::fs::write(&file, credentials)?;
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let connected = tokio::process::Command::new(&bench.relay_bin)
        .arg("--config")
        .arg(&prepared.config_file)
        .args([
            "ams",
            "connect",
            "--org",
            &org.org.to_string(),
            "--kind",
            "sandbox",
        ])
        .args(["--base-url", &sandbox_url, "--credentials-file"])
        .arg(&file)
        .output()
        .await?;
    ensure!(
        connected.status.success(),
        "ams connect: {}",
        String::from_utf8_lossy(&connected.stderr)
    );

    let http = reqwest::Client::new();
    let arrivals = Arc::new(Arrivals::default());
    let sockets =
        agents_on_stream(&http, relay.addr, &org.agents, &arrivals, Awaited::Update).await?;
    let signer = Signer::new(relay.addr, &org.integration, &org.secret)?;
    let users: Vec<String> = org.agents.iter().map(|a| a.provider_user.clone()).collect();
    let url = |_| signer.url.clone();
    let warm = shots(&signer, &users, url, (1, WARM_UP), KNOWN_CALLER)?;
    paced(&http, rate, warm, &arrivals).await?;
    let measured = shots(&signer, &users, url, (1_000, calls), KNOWN_CALLER)?;
    let ours = paced(&http, rate, measured, &arrivals).await?;
    for s in sockets {
        s.abort();
    }
    relay.stop().await;
    let base = baseline_run(&signer, agents, rate, calls).await?;
    rows(report, &ours, &base);
    Ok(())
}

/// The sandbox on a loopback port, for the rest of the run: its URL and credentials.
async fn start_sandbox() -> Result<(String, String)> {
    let sandbox = Sandbox::new(SandboxOptions {
        latency: AMS_LATENCY,
        ..SandboxOptions::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let credentials = sandbox.credentials_json();
    tokio::spawn(sandbox.serve(listener, std::future::pending()));
    Ok((url, credentials))
}

fn rows(report: &mut Report, ours: &(Summary, usize), base: &(Summary, usize)) {
    let (o, b) = (&ours.0, &base.0);
    for (name, ov, bv) in [("p50", o.p50, b.p50), ("p99", o.p99, b.p99)] {
        let floor = bv + AMS_LATENCY;
        report.row(Row {
            figure: format!("(e) webhook → pop_update, sandbox AMS at 20 ms {name}"),
            ours: ms(ov),
            baseline: format!("{} (forwarder + 20 ms)", ms(floor)),
            ratio: ratio(ov.as_secs_f64(), floor.as_secs_f64()),
            target: String::new(),
        });
    }
    report.note(format!(
        "(e) ours {} pop_updates ({} lost, {} non-200); the forwarder {} ({} lost). Each lookup is \
         one search request to the sandbox (the token is granted once and kept); the pop itself \
         went out before the lookup started",
        o.count, o.lost, ours.1, b.count, b.lost
    ));
}
