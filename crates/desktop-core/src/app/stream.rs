//! The stream task of a signed-in app: it owns the
//! [`ringside_client::stream::StreamHandle`] (which resumes after the highest `seq` handled,
//! persisted per relay and user, so each pop shows once across restarts), applies every message
//! to the [`Board`](crate::board::Board), and forwards the agent's notes, picks and dismissals.
//! Every [`SAVE_EVERY`] it saves the session's tokens to the keychain if a refresh rotated them —
//! a refresh token works once, so the keychain must always hold the newest. Every
//! [`SWEEP_EVERY`] it removes the pops whose 5 minutes are up, from the screen and the cache.

use std::sync::Arc;
use std::time::Duration;

use ringside_client::stream::{
    CloseReason, ConnectionState, Disconnect, StreamEvent, StreamOptions,
};
use ringside_client::{Client, Session};
use ringside_core::wire::{ClientMessage, ConnectionStatus, ServerMessage};
use tokio::sync::{mpsc, oneshot};

use super::{App, Update, lock};
use crate::board::Change;
use crate::keychain::Saved;

/// How often rotated tokens are saved to the keychain.
const SAVE_EVERY: Duration = Duration::from_secs(10);

/// How often pops past their time leave the screen and the cache, whatever the relay says.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

impl App {
    pub(super) async fn run_stream(
        &self,
        session: Arc<Session>,
        relay: String,
        user: String,
        after_seq: u64,
        mut outgoing: mpsc::Receiver<ClientMessage>,
        mut stopped: oneshot::Receiver<()>,
    ) {
        let mut stream = session.stream(StreamOptions {
            after_seq,
            ..StreamOptions::default()
        });
        let mut saved_refresh = session.tokens().await.refresh_token.expose().clone();
        let mut save = tokio::time::interval(SAVE_EVERY);
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = &mut stopped => {
                    stream.close().await;
                    return;
                }
                Some(message) = outgoing.recv() => {
                    if stream.send(message).await.is_err() {
                        tracing::warn!("the stream stopped before a message could be sent");
                    }
                }
                _ = sweep.tick() => self.sweep(),
                _ = save.tick() => {
                    let tokens = session.tokens().await;
                    if *tokens.refresh_token.expose() != saved_refresh {
                        saved_refresh = tokens.refresh_token.expose().clone();
                        if let Err(err) = self.keychain(session.client()).save(&Saved { tokens }) {
                            tracing::warn!(error = %err, "the rotated tokens could not be kept");
                        }
                    }
                }
                event = stream.next() => {
                    let Some(event) = event else { return };
                    if !self.handle(event, &relay, &user, session.client()) {
                        return;
                    }
                }
            }
        }
    }

    /// One stream event; `false` when the stream is over for good.
    fn handle(&self, event: StreamEvent, relay: &str, user: &str, client: &Client) -> bool {
        match event {
            StreamEvent::Message(message) => {
                self.apply(&message, relay, user);
                true
            }
            StreamEvent::State(ConnectionState::Connected(_)) => {
                self.set_status(ConnectionStatus::Connected);
                true
            }
            StreamEvent::State(ConnectionState::Reconnecting { delay, cause, .. }) => {
                let status = match cause {
                    Disconnect::Connect(_) | Disconnect::Ticket(_) => ConnectionStatus::Unreachable,
                    _ => ConnectionStatus::Reconnecting {
                        in_secs: u32::try_from(delay.as_secs()).unwrap_or(u32::MAX).max(1),
                    },
                };
                self.set_status(status);
                true
            }
            StreamEvent::State(ConnectionState::Closed(reason)) => {
                let status = match reason {
                    CloseReason::Stopped => return false,
                    CloseReason::SessionRevoked { reason } => ConnectionStatus::Revoked { reason },
                    CloseReason::SessionEnded(_) | CloseReason::IncompatibleRelay { .. } => {
                        ConnectionStatus::SignedOut
                    }
                };
                self.end_session(client);
                self.set_status(status);
                false
            }
        }
    }

    fn apply(&self, message: &ServerMessage, relay: &str, user: &str) {
        let (change, seq) = {
            let mut board = lock(&self.0.board);
            let change = board.apply(message);
            (change, board.handled_seq())
        };
        if let Err(err) = lock(&self.0.profile).set_handled(relay, user, seq) {
            tracing::warn!(error = %err, "the handled seq could not be kept");
        }
        match change {
            Change::Nothing => {}
            Change::Redraw => self.publish_board(),
            Change::NewPop(pop) => {
                self.publish_board();
                (self.0.notify)(Update::NewPop(pop));
            }
        }
    }

    /// The session is over: its tokens leave the keychain and its pops the screen.
    fn end_session(&self, client: &Client) {
        if let Err(err) = self.keychain(client).forget() {
            tracing::warn!(error = %err, "the ended session's tokens could not be deleted");
        }
        lock(&self.0.state).live = None;
        self.forget_pops();
    }
}
