//! The one error type every command returns.
//!
//! It crosses IPC as `{"code": "...", "message": "..."}`: the UI switches on `code` (stable,
//! snake_case) and shows `message` to people; it never parses messages. The UI's side of this
//! contract is `BackendError` in `ui/src/lib/backend.ts`.

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The UI sent something the command cannot accept; the message says what, for people.
    #[error("{0}")]
    InvalidInput(String),
    /// Something failed inside the app (Tauri, the OS, a bug), not because of what the user did.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The machine-readable kind of an [`Error`], as the UI sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    InvalidInput,
    Internal,
}

impl Error {
    /// The code the UI switches on.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidInput(_) => Code::InvalidInput,
            Self::Internal(_) => Code::Internal,
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
        let mut ipc = serializer.serialize_struct("Error", 2)?;
        ipc.serialize_field("code", &self.code())?;
        ipc.serialize_field("message", &self.to_string())?;
        ipc.end()
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
}
