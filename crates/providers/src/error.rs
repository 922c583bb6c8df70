//! [`ProviderError`]: the one error type of this crate. Every way a webhook can be refused is its
//! own variant, so the relay answers with the right status (401 for anything that fails
//! authentication — providers do not retry 4xx, which is what we want for forgeries — 400/422 for
//! malformed requests, 413 for oversize bodies) and counts refusals by kind.
//!
//! Messages are fixed text plus static names: none ever contains the body, a header value, a phone
//! number or a name, so an error can be logged as it is.

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The header (or parameter) that should carry the signature or token is absent.
    #[error("missing signature: the request has no {what}")]
    MissingSignature {
        /// Which header or parameter was expected.
        what: &'static str,
    },
    /// A signature, token or MAC did not match: wrong secret, tampered body, URL or header.
    #[error("bad signature: the request was not signed with this integration's secret")]
    BadSignature,
    /// The signature was valid but the hash of the body it carries does not match the body.
    #[error("the body does not match the hash its signature covers")]
    BodyHashMismatch,
    /// A signed timestamp (or token expiry) is further from our clock than the tolerance allows.
    #[error("the signed timestamp is outside the allowed tolerance")]
    TimestampOutOfTolerance,
    /// The request names an algorithm or signature scheme we do not accept (e.g. JWT `none` or
    /// `RS256`, a Standard Webhooks `v1a` signature).
    #[error("unsupported signature algorithm: {what}")]
    UnsupportedAlgorithm {
        /// What was refused, as fixed text.
        what: &'static str,
    },
    /// The request could not be read far enough to authenticate it (bad encoding, bad header).
    #[error("malformed request: {what}")]
    Malformed {
        /// What was wrong, as fixed text.
        what: &'static str,
    },
    /// The request was authentic but its content is not an event we can read.
    #[error("unprocessable event: {what}")]
    Unprocessable {
        /// What was wrong, as fixed text.
        what: &'static str,
    },
    /// The body is larger than [`crate::MAX_BODY_BYTES`].
    #[error("the body is larger than the {limit}-byte limit")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The integration's stored secret is not usable for its provider (e.g. a Standard Webhooks
    /// secret that is not base64). A configuration fault on our side, not the sender's.
    #[error("the integration's secret is not valid for this provider: {what}")]
    InvalidSecret {
        /// What was wrong, as fixed text.
        what: &'static str,
    },
    /// A provider name that is not one of dialpad, ringcentral, vonage, twilio, standard.
    #[error("unknown provider: expected dialpad, ringcentral, vonage, twilio or standard")]
    UnknownProvider,
}

impl ProviderError {
    /// The HTTP status the webhook endpoint answers with.
    ///
    /// 401 for every authentication failure (the sender cannot fix it by retrying, and providers
    /// do not retry 4xx); 400 for a request we cannot even authenticate; 422 for an authentic
    /// request we cannot read; 413 for an oversize body; 500 for our own misconfiguration.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::MissingSignature { .. }
            | Self::BadSignature
            | Self::BodyHashMismatch
            | Self::TimestampOutOfTolerance
            | Self::UnsupportedAlgorithm { .. } => 401,
            Self::Malformed { .. } => 400,
            Self::Unprocessable { .. } => 422,
            Self::BodyTooLarge { .. } => 413,
            Self::InvalidSecret { .. } | Self::UnknownProvider => 500,
        }
    }

    /// A short stable name for metrics and the webhook event log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature { .. } => "missing_signature",
            Self::BadSignature => "bad_signature",
            Self::BodyHashMismatch => "body_hash_mismatch",
            Self::TimestampOutOfTolerance => "timestamp_out_of_tolerance",
            Self::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            Self::Malformed { .. } => "malformed",
            Self::Unprocessable { .. } => "unprocessable",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::InvalidSecret { .. } => "invalid_secret",
            Self::UnknownProvider => "unknown_provider",
        }
    }

    /// Whether this is an authentication failure (the request must be treated as forged).
    pub fn is_auth_failure(&self) -> bool {
        self.http_status() == 401
    }
}
