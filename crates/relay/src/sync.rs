//! The sync, wired: the relay's AMS connections as the worker's [`Target`], the worker's
//! settings from the configuration, and the summarizer; and the admin's view of it — dead
//! letters, retries, the retention report — shared by `/v1/admin/…` and the CLI
//! (docs/lifecycle.md). The work itself is `ringside-sync`'s.

use std::sync::Arc;
use std::time::Duration;

use ringside_ams::AmsConnector;
use ringside_core::wire::{RetentionKind, RetentionReport, SyncEntry};
use ringside_core::{CallId, Clock, OrgId};
use ringside_store::{Store, SyncRow, SyncState};
use ringside_sync::summary::{Extractive, Summarizer};
use ringside_sync::{PausePoint, Settings, Target, Worker};
use time::OffsetDateTime;

use crate::Config;
use crate::ams::{AmsConnections, Opened};
use crate::caller::Caller;
use crate::open::DataFolder;

/// The crash test's hook: `before_write`, `after_write` or `after_purge` freezes every sync
/// attempt there (docs/lifecycle.md, "Proving it"). Never set in production.
pub const PAUSE_VAR: &str = "RINGSIDE_TEST_SYNC_PAUSE";

impl Target for AmsConnections {
    fn connector(&self, org: OrgId) -> Result<Option<Box<dyn AmsConnector>>, ringside_sync::Error> {
        self.open(org).map_err(|err| match err {
            Opened::Store(err) => ringside_sync::Error::Store(err),
            Opened::Unusable(err) => ringside_sync::Error::Ams(err),
        })
    }
}

/// The worker's settings from `config` (and the test hook from the environment).
pub(crate) fn settings(config: &Config) -> Settings {
    Settings {
        grace_secs: config.sync.transcript_grace_secs,
        settle_secs: config.sync.in_doubt_settle_secs,
        poll: Duration::from_secs(1),
        batch: 32,
        pause_at: std::env::var(PAUSE_VAR)
            .ok()
            .and_then(|name| PausePoint::from_name(&name)),
    }
}

/// The sync worker of the relay serving `folder`, writing through `ams`.
pub(crate) fn worker(
    config: &Config,
    folder: &DataFolder,
    ams: &AmsConnections,
    clock: Arc<dyn Clock>,
) -> Worker {
    let summarizer: Arc<dyn Summarizer> = Arc::new(Extractive::default());
    Worker::new(
        Arc::clone(&folder.store),
        folder.keys.clone(),
        Arc::new(ams.clone()),
        summarizer,
        clock,
        settings(config),
    )
}

/// The states an admin is shown as dead letters: held (several matches, no pick) and dead.
pub const DEAD_LETTERS: [SyncState; 2] = [SyncState::Held, SyncState::Dead];

/// The most rows one listing returns.
pub const LIST_LIMIT: u32 = 500;

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// An outbox row as the API and `sync list --json` show it.
pub fn entry(row: &SyncRow) -> SyncEntry {
    SyncEntry {
        call_id: row.call,
        kind: row.kind.as_str().to_owned(),
        state: row.state.as_str().to_owned(),
        attempts: row.attempts,
        reason: row.reason.clone(),
        started_at: at(row.started_at),
        updated_at: at(row.updated_at),
    }
}

/// The caller's org's calls in `states` (blocking).
pub(crate) fn list(
    store: &Store,
    caller: Caller<'_>,
    states: &[SyncState],
) -> Result<Vec<SyncRow>, ringside_store::Error> {
    store
        .sync()
        .list_syncs(Some(caller.org()), states, LIST_LIMIT)
}

/// An admin's retry of one held or dead call (blocking), audited; the worker is woken.
/// [`ringside_store::Error::NotFound`] when the call is not held or dead in the caller's org.
pub(crate) fn retry(
    store: &Store,
    worker: Option<&ringside_sync::Waker>,
    caller: Caller<'_>,
    call: CallId,
) -> Result<(), ringside_store::Error> {
    let audit = caller.entry("sync.retry", "call").resource(call);
    store.sync().retry_sync_now(caller.org(), call, &audit)?;
    if let Some(worker) = worker {
        worker.wake();
    }
    Ok(())
}

/// The retention report of `org` (the whole installation when `None`), as of `now`
/// (blocking).
pub fn retention_report(
    store: &Store,
    org: Option<OrgId>,
    now: OffsetDateTime,
) -> Result<RetentionReport, ringside_store::Error> {
    let kinds = store
        .sync()
        .retention(org)?
        .into_iter()
        .map(|r| RetentionKind {
            kind: r.kind.to_owned(),
            records: r.records,
            oldest_age_secs: r
                .oldest_at
                .map(|t| u64::try_from(now.unix_timestamp().saturating_sub(t)).unwrap_or(0)),
        })
        .collect();
    Ok(RetentionReport {
        generated_at: now,
        kinds,
    })
}
