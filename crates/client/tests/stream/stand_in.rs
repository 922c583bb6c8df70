//! A stand-in relay on 127.0.0.1:0 speaking exactly the stream's contract, so a test can script
//! each connection: answer `POST /v1/stream/ticket` (Bearer access token → a single-use ticket),
//! accept `GET /v1/stream?ticket=…` (401 before the upgrade for a ticket it did not issue or
//! already saw), then let the test send `hello`, events and close codes, and read what the client
//! sends. The real relay's tests of this crate live in `crates/relay/tests/it/`; this one exists
//! to break connections at precise moments.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ringside_client::{Client, Session};
use ringside_core::wire::{
    CallState, ClientMessage, Direction, Hello, MatchState, MfaRequirement, Notice, Pop,
    ServerMessage, SessionTokens,
};
use ringside_core::{CallId, OrgId, PROTOCOL_VERSION, Pii, PopId, Role, SessionId, UserId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// The access token the stand-in accepts.
pub(crate) const ACCESS: &str = "rsa_stand_in_access";

/// How long a test waits for something that should happen.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// How the ticket route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TicketAnswer {
    /// 200 with a fresh ticket.
    Issue,
    /// 503 problem+json (the relay is in trouble: worth retrying).
    Unavailable,
    /// 401 problem+json `session_revoked` (the session is over).
    Revoked,
}

#[derive(Debug)]
struct State {
    answer: TicketAnswer,
    valid: HashSet<String>,
    issued: u32,
    refuse_next_upgrade: bool,
    upgrades_refused: u32,
    origins_seen: u32,
    next_ticket: u32,
    /// The highest seq sent to the user so far (what `hello.last_seq` says).
    last_seq: u64,
}

/// The stand-in relay.
#[derive(Debug)]
pub(crate) struct StandIn {
    pub(crate) addr: SocketAddr,
    state: Arc<Mutex<State>>,
    connections: mpsc::UnboundedReceiver<Conn>,
}

impl StandIn {
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            answer: TicketAnswer::Issue,
            valid: HashSet::new(),
            issued: 0,
            refuse_next_upgrade: false,
            upgrades_refused: 0,
            origins_seen: 0,
            next_ticket: 0,
            last_seq: 0,
        }));
        let (tx, connections) = mpsc::unbounded_channel();
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(tcp, Arc::clone(&shared), tx.clone()));
            }
        });
        Self {
            addr,
            state,
            connections,
        }
    }

    /// A session on this stand-in whose access token is good for an hour (no refresh).
    pub(crate) fn session(&self) -> Session {
        let now = time::OffsetDateTime::now_utc();
        let hour = Duration::from_secs(3600);
        Client::new(&format!("http://{}", self.addr))
            .unwrap()
            .resume(SessionTokens {
                session_id: SessionId::random(),
                user_id: UserId::random(),
                org_id: OrgId::random(),
                role: Role::Agent,
                access_token: Pii::new(ACCESS.to_owned()),
                access_expires_at: now + hour,
                refresh_token: Pii::new("rsr_unused".to_owned()),
                refresh_expires_at: now + hour,
                session_expires_at: now + hour,
                device_token: None,
                mfa_enrolled: false,
                mfa_required_for: MfaRequirement::Nothing,
            })
    }

    /// The next accepted WebSocket connection.
    pub(crate) async fn accept(&mut self) -> Conn {
        tokio::time::timeout(PATIENCE, self.connections.recv())
            .await
            .expect("the client connects")
            .unwrap()
    }

    /// Whether a connection arrives within `wait`.
    pub(crate) async fn connects_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.connections.recv())
            .await
            .is_ok()
    }

    pub(crate) fn answer_tickets(&self, answer: TicketAnswer) {
        self.state.lock().unwrap().answer = answer;
    }

    pub(crate) fn refuse_next_upgrade(&self) {
        self.state.lock().unwrap().refuse_next_upgrade = true;
    }

    /// Tickets issued so far.
    pub(crate) fn tickets_issued(&self) -> u32 {
        self.state.lock().unwrap().issued
    }

    pub(crate) fn upgrades_refused(&self) -> u32 {
        self.state.lock().unwrap().upgrades_refused
    }

    pub(crate) fn origins_seen(&self) -> u32 {
        self.state.lock().unwrap().origins_seen
    }
}

/// One TCP connection: the ticket route, or the stream's upgrade.
#[allow(clippy::result_large_err)] // the upgrade callback's type is tungstenite's
async fn serve(mut tcp: TcpStream, state: Arc<Mutex<State>>, conns: mpsc::UnboundedSender<Conn>) {
    let mut head = vec![0u8; 8192];
    let header_len = loop {
        let n = tcp.peek(&mut head).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        if let Some(end) = head[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let text = String::from_utf8_lossy(&head[..header_len]).to_string();
    if text.starts_with("POST /v1/stream/ticket ") {
        ticket(&mut tcp, &text, header_len, &state).await;
        return;
    }
    let check = Arc::clone(&state);
    let callback = move |request: &Request, response| upgrade(&check, request, response);
    if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
        let _ = conns.send(Conn { ws, state });
    }
}

/// The upgrade's checks: a ticket it issued and has not seen before, at `/v1/stream`.
// The error type is tungstenite's callback contract, not ours to shrink.
#[allow(clippy::result_large_err)]
fn upgrade(
    state: &Mutex<State>,
    request: &Request,
    response: Response,
) -> Result<Response, ErrorResponse> {
    let mut state = state.lock().unwrap();
    if request.headers().contains_key("origin") {
        state.origins_seen += 1;
    }
    let ticket = request
        .uri()
        .query()
        .and_then(|q| q.strip_prefix("ticket="))
        .unwrap_or_default()
        .to_owned();
    let good = request.uri().path() == "/v1/stream" && state.valid.remove(&ticket);
    if good && !std::mem::take(&mut state.refuse_next_upgrade) {
        Ok(response)
    } else {
        state.upgrades_refused += 1;
        let mut refusal = ErrorResponse::new(Some("invalid ticket".to_owned()));
        *refusal.status_mut() = StatusCode::UNAUTHORIZED;
        Err(refusal)
    }
}

/// `POST /v1/stream/ticket` as the relay answers it.
async fn ticket(tcp: &mut TcpStream, head: &str, header_len: usize, state: &Mutex<State>) {
    let body_len: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut request = vec![0u8; header_len + body_len];
    tcp.read_exact(&mut request).await.unwrap();
    let authorized = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {ACCESS}")));
    let (status, body) = {
        let mut state = state.lock().unwrap();
        match (authorized, state.answer) {
            (false, _) | (true, TicketAnswer::Revoked) => (
                "401 Unauthorized",
                r#"{"status":401,"code":"session_revoked","title":"Session revoked"}"#.to_owned(),
            ),
            (true, TicketAnswer::Unavailable) => (
                "503 Service Unavailable",
                r#"{"status":503,"code":"unavailable","title":"Try again"}"#.to_owned(),
            ),
            (true, TicketAnswer::Issue) => {
                state.next_ticket += 1;
                state.issued += 1;
                let ticket = format!("rst_ticket_{}", state.next_ticket);
                state.valid.insert(ticket.clone());
                (
                    "200 OK",
                    format!(r#"{{"ticket":"{ticket}","expires_in":30}}"#),
                )
            }
        }
    };
    let kind = if status.starts_with("200") {
        "application/json"
    } else {
        "application/problem+json"
    };
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.write_all(answer.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

/// One accepted stream connection, scripted by the test.
#[derive(Debug)]
pub(crate) struct Conn {
    ws: WebSocketStream<TcpStream>,
    state: Arc<Mutex<State>>,
}

impl Conn {
    pub(crate) async fn send(&mut self, message: &ServerMessage) {
        if let Some(seq) = message.seq() {
            let mut state = self.state.lock().unwrap();
            state.last_seq = state.last_seq.max(seq);
        }
        let text = serde_json::to_string(message).unwrap();
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// `hello` (with the highest seq sent so far), then the client's `resume`: answers its
    /// `after_seq`.
    pub(crate) async fn hello(&mut self, heartbeat_secs: u32) -> u64 {
        let last_seq = self.state.lock().unwrap().last_seq;
        self.hello_with(heartbeat_secs, last_seq).await
    }

    /// `hello` saying `last_seq`, then the client's `resume`: answers its `after_seq`.
    pub(crate) async fn hello_with(&mut self, heartbeat_secs: u32, last_seq: u64) -> u64 {
        self.send(&ServerMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            user_id: UserId::random(),
            heartbeat_secs,
            last_seq,
        }))
        .await;
        match self.receive().await {
            ClientMessage::Resume { after_seq } => after_seq,
            other => panic!("resume follows hello, got {other:?}"),
        }
    }

    /// A `pop` with this seq.
    pub(crate) async fn pop(&mut self, seq: u64) {
        let now = time::OffsetDateTime::now_utc();
        self.send(&ServerMessage::Pop(Pop {
            seq,
            pop_id: PopId::random(),
            call_id: CallId::random(),
            direction: Direction::Inbound,
            number: Some(Pii::new("+15550100199".to_owned())),
            caller_name: None,
            state: CallState::Ringing,
            match_state: MatchState::Unavailable,
            sms_opted_out: false,
            created_at: now,
            expires_at: now + Duration::from_secs(300),
        }))
        .await;
    }

    /// A `notice` with this seq.
    pub(crate) async fn notice(&mut self, seq: u64) {
        self.send(&ServerMessage::Notice(Notice {
            seq,
            code: "test".to_owned(),
            message: format!("notice {seq}"),
        }))
        .await;
    }

    /// The client's next message (pings are answered by tungstenite and skipped).
    pub(crate) async fn receive(&mut self) -> ClientMessage {
        tokio::time::timeout(PATIENCE, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        return serde_json::from_str(&text).expect("a ClientMessage");
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    other => panic!("expected a client message, got {other:?}"),
                }
            }
        })
        .await
        .expect("the client sends a message")
    }

    /// Reads acks until one acks `seq`; answers all acks seen.
    pub(crate) async fn acks_through(&mut self, seq: u64) -> Vec<u64> {
        let mut seen = Vec::new();
        loop {
            match self.receive().await {
                ClientMessage::Ack { seq: acked } => {
                    seen.push(acked);
                    if acked >= seq {
                        return seen;
                    }
                }
                other => panic!("expected an ack, got {other:?}"),
            }
        }
    }

    /// Closes with `code`.
    pub(crate) async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.to_owned().into(),
        };
        let _ = self.ws.close(Some(frame)).await;
        // Drain until the client's answering close, so the close frame is not lost to a reset.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }

    /// Kills the TCP connection without a close frame.
    pub(crate) fn kill(self) {
        drop(self);
    }

    /// Reads frames for `span` while sending a ping every `every`; answers how many pings the
    /// client sent. Text messages from the client are returned too.
    pub(crate) async fn keep_alive(
        &mut self,
        span: Duration,
        every: Duration,
    ) -> (u32, Vec<ClientMessage>) {
        let mut pings = 0;
        let mut texts = Vec::new();
        let end = tokio::time::Instant::now() + span;
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(end) => return (pings, texts),
                _ = tick.tick() => self.ws.send(Message::Ping(Default::default())).await.unwrap(),
                frame = self.ws.next() => match frame {
                    Some(Ok(Message::Ping(_))) => pings += 1,
                    Some(Ok(Message::Text(text))) => texts.push(serde_json::from_str(&text).unwrap()),
                    Some(Ok(_)) => {}
                    other => panic!("the client stayed connected, got {other:?}"),
                },
            }
        }
    }

    /// Holds the connection without reading or writing anything until dropped.
    pub(crate) fn into_silence(self) -> WebSocketStream<TcpStream> {
        self.ws
    }
}
