//! The connection loop without a socket: frames go in and come out through two channels, over a
//! real store and a real hub, so each rule of `connection.rs` is checked on its own.

use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream as FrameStream};
use ringside_core::wire::{PopGone, ServerMessage, close};
use ringside_core::{Clock, PopId, Role, SystemClock};
use ringside_identity::{AuthConfig, AuthService, EmailIndexKey, Principal};
use ringside_store::{AuditContext, Event, OrgKeys, Store};
use ringside_vault::{MasterKey, MasterKeyVersion, MasterKeyring};
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::{Connection, Stream, serve};
use crate::hub::{History, Hub, StreamSettings, Tickets};

/// The server's end of a connection: what the client sends comes in, what it sends goes out.
struct Pipe {
    incoming: UnboundedReceiver<Message>,
    outgoing: UnboundedSender<Message>,
}

impl FrameStream for Pipe {
    type Item = Result<Message, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.incoming.poll_recv(cx).map(|frame| frame.map(Ok))
    }
}

impl Sink<Message> for Pipe {
    type Error = axum::Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, frame: Message) -> Result<(), Self::Error> {
        self.outgoing.send(frame).map_err(axum::Error::new)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

/// One agent with a live session on a fresh store, and the hub they connect to.
struct Desk {
    _dir: tempfile::TempDir,
    hub: Arc<Hub>,
    history: History,
    auth: AuthService,
    principal: Principal,
    who: Connection,
}

impl Desk {
    fn new(heartbeat: Duration) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(Store::open(dir.path(), Arc::clone(&clock)).unwrap());
        let masters = Arc::new(MasterKeyring::single(MasterKey::generate(
            MasterKeyVersion::FIRST,
        )));
        let keys = OrgKeys::new(Arc::clone(&store), Arc::clone(&masters));
        let email_key = EmailIndexKey::load(&store, &masters).unwrap();
        let auth = AuthService::with_unvalidated_config(
            Arc::clone(&store),
            keys.clone(),
            Arc::clone(&clock),
            email_key,
            AuthConfig::fast_insecure_for_tests(),
        )
        .unwrap();
        let org = store
            .orgs()
            .create_org("Acme", &masters, &AuditContext::system("test"))
            .unwrap()
            .id;
        let invitation = auth
            .invite_as_operator(org, "agent@example.com", Role::Agent)
            .unwrap();
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let tokens = auth
            .accept_invitation_and_sign_in(
                invitation.code.expose(),
                "Agent",
                "mauve kettle orbit 41",
                "Desk",
                ip,
            )
            .unwrap();
        let principal = auth.authenticate(tokens.access_token.expose()).unwrap();
        let settings = StreamSettings {
            heartbeat,
            max_unacked: 1_000,
        };
        Self {
            _dir: dir,
            hub: Arc::new(Hub::new(settings, Tickets::new(clock))),
            history: History::new(store, keys),
            auth,
            principal,
            who: Connection {
                org,
                user: tokens.user,
                session: tokens.session,
                lifetime: Duration::from_secs(3600),
            },
        }
    }

    /// Connects: the client's sender and receiver; the loop runs in its own task.
    fn connect(&self) -> Client {
        let (to_server, incoming) = unbounded_channel();
        let (outgoing, from_server) = unbounded_channel();
        let stream = Stream {
            hub: Arc::clone(&self.hub),
            history: self.history.clone(),
        };
        tokio::spawn(serve(Pipe { incoming, outgoing }, stream, self.who));
        Client {
            to_server,
            from_server,
        }
    }

    /// Offers a stored `pop_expired` with `seq` to the user's connections, as the store does.
    fn publish(&self, seq: u64) {
        self.hub.publish(&[Event {
            user: self.who.user,
            message: ServerMessage::PopExpired(PopGone {
                seq,
                pop_id: PopId::random(),
            }),
        }]);
    }
}

struct Client {
    to_server: UnboundedSender<Message>,
    from_server: UnboundedReceiver<Message>,
}

/// What the client can see of a frame.
#[derive(Debug, PartialEq)]
enum Seen {
    Json(Value),
    Close(u16),
    Ping,
}

impl Client {
    fn send(&self, message: &Value) {
        self.to_server
            .send(Message::Text(message.to_string().into()))
            .unwrap();
    }

    /// The next frame the server sends, within 5 s.
    async fn next(&mut self) -> Seen {
        let frame = tokio::time::timeout(Duration::from_secs(5), self.from_server.recv())
            .await
            .expect("the server sent nothing within 5 s")
            .expect("the connection ended without a close frame");
        match frame {
            Message::Text(text) => Seen::Json(serde_json::from_str(&text).unwrap()),
            Message::Close(Some(frame)) => Seen::Close(frame.code),
            Message::Ping(_) => Seen::Ping,
            other => panic!("unexpected frame {other:?}"),
        }
    }

    /// Whether the server stays silent for `period`.
    async fn silent_for(&mut self, period: Duration) -> bool {
        tokio::time::timeout(period, self.from_server.recv())
            .await
            .is_err()
    }

    /// The next non-ping frame.
    async fn next_message(&mut self) -> Seen {
        loop {
            match self.next().await {
                Seen::Ping => {}
                seen => return seen,
            }
        }
    }

    /// `hello`, checked: the protocol's first message, with the user's last seq.
    async fn hello(&mut self, last_seq: u64) {
        let Seen::Json(hello) = self.next_message().await else {
            panic!("hello first");
        };
        assert_eq!(hello["type"], "hello", "{hello}");
        assert_eq!(hello["last_seq"], last_seq, "{hello}");
    }

    /// The `seq` of the next event message.
    async fn seq(&mut self) -> u64 {
        match self.next_message().await {
            Seen::Json(event) => event["seq"].as_u64().unwrap(),
            other => panic!("expected an event, got {other:?}"),
        }
    }
}

const HEARTBEAT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn live_events_wait_for_resume_and_then_arrive_once_each_in_seq_order() {
    let desk = Desk::new(HEARTBEAT);
    let mut client = desk.connect();
    client.hello(0).await;
    // Published before the client resumed: held until the replay is done.
    desk.publish(1);
    assert!(
        client.silent_for(Duration::from_millis(200)).await,
        "nothing live before the resume"
    );
    client.send(&json!({"type": "resume", "after_seq": 0}));
    assert_eq!(client.seq().await, 1);
    desk.publish(1); // the same event again: not sent twice
    desk.publish(2);
    assert_eq!(client.seq().await, 2);
}

#[tokio::test]
async fn a_second_resume_or_a_binary_frame_closes_with_4400() {
    let desk = Desk::new(HEARTBEAT);
    let mut twice = desk.connect();
    twice.hello(0).await;
    twice.send(&json!({"type": "resume", "after_seq": 0}));
    twice.send(&json!({"type": "resume", "after_seq": 0}));
    assert_eq!(twice.next_message().await, Seen::Close(close::BAD_MESSAGE));

    let mut binary = desk.connect();
    binary.hello(0).await;
    binary
        .to_server
        .send(Message::Binary(vec![1].into()))
        .unwrap();
    assert_eq!(binary.next_message().await, Seen::Close(close::BAD_MESSAGE));
}

#[tokio::test]
async fn a_session_ended_before_the_socket_registered_is_closed_with_4403() {
    let desk = Desk::new(HEARTBEAT);
    desk.auth.logout(&desk.principal).unwrap();
    let mut client = desk.connect();
    client.hello(0).await;
    let Seen::Json(revoked) = client.next_message().await else {
        panic!("session_revoked before the close");
    };
    assert_eq!(revoked["type"], "session_revoked", "{revoked}");
    assert_eq!(
        client.next_message().await,
        Seen::Close(close::SESSION_REVOKED)
    );
}

#[tokio::test]
async fn a_client_that_never_answers_is_pinged_then_closed_with_4409() {
    let desk = Desk::new(Duration::from_millis(50));
    let mut client = desk.connect();
    client.hello(0).await;
    assert_eq!(client.next().await, Seen::Ping, "pinged each heartbeat");
    assert_eq!(
        client.next_message().await,
        Seen::Close(close::HEARTBEAT_TIMEOUT)
    );
}
