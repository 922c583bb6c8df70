//! Vonage: three products, three schemes, one integration secret.
//!
//! - **Voice / Messages API** (`Authorization: Bearer <JWT>`): HS256 with the account's signature
//!   secret, pinned like Dialpad's; the `payload_hash` claim must equal the hex SHA-256 of the raw
//!   body (required whenever there is a body); an `exp` claim, if present, is honoured.
//! - **SMS API** (`sig` parameter, in the query or the form body): the parameters sorted by name
//!   as `&name=value` (with `&` and `=` in values replaced by `_`), then `md5hash` = MD5(that +
//!   secret) or an HMAC (MD5/SHA-1/SHA-256/SHA-512) keyed with the secret, hex, compared
//!   case-insensitively in constant time. The method is the one set in the Vonage dashboard
//!   ([`SmsSignatureMethod`], in the integration's settings).
//! - **Business phone / VIS** (webhooks created with `signingAlgo: HMAC_SHA256`): HMAC-SHA256
//!   with the signing key over the raw body. Vonage documents neither the header nor the encoding,
//!   so the header is configurable (default [`DEFAULT_VIS_SIGNATURE_HEADER`], an ASSUMPTION to
//!   confirm with a sandbox capture) and the value may be hex or base64, optionally prefixed
//!   `sha256=`.
//!
//! The scheme is picked by what the request carries: a bearer token, else a `sig` parameter, else
//! the VIS header; none of them is [`ProviderError::MissingSignature`]. A request is never
//! accepted by a weaker scheme because a stronger one failed.

use md5::Md5;
use ringside_core::Pii;
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::event::{Number, Routing, wipe};
use crate::fields::{Params, base64_any, clean_id, direction, id_or_string, pii_string, rfc3339};
use crate::{
    CallEvent, CallState, Direction, Outcome, ProviderError, ProviderKind, ProviderSecret,
    ProviderSettings, Request, SmsEvent, WebhookEvent, jwt,
};

/// The header we read a VIS signature from unless the integration names another.
/// ASSUMPTION: not confirmed by Vonage's public documentation.
pub const DEFAULT_VIS_SIGNATURE_HEADER: &str = "X-Vonage-Signature";

/// How far past a Voice JWT's `exp` we still accept it.
pub const EXP_LEEWAY_SECS: i64 = 300;

/// The SMS API signature method, as chosen in the Vonage dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsSignatureMethod {
    /// MD5 of the parameters followed by the secret (Vonage's legacy default).
    #[default]
    Md5hash,
    /// HMAC-MD5.
    Md5,
    /// HMAC-SHA1.
    Sha1,
    /// HMAC-SHA256 (recommended).
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// Verifies and parses one Vonage webhook.
///
/// # Errors
/// The scheme's authentication errors (see the module docs); [`ProviderError::Unprocessable`]
/// for an authentic body we cannot read.
pub fn verify_and_parse(
    secret: &ProviderSecret,
    settings: &ProviderSettings,
    request: &Request<'_>,
    now: OffsetDateTime,
) -> Result<Outcome, ProviderError> {
    if let Some(authorization) = request.header("Authorization")? {
        let token = authorization
            .strip_prefix("Bearer ")
            .or_else(|| authorization.strip_prefix("bearer "))
            .ok_or(ProviderError::UnsupportedAlgorithm {
                what: "Authorization scheme other than Bearer",
            })?;
        return voice(secret, request, token.trim(), now);
    }
    let params = sms_params(request)?;
    if params.contains("sig") {
        return sms(secret, settings.vonage_sms_signature_method, params);
    }
    let header = settings
        .vonage_vis_signature_header
        .as_deref()
        .unwrap_or(DEFAULT_VIS_SIGNATURE_HEADER);
    match request.header(header)? {
        Some(signature) => vis(secret, request.body, signature),
        None => Err(ProviderError::MissingSignature {
            what: "Authorization bearer token, SMS sig parameter or VIS signature header",
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Voice / Messages API: signed JWT.

#[derive(Deserialize, Default)]
#[serde(default)]
struct Claims {
    payload_hash: Option<String>,
    exp: Option<i64>,
}

fn voice(
    secret: &ProviderSecret,
    request: &Request<'_>,
    token: &str,
    now: OffsetDateTime,
) -> Result<Outcome, ProviderError> {
    let claims = jwt::verify_hs256(token.as_bytes(), secret.bytes())?;
    let claims: Claims = serde_json::from_slice(&claims).map_err(|_| ProviderError::Malformed {
        what: "the Vonage JWT claims are not a JSON object",
    })?;
    if let Some(exp) = claims.exp
        && now.unix_timestamp() > exp.saturating_add(EXP_LEEWAY_SECS)
    {
        return Err(ProviderError::TimestampOutOfTolerance);
    }
    let has_body = !request.body.iter().all(u8::is_ascii_whitespace);
    match claims.payload_hash {
        Some(claimed) => {
            let actual = hex::encode(Sha256::digest(request.body));
            let claimed = claimed.trim().to_ascii_lowercase();
            if !bool::from(actual.as_bytes().ct_eq(claimed.as_bytes())) {
                return Err(ProviderError::BodyHashMismatch);
            }
        }
        None if has_body => return Err(ProviderError::BodyHashMismatch),
        None => {}
    }
    if !has_body {
        // The JWT does not cover the URL: fields in a GET query are not authenticated, so we do
        // not read them (event callbacks are POSTed with a JSON body by default).
        return Ok(Outcome::Ignored {
            reason: "a Vonage callback without a body",
        });
    }
    let params = Params::from_json(request.body)?;
    if params.contains("message_uuid") {
        return Ok(message(&params));
    }
    voice_event(&params)
}

/// Our state for a Voice API call `status`; `None` for statuses we do not use.
pub fn map_voice_status(status: &str) -> Option<CallState> {
    Some(match status {
        "started" | "ringing" => CallState::Ringing,
        "answered" => CallState::Answered,
        "completed" => CallState::Ended,
        "busy" | "cancelled" | "failed" | "rejected" | "timeout" | "unanswered" => {
            CallState::Missed
        }
        _ => return None,
    })
}

fn voice_event(params: &Params) -> Result<Outcome, ProviderError> {
    let Some(status) = params.get("status").map(|s| s.trim().to_ascii_lowercase()) else {
        return Ok(Outcome::Ignored {
            reason: "a Vonage Voice callback without a call status",
        });
    };
    let Some(state) = map_voice_status(&status) else {
        return Ok(Outcome::Ignored {
            reason: "a Vonage Voice status we do not use",
        });
    };
    let call_id = params.id("uuid").ok_or(ProviderError::Unprocessable {
        what: "the Vonage Voice event has no uuid",
    })?;
    let direction = direction(params.get("direction"));
    let from = params.get("from").and_then(Number::parse);
    let to = params.get("to").and_then(Number::parse);
    let routing = Routing::by_call_numbers(direction, from.as_ref(), to.as_ref());
    Ok(Outcome::Event(WebhookEvent::Call(CallEvent {
        provider: ProviderKind::Vonage,
        event_id: format!("{call_id}:{status}"),
        parent_call_id: params.id("conversation_uuid"),
        call_id,
        direction,
        state,
        provider_state: status,
        from,
        to,
        contact_name: None,
        routing,
        occurred_at: params.get("timestamp").and_then(rfc3339),
    })))
}

fn message(params: &Params) -> Outcome {
    let Some(message_id) = params.id("message_uuid") else {
        return Outcome::Ignored {
            reason: "a Vonage message without an id",
        };
    };
    if params.get("text").is_none() {
        return Outcome::Ignored {
            reason: "a Vonage message status, not a message",
        };
    }
    inbound_message(
        params,
        message_id,
        "from",
        params.get("timestamp").and_then(rfc3339),
    )
}

// ---------------------------------------------------------------------------------------------
// SMS API: `sig`.

/// The SMS API's parameters: the query, then the body (form or JSON).
fn sms_params(request: &Request<'_>) -> Result<Params, ProviderError> {
    let mut params = Params::parse(request.query().unwrap_or_default().as_bytes());
    let body = request.body.trim_ascii();
    if body.first() == Some(&b'{') {
        // A JSON body (a VIS event, or an SMS callback sent as JSON): its `sig`, if any, counts.
        if let Ok(json) = Params::from_json(body) {
            params.fill_from(json);
        }
    } else if !body.is_empty() {
        params.fill_from(Params::parse(body));
    }
    Ok(params)
}

/// The SMS API signature of `params` (without `sig`) under `secret`, as lowercase hex.
pub fn sms_signature(method: SmsSignatureMethod, secret: &[u8], params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().filter(|(k, _)| *k != "sig").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut query = String::new();
    for (name, value) in sorted {
        query.push('&');
        query.push_str(name);
        query.push('=');
        query.extend(
            value
                .chars()
                .map(|c| if c == '&' || c == '=' { '_' } else { c }),
        );
    }
    let signature = match method {
        SmsSignatureMethod::Md5hash => {
            let mut md5 = Md5::new();
            md5.update(query.as_bytes());
            md5.update(secret);
            hex::encode(md5.finalize())
        }
        hmac_method => hmac_hex(hmac_method, secret, query.as_bytes()),
    };
    wipe(query.into_bytes());
    signature
}

/// Hex HMAC of `data` under `key` with the digest of `method` (MD5 hash is not an HMAC).
fn hmac_hex(method: SmsSignatureMethod, key: &[u8], data: &[u8]) -> String {
    use hmac::Mac as _;
    macro_rules! hmac_hex {
        ($digest:ty) => {{
            let mut mac = <hmac::Hmac<$digest> as hmac::digest::KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
            mac.update(data);
            hex::encode(mac.finalize().into_bytes())
        }};
    }
    match method {
        SmsSignatureMethod::Md5hash | SmsSignatureMethod::Md5 => hmac_hex!(Md5),
        SmsSignatureMethod::Sha1 => hmac_hex!(Sha1),
        SmsSignatureMethod::Sha256 => hmac_hex!(Sha256),
        SmsSignatureMethod::Sha512 => hmac_hex!(Sha512),
    }
}

fn sms(
    secret: &ProviderSecret,
    method: SmsSignatureMethod,
    mut params: Params,
) -> Result<Outcome, ProviderError> {
    let sig = params
        .remove("sig")
        .and_then(|mut values| values.pop())
        .ok_or(ProviderError::MissingSignature {
            what: "sig parameter",
        })?;
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .filter_map(|(name, values)| values.first().map(|v| (name.as_str(), v.as_str())))
        .collect();
    let expected = sms_signature(method, secret.bytes(), &pairs);
    let given = sig.trim().to_ascii_lowercase();
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return Err(ProviderError::BadSignature);
    }
    Ok(sms_event(&params))
}

fn sms_event(params: &Params) -> Outcome {
    let (Some(message_id), Some(_)) = (params.id("messageId"), params.get("text")) else {
        return Outcome::Ignored {
            reason: "a Vonage SMS API callback that is not an inbound message",
        };
    };
    let occurred_at = params
        .get("message-timestamp")
        .and_then(|text| {
            time::PrimitiveDateTime::parse(
                text.trim(),
                time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
            )
            .ok()
        })
        .map(time::PrimitiveDateTime::assume_utc);
    inbound_message(params, message_id, "msisdn", occurred_at)
}

/// An inbound message (Messages or SMS API): `to` and `text`, the sender in `from_field`; the
/// message id is its dedupe identity.
fn inbound_message(
    params: &Params,
    message_id: String,
    from_field: &str,
    occurred_at: Option<OffsetDateTime>,
) -> Outcome {
    Outcome::Event(WebhookEvent::Sms(SmsEvent::inbound_to_one(
        ProviderKind::Vonage,
        message_id.clone(),
        message_id,
        params.get(from_field).and_then(Number::parse),
        params.get("to").and_then(Number::parse),
        params.pii("text"),
        occurred_at,
    )))
}

// ---------------------------------------------------------------------------------------------
// Business phone (VIS): HMAC-SHA256 over the body.

#[derive(Deserialize)]
struct VisEnvelope {
    event: Option<VisEvent>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct VisEvent {
    #[serde(deserialize_with = "id_or_string")]
    id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    external_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    user_id: Option<String>,
    #[serde(deserialize_with = "id_or_string")]
    extension: Option<String>,
    direction: Option<String>,
    #[serde(deserialize_with = "pii_string")]
    phone_number: Option<Pii<String>>,
    #[serde(deserialize_with = "pii_string")]
    caller_id: Option<Pii<String>>,
    state: Option<String>,
    start_time: Option<String>,
    answer_time: Option<String>,
    end_time: Option<String>,
}

/// Our state for a VIS call state (any case, spaces or underscores); `None` for states we do
/// not use (held, remote held).
pub fn map_vis_state(state: &str, direction: Direction) -> Option<CallState> {
    let normalized: String = state
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Some(match normalized.as_str() {
        "INITIALIZING" | "RINGING" => CallState::Ringing,
        "ACTIVE" => CallState::Answered,
        // ANSWERED is VIS's final state for a call that was answered and has ended.
        "ANSWERED" => CallState::Ended,
        "CANCELLED" if direction == Direction::Inbound => CallState::Missed,
        "CANCELLED" => CallState::Ended,
        "MISSED" | "REJECTED" => CallState::Missed,
        _ => return None,
    })
}

fn vis(secret: &ProviderSecret, body: &[u8], signature: &str) -> Result<Outcome, ProviderError> {
    let value = signature
        .strip_prefix("sha256=")
        .unwrap_or(signature)
        .trim();
    let given = if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(value).ok()
    } else {
        base64_any(value)
    }
    .ok_or(ProviderError::Malformed {
        what: "the VIS signature is neither hex nor base64",
    })?;
    let expected = jwt::hmac_sha256(secret.bytes(), body);
    if !bool::from(expected.as_slice().ct_eq(&given)) {
        return Err(ProviderError::BadSignature);
    }
    let envelope: VisEnvelope =
        serde_json::from_slice(body).map_err(|_| ProviderError::Unprocessable {
            what: "the VIS body is not a JSON object of the expected shape",
        })?;
    let Some(event) = envelope.event else {
        return Ok(Outcome::Ignored {
            reason: "a VIS notification without an event",
        });
    };
    let direction = direction(event.direction.as_deref());
    let provider_state =
        event
            .state
            .as_deref()
            .and_then(clean_id)
            .ok_or(ProviderError::Unprocessable {
                what: "the VIS event has no state",
            })?;
    let Some(state) = map_vis_state(&provider_state, direction) else {
        return Ok(Outcome::Ignored {
            reason: "a VIS call state we do not use",
        });
    };
    // `externalId` is `{call_id}_{extension}`.
    let (call_id, external_extension) = match event.external_id.as_deref() {
        Some(external) => match external.split_once('_') {
            Some((call, extension)) => (Some(call.to_owned()), clean_id(extension)),
            None => (Some(external.to_owned()), None),
        },
        None => (event.id.clone(), None),
    };
    let call_id = call_id
        .and_then(|c| clean_id(&c))
        .ok_or(ProviderError::Unprocessable {
            what: "the VIS event has no call id",
        })?;
    let identity = event.id.clone().unwrap_or_else(|| call_id.clone());
    let remote = Number::from_pii(event.phone_number.as_ref().or(event.caller_id.as_ref()));
    let (from, to) = match direction {
        Direction::Outbound => (None, remote),
        Direction::Inbound | Direction::Unknown => (remote, None),
    };
    let occurred_at = [&event.end_time, &event.answer_time, &event.start_time]
        .into_iter()
        .find_map(|t| t.as_deref().and_then(rfc3339));
    Ok(Outcome::Event(WebhookEvent::Call(CallEvent {
        provider: ProviderKind::Vonage,
        event_id: format!("{identity}:{}", provider_state.to_ascii_uppercase()),
        call_id,
        parent_call_id: None,
        direction,
        state,
        provider_state,
        from,
        to,
        contact_name: None,
        routing: Routing {
            provider_user_id: event.user_id,
            extension: event.extension.or(external_extension),
            dialed_number: None,
        },
        occurred_at,
    })))
}

/// Signs a VIS body as we expect Vonage to (hex HMAC-SHA256): for the simulator and tests.
pub fn sign_vis(secret: &[u8], body: &[u8]) -> String {
    hex::encode(jwt::hmac_sha256(secret, body))
}
