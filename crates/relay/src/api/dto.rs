//! The identity core's results as the wire types of `ringside_core::wire` — the one definition
//! of the API's bodies, shared with the desktop app and its generated TypeScript.
//!
//! Only shapes change here. Secrets leave their zeroizing wrappers for `Pii<String>`, which
//! zeroizes too and never prints.

use ringside_core::Pii;
use ringside_core::wire::{
    InvitationInfo, LoginResponse, MfaRequirement, SessionInfo, SessionTokens, TotpEnrollment,
    UserInfo,
};

use ringside_identity::{
    InvitationView, LoginOutcome, MfaScope, Provisioning, SecretToken, SessionView, Tokens,
    UserView,
};

fn secret(token: &SecretToken) -> Pii<String> {
    Pii::new(token.expose().to_owned())
}

pub(crate) fn mfa_requirement(scope: MfaScope) -> MfaRequirement {
    match scope {
        MfaScope::Nothing => MfaRequirement::Nothing,
        MfaScope::AdminPermissions => MfaRequirement::AdminPermissions,
        MfaScope::Everything => MfaRequirement::Everything,
    }
}

pub(crate) fn session_tokens(t: &Tokens) -> SessionTokens {
    SessionTokens {
        session_id: t.session,
        user_id: t.user,
        org_id: t.org,
        role: t.role,
        access_token: secret(&t.access_token),
        access_expires_at: t.access_expires_at,
        refresh_token: secret(&t.refresh_token),
        refresh_expires_at: t.refresh_expires_at,
        session_expires_at: t.session_expires_at,
        device_token: t.device_token.as_ref().map(secret),
        mfa_enrolled: t.mfa_enrolled,
        mfa_required_for: mfa_requirement(t.mfa_required_for),
    }
}

pub(crate) fn login_response(outcome: &LoginOutcome) -> LoginResponse {
    match outcome {
        LoginOutcome::SignedIn(tokens) => LoginResponse::SignedIn(session_tokens(tokens)),
        LoginOutcome::NeedsSecondFactor {
            challenge,
            expires_at,
        } => LoginResponse::SecondFactorRequired {
            challenge: secret(challenge),
            expires_at: *expires_at,
        },
    }
}

pub(crate) fn user_info(u: UserView) -> UserInfo {
    UserInfo {
        id: u.id,
        email: u.email,
        display_name: u.display_name,
        role: u.role,
        active: u.active,
        mfa_enrolled: u.mfa_enrolled,
        created_at: u.created_at,
    }
}

pub(crate) fn session_info(s: SessionView) -> SessionInfo {
    SessionInfo {
        id: s.id,
        device_id: s.device,
        device_name: s.device_name,
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
        current: s.current,
    }
}

pub(crate) fn invitation_info(i: InvitationView) -> InvitationInfo {
    InvitationInfo {
        id: i.id,
        email: i.email,
        role: i.role,
        invited_by: i.invited_by,
        expires_at: i.expires_at,
    }
}

pub(crate) fn totp_enrollment(p: Provisioning) -> TotpEnrollment {
    TotpEnrollment {
        secret_base32: p.secret_base32,
        otpauth_uri: p.otpauth_uri,
    }
}

/// A count as the wire's `u32` (session counts are tiny; saturate rather than wrap).
pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
