//! The sync worker's one error type. No variant carries personal data: ids, codes and the
//! underlying store or AMS error (which carry none either).

/// Why a sync step failed (the attempt is retried or left for the next pass).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ringside_store::Error),
    /// The org's AMS connection is unusable (its stored settings cannot be read as one).
    #[error(transparent)]
    Ams(#[from] ringside_ams::AmsError),
    /// A blocking task panicked or was cancelled.
    #[error("a sync task stopped unexpectedly")]
    Task,
}
