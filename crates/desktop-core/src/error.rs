//! The one error of the desktop's logic, with the stable code the UI switches on
//! ([`ringside_core::wire::IpcError`]).

use ringside_client::ClientError;
use ringside_core::wire::IpcError;

use crate::keychain::KeychainError;

/// A failed step of the app's logic.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What the person typed cannot be used; the message says what.
    #[error("{0}")]
    InvalidInput(String),
    /// No relay chosen yet, or no session for what was asked.
    #[error("{0}")]
    NotReady(&'static str),
    /// The relay said no, or could not be reached.
    #[error(transparent)]
    Relay(#[from] ClientError),
    /// The keychain.
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    /// The profile folder.
    #[error("the profile folder: {0}")]
    Profile(#[from] std::io::Error),
}

impl Error {
    /// The stable code: the relay's own (`invalid_credentials`, `invitation_invalid`, …) when it
    /// answered with one.
    #[must_use]
    pub fn code(&self) -> String {
        match self {
            Self::InvalidInput(_) => "invalid_input".to_owned(),
            Self::NotReady(_) => "not_ready".to_owned(),
            Self::Relay(err) => err.code().map_or_else(
                || match err {
                    ClientError::InvalidUrl(_) => "invalid_input".to_owned(),
                    _ => "unreachable".to_owned(),
                },
                str::to_owned,
            ),
            Self::Keychain(KeychainError::Unavailable(_)) => "no_secure_keychain".to_owned(),
            Self::Keychain(KeychainError::Unreadable) => "keychain_unreadable".to_owned(),
            Self::Profile(_) => "internal".to_owned(),
        }
    }

    /// The error as it crosses IPC.
    #[must_use]
    pub fn to_ipc(&self) -> IpcError {
        IpcError {
            code: self.code(),
            message: self.to_string(),
        }
    }
}
