//! The stream's background task: connect, resume, deliver once, ack, heartbeat, reconnect.
//!
//! One connection at a time, driven by one `select!` loop so the order of events is simple to
//! reason about. Branches are `biased`: a stop request wins, then reading (what is already in
//! the socket is handled before a heartbeat deadline is judged), then the heartbeat, then the
//! consumer's outgoing messages.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ringside_core::PROTOCOL_VERSION;
use ringside_core::wire::{ClientMessage, Hello, ServerMessage, close};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep, sleep_until, timeout_at};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::backoff::{Backoff, unit_random};
use super::connect::{Socket, describe, open, stream_url};
use super::dedupe::Dedupe;
use super::{CloseReason, ConnectionState, Disconnect, StreamEvent, StreamOptions};
use crate::{ClientError, Session};

/// How one connection (or attempt) ended.
enum End {
    /// Try again after the back-off (and at least `not_before`, when the relay asked).
    Retry(Disconnect, Option<Duration>),
    /// Stop for good and say why.
    Fatal(CloseReason),
    /// The consumer stopped the stream.
    Stop,
}

impl From<Disconnect> for End {
    fn from(cause: Disconnect) -> Self {
        Self::Retry(cause, None)
    }
}

/// What the task owns across connections.
struct Runner {
    session: Session,
    options: StreamOptions,
    events: mpsc::Sender<StreamEvent>,
    outbox: Option<mpsc::Receiver<ClientMessage>>,
    dedupe: Dedupe,
    backoff: Backoff,
    /// A consumer message whose write failed: sent first on the next connection.
    pending: Option<ClientMessage>,
}

/// Runs the stream until it stops for good, then reports why and ends the channel.
pub(super) async fn run(
    session: Session,
    options: StreamOptions,
    events: mpsc::Sender<StreamEvent>,
    outbox: mpsc::Receiver<ClientMessage>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut runner = Runner {
        session,
        dedupe: Dedupe::new(options.after_seq),
        backoff: Backoff::new(options.backoff.clone()),
        options,
        events,
        outbox: Some(outbox),
        pending: None,
    };
    let reason = runner.run(&mut stop).await;
    let _ = runner
        .events
        .send(StreamEvent::State(ConnectionState::Closed(reason)))
        .await;
}

impl Runner {
    async fn run(&mut self, stop: &mut oneshot::Receiver<()>) -> CloseReason {
        loop {
            let (cause, not_before) = match self.connection(stop).await {
                End::Retry(cause, not_before) => (cause, not_before),
                End::Fatal(reason) => return reason,
                End::Stop => return CloseReason::Stopped,
            };
            self.backoff.disconnected(Instant::now().into_std());
            let delay = self
                .backoff
                .next_delay(unit_random())
                .max(not_before.unwrap_or_default());
            let state = ConnectionState::Reconnecting {
                attempt: self.backoff.attempt(),
                delay,
                cause,
            };
            if !self.report(StreamEvent::State(state)).await {
                return CloseReason::Stopped;
            }
            tokio::select! {
                biased;
                _ = &mut *stop => return CloseReason::Stopped,
                () = sleep(delay) => {}
            }
        }
    }

    /// Hands an event to the consumer; `false` when it is gone.
    async fn report(&self, event: StreamEvent) -> bool {
        self.events.send(event).await.is_ok()
    }

    /// One connection: ticket, upgrade, `hello`, `resume`, then events until it ends.
    async fn connection(&mut self, stop: &mut oneshot::Receiver<()>) -> End {
        let deadline = Instant::now() + self.options.connect_timeout;
        let ticket = tokio::select! {
            biased;
            _ = &mut *stop => return End::Stop,
            answer = timeout_at(deadline, self.session.stream_ticket()) => answer,
        };
        let ticket = match ticket {
            Err(_) => return Disconnect::Connect("the ticket request timed out".to_owned()).into(),
            Ok(Err(error)) => return ticket_failure(error),
            Ok(Ok(ticket)) => ticket,
        };
        let Some(url) = stream_url(self.session.client().base_url(), ticket.ticket.expose()) else {
            return Disconnect::Connect("no stream URL for this relay address".to_owned()).into();
        };
        let opened = tokio::select! {
            biased;
            _ = &mut *stop => return End::Stop,
            opened = timeout_at(deadline, open(&url)) => opened,
        };
        let mut socket = match opened {
            Err(_) => return Disconnect::Connect("connecting timed out".to_owned()).into(),
            Ok(Err(cause)) => return cause.into(),
            Ok(Ok(socket)) => socket,
        };
        let hello = tokio::select! {
            biased;
            _ = &mut *stop => {
                close_politely(&mut socket).await;
                return End::Stop;
            }
            hello = timeout_at(deadline, read_hello(&mut socket)) => hello,
        };
        let hello = match hello {
            Err(_) => return Disconnect::Timeout.into(),
            Ok(Err(end)) => return end,
            Ok(Ok(hello)) => hello,
        };
        if hello.protocol_version != PROTOCOL_VERSION {
            close_politely(&mut socket).await;
            return End::Fatal(CloseReason::IncompatibleRelay {
                protocol_version: hello.protocol_version,
            });
        }
        if hello.last_seq < self.dedupe.last_handled() {
            // The relay has never given this user the seq we think we handled: the mark came from
            // elsewhere (another relay, another user's saved state). Kept, it would drop every
            // new event; the relay's own count is the truth.
            self.dedupe = Dedupe::new(hello.last_seq);
        }
        self.backoff.connected(Instant::now().into_std());
        let heartbeat = Duration::from_secs(u64::from(hello.heartbeat_secs.max(1)));
        let resume = ClientMessage::Resume {
            after_seq: self.dedupe.last_handled(),
        };
        if let Err(cause) = write(&mut socket, &resume, heartbeat).await {
            return cause.into();
        }
        if !self
            .report(StreamEvent::State(ConnectionState::Connected(hello)))
            .await
        {
            close_politely(&mut socket).await;
            return End::Stop;
        }
        if let Some(message) = self.pending.take()
            && let Err(cause) = write(&mut socket, &message, heartbeat).await
        {
            self.pending = Some(message);
            return cause.into();
        }
        let end = self.serve(&mut socket, heartbeat, stop).await;
        if matches!(end, End::Stop | End::Fatal(_)) {
            close_politely(&mut socket).await;
        }
        end
    }

    /// Reads events, pings, and writes the consumer's messages until the connection ends.
    async fn serve(
        &mut self,
        socket: &mut Socket,
        heartbeat: Duration,
        stop: &mut oneshot::Receiver<()>,
    ) -> End {
        let mut ping = interval_at(Instant::now() + heartbeat, heartbeat);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        loop {
            let outbox_open = self.outbox.is_some();
            tokio::select! {
                biased;
                _ = &mut *stop => return End::Stop,
                frame = socket.next() => {
                    last_heard = Instant::now();
                    let message = match frame {
                        None => {
                            return Disconnect::Dropped("closed without a close frame".to_owned())
                                .into();
                        }
                        Some(Err(error)) => return Disconnect::Dropped(describe(&error)).into(),
                        Some(Ok(message)) => message,
                    };
                    match message {
                        Message::Text(text) => {
                            if let Some(end) = self.on_text(&text, socket, heartbeat).await {
                                return end;
                            }
                        }
                        Message::Close(frame) => return closed(frame),
                        // Pings are answered by tungstenite; pongs and binary only prove life.
                        _ => {}
                    }
                }
                () = sleep_until(last_heard + heartbeat * 2) => return Disconnect::Timeout.into(),
                _ = ping.tick() => {
                    if let Err(cause) = send_frame(socket, Message::Ping(Default::default()), heartbeat).await {
                        return cause.into();
                    }
                }
                message = recv(&mut self.outbox), if outbox_open => {
                    let Some(message) = message else {
                        self.outbox = None;
                        continue;
                    };
                    if let Err(cause) = write(socket, &message, heartbeat).await {
                        self.pending = Some(message);
                        return cause.into();
                    }
                }
            }
        }
    }

    /// One text message from the relay: an event is delivered if new, then acked.
    async fn on_text(
        &mut self,
        text: &str,
        socket: &mut Socket,
        heartbeat: Duration,
    ) -> Option<End> {
        // A type this client does not know is skipped (forward compatibility), never fatal.
        let message: ServerMessage = serde_json::from_str(text).ok()?;
        if let ServerMessage::SessionRevoked(revoked) = &message {
            return Some(End::Fatal(CloseReason::SessionRevoked {
                reason: revoked.reason.clone(),
            }));
        }
        if let ServerMessage::Error(_) = &message {
            // A refusal of one of this client's messages: shown, never acked (it has no seq).
            return (!self.report(StreamEvent::Message(message)).await).then_some(End::Stop);
        }
        let seq = message.seq()?;
        if self.dedupe.admit(seq) && !self.report(StreamEvent::Message(message)).await {
            return Some(End::Stop);
        }
        // A duplicate is acked too: the relay evidently missed the earlier ack.
        let ack = ClientMessage::Ack {
            seq: self.dedupe.last_handled(),
        };
        write(socket, &ack, heartbeat).await.err().map(End::from)
    }
}

/// The next message of the consumer's outbox (pending forever once it is gone).
async fn recv(outbox: &mut Option<mpsc::Receiver<ClientMessage>>) -> Option<ClientMessage> {
    match outbox {
        Some(outbox) => outbox.recv().await,
        None => std::future::pending().await,
    }
}

/// Reads until `hello`, the relay's first message.
async fn read_hello(socket: &mut Socket) -> Result<Hello, End> {
    loop {
        let message = match socket.next().await {
            None => {
                return Err(Disconnect::Dropped("closed before hello".to_owned()).into());
            }
            Some(Err(error)) => return Err(Disconnect::Dropped(describe(&error)).into()),
            Some(Ok(message)) => message,
        };
        match message {
            Message::Text(text) => match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Hello(hello)) => return Ok(hello),
                Ok(ServerMessage::SessionRevoked(revoked)) => {
                    return Err(End::Fatal(CloseReason::SessionRevoked {
                        reason: revoked.reason,
                    }));
                }
                _ => return Err(Disconnect::Protocol("the first message was not hello").into()),
            },
            Message::Close(frame) => return Err(closed(frame)),
            _ => {}
        }
    }
}

/// What a close frame from the relay means: 4403 ends the stream, anything else is retried.
fn closed(frame: Option<CloseFrame>) -> End {
    let (code, reason) = frame.map_or((1005, String::new()), |frame| {
        (u16::from(frame.code), frame.reason.as_str().to_owned())
    });
    if code == close::SESSION_REVOKED {
        let reason = if reason.is_empty() {
            "revoked".to_owned()
        } else {
            reason
        };
        End::Fatal(CloseReason::SessionRevoked { reason })
    } else {
        Disconnect::Closed { code, reason }.into()
    }
}

/// Whether a failed ticket request is worth retrying: the relay unreachable or overloaded, yes;
/// the session refused (expired, revoked, its refresh refused), no.
fn ticket_failure(error: ClientError) -> End {
    match &error {
        ClientError::RateLimited { retry_after, .. } => {
            let not_before = *retry_after;
            End::Retry(Disconnect::Ticket(error), not_before)
        }
        ClientError::Transport(_) | ClientError::Protocol { .. } => {
            Disconnect::Ticket(error).into()
        }
        ClientError::Api { status, .. } if *status >= 500 || *status == 408 => {
            Disconnect::Ticket(error).into()
        }
        ClientError::Api { .. } | ClientError::InvalidUrl(_) | ClientError::Interrupted => {
            End::Fatal(CloseReason::SessionEnded(error))
        }
    }
}

/// Writes a client message as JSON, giving up after `limit` (a relay that stopped reading).
async fn write(
    socket: &mut Socket,
    message: &ClientMessage,
    limit: Duration,
) -> Result<(), Disconnect> {
    let text = serde_json::to_string(message)
        .map_err(|_| Disconnect::Protocol("a client message did not serialize"))?;
    send_frame(socket, Message::text(text), limit).await
}

/// Writes one frame, giving up after `limit`.
async fn send_frame(
    socket: &mut Socket,
    frame: Message,
    limit: Duration,
) -> Result<(), Disconnect> {
    match tokio::time::timeout(limit, socket.send(frame)).await {
        Err(_) => Err(Disconnect::Timeout),
        Ok(Err(error)) => Err(Disconnect::Dropped(describe(&error))),
        Ok(Ok(())) => Ok(()),
    }
}

/// Closes with 1000, without waiting long for a relay that may be gone.
async fn close_politely(socket: &mut Socket) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(Some(frame))).await;
}
