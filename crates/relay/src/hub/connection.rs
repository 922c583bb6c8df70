//! One stream connection: `hello`, then `resume`, then live events, acks and heartbeats until
//! the client leaves, the session is revoked, the client falls behind, or the relay stops.
//!
//! Why live events wait for `resume`: a client dedupes by `seq`, dropping anything at or below
//! the highest it handled. If a live event (seq 12) overtook the replay of an older one (seq 11),
//! the older one would be dropped. So the connection replays first — from the sealed store — and
//! only then delivers live events above what it replayed. A client that never sends `resume`
//! gets live events after [`RESUME_GRACE`]; a `resume` after that, or a second one, is refused
//! (4400) rather than served out of order — and one replay per connection bounds what a client
//! can make the store read.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream as FrameStream, StreamExt};
use ringside_core::wire::{
    ClientMessage, Hello, ServerMessage, SessionRevoked, StreamError, close,
};
use ringside_core::{OrgId, PROTOCOL_VERSION, SessionId, UserId};
use tokio::time::{Instant, MissedTickBehavior, interval_at, timeout};

use super::{Control, History, Hub, Outgoing};
use crate::calls::notes::Addition;

/// How long live events wait for the client's `resume`.
const RESUME_GRACE: Duration = Duration::from_secs(2);

/// A socket write that takes longer than this means a dead or stuck peer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who is on the other end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Connection {
    pub(crate) org: OrgId,
    pub(crate) user: UserId,
    pub(crate) session: SessionId,
    /// What is left of the session's absolute lifetime: the socket closes (4403) when it ends.
    pub(crate) lifetime: Duration,
}

/// Why the loop ended, and what to tell the client.
enum End {
    Close(u16, &'static str),
    Gone,
}

/// Close code for "the relay could not serve this connection right now; reconnect" (RFC 6455).
const TRY_AGAIN: u16 = 1011;

/// What a connection needs: the hub it registers with and the stored history it replays from.
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    pub(crate) hub: Arc<Hub>,
    pub(crate) history: History,
}

/// What a connection runs over: frames in, frames out. An axum `WebSocket` in production; the
/// unit tests below drive the same loop through a pair of channels, without a socket.
pub(crate) trait Socket:
    FrameStream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin + Send
{
}

impl<T> Socket for T where
    T: FrameStream<Item = Result<Message, axum::Error>>
        + Sink<Message, Error = axum::Error>
        + Unpin
        + Send
{
}

/// The socket is gone (closed, or a write failed or timed out): nothing more can be sent.
#[derive(Debug)]
struct SocketGone;

/// What one client message did.
enum Handled {
    /// Acknowledged, dismissed or kept: the loop goes on as it was.
    Done,
    /// The replay after `resume` was sent: live delivery may start.
    Resumed,
}

/// Serves one upgraded socket until it ends.
pub(crate) async fn serve(mut socket: impl Socket, stream: Stream, who: Connection) {
    let Stream { hub, history } = stream;
    let Ok(last_seq) = history.last_seq(who.user).await else {
        // A wrong `last_seq` in hello would make the client drop what it already has.
        let _ = send_close(&mut socket, TRY_AGAIN, "try again").await;
        return;
    };
    let Some((id, rx, control)) = hub.register(who.user, who.session, last_seq) else {
        let _ = send_close(&mut socket, close::GOING_AWAY, "relay shutting down").await;
        return;
    };
    let _registered = Registered {
        hub: Arc::clone(&hub),
        user: who.user,
        id,
    };
    // A revocation published between the upgrade's session check and the registration found
    // no socket to close: look again now that this one is registered.
    if !history.session_live(who.org, who.session).await {
        control.close(close::SESSION_REVOKED);
    }
    tracing::debug!(user = %who.user, "stream connected");
    let end = run(socket, &hub, &history, who, last_seq, rx, &control).await;
    tracing::debug!(user = %who.user, end = end, "stream closed");
}

/// Removes the connection from the hub however its task ends (a panic included).
struct Registered {
    hub: Arc<Hub>,
    user: ringside_core::UserId,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.hub.unregister(self.user, self.id);
    }
}

async fn run(
    mut socket: impl Socket,
    hub: &Hub,
    history: &History,
    who: Connection,
    last_seq: u64,
    mut rx: tokio::sync::mpsc::Receiver<Outgoing>,
    control: &Control,
) -> u16 {
    let heartbeat = hub.settings().heartbeat;
    let hello = ServerMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        user_id: who.user,
        heartbeat_secs: u32::try_from(heartbeat.as_secs()).unwrap_or(u32::MAX),
        last_seq,
    });
    if send_json(&mut socket, &hello).await.is_err() {
        return 0;
    }

    let mut ticker = interval_at(Instant::now() + heartbeat, heartbeat);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let resume_deadline = tokio::time::sleep(RESUME_GRACE);
    tokio::pin!(resume_deadline);
    let session_end = tokio::time::sleep(who.lifetime);
    tokio::pin!(session_end);
    let mut resumed = false;
    // The highest seq this connection has sent; live events at or below it are not sent again.
    let mut sent_through = 0u64;

    let end = loop {
        tokio::select! {
            (code, reason) = control.closed() => break End::Close(code, reason.unwrap_or_else(|| reason_of(code))),
            () = &mut session_end => break End::Close(close::SESSION_REVOKED, "expired"),
            () = &mut resume_deadline, if !resumed => resumed = true,
            outgoing = rx.recv(), if resumed => {
                let Some(outgoing) = outgoing else { break End::Gone };
                if outgoing.seq <= sent_through {
                    continue;
                }
                sent_through = outgoing.seq;
                if send_text(&mut socket, &outgoing.json).await.is_err() {
                    break End::Gone;
                }
            }
            frame = socket.next() => {
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    // Over 64 KiB, or not WebSocket: say so if the socket still takes it.
                    Some(Err(_)) => break End::Close(close::BAD_MESSAGE, "unreadable or oversized message"),
                    None => break End::Gone,
                };
                last_heard = Instant::now();
                match frame {
                    Message::Text(text) => match serde_json::from_str::<ClientMessage>(&text) {
                        Ok(ClientMessage::Resume { .. }) if resumed => {
                            // One replay per connection, right after hello: a second one (or one
                            // after live delivery began) could only repeat or skip events.
                            break End::Close(close::BAD_MESSAGE, "resume comes once, right after hello");
                        }
                        Ok(message) => {
                            match handle(&mut socket, hub, history, who, message, &mut sent_through).await {
                                Ok(Handled::Resumed) => resumed = true,
                                Ok(Handled::Done) => {}
                                Err(SocketGone) => break End::Gone,
                            }
                        }
                        Err(_) => break End::Close(close::BAD_MESSAGE, "not a client message"),
                    },
                    Message::Binary(_) => break End::Close(close::BAD_MESSAGE, "binary frames are not used"),
                    Message::Close(_) => break End::Gone,
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
            _ = ticker.tick() => {
                if last_heard.elapsed() > heartbeat * 2 {
                    break End::Close(close::HEARTBEAT_TIMEOUT, "no heartbeat");
                }
                if timeout(WRITE_TIMEOUT, socket.send(Message::Ping(Default::default()))).await.map_or(true, |r| r.is_err()) {
                    break End::Gone;
                }
                // A session ended by another process (`ringside-relay org terminate`) has no
                // revocation on this relay's channel: each heartbeat looks it up.
                if !history.session_live(who.org, who.session).await {
                    break End::Close(close::SESSION_REVOKED, "revoked");
                }
            }
        }
    };
    match end {
        End::Close(code, reason) => {
            if code == close::SESSION_REVOKED {
                let revoked = ServerMessage::SessionRevoked(SessionRevoked {
                    reason: reason.to_owned(),
                });
                let _ = send_json(&mut socket, &revoked).await;
            }
            let _ = send_close(&mut socket, code, reason).await;
            code
        }
        End::Gone => 0,
    }
}

/// Handles one client message.
async fn handle(
    socket: &mut impl Socket,
    hub: &Hub,
    history: &History,
    who: Connection,
    message: ClientMessage,
    sent_through: &mut u64,
) -> Result<Handled, SocketGone> {
    match message {
        ClientMessage::Ack { seq } => {
            hub.ack(who.user, who.session, seq);
            Ok(Handled::Done)
        }
        ClientMessage::Resume { after_seq } => {
            // Resuming after N says everything up to N is handled.
            hub.ack(who.user, who.session, after_seq);
            let after = hub.acked(who.session);
            let replay = history.replay(who, after).await;
            for message in replay {
                let Some(seq) = message.seq() else { continue };
                if seq <= *sent_through {
                    continue;
                }
                *sent_through = seq;
                send_json(socket, &message).await?;
            }
            Ok(Handled::Resumed)
        }
        ClientMessage::Dismiss { pop_id } => {
            history.dismiss(who, pop_id).await;
            Ok(Handled::Done)
        }
        ClientMessage::Note { call_id, text } => {
            add_to_call(socket, history, who, call_id, Addition::Note(text)).await
        }
        ClientMessage::Pick { call_id, contact } => {
            let contact = ringside_core::Pii::new(contact);
            add_to_call(socket, history, who, call_id, Addition::Pick(contact)).await
        }
    }
}

/// Stores a note or pick; a refusal goes back to this connection alone as `error`, and the
/// connection stays open.
async fn add_to_call(
    socket: &mut impl Socket,
    history: &History,
    who: Connection,
    call: ringside_core::CallId,
    addition: Addition,
) -> Result<Handled, SocketGone> {
    if let Err((code, message)) = history.add_to_call(who, call, addition).await {
        let refused = ServerMessage::Error(StreamError {
            code: code.to_owned(),
            message: message.to_owned(),
        });
        send_json(socket, &refused).await?;
    }
    Ok(Handled::Done)
}

fn reason_of(code: u16) -> &'static str {
    match code {
        close::SESSION_REVOKED => "revoked",
        close::SLOW_CONSUMER => "too far behind: reconnect and resume",
        close::GOING_AWAY => "relay going away: reconnect and resume",
        _ => "closing",
    }
}

async fn send_json(socket: &mut impl Socket, message: &ServerMessage) -> Result<(), SocketGone> {
    // Server messages always serialize; if one ever did not, the client could not be served.
    let json = serde_json::to_string(message).map_err(|_| SocketGone)?;
    send_text(socket, &json).await
}

async fn send_text(socket: &mut impl Socket, json: &str) -> Result<(), SocketGone> {
    match timeout(
        WRITE_TIMEOUT,
        socket.send(Message::Text(Utf8Bytes::from(json))),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        _ => Err(SocketGone),
    }
}

async fn send_close(
    socket: &mut impl Socket,
    code: u16,
    reason: &'static str,
) -> Result<(), SocketGone> {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    match timeout(WRITE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(SocketGone),
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
