//! What the desktop app's Rust side tells its UI over IPC (`src-tauri`): the connection's
//! status, the pops on screen and the missed calls, and the one error shape every command
//! rejects with. The UI renders these and never rebuilds them from stream messages itself, so
//! the rules (dedupe by `seq`, a dismissed pop never comes back, the stacking cap) live in Rust
//! (`ringside-desktop-core`) and are tested without a webview.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{CallState, Direction, MatchState};
use crate::{CallId, Pii, PopId};

/// Where the app's connection to the relay stands: always on screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum ConnectionStatus {
    /// No session: the onboarding or sign-in screen.
    SignedOut,
    /// Signed in, the stream opening.
    Connecting,
    /// Live: pops arrive as they happen.
    Connected,
    /// The connection dropped; the next attempt is in `in_secs`.
    Reconnecting {
        /// Seconds until the next attempt.
        in_secs: u32,
    },
    /// The relay cannot be reached at all (a wrong address, no network).
    Unreachable,
    /// Signed in, but the org requires a second factor of everyone and this user has none:
    /// no pops until they set one up (the enrolment screen).
    SecondFactorRequired,
    /// An admin (or the user elsewhere) ended the session; `reason` says why.
    Revoked {
        /// The relay's reason (`revoked`, `user_disabled`, …).
        reason: String,
    },
}

/// One pop as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PopCard {
    /// The pop.
    pub pop_id: PopId,
    /// Its call.
    pub call_id: CallId,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The caller's number formatted for reading (`(617) 555-0199`); absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub number: Option<Pii<String>>,
    /// The caller-id name, when the provider sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub caller_name: Option<Pii<String>>,
    /// The call's state now.
    pub state: CallState,
    /// The AMS match now.
    #[serde(rename = "match")]
    pub match_state: MatchState,
    /// The record the agent picked among several, when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub picked: Option<String>,
    /// The number asked not to be texted.
    pub sms_opted_out: bool,
    /// When the pop was made (RFC 3339).
    pub created_at: String,
}

/// The pops on screen: the newest first, at most the cap; the older ones only counted (the
/// "+N" line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Board {
    /// The pops shown, newest first.
    pub cards: Vec<PopCard>,
    /// How many older live pops are collapsed behind them (while paused: how many wait).
    pub collapsed: u32,
    /// Calls the agent missed (rang, never answered), newest first.
    pub missed: Vec<MissedCall>,
    /// The agent paused pops (from the tray or the window): none is shown or announced until
    /// they resume; the live ones wait, and still leave at their expiry.
    pub paused: bool,
}

/// A call that rang for the agent and was not answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MissedCall {
    /// The call.
    pub call_id: CallId,
    /// The number as it may still be shown: formatted while the pop lives, `***-***-1234`
    /// after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub number: Option<String>,
    /// When it rang (RFC 3339).
    pub at: String,
    /// Whether the agent marked it seen.
    pub seen: bool,
}

/// Every command's failure, as the UI receives it: a stable `code` to switch on and a
/// `message` for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IpcError {
    /// `invalid_input`, `internal`, `no_secure_keychain`, `unreachable`, or the relay's own code
    /// (`invalid_credentials`, `step_up_required`, …).
    pub code: String,
    /// What to tell the person.
    pub message: String,
}

/// What the app's first screen needs: which relay, whether tokens can be kept, the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Overview {
    /// The relay this profile signs in to, once chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub relay: Option<String>,
    /// The relay is reached over plain http (allowed to this machine only): show a warning.
    pub insecure_relay: bool,
    /// Why sign-ins cannot be remembered (no secure keychain), when that is so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub keychain_problem: Option<String>,
    /// The connection.
    pub status: ConnectionStatus,
    /// The signed-in user must set up a second factor (their role or the org requires it):
    /// show the enrolment screen.
    pub second_factor_due: bool,
}

/// When a call's pop appears.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PopOn {
    /// As soon as it rings (the default: the agent sees who it is before picking up).
    #[default]
    Ring,
    /// Once the agent answers (for agents who only want the card of the call they took).
    Answer,
}

/// What the agent chose about pops (the Settings screen), kept in the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct PopSettings {
    /// Pops shown before older ones collapse into "+N" (1–10).
    pub cap: u8,
    /// When a pop appears.
    pub pop_on: PopOn,
    /// Close a pop when its call ends.
    pub close_on_hang_up: bool,
    /// A short tone when a pop appears.
    pub sound: bool,
    /// A desktop notification when a pop appears (it names no caller: notification centres
    /// keep their history longer than a pop's 5 minutes).
    pub notifications: bool,
}

impl PopSettings {
    /// The cap unless the agent chose another.
    pub const DEFAULT_CAP: u8 = 3;
    /// The highest cap.
    pub const MAX_CAP: u8 = 10;
}

impl Default for PopSettings {
    fn default() -> Self {
        Self {
            cap: Self::DEFAULT_CAP,
            pop_on: PopOn::Ring,
            close_on_hang_up: false,
            sound: true,
            notifications: true,
        }
    }
}

/// A TOTP enrolment in progress, for the enrolment screen: the QR code drawn here (no image
/// leaves the machine) and the same secret as text, for typing into an authenticator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TotpSetup {
    /// The base32 secret in groups of four, for typing.
    #[ts(type = "string")]
    pub secret: Pii<String>,
    /// The `otpauth://` URI as an SVG QR code.
    #[ts(type = "string")]
    pub qr_svg: Pii<String>,
}

/// What a sign-in step answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SignInStep {
    /// Signed in: the stream is opening.
    SignedIn,
    /// The account has a second factor: ask for the code.
    SecondFactor,
}
