//! [`AmsError`]: every way asking an AMS can fail, each mapped to one stable `reason` string — the
//! `failed {reason}` an agent's pop shows, the answer of `ams test`, and what the sync worker
//! decides to retry on.
//!
//! No variant carries what the AMS answered or what was asked: a body could hold a client's name,
//! a URL a phone number. Errors name the kind of failure and, at most, an HTTP status.

use std::time::Duration;

/// Why an AMS request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmsError {
    /// The AMS refused the credentials (401, or the token grant failed).
    #[error("the AMS refused the credentials")]
    Credentials,
    /// The credentials are valid but may not do this (403: a missing scope, an agency not shared).
    #[error("the AMS credentials lack a permission this needs")]
    Forbidden,
    /// The AMS asked us to slow down; try again no sooner than `retry_after`.
    #[error("the AMS is rate limiting (retry after {retry_after:?})")]
    RateLimited {
        /// From the answer's `Retry-After`, when it had one.
        retry_after: Option<Duration>,
    },
    /// The AMS could not be reached, or answered 5xx.
    #[error("the AMS is unavailable")]
    Unavailable,
    /// No answer within the request budget (`ams.timeout_ms`).
    #[error("the AMS did not answer in time")]
    Timeout,
    /// The AMS answered something we cannot use: not JSON of the expected shape, or too large.
    #[error("the AMS answered something unreadable: {0}")]
    InvalidResponse(&'static str),
    /// The AMS refused the request itself (another 4xx): our request or its configuration.
    #[error("the AMS refused the request (HTTP {0})")]
    Rejected(u16),
    /// This AMS cannot do what was asked (say, search its activities).
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// The connection's settings are unusable (a base URL that is not https off loopback,
    /// credentials with missing or extra fields, an unknown kind).
    #[error("invalid {field}: {message}")]
    Config {
        /// What is wrong: `kind`, `base_url`, `credentials`, …
        field: &'static str,
        /// Why, for people (never a value).
        message: String,
    },
}

impl AmsError {
    /// A [`AmsError::Config`] about `field`.
    pub fn config(field: &'static str, message: impl Into<String>) -> Self {
        Self::Config {
            field,
            message: message.into(),
        }
    }

    /// The stable reason code: `credentials`, `forbidden`, `rate_limited`, `unavailable`,
    /// `timeout`, `invalid_response`, `rejected` or `config` (docs/ams.md#failures).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Credentials => "credentials",
            Self::Forbidden => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::InvalidResponse(_) => "invalid_response",
            Self::Rejected(_) => "rejected",
            Self::Config { .. } => "config",
            Self::Unsupported(_) => "unsupported",
        }
    }

    /// Whether an admin must act (new credentials or scopes) before asking again helps.
    pub fn needs_admin(&self) -> bool {
        matches!(
            self,
            Self::Credentials | Self::Forbidden | Self::Config { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_own_stable_reason() {
        let all = [
            AmsError::Credentials,
            AmsError::Forbidden,
            AmsError::RateLimited { retry_after: None },
            AmsError::Unavailable,
            AmsError::Timeout,
            AmsError::InvalidResponse("x"),
            AmsError::Rejected(400),
            AmsError::config("x", "y"),
            AmsError::Unsupported("x"),
        ];
        let mut reasons: Vec<&str> = all.iter().map(AmsError::reason).collect();
        reasons.sort_unstable();
        reasons.dedup();
        assert_eq!(reasons.len(), all.len());
        assert!(AmsError::Credentials.needs_admin() && !AmsError::Timeout.needs_admin());
    }
}
