//! One webhook delivery, from raw bytes to a committed event.
//!
//! Why one blocking call: the integration row, the org's keys, the sealed secret, the signature
//! check and the transaction that dedupes and applies the event are all synchronous work of well
//! under a millisecond each. Handing each to the blocking pool separately cost a thread handoff
//! apiece, which the benchmarks showed to be most of the time a webhook spent in the relay
//! (docs/benchmarks.md). Here they run one after the other on one blocking thread; only the
//! AMS lookup of a new call's pops runs after, on the runtime, started where the call is applied.

use std::str::FromStr;

use ringside_core::IntegrationId;
use ringside_providers::{
    Outcome, ProviderError, ProviderKind, ProviderSecret, ProviderSettings, Request, WebhookEvent,
    echo_header, verify_and_parse,
};
use time::OffsetDateTime;

use super::Calls;
use super::apply::{self, Applied};
use crate::Error;

/// A webhook as it arrived.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) integration: IntegrationId,
    /// The URL the provider called (for providers that sign over it).
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) received: OffsetDateTime,
}

/// What became of it.
#[derive(Debug)]
pub(crate) enum Ingested {
    /// No active integration has this id.
    Unknown,
    /// The integration's org is terminated: the provider should stop sending (410).
    Gone,
    /// Authentication or parsing failed (logged with its code, nothing else stored).
    Refused(ProviderError),
    /// A subscription handshake to echo.
    Handshake { name: &'static str, echo: String },
    /// Authentic, but nothing we use.
    Ignored,
    /// First sighting: applied.
    Accepted,
    /// Seen before: counted, nothing else.
    Duplicate,
}

/// The outcome, and a header the provider wants echoed on every answer (RingCentral).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) outcome: Ingested,
    pub(crate) echo: Option<(&'static str, String)>,
}

impl Calls {
    /// Authenticates, deduplicates and applies one delivery (on the blocking pool).
    pub(crate) async fn ingest(&self, delivery: Delivery) -> Result<Answer, Error> {
        let calls = self.clone();
        tokio::task::spawn_blocking(move || run(&calls, &delivery))
            .await
            .map_err(Error::task("a webhook"))?
    }
}

fn run(calls: &Calls, delivery: &Delivery) -> Result<Answer, Error> {
    let id = delivery.integration;
    let store = &calls.store;
    let Some((integration, sealed)) = store.integrations().integration_for_webhook(id)? else {
        return Ok(answer(Ingested::Unknown, None));
    };
    if integration.org_terminated {
        return Ok(answer(Ingested::Gone, None));
    }
    let keys = calls.keys.get(integration.org)?;
    let unusable = |what| Error::Integration {
        integration: id,
        what,
    };
    let kind = ProviderKind::from_str(&integration.provider).map_err(|_| unusable("provider"))?;
    let settings: ProviderSettings =
        serde_json::from_str(&integration.settings).map_err(|_| unusable("settings"))?;
    let opened = store
        .integrations()
        .open_integration_secret(integration, &sealed, &keys)?;
    let secret = ProviderSecret::new(opened.secret.as_str()).map_err(|_| unusable("secret"))?;

    let headers: Vec<(&str, &str)> = delivery
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let request = Request {
        url: &delivery.url,
        headers: &headers,
        body: &delivery.body,
    };
    let outcome = verify_and_parse(kind, &secret, &settings, &request, delivery.received);
    let echo = outcome
        .as_ref()
        .ok()
        .and_then(|_| echo_header(kind, &request));
    let at = delivery.received.unix_timestamp();
    let ingested = match outcome {
        Err(err) => {
            if let Err(failed) = store.inbox().record_webhook_outcome(id, err.code(), at) {
                tracing::warn!(integration = %id, error = %failed, "logging a refused webhook failed");
            }
            Ingested::Refused(err)
        }
        Ok(Outcome::Handshake { name, echo }) => Ingested::Handshake { name, echo },
        Ok(Outcome::Event(WebhookEvent::Call(call))) => {
            applied(apply::apply_call(calls, id, &keys, &call, at)?)
        }
        Ok(Outcome::Event(WebhookEvent::Sms(sms))) => {
            applied(apply::apply_sms(calls, id, &keys, &sms, at)?)
        }
        Ok(Outcome::Event(WebhookEvent::Transcript(transcript))) => {
            applied(apply::apply_transcript(calls, id, &keys, &transcript, at)?)
        }
        Ok(Outcome::Event(WebhookEvent::TranscriptReady(ready))) => {
            if super::fetch::transcript_ready(calls, id, &keys, &ready, at)? {
                Ingested::Accepted
            } else {
                Ingested::Ignored
            }
        }
        Ok(_) => {
            store.inbox().record_webhook_outcome(id, "ignored", at)?;
            Ingested::Ignored
        }
    };
    Ok(answer(ingested, echo))
}

fn applied(applied: Applied) -> Ingested {
    match applied {
        Applied::First => Ingested::Accepted,
        Applied::Again => Ingested::Duplicate,
    }
}

fn answer(outcome: Ingested, echo: Option<(&'static str, String)>) -> Answer {
    Answer { outcome, echo }
}
