//! The relay's persistence: one SQLite file in the data folder.
//!
//! Why SQLite: a self-hosted relay should be one binary and one folder, with nothing else to run
//! or back up. The file is opened in WAL mode (readers never block the writer), with
//! `foreign_keys=ON`, `secure_delete=ON` (purged personal data is overwritten, not left in free
//! pages) and `synchronous=FULL` (a webhook we answered 2xx for survives a power cut).
//!
//! The seam for other backends is one narrow, object-safe trait per domain — [`CallStore`],
//! [`InboxStore`], [`StreamStore`], [`RoutingStore`], [`IntegrationStore`], [`OrgStore`],
//! [`SecretStore`], [`UserStore`], [`SessionStore`], [`InvitationStore`], [`ThrottleStore`],
//! [`AuditStore`], [`SyncStore`], [`NumberStore`], [`TerminationStore`], [`SummarizerStore`],
//! [`HistoryStore`] — reached through [`Store`]'s accessors (`store.calls()`, `store.users().list()`, ...).
//! They take and return `ringside-core` types, and no rusqlite type crosses them. Each trait
//! sits at the top of its module, above this backend's implementation of it; another backend
//! (PostgreSQL for a multi-node relay) implements the same traits, with no change above the
//! store. What stays on [`Store`] itself is the backend's own business: opening, migrating,
//! `/readyz`'s ping and the commit listener.
//!
//! Every repository method that touches org data takes the [`OrgId`](ringside_core::OrgId), so
//! one organisation's query can never see another's rows.

mod ams;
mod audit;
mod calls;
mod error;
mod history;
mod integrations;
mod invitations;
mod keys;
pub mod migrate;
mod notes;
mod numbers;
mod orgs;
mod routing;
mod rows;
mod sealed;
mod secrets;
mod sessions;
mod stream;
mod summarizers;
mod sync;
mod terminations;
mod texts;
mod throttle;
mod users;
mod webhooks;

use std::fs::{DirBuilder, Permissions};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use ringside_core::Clock;
use rusqlite::Connection;

pub use ams::{AmsConnection, AmsStore, NewAmsConnection, OpenedAmsConnection};
pub use audit::{
    AuditContext, AuditDetails, AuditEntry, AuditFilter, AuditPage, AuditSeq, AuditStore,
    AuditViolation, CHECKPOINT_DOMAIN, CHECKPOINT_KEY_PURPOSE, Checkpoint, CheckpointKind,
    ENTRY_DOMAIN, ExportReport, GENESIS_HASH, MAX_PAGE_SIZE, PruneReport, VerifyReport,
    ViolationKind,
};
pub use calls::{CallOutcome, CallPurge, CallStore, CallUpdate};
pub use error::Error;
pub use history::{AgentTally, HistoryStore, UserCall, UserNote};
pub use integrations::{
    Integration, IntegrationSecret, IntegrationStore, NewIntegration, ProviderApiKey,
};
pub use invitations::{Invitation, InvitationInfo, InvitationStore, NewInvitation};
pub use keys::OrgKeys;
pub use migrate::{Applied, MIGRATIONS, Migration, latest_version};
pub use notes::{CallAdditions, MAX_NOTES_CHARS, NoteRefusal, NoteStore};
pub use numbers::{Erased, NUMBER_INDEX_PURPOSE, NumberIndex, NumberIndexKey, NumberStore};
pub use orgs::{Org, OrgKeyRow, OrgStore};
pub use routing::{
    NewRoute, Route, RouteQuery, RouteTargets, RouteVia, RoutingRefusal, RoutingStore,
};
pub use secrets::{SecretBytes, SecretStore};
pub use sessions::{
    IdentityPurge, NewSession, RefreshLookup, RevokeReason, Rotation, Session, SessionInfo,
    SessionStore,
};
pub use stream::{Event, Expired, NOTICE_TTL_SECS, NewSms, POP_TTL_SECS, StreamStore};
pub use summarizers::{NewSummarizer, OpenedSummarizer, SummarizerRow, SummarizerStore};
pub use sync::{
    CallKind, MAX_UTTERANCES, Retained, SyncFinish, SyncJob, SyncMaterial, SyncPurge, SyncRow,
    SyncState, SyncStore, TranscriptStored,
};
pub use terminations::{Shredded, TERMINATION_GRACE_SECS, Terminated, TerminationStore};
pub use throttle::{
    FailureWindow, ThrottleKey, ThrottleState, ThrottleStore, UNKNOWN_DEVICE_BUCKET,
};
pub use users::{
    EmailIndex, NewUser, PasswordHash, PendingTotp, TokenHash, TotpConfirmation, User, UserProfile,
    UserStatus, UserStore,
};
pub use webhooks::{Accepted, InboundEvent, InboxStore, event_hash};

/// The database file's name inside the data folder.
pub const DB_FILE: &str = "ringside.db";

/// How many compiled statements the connection keeps.
const STATEMENT_CACHE: usize = 128;

/// How long a writer waits for another before `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The relay's database.
#[derive(Debug)]
pub struct Store {
    /// The one writer: every transaction, and reads that belong to a write.
    conn: Mutex<Connection>,
    /// Reads on their own connection (WAL lets them run beside the writer): sign-in checks,
    /// the stream's hello and replay, listings, the webhook's integration and routing lookups
    /// never wait behind another webhook's transaction.
    reader: Mutex<Connection>,
    path: PathBuf,
    clock: Arc<dyn Clock>,
    migrations: Applied,
    listener: OnceLock<Listener>,
    /// How long a new pop lives, in seconds ([`Store::set_pop_ttl`]).
    pop_ttl: AtomicI64,
}

/// A function that takes committed stream events.
type EventSink = dyn Fn(&[Event]) + Send + Sync;

/// Where committed stream events go (the relay's hub).
struct Listener(Box<EventSink>);

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Listener")
    }
}

impl Store {
    /// Opens (creating if needed) `ringside.db` inside `data_dir`, which is created with mode
    /// 0700, and applies pending migrations in one transaction.
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        ensure_data_dir(data_dir)?;
        Self::open_file(&data_dir.join(DB_FILE), clock)
    }

    /// Opens a database file directly (tests, tools).
    pub fn open_file(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        Self::open_with(path, clock, MIGRATIONS)
    }

    fn open_with(
        path: &Path,
        clock: Arc<dyn Clock>,
        migrations: &[Migration],
    ) -> Result<Self, Error> {
        let open_err = |source| Error::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        std::fs::set_permissions(path, Permissions::from_mode(0o600)).map_err(|e| {
            Error::DataDir {
                path: path.to_owned(),
                message: format!("cannot set mode 0600: {e}"),
            }
        })?;
        let journal = configure(&conn).map_err(open_err)?;
        if journal != "wal" {
            return Err(Error::DataDir {
                path: path.to_owned(),
                message: format!(
                    "SQLite refused WAL mode (got `{journal}`); is this a network filesystem?"
                ),
            });
        }
        let applied = migrate::apply(&mut conn, migrations, clock.now().unix_timestamp())?;
        let reader = Connection::open(path).map_err(open_err)?;
        configure_reader(&reader).map_err(open_err)?;
        Ok(Self {
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
            path: path.to_owned(),
            clock,
            migrations: applied,
            listener: OnceLock::new(),
            pop_ttl: AtomicI64::new(POP_TTL_SECS),
        })
    }

    /// Sends every stream event to `listener` the moment its transaction commits, while the
    /// connection is still held — so each user's events arrive in `seq` order, whichever thread
    /// made them. Set once (the relay's hub); `false` if one was already set.
    pub fn on_events(&self, listener: impl Fn(&[Event]) + Send + Sync + 'static) -> bool {
        self.listener.set(Listener(Box::new(listener))).is_ok()
    }

    /// Makes new pops live `secs` seconds instead of [`POP_TTL_SECS`] (the relay's
    /// `websocket.pop_ttl_secs`): shorter only, never under 1 s. Pops already made keep theirs.
    pub fn set_pop_ttl(&self, secs: i64) {
        self.pop_ttl
            .store(secs.clamp(1, POP_TTL_SECS), Ordering::Relaxed);
    }

    fn pop_ttl(&self) -> i64 {
        self.pop_ttl.load(Ordering::Relaxed)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What opening the store migrated (from, to).
    pub fn migrations(&self) -> &Applied {
        &self.migrations
    }

    /// Checks the database answers a query (used by `/readyz`).
    pub fn ping(&self) -> Result<(), Error> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        self.read().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<u32, Error> {
        Ok(self
            .conn()
            .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })?)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll back
        // on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The read-only connection. It sees every committed transaction; use it only for reads
    /// that need no transaction of their own (a read that decides a write belongs in it).
    fn read(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }
}

/// The store's surface, one narrow trait per domain (`store.calls()`, `store.users().list()`, ...).
/// Each is object-safe and speaks only `ringside-core` types, so another backend implements
/// these traits and nothing above the store changes.
impl Store {
    /// The calls: [`CallStore`].
    pub fn calls(&self) -> &dyn CallStore {
        self
    }

    /// The inbox: [`InboxStore`].
    pub fn inbox(&self) -> &dyn InboxStore {
        self
    }

    /// The stream: [`StreamStore`].
    pub fn stream(&self) -> &dyn StreamStore {
        self
    }

    /// The routing: [`RoutingStore`].
    pub fn routing(&self) -> &dyn RoutingStore {
        self
    }

    /// The integrations: [`IntegrationStore`].
    pub fn integrations(&self) -> &dyn IntegrationStore {
        self
    }

    /// The orgs: [`OrgStore`].
    pub fn orgs(&self) -> &dyn OrgStore {
        self
    }

    /// The secrets: [`SecretStore`].
    pub fn secrets(&self) -> &dyn SecretStore {
        self
    }

    /// The users: [`UserStore`].
    pub fn users(&self) -> &dyn UserStore {
        self
    }

    /// The sessions: [`SessionStore`].
    pub fn sessions(&self) -> &dyn SessionStore {
        self
    }

    /// The invitations: [`InvitationStore`].
    pub fn invitations(&self) -> &dyn InvitationStore {
        self
    }

    /// The throttle: [`ThrottleStore`].
    pub fn throttle(&self) -> &dyn ThrottleStore {
        self
    }

    /// The audit: [`AuditStore`].
    pub fn audit(&self) -> &dyn AuditStore {
        self
    }

    /// The AMS connections: [`AmsStore`].
    pub fn ams(&self) -> &dyn AmsStore {
        self
    }

    /// The agents' notes and picks: [`NoteStore`].
    pub fn notes(&self) -> &dyn NoteStore {
        self
    }

    /// The sync outbox, transcripts, the purge and the retention report.
    pub fn sync(&self) -> &dyn SyncStore {
        self
    }

    /// Numbers by their blind index: erasure, SMS opt-outs: [`NumberStore`].
    pub fn numbers(&self) -> &dyn NumberStore {
        self
    }

    /// Each org's summarizer endpoint: [`SummarizerStore`].
    pub fn summarizers(&self) -> &dyn SummarizerStore {
        self
    }

    /// An agent's own call history: [`HistoryStore`].
    pub fn history(&self) -> &dyn HistoryStore {
        self
    }

    /// Ending an account: terminate, restore, shred: [`TerminationStore`].
    pub fn terminations(&self) -> &dyn TerminationStore {
        self
    }
}

/// Sets the connection's pragmas; returns the journal mode SQLite actually chose.
fn configure(conn: &Connection) -> rusqlite::Result<String> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The webhook path runs a dozen statements per event: compiled once, kept (rusqlite's
    // default cache holds 16).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // journal_mode answers with a row, so it goes through query_row.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA synchronous = FULL;
         PRAGMA trusted_schema = OFF;",
    )?;
    Ok(mode)
}

/// The reader's settings: `query_only` makes any write through it an error.
fn configure_reader(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(
        "PRAGMA query_only = ON;
         PRAGMA trusted_schema = OFF;",
    )
}

fn ensure_data_dir(dir: &Path) -> Result<(), Error> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::DataDir {
            path: dir.to_owned(),
            message: format!("cannot create it: {e}"),
        })
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A store on a real file in a fresh temporary folder.
    pub(crate) fn store() -> (tempfile::TempDir, Store) {
        store_at(ringside_core::FakeClock::new(
            time::macros::datetime!(2026-11-23 09:00 UTC),
        ))
    }

    /// [`store`] on a clock the test moves.
    pub(crate) fn store_at(clock: ringside_core::FakeClock) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Arc::new(clock)).unwrap();
        (dir, store)
    }
}
#[cfg(test)]
mod call_tests;
#[cfg(test)]
mod identity_tests;
#[cfg(test)]
mod integration_tests;
#[cfg(test)]
mod number_tests;
#[cfg(test)]
mod routing_tests;
#[cfg(test)]
mod termination_tests;
#[cfg(test)]
mod tests;
