//! `ringside-providers`: the VoIP providers' webhooks, authenticated and parsed.
//!
//! Each provider signs its webhooks its own way (a JWT body, an HMAC header over the URL and the
//! form, a static token, …). One module per provider checks its scheme over the **raw** bytes, in
//! constant time, before anything is parsed, and turns the payload into the normalized
//! [`CallEvent`] / [`SmsEvent`] / [`TranscriptEvent`] the pipeline works on — with every personal
//! datum already wrapped in [`ringside_core::Pii`]. The relay calls one function, [`verify_and_parse`].
//!
//! The crate is pure (docs/architecture.md#crates-and-dependencies): no store, no network, and no clock — the caller passes `now`.
//! What each provider sends, what we verify and the assumptions we make where the providers'
//! documentation is silent are in `docs/providers.md`.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;
use zeroize::Zeroizing;

pub mod dialpad;
pub mod error;
pub mod event;
mod fields;
pub mod jwt;
pub mod ringcentral;
pub mod simulate;
pub mod standard;
pub mod twilio;
pub mod vonage;

pub use error::ProviderError;
pub use event::{
    CallEvent, CallState, Direction, Number, Routing, SmsEvent, TranscriptEvent, TranscriptReady,
    WebhookEvent,
};

/// The largest body we read. Call events are a few KB; Dialpad's can carry a transcript.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most lines one transcript may have (a Standard Webhooks `call.transcript`, a Dialpad
/// transcript API answer); more is refused, not truncated. An hour of conversation is a few
/// hundred lines.
pub const MAX_TRANSCRIPT_LINES: usize = 5_000;

/// The largest header value we look at (signatures and tokens are far shorter).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// A VoIP provider we accept webhooks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Dialpad: the body is a JWT (HS256).
    Dialpad,
    /// RingCentral: `Validation-Token` handshake and a verification token.
    Ringcentral,
    /// Vonage: Voice API signed JWT, business-phone (VIS) HMAC, SMS API `sig`.
    Vonage,
    /// Twilio: `X-Twilio-Signature`.
    Twilio,
    /// Any sender using the Standard Webhooks format.
    Standard,
}

impl ProviderKind {
    /// Every provider, in a stable order.
    pub const ALL: [Self; 5] = [
        Self::Dialpad,
        Self::Ringcentral,
        Self::Vonage,
        Self::Twilio,
        Self::Standard,
    ];

    /// The lowercase name (`dialpad`, `ringcentral`, …), as in config, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dialpad => "dialpad",
            Self::Ringcentral => "ringcentral",
            Self::Vonage => "vonage",
            Self::Twilio => "twilio",
            Self::Standard => "standard",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderKind {
    type Err = ProviderError;

    fn from_str(s: &str) -> Result<Self, ProviderError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(ProviderError::UnknownProvider)
    }
}

/// An integration's shared secret: the Dialpad webhook secret, RingCentral verification token,
/// Vonage signature secret (or VIS signing key), Twilio auth token, or Standard Webhooks `whsec_…`
/// secret. Its `Debug` prints nothing of it, and it is zeroized when dropped.
#[derive(Clone)]
pub struct ProviderSecret(Zeroizing<String>);

impl ProviderSecret {
    /// Wraps a secret as the operator (or the provider's console) wrote it.
    ///
    /// # Errors
    /// [`ProviderError::InvalidSecret`] when it is empty or has leading/trailing whitespace or
    /// control characters (a copy-paste mistake that would make every request fail).
    pub fn new(secret: impl Into<String>) -> Result<Self, ProviderError> {
        let secret = Zeroizing::new(secret.into());
        if secret.is_empty() {
            return Err(ProviderError::InvalidSecret {
                what: "it is empty",
            });
        }
        if secret.trim() != secret.as_str() || secret.chars().any(char::is_control) {
            return Err(ProviderError::InvalidSecret {
                what: "it has surrounding whitespace or control characters",
            });
        }
        Ok(Self(secret))
    }

    /// The secret's bytes (UTF-8), the HMAC key of most schemes.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The secret as text.
    pub(crate) fn text(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ProviderSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProviderSecret([redacted])")
    }
}

/// Per-integration options where a provider's scheme has variants. The defaults suit every
/// provider; only Vonage has options today.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    /// Vonage business-phone (VIS) webhooks: the header carrying the HMAC-SHA256 signature.
    /// `None` means [`vonage::DEFAULT_VIS_SIGNATURE_HEADER`] (an assumption: see the module docs).
    pub vonage_vis_signature_header: Option<String>,
    /// Vonage SMS API: the signature method chosen in the Vonage dashboard.
    pub vonage_sms_signature_method: vonage::SmsSignatureMethod,
}

/// A webhook request as received, before anything is trusted. Its `Debug` shows the URL without
/// its query, the header names and the body's length: never values that may be secrets or PII.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The full URL the provider called, as it configured it (scheme, host, optional port, path
    /// and query). Twilio signs over it; behind a proxy, build it from the relay's public base URL.
    pub url: &'a str,
    /// The request headers, names in any case. A signature header sent twice is refused.
    pub headers: &'a [(&'a str, &'a str)],
    /// The raw body bytes, exactly as received.
    pub body: &'a [u8],
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Request")
            .field("url", &path)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl<'a> Request<'a> {
    /// The value of a header (case-insensitive name), if present once.
    ///
    /// # Errors
    /// [`ProviderError::Malformed`] when the header is repeated or absurdly long: a signature
    /// header sent twice is ambiguous, and we refuse rather than pick one.
    pub fn header(&self, name: &str) -> Result<Option<&'a str>, ProviderError> {
        let mut found = None;
        for (key, value) in self.headers {
            if key.eq_ignore_ascii_case(name) {
                if found.is_some() {
                    return Err(ProviderError::Malformed {
                        what: "a signature header is repeated",
                    });
                }
                if value.len() > MAX_HEADER_BYTES {
                    return Err(ProviderError::Malformed {
                        what: "a header is too long",
                    });
                }
                found = Some(value.trim());
            }
        }
        Ok(found)
    }

    /// The query string of the URL (after `?`, before any `#`), if any.
    pub(crate) fn query(&self) -> Option<&'a str> {
        let (_, query) = self.url.split_once('?')?;
        Some(query.split_once('#').map_or(query, |(query, _)| query))
    }
}

/// What an authenticated webhook asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "one outcome per request, moved once: boxing would only add an allocation"
)]
pub enum Outcome {
    /// An event to deduplicate and process.
    Event(WebhookEvent),
    /// A subscription handshake (RingCentral): answer 200 with header `name: echo`, an empty JSON
    /// body and nothing else (the whole answer must stay under 1 KB).
    Handshake {
        /// The response header to set.
        name: &'static str,
        /// Its value, already checked to be a short visible-ASCII token.
        echo: String,
    },
    /// An authentic event we do not use (a Dialpad `recording` state, a hold, a delivery
    /// receipt): answer 2xx and do nothing.
    Ignored {
        /// Why, as fixed text for the event log.
        reason: &'static str,
    },
}

/// Authenticates a webhook by its provider's scheme and parses it.
///
/// `now` is the relay's clock (never read here); it bounds signed timestamps and token expiries.
///
/// # Errors
/// A [`ProviderError`] saying why the request was refused; [`ProviderError::http_status`] is the
/// status to answer with.
pub fn verify_and_parse(
    kind: ProviderKind,
    secret: &ProviderSecret,
    settings: &ProviderSettings,
    request: &Request<'_>,
    now: OffsetDateTime,
) -> Result<Outcome, ProviderError> {
    if request.body.len() > MAX_BODY_BYTES {
        return Err(ProviderError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    match kind {
        ProviderKind::Dialpad => dialpad::verify_and_parse(secret, request, now),
        ProviderKind::Ringcentral => ringcentral::verify_and_parse(secret, request),
        ProviderKind::Vonage => vonage::verify_and_parse(secret, settings, request, now),
        ProviderKind::Twilio => twilio::verify_and_parse(secret, request),
        ProviderKind::Standard => standard::verify_and_parse(secret, request, now),
    }
}

/// A header every answer to this provider must carry, whatever the outcome of the event: RingCentral
/// subscriptions that send `Validation-Token` on each notification expect it echoed each time.
/// Call it after [`verify_and_parse`] succeeded.
pub fn echo_header(kind: ProviderKind, request: &Request<'_>) -> Option<(&'static str, String)> {
    match kind {
        ProviderKind::Ringcentral => ringcentral::echo(request),
        _ => None,
    }
}
