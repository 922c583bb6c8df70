//! What a stream connection reads from and writes to the store: the user's last `seq` for
//! `hello`, whether the session still stands, the replay for `resume`, a dismissal; and the
//! sweeper that expires pops at 5 minutes.
//!
//! Why here and not in the call pipeline: these are the stream's own operations, asked for by a
//! connection. Their results reach the sockets the same way every event does — the store pushes
//! what it commits to the hub (the `Store::on_events` listener wired in `server.rs`) — so nothing here calls back into the
//! pipeline or needs the relay's whole state: only the store and the org keys.

use std::sync::Arc;
use std::time::Duration;

use ringside_core::wire::ServerMessage;
use ringside_core::{CallId, OrgId, PopId, SessionId, UserId};
use ringside_store::{Expired, OrgKeys, Store};

use super::Connection;
use crate::Error;
use crate::calls::notes::{self, Addition, Author};
use crate::error::on_blocking_pool;

/// How often the sweeper looks for expired pops.
const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// The store, as the stream sees it. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct History {
    store: Arc<Store>,
    keys: OrgKeys,
}

impl History {
    pub(crate) fn new(store: Arc<Store>, keys: OrgKeys) -> Self {
        Self { store, keys }
    }

    /// The highest `seq` the user has been given (for `hello`).
    pub(crate) async fn last_seq(&self, user: UserId) -> Result<u64, Error> {
        let store = Arc::clone(&self.store);
        on_blocking_pool("a stream task", move || {
            Ok(store.stream().stream_last_seq(user)?)
        })
        .await
    }

    /// Whether the session is still live (not revoked; unknown counts as revoked).
    pub(crate) async fn session_live(&self, org: OrgId, session: SessionId) -> bool {
        let store = Arc::clone(&self.store);
        let live = on_blocking_pool("a stream task", move || {
            Ok(store.sessions().session(org, session)?)
        })
        .await;
        matches!(live, Ok(session) if session.revoked_at.is_none())
    }

    /// The user's stored events after `after_seq` (for `resume`); none if the store fails.
    pub(crate) async fn replay(&self, who: Connection, after_seq: u64) -> Vec<ServerMessage> {
        let (store, keys) = (Arc::clone(&self.store), self.keys.clone());
        let replayed = on_blocking_pool("a stream task", move || {
            let keys = keys.get(who.org)?;
            Ok(store
                .stream()
                .stream_replay(who.org, who.user, after_seq, &keys)?)
        })
        .await;
        replayed.unwrap_or_else(|err| {
            tracing::error!(user = %who.user, error = %err, "stream replay failed");
            Vec::new()
        })
    }

    /// The user dismissed a pop on one device: the store's `pop_dismissed` clears it on the others.
    pub(crate) async fn dismiss(&self, who: Connection, pop: PopId) {
        let (store, keys) = (Arc::clone(&self.store), self.keys.clone());
        let dismissed = on_blocking_pool("a stream task", move || {
            let keys = keys.get(who.org)?;
            Ok(store.stream().dismiss_pop(who.org, who.user, pop, &keys)?)
        })
        .await;
        if let Err(err) = dismissed {
            tracing::error!(user = %who.user, error = %err, "dismissing a pop failed");
        }
    }

    /// The user's note or pick for `call`; `Err` with the words to send back when refused or
    /// when the store fails (nothing is stored then).
    pub(crate) async fn add_to_call(
        &self,
        who: Connection,
        call: CallId,
        addition: Addition,
    ) -> Result<(), (&'static str, &'static str)> {
        let (store, keys) = (Arc::clone(&self.store), self.keys.clone());
        let author = Author {
            org: who.org,
            user: who.user,
            ip: None,
        };
        let added = on_blocking_pool("a stream task", move || {
            notes::add(&store, &keys, author, call, &addition)
        })
        .await;
        match added {
            Ok(Ok(())) => Ok(()),
            Ok(Err(refusal)) => Err(notes::refusal_text(refusal)),
            Err(err) => {
                tracing::error!(user = %who.user, error = %err, "storing a note or pick failed");
                Err(("unavailable", "the note could not be stored: try again"))
            }
        }
    }

    /// Deletes pops past their 5 minutes, which pushes `pop_expired`, until the relay stops.
    pub(crate) async fn sweep(self) {
        let mut ticker = tokio::time::interval(SWEEP_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let (store, keys) = (Arc::clone(&self.store), self.keys.clone());
            match on_blocking_pool("a stream task", move || expire_pops(&store, &keys)).await {
                Ok(expired) if expired.orgs_skipped > 0 => tracing::warn!(
                    orgs = expired.orgs_skipped,
                    "pops of organisations whose keys could not be opened wait for the next pass"
                ),
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "expiring pops failed"),
            }
        }
    }
}

/// Deletes the pops past their 5 minutes (blocking: SQLite); the `pop_expired` events made. The
/// sweeper runs it twice a second, the hourly hygiene pass once more.
pub(crate) fn expire_pops(store: &Store, keys: &OrgKeys) -> Result<Expired, Error> {
    Ok(store.stream().expire_stream(&|org: OrgId| keys.get(org))?)
}
