//! [`Client`]: the relay's address, and the calls that need no session.
//!
//! Why the address is checked up front: every call after sign-in sends a bearer token, and sign-in
//! sends a password. Plain `http` would hand both to anyone on the path, so it is accepted only
//! for loopback (a relay on the same machine: development, the tests, `ringside-relay demo`), and
//! redirects are never followed, so a token only ever goes to the address that was checked.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Url};
use ringside_core::net::is_loopback_host as is_loopback;
use ringside_core::wire::{
    AcceptInvitationRequest, LoginRequest, LoginResponse, RefreshRequest, SecondFactorRequest,
    Secret, SessionTokens,
};
use ringside_core::{Clock, SystemClock};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::{ClientError, Session};

/// How long to wait for a connection to the relay.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take: every API call is answered in well under a second.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A relay's HTTP API at one checked address. Cheap to clone (one connection pool, shared).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The base URL without a trailing slash; paths (`/v1/...`) are appended.
    base: String,
    /// Decides when an access token is due for refresh.
    clock: Arc<dyn Clock>,
}

/// What a sign-in answered.
#[derive(Debug)]
pub enum LoginStep {
    /// Signed in (boxed: a session is much larger than a challenge).
    SignedIn(Box<Session>),
    /// The password was right and the account has a second factor: pass `challenge` and a code
    /// to [`Client::second_factor`] before `expires_at`.
    SecondFactor {
        /// Single use.
        challenge: Secret,
        /// When the challenge stops working (5 minutes).
        expires_at: OffsetDateTime,
    },
}

impl Client {
    /// A client of the relay at `base_url`: `https://…`, or `http://…` for a loopback address
    /// only (`127.0.0.0/8`, `::1`, `localhost`). A URL with credentials, a query or a fragment is
    /// refused too: none of them has a meaning here, and credentials would leak.
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        Self::with_clock(base_url, Arc::new(SystemClock))
    }

    /// [`Client::new`] with the clock that decides when tokens are due for refresh (a test's
    /// fake clock, shared with the relay under test).
    pub fn with_clock(base_url: &str, clock: Arc<dyn Clock>) -> Result<Self, ClientError> {
        let base = checked_base(base_url)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("ringside-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Transport)?;
        Ok(Self { http, base, clock })
    }

    /// The relay's base URL, as checked (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `POST /v1/auth/login`. An account with a second factor answers
    /// [`LoginStep::SecondFactor`] unless `request.second_factor` already carries a code.
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginStep, ClientError> {
        let answer: LoginResponse = self
            .call_json(Method::POST, "/v1/auth/login", None, Some(request), 200)
            .await?;
        Ok(match answer {
            LoginResponse::SignedIn(tokens) => LoginStep::SignedIn(Box::new(self.resume(tokens))),
            LoginResponse::SecondFactorRequired {
                challenge,
                expires_at,
            } => LoginStep::SecondFactor {
                challenge,
                expires_at,
            },
        })
    }

    /// `POST /v1/auth/second-factor`: completes a sign-in that asked for a second factor.
    pub async fn second_factor(
        &self,
        request: &SecondFactorRequest,
    ) -> Result<Session, ClientError> {
        self.post_for_session("/v1/auth/second-factor", request, 200)
            .await
    }

    /// `POST /v1/invitations/accept`: joins the organisation and signs in.
    pub async fn accept_invitation(
        &self,
        request: &AcceptInvitationRequest,
    ) -> Result<Session, ClientError> {
        self.post_for_session("/v1/invitations/accept", request, 201)
            .await
    }

    /// `POST`s a request that issues a token pair (no bearer: it is how a session starts) and
    /// answers the session on those tokens.
    async fn post_for_session(
        &self,
        path: &str,
        request: &(impl Serialize + Sync),
        expect: u16,
    ) -> Result<Session, ClientError> {
        let tokens = self
            .call_json(Method::POST, path, None, Some(request), expect)
            .await?;
        Ok(self.resume(tokens))
    }

    /// `POST /v1/auth/refresh`: the next token pair. The refresh token is used up by this call;
    /// presenting it again ends the whole session. Prefer a [`Session`], which refreshes by
    /// itself and never twice with the same token.
    pub async fn refresh(&self, request: &RefreshRequest) -> Result<SessionTokens, ClientError> {
        self.call_json(Method::POST, "/v1/auth/refresh", None, Some(request), 200)
            .await
    }

    /// A session from tokens kept earlier (the OS keychain), on this client.
    pub fn resume(&self, tokens: SessionTokens) -> Session {
        Session::new(self.clone(), tokens)
    }

    /// The clock tokens are judged by.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Sends a request and decodes a JSON answer of status `expect`.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&(impl Serialize + Sync)>,
        expect: u16,
    ) -> Result<T, ClientError> {
        let (status, bytes) = self.call(method, path, bearer, body, expect).await?;
        serde_json::from_slice(&bytes).map_err(|_| ClientError::Protocol {
            status,
            what: "a JSON body of the documented shape",
        })
    }

    /// Sends a request; the answer's status and body when it is `expect`, its error otherwise.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&(impl Serialize + Sync)>,
        expect: u16,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(ClientError::Transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(ClientError::Transport)?;
        if status == expect {
            Ok((status, bytes.to_vec()))
        } else if (200..300).contains(&status) {
            Err(ClientError::Protocol {
                status,
                what: "the documented success status",
            })
        } else {
            Err(ClientError::from_answer(
                status,
                retry_after.as_deref(),
                &bytes,
            ))
        }
    }
}

/// Checks a relay address (see [`Client::new`]) and answers it without a trailing slash.
fn checked_base(base_url: &str) -> Result<String, ClientError> {
    let url = Url::parse(base_url).map_err(|_| ClientError::InvalidUrl("not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ClientError::InvalidUrl(
            "credentials in the URL are refused: they would be sent with every request",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ClientError::InvalidUrl(
            "a relay URL has no query or fragment",
        ));
    }
    let host = url
        .host_str()
        .ok_or(ClientError::InvalidUrl("the URL has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(ClientError::InvalidUrl(
                "plain http is only for a relay on this machine (loopback): use https",
            ));
        }
        _ => return Err(ClientError::InvalidUrl("the scheme must be https")),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_anywhere_and_the_trailing_slash_is_dropped() {
        for (given, kept) in [
            (
                "https://relay.agency.example",
                "https://relay.agency.example",
            ),
            (
                "https://relay.agency.example/",
                "https://relay.agency.example",
            ),
            (
                "https://relay.example:8443/ringside/",
                "https://relay.example:8443/ringside",
            ),
        ] {
            assert_eq!(
                checked_base(given).unwrap(),
                kept,
                "{given} is a valid relay address"
            );
        }
    }

    #[test]
    fn plain_http_is_accepted_for_loopback_only() {
        for loopback in [
            "http://127.0.0.1:8080",
            "http://127.3.2.1",
            "http://[::1]:9000/",
            "http://localhost:8080",
            "http://LOCALHOST",
        ] {
            assert!(
                checked_base(loopback).is_ok(),
                "{loopback} is this machine: plain http is fine"
            );
        }
        for remote in [
            "http://relay.agency.example",
            "http://10.0.0.5:8080",
            "http://[2001:db8::1]",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
        ] {
            let error = checked_base(remote).unwrap_err();
            assert!(
                matches!(error, ClientError::InvalidUrl(_)),
                "{remote} would send tokens in the clear: {error:?}"
            );
            assert!(
                error.to_string().contains("https"),
                "the message says what to use instead: {error}"
            );
        }
    }

    #[test]
    fn other_schemes_credentials_queries_and_garbage_are_refused() {
        for bad in [
            "ftp://relay.example",
            "ws://127.0.0.1",
            "https://user:pass@relay.example",
            "https://relay.example/?token=x",
            "https://relay.example/#x",
            "relay.example",
            "",
        ] {
            let error = checked_base(bad).unwrap_err();
            assert!(
                matches!(error, ClientError::InvalidUrl(_)),
                "{bad:?} is refused: {error:?}"
            );
            assert!(
                !error.to_string().contains("pass"),
                "the message never echoes the URL's credentials: {error}"
            );
        }
    }

    #[test]
    fn new_checks_the_address() {
        assert!(
            Client::new("http://relay.example").is_err(),
            "new refuses what checked_base refuses"
        );
        let client = Client::new("https://relay.example/").unwrap();
        assert_eq!(
            client.base_url(),
            "https://relay.example",
            "the base URL is kept as checked"
        );
    }
}
