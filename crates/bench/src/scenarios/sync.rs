//! (f) after the call: hang-up → note in the AMS, and sync → purge. The org is connected to the
//! sandbox AMS (every request answered after 20 ms) with `sync.transcript_grace_secs = 0`; calls
//! from a sandbox client's number ring and end one at a time. *Hang-up → note*: from the start
//! of the `ended` POST to the activity in the sandbox (the sync looks the number up, then
//! writes). *Sync → purge*: from the activity in the sandbox to the outbox row `done` with the
//! call's data purged and the WAL checkpointed, as a second reader of the database sees it
//! (polled every millisecond: the figure's resolution). The baseline, in the same run: the same
//! lookup and write through the same connector straight to the sandbox — the AMS's own time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use ringside_ams::sandbox::{Sandbox, SandboxOptions};
use ringside_ams::{ActivityNote, Ams, AmsKind, Connection, Credentials, Limits};
use ringside_core::wire::{CallState, Direction, RecordKind};
use ringside_core::{PhoneNumber, Pii, SystemClock};
use ringside_store::{Store, SyncState};

use super::Bench;
use crate::client::{Signer, post};
use crate::relay::{OrgSpec, RelayProcess, prepare};
use crate::report::{Report, Row, ratio};
use crate::stats::{Summary, ms};

/// How long the sandbox takes to answer each request.
const AMS_LATENCY: Duration = Duration::from_millis(20);

/// A sandbox client's number (Dana Whitfield).
const KNOWN_CALLER: &str = "+16175550199";

/// The longest a note or a purge may take before it counts as lost.
const PATIENCE: Duration = Duration::from_secs(10);

pub(super) async fn run(bench: &Bench, report: &mut Report) -> Result<()> {
    let calls: u64 = if bench.options.quick { 30 } else { 100 };
    report.section(&format!(
        "(f) after the call: {calls} calls one at a time, the sandbox AMS answering each request in {} ms, transcript_grace_secs = 0",
        AMS_LATENCY.as_millis()
    ));
    let sandbox = Sandbox::new(SandboxOptions {
        latency: AMS_LATENCY,
        ..SandboxOptions::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sandbox_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(sandbox.clone().serve(listener, std::future::pending()));

    let disk = bench.disk_dir()?;
    let root = disk.path().to_owned();
    let prepared = tokio::task::spawn_blocking(move || {
        prepare(
            &root,
            1_000_000,
            &[OrgSpec {
                name: "Sync",
                agents: 1,
            }],
        )
    })
    .await??;
    let mut config = std::fs::read_to_string(&prepared.config_file)?;
    config.push_str("\n[sync]\ntranscript_grace_secs = 0\n");
    std::fs::write(&prepared.config_file, config)?;
    let org = prepared.orgs.first().context("the org")?;
    let file = disk.path().join("ams.json");
    std::fs::write(&file, sandbox.credentials_json())?;
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let connected = tokio::process::Command::new(&bench.relay_bin)
        .arg("--config")
        .arg(&prepared.config_file)
        .args(["ams", "connect", "--org", &org.org.to_string()])
        .args([
            "--kind",
            "sandbox",
            "--base-url",
            &sandbox_url,
            "--credentials-file",
        ])
        .arg(&file)
        .output()
        .await?;
    ensure!(
        connected.status.success(),
        "ams connect: {}",
        String::from_utf8_lossy(&connected.stderr)
    );
    let relay = RelayProcess::start(&bench.relay_bin, &prepared).await?;
    let reader = Store::open(&disk.path().join("data"), Arc::new(SystemClock))?;

    let http = reqwest::Client::new();
    let signer = Signer::new(relay.addr, &org.integration, &org.secret)?;
    let agent = org.agents[0].provider_user.clone();
    let (mut to_note, mut to_purge, mut lost) = (Vec::new(), Vec::new(), 0);
    for n in 0..calls {
        let ringing = signer.call(n, &agent, KNOWN_CALLER, CallState::Ringing)?;
        ensure!(
            post(&http, &signer.url, &ringing).await? == 200,
            "ringing refused"
        );
        let ended = signer.call(n, &agent, KNOWN_CALLER, CallState::Ended)?;
        let before = sandbox.activities().len();
        let hung_up = Instant::now();
        ensure!(
            post(&http, &signer.url, &ended).await? == 200,
            "ended refused"
        );
        let Some(noted) = wait(|| sandbox.activities().len() > before).await else {
            lost += 1;
            continue;
        };
        let done = n + 1;
        let purged = wait(|| {
            reader
                .sync()
                .list_syncs(None, &[SyncState::Done], 1_000)
                .is_ok_and(|rows| rows.len() as u64 >= done)
        })
        .await;
        to_note.push(noted.saturating_duration_since(hung_up));
        match purged {
            Some(at) => to_purge.push(at.saturating_duration_since(noted)),
            None => lost += 1,
        }
    }
    relay.stop().await;
    let base = direct(&sandbox_url, &sandbox.credentials_json(), calls).await?;
    let (note, purge) = (Summary::of(to_note, lost), Summary::of(to_purge, lost));
    for (name, ours, floor) in [("p50", note.p50, base.p50), ("p99", note.p99, base.p99)] {
        report.row(Row {
            figure: format!("(f) hang-up → note in the AMS {name}"),
            ours: ms(ours),
            baseline: format!("{} (lookup + write, direct)", ms(floor)),
            ratio: ratio(ours.as_secs_f64(), floor.as_secs_f64()),
            target: String::new(),
        });
    }
    for (name, ours) in [("p50", purge.p50), ("p99", purge.p99)] {
        report.row(Row {
            figure: format!("(f) note → purged {name}"),
            ours: ms(ours),
            baseline: "—".to_owned(),
            ratio: String::new(),
            target: String::new(),
        });
    }
    report.note(format!(
        "(f) {} notes, {} purges, {lost} lost; the direct baseline {} lookup+write pairs. The \
         purge figure is the sync's own transaction (mask, deletes, `done`) and the WAL \
         checkpoint, as seen by a reader polling every millisecond",
        note.count, purge.count, base.count
    ));
    Ok(())
}

/// When `done` first holds, polled every millisecond for up to [`PATIENCE`].
async fn wait(mut done: impl FnMut() -> bool) -> Option<Instant> {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if done() {
            return Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

/// The AMS's own time: `calls` lookups and writes through the same connector, no relay.
async fn direct(base: &str, credentials: &str, calls: u64) -> Result<Summary> {
    let ams = Ams::new(Limits::default(), Arc::new(SystemClock))?;
    let credentials = Credentials::from_json(AmsKind::Sandbox, credentials.as_bytes())?;
    let connector = ams.connector(Connection::new(AmsKind::Sandbox, Some(base), credentials)?);
    let number = PhoneNumber::parse(KNOWN_CALLER)?;
    let mut samples = Vec::new();
    for n in 0..calls {
        let started = Instant::now();
        let found = connector.lookup_by_phone(&number).await?;
        let record = found.first().context("the sandbox knows the caller")?;
        let note = ActivityNote {
            record_id: record.id.clone(),
            record_kind: RecordKind::Client,
            subject: "Inbound call, answered".to_owned(),
            body: Pii::new(format!("Ringside ref: call_baseline{n}\nbaseline")),
            started_at: time::OffsetDateTime::now_utc(),
            duration_secs: Some(60),
            direction: Direction::Inbound,
            reference: format!("call_baseline{n}"),
        };
        connector.write_activity(&note).await?;
        samples.push(started.elapsed());
    }
    Ok(Summary::of(samples, 0))
}
