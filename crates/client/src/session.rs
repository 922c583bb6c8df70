//! [`Session`]: a signed-in session that keeps its own access token fresh.
//!
//! Why the refresh is guarded: each refresh token works once, and presenting one a second time
//! ends the whole session (`docs/api.md`, "Stay signed in") — the relay cannot tell a second
//! holder from a thief. So every refresh happens under one [`tokio::sync::Mutex`] around the
//! tokens: a task that finds the access token due waits for any refresh in progress, then sees
//! the new token instead of refreshing again with the old one.
//!
//! A refresh runs in a task of its own that holds the lock: if the caller gives up midway (a
//! timeout, a closed window drops its future), the refresh still completes and its new pair is
//! kept. Otherwise the relay could have used up the refresh token while the client never learnt
//! the next one, and the next refresh would present the old one again — ending the session.
//!
//! When: shortly before the access token expires ([`REFRESH_MARGIN`], by the client's clock), and
//! once after a `401 session_expired` (the relay's clock disagreed) — unless another task has
//! refreshed meanwhile, in which case the call is simply retried with the newer token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use ringside_core::UserId;
use ringside_core::wire::{
    CodeRequest, Leaderboard, Me, MfaPolicyRequest, MyCallList, MyNoteList, RecoveryCodes,
    RefreshRequest, Secret, SessionList, SessionTokens, StreamTicket, TotpEnrollment, UserList,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{Client, ClientError};

/// How long before its expiry an access token is refreshed: covers a request's flight time and
/// a little clock drift.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A signed-in session. Share it between tasks behind an `Arc`: calls may run concurrently and
/// still refresh one at a time. `Debug` shows ids and expiry times, never a token.
pub struct Session {
    client: Client,
    /// The current tokens; the lock is held for the whole of a refresh (by the refresh's task).
    tokens: Arc<Mutex<SessionTokens>>,
}

impl Session {
    pub(crate) fn new(client: Client, tokens: SessionTokens) -> Self {
        Self {
            client,
            tokens: Arc::new(Mutex::new(tokens)),
        }
    }

    /// The client this session talks through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Another handle on this session: the same tokens behind the same lock (for the stream's
    /// background task, which must outlive a borrow).
    pub(crate) fn share(&self) -> Self {
        Self {
            client: self.client.clone(),
            tokens: Arc::clone(&self.tokens),
        }
    }

    /// A copy of the current tokens, to keep in the OS keychain (the refresh token changes on
    /// every refresh; the `device_token` of the first sign-in is kept across refreshes).
    pub async fn tokens(&self) -> SessionTokens {
        self.tokens.lock().await.clone()
    }

    /// `GET /v1/me`: who is signed in, their permissions and second-factor state.
    pub async fn me(&self) -> Result<Me, ClientError> {
        self.get("/v1/me").await
    }

    /// `GET /v1/me/calls`: the caller's most recent calls, newest first.
    pub async fn my_calls(&self) -> Result<MyCallList, ClientError> {
        self.get("/v1/me/calls").await
    }

    /// `GET /v1/me/notes`: the caller's notes not yet in the AMS, newest first.
    pub async fn my_notes(&self) -> Result<MyNoteList, ClientError> {
        self.get("/v1/me/notes").await
    }

    /// `GET /v1/leaderboard?days=N`: the team over the last `days` (1–90).
    pub async fn leaderboard(&self, days: u32) -> Result<Leaderboard, ClientError> {
        self.get(&format!("/v1/leaderboard?days={days}")).await
    }

    /// `GET /v1/me/sessions`: the caller's live sessions, newest first.
    pub async fn sessions(&self) -> Result<SessionList, ClientError> {
        self.get("/v1/me/sessions").await
    }

    /// `POST /v1/stream/ticket`: a single-use ticket to open the WebSocket stream with (within
    /// `expires_in` seconds). [`Session::stream`] gets its own; this is for callers that connect
    /// by other means.
    pub async fn stream_ticket(&self) -> Result<StreamTicket, ClientError> {
        self.send_json(Method::POST, "/v1/stream/ticket", None::<&()>, 200)
            .await
    }

    /// `POST /v1/auth/logout`: ends this session; its tokens stop working at once.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.authed(Method::POST, "/v1/auth/logout", None::<&()>, 204)
            .await
            .map(drop)
    }

    /// `POST /v1/me/totp`: starts enrolling a TOTP second factor — the secret (for typing) and
    /// its `otpauth://` URI (for the QR code), shown once.
    pub async fn start_totp(&self) -> Result<TotpEnrollment, ClientError> {
        self.send_json(Method::POST, "/v1/me/totp", Some(&()), 200)
            .await
    }

    /// `POST /v1/me/totp/confirm`: finishes the enrolment with a code from the authenticator;
    /// answers the recovery codes, each shown once.
    pub async fn confirm_totp(&self, code: &CodeRequest) -> Result<RecoveryCodes, ClientError> {
        self.send_json(Method::POST, "/v1/me/totp/confirm", Some(code), 200)
            .await
    }

    /// `POST /v1/me/step-up`: verifies the second factor again, for the actions that ask for a
    /// recent one (`403 step_up_required`) in the next 10 minutes.
    pub async fn step_up(&self, code: &CodeRequest) -> Result<(), ClientError> {
        self.authed(Method::POST, "/v1/me/step-up", Some(code), 204)
            .await
            .map(drop)
    }

    /// `GET /v1/admin/users`: the team, disabled users included (`manage_team`).
    pub async fn team(&self) -> Result<UserList, ClientError> {
        self.get("/v1/admin/users").await
    }

    /// `POST /v1/admin/users/{id}/disable`: disables a user and ends their sessions
    /// (`manage_team`, a recent second factor).
    pub async fn disable_user(&self, user: UserId) -> Result<(), ClientError> {
        let path = format!("/v1/admin/users/{user}/disable");
        self.authed(Method::POST, &path, None::<&()>, 204)
            .await
            .map(drop)
    }

    /// `PUT /v1/admin/org/mfa-policy`: whether everyone in the org, not only owners and admins,
    /// must enrol a second factor (`manage_team`, a recent second factor).
    pub async fn set_mfa_policy(&self, policy: &MfaPolicyRequest) -> Result<(), ClientError> {
        self.authed(Method::PUT, "/v1/admin/org/mfa-policy", Some(policy), 204)
            .await
            .map(drop)
    }

    /// Refreshes now, whatever the access token's expiry (one refresh at a time).
    pub async fn refresh(&self) -> Result<(), ClientError> {
        let tokens = Arc::clone(&self.tokens).lock_owned().await;
        self.refresh_locked(tokens).await.map(drop)
    }

    /// An authenticated `GET` of a JSON body.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send_json(Method::GET, path, None::<&()>, 200).await
    }

    /// An authenticated request answered by a JSON body.
    async fn send_json<B: serde::Serialize + Sync, T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        expect: u16,
    ) -> Result<T, ClientError> {
        let (status, body) = self.authed(method, path, body, expect).await?;
        serde_json::from_slice(&body).map_err(|_| ClientError::Protocol {
            status,
            what: "a JSON body of the documented shape",
        })
    }

    /// An authenticated request, with the refresh rules of this module: the access token is
    /// refreshed first when due, and once after a `401 session_expired`.
    async fn authed<B: serde::Serialize + Sync>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        expect: u16,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let token = self.access_token().await?;
        let first = self
            .client
            .call(method.clone(), path, Some(token.expose()), body, expect)
            .await;
        match first {
            Err(ClientError::Api {
                status: 401, code, ..
            }) if code == "session_expired" => {
                self.refresh_unless_replaced(&token).await?;
                let token = self.access_token().await?;
                self.client
                    .call(method, path, Some(token.expose()), body, expect)
                    .await
            }
            other => other,
        }
    }

    /// The access token to send, refreshed first when it is within [`REFRESH_MARGIN`] of its
    /// expiry.
    async fn access_token(&self) -> Result<Secret, ClientError> {
        let tokens = Arc::clone(&self.tokens).lock_owned().await;
        if self.client.now() + REFRESH_MARGIN >= tokens.access_expires_at {
            return self.refresh_locked(tokens).await;
        }
        Ok(tokens.access_token.clone())
    }

    /// After the relay refused `used` as expired: refreshes, unless another task already has
    /// (the token in hand is then newer than `used`, and refreshing again would be wasted).
    async fn refresh_unless_replaced(&self, used: &Secret) -> Result<(), ClientError> {
        let tokens = Arc::clone(&self.tokens).lock_owned().await;
        if tokens.access_token == *used {
            self.refresh_locked(tokens).await?;
        }
        Ok(())
    }

    /// Exchanges the refresh token in a task that owns the lock (see the module's docs), and
    /// answers the new access token.
    async fn refresh_locked(
        &self,
        mut tokens: OwnedMutexGuard<SessionTokens>,
    ) -> Result<Secret, ClientError> {
        let client = self.client.clone();
        let task = tokio::spawn(async move {
            let request = RefreshRequest {
                refresh_token: tokens.refresh_token.clone(),
            };
            let mut next = client.refresh(&request).await?;
            if next.device_token.is_none() {
                next.device_token = tokens.device_token.take();
            }
            *tokens = next;
            Ok(tokens.access_token.clone())
        });
        match task.await {
            Ok(answer) => answer,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(ClientError::Interrupted),
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Session");
        out.field("relay", &self.client.base_url());
        match self.tokens.try_lock() {
            Ok(tokens) => out
                .field("session_id", &tokens.session_id)
                .field("user_id", &tokens.user_id)
                .field("org_id", &tokens.org_id)
                .field("role", &tokens.role)
                .field("access_expires_at", &tokens.access_expires_at)
                .field("session_expires_at", &tokens.session_expires_at),
            Err(_) => out.field("tokens", &"<refreshing>"),
        };
        out.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::wire::MfaRequirement;
    use ringside_core::{OrgId, Pii, Role, SessionId, UserId};

    use super::*;

    #[tokio::test]
    async fn debug_shows_ids_and_expiry_but_never_a_token() {
        let client = Client::new("https://relay.example").unwrap();
        let session = client.resume(SessionTokens {
            session_id: SessionId::random(),
            user_id: UserId::random(),
            org_id: OrgId::random(),
            role: Role::Agent,
            access_token: Pii::new("rsa_marker_access".to_owned()),
            access_expires_at: time::macros::datetime!(2026-11-23 09:15 UTC),
            refresh_token: Pii::new("rsr_marker_refresh".to_owned()),
            refresh_expires_at: time::macros::datetime!(2026-11-23 09:30 UTC),
            session_expires_at: time::macros::datetime!(2026-11-23 21:00 UTC),
            device_token: Some(Pii::new("rsd_marker_device".to_owned())),
            mfa_enrolled: false,
            mfa_required_for: MfaRequirement::Nothing,
        });
        let printed = format!("{session:?}");
        for token in ["rsa_marker", "rsr_marker", "rsd_marker"] {
            assert!(
                !printed.contains(token),
                "{token} leaked into Debug: {printed}"
            );
        }
        assert!(
            printed.contains("session_id") && printed.contains("2026"),
            "ids and expiry are shown for diagnosis: {printed}"
        );
        let step = crate::LoginStep::SignedIn(Box::new(session));
        assert!(
            !format!("{step:?}").contains("rsa_marker"),
            "nor through a login step"
        );
    }
}
