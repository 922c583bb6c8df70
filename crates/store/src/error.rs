//! The one error type of `ringside-store`. Messages name tables, versions and paths — never
//! values, which may be personal data.

use std::path::PathBuf;

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data folder or database file could not be created or opened.
    #[error("cannot open the database at {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The data folder could not be created or has unsafe permissions.
    #[error("data folder {path}: {message}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The database was written by a newer relay; running an older one against it could corrupt
    /// it, so we stop.
    #[error(
        "the database schema is version {found}, newer than this relay supports ({supported}): \
         upgrade ringside-relay, or restore the backup taken before the upgrade"
    )]
    SchemaTooNew {
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// An applied migration's SQL differs from the embedded one: released migrations must never
    /// be edited.
    #[error(
        "migration {version:04} ({name}) was edited after it was applied; add a new migration instead"
    )]
    MigrationEdited {
        /// Its number.
        version: u32,
        /// Its name.
        name: &'static str,
    },
    /// The database records a migration this build does not embed.
    #[error("migration {version:04} is recorded as applied but unknown to this build")]
    MigrationMissing {
        /// Its number.
        version: u32,
    },
    /// A migration failed; nothing was applied.
    #[error("migration {version:04} ({name}) failed, nothing was changed: {source}")]
    MigrationFailed {
        /// Its number.
        version: u32,
        /// Its name.
        name: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A row that should exist does not (or belongs to another org).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is already taken (e.g. an email address that already belongs to a user).
    #[error("{0} already in use")]
    Conflict(&'static str),
    /// The change would leave the organisation without an active owner.
    #[error("an organisation must keep at least one active owner")]
    LastOwner,
    /// A route or a routing fallback was refused before anything was written: its user cannot
    /// take calls, its integration is revoked, or its value is malformed (never quoted).
    #[error("routing refused: {0}")]
    Routing(crate::RoutingRefusal),
    /// Sealing or opening failed, or a key could not be unwrapped.
    #[error(transparent)]
    Vault(#[from] ringside_vault::Error),
    /// Any other SQLite error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// An audit entry was refused before anything was written: a field is not a code-chosen
    /// name, an id or a count. The value is never repeated (it may be the very personal data
    /// being kept out of the log).
    #[error("audit entry refused: `{field}` {reason}")]
    InvalidAuditEntry {
        /// The field, or the detail key.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The audit log failed verification: the first bad entry number and what is wrong there.
    #[error("audit log verification failed: {0}")]
    AuditViolation(crate::AuditViolation),
    /// A stored audit entry cannot be read back (a value outside its set); run `audit verify`.
    #[error("audit entry {seq} is unreadable ({what}); run `ringside-relay audit verify`")]
    AuditCorrupt {
        /// Its number.
        seq: crate::AuditSeq,
        /// Which field.
        what: &'static str,
    },
    /// Writing an audit export failed (for example, its output was closed).
    #[error("writing the audit export failed: {0}")]
    Export(#[source] std::io::Error),
}
