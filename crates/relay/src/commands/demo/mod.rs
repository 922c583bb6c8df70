//! `ringside-relay demo`: the product working on one machine, with nothing to set up — the relay
//! on loopback over a FRESH data folder, an organisation "Demo Agency" with an owner and an agent
//! invitation, a Standard Webhooks integration, and a call simulator that places realistic calls
//! every few seconds, signed exactly as a provider would sign them (`simulate::place_call`).
//!
//! Safety: the demo never touches real data. It makes its own folder (a new `ringside-demo-…`
//! with a random suffix, under the system temp dir, removed when the demo stops) or takes an
//! explicit `--data-dir` that must be new or empty — a non-empty folder is refused with exit 2. It
//! ignores `data_dir`, `master_key_source`, `tls` and `public_url` from the environment and keeps
//! the master key in a key file inside the demo folder (fine for a demo; never for production).
//! It listens on loopback only.
//!
//! The AMS: the demo starts the sandbox AMS (`ringside_ams::sandbox`) on a free loopback port and
//! connects the org to it, so pops are matched live through the real Applied Epic connector. Most
//! calls ring from numbers of sandbox clients (found), some from unknown numbers (no match) and
//! some from the household number two clients share (both shown).
//!
//! Routing: the demo sets the org's fallback to `all`, so the unmapped provider user ids of its
//! calls pop for every agent. A real organisation starts with the fallback `nobody`
//! (docs/routing.md).
//!
//! Personal data: the numbers are fictional (NANP `555-0100`…`555-0199`, reserved for fiction)
//! and so are the names; still, the demo prints a number only masked to its last four digits and
//! never a name, as everything else in the relay does.
//!
//! After each call: the sync writes its note to the sandbox a few seconds after hang-up
//! (`sync.transcript_grace_secs = 3` here) and purges the call; [`after_call`] prints both, and
//! what the relay still holds.
#![allow(clippy::print_stdout, clippy::print_stderr)] // the command's job is to print

mod after_call;

use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ringside_core::wire::Fallback;
use ringside_core::{OrgId, PhoneNumber, Role, SystemClock, random_bytes};
use ringside_providers::{CallState, ProviderKind};
use ringside_store::AuditContext;
use tokio::sync::watch;

use ringside_ams::sandbox::{KNOWN_NUMBERS, SHARED_NUMBER, Sandbox, SandboxOptions};

use crate::commands::simulate::{CallPlan, Signer, Target, place_call};
use crate::config::{Config, Sources};
use crate::integrations::Caller;
use crate::open::DataFolder;
use crate::{Seams, telemetry};

/// The demo organisation's name.
pub const ORG_NAME: &str = "Demo Agency";
/// The invited owner's address (`.example` is reserved: no mail goes anywhere).
pub const OWNER_EMAIL: &str = "owner@demo-agency.example";
/// The invited agent's address.
pub const AGENT_EMAIL: &str = "agent@demo-agency.example";
/// Where the demo listens when `--listen` is not given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8640";
/// How long after hang-up the demo's notes wait for a transcript.
const DEMO_GRACE_SECS: u32 = 3;
/// The agency's own line, which the demo's clients call (fictional).
const AGENCY_LINE: &str = "+16175550100";
/// Area codes for the callers (real ones; the `555-01xx` line numbers are the fictional part).
const AREA_CODES: [&str; 10] = [
    "212", "206", "303", "312", "404", "415", "512", "617", "702", "919",
];
/// Callers' names as caller ID would carry them (fictional; never printed).
const NAMES: [&str; 6] = [
    "Jordan Sample",
    "Casey Example",
    "Riley Fictional",
    "Morgan Placeholder",
    "Avery Demo",
    "Quinn Testcase",
];
/// The pause between two states of one call.
const STATE_GAP: Duration = Duration::from_secs(2);

/// `ringside-relay demo` arguments (`--data-dir` and `--listen` are the global flags).
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Seconds between two calls.
    #[arg(long, value_name = "SECS", default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub every_secs: u64,
    /// Stop after this many calls (and their webhooks); default: until Ctrl-C or SIGTERM.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub calls: Option<u64>,
}

/// Why the demo stopped early: the message, and the exit code (2: refused before anything was
/// created; 1: failed while running).
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn refused(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    fn failed(message: impl std::fmt::Display) -> Self {
        Self {
            code: 1,
            message: message.to_string(),
        }
    }
}

/// The demo's data folder, and whether the demo made it (then it is removed at the end).
struct DataDir {
    path: PathBuf,
    made_here: bool,
}

/// Runs the demo: the CLI's entry point, before any configuration is read (the demo makes its
/// own). `data_dir` and `listen` are the global `--data-dir` and `--listen` flags.
pub fn main(data_dir: Option<&Path>, listen: Option<&str>, args: &DemoArgs) -> ExitCode {
    match run(data_dir, listen, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            tracing::error!("{}", failure.message);
            eprintln!("ringside-relay demo: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(data_dir: Option<&Path>, listen: Option<&str>, args: &DemoArgs) -> Result<(), Failure> {
    let listen = listen.unwrap_or(DEFAULT_LISTEN);
    let addr: SocketAddr = listen.parse().map_err(|_| {
        Failure::refused(format!(
            "--listen {listen}: expected host:port with an IP address, e.g. {DEFAULT_LISTEN}"
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(Failure::refused(format!(
            "--listen {addr}: the demo listens on loopback only (127.0.0.1 or ::1)"
        )));
    }
    let dir = prepare_data_dir(data_dir)?;
    let config = demo_config(&dir.path, listen).inspect_err(|_| cleanup(&dir))?;
    telemetry::init(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("starting the async runtime: {e}")))?;
    let result = runtime.block_on(serve(config, &dir, args));
    drop(runtime);
    cleanup(&dir);
    result
}

/// A fresh folder: the given one when it is new or empty, else a new one under the temp dir.
fn prepare_data_dir(given: Option<&Path>) -> Result<DataDir, Failure> {
    let mut builder = std::fs::DirBuilder::new();
    builder.mode(0o700);
    if let Some(given) = given {
        let path = std::path::absolute(given)
            .map_err(|e| Failure::refused(format!("--data-dir {}: {e}", given.display())))?;
        if path.exists() {
            let empty = std::fs::read_dir(&path)
                .map(|mut entries| entries.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(Failure::refused(format!(
                    "--data-dir {} is not an empty folder: the demo only ever uses a new or empty \
                     folder, so it cannot touch real data (omit --data-dir for a fresh one under \
                     the temp dir)",
                    path.display()
                )));
            }
        } else {
            builder.recursive(true).create(&path).map_err(|e| {
                Failure::refused(format!(
                    "--data-dir {}: cannot create it: {e}",
                    path.display()
                ))
            })?;
        }
        return Ok(DataDir {
            path,
            made_here: false,
        });
    }
    let temp = std::path::absolute(std::env::temp_dir())
        .map_err(|e| Failure::failed(format!("the temp dir: {e}")))?;
    for _ in 0..8 {
        let path = temp.join(format!(
            "ringside-demo-{}",
            hex::encode(random_bytes::<4>())
        ));
        match builder.create(&path) {
            Ok(()) => {
                return Ok(DataDir {
                    path,
                    made_here: true,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Failure::failed(format!(
                    "cannot create a demo folder in {}: {e}",
                    temp.display()
                )));
            }
        }
    }
    Err(Failure::failed(format!(
        "cannot find a new folder name in {}",
        temp.display()
    )))
}

/// Removes the folder the demo made itself; a folder given with `--data-dir` is kept.
fn cleanup(dir: &DataDir) {
    if dir.made_here {
        let _ = std::fs::remove_dir_all(&dir.path);
    }
}

/// The relay's configuration for the demo: defaults and `RINGSIDE_*` (log settings, limits), but
/// always the demo folder, a key file inside it, no TLS, no public URL, loopback.
fn demo_config(dir: &Path, listen: &str) -> Result<Config, Failure> {
    let mut config = Config::load(&Sources {
        file: None,
        data_dir: Some(dir.to_owned()),
        listen: Some(listen.to_owned()),
    })
    .map_err(|e| Failure::refused(e.to_string()))?;
    config.master_key_source = ringside_vault::KeySource::File {
        path: dir.join("master.key"),
    };
    config.tls = None;
    config.public_url = None;
    // A note a few seconds after hang-up, so the demo shows the whole life of a call.
    config.sync.transcript_grace_secs = DEMO_GRACE_SECS;
    config.sync.in_doubt_settle_secs = 0;
    if std::env::var_os("RINGSIDE_LOG__LEVEL").is_none() {
        // The demo's own lines are its output; RINGSIDE_LOG__LEVEL=info shows the relay's log.
        "warn".clone_into(&mut config.log.level);
    }
    Ok(config)
}

/// What the demo set up in the store before the relay starts.
struct Setup {
    org: OrgId,
    owner_code: String,
    agent_code: String,
    signer: Signer,
}

/// The org, both invitations, the integration, the fallback and the AMS connection to the
/// sandbox at `sandbox` — on the store, before serving.
fn set_up(config: &Config, sandbox: &str, credentials: &str) -> Result<Setup, crate::Error> {
    let folder = DataFolder::open(config, Arc::new(SystemClock))?;
    let (store, masters, auth) = (&folder.store, &folder.masters, &folder.auth);
    let ctx = AuditContext::system("demo");
    let org = store.orgs().create_org(ORG_NAME, masters, &ctx)?.id;
    let owner = auth.invite_as_operator(org, OWNER_EMAIL, Role::Owner)?;
    let agent = auth.invite_as_operator(org, AGENT_EMAIL, Role::Agent)?;
    let integration = folder.integrations().create(
        Caller::Operator(org),
        ProviderKind::Standard,
        None,
        "demo",
    )?;
    // Demo only: every agent gets every unmapped call. Real orgs start with `nobody`.
    store.routing().set_fallback(org, &Fallback::All, &ctx)?;
    let connection = crate::ams::connection("sandbox", Some(sandbox), credentials.as_bytes())?;
    folder.ams_connections(config.ams_timeout)?.connect(
        Caller::Operator(org),
        &connection,
        None,
    )?;
    let signer = Signer::load(store, masters, integration.id)?;
    Ok(Setup {
        org,
        owner_code: owner.code.expose().to_owned(),
        agent_code: agent.code.expose().to_owned(),
        signer,
    })
}

async fn serve(config: Config, dir: &DataDir, args: &DemoArgs) -> Result<(), Failure> {
    // Installed before anything is printed: a Ctrl-C right after the banner still stops cleanly.
    let signal = crate::cli::shutdown_signal("demo");
    let listener = std::net::TcpListener::bind(config.listen).map_err(|e| {
        Failure::failed(format!(
            "cannot listen on {}: {e} (is another relay or demo running? --listen 127.0.0.1:0 \
             picks a free port)",
            config.listen
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::failed(format!("reading the listening address: {e}")))?;
    let base = format!("http://{addr}");
    let (stop, stopped) = watch::channel(false);
    let (sandbox, credentials, ams) = start_sandbox(stopped.clone()).await?;
    let setup = {
        let config = config.clone();
        let url = sandbox.clone();
        tokio::task::spawn_blocking(move || set_up(&config, &url, &credentials))
            .await
            .map_err(Failure::failed)?
            .map_err(|e| Failure::failed(format!("setting up the demo organisation: {e}")))?
    };

    let seams = Seams {
        clock: Arc::new(SystemClock),
        lookup: None,
    };
    let mut relay = tokio::spawn(crate::run_with(
        config,
        listener,
        async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|s| *s).await;
        },
        seams,
    ));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(Failure::failed)?;
    tokio::select! {
        ready = wait_until_ready(&http, &base) => ready?,
        ended = &mut relay => {
            return Err(match ended {
                Ok(Err(e)) => Failure::failed(format!("the relay did not start: {e}")),
                _ => Failure::failed("the relay stopped before it was ready"),
            });
        }
    }
    print_banner(&base, &sandbox, dir, &setup);
    tokio::spawn(after_call::follow(dir.path.clone(), ams, stop.subscribe()));

    let target = Target::direct(&base, setup.signer.integration);
    let calls = place_calls(&http, &setup.signer, &target, args);
    let calls = async {
        calls.await;
        after_call::settle(dir.path.clone()).await;
    };
    tokio::select! {
        () = calls => {}
        () = signal => println!("stopping…"),
        ended = &mut relay => {
            return Err(Failure::failed(match ended {
                Ok(Err(e)) => format!("the relay stopped: {e}"),
                _ => "the relay stopped".to_owned(),
            }));
        }
    }
    let _ = stop.send(true);
    match relay.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(Failure::failed(format!("the relay: {e}"))),
        Err(e) => return Err(Failure::failed(format!("the relay task: {e}"))),
    }
    if dir.made_here {
        println!("demo stopped; its folder was removed");
    } else {
        println!(
            "demo stopped; its data stays in {} (`ringside-relay serve --data-dir {}` continues \
             from it)",
            dir.path.display(),
            dir.path.display()
        );
    }
    Ok(())
}

async fn wait_until_ready(http: &reqwest::Client, base: &str) -> Result<(), Failure> {
    let url = format!("{base}/readyz");
    for _ in 0..600 {
        if http
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(Failure::failed(format!(
        "the relay at {base} did not become ready in 30 s"
    )))
}

/// The sandbox AMS on a free loopback port until `stopped` turns true: its base URL, the
/// credentials it takes, and the sandbox (to see the notes it received).
async fn start_sandbox(
    mut stopped: watch::Receiver<bool>,
) -> Result<(String, String, Sandbox), Failure> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Failure::failed(format!("starting the sandbox AMS: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::failed(format!("starting the sandbox AMS: {e}")))?;
    let sandbox = Sandbox::new(SandboxOptions::default());
    let credentials = sandbox.credentials_json();
    let serving = sandbox.clone();
    tokio::spawn(async move {
        let stop = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        if let Err(e) = serving.serve(listener, stop).await {
            eprintln!("the sandbox AMS stopped: {e}");
        }
    });
    Ok((format!("http://{addr}"), credentials, sandbox))
}

fn print_banner(base: &str, sandbox: &str, dir: &DataDir, setup: &Setup) {
    let folder = if dir.made_here {
        "fresh; removed when the demo stops"
    } else {
        "fresh; kept when the demo stops"
    };
    println!("Ringside demo — for trying it out only, never for real data");
    println!();
    println!("relay         {base}");
    println!("data folder   {} ({folder})", dir.path.display());
    println!(
        "master key    in master.key inside that folder (demo only: in production keep it elsewhere)"
    );
    println!("organisation  {ORG_NAME} {}", setup.org);
    println!(
        "integration   {} (standard webhooks)",
        setup.signer.integration
    );
    println!(
        "AMS           the sandbox at {sandbox} (fictional clients, through the Applied Epic \
         connector; its activities: {sandbox}/sandbox/activities)"
    );
    println!(
        "routing       fallback `all`: every agent gets every unmapped call (demo only; a real \
         organisation starts with `nobody`)"
    );
    println!(
        "owner invitation  {}  ({OWNER_EMAIL}, single use, 72 h)",
        setup.owner_code
    );
    println!(
        "agent invitation  {}  ({AGENT_EMAIL}, single use, 72 h)",
        setup.agent_code
    );
    println!();
    println!("To see the pops, accept the agent invitation — in the desktop app (relay URL above,");
    println!("then the code), or over HTTP — then listen as that agent:");
    println!();
    println!(
        "  curl -sS -X POST {base}/v1/invitations/accept -H 'content-type: application/json' \\"
    );
    println!(
        "    -d '{{\"code\":\"{}\",\"display_name\":\"Demo Agent\",\"password\":\"demo-password-2468\",\"device_name\":\"terminal\"}}'",
        setup.agent_code
    );
    println!(
        "  RINGSIDE_PASSWORD=demo-password-2468 ringside-relay listen --relay {base} --email {AGENT_EMAIL}"
    );
    println!();
    println!("Calls only pop for agents who have joined by the time the call rings. Ctrl-C stops.");
    println!();
}

/// Places calls `args.every_secs` apart (each one running on its own, so they overlap like real
/// calls do) until `args.calls` have been placed and finished — or forever.
async fn place_calls(http: &reqwest::Client, signer: &Signer, target: &Target, args: &DemoArgs) {
    let mut running = tokio::task::JoinSet::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(args.every_secs));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first call one interval after the banner, not at once: time to read it.
    ticks.reset();
    let mut n: u64 = 0;
    while args.calls.is_none_or(|max| n < max) {
        ticks.tick().await;
        n += 1;
        let plan = random_call();
        println!(
            "call {n:>4}  from {}  {}",
            plan.from.mask(),
            plan.states
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" → ")
        );
        let (http, signer, target) = (http.clone(), signer.clone(), target.clone());
        running.spawn(async move {
            let result = place_call(&http, &signer, &target, &plan, &SystemClock, |_| {}).await;
            match result {
                Ok((_, deliveries)) => {
                    for d in deliveries.iter().filter(|d| !d.accepted()) {
                        println!(
                            "call {n:>4}  {} refused: HTTP {}",
                            d.state.as_str(),
                            d.status
                        );
                    }
                }
                Err(e) => println!("call {n:>4}  failed: {e}"),
            }
        });
        // Reap finished calls as we go (a long demo must not accumulate them).
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
    println!("{n} call{} placed", if n == 1 { "" } else { "s" });
}

/// A plausible call to the agency, for a provider user id no route maps (so the fallback
/// applies): from a sandbox client most of the time, from the household number two clients
/// share sometimes, else from an unknown fictional caller (`+1 AAA 555-01XX`), sometimes with a
/// caller-ID name; answered and ended most of the time, sometimes missed or sent to voicemail.
fn random_call() -> CallPlan {
    let [area, line, name, outcome, agent, who] = random_bytes::<6>();
    let from = match who % 10 {
        0..=5 => KNOWN_NUMBERS[usize::from(line) % KNOWN_NUMBERS.len()].to_owned(),
        6 => SHARED_NUMBER.to_owned(),
        _ => {
            let area = AREA_CODES[usize::from(area) % AREA_CODES.len()];
            format!("+1{area}55501{:02}", line % 100)
        }
    };
    let states = match outcome % 10 {
        0..=5 => vec![CallState::Ringing, CallState::Answered, CallState::Ended],
        6 | 7 => vec![CallState::Ringing, CallState::Missed],
        _ => vec![CallState::Ringing, CallState::Voicemail],
    };
    let mut plan = CallPlan::inbound(
        #[allow(clippy::expect_used)] // built from constants the parser accepts (unit-tested)
        PhoneNumber::parse(&from).expect("a valid NANP number"),
        PhoneNumber::parse(AGENCY_LINE).ok(),
    );
    plan.states = states;
    plan.contact_name = (name % 3 != 0).then(|| NAMES[usize::from(name) % NAMES.len()].to_owned());
    plan.provider_user_id = Some(format!("demo-agent-{}", agent % 4 + 1));
    plan.gap = STATE_GAP;
    plan
}
