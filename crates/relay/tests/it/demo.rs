//! `ringside-relay demo` through the real binary: it starts a relay on a fresh folder and prints
//! an agent invitation; an agent who accepts it over HTTP (`ringside-client`) and opens the stream
//! gets pops for the calls the demo keeps placing — numbers in the demo's fictional `555-01xx`
//! range, printed by the demo only masked. It stops by itself after `--calls N` (and on SIGTERM),
//! and refuses a folder that is not empty without touching it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use ringside_client::Client;
use ringside_client::stream::{StreamEvent, StreamOptions};
use ringside_core::Pii;
use ringside_core::wire::{AcceptInvitationRequest, MatchState, ServerMessage};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::bin;

fn demo(home: &Path) -> Command {
    let mut cmd = bin::command(home);
    cmd.env("TMPDIR", home);
    cmd
}

/// Reads the banner up to the agent invitation: the relay's URL and the agent's code.
async fn banner(lines: &mut Lines<BufReader<ChildStdout>>) -> (String, String, String) {
    let mut text = String::new();
    let mut relay = None;
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            text.push_str(&line);
            text.push('\n');
            if let Some(url) = line.strip_prefix("relay ") {
                relay = Some(url.trim().to_owned());
            }
            if let Some(rest) = line.strip_prefix("agent invitation") {
                let code = rest.split_whitespace().next().unwrap().to_owned();
                return code;
            }
        }
        panic!("the demo exited before printing an agent invitation:\n{text}");
    })
    .await
    .map(|code| {
        (
            relay.expect("the relay's URL is printed first"),
            code,
            text.clone(),
        )
    })
    .expect("the demo prints its banner within 60 s")
}

fn spawn_demo(home: &Path, args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = demo(home)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

#[tokio::test]
async fn the_demo_places_calls_that_pop_for_the_agent_it_invited_then_stops_after_n_calls() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let (mut child, mut lines) = spawn_demo(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
            "demo",
            "--calls",
            "3",
            "--every-secs",
            "2",
        ],
    );
    let (relay, code, banner_text) = banner(&mut lines).await;
    assert!(relay.starts_with("http://127.0.0.1:"), "{relay}");
    assert!(!relay.ends_with(":0"), "the real port is printed: {relay}");
    assert!(banner_text.contains("Demo Agency"), "{banner_text}");
    assert!(
        banner_text.contains("AMS           the sandbox at http://127.0.0.1:"),
        "{banner_text}"
    );
    assert!(
        banner_text.contains("owner invitation  rsi_"),
        "{banner_text}"
    );
    assert!(
        data.join("master.key").is_file(),
        "the key file is inside the demo folder"
    );

    // The rest of stdout, collected while the agent joins and listens.
    let rest = bin::collect(lines);

    let client = Client::new(&relay).unwrap();
    let session = client
        .accept_invitation(&AcceptInvitationRequest {
            code: Pii::new(code),
            display_name: Pii::new("Demo Agent".to_owned()),
            password: Pii::new("correct horse battery staple 42".to_owned()),
            device_name: Pii::new("demo test".to_owned()),
        })
        .await
        .expect("the printed agent invitation is accepted over HTTP");
    let mut stream = session.stream(StreamOptions::default());
    let pop = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match stream.next().await.expect("the stream stays open") {
                StreamEvent::Message(ServerMessage::Pop(pop)) => return pop,
                StreamEvent::Message(_) | StreamEvent::State(_) => {}
            }
        }
    })
    .await
    .expect("a pop arrives while the demo places its calls");
    assert_eq!(
        pop.match_state,
        MatchState::Pending,
        "the demo org has the sandbox AMS"
    );
    let matched = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.next().await.expect("the stream stays open") {
                StreamEvent::Message(ServerMessage::PopUpdate(update))
                    if update.pop_id == pop.pop_id =>
                {
                    return update.match_state;
                }
                StreamEvent::Message(_) | StreamEvent::State(_) => {}
            }
        }
    })
    .await
    .expect("the sandbox's answer follows");
    assert!(
        matches!(matched, MatchState::Found { .. } | MatchState::NoMatch),
        "the sandbox answered: {matched:?}"
    );
    let number = pop.number.expect("the demo's callers are not withheld");
    let number = number.expose();
    assert!(number.starts_with("+1"), "{number}");
    assert_eq!(
        &number[5..9],
        "5550",
        "a fictional 555-01xx number: {number}"
    );
    assert_eq!(&number[9..10], "1", "a fictional 555-01xx number: {number}");
    stream.close().await;

    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the demo stops by itself after --calls 3")
        .unwrap();
    assert!(status.success(), "a clean stop: {status}");
    let out = rest.await.unwrap().join("\n");
    let calls: Vec<&str> = out.lines().filter(|l| l.starts_with("call ")).collect();
    assert_eq!(calls.len(), 3, "one line per call:\n{out}");
    let last_four = &number[number.len() - 4..];
    assert!(
        calls
            .iter()
            .any(|l| l.contains(&format!("***-***-{last_four}"))),
        "the popped call is printed masked:\n{out}"
    );
    assert!(
        !out.contains(number) && !out.contains(&number[2..]),
        "no full number on the demo's output:\n{out}"
    );
    assert!(
        !out.contains("refused") && !out.contains("failed"),
        "every webhook accepted:\n{out}"
    );
    assert!(out.contains("3 calls placed"), "{out}");
    assert!(
        out.contains(&format!("ringside-relay listen --relay {relay} --email")),
        "the banner says how to watch the pops:\n{out}"
    );
    assert!(
        data.join("ringside.db").is_file(),
        "an explicit --data-dir is kept"
    );
}

#[tokio::test]
async fn the_demo_stops_cleanly_on_sigterm_and_removes_the_folder_it_made() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut lines) = spawn_demo(dir.path(), &["--listen", "127.0.0.1:0", "demo"]);
    let (_, _, banner_text) = banner(&mut lines).await;
    let folder = banner_text
        .lines()
        .find_map(|l| l.strip_prefix("data folder"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(std::path::PathBuf::from)
        .expect("the demo folder is printed");
    assert!(
        folder.starts_with(dir.path()) && folder.join("ringside.db").is_file(),
        "a fresh ringside-demo-… folder under the temp dir: {}",
        folder.display()
    );
    assert!(
        folder
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("ringside-demo-")
    );

    let status = bin::signal(&mut child, "TERM", Duration::from_secs(20)).await;
    assert!(status.success(), "a clean stop: {status}");
    assert!(!folder.exists(), "the folder the demo made is removed");
}

#[tokio::test]
async fn the_demo_refuses_a_folder_that_is_not_empty_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("real-data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("ringside.db"), b"not the demo's").unwrap();

    let out = demo(dir.path())
        .args(["--data-dir", data.to_str().unwrap(), "demo", "--calls", "1"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is not an empty folder") && stderr.contains("real data"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing started");
    let entries: Vec<_> = std::fs::read_dir(&data).unwrap().collect();
    assert_eq!(entries.len(), 1, "nothing added to the folder");
    assert_eq!(
        std::fs::read(data.join("ringside.db")).unwrap(),
        b"not the demo's"
    );
}
