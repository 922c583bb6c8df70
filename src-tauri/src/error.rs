//! The one error type every command returns.
//!
//! It crosses IPC as `{"code": "...", "message": "..."}` ([`ringside_core::wire::IpcError`], whose
//! TypeScript twin the UI imports): the UI switches on `code` (stable, snake_case) and shows
//! `message` to people; it never parses messages. The UI's side of this contract is
//! `BackendError` in `ui/src/lib/backend.ts`.

use ringside_core::wire::IpcError;
use serde::{Serialize, Serializer};

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The UI sent something the command cannot accept; the message says what, for people.
    #[error("{0}")]
    InvalidInput(String),
    /// Something failed inside the app (Tauri, the OS, a bug), not because of what the user did.
    #[error("internal error: {0}")]
    Internal(String),
    /// The app's logic said no (`ringside-desktop-core`): its own code.
    #[error(transparent)]
    App(#[from] ringside_desktop_core::Error),
}

impl Error {
    /// The error as it crosses IPC.
    pub fn to_ipc(&self) -> IpcError {
        match self {
            Self::App(err) => err.to_ipc(),
            Self::InvalidInput(_) => IpcError {
                code: "invalid_input".to_owned(),
                message: self.to_string(),
            },
            Self::Internal(_) => IpcError {
                code: "internal".to_owned(),
                message: self.to_string(),
            },
        }
    }
}

impl From<tauri::Error> for Error {
    fn from(error: tauri::Error) -> Self {
        Self::Internal(error.to_string())
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_ipc().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_error_crosses_ipc_as_a_code_and_a_message() {
        let error = Error::InvalidInput("phone number is empty".to_owned());
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({"code": "invalid_input", "message": "phone number is empty"}),
            "the UI reads exactly these two fields"
        );
    }

    #[test]
    fn a_tauri_failure_becomes_an_internal_error() {
        let error = Error::from(tauri::Error::WindowNotFound);
        let ipc = serde_json::to_value(&error).unwrap();
        assert_eq!(
            ipc["code"], "internal",
            "failures inside the app are not the user's input"
        );
        assert!(
            ipc["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("internal error: ")),
            "the message says it is internal: {ipc}"
        );
    }

    #[test]
    fn the_apps_own_refusals_keep_their_code() {
        let error = Error::from(ringside_desktop_core::Error::NotReady(
            "choose a relay first",
        ));
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({"code": "not_ready", "message": "choose a relay first"})
        );
    }
}
