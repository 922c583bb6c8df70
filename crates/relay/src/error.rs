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
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
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
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}
