//! The relay's error type. Each variant's message is written for the operator reading it; none
//! contains personal data or key material.

/// Why the relay could not start, or a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value was refused.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be opened or queried.
    #[error(transparent)]
    Store(#[from] ringside_store::Error),
    /// The master key could not be loaded, stored or used.
    #[error("master key: {0}")]
    Vault(#[from] ringside_vault::Error),
    /// An identity operation was refused (bad address, address already a user, ...).
    #[error("{0}")]
    Auth(ringside_identity::AuthError),
    /// An AMS connection was refused or failed (the kind, URL or credentials; a test's failure).
    #[error("AMS: {0}")]
    Ams(#[from] ringside_ams::AmsError),
    /// The command line asked for something that cannot be done as given (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// A stored integration cannot be used (its provider, settings or secret is unreadable).
    #[error("integration {integration}: unusable {what}")]
    Integration {
        /// Which integration.
        integration: ringside_core::IntegrationId,
        /// What of it: "provider", "settings" or "secret".
        what: &'static str,
    },
    /// A value could not be encoded for storage.
    #[error("encoding {what}: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// A task on the blocking pool or the runtime did not finish (it panicked or was cancelled).
    #[error("{what} did not finish: {reason}")]
    Task {
        /// Which task.
        what: &'static str,
        /// The runtime's word on why.
        reason: String,
    },
    /// `ringside-relay listen` failed.
    #[error(transparent)]
    Listen(#[from] crate::commands::listen::ListenError),
    /// `ringside-relay simulate` failed.
    #[error(transparent)]
    Simulate(Box<crate::commands::simulate::SimulateError>),
    /// A socket or file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

impl From<ringside_identity::AuthError> for Error {
    /// Internal causes surface as what they are (the operator needs the database or key error);
    /// refusals keep their own message.
    fn from(err: ringside_identity::AuthError) -> Self {
        use ringside_identity::error::Internal;
        match err {
            ringside_identity::AuthError::Internal(Internal::Store(e)) => Self::Store(e),
            ringside_identity::AuthError::Internal(Internal::Vault(e)) => Self::Vault(e),
            other => Self::Auth(other),
        }
    }
}

impl Error {
    /// The process exit code for this error: 2 for input the operator must change (as a bad
    /// flag or configuration key), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Usage(_) | Self::Ams(ringside_ams::AmsError::Config { .. }) => {
                2
            }
            _ => 1,
        }
    }
}

impl From<crate::commands::simulate::SimulateError> for Error {
    fn from(err: crate::commands::simulate::SimulateError) -> Self {
        Self::Simulate(Box::new(err))
    }
}

impl Error {
    /// `Task` for a join error of `what`.
    pub(crate) fn task(what: &'static str) -> impl FnOnce(tokio::task::JoinError) -> Self {
        move |failed| Self::Task {
            what,
            reason: failed.to_string(),
        }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// Runs synchronous store work (SQLite, sealing) on the runtime's blocking pool. A task that did
/// not finish (it panicked) is [`Error::Task`] naming `what`.
pub(crate) async fn on_blocking_pool<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|failed| Err(Error::task(what)(failed)))
}
