//! The WebSocket stream (`GET /v1/stream`, docs/stream.md): screen pops, exactly once, however often
//! the connection drops.
//!
//! [`crate::Session::stream`] starts a background task and answers a [`StreamHandle`]. The task:
//! 1. gets a single-use ticket from `POST /v1/stream/ticket` through the session (so an expired
//!    access token is refreshed first);
//! 2. opens `GET /v1/stream?ticket=…` and waits for `hello`;
//! 3. sends `resume {after_seq}` with the highest `seq` it has delivered, then hands each event
//!    to the consumer through a bounded channel — dropping any `seq` at or below that mark, so
//!    replays and reconnects never show a pop twice — and acks it;
//! 4. pings every `heartbeat_secs` (from `hello`) and gives a connection silent for twice that up
//!    as dead;
//! 5. reconnects with exponential back-off and full jitter ([`BackoffPolicy`]) on any loss —
//!    a dropped socket, close codes 4408 (slow consumer), 1001 (going away), a heartbeat timeout —
//!    and stops for good on 4403 / `session_revoked`, or when the session can no longer get a
//!    ticket (signed out, expired, refresh refused), reporting why ([`CloseReason`]).
//!
//! Connection changes reach the consumer in the same channel as the events
//! ([`StreamEvent::State`]), so their order is the order things happened in. The consumer's
//! pace is the stream's: while the channel is full nothing more is read, and a relay whose queue
//! for this connection fills up closes it with 4408 — after which the stream resumes where the
//! consumer is.

mod backoff;
mod connect;
mod dedupe;
mod task;

use std::fmt;
use std::time::Duration;

use ringside_core::wire::{ClientMessage, Hello, ServerMessage};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use backoff::{BackoffPolicy, Jitter};

use crate::{ClientError, Session};

/// How a stream behaves. `StreamOptions::default()` suits an agent's app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// The highest `seq` already handled (kept from an earlier run of the app, per user and
    /// relay): nothing at or below it is delivered. 0 for a first start. A value above the
    /// relay's `hello.last_seq` cannot be this user's and is lowered to it.
    pub after_seq: u64,
    /// How many events may wait for the consumer (at least 1). Default 256.
    pub capacity: usize,
    /// Reconnection delays.
    pub backoff: BackoffPolicy,
    /// How long connecting may take, from the ticket request to `hello`. Default 15 s.
    pub connect_timeout: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            after_seq: 0,
            capacity: 256,
            backoff: BackoffPolicy::default(),
            connect_timeout: Duration::from_secs(15),
        }
    }
}

/// What the stream hands its consumer.
#[derive(Debug)]
pub enum StreamEvent {
    /// An event of the user's (it has a `seq`, delivered once). `hello` and `session_revoked`
    /// arrive as [`StreamEvent::State`] instead.
    Message(ServerMessage),
    /// The connection changed.
    State(ConnectionState),
}

/// Where the connection stands.
#[derive(Debug)]
pub enum ConnectionState {
    /// Connected: the relay said `hello`, and `resume` was sent.
    Connected(Hello),
    /// The connection was lost or could not be made; the next attempt follows after `delay`.
    Reconnecting {
        /// Retries since the last healthy connection (1 for the first).
        attempt: u32,
        /// How long until the next attempt.
        delay: Duration,
        /// What happened.
        cause: Disconnect,
    },
    /// The stream has stopped for good; nothing follows (the channel then ends).
    Closed(CloseReason),
}

/// Why a connection ended or could not be made (the stream retries after each).
#[derive(Debug)]
pub enum Disconnect {
    /// The ticket request failed for a reason that may pass (the relay unreachable, a 5xx, a rate
    /// limit).
    Ticket(ClientError),
    /// The socket, TLS or the upgrade failed (unreachable, reset, timed out).
    Connect(String),
    /// The relay answered the upgrade with an HTTP error (401: the ticket was refused).
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// The relay closed the connection with this code (see `ringside_core::wire::close`):
    /// 4408 slow consumer, 1001 going away, …
    Closed {
        /// The WebSocket close code.
        code: u16,
        /// The reason the relay gave (may be empty).
        reason: String,
    },
    /// The connection broke without a close frame.
    Dropped(String),
    /// Nothing was heard from the relay for two heartbeats (or no `hello` in time).
    Timeout,
    /// The relay sent something that breaks the protocol.
    Protocol(&'static str),
}

impl fmt::Display for Disconnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ticket(e) => write!(f, "stream ticket: {e}"),
            Self::Connect(what) => write!(f, "connect: {what}"),
            Self::Refused { status } => write!(f, "the relay refused the upgrade with {status}"),
            Self::Closed { code, reason } if reason.is_empty() => {
                write!(f, "closed by the relay ({code})")
            }
            Self::Closed { code, reason } => write!(f, "closed by the relay ({code}: {reason})"),
            Self::Dropped(what) => write!(f, "connection lost: {what}"),
            Self::Timeout => f.write_str("the relay went silent (heartbeat timeout)"),
            Self::Protocol(what) => write!(f, "protocol error: {what}"),
        }
    }
}

/// Why the stream stopped for good.
#[derive(Debug)]
pub enum CloseReason {
    /// The session was revoked (close code 4403 or `session_revoked`): sign in again.
    SessionRevoked {
        /// The relay's reason (`signed_out`, `revoked`, `disabled`, …; `revoked` when it gave
        /// none).
        reason: String,
    },
    /// The session can no longer get a ticket: expired, signed out, or its refresh refused.
    SessionEnded(ClientError),
    /// The relay speaks another protocol version ([`ringside_core::PROTOCOL_VERSION`]).
    IncompatibleRelay {
        /// The relay's version.
        protocol_version: u32,
    },
    /// [`StreamHandle::close`] was called (or the handle dropped).
    Stopped,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SessionRevoked { reason } => write!(f, "the session was revoked ({reason})"),
            Self::SessionEnded(e) => write!(f, "the session has ended: {e}"),
            Self::IncompatibleRelay { protocol_version } => write!(
                f,
                "the relay speaks protocol {protocol_version}, this client {}",
                ringside_core::PROTOCOL_VERSION
            ),
            Self::Stopped => f.write_str("stopped"),
        }
    }
}

/// Why [`StreamHandle::send`] refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The stream has stopped; nothing more is sent.
    #[error("the stream has stopped")]
    Closed,
    /// `ack` and `resume` are the stream's own business: it sends them itself.
    #[error("ack and resume are sent by the stream itself")]
    Reserved,
}

/// A running stream: events come out of [`StreamHandle::next`], messages go in through
/// [`StreamHandle::send`]. Dropping it stops the stream (closing the socket politely).
pub struct StreamHandle {
    events: mpsc::Receiver<StreamEvent>,
    outbox: mpsc::Sender<ClientMessage>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl StreamHandle {
    /// The next event or connection change; `None` once the stream has stopped (after
    /// [`ConnectionState::Closed`]).
    pub async fn next(&mut self) -> Option<StreamEvent> {
        self.events.recv().await
    }

    /// Sends `dismiss`, `note` or `pick`. While disconnected the message waits and goes out once
    /// the stream is connected again; a message whose write failed is sent again on the next
    /// connection (so a note may, rarely, arrive twice; `dismiss` and `pick` do not mind).
    pub async fn send(&self, message: ClientMessage) -> Result<(), SendError> {
        if matches!(
            message,
            ClientMessage::Ack { .. } | ClientMessage::Resume { .. }
        ) {
            return Err(SendError::Reserved);
        }
        self.outbox
            .send(message)
            .await
            .map_err(|_| SendError::Closed)
    }

    /// Stops the stream: the socket is closed with 1000 and the background task awaited. Events
    /// not yet read are dropped.
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.events.close();
        while self.events.recv().await.is_some() {}
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl fmt::Debug for StreamHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamHandle")
            .field("waiting_events", &self.events.len())
            .field("stopped", &self.outbox.is_closed())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Opens the stream in a background task (see the module's docs) and answers its handle.
    /// The task shares this session's tokens, refreshing them as every call does.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn stream(&self, options: StreamOptions) -> StreamHandle {
        let (events_tx, events) = mpsc::channel(options.capacity.max(1));
        let (outbox, outbox_rx) = mpsc::channel(64);
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(task::run(
            self.share(),
            options,
            events_tx,
            outbox_rx,
            stop_rx,
        ));
        StreamHandle {
            events,
            outbox,
            stop: Some(stop),
            task: Some(task),
        }
    }
}
