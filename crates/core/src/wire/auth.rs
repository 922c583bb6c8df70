//! The HTTP API's sign-in and "me" bodies: invitation acceptance, sign-in with its second-factor
//! step, token refresh, one's own profile and sessions, TOTP enrolment and step-up
//! (`docs/api.md` walks through the flow).
//!
//! Why these shapes: every request refuses unknown fields (`deny_unknown_fields`), so a typo in a
//! client is a 422 rather than a silently ignored field. Everything a person typed or is shown —
//! addresses, names, device names — and every secret — passwords, codes, tokens — is a
//! [`Pii`], so no `Debug` of a request or a response can put it in a log. Times are RFC 3339 UTC
//! strings; ids are their text form (`usr_…`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{DeviceId, OrgId, Permission, Pii, Role, SessionId, UserId};

/// A credential — password, code, token — on the wire. It gets the same protection as personal
/// data: never printed (`Debug` shows `[redacted]`), zeroized when dropped.
pub type Secret = Pii<String>;

/// `POST /v1/auth/login`: the first step of signing in.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LoginRequest {
    /// The account's email address.
    #[schema(value_type = String, example = "pat@agency.example")]
    pub email: Pii<String>,
    /// The password.
    #[schema(value_type = String)]
    pub password: Secret,
    /// A TOTP or recovery code, when the client already knows one is needed; otherwise the
    /// answer is `second_factor_required` and the code goes to `/v1/auth/second-factor`.
    #[serde(default)]
    #[ts(optional)]
    #[schema(value_type = Option<String>)]
    pub second_factor: Option<Secret>,
    /// The device's name as its owner knows it (e.g. the computer's name), shown in session
    /// lists.
    #[schema(value_type = String, example = "Front desk PC")]
    pub device_name: Pii<String>,
    /// The `device_token` an earlier sign-in from this device returned: sign-in back-off is then
    /// counted for this device alone, so nobody else's failures can slow its owner down.
    #[serde(default)]
    #[ts(optional)]
    #[schema(value_type = Option<String>)]
    pub device_token: Option<Secret>,
}

/// `POST /v1/auth/second-factor`: completes a sign-in that answered `second_factor_required`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SecondFactorRequest {
    /// The `challenge` from the login answer (single use, expires after 5 minutes).
    #[schema(value_type = String)]
    pub challenge: Secret,
    /// A 6-digit TOTP code or one of the recovery codes.
    #[schema(value_type = String, example = "492039")]
    pub code: Secret,
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct RefreshRequest {
    /// The current refresh token. It is used up by this call; presenting it a second time ends
    /// the whole session.
    #[schema(value_type = String)]
    pub refresh_token: Secret,
}

/// `POST /v1/invitations/accept`: joins the organisation and signs in.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AcceptInvitationRequest {
    /// The invitation code (single use, expires after 72 hours).
    #[schema(value_type = String)]
    pub code: Secret,
    /// The name colleagues will see (1–100 characters).
    #[schema(value_type = String, example = "Pat Doe")]
    pub display_name: Pii<String>,
    /// The new password: at least 12 characters, not one of the most common passwords.
    #[schema(value_type = String)]
    pub password: Secret,
    /// The device's name, as in [`LoginRequest::device_name`].
    #[schema(value_type = String, example = "Front desk PC")]
    pub device_name: Pii<String>,
}

/// A TOTP or recovery code: `POST /v1/me/totp/confirm` and `POST /v1/me/step-up`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CodeRequest {
    /// The code.
    #[schema(value_type = String, example = "492039")]
    pub code: Secret,
}

/// `POST /v1/me/password`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    #[schema(value_type = String)]
    pub current_password: Secret,
    /// The new one (same policy as at acceptance).
    #[schema(value_type = String)]
    pub new_password: Secret,
}

/// What a user without a second factor is held back from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MfaRequirement {
    /// Nothing: enrolled, or not required.
    Nothing,
    /// Owners and admins: every permission an agent does not have, until they enrol.
    AdminPermissions,
    /// The org requires a second factor of everyone: every permission, until they enrol.
    Everything,
}

/// A signed-in session's tokens: the answer to sign-in, second factor, refresh and invitation
/// acceptance. Keep the tokens in the OS keychain, never in a file or a log.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SessionTokens {
    /// The session.
    #[schema(value_type = String)]
    pub session_id: SessionId,
    /// Who signed in.
    #[schema(value_type = String)]
    pub user_id: UserId,
    /// Their organisation.
    #[schema(value_type = String)]
    pub org_id: OrgId,
    /// Their role.
    pub role: Role,
    /// Send as `Authorization: Bearer <access_token>` on every API call.
    #[schema(value_type = String)]
    pub access_token: Secret,
    /// When the access token stops working: refresh before then.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub access_expires_at: OffsetDateTime,
    /// Exchanges for the next pair, once.
    #[schema(value_type = String)]
    pub refresh_token: Secret,
    /// When the refresh token stops working if unused (the idle timeout).
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub refresh_expires_at: OffsetDateTime,
    /// The session's absolute end, whatever the activity: sign in again after it.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub session_expires_at: OffsetDateTime,
    /// On the first sign-in from a device: keep it and send it with later sign-ins from this
    /// device. Absent when the client presented a valid one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[schema(value_type = Option<String>)]
    pub device_token: Option<Secret>,
    /// Whether the user has a second factor.
    pub mfa_enrolled: bool,
    /// What they may not do until they enrol one.
    pub mfa_required_for: MfaRequirement,
}

/// The answer to `POST /v1/auth/login`, told apart by `status`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
#[ts(export)]
pub enum LoginResponse {
    /// Signed in: the session's tokens.
    SignedIn(SessionTokens),
    /// The password was right and the account has a second factor: send a code with this
    /// challenge to `POST /v1/auth/second-factor`.
    SecondFactorRequired {
        /// Single use.
        #[schema(value_type = String)]
        challenge: Secret,
        /// When the challenge stops working.
        #[serde(with = "time::serde::rfc3339")]
        #[ts(type = "string")]
        expires_at: OffsetDateTime,
    },
}

/// A user as their colleagues' admins, and they themselves, see them.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UserInfo {
    /// Id.
    #[schema(value_type = String)]
    pub id: UserId,
    /// Email address.
    #[schema(value_type = String)]
    pub email: Pii<String>,
    /// Display name.
    #[schema(value_type = String)]
    pub display_name: Pii<String>,
    /// Role.
    pub role: Role,
    /// Whether they may sign in (`false`: disabled).
    pub active: bool,
    /// Whether they have a second factor.
    pub mfa_enrolled: bool,
    /// When they joined.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
}

/// `GET /v1/me`: who is signed in, and what they may do — the desktop app shows only that.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Me {
    /// The user.
    pub user: UserInfo,
    /// Their organisation.
    #[schema(value_type = String)]
    pub org_id: OrgId,
    /// The session making the request.
    #[schema(value_type = String)]
    pub session_id: SessionId,
    /// The permissions their role holds.
    pub permissions: Vec<Permission>,
    /// What they may not do until they enrol a second factor.
    pub mfa_required_for: MfaRequirement,
    /// When the second factor was last verified in this session (step-up lasts 10 minutes).
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub mfa_verified_at: Option<OffsetDateTime>,
}

/// A signed-in session, in a session list.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SessionInfo {
    /// Id (for revocation).
    #[schema(value_type = String)]
    pub id: SessionId,
    /// The device.
    #[schema(value_type = String)]
    pub device_id: DeviceId,
    /// The device's name.
    #[schema(value_type = String)]
    pub device_name: Pii<String>,
    /// Signed in at.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    /// Last activity (to within a minute).
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub last_seen_at: OffsetDateTime,
    /// The session's absolute end.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub expires_at: OffsetDateTime,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// A list of sessions, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SessionList {
    /// The live sessions.
    pub sessions: Vec<SessionInfo>,
}

/// How many sessions a revocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SessionsEnded {
    /// The count.
    pub ended: u32,
}

/// `POST /v1/me/totp`: what an authenticator app needs. Shown once; confirm with a first code
/// within 15 minutes.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct TotpEnrollment {
    /// The secret in base32, for typing into the app.
    #[schema(value_type = String)]
    pub secret_base32: Secret,
    /// The `otpauth://totp/…` URI, for the QR code.
    #[schema(value_type = String)]
    pub otpauth_uri: Secret,
}

/// `POST /v1/me/totp/confirm`: ten single-use recovery codes, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RecoveryCodes {
    /// Each works once, in place of a TOTP code.
    #[schema(value_type = Vec<String>)]
    pub recovery_codes: Vec<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> SessionTokens {
        SessionTokens {
            session_id: SessionId::random(),
            user_id: UserId::random(),
            org_id: OrgId::random(),
            role: Role::Agent,
            access_token: Pii::new("rsa_00".to_owned()),
            access_expires_at: time::macros::datetime!(2026-11-23 09:15 UTC),
            refresh_token: Pii::new("rsr_00".to_owned()),
            refresh_expires_at: time::macros::datetime!(2026-11-23 09:30 UTC),
            session_expires_at: time::macros::datetime!(2026-11-23 21:00 UTC),
            device_token: None,
            mfa_enrolled: false,
            mfa_required_for: MfaRequirement::Nothing,
        }
    }

    #[test]
    fn requests_refuse_unknown_fields() {
        let typo = r#"{"refresh_token":"rsr_00","refersh_token":"x"}"#;
        assert!(
            serde_json::from_str::<RefreshRequest>(typo).is_err(),
            "a misspelt field is an error, not silently ignored"
        );
        let login: LoginRequest =
            serde_json::from_str(r#"{"email":"a@b.example","password":"p","device_name":"PC"}"#)
                .unwrap();
        assert!(
            login.second_factor.is_none() && login.device_token.is_none(),
            "optional fields may be left out"
        );
    }

    #[test]
    fn the_login_answer_says_which_step_it_is_in_status() {
        let signed_in = serde_json::to_value(LoginResponse::SignedIn(tokens())).unwrap();
        assert_eq!(signed_in["status"], "signed_in");
        assert_eq!(
            signed_in["access_token"], "rsa_00",
            "the tokens sit beside the status"
        );
        assert_eq!(signed_in["access_expires_at"], "2026-11-23T09:15:00Z");
        assert!(
            signed_in.get("device_token").is_none(),
            "no device token is sent when there is none"
        );
        let challenge = serde_json::to_value(LoginResponse::SecondFactorRequired {
            challenge: Pii::new("rsc_00".to_owned()),
            expires_at: time::macros::datetime!(2026-11-23 09:05 UTC),
        })
        .unwrap();
        assert_eq!(challenge["status"], "second_factor_required");
        assert_eq!(challenge["expires_at"], "2026-11-23T09:05:00Z");
    }

    #[test]
    fn debug_output_of_bodies_never_shows_secrets_or_personal_data() {
        let request: AcceptInvitationRequest = serde_json::from_str(
            r#"{"code":"rsi_77","display_name":"Zebulon Quartermaine",
                "password":"correct horse battery","device_name":"Marker-Laptop-7731"}"#,
        )
        .unwrap();
        let printed = format!("{request:?} {:?}", tokens());
        for secret in [
            "rsi_77",
            "Zebulon",
            "correct horse",
            "Marker-Laptop",
            "rsa_00",
            "rsr_00",
        ] {
            assert!(
                !printed.contains(secret),
                "{secret} leaked into Debug output: {printed}"
            );
        }
    }
}
