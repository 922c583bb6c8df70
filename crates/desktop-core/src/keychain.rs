//! The session's tokens, kept only in the OS keychain (`keyring`: the Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows) — never in the profile folder, never in the
//! webview.
//!
//! Why refuse rather than fall back: a plaintext token file is a session anyone with the disk
//! can use. If no keychain can be reached (no Secret Service on the session bus), the app says
//! so ([`KeychainError::Unavailable`]) and keeps no session: the agent signs in each time.
//!
//! One entry per relay and profile (`user` = `{relay URL} {profile id}`), so several instances
//! and test profiles never share a session. The value is the tokens' JSON, wiped from memory
//! after use. A second entry per profile holds the key of its pop cache ([`Keychain::cache_key`]).

use ringside_core::wire::SessionTokens;
use ringside_vault::LocalKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The keychain service every entry of the app is filed under.
pub const SERVICE: &str = "ringside-desktop";

/// Why the keychain could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// No secure keychain is reachable: no session is kept.
    #[error("no secure keychain is available ({0}); sign-ins are not remembered")]
    Unavailable(String),
    /// An entry exists but is not one this app wrote.
    #[error("the keychain entry is unreadable")]
    Unreadable,
}

/// What is kept of a signed-in session: its tokens, the device token of the first sign-in from
/// this device among them.
#[derive(Clone, Serialize, Deserialize)]
pub struct Saved {
    /// The session's tokens.
    pub tokens: SessionTokens,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved")
            .field("session", &self.tokens.session_id)
            .finish_non_exhaustive()
    }
}

/// The keychain entry of one relay and profile.
#[derive(Debug, Clone)]
pub struct Keychain {
    user: String,
}

fn unavailable(err: &keyring::Error) -> KeychainError {
    KeychainError::Unavailable(err.to_string())
}

impl Keychain {
    /// The entry for `relay` in the profile `profile_id`.
    #[must_use]
    pub fn new(relay: &str, profile_id: &str) -> Self {
        Self {
            user: format!("{relay} {profile_id}"),
        }
    }

    fn entry(&self) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(SERVICE, &self.user).map_err(|e| unavailable(&e))
    }

    /// Keeps `saved`, replacing what was there.
    ///
    /// # Errors
    /// [`KeychainError::Unavailable`] when no keychain can be reached.
    pub fn save(&self, saved: &Saved) -> Result<(), KeychainError> {
        let json =
            Zeroizing::new(serde_json::to_string(saved).map_err(|_| KeychainError::Unreadable)?);
        self.entry()?
            .set_password(&json)
            .map_err(|e| unavailable(&e))
    }

    /// What was kept, if anything.
    ///
    /// # Errors
    /// [`KeychainError::Unavailable`] when no keychain can be reached;
    /// [`KeychainError::Unreadable`] for an entry this app did not write.
    pub fn load(&self) -> Result<Option<Saved>, KeychainError> {
        match self.entry()?.get_password() {
            Ok(json) => {
                let json = Zeroizing::new(json);
                serde_json::from_str(&json)
                    .map(Some)
                    .map_err(|_| KeychainError::Unreadable)
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(&e)),
        }
    }

    /// Deletes the entry (sign-out); nothing there is fine.
    ///
    /// # Errors
    /// [`KeychainError::Unavailable`] when no keychain can be reached.
    pub fn forget(&self) -> Result<(), KeychainError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(&e)),
        }
    }

    /// The key that seals the pop cache of the profile `profile_id` ([`crate::cache`]), made
    /// on first use. An entry that does not read as a key is replaced: only the cache it sealed
    /// is lost.
    ///
    /// # Errors
    /// [`KeychainError::Unavailable`] when no keychain can be reached (then nothing is cached).
    pub fn cache_key(profile_id: &str) -> Result<LocalKey, KeychainError> {
        let entry = keyring::Entry::new(SERVICE, &format!("pop-cache {profile_id}"))
            .map_err(|e| unavailable(&e))?;
        match entry.get_password() {
            Ok(text) => {
                let text = Zeroizing::new(text);
                if let Ok(key) = LocalKey::from_text(&text, "the pop cache's keychain entry") {
                    return Ok(key);
                }
            }
            Err(keyring::Error::NoEntry) => {}
            Err(e) => return Err(unavailable(&e)),
        }
        let key = LocalKey::generate();
        entry
            .set_password(&key.to_text())
            .map_err(|e| unavailable(&e))?;
        Ok(key)
    }

    /// Whether a real keychain answers: a probe entry is written, read back and deleted.
    ///
    /// # Errors
    /// [`KeychainError::Unavailable`] when it does not.
    pub fn probe() -> Result<(), KeychainError> {
        let entry = keyring::Entry::new(SERVICE, "probe").map_err(|e| unavailable(&e))?;
        entry.set_password("ok").map_err(|e| unavailable(&e))?;
        let read = entry.get_password().map_err(|e| unavailable(&e))?;
        entry.delete_credential().map_err(|e| unavailable(&e))?;
        if read == "ok" {
            Ok(())
        } else {
            Err(KeychainError::Unavailable(
                "the probe read back wrong".to_owned(),
            ))
        }
    }
}
