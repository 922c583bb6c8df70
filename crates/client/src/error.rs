//! One error type for every call, shaped so callers decide by kind and by the API's `code`.
//!
//! Why these variants: the relay answers every error as RFC 9457 problem+json with a stable
//! `code` (`docs/api.md`, "Errors"), so [`ClientError::Api`] carries it for a `match`; a `429`
//! comes with `Retry-After`, which a caller needs as a value, hence [`ClientError::RateLimited`].
//! No message ever contains a token, a password or personal data: bodies that fail to parse are
//! described, never quoted (a serde message can quote the offending value, and that value may be
//! a token).

use std::time::Duration;

use serde::Deserialize;

/// Everything a call to the relay can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The relay refused the request: `code` is stable (`invalid_credentials`,
    /// `session_revoked`, …), `detail` is for people and never holds personal data.
    #[error("the relay answered {status} {code}: {detail}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The problem's stable code.
        code: String,
        /// The problem's explanation for people (empty when the relay sent none).
        detail: String,
        /// A finer machine reason where a code has several (`weak_password`: `too_short`, …).
        reason: Option<String>,
    },
    /// Over a rate limit (`rate_limited`) or in sign-in back-off (`locked`): try again after
    /// `retry_after`, when the relay said.
    #[error("the relay asks to slow down ({code}); retry after {retry_after:?}")]
    RateLimited {
        /// `Retry-After`, when present and readable.
        retry_after: Option<Duration>,
        /// `rate_limited` or `locked`.
        code: String,
    },
    /// The relay could not be reached, or the connection failed mid-way.
    #[error("could not reach the relay")]
    Transport(#[source] reqwest::Error),
    /// The relay's address is refused (see [`crate::Client::new`]).
    #[error("invalid relay URL: {0}")]
    InvalidUrl(&'static str),
    /// The runtime shut down while a token refresh was in flight.
    #[error("the token refresh was interrupted by the runtime shutting down")]
    Interrupted,
    /// The relay answered something this client does not understand: a body of the wrong
    /// shape, or an error that is not problem+json (a proxy in between, a different server).
    #[error("unexpected answer from the relay (status {status}): {what}")]
    Protocol {
        /// The HTTP status of the answer.
        status: u16,
        /// What was expected.
        what: &'static str,
    },
}

impl ClientError {
    /// The API's problem code, for [`ClientError::Api`] and [`ClientError::RateLimited`].
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } | Self::RateLimited { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Turns an error answer into its error: problem+json into [`ClientError::Api`], a `429`
    /// into [`ClientError::RateLimited`], anything else into [`ClientError::Protocol`].
    pub(crate) fn from_answer(status: u16, retry_after: Option<&str>, body: &[u8]) -> Self {
        /// The fields of RFC 9457 problem+json this client reads.
        #[derive(Deserialize)]
        struct Problem {
            code: String,
            #[serde(default)]
            detail: Option<String>,
            #[serde(default)]
            reason: Option<String>,
        }
        let problem = serde_json::from_slice::<Problem>(body).ok();
        if status == 429 {
            return Self::RateLimited {
                retry_after: retry_after
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs),
                code: problem.map_or_else(|| "rate_limited".to_owned(), |p| p.code),
            };
        }
        match problem {
            Some(p) => Self::Api {
                status,
                code: p.code,
                detail: p.detail.unwrap_or_default(),
                reason: p.reason,
            },
            None => Self::Protocol {
                status,
                what: "an error answer that is not problem+json",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_becomes_an_api_error_with_its_code_detail_and_reason() {
        let body = br#"{"type":"https://ringside.dev/problems/weak_password","title":"Invalid",
            "status":422,"code":"weak_password","detail":"choose another","reason":"common"}"#;
        let error = ClientError::from_answer(422, None, body);
        match &error {
            ClientError::Api {
                status,
                code,
                detail,
                reason,
            } => {
                assert_eq!(*status, 422, "the HTTP status is kept");
                assert_eq!(code, "weak_password", "the code is kept for a match");
                assert_eq!(detail, "choose another", "the detail is kept for people");
                assert_eq!(reason.as_deref(), Some("common"), "the reason is kept");
            }
            other => panic!("expected an API error, got {other:?}"),
        }
        assert_eq!(error.code(), Some("weak_password"), "code() reads it");
    }

    #[test]
    fn a_429_is_rate_limited_with_its_retry_after_in_seconds() {
        let body = br#"{"status":429,"code":"locked","title":"Too many requests"}"#;
        let error = ClientError::from_answer(429, Some("17"), body);
        assert!(
            matches!(&error, ClientError::RateLimited { retry_after: Some(d), code }
                if *d == Duration::from_secs(17) && code == "locked"),
            "Retry-After and the code are kept: {error:?}"
        );
        let bare = ClientError::from_answer(429, Some("soon"), b"");
        assert!(
            matches!(&bare, ClientError::RateLimited { retry_after: None, code } if code == "rate_limited"),
            "an unreadable Retry-After and a missing body still make a rate limit: {bare:?}"
        );
    }

    #[test]
    fn an_error_that_is_not_problem_json_is_a_protocol_error_that_does_not_quote_the_body() {
        let body = b"<html>502 Bad Gateway rsa_secret_token</html>";
        let error = ClientError::from_answer(502, None, body);
        assert!(
            matches!(error, ClientError::Protocol { status: 502, .. }),
            "a proxy's HTML page is not an API error: {error:?}"
        );
        let printed = format!("{error} {error:?}");
        assert!(
            !printed.contains("rsa_secret_token"),
            "the body is never quoted: {printed}"
        );
        let no_code = ClientError::from_answer(400, None, br#"{"title":"Bad"}"#);
        assert!(
            matches!(no_code, ClientError::Protocol { status: 400, .. }),
            "a JSON body without a code is not a problem this client can switch on"
        );
    }
}
