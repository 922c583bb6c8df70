//! What [`AuthService`](super::AuthService)'s methods take and return. Tokens and personal data
//! are wrapped ([`SecretToken`], [`Pii`]) so `Debug` and logs never show them.

use std::net::IpAddr;

use ringside_core::{DeviceId, InvitationId, OrgId, Pii, Role, SessionId, UserId};
use time::OffsetDateTime;

use ringside_store::RevokeReason;

use crate::tokens::SecretToken;

/// What a session revocation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationScope {
    /// One session.
    Session(SessionId),
    /// Every session of the user.
    AllSessions,
}

/// Published on the revocation channel after the revocation is committed: the WebSocket hub
/// closes the matching streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// The user's org.
    pub org: OrgId,
    /// Whose sessions.
    pub user: UserId,
    /// Which.
    pub scope: RevocationScope,
    /// Why: the stream's `session_revoked` says it (`user_disabled`, `revoked_by_admin`, …), so
    /// the app can tell its user.
    pub reason: RevokeReason,
}

/// The device a sign-in comes from.
#[derive(Debug, Clone, Copy)]
pub struct DeviceInfo<'a> {
    /// The name the client gives (e.g. the computer's name): personal data, stored sealed.
    pub name: &'a str,
    /// The device token from an earlier sign-in on this device, if the client has one.
    pub token: Option<&'a str>,
}

/// A sign-in attempt. `email` and `password` are what the person typed.
#[derive(Debug, Clone, Copy)]
pub struct LoginRequest<'a> {
    /// Email address.
    pub email: &'a str,
    /// Password.
    pub password: &'a str,
    /// A TOTP or recovery code, if the client already asked for one.
    pub second_factor: Option<&'a str>,
    /// The client's address (per-IP limit, audit).
    pub ip: IpAddr,
    /// The device.
    pub device: DeviceInfo<'a>,
}

/// A new session's tokens. `Debug` redacts the tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The session.
    pub session: SessionId,
    /// Who signed in.
    pub user: UserId,
    /// Their org.
    pub org: OrgId,
    /// Their role.
    pub role: Role,
    /// Bearer token for API calls.
    pub access_token: SecretToken,
    /// When it stops working (refresh before).
    pub access_expires_at: OffsetDateTime,
    /// Token to get the next pair; single use.
    pub refresh_token: SecretToken,
    /// When the refresh token stops working if unused (idle timeout, capped by the session end).
    pub refresh_expires_at: OffsetDateTime,
    /// The session's absolute end.
    pub session_expires_at: OffsetDateTime,
    /// A new device token, on the first sign-in from a device: keep it (OS keychain) and send it
    /// with later sign-ins. `None` when the client already presented a valid one.
    pub device_token: Option<SecretToken>,
    /// Whether the user has a second factor.
    pub mfa_enrolled: bool,
    /// What they may not do until they enrol one.
    pub mfa_required_for: MfaScope,
}

/// The result of a password check.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Signed in.
    SignedIn(Box<Tokens>),
    /// The password was right and the account has a second factor: send a code with the
    /// challenge to [`AuthService::verify_second_factor`](crate::AuthService::verify_second_factor).
    NeedsSecondFactor {
        /// Single use; expires at `expires_at`.
        challenge: SecretToken,
        /// When the challenge stops working.
        expires_at: OffsetDateTime,
    },
}

impl LoginOutcome {
    /// A stable code for the HTTP layer: `signed_in` or `second_factor_required`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SignedIn(_) => "signed_in",
            Self::NeedsSecondFactor { .. } => "second_factor_required",
        }
    }
}

/// What a user without a second factor may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaScope {
    /// Nothing is held back (enrolled, or not required).
    Nothing,
    /// Owners and admins: every permission an agent does not have.
    AdminPermissions,
    /// The org requires it of everyone: every permission.
    Everything,
}

/// The authenticated caller of a request. Only
/// [`AuthService::authenticate`](crate::AuthService::authenticate) makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    /// Who.
    pub user: UserId,
    /// Their org: every query the request makes is scoped to it.
    pub org: OrgId,
    /// Their role now (read on every request, so a role change applies at once).
    pub role: Role,
    /// The session.
    pub session: SessionId,
    /// The session's device.
    pub device: DeviceId,
    /// When the second factor was last verified in this session.
    pub mfa_verified_at: Option<OffsetDateTime>,
    /// Whether the user has a second factor.
    pub mfa_enrolled: bool,
    /// What is held back until they enrol one.
    pub mfa_required_for: MfaScope,
    /// Their org is terminated: it is read-only (the HTTP layer refuses every change).
    pub org_terminated: bool,
    /// Where the request came from, for the audit entries it writes (set by the HTTP layer with
    /// [`Principal::from_ip`]).
    pub source_ip: Option<IpAddr>,
}

impl Principal {
    /// The same caller, acting from `ip`: every audit entry of the request records it.
    #[must_use]
    pub fn from_ip(mut self, ip: IpAddr) -> Self {
        self.source_ip = Some(ip);
        self
    }
}

/// A session as its owner (or an admin) sees it.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// Id.
    pub id: SessionId,
    /// Device id.
    pub device: DeviceId,
    /// Device name.
    pub device_name: Pii<String>,
    /// Signed in at.
    pub created_at: OffsetDateTime,
    /// Last activity (to within a minute).
    pub last_seen_at: OffsetDateTime,
    /// Absolute end.
    pub expires_at: OffsetDateTime,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// A user as the team list and "me" show them.
#[derive(Debug, Clone)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Email address.
    pub email: Pii<String>,
    /// Display name.
    pub display_name: Pii<String>,
    /// Role.
    pub role: Role,
    /// Whether they may sign in.
    pub active: bool,
    /// Whether they have a second factor.
    pub mfa_enrolled: bool,
    /// Joined at.
    pub created_at: OffsetDateTime,
}

/// A new invitation: the code is shown once, to whoever sends it on.
#[derive(Debug, Clone)]
pub struct CreatedInvitation {
    /// The invitation's id (for lists and revocation).
    pub id: InvitationId,
    /// The org.
    pub org: OrgId,
    /// The secret code.
    pub code: SecretToken,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A pending invitation, for the admin's list.
#[derive(Debug, Clone)]
pub struct InvitationView {
    /// Id.
    pub id: InvitationId,
    /// Invited address.
    pub email: Pii<String>,
    /// Role to be granted.
    pub role: Role,
    /// Who invited (`None`: the operator).
    pub invited_by: Option<UserId>,
    /// Expires at.
    pub expires_at: OffsetDateTime,
}

/// The user an accepted invitation created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedInvitation {
    /// The new user.
    pub user: UserId,
    /// Their org.
    pub org: OrgId,
    /// Their role.
    pub role: Role,
}

/// Recovery codes, shown once.
#[derive(Debug, Clone)]
pub struct RecoveryCodes(pub Vec<Pii<String>>);
