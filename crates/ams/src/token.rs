//! Access tokens from an AMS's token endpoint, held in memory until shortly before they expire
//! and never anywhere else.
//!
//! Why a cache: a lookup runs while the phone rings, within a 2 s budget; a token grant on every
//! call would spend part of that and multiply the requests an AMS sees. The cache key is a hash
//! of the endpoint and the credentials, so new credentials never reuse an old token, and the
//! cache holds no credential itself. A token the AMS refuses (401) is forgotten, and the
//! connector asks for a fresh one once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::http::{Answer, Http, JSON};
use crate::{AmsError, Secret};

/// Tokens are renewed this long before the AMS says they expire.
const EARLY: Duration = Duration::from_secs(60);

/// When an AMS gives no lifetime, a token is kept this long.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The token grant to ask for.
pub(crate) enum Grant<'a> {
    /// OAuth2 client credentials, sent as HTTP Basic (RFC 6749 §2.3.1).
    ClientCredentials {
        client_id: &'a str,
        client_secret: &'a Secret,
    },
    /// The resource-owner password grant NowCerts uses (with its public client id).
    Password {
        username: &'a str,
        password: &'a Secret,
        client_id: &'a str,
    },
}

impl Grant<'_> {
    fn key(&self, url: &str) -> [u8; 32] {
        let mut hash = Sha256::new();
        for part in [url.as_bytes(), b"\0"] {
            hash.update(part);
        }
        match self {
            Self::ClientCredentials {
                client_id,
                client_secret,
            } => {
                hash.update(b"client_credentials\0");
                hash.update(client_id.as_bytes());
                hash.update(b"\0");
                hash.update(client_secret.expose().as_bytes());
            }
            Self::Password {
                username,
                password,
                client_id,
            } => {
                hash.update(b"password\0");
                hash.update(username.as_bytes());
                hash.update(b"\0");
                hash.update(password.expose().as_bytes());
                hash.update(b"\0");
                hash.update(client_id.as_bytes());
            }
        }
        hash.finalize().into()
    }
}

struct Cached {
    token: Secret,
    until: OffsetDateTime,
}

/// Tokens by (endpoint, credentials) hash.
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<[u8; 32], Cached>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache(<redacted>)")
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenCache {
    /// A valid token for `grant` at `url`: the cached one, or a fresh grant.
    pub(crate) async fn token(
        &self,
        http: &Http,
        url: &str,
        grant: &Grant<'_>,
    ) -> Result<Secret, AmsError> {
        let key = grant.key(url);
        let now = http.clock().now();
        if let Some(cached) = self.lock().get(&key)
            && cached.until > now
        {
            return Ok(cached.token.clone());
        }
        let request = match grant {
            Grant::ClientCredentials {
                client_id,
                client_secret,
            } => http
                .post(url, JSON)
                .basic_auth(client_id, Some(client_secret.expose()))
                .form(&[("grant_type", "client_credentials")]),
            Grant::Password {
                username,
                password,
                client_id,
            } => http.post(url, JSON).form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password.expose()),
                ("client_id", client_id),
            ]),
        };
        let answer = http.send(request).await.map_err(|e| match e {
            // A token endpoint answers 400 `invalid_client`/`invalid_grant` to bad credentials.
            AmsError::Rejected(400) => AmsError::Credentials,
            other => other,
        })?;
        let parsed: TokenAnswer = answer.json()?;
        if parsed.access_token.is_empty() {
            return Err(AmsError::InvalidResponse("the token answer has no token"));
        }
        let lifetime = parsed
            .expires_in
            .map_or(DEFAULT_LIFETIME, Duration::from_secs)
            .saturating_sub(EARLY);
        let token = Secret::new(parsed.access_token);
        self.lock().insert(
            key,
            Cached {
                token: token.clone(),
                until: now + lifetime,
            },
        );
        Ok(token)
    }

    /// Sends the request `build` makes with a bearer token for `grant` at `url`; when the AMS
    /// answers 401, forgets the token and tries once more with a fresh one.
    pub(crate) async fn send_authorized(
        &self,
        http: &Http,
        url: &str,
        grant: &Grant<'_>,
        build: impl Fn(&Http) -> reqwest::RequestBuilder,
    ) -> Result<Answer, AmsError> {
        for attempt in 0..2 {
            let token = self.token(http, url, grant).await?;
            match http.send(build(http).bearer_auth(token.expose())).await {
                Err(AmsError::Credentials) if attempt == 0 => self.forget(url, grant),
                other => return other,
            }
        }
        Err(AmsError::Credentials)
    }

    /// Forgets the token of `grant` at `url` (the AMS refused it).
    fn forget(&self, url: &str, grant: &Grant<'_>) {
        self.lock().remove(&grant.key(url));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Cached>> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
