//! The hub: every open stream connection, by user, and the way events reach them
//! (docs/stream.md).
//!
//! Why it is shaped this way: an event is stored (sealed, with the user's `seq`) before the hub
//! sees it, so the hub can afford to be simple and lossy — it serializes each event once and
//! offers it to each of the user's connections without waiting. A connection whose queue is full,
//! or that is too far ahead of its acks, is closed with a clear code (4408) and resumes from the
//! store; one slow laptop never holds up anyone else. Revocations from the identity service close
//! the matching connections at once (4403). Acks are kept per connected session in memory: they
//! only trim what a `resume` replays, and after a reconnect or a restart the client's own
//! `after_seq` does that job.

mod connection;
mod history;
pub(crate) mod tickets;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use ringside_core::wire::close;
use ringside_core::{SessionId, UserId};
use ringside_store::Event;
use tokio::sync::{Notify, broadcast, mpsc};

use ringside_identity::{Revocation, RevocationScope};

pub(crate) use connection::{Connection, Stream, serve};
pub(crate) use history::{History, expire_pops};
pub(crate) use tickets::Tickets;

/// Events waiting for one connection's socket; past this, it is a slow consumer.
const QUEUE: usize = 256;

/// One event, serialized once for all of a user's connections.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) seq: u64,
    pub(crate) json: Arc<str>,
}

/// Tells a connection's task to close, with which code (and, for a revocation, why). Set once;
/// the first close wins.
#[derive(Debug, Default)]
pub(crate) struct Control {
    code: AtomicU16,
    reason: OnceLock<&'static str>,
    notify: Notify,
}

impl Control {
    pub(crate) fn close(&self, code: u16) {
        if self
            .code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.notify.notify_one();
        }
    }

    /// [`Control::close`] saying why (the `reason` of `session_revoked`).
    pub(crate) fn close_because(&self, code: u16, reason: &'static str) {
        if self.code.load(Ordering::Acquire) == 0 {
            let _ = self.reason.set(reason);
        }
        self.close(code);
    }

    /// Waits until a close is requested; returns its code and the reason given, if any.
    pub(crate) async fn closed(&self) -> (u16, Option<&'static str>) {
        loop {
            let code = self.code.load(Ordering::Acquire);
            if code != 0 {
                return (code, self.reason.get().copied());
            }
            self.notify.notified().await;
        }
    }
}

#[derive(Debug, Clone)]
struct Handle {
    id: u64,
    session: SessionId,
    tx: mpsc::Sender<Outgoing>,
    control: Arc<Control>,
    /// The highest seq this connection is known to have handled: what it acked or resumed
    /// after, or the user's last seq when it connected. How far an event is ahead of it is how
    /// far the connection is behind.
    floor: Arc<AtomicU64>,
}

#[derive(Debug, Default)]
struct Registry {
    by_user: HashMap<UserId, Vec<Handle>>,
    acked: HashMap<SessionId, u64>,
    shutting_down: bool,
}

/// The stream's settings (from the configuration).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamSettings {
    pub(crate) heartbeat: Duration,
    pub(crate) max_unacked: u64,
}

/// Every open stream connection.
#[derive(Debug)]
pub(crate) struct Hub {
    registry: Mutex<Registry>,
    next_id: AtomicU64,
    settings: StreamSettings,
    tickets: Tickets,
}

impl Hub {
    pub(crate) fn new(settings: StreamSettings, tickets: Tickets) -> Self {
        Self {
            registry: Mutex::new(Registry::default()),
            next_id: AtomicU64::new(1),
            settings,
            tickets,
        }
    }

    pub(crate) fn settings(&self) -> StreamSettings {
        self.settings
    }

    pub(crate) fn tickets(&self) -> &Tickets {
        &self.tickets
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a connection of `user`'s `session`, which starts at `last_seq` (the user's highest
    /// seq when it connected); `None` while shutting down.
    fn register(
        &self,
        user: UserId,
        session: SessionId,
        last_seq: u64,
    ) -> Option<(u64, mpsc::Receiver<Outgoing>, Arc<Control>)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let control = Arc::new(Control::default());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut registry = self.registry();
        if registry.shutting_down {
            return None;
        }
        registry.by_user.entry(user).or_default().push(Handle {
            id,
            session,
            tx,
            control: Arc::clone(&control),
            floor: Arc::new(AtomicU64::new(last_seq)),
        });
        Some((id, rx, control))
    }

    /// Removes a connection. When it was its session's last, the session's ack goes too: the
    /// next connection's `resume` says where it stands, and the map stays as small as the
    /// number of connected devices.
    fn unregister(&self, user: UserId, id: u64) {
        let mut registry = self.registry();
        let Some(handles) = registry.by_user.get_mut(&user) else {
            return;
        };
        let session = handles.iter().find(|h| h.id == id).map(|h| h.session);
        handles.retain(|h| h.id != id);
        let session_still_open = session.is_some_and(|s| handles.iter().any(|h| h.session == s));
        if handles.is_empty() {
            registry.by_user.remove(&user);
        }
        if let (Some(session), false) = (session, session_still_open) {
            registry.acked.remove(&session);
        }
    }

    /// Records that `session` handled everything up to `seq` (an ack, or a resume after it).
    fn ack(&self, user: UserId, session: SessionId, seq: u64) {
        let mut registry = self.registry();
        let acked = registry.acked.entry(session).or_default();
        *acked = (*acked).max(seq);
        for handle in registry.by_user.get(&user).into_iter().flatten() {
            if handle.session == session {
                handle.floor.fetch_max(seq, Ordering::AcqRel);
            }
        }
    }

    fn acked(&self, session: SessionId) -> u64 {
        self.registry().acked.get(&session).copied().unwrap_or(0)
    }

    /// Offers stored events to their users' open connections, without waiting on any socket.
    pub(crate) fn publish(&self, events: &[Event]) {
        for event in events {
            let (Some(seq), Ok(json)) =
                (event.message.seq(), serde_json::to_string(&event.message))
            else {
                continue;
            };
            let json: Arc<str> = json.into();
            let registry = self.registry();
            let Some(handles) = registry.by_user.get(&event.user) else {
                continue;
            };
            for handle in handles {
                let floor = handle.floor.load(Ordering::Acquire);
                let behind = seq.saturating_sub(floor) > self.settings.max_unacked;
                let full = handle
                    .tx
                    .try_send(Outgoing {
                        seq,
                        json: Arc::clone(&json),
                    })
                    .is_err();
                if behind || full {
                    handle.control.close(close::SLOW_CONSUMER);
                }
            }
        }
    }

    /// Closes the connections a revocation covers (4403).
    pub(crate) fn revoke(&self, revocation: &Revocation) {
        let mut registry = self.registry();
        if let Some(handles) = registry.by_user.get(&revocation.user) {
            for handle in handles {
                let covered = match revocation.scope {
                    RevocationScope::AllSessions => true,
                    RevocationScope::Session(session) => session == handle.session,
                };
                if covered {
                    handle
                        .control
                        .close_because(close::SESSION_REVOKED, revocation.reason.as_str());
                }
            }
        }
        if let RevocationScope::Session(session) = revocation.scope {
            registry.acked.remove(&session);
        }
    }

    /// Closes every connection (1001: reconnect and resume) and refuses new ones.
    pub(crate) fn shutdown(&self) {
        let mut registry = self.registry();
        registry.shutting_down = true;
        for handle in registry.by_user.values().flatten() {
            handle.control.close(close::GOING_AWAY);
        }
    }

    /// Follows the identity service's revocations until it goes away. A lagging receiver
    /// (revocations faster than this task runs) closes every connection rather than risk
    /// keeping a revoked one: clients reconnect with fresh tickets, which a revoked session
    /// cannot get.
    pub(crate) async fn follow_revocations(
        self: Arc<Self>,
        mut rx: broadcast::Receiver<Revocation>,
    ) {
        loop {
            match rx.recv().await {
                Ok(revocation) => self.revoke(&revocation),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let registry = self.registry();
                    for handle in registry.by_user.values().flatten() {
                        handle.control.close(close::GOING_AWAY);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
