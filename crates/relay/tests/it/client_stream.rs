//! `ringside-client`'s stream and `ringside-relay listen` against a real relay: the client crate
//! the desktop app will use must agree with the hub it talks to — `hello`, each pop once with its
//! acks, resume across a relay restart, dismissal reaching the user's other device, revocation —
//! and the operator's `listen` must print what an agent would see, masked.
//!
//! The bare-socket protocol tests are in `stream.rs`; the client's reconnection edge cases
//! (close codes at precise moments, silence) run against a scripted stand-in in
//! `crates/client/tests/stream/`.

use std::sync::Arc;
use std::time::Duration;

use ringside_client::stream::{
    BackoffPolicy, CloseReason, ConnectionState, Jitter, StreamEvent, StreamHandle, StreamOptions,
};
use ringside_client::{Client, LoginStep, Session};
use ringside_core::wire::{CallState, ClientMessage, LoginRequest, MatchState, ServerMessage};
use ringside_core::{Clock, Pii};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::api::client::PASSWORD;
use crate::bin;
use crate::office::{CALLER, Office, Restart};

/// An agency whose calls all go to every agent (fallback `all`), on a real relay.
async fn desk() -> Office {
    let office = Office::open().await;
    office.fallback_all(office.org);
    office
}

impl Office {
    /// A client on the relay's clock (so token expiry is judged as the relay judges it).
    fn client(&self) -> Client {
        let clock: Arc<dyn Clock> = Arc::new(self.relay.clock.clone());
        Client::with_clock(&format!("http://{}", self.relay.addr), clock).unwrap()
    }

    /// Signs `email` in through the client crate on device `device`.
    async fn session(&self, email: &str, device: &str) -> Session {
        self.pace();
        let step = self
            .client()
            .login(&LoginRequest {
                email: Pii::new(email.to_owned()),
                password: Pii::new(PASSWORD.to_owned()),
                second_factor: None,
                device_name: Pii::new(device.to_owned()),
                device_token: None,
            })
            .await
            .expect("signing in");
        match step {
            LoginStep::SignedIn(session) => *session,
            other => panic!("an agent without a second factor signs in at once: {other:?}"),
        }
    }

    /// Rings `call` in `state` for no one in particular (the fallback takes it); asserts the
    /// webhook is accepted.
    async fn ring_desk(&self, call: &str, state: CallState) {
        let sent = self.ring(call, state, None).await;
        assert_eq!(sent.status, 200, "the webhook is accepted");
    }
}

/// Quick retries: a test should not wait on the production back-off.
fn options() -> StreamOptions {
    StreamOptions {
        backoff: BackoffPolicy {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            healthy_after: Duration::from_secs(10),
            jitter: Jitter::Full,
        },
        ..StreamOptions::default()
    }
}

async fn next(stream: &mut StreamHandle) -> StreamEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the stream says something within 10 s")
        .expect("the stream is still running")
}

/// Skips reconnection notices until connected; answers `hello`'s `last_seq`.
async fn connected(stream: &mut StreamHandle) -> u64 {
    loop {
        match next(stream).await {
            StreamEvent::State(ConnectionState::Connected(hello)) => return hello.last_seq,
            StreamEvent::State(ConnectionState::Reconnecting { .. }) => {}
            other => panic!("expected to connect, got {other:?}"),
        }
    }
}

/// The next event, which must be a message.
async fn message(stream: &mut StreamHandle) -> ServerMessage {
    match next(stream).await {
        StreamEvent::Message(message) => message,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Asserts no event arrives for a moment.
async fn quiet(stream: &mut StreamHandle, what: &str) {
    if let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(400), stream.next()).await {
        panic!("{what}: expected nothing, got {event:?}");
    }
}

#[tokio::test]
async fn the_client_crate_gets_hello_then_each_event_once_across_a_relay_restart() {
    let desk = desk().await;
    let email = desk.agent("pat@acme.example").await.email;
    let session = desk.session(&email, "Front desk PC").await;
    let user = session.tokens().await.user_id;
    let mut stream = session.stream(options());

    match next(&mut stream).await {
        StreamEvent::State(ConnectionState::Connected(hello)) => {
            assert_eq!(hello.user_id, user, "the stream is the signed-in user's");
            assert_eq!(hello.protocol_version, ringside_core::PROTOCOL_VERSION);
            assert_eq!(hello.heartbeat_secs, 20, "the default heartbeat");
            assert_eq!(hello.last_seq, 0, "nothing given yet");
        }
        other => panic!("expected hello, got {other:?}"),
    }

    desk.ring_desk("call-1", CallState::Ringing).await;
    let pop = match message(&mut stream).await {
        ServerMessage::Pop(pop) => pop,
        other => panic!("expected a pop, got {other:?}"),
    };
    assert_eq!(pop.seq, 1);
    assert_eq!(pop.number.as_ref().unwrap().expose(), CALLER);
    assert_eq!(pop.state, CallState::Ringing);
    assert_eq!(pop.match_state, MatchState::Unavailable, "no AMS connected");
    desk.ring_desk("call-1", CallState::Answered).await;
    match message(&mut stream).await {
        ServerMessage::CallState(change) => {
            assert_eq!((change.seq, change.state), (2, CallState::Answered));
            assert_eq!(change.call_id, pop.call_id);
        }
        other => panic!("expected the call's state, got {other:?}"),
    }

    let desk = desk.restarted(Restart::Graceful).await;
    assert_eq!(
        connected(&mut stream).await,
        2,
        "reconnected to the restarted relay, which remembers the user's seq"
    );
    quiet(
        &mut stream,
        "events handled before the restart are not shown again",
    )
    .await;

    desk.ring_desk("call-2", CallState::Ringing).await;
    assert_eq!(
        message(&mut stream).await.seq(),
        Some(3),
        "the next pop, once"
    );
    quiet(&mut stream, "and nothing else").await;
    stream.close().await;
}

#[tokio::test]
async fn a_dismissal_through_the_client_crate_clears_the_pop_on_the_users_other_device() {
    let desk = desk().await;
    let email = desk.agent("sam@acme.example").await.email;
    let laptop = desk.session(&email, "Laptop").await;
    let desktop = desk.session(&email, "Desktop").await;
    let mut on_laptop = laptop.stream(options());
    let mut on_desktop = desktop.stream(options());
    connected(&mut on_laptop).await;
    connected(&mut on_desktop).await;

    desk.ring_desk("call-9", CallState::Ringing).await;
    let ServerMessage::Pop(pop) = message(&mut on_laptop).await else {
        panic!("a pop on the laptop");
    };
    let ServerMessage::Pop(same) = message(&mut on_desktop).await else {
        panic!("a pop on the desktop");
    };
    assert_eq!(
        (pop.pop_id, pop.seq),
        (same.pop_id, same.seq),
        "one pop, both devices"
    );

    on_laptop
        .send(ClientMessage::Dismiss { pop_id: pop.pop_id })
        .await
        .unwrap();
    match message(&mut on_desktop).await {
        ServerMessage::PopDismissed(gone) => {
            assert_eq!(gone.pop_id, pop.pop_id);
            assert!(gone.seq > pop.seq, "a new event of the user's");
        }
        other => panic!("expected the dismissal, got {other:?}"),
    }
    on_laptop.close().await;
    on_desktop.close().await;
}

#[tokio::test]
async fn signing_out_ends_the_stream_as_revoked_without_reconnecting() {
    let desk = desk().await;
    let email = desk.agent("lee@acme.example").await.email;
    let session = desk.session(&email, "Front desk PC").await;
    let mut stream = session.stream(options());
    connected(&mut stream).await;

    session.logout().await.unwrap();
    let started = std::time::Instant::now();
    match next(&mut stream).await {
        StreamEvent::State(ConnectionState::Closed(CloseReason::SessionRevoked { .. })) => {}
        other => panic!("expected the stream to stop as revoked, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "within a second of signing out"
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(2), stream.next())
            .await
            .unwrap()
            .is_none(),
        "nothing follows: no reconnection"
    );
}

#[tokio::test]
async fn listen_prints_each_pop_with_the_number_masked_until_interrupted() {
    let desk = desk().await;
    let email = desk.agent("kim@acme.example").await.email;
    desk.pace();
    let home = tempfile::tempdir().unwrap();
    let mut child = bin::command(home.path())
        .env("RINGSIDE_PASSWORD", PASSWORD)
        .args(["--data-dir"])
        .arg(home.path().join("unused"))
        .args(["listen", "--relay"])
        .arg(format!("http://{}", desk.relay.addr))
        .args(["--email", &email, "--device-name", "Ops check"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            let done = line.starts_with("connected as usr_");
            seen.push(line);
            if done {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("listen connects: {seen:?}"));

    desk.ring_desk("call-7", CallState::Ringing).await;
    let line = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
        .await
        .expect("a line for the pop")
        .unwrap()
        .unwrap();
    assert!(
        line.starts_with("pop  ***-***-0734  call cal_"),
        "one line per pop, number masked: {line}"
    );
    assert!(
        line.contains("inbound ringing  match: unavailable"),
        "{line}"
    );
    assert!(!line.contains("617243"), "never the whole number: {line}");

    let status = bin::signal(&mut child, "INT", Duration::from_secs(10)).await;
    let mut rest = Vec::new();
    while let Ok(Some(line)) = stderr.next_line().await {
        rest.push(line);
    }
    assert!(
        status.success(),
        "Ctrl-C is a clean exit: {status} {rest:?}"
    );
    assert!(rest.iter().any(|l| l == "stopped"), "{rest:?}");
}
