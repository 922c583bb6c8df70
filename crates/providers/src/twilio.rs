//! Twilio: `X-Twilio-Signature` = Base64(HMAC-SHA1(auth token, URL + every POST parameter sorted
//! by name as `name` + `value`)). A multi-valued parameter contributes each of its values, sorted
//! and de-duplicated (as Twilio's Python SDK does). Twilio is inconsistent about the default port
//! (`:443`/`:80`) in the URL it signs, so — like the SDK — we accept the signature computed with
//! and without it. JSON bodies are signed differently: the URL carries `bodySHA256=<hex SHA-256 of
//! the raw body>`, the signature covers the URL alone, and the hash is checked separately.
//!
//! The URL must be the one Twilio was configured with. Behind a proxy the relay builds it from its
//! public base URL (see `docs/providers.md`). There is no timestamp; dedupe identity is the
//! `I-Twilio-Idempotency-Token` header when sent, else `CallSid:CallStatus` (or
//! `MessageSid:MessageStatus`).
//!
//! `CallStatus`: queued/initiated/ringing → ringing, in-progress → answered, completed → ended,
//! busy/no-answer/canceled/failed → missed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use crate::event::{Number, Routing};
use crate::fields::{Params, clean_id, direction};
use crate::{
    CallEvent, CallState, Outcome, ProviderError, ProviderKind, ProviderSecret, Request, SmsEvent,
    WebhookEvent,
};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The idempotency header Twilio sends (used for dedupe when present).
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// The signature of `url` and `params` under `auth_token`, Base64.
pub fn signature(auth_token: &[u8], url: &str, params: &[(&str, &str)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

fn mac(auth_token: &[u8], url: &str, params: &[(&str, &str)]) -> Hmac<Sha1> {
    let mut sorted: Vec<(&str, &str)> = params.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(auth_token)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The URL with the default port made explicit, and without it: Twilio signs one or the other.
/// Any other port is kept as it is. `None` when the URL has no `scheme://host`.
fn port_variants(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // Userinfo (`user:pass@host`) is kept; the port is after the host, past any `]` of IPv6.
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let (userinfo, host_port) = authority.split_at(host_start);
    let port_at = host_port
        .rfind(':')
        .filter(|&colon| !host_port[colon..].contains(']'));
    let host = match port_at {
        Some(colon) if &host_port[colon + 1..] == default_port => &host_port[..colon],
        Some(_) => return Some((url.to_owned(), url.to_owned())),
        None => host_port,
    };
    Some((
        format!("{scheme}://{userinfo}{host}:{default_port}{tail}"),
        format!("{scheme}://{userinfo}{host}{tail}"),
    ))
}

/// Verifies and parses one Twilio webhook.
///
/// # Errors
/// [`ProviderError::MissingSignature`], [`ProviderError::BadSignature`],
/// [`ProviderError::BodyHashMismatch`] for a JSON body that does not match `bodySHA256`,
/// [`ProviderError::Unprocessable`] for an authentic request we cannot read.
pub fn verify_and_parse(
    secret: &ProviderSecret,
    request: &Request<'_>,
) -> Result<Outcome, ProviderError> {
    let given = request
        .header(SIGNATURE_HEADER)?
        .ok_or(ProviderError::MissingSignature {
            what: "X-Twilio-Signature header",
        })?;
    let given = STANDARD
        .decode(given)
        .map_err(|_| ProviderError::Malformed {
            what: "X-Twilio-Signature is not base64",
        })?;
    let query = Params::parse(request.query().unwrap_or_default().as_bytes());
    let body_hash = query.get("bodySHA256");
    // A JSON body is covered by `bodySHA256` in the URL; a form body by its parameters.
    let signed = match body_hash {
        Some(_) => Params::default(),
        None => Params::parse(request.body),
    };
    let pairs: Vec<(&str, &str)> = signed
        .iter()
        .flat_map(|(name, values)| values.iter().map(move |v| (name.as_str(), v.as_str())))
        .collect();
    let (with_port, without_port) = port_variants(request.url)
        .unwrap_or_else(|| (request.url.to_owned(), request.url.to_owned()));
    let matches = |url: &str| {
        mac(secret.bytes(), url, &pairs)
            .verify_slice(&given)
            .is_ok()
    };
    // Both are computed, so timing does not tell which variant matched (not that it is secret).
    let with = matches(&with_port);
    let without = matches(&without_port);
    if !(with | without) {
        return Err(ProviderError::BadSignature);
    }
    let mut fields = match body_hash {
        Some(claimed) => {
            let actual = hex::encode(Sha256::digest(request.body));
            let claimed = claimed.trim().to_ascii_lowercase();
            if !bool::from(actual.as_bytes().ct_eq(claimed.as_bytes())) {
                return Err(ProviderError::BodyHashMismatch);
            }
            Params::from_json(request.body)?
        }
        None => signed,
    };
    // GET webhooks carry their parameters in the (signed) query.
    fields.fill_from(query);
    let idempotency = request.header(IDEMPOTENCY_HEADER)?.and_then(clean_id);
    parse(&fields, idempotency)
}

/// Our state for a `CallStatus`; `None` for statuses we do not use.
pub fn map_call_status(status: &str) -> Option<CallState> {
    Some(match status {
        "queued" | "initiated" | "ringing" => CallState::Ringing,
        "in-progress" | "answered" => CallState::Answered,
        "completed" => CallState::Ended,
        "busy" | "no-answer" | "canceled" | "failed" => CallState::Missed,
        _ => return None,
    })
}

fn parse(fields: &Params, idempotency: Option<String>) -> Result<Outcome, ProviderError> {
    if let Some(call_id) = fields.id("CallSid") {
        let Some(status) = fields
            .get("CallStatus")
            .map(|s| s.trim().to_ascii_lowercase())
        else {
            return Ok(Outcome::Ignored {
                reason: "a Twilio call webhook without CallStatus",
            });
        };
        let Some(state) = map_call_status(&status) else {
            return Ok(Outcome::Ignored {
                reason: "a Twilio call status we do not use",
            });
        };
        let direction = direction(fields.get("Direction"));
        let from = fields.get("From").and_then(Number::parse);
        let to = fields.get("To").and_then(Number::parse);
        let routing = Routing::by_call_numbers(direction, from.as_ref(), to.as_ref());
        return Ok(Outcome::Event(WebhookEvent::Call(CallEvent {
            provider: ProviderKind::Twilio,
            event_id: idempotency.unwrap_or_else(|| format!("{call_id}:{status}")),
            parent_call_id: fields.id("ParentCallSid"),
            call_id,
            direction,
            state,
            provider_state: status,
            from,
            to,
            contact_name: fields.pii("CallerName"),
            routing,
            occurred_at: fields.get("Timestamp").and_then(|t| {
                time::OffsetDateTime::parse(
                    t.trim(),
                    &time::format_description::well_known::Rfc2822,
                )
                .ok()
            }),
        })));
    }
    if let Some(message_id) = fields.id("MessageSid") {
        if fields.get("Body").is_none() {
            return Ok(Outcome::Ignored {
                reason: "a Twilio message status callback",
            });
        }
        let status = fields
            .get("SmsStatus")
            .unwrap_or("received")
            .to_ascii_lowercase();
        return Ok(Outcome::Event(WebhookEvent::Sms(SmsEvent::inbound_to_one(
            ProviderKind::Twilio,
            idempotency.unwrap_or_else(|| format!("{message_id}:{status}")),
            message_id,
            fields.get("From").and_then(Number::parse),
            fields.get("To").and_then(Number::parse),
            fields.pii("Body"),
            None,
        ))));
    }
    Ok(Outcome::Ignored {
        reason: "a Twilio webhook that is neither a call nor a message",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_port_is_added_and_removed_and_other_ports_are_kept() {
        for (url, with, without) in [
            (
                "https://a.example/x?y=1",
                "https://a.example:443/x?y=1",
                "https://a.example/x?y=1",
            ),
            (
                "https://a.example:443/x",
                "https://a.example:443/x",
                "https://a.example/x",
            ),
            (
                "http://a.example",
                "http://a.example:80",
                "http://a.example",
            ),
            (
                "https://u:p@a.example/x",
                "https://u:p@a.example:443/x",
                "https://u:p@a.example/x",
            ),
            ("https://[::1]/x", "https://[::1]:443/x", "https://[::1]/x"),
            (
                "https://a.example:8443/x",
                "https://a.example:8443/x",
                "https://a.example:8443/x",
            ),
        ] {
            assert_eq!(
                port_variants(url),
                Some((with.to_owned(), without.to_owned())),
                "port variants of {url}"
            );
        }
        assert_eq!(port_variants("not a url"), None, "no scheme, no variants");
        assert_eq!(port_variants("ftp://a/x"), None, "only http and https");
    }
}
