//! The sync worker: takes each finished call from the outbox, writes its one note in the org's
//! AMS, and purges it (docs/lifecycle.md, "The sync").
//!
//! One attempt, step by step — each store step is its own committed transaction:
//! 1. `begin_sync`: the row goes `writing` and the call's material is read (sealed → opened);
//! 2. the record: the agent's pick, else the single AMS match for the number; several matches
//!    and no pick → `held` for an admin; none → the org's catch-all record, or skipped;
//! 3. the summary (made once, kept sealed for retries), then the note, composed and redacted;
//! 4. if an earlier attempt was cut off mid-write (*in doubt*), the AMS is searched for the
//!    call's reference first: found → it is that note; unsearchable → a dead letter (`in_doubt`)
//!    rather than a risk of two notes;
//! 5. the write; then `finish_sync`: `done` and the purge in one transaction, and the WAL
//!    checkpointed.
//!
//! A failure sends the row back to `pending` with a jittered wait (`schedule`), or to the dead
//! letters when no retry can fix it. Nothing here logs a number, a name or a text: only ids,
//! states and reasons.
//!
//! Why the worker is not in the relay: it is a job with its own schedule and failure modes, and
//! the relay only wires it (a store, the org keys, an AMS [`Target`], a [`Summarizer`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ringside_ams::{ActivityNote, ActivityRef, AmsConnector, AmsError};
use ringside_core::wire::RecordKind;
use ringside_core::{CallId, Clock, OrgId, PhoneNumber, Pii, UserId};
use ringside_store::{OrgKeys, Store, SyncFinish, SyncJob, SyncMaterial, SyncState};
use ringside_vault::OrgKeyring;
use tokio::sync::{Notify, broadcast};

use crate::Error;
use crate::note::{NoteInput, Record, compose};
use crate::schedule::{self, Verdict};
use crate::summary::{Summarizer, SummaryInput, redacted_input};

/// Where the worker gets an org's AMS from (the relay's connections, with their sealed
/// credentials opened for this one sync).
pub trait Target: Send + Sync + fmt::Debug + 'static {
    /// `org`'s connector, or `None` when it has no AMS connected.
    ///
    /// # Errors
    /// [`Error::Store`] when the connection cannot be read, [`Error::Ams`] when it is unusable.
    fn connector(&self, org: OrgId) -> Result<Option<Box<dyn AmsConnector>>, Error>;
}

/// A point in an attempt where a test may freeze the worker (and kill the relay): the crash
/// test's hook (`RINGSIDE_TEST_SYNC_PAUSE`, docs/lifecycle.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PausePoint {
    /// The note is composed and the row is `writing`; the AMS has not been asked.
    BeforeWrite,
    /// The AMS wrote the note; the relay has not recorded it.
    AfterWrite,
    /// The note is recorded and the call purged; the WAL is not yet checkpointed… (the purge's
    /// own transaction is committed).
    AfterPurge,
}

impl PausePoint {
    /// The point named `name` (`before_write`, `after_write`, `after_purge`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "before_write" => Some(Self::BeforeWrite),
            "after_write" => Some(Self::AfterWrite),
            "after_purge" => Some(Self::AfterPurge),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::BeforeWrite => "before_write",
            Self::AfterWrite => "after_write",
            Self::AfterPurge => "after_purge",
        }
    }
}

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long after hang-up the first attempt waits for a transcript (`sync.transcript_grace_secs`).
    pub grace_secs: u32,
    /// How long an in-doubt call waits before the AMS is searched for its note (search indexes
    /// trail writes; `sync.in_doubt_settle_secs`).
    pub settle_secs: u32,
    /// How often the outbox is looked at when nothing wakes the worker.
    pub poll: Duration,
    /// Calls taken per look.
    pub batch: u32,
    /// The crash test's hook: freeze at this point of every attempt.
    pub pause_at: Option<PausePoint>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            grace_secs: 180,
            settle_secs: 30,
            poll: Duration::from_secs(1),
            batch: 32,
            pause_at: None,
        }
    }
}

/// How one attempt ended (ids and codes only): what the worker tells its subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    /// The org.
    pub org: OrgId,
    /// The call.
    pub call: CallId,
    /// The row's state afterwards (`done`, `skipped`, `pending` for a retry, `held`, `dead`).
    pub state: SyncState,
    /// Why, when it did not land (a stable code).
    pub reason: Option<String>,
    /// How long the AMS write took, when there was one.
    pub write: Option<Duration>,
    /// How long the purge took (recording the sync, the purge and the WAL checkpoint).
    pub purge: Option<Duration>,
}

impl Synced {
    /// An attempt that stopped short of the note, in `state`, for `reason`.
    fn stopped(m: &SyncMaterial, state: SyncState, reason: String) -> Self {
        Self {
            org: m.org,
            call: m.call,
            state,
            reason: Some(reason),
            write: None,
            purge: None,
        }
    }
}

/// Wakes a [`Worker`]: a call it may sync is due. Cheap to clone; waking a worker that is
/// busy makes it look again when it is done.
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// Wakes the worker.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// The worker. Cheap to clone.
#[derive(Clone)]
pub struct Worker {
    store: Arc<Store>,
    keys: OrgKeys,
    target: Arc<dyn Target>,
    /// For orgs that chose no summarizer of their own (`summary::choice`).
    summarizer: Arc<dyn Summarizer>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    wake: Arc<Notify>,
    reports: broadcast::Sender<Synced>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The outcome of the steps before the write.
enum Prepared {
    /// Write this note (after checking for it first when in doubt).
    Write(ActivityNote, Box<dyn AmsConnector>),
    /// Nothing to write to; skip and purge.
    Skip,
    /// The attempt stops here with this state and reason.
    Stop(SyncState, String),
    /// A failure of the AMS.
    Failed(AmsError),
    /// The org has no AMS connected (yet): retried, an admin may connect one.
    NotConnected,
}

impl Worker {
    /// A worker over `store`'s outbox.
    pub fn new(
        store: Arc<Store>,
        keys: OrgKeys,
        target: Arc<dyn Target>,
        summarizer: Arc<dyn Summarizer>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Self {
        Self {
            store,
            keys,
            target,
            summarizer,
            clock,
            settings,
            wake: Arc::new(Notify::new()),
            reports: broadcast::channel(1024).0,
        }
    }

    /// Wakes the worker now (a call ended, a transcript or a pick came, an admin retried).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A handle that wakes this worker, for the code that makes calls due.
    pub fn waker(&self) -> Waker {
        Waker(Arc::clone(&self.wake))
    }

    /// Every attempt's outcome from now on (for the demo, the benchmark and tests).
    pub fn subscribe(&self) -> broadcast::Receiver<Synced> {
        self.reports.subscribe()
    }

    /// Runs until dropped: first the calls left in flight by a stopped relay are marked in
    /// doubt, then the outbox is worked whenever woken or every `poll`.
    pub async fn run(self) {
        let settle = self.settings.settle_secs;
        match self
            .blocking(move |s| s.sync().recover_in_flight(settle))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(calls = n, "sync: calls left mid-write are in doubt"),
            Err(err) => tracing::error!(error = %err, "sync: recovering in-flight calls failed"),
        }
        loop {
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "sync: a pass failed"),
            }
            let _ = tokio::time::timeout(self.settings.poll, self.wake.notified()).await;
        }
    }

    /// One look at the outbox: every due call (up to a batch) attempted once. Answers how many.
    ///
    /// # Errors
    /// [`Error::Store`] when the outbox cannot be read.
    pub async fn run_once(&self) -> Result<usize, Error> {
        let (grace, batch) = (self.settings.grace_secs, self.settings.batch);
        let jobs = self
            .blocking(move |s| s.sync().due_syncs(grace, batch))
            .await?;
        for job in &jobs {
            if let Err(err) = self.attempt(*job).await {
                tracing::error!(org = %job.org, call = %job.call, error = %err, "sync: attempt failed");
            }
        }
        Ok(jobs.len())
    }

    async fn attempt(&self, job: SyncJob) -> Result<(), Error> {
        let keys = self.keys.get(job.org)?;
        let opened = Arc::clone(&keys);
        let Some(material) = self
            .blocking(move |s| s.sync().begin_sync(job, &opened))
            .await?
        else {
            return Ok(());
        };
        let prepared = self.prepare(&material, &keys).await?;
        let report = match prepared {
            Prepared::Write(note, connector) => {
                self.write(&material, &note, connector.as_ref()).await?
            }
            Prepared::Skip => self.finish(&material, SyncFinish::Skipped, None).await?,
            Prepared::Stop(state, reason) => self.park(&material, state, reason).await?,
            Prepared::Failed(err) => self.failed(&material, &err).await?,
            Prepared::NotConnected => {
                self.retry_later(&material, "not_connected".to_owned(), None)
                    .await?
            }
        };
        tracing::info!(
            org = %report.org,
            call = %report.call,
            state = report.state.as_str(),
            reason = report.reason.as_deref().unwrap_or(""),
            "sync: attempt done"
        );
        let _ = self.reports.send(report);
        Ok(())
    }

    /// Steps 2 and 3: the record, the summary, the note.
    async fn prepare(&self, m: &SyncMaterial, keys: &Arc<OrgKeyring>) -> Result<Prepared, Error> {
        let org = m.org;
        let connector = match self.target.connector(org) {
            Ok(Some(connector)) => connector,
            Ok(None) => return Ok(Prepared::NotConnected),
            Err(Error::Ams(err)) => return Ok(Prepared::Failed(err)),
            Err(err) => return Err(err),
        };
        let number = m
            .number
            .as_ref()
            .and_then(|n| PhoneNumber::parse(n.expose()).ok());
        let record = match &m.pick {
            Some((_, id)) => Some(Record {
                id: id.expose().clone(),
                kind: RecordKind::Client,
            }),
            None => match &number {
                Some(number) => match connector.lookup_by_phone(number).await {
                    Ok(found) if found.len() > 1 => {
                        return Ok(Prepared::Stop(
                            SyncState::Held,
                            "ambiguous_match".to_owned(),
                        ));
                    }
                    Ok(found) => found.into_iter().next().map(|c| Record {
                        id: c.id,
                        kind: c.kind,
                    }),
                    Err(err) => return Ok(Prepared::Failed(err)),
                },
                None => None,
            },
        };
        let record = match record {
            Some(record) => record,
            None => {
                let catch_all = self
                    .blocking(move |s| s.ams().ams_connection(org))
                    .await?
                    .and_then(|c| c.catch_all_record);
                match catch_all {
                    Some(id) => Record {
                        id,
                        kind: RecordKind::Client,
                    },
                    None => return Ok(Prepared::Skip),
                }
            }
        };
        let summary = self.summary(m, keys).await?;
        let agents = self.agent_names(m, keys).await?;
        let notes: Vec<Pii<String>> = m.notes.iter().map(|(_, text)| text.clone()).collect();
        let input = NoteInput {
            call: m.call,
            direction: m.direction,
            state: m.state,
            answered: m.answered,
            number: number.as_ref(),
            started_at: m.started_at,
            ended_at: m.ended_at,
            agents: &agents,
            summary: summary.as_ref(),
            notes: &notes,
            transcript: &m.transcript,
            text: m.text.as_ref(),
        };
        Ok(Prepared::Write(compose(&input, &record), connector))
    }

    /// The summary an earlier attempt made, or a new one (kept sealed). A summarizer that fails
    /// leaves the note without one: the note matters more than its summary.
    async fn summary(
        &self,
        m: &SyncMaterial,
        keys: &Arc<OrgKeyring>,
    ) -> Result<Option<Pii<String>>, Error> {
        if let Some(summary) = &m.summary {
            return Ok(Some(summary.clone()));
        }
        if m.transcript.is_empty() {
            return Ok(None);
        }
        let (org, opened, default) = (m.org, Arc::clone(keys), Arc::clone(&self.summarizer));
        let Some(summarizer) = self
            .blocking(move |s| crate::summary::choice::for_org(s, org, &opened, &default))
            .await?
        else {
            return Ok(None);
        };
        let input = SummaryInput {
            transcript: m.transcript.clone(),
            agent_notes: m.notes.iter().map(|(_, t)| t.clone()).collect(),
        };
        let (clean, _) = redacted_input(&input);
        let summary = match summarizer.summarize(&clean).await {
            Ok(summary) if !summary.expose().trim().is_empty() => summary,
            Ok(_) => return Ok(None),
            Err(err) => {
                tracing::warn!(org = %m.org, call = %m.call, error = %err, "sync: no summary");
                return Ok(None);
            }
        };
        let (org, call, keys, kept) = (m.org, m.call, Arc::clone(keys), summary.clone());
        self.blocking(move |s| s.sync().save_summary(org, call, &kept, &keys))
            .await?;
        Ok(Some(summary))
    }

    /// The display names of who handled the call: the note authors and the picker, else the
    /// one agent it rang for.
    async fn agent_names(
        &self,
        m: &SyncMaterial,
        keys: &Arc<OrgKeyring>,
    ) -> Result<Vec<Pii<String>>, Error> {
        let users = handlers(m);
        let (org, keys) = (m.org, Arc::clone(keys));
        self.blocking(move |s| {
            users
                .iter()
                .map(|user| {
                    s.users()
                        .user_profile(org, *user, &keys)
                        .map(|p| p.display_name)
                })
                .collect()
        })
        .await
    }

    /// Steps 4 and 5.
    async fn write(
        &self,
        m: &SyncMaterial,
        note: &ActivityNote,
        connector: &dyn AmsConnector,
    ) -> Result<Synced, Error> {
        if m.in_doubt {
            match connector.find_activity(note).await {
                Ok(Some(found)) => {
                    tracing::info!(org = %m.org, call = %m.call, "sync: the in-doubt note had landed");
                    return self.written(m, found, None).await;
                }
                Ok(None) => {}
                Err(AmsError::Unsupported(_)) => {
                    return self.park(m, SyncState::Dead, "in_doubt".to_owned()).await;
                }
                Err(err) => return self.failed(m, &err).await,
            }
        }
        self.pause(PausePoint::BeforeWrite).await;
        let started = std::time::Instant::now();
        match connector.write_activity(note).await {
            Ok(written) => {
                let took = started.elapsed();
                self.pause(PausePoint::AfterWrite).await;
                self.written(m, written, Some(took)).await
            }
            Err(err) => self.failed(m, &err).await,
        }
    }

    async fn written(
        &self,
        m: &SyncMaterial,
        written: ActivityRef,
        took: Option<Duration>,
    ) -> Result<Synced, Error> {
        let finish = SyncFinish::Written {
            activity_id: written.id,
        };
        let mut report = self.finish(m, finish, took).await?;
        self.pause(PausePoint::AfterPurge).await;
        report.write = took;
        Ok(report)
    }

    async fn finish(
        &self,
        m: &SyncMaterial,
        finish: SyncFinish,
        took: Option<Duration>,
    ) -> Result<Synced, Error> {
        let masked = m
            .number
            .as_ref()
            .and_then(|n| PhoneNumber::parse(n.expose()).ok())
            .map(|n| n.mask());
        let agent = handlers(m).first().copied();
        let state = match finish {
            SyncFinish::Written { .. } => SyncState::Done,
            SyncFinish::Skipped => SyncState::Skipped,
        };
        let (org, call) = (m.org, m.call);
        let started = std::time::Instant::now();
        self.blocking(move |s| {
            s.sync()
                .finish_sync(org, call, &finish, masked.as_deref(), agent)
        })
        .await?;
        Ok(Synced {
            org,
            call,
            state,
            reason: None,
            write: took,
            purge: Some(started.elapsed()),
        })
    }

    async fn park(
        &self,
        m: &SyncMaterial,
        state: SyncState,
        reason: String,
    ) -> Result<Synced, Error> {
        let (org, call, code) = (m.org, m.call, reason.clone());
        self.blocking(move |s| s.sync().park_sync(org, call, state, &code))
            .await?;
        Ok(Synced::stopped(m, state, reason))
    }

    async fn failed(&self, m: &SyncMaterial, err: &AmsError) -> Result<Synced, Error> {
        let reason = schedule::reason(err);
        if schedule::verdict(err) == Verdict::Dead {
            return self.park(m, SyncState::Dead, reason).await;
        }
        let retry_after = match err {
            AmsError::RateLimited { retry_after } => *retry_after,
            _ => None,
        };
        self.retry_later(m, reason, retry_after).await
    }

    async fn retry_later(
        &self,
        m: &SyncMaterial,
        reason: String,
        retry_after: Option<Duration>,
    ) -> Result<Synced, Error> {
        let random = u64::from_le_bytes(ringside_core::random::random_bytes());
        let wait = schedule::wait(m.attempt, random, retry_after);
        let next_at = self.clock.now().unix_timestamp()
            + i64::try_from(wait.as_secs()).unwrap_or(i64::MAX / 2);
        let (org, call, code) = (m.org, m.call, reason.clone());
        self.blocking(move |s| s.sync().retry_sync_at(org, call, next_at, &code))
            .await?;
        Ok(Synced::stopped(m, SyncState::Pending, reason))
    }

    async fn pause(&self, point: PausePoint) {
        if self.settings.pause_at == Some(point) {
            tracing::warn!(
                point = point.as_str(),
                "sync paused by RINGSIDE_TEST_SYNC_PAUSE"
            );
            std::future::pending::<()>().await;
        }
    }

    /// Runs `f` on the store, on the blocking pool (SQLite waits for the disk).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, ringside_store::Error> + Send + 'static,
    ) -> Result<T, Error> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|_| Error::Task)?
            .map_err(Error::Store)
    }
}

/// Who handled the call: the note authors and the picker in order, else the one agent it rang
/// for.
fn handlers(m: &SyncMaterial) -> Vec<UserId> {
    let mut users: Vec<UserId> = Vec::new();
    let authors = m.notes.iter().map(|(user, _)| *user);
    for user in authors.chain(m.pick.iter().map(|(user, _)| *user)) {
        if !users.contains(&user) {
            users.push(user);
        }
    }
    if users.is_empty() && m.popped_for.len() == 1 {
        users.push(m.popped_for[0]);
    }
    users
}
