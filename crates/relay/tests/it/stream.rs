//! The pipeline end to end over real sockets: signed webhooks in, routed pops out on the stream
//! (`GET /v1/stream`), exactly once — through duplicates and reordering, a relay restart, a slow
//! consumer, a revoked session, expiry and dismissal on another device.
//!
//! The client here is a bare WebSocket so each test can see the protocol itself (seq, close
//! codes); `client_crate.rs` drives the same stream through `ringside-client`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ringside_core::wire::{CallState, Contact, MatchState, RecordKind};
use ringside_core::{OrgId, PhoneNumber, Pii, Role};
use ringside_relay::calls::lookup::{Lookup, LookupFuture};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::api::client::Member;
use crate::office::{CALLER, Office, Restart, Setup};
use crate::utils::assert_not_on_disk;

impl Office {
    /// Alice, an agent with the route `u-alice`, connected and resumed from the start.
    pub(crate) async fn alice_on_her_route(&self) -> (Member, Socket) {
        let alice = self.agent("alice@acme.example").await;
        self.route("u-alice", &alice);
        let mut socket = self.connect(&alice).await;
        socket.resume(0).await;
        (alice, socket)
    }

    pub(crate) async fn ticket(&self, member: &Member) -> String {
        let reply = self
            .api
            .post("/v1/stream/ticket", member.token(), json!(null))
            .await
            .expect(200, "a stream ticket");
        reply.body["ticket"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn connect(&self, member: &Member) -> Socket {
        let ticket = self.ticket(member).await;
        self.connect_with(&ticket, None)
            .await
            .expect("the stream opens")
    }

    pub(crate) async fn connect_with(
        &self,
        ticket: &str,
        origin: Option<&str>,
    ) -> Result<Socket, u16> {
        let url = format!("ws://{}/v1/stream?ticket={ticket}", self.relay.addr);
        let mut request = url.into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => {
                let mut socket = Socket { ws };
                let hello = socket.next().await.expect("hello");
                assert_eq!(hello["type"], "hello");
                Ok(socket)
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(other) => panic!("connecting: {other}"),
        }
    }
}

/// A bare stream connection.
pub(crate) struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    /// The next JSON message within 5 s (pings skipped); `None` when the socket closed.
    pub(crate) async fn next(&mut self) -> Option<Value> {
        self.within(Duration::from_secs(5)).await
    }

    pub(crate) async fn within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(wait, self.ws.next()).await.ok()??;
            match frame.ok()? {
                Message::Text(text) => return Some(serde_json::from_str(&text).unwrap()),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Asserts nothing arrives for a moment.
    pub(crate) async fn quiet(&mut self, what: &str) {
        if let Some(message) = self.within(Duration::from_millis(300)).await {
            panic!("{what}: expected nothing, got {message}");
        }
    }

    pub(crate) async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    pub(crate) async fn resume(&mut self, after_seq: u64) {
        self.send(json!({"type": "resume", "after_seq": after_seq}))
            .await;
    }

    /// Reads until the relay closes; answers the close code.
    pub(crate) async fn close_code(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.ws.next()).await.ok()?? {
                Ok(Message::Close(Some(frame))) => return Some(frame.code.into()),
                Ok(Message::Close(None)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}

fn kinds(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_signed_ring_pops_for_the_routed_agent_only_and_never_for_another_org() {
    let office = Office::open().await;
    let alice = office.agent("alice@acme.example").await;
    let bob = office.agent("bob@acme.example").await;
    office.route("u-alice", &alice);
    let other = office.operator.create_org("Other Agency");
    office.fallback_all(other);
    let carol = office
        .member_of(other, "carol@other.example", Role::Agent)
        .await;

    let mut a = office.connect(&alice).await;
    let mut b = office.connect(&bob).await;
    let mut c = office.connect(&carol).await;
    for socket in [&mut a, &mut b, &mut c] {
        socket.resume(0).await;
    }
    assert_eq!(
        office
            .ring("call-1", CallState::Ringing, Some("u-alice"))
            .await
            .status,
        200
    );

    let pop = a.next().await.expect("alice's pop");
    assert_eq!(pop["type"], "pop");
    assert_eq!(pop["seq"], 1);
    assert_eq!(pop["number"], CALLER);
    assert_eq!(pop["state"], "ringing");
    assert_eq!(pop["match"]["status"], "unavailable", "no AMS is connected");
    a.quiet("one pop").await;
    b.quiet("bob is not routed and the fallback is nobody")
        .await;
    c.quiet("another org's agent").await;

    // Unrouted with the default fallback (nobody): no pop at all.
    assert_eq!(
        office
            .ring("call-2", CallState::Ringing, Some("u-nobody"))
            .await
            .status,
        200
    );
    a.quiet("unrouted call").await;
    b.quiet("unrouted call").await;
}

#[tokio::test]
async fn duplicates_and_reordered_events_make_one_pop_and_the_right_final_state() {
    let office = Office::open().await;
    let (_alice, mut a) = office.alice_on_her_route().await;

    let user = Some("u-alice");
    let first = office.ring("call-9", CallState::Ringing, user).await;
    assert_eq!(office.retry(&first).await, 200, "a retry");
    office.ring("call-9", CallState::Answered, user).await;
    office.ring("call-9", CallState::Ringing, user).await; // late
    office.ring("call-9", CallState::Ended, user).await;
    office.ring("call-9", CallState::Answered, user).await; // later still

    let mut got = Vec::new();
    while let Some(message) = a.within(Duration::from_millis(500)).await {
        got.push(message);
    }
    assert_eq!(kinds(&got), ["pop", "call_state", "call_state"], "{got:?}");
    assert_eq!(got[1]["state"], "answered");
    assert_eq!(got[2]["state"], "ended", "a final state is never left");
    let seqs: Vec<u64> = got.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[tokio::test]
async fn after_a_crash_and_restart_the_client_resumes_with_nothing_lost_and_nothing_twice() {
    let office = Office::open().await;
    let (alice, mut a) = office.alice_on_her_route().await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    let first = a.next().await.unwrap();
    assert_eq!(first["seq"], 1);
    a.send(json!({"type": "ack", "seq": 1})).await;
    drop(a);

    // While the agent is away the relay takes a call, then is killed and restarted.
    office
        .ring("call-2", CallState::Ringing, Some("u-alice"))
        .await;
    let office = office.restarted(Restart::Kill).await;
    let mut a = office.connect(&alice).await;
    a.resume(1).await;
    let replayed = a.next().await.expect("the missed pop is replayed");
    assert_eq!(
        (replayed["type"].as_str(), replayed["seq"].as_u64()),
        (Some("pop"), Some(2))
    );
    a.quiet("nothing already handled comes again").await;
    office
        .ring("call-3", CallState::Ringing, Some("u-alice"))
        .await;
    assert_eq!(
        a.next().await.unwrap()["seq"],
        3,
        "seq goes on after the restart"
    );
}

#[tokio::test]
async fn a_slow_consumer_is_closed_with_4408_and_resumes_everything() {
    let office = Office::with(Setup {
        toml: "[websocket]\nmax_unacked = 8\n",
        ..Setup::default()
    })
    .await;
    let alice = office.agent("alice@acme.example").await;
    office.fallback_all(office.org);
    let mut a = office.connect(&alice).await;
    a.resume(0).await;
    for n in 0..12 {
        office
            .ring(&format!("call-{n}"), CallState::Ringing, None)
            .await;
    }
    assert_eq!(
        a.close_code(Duration::from_secs(5)).await,
        Some(4408),
        "never acking, it falls behind"
    );
    let mut a = office.connect(&alice).await;
    a.resume(0).await;
    for seq in 1..=12u64 {
        let message = a.next().await.expect("replayed");
        assert_eq!(message["seq"], seq);
        a.send(json!({"type": "ack", "seq": seq})).await;
    }
    a.quiet("each once").await;
}

#[tokio::test]
async fn a_revoked_session_closes_its_socket_within_a_second() {
    let office = Office::open().await;
    let alice = office.agent("alice@acme.example").await;
    let mut a = office.connect(&alice).await;
    a.resume(0).await;
    office
        .api
        .post("/v1/auth/logout", alice.token(), json!(null))
        .await
        .expect(204, "signing out");
    let revoked = a.within(Duration::from_secs(1)).await.expect("told why");
    assert_eq!(revoked["type"], "session_revoked");
    assert_eq!(a.close_code(Duration::from_secs(1)).await, Some(4403));
}

#[tokio::test]
async fn a_ticket_works_once_from_an_allowed_origin_only() {
    let office = Office::with(Setup {
        toml: "[websocket]\nallowed_origins = [\"https://admin.acme.example\"]\n",
        ..Setup::default()
    })
    .await;
    let alice = office.agent("alice@acme.example").await;
    let ticket = office.ticket(&alice).await;
    let refused = office
        .connect_with(&ticket, Some("https://evil.example"))
        .await;
    assert_eq!(refused.err(), Some(403), "a page from elsewhere");
    assert!(
        office
            .connect_with(&ticket, Some("https://admin.acme.example"))
            .await
            .is_ok()
    );
    assert_eq!(
        office.connect_with(&ticket, None).await.err(),
        Some(401),
        "used up"
    );
    let desktop = office.ticket(&alice).await;
    assert!(
        office
            .connect_with(&desktop, Some("tauri://localhost"))
            .await
            .is_ok(),
        "the desktop app"
    );
    let stale = office.ticket(&alice).await;
    office.relay.clock.advance(Duration::from_secs(31));
    assert_eq!(
        office.connect_with(&stale, None).await.err(),
        Some(401),
        "expired"
    );
    assert_eq!(
        office.connect_with("rst_made_up", None).await.err(),
        Some(401)
    );
}

#[tokio::test]
async fn a_pop_expires_after_five_minutes_and_a_dismissal_reaches_every_device() {
    let office = Office::open().await;
    let alice = office.agent("alice@acme.example").await;
    office.route("u-alice", &alice);
    let mut laptop = alice.clone();
    office.sign_in(&mut laptop).await;
    let mut desk = office.connect(&alice).await;
    let mut lap = office.connect(&laptop).await;
    desk.resume(0).await;
    lap.resume(0).await;

    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    let pop = desk.next().await.unwrap();
    assert_eq!(
        lap.next().await.unwrap()["pop_id"],
        pop["pop_id"],
        "both devices pop"
    );
    desk.send(json!({"type": "dismiss", "pop_id": pop["pop_id"]}))
        .await;
    for socket in [&mut desk, &mut lap] {
        let gone = socket.next().await.unwrap();
        assert_eq!(
            (gone["type"].as_str(), &gone["pop_id"]),
            (Some("pop_dismissed"), &pop["pop_id"])
        );
    }

    office
        .ring("call-2", CallState::Ringing, Some("u-alice"))
        .await;
    let second = desk.next().await.unwrap();
    lap.next().await.unwrap();
    office.relay.clock.advance(Duration::from_secs(5 * 60 + 1));
    let expired = desk
        .within(Duration::from_secs(3))
        .await
        .expect("pop_expired");
    assert_eq!(
        (expired["type"].as_str(), &expired["pop_id"]),
        (Some("pop_expired"), &second["pop_id"])
    );

    let mut fresh = office.connect(&alice).await;
    fresh.resume(0).await;
    let mut replay = Vec::new();
    while let Some(message) = fresh.within(Duration::from_millis(300)).await {
        replay.push(message);
    }
    // Five minutes on, the dismissal has expired too: only the latest word on the second pop.
    assert_eq!(
        kinds(&replay),
        ["pop_expired"],
        "the pops themselves are gone"
    );
}

#[tokio::test]
async fn a_shorter_pop_ttl_is_what_pops_carry_and_when_they_expire() {
    let office = Office::with(Setup {
        toml: "[websocket]\npop_ttl_secs = 30\n",
        ..Setup::default()
    })
    .await;
    let alice = office.agent("alice@acme.example").await;
    office.route("u-alice", &alice);
    let mut desk = office.connect(&alice).await;
    desk.resume(0).await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    let pop = desk.next().await.unwrap();
    let at = |key: &str| {
        time::OffsetDateTime::parse(
            pop[key].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert_eq!((at("expires_at") - at("created_at")).whole_seconds(), 30);
    office.relay.clock.advance(Duration::from_secs(20));
    desk.quiet("not yet: 20 of its 30 seconds").await;
    office.relay.clock.advance(Duration::from_secs(11));
    let expired = desk
        .within(Duration::from_secs(3))
        .await
        .expect("pop_expired");
    assert_eq!(
        (expired["type"].as_str(), &expired["pop_id"]),
        (Some("pop_expired"), &pop["pop_id"])
    );
}

/// An AMS that knows one caller.
#[derive(Debug)]
struct OneCaller;

impl Lookup for OneCaller {
    fn connected(&self, _org: OrgId) -> bool {
        true
    }

    fn lookup(&self, _org: OrgId, number: Pii<PhoneNumber>) -> LookupFuture {
        let found = if number.expose().e164() == CALLER {
            MatchState::Found {
                contacts: vec![Contact {
                    id: "client-7".to_owned(),
                    kind: RecordKind::Client,
                    name: Pii::new("Pat Example".to_owned()),
                    detail: None,
                    open_url: None,
                }],
            }
        } else {
            MatchState::NoMatch
        };
        Box::pin(std::future::ready(found))
    }
}

#[tokio::test]
async fn with_an_ams_the_pop_says_pending_then_an_update_carries_the_match() {
    let office = Office::with(Setup {
        lookup: Some(Arc::new(OneCaller)),
        ..Setup::default()
    })
    .await;
    let (_alice, mut a) = office.alice_on_her_route().await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    let pop = a.next().await.unwrap();
    assert_eq!(pop["match"]["status"], "pending");
    let update = a.next().await.unwrap();
    assert_eq!(update["type"], "pop_update");
    assert_eq!(update["pop_id"], pop["pop_id"]);
    assert_eq!(update["match"]["status"], "found");
    assert_eq!(update["match"]["contacts"][0]["id"], "client-7");

    assert_not_on_disk(
        &office.dir.path().join("data"),
        &[&CALLER[1..], "Pat Example"],
    );
}

#[tokio::test]
async fn a_text_from_a_client_reaches_the_routed_agent_once_and_is_sealed_at_rest() {
    let office = Office::open().await;
    let alice = office.agent("alice@acme.example").await;
    let bob = office.agent("bob@acme.example").await;
    office.route("u-alice", &alice);
    let mut a = office.connect(&alice).await;
    let mut b = office.connect(&bob).await;
    a.resume(0).await;
    b.resume(0).await;

    let text = "Marker renewal question about policy QX-4471";
    assert_eq!(
        office.text("m-1", CALLER, text, 2).await,
        200,
        "delivered, then retried by the provider"
    );

    let sms = a.next().await.expect("alice's sms");
    assert_eq!(sms["type"], "sms");
    assert_eq!(sms["direction"], "inbound");
    assert_eq!(sms["number"], CALLER);
    assert_eq!(sms["text"], text);
    a.quiet("the provider's retry is not a second message")
        .await;
    b.quiet("bob is not routed").await;

    assert_not_on_disk(&office.dir.path().join("data"), &["QX-4471", &CALLER[1..]]);
}

#[tokio::test]
async fn a_client_that_stops_answering_is_dropped_after_two_heartbeats() {
    let office = Office::with(Setup {
        toml: "[websocket]\nheartbeat_secs = 1\n",
        ..Setup::default()
    })
    .await;
    let alice = office.agent("alice@acme.example").await;
    let mut a = office.connect(&alice).await;
    a.resume(0).await;
    // Not reading means not answering the relay's pings.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(a.close_code(Duration::from_secs(2)).await, Some(4409));
}

#[tokio::test]
async fn after_a_restart_a_long_acked_history_does_not_count_as_falling_behind() {
    let office = Office::with(Setup {
        toml: "[websocket]\nmax_unacked = 8\n",
        ..Setup::default()
    })
    .await;
    let alice = office.agent("alice@acme.example").await;
    office.fallback_all(office.org);
    let mut a = office.connect(&alice).await;
    a.resume(0).await;
    for n in 1..=12u64 {
        office
            .ring(&format!("call-{n}"), CallState::Ringing, None)
            .await;
        assert_eq!(a.next().await.unwrap()["seq"], n);
        a.send(json!({"type": "ack", "seq": n})).await;
    }
    drop(a);
    let office = office.restarted(Restart::Graceful).await;
    // The new relay has no acks in memory: the client's resume says where it stands.
    let mut a = office.connect(&alice).await;
    a.resume(12).await;
    office.ring("call-13", CallState::Ringing, None).await;
    let next = a.next().await.expect("the next pop, not a 4408");
    assert_eq!(
        (next["type"].as_str(), next["seq"].as_u64()),
        (Some("pop"), Some(13))
    );
}

#[tokio::test]
async fn a_long_note_fits_through_the_small_read_buffer_but_an_oversized_message_closes() {
    let office = Office::open().await;
    let (_alice, mut a) = office.alice_on_her_route().await;
    office
        .ring("call-1", CallState::Ringing, Some("u-alice"))
        .await;
    let pop = a.next().await.expect("the pop");
    let call_id = pop["call_id"].as_str().unwrap().to_owned();
    a.send(json!({"type": "note", "call_id": call_id, "text": "n".repeat(20_000)}))
        .await;
    a.quiet("a 20,000-character note is taken, without an answer")
        .await;

    a.send(json!({"type": "note", "call_id": call_id, "text": "n".repeat(70_000)}))
        .await;
    assert_eq!(
        a.close_code(Duration::from_secs(2)).await,
        Some(4400),
        "over 64 KiB: refused with the bad-message code"
    );
}

#[tokio::test]
async fn a_second_resume_is_refused_with_4400() {
    let office = Office::open().await;
    let (_alice, mut a) = office.alice_on_her_route().await;
    a.resume(0).await;
    assert_eq!(a.close_code(Duration::from_secs(2)).await, Some(4400));
}
