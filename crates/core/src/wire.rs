//! The wire protocol: every type that crosses a process boundary (HTTP API, WebSocket, Tauri IPC)
//! is defined here once, and the UI's TypeScript types are generated from these definitions.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod admin;
mod ams;
mod audit;
mod auth;
mod desktop;
mod routing;
mod stream;
mod summarizer;
mod sync;

pub use admin::{
    AuditLogPage, AuditQuery, CreateIntegrationRequest, CreateInvitationRequest,
    IntegrationApiKeyRequest, IntegrationCreated, IntegrationInfo, IntegrationList,
    InvitationCreated, InvitationInfo, InvitationList, MfaPolicyRequest, SetRoleRequest, UserList,
};
pub use ams::{AmsCredentials, AmsStatus, AmsStatusResponse, AmsTestResult, ConnectAmsRequest};
pub use audit::{Actor, ActorKind, AuditOutcome, AuditRecord};
pub use auth::{
    AcceptInvitationRequest, ChangePasswordRequest, CodeRequest, LoginRequest, LoginResponse, Me,
    MfaRequirement, RecoveryCodes, RefreshRequest, SecondFactorRequest, Secret, SessionInfo,
    SessionList, SessionTokens, SessionsEnded, TotpEnrollment, UserInfo,
};
pub use desktop::{
    Board, ConnectionStatus, IpcError, MissedCall, Overview, PopCard, PopOn, PopSettings,
    SignInStep, TotpSetup,
};
pub use routing::{CreateRouteRequest, Fallback, RouteInfo, RouteKind, RouteList, RouteMatch};
pub use stream::{
    CallNoteRequest, CallPickRequest, CallState, CallStateChange, ClientMessage, Contact,
    Direction, Hello, MatchState, Notice, Pop, PopGone, PopUpdate, RecordKind, ServerMessage,
    SessionRevoked, Sms, StreamError, StreamTicket, close,
};
pub use summarizer::{SetSummarizerRequest, SummarizerSettings};
pub use sync::{
    EraseReport, EraseRequest, Leaderboard, LeaderboardEntry, LeaderboardQuery, MyCall, MyCallList,
    MyNote, MyNoteList, RetentionKind, RetentionReport, SyncEntry, SyncEntryList, TerminateReport,
    TerminateRequest,
};

/// The version of the relay <-> client protocol (HTTP API and WebSocket messages). A client and a
/// relay with different versions refuse each other with a clear message rather than misparse.
pub const PROTOCOL_VERSION: u32 = 1;

/// What a program says about itself: shown in the desktop app's About box, returned by the relay's
/// `/healthz`, printed by `--version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BuildInfo {
    /// Program name, e.g. `ringside-relay` or `ringside-desktop`.
    pub name: String,
    /// Semantic version of the program.
    pub version: String,
    /// The protocol version it speaks ([`PROTOCOL_VERSION`]).
    pub protocol_version: u32,
    /// The target triple's OS and architecture, e.g. `linux-x86_64`.
    pub platform: String,
}

impl BuildInfo {
    /// Build info for the calling program; pass `env!("CARGO_PKG_NAME")` and
    /// `env!("CARGO_PKG_VERSION")` so the values are the caller's, not this crate's.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            protocol_version: PROTOCOL_VERSION,
            platform: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}
