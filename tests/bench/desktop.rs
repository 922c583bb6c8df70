//! `make bench-desktop`: the desktop app's figures, measured on the real app (under Xvfb,
//! through WebDriver) against the real relay, each beside a baseline taken in the same run.
//!
//! - **Launch → connected**: from quitting the app and asking WebDriver for it again (which
//!   starts it; the quit is a few milliseconds of that) until the
//!   status line says "Connected" with the session restored from the keychain; baseline: until
//!   the window shows its shell at all (WebKit's own start-up, which the app cannot shorten).
//! - **Pop render**: from the moment the pop reaches a WebSocket (a second stream of the same
//!   agent, opened by this bench: the relay fans each event out to both at once) until the card
//!   is in the window's DOM, and until the next frame after it; wall clocks of one machine, so
//!   the webview's `performance.timeOrigin + now()` and this process's clock agree.
//!   Sequential calls, one at a time.
//! - **Idle RSS**: the app's process and its WebKit children (`VmRSS` summed, and `Pss` from
//!   `smaps_rollup`, which does not count shared pages twice), connected with no calls
//!   (baseline), after the 100 rendered pops, then after 1,000 more calls, each given 10 s to
//!   settle. `RINGSIDE_BENCH_POPS` and `RINGSIDE_BENCH_CALLS` shorten a run while investigating;
//!   `RINGSIDE_BENCH_SETTLE_SECS` changes the quiet before each reading.
//!
//! Targets (issue "The desktop app for agents"): ≤ 1 s, ≤ 50 ms p99, ≤ 150 MB.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[allow(
    dead_code,
    unreachable_pub,
    reason = "shared with the E2E scenarios; the bench uses part"
)]
#[path = "../e2e/utils/mod.rs"]
mod utils;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fantoccini::Client;
use ringside_client::stream::{StreamEvent, StreamOptions};
use ringside_core::wire::{LoginRequest, ServerMessage};
use ringside_core::{Clock, Pii, SystemClock};
use tokio::sync::mpsc;
use utils::relay::Relay;
use utils::ui::{AgentApp, PASSWORD, shown};

const AGENT: &str = "bench@e2e.example";
const CALLER: &str = "+16175550199";
const LAUNCHES: usize = 5;
const POPS: usize = 100;
const CALLS: usize = 1_000;

/// `RINGSIDE_BENCH_{name}` when set (a quicker run while investigating), else `default`.
fn count(name: &str, default: usize) -> usize {
    std::env::var(format!("RINGSIDE_BENCH_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

fn wall_ms() -> f64 {
    let now = SystemClock.now();
    now.unix_timestamp_nanos() as f64 / 1_000_000.0
}

/// Records, in the webview, when each pop card enters the DOM and when the next frame after it
/// begins (epoch milliseconds).
const OBSERVE: &str = r"
window.__pops = {};
const look = () => {
  for (const el of document.querySelectorAll('[data-testid=pop]')) {
    if (el.id in window.__pops) continue;
    const entry = { dom: performance.timeOrigin + performance.now(), frame: null };
    window.__pops[el.id] = entry;
    requestAnimationFrame(() => { entry.frame = performance.timeOrigin + performance.now(); });
  }
};
new MutationObserver(look).observe(document.body, { childList: true, subtree: true });
";

async fn run() {
    let home = tempfile::tempdir().unwrap();
    // A thousand calls in a few minutes are far past the per-org webhook limit (200 a minute).
    let relay = Relay::start_with(
        home.path(),
        &[("RINGSIDE_WEBHOOKS__PER_ORG_PER_MINUTE", "1000000")],
    )
    .await;
    let app = AgentApp::launch(home.path(), &relay).await;
    app.join(&relay, AGENT).await.unwrap();
    let app = relaunch_times(app).await;

    let pid = app.pid().expect("the app runs");
    let quiet = Duration::from_secs(u64::try_from(count("SETTLE_SECS", 10)).unwrap_or(10));
    let settle = || tokio::time::sleep(quiet);
    settle().await;
    let idle = memory(pid);

    let pops = count("POPS", POPS);
    let (receipts, mut arrivals) = agent_stream(&relay).await;
    app.client.execute(OBSERVE, vec![]).await.unwrap();
    let mut dom = Vec::new();
    let mut frame = Vec::new();
    for _ in 0..pops {
        relay.ring(CALLER);
        let (pop, received) = arrivals.recv().await.expect("the bench's stream is alive");
        let (at_dom, at_frame) = rendered(&app.client, &format!("pop-{pop}")).await;
        dom.push(at_dom - received);
        frame.push(at_frame - received);
    }
    drop(receipts);
    // The observer's records are the bench's, not the app's: gone before memory is read.
    app.client
        .execute("window.__pops = {};", vec![])
        .await
        .unwrap();
    if pops > 0 {
        print_render(&mut dom, &mut frame);
    }
    settle().await;
    let rendered = memory(pid);

    // The calls are made to the app as an agent runs it: WebDriver's automation keeps records
    // of its own in the web process, which would be counted as the app's.
    let app = app.unattended().await;
    settle().await;
    let unattended = memory(app.pid());

    let calls = count("CALLS", CALLS);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let relay = &relay;
            scope.spawn(move || {
                for _ in (worker..calls).step_by(4) {
                    relay.call(CALLER, "ringing,ended");
                }
            });
        }
    });
    let calls_took = started.elapsed();
    settle().await;
    let after = memory(app.pid());
    drop(app);

    println!(
        "desktop bench: memory of the app and its WebKit processes, each after {} s settling",
        quiet.as_secs()
    );
    print_memory("idle, connected, no calls (baseline)", idle);
    print_memory(&format!("after {pops} rendered pops"), rendered);
    print_memory("started again without WebDriver", unattended);
    print_memory(
        &format!(
            "after {calls} more calls ({:.0} s)",
            calls_took.as_secs_f64()
        ),
        after,
    );
}

/// Quits and starts the app `LAUNCHES` times on its saved session; prints the launch figures.
async fn relaunch_times(app: AgentApp) -> AgentApp {
    let mut app = app;
    let mut shell = Vec::new();
    let mut connected = Vec::new();
    for _ in 0..LAUNCHES {
        let started = Instant::now();
        app = app.restart().await;
        shown(&app.client, "#app-version").await.unwrap();
        shell.push(started.elapsed().as_secs_f64() * 1000.0);
        shown(&app.client, "#status[data-state=connected]")
            .await
            .unwrap();
        connected.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!("desktop bench: {LAUNCHES} launches on a saved session (median)");
    println!(
        "  launch -> shell shown (baseline)   {:>8.0} ms",
        percentile(&mut shell, 50.0)
    );
    println!(
        "  launch -> connected                {:>8.0} ms   target <= 1000 ms",
        percentile(&mut connected, 50.0)
    );
    app
}

/// A second stream of the agent (another device): each pop's id and when it arrived.
async fn agent_stream(
    relay: &Relay,
) -> (
    tokio::task::JoinHandle<()>,
    mpsc::UnboundedReceiver<(String, f64)>,
) {
    let client = ringside_client::Client::new(&relay.url).unwrap();
    let request = LoginRequest {
        email: Pii::new(AGENT.to_owned()),
        password: Pii::new(PASSWORD.to_owned()),
        second_factor: None,
        device_name: Pii::new("bench".to_owned()),
        device_token: None,
    };
    let ringside_client::LoginStep::SignedIn(session) = client.login(&request).await.unwrap()
    else {
        panic!("the bench agent has no second factor");
    };
    let mut stream = session.stream(StreamOptions {
        after_seq: u64::MAX,
        ..StreamOptions::default()
    });
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let _session = session;
        while let Some(event) = stream.next().await {
            if let StreamEvent::Message(ServerMessage::Pop(pop)) = event {
                let _ = tx.send((pop.pop_id.to_string(), wall_ms()));
            }
        }
    });
    (task, rx)
}

/// When the card `id` entered the DOM and its frame began (epoch ms), polled every 5 ms.
async fn rendered(client: &Client, id: &str) -> (f64, f64) {
    let script =
        format!("const e = window.__pops['{id}']; return e && e.frame ? [e.dom, e.frame] : null;");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = client.execute(&script, vec![]).await.unwrap();
        if let Some([dom, frame]) = seen.as_array().map(Vec::as_slice)
            && let (Some(dom), Some(frame)) = (dom.as_f64(), frame.as_f64())
        {
            return (dom, frame);
        }
        assert!(Instant::now() < deadline, "the pop {id} never rendered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Resident memory of `pid` and its descendants, in MiB.
struct Memory {
    rss: f64,
    pss: f64,
    /// Each process's name and PSS.
    parts: String,
}

/// Resident memory of `pid` and its descendants.
fn memory(pid: u32) -> Memory {
    let mut parents: HashMap<u32, u32> = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        // `pid (comm) state ppid …`: the command may hold spaces, so read after the last ')'.
        if let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
        {
            parents.insert(child, ppid);
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while let Some(&at) = tree.get(i) {
        tree.extend(parents.iter().filter(|(_, p)| **p == at).map(|(c, _)| *c));
        i += 1;
    }
    // In the order they started: the main window's web process before the pop window's.
    tree.sort_unstable();
    let field = |file: &str, pid: u32, key: &str| -> f64 {
        std::fs::read_to_string(format!("/proc/{pid}/{file}"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    let mut parts = Vec::new();
    let total = tree.iter().fold((0.0, 0.0), |(rss, pss), &p| {
        let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        let own = field("smaps_rollup", p, "Pss:");
        parts.push(format!("{} {own:.0}", name.trim()));
        (rss + field("status", p, "VmRSS:"), pss + own)
    });
    Memory {
        rss: total.0,
        pss: total.1,
        parts: parts.join(", "),
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (values.len() as f64 - 1.0)).round() as usize;
    values[rank.min(values.len() - 1)]
}

fn print_render(dom: &mut [f64], frame: &mut [f64]) {
    println!(
        "desktop bench: pop render over {} calls, WebSocket receipt -> window",
        dom.len()
    );
    println!(
        "  -> card in the DOM                 p50 {:>6.1} ms   p99 {:>6.1} ms   target p99 <= 50 ms",
        percentile(dom, 50.0),
        percentile(dom, 99.0)
    );
    println!(
        "  -> next frame begins               p50 {:>6.1} ms   p99 {:>6.1} ms",
        percentile(frame, 50.0),
        percentile(frame, 99.0)
    );
}

fn print_memory(when: &str, memory: Memory) {
    println!(
        "  {when:<38} RSS {:>6.1} MiB   PSS {:>6.1} MiB   target <= 150 MB",
        memory.rss, memory.pss
    );
    println!("    PSS MiB by process: {}", memory.parts);
}
