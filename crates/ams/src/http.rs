//! The one HTTP client every connector talks through, and the rules it enforces for all of
//! them: a time budget per request, a bound on how much of an answer is read, no redirects (a
//! bearer token must never follow a `Location` to another host), statuses mapped to
//! [`AmsError`] the same way for every AMS, and `Retry-After` read from every 429.
//!
//! Nothing here logs a URL or a body: a lookup's URL carries the caller's number.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use ringside_core::Clock;
use serde::de::DeserializeOwned;
use time::format_description::well_known::Rfc2822;

use crate::AmsError;

/// The media type of plain JSON APIs (HubSpot, NowCerts, token endpoints).
pub(crate) const JSON: &str = "application/json";

/// How much any one AMS request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The budget of one request, connection included (`ams.timeout_ms`).
    pub timeout: Duration,
    /// The most bytes of one answer that are read; a larger answer is an
    /// [`AmsError::InvalidResponse`].
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// The shared client: one connection pool for every org's AMS.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    limits: Limits,
    clock: Arc<dyn Clock>,
}

/// A successful (2xx) answer, read whole within the limit.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The body as `T`.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, AmsError> {
        serde_json::from_slice(&self.body)
            .map_err(|_| AmsError::InvalidResponse("not the JSON this AMS documents"))
    }
}

impl Http {
    /// A client bounded by `limits`, reading time from `clock` (token expiry, `Retry-After`
    /// dates).
    ///
    /// # Errors
    /// [`AmsError::Config`] when the TLS client cannot be built.
    pub fn new(limits: Limits, clock: Arc<dyn Clock>) -> Result<Self, AmsError> {
        let client = reqwest::Client::builder()
            .timeout(limits.timeout)
            .connect_timeout(limits.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ringside/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| AmsError::config("http_client", "the HTTP client could not be built"))?;
        Ok(Self {
            client,
            limits,
            clock,
        })
    }

    /// The limits every request runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// A GET of `url` accepting the media types `accept` (an AMS's documented ones).
    pub(crate) fn get(&self, url: &str, accept: &str) -> reqwest::RequestBuilder {
        self.client.get(url).header(reqwest::header::ACCEPT, accept)
    }

    /// A POST to `url` accepting `accept`.
    pub(crate) fn post(&self, url: &str, accept: &str) -> reqwest::RequestBuilder {
        self.client
            .post(url)
            .header(reqwest::header::ACCEPT, accept)
    }

    /// Sends `request`; a 2xx answer read whole, or the error its status (or failure) means.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, AmsError> {
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(self.refusal(status, response.headers()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.limits.max_body_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > self.limits.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { body })
    }

    fn refusal(&self, status: u16, headers: &HeaderMap) -> AmsError {
        match status {
            401 => AmsError::Credentials,
            403 => AmsError::Forbidden,
            429 => AmsError::RateLimited {
                retry_after: retry_after(headers, self.clock()),
            },
            408 | 500..=599 => AmsError::Unavailable,
            other => AmsError::Rejected(other),
        }
    }
}

fn too_large() -> AmsError {
    AmsError::InvalidResponse("the answer is larger than the limit")
}

/// A transport failure, without its text (which names the URL).
fn transport(error: reqwest::Error) -> AmsError {
    if error.is_timeout() {
        AmsError::Timeout
    } else if error.is_decode() || error.is_body() {
        AmsError::InvalidResponse("the answer could not be read")
    } else {
        AmsError::Unavailable
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3); a date in the past is zero.
fn retry_after(headers: &HeaderMap, clock: &dyn Clock) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = time::OffsetDateTime::parse(value, &Rfc2822).ok()?;
    let wait = at - clock.now();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use ringside_core::FakeClock;

    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let clock = FakeClock::new(time::macros::datetime!(2026-12-03 10:00 UTC));
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers, &clock), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Thu, 03 Dec 2026 10:01:30 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, &clock), Some(Duration::from_secs(90)));
        headers.insert(
            RETRY_AFTER,
            "Thu, 03 Dec 2026 09:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, &clock), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, &clock), None);
    }
}
