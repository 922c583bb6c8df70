//! `ringside-client` against a real relay: the crate the desktop app will use must agree with the
//! server it talks to, so its calls run here, where a relay runs, rather than against a mock (the
//! client crate itself may not depend on the relay, docs/architecture.md#crates-and-dependencies).
//!
//! The client shares the relay's fake clock, so moving it past an access token's expiry shows the
//! session refreshing by itself — and the session surviving several tasks that find the token due
//! at once, which it would not if the same refresh token were presented twice.

use std::sync::Arc;
use std::time::Duration;

use ringside_client::{Client, ClientError, LoginStep, Session};
use ringside_core::wire::{
    AcceptInvitationRequest, LoginRequest, RecoveryCodes, RefreshRequest, SecondFactorRequest,
    TotpEnrollment,
};
use ringside_core::{Clock, FakeClock, Pii, Role};
use serde_json::json;

use crate::office::Office;

const EMAIL: &str = "owner@agency.example";
const PASSWORD: &str = "mauve kettle orbit 41";
const DEVICE: &str = "Front desk PC";

/// The office's relay and a one-time owner invitation, and a client on the relay's clock.
struct Setup {
    office: Office,
    client: Client,
    code: String,
}

impl Setup {
    /// Starts the relay; the operator invites the org's owner (what `ringside-relay org create`
    /// does, with the relay's own data folder, key and clock).
    async fn start() -> Self {
        let office = Office::open().await;
        let (_, code) = office.operator.invite(office.org, EMAIL, Role::Owner);
        let clock: Arc<dyn Clock> = Arc::new(office.relay.clock.clone());
        let client = Client::with_clock(&format!("http://{}", office.relay.addr), clock).unwrap();
        Self {
            office,
            client,
            code,
        }
    }

    /// Keeps sign-ins from this address under the per-address limit (10 a minute).
    fn pace(&self) {
        self.advance(6);
    }

    fn advance(&self, seconds: u64) {
        self.office
            .relay
            .clock
            .advance(Duration::from_secs(seconds));
    }

    /// The current TOTP code of `uri`, after moving the clock to the next 30 s step (a code is
    /// accepted once).
    fn totp(&self, uri: &str) -> String {
        let now = self
            .office
            .relay
            .clock
            .now()
            .unix_timestamp()
            .unsigned_abs();
        self.advance(30 - now % 30);
        totp_rs::TOTP::from_url(uri).unwrap().generate(
            self.office
                .relay
                .clock
                .now()
                .unix_timestamp()
                .unsigned_abs(),
        )
    }

    /// Signs in with the password and, when asked, a TOTP code of `uri`.
    async fn sign_in(&self, device_of: &Session, uri: &str) -> Session {
        let step = self
            .login(PASSWORD, Some(device_of))
            .await
            .expect("signing in");
        let LoginStep::SecondFactor { challenge, .. } = step else {
            panic!("an enrolled owner is asked for a second factor: {step:?}");
        };
        self.pace();
        self.client
            .second_factor(&SecondFactorRequest {
                challenge,
                code: Pii::new(self.totp(uri)),
            })
            .await
            .expect("the second sign-in step with the current code")
    }

    async fn accept(&self) -> Session {
        self.pace();
        self.client
            .accept_invitation(&AcceptInvitationRequest {
                code: Pii::new(self.code.clone()),
                display_name: Pii::new("Pat Owner".to_owned()),
                password: Pii::new(PASSWORD.to_owned()),
                device_name: Pii::new(DEVICE.to_owned()),
            })
            .await
            .expect("accepting the owner invitation through the client")
    }

    async fn login(
        &self,
        password: &str,
        device_token: Option<&Session>,
    ) -> Result<LoginStep, ClientError> {
        self.pace();
        let device_token = match device_token {
            Some(session) => session.tokens().await.device_token,
            None => None,
        };
        self.client
            .login(&LoginRequest {
                email: Pii::new(EMAIL.to_owned()),
                password: Pii::new(password.to_owned()),
                second_factor: None,
                device_name: Pii::new(DEVICE.to_owned()),
                device_token,
            })
            .await
    }

    /// Enrols a TOTP second factor for the session's user (outside the client's scope for now:
    /// plain HTTP); answers the `otpauth://` URI.
    async fn enrol(&self, session: &Session) -> String {
        let http = reqwest::Client::new();
        let base = format!("http://{}", self.office.relay.addr);
        let access = session.tokens().await.access_token.expose().clone();
        let enrolment: TotpEnrollment = http
            .post(format!("{base}/v1/me/totp"))
            .bearer_auth(&access)
            .json(&json!(null))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let uri = enrolment.otpauth_uri.expose().clone();
        let codes: RecoveryCodes = http
            .post(format!("{base}/v1/me/totp/confirm"))
            .bearer_auth(&access)
            .json(&json!({"code": self.totp(&uri)}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            codes.recovery_codes.len(),
            10,
            "enrolment answers ten recovery codes"
        );
        uri
    }
}

/// Asserts an API error with `status` and `code`.
#[track_caller]
fn assert_api_error<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    status: u16,
    code: &str,
    what: &str,
) {
    match result {
        Err(ClientError::Api {
            status: got_status,
            code: got_code,
            ..
        }) => assert_eq!(
            (got_status, got_code.as_str()),
            (status, code),
            "{what}: the error's status and code"
        ),
        other => panic!("{what}: expected {status} {code}, got {other:?}"),
    }
}

#[tokio::test]
async fn an_owner_joins_then_signs_in_with_a_second_factor_through_the_client_crate() {
    let setup = Setup::start().await;

    let joined = setup.accept().await;
    let me = joined.me().await.expect("me after joining");
    let tokens = joined.tokens().await;
    assert_eq!(me.user.id, tokens.user_id, "me is the user who joined");
    assert_eq!(me.user.role, Role::Owner, "the invitation's role");
    assert_eq!(
        me.session_id, tokens.session_id,
        "me names the calling session"
    );
    assert_eq!(me.user.email.expose(), EMAIL, "the invited address");

    let wrong = setup.login("not the password at all", Some(&joined)).await;
    assert_api_error(wrong, 401, "invalid_credentials", "a wrong password");
    let step = setup
        .login(PASSWORD, Some(&joined))
        .await
        .expect("signing in");
    assert!(
        matches!(step, LoginStep::SignedIn(_)),
        "without a second factor the password signs in: {step:?}"
    );

    let uri = setup.enrol(&joined).await;
    let step = setup
        .login(PASSWORD, Some(&joined))
        .await
        .expect("signing in");
    let LoginStep::SecondFactor { challenge, .. } = step else {
        panic!("an enrolled owner is asked for a second factor: {step:?}");
    };
    setup.pace();
    let bad_code = setup
        .client
        .second_factor(&SecondFactorRequest {
            challenge: challenge.clone(),
            code: Pii::new("000000".to_owned()),
        })
        .await;
    assert_api_error(bad_code, 401, "invalid_second_factor", "a wrong TOTP code");
    setup.pace();
    let session = setup
        .client
        .second_factor(&SecondFactorRequest {
            challenge,
            code: Pii::new(setup.totp(&uri)),
        })
        .await
        .expect("the second sign-in step with the current code");
    let current = session.tokens().await;
    assert!(
        current.mfa_enrolled,
        "the tokens say the factor is enrolled"
    );

    let list = session.sessions().await.expect("listing sessions");
    assert_eq!(
        list.sessions.len(),
        3,
        "joining, the password-only sign-in, this one: {list:?}"
    );
    let marked: Vec<_> = list.sessions.iter().filter(|s| s.current).collect();
    assert_eq!(marked.len(), 1, "exactly one session is the current one");
    assert_eq!(marked[0].id, current.session_id, "and it is this one");
}

#[tokio::test]
async fn many_tasks_finding_the_access_token_due_cause_one_refresh_and_the_session_lives_on() {
    let setup = Setup::start().await;
    let session = Arc::new(setup.accept().await);
    let before = session.tokens().await;

    setup.advance(15 * 60);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let session = Arc::clone(&session);
            tokio::spawn(async move { session.me().await })
        })
        .collect();
    for call in calls {
        call.await
            .unwrap()
            .expect("every concurrent call succeeds after the refresh");
    }
    let after = session.tokens().await;
    assert_ne!(
        after.refresh_token, before.refresh_token,
        "the expired access token was refreshed without being asked"
    );
    assert_eq!(after.session_id, before.session_id, "in the same session");
    assert_eq!(
        after.device_token, before.device_token,
        "the device token of the first sign-in is kept across refreshes"
    );
    session
        .me()
        .await
        .expect("the session is alive: no refresh token was presented twice");
}

#[tokio::test]
async fn a_used_refresh_token_presented_again_ends_the_session() {
    let setup = Setup::start().await;
    let session = setup.accept().await;
    let first = session.tokens().await;
    session.refresh().await.expect("an explicit refresh");
    let second = session.tokens().await;
    assert_ne!(
        second.access_token, first.access_token,
        "a refresh brings a new access token"
    );

    let reused = setup
        .client
        .refresh(&RefreshRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await;
    assert_api_error(
        reused,
        401,
        "session_revoked",
        "the used refresh token again",
    );
    assert_api_error(
        session.me().await,
        401,
        "session_revoked",
        "the session it belonged to is over",
    );
}

#[tokio::test]
async fn a_client_whose_clock_lags_refreshes_once_on_session_expired_and_retries() {
    let setup = Setup::start().await;
    let session = setup.accept().await;
    // The same tokens on a client whose clock stands still: it thinks the token is fresh.
    let lagging = Client::with_clock(
        setup.client.base_url(),
        Arc::new(FakeClock::new(setup.office.relay.clock.now())),
    )
    .unwrap()
    .resume(session.tokens().await);
    drop(session);
    let before = lagging.tokens().await;

    setup.advance(15 * 60 + 1);
    let me = lagging
        .me()
        .await
        .expect("the relay's session_expired is answered by a refresh and a retry");
    assert_eq!(me.session_id, before.session_id, "the same session");
    assert_ne!(
        lagging.tokens().await.access_token,
        before.access_token,
        "the retry used a new access token"
    );
}

#[tokio::test]
async fn signing_out_ends_the_calling_session_only() {
    let setup = Setup::start().await;
    let joined = setup.accept().await;
    let uri = setup.enrol(&joined).await;
    let session = setup.sign_in(&joined, &uri).await;

    session.logout().await.expect("signing out");
    assert_api_error(
        session.me().await,
        401,
        "session_revoked",
        "me after signing out",
    );
    assert_api_error(
        session.refresh().await,
        401,
        "session_revoked",
        "a refresh after signing out",
    );
    let me = joined
        .me()
        .await
        .expect("the other session of the same user goes on");
    assert_eq!(
        me.session_id,
        joined.tokens().await.session_id,
        "it is still itself"
    );
}

#[tokio::test]
async fn a_rate_limit_is_a_rate_limited_error_with_its_retry_after() {
    let setup = Setup::start().await;
    let mut answers = Vec::new();
    for attempt in 0..11 {
        answers.push(
            setup
                .client
                .accept_invitation(&AcceptInvitationRequest {
                    code: Pii::new(format!("rsi_not_a_real_code_{attempt}")),
                    display_name: Pii::new("Nobody".to_owned()),
                    password: Pii::new(PASSWORD.to_owned()),
                    device_name: Pii::new(DEVICE.to_owned()),
                })
                .await,
        );
    }
    let last = answers.pop().unwrap();
    for answer in answers {
        assert_api_error(
            answer,
            404,
            "invitation_invalid",
            "an unknown code, under the limit",
        );
    }
    match last {
        Err(ClientError::RateLimited { retry_after, code }) => {
            assert_eq!(code, "rate_limited", "the per-address limit's code");
            assert!(
                retry_after.is_some_and(|d| d > Duration::ZERO),
                "Retry-After is read into a duration: {retry_after:?}"
            );
        }
        other => panic!("the eleventh attempt in a minute is rate limited: {other:?}"),
    }
}

#[tokio::test]
async fn a_refresh_whose_caller_gives_up_midway_still_completes_and_is_kept() {
    let setup = Setup::start().await;
    let session = setup.accept().await;
    let before = session.tokens().await;

    let mut refresh = Box::pin(session.refresh());
    // Polls the refresh until its task is spawned, then drops it, as a timeout would. (Should the
    // relay answer first, the refresh simply finished: the assertions below hold either way.)
    tokio::select! {
        biased;
        _ = &mut refresh => {}
        () = tokio::task::yield_now() => {}
    }
    drop(refresh);

    let me = session
        .me()
        .await
        .expect("the session goes on with the pair the abandoned refresh obtained");
    assert_eq!(me.session_id, before.session_id, "the same session");
    assert_ne!(
        session.tokens().await.refresh_token,
        before.refresh_token,
        "the new pair was kept although its caller was gone"
    );
}
