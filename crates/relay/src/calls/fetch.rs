//! Transcripts a provider keeps in its API rather than in its webhooks: Dialpad announces a
//! call's post-call AI transcript (`call_transcription`) and serves it at
//! `GET {api}/transcripts/{call_id}`. Where the integration has an API key
//! (`PUT /v1/admin/integrations/{id}/api-key`), the announcement starts a fetch on the runtime;
//! the lines are kept like a webhook's transcript (sealed, for the sync) and the sync is woken.
//!
//! Why not inside the webhook request: Dialpad's API may take seconds, and the webhook must be
//! answered at once. A fetch that fails is retried twice (2 s, then 10 s) for a timeout, a 429
//! or a 5xx; after that the note goes without the transcript once `sync.transcript_grace_secs`
//! is over. The key travels only in its `Authorization` header; logs carry statuses, never the
//! key, the URL's call id or a word of the transcript.

use std::sync::Arc;
use std::time::Duration;

use ringside_core::IntegrationId;
use ringside_providers::{TranscriptReady, dialpad};
use ringside_store::{InboundEvent, TranscriptStored};
use ringside_vault::OrgKeyring;
use zeroize::Zeroizing;

use super::Calls;
use crate::Error;
use crate::error::on_blocking_pool;

/// The most bytes of a transcript answer read (5,000 lines of speech fit easily).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The waits before the second and third attempts.
const RETRY_WAITS: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(10)];

/// The HTTP client the fetches use: no redirects (a key never follows a `Location`), bounded.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ringside-relay/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

struct Job {
    integration: IntegrationId,
    keys: Arc<OrgKeyring>,
    ready: TranscriptReady,
    key: Zeroizing<String>,
    url: String,
    received_at: i64,
}

/// A transcript is ready in the provider's API (blocking: reads the key). Starts its fetch when
/// the integration has an API key and answers `true`; otherwise there is nothing to do (the
/// note goes without it): `false`.
pub(crate) fn transcript_ready(
    calls: &Calls,
    integration: IntegrationId,
    keys: &Arc<OrgKeyring>,
    ready: &TranscriptReady,
    received_at: i64,
) -> Result<bool, Error> {
    let store = &calls.store;
    let api_key = store
        .integrations()
        .open_integration_api_key(keys.org(), integration, keys)?;
    let outcome = if api_key.is_some() {
        "transcript_ready"
    } else {
        "ignored"
    };
    store
        .inbox()
        .record_webhook_outcome(integration, outcome, received_at)?;
    let Some(api_key) = api_key else {
        tracing::debug!(%integration, "a transcript is ready but the integration has no API key");
        return Ok(false);
    };
    let base = api_key.api_base.as_deref().unwrap_or(dialpad::API_BASE);
    let job = Job {
        integration,
        keys: Arc::clone(keys),
        url: dialpad::transcript_url(base, &ready.call_id),
        ready: ready.clone(),
        key: api_key.key,
        received_at,
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(fetch(calls.clone(), job))),
        Err(_) => tracing::error!(%integration, "no runtime to fetch the transcript on"),
    }
    Ok(true)
}

/// Why one attempt failed.
enum Failed {
    /// Worth another try (timeout, 429, 5xx).
    Again(&'static str),
    /// Not (a 4xx, an answer that is no transcript).
    Never(&'static str),
}

async fn fetch(calls: Calls, job: Job) {
    let integration = job.integration;
    let mut waits = RETRY_WAITS.iter();
    let answer = loop {
        match attempt(&calls.http, &job).await {
            Ok(body) => break body,
            Err(Failed::Again(why)) => match waits.next() {
                Some(wait) => {
                    tracing::info!(%integration, reason = why, "transcript fetch: retrying");
                    tokio::time::sleep(*wait).await;
                }
                None => {
                    tracing::warn!(%integration, reason = why, "transcript fetch: gave up");
                    return;
                }
            },
            Err(Failed::Never(why)) => {
                tracing::warn!(%integration, reason = why, "transcript fetch: refused");
                return;
            }
        }
    };
    let utterances = match dialpad::transcript_from_api(&answer) {
        Ok(lines) if lines.is_empty() => {
            tracing::debug!(%integration, "transcript fetch: no speech");
            return;
        }
        Ok(lines) => lines,
        Err(err) => {
            tracing::warn!(%integration, reason = err.code(), "transcript fetch: unreadable");
            return;
        }
    };
    let store = Arc::clone(&calls.store);
    let (keys, ready, now) = (job.keys, job.ready, job.received_at);
    let kept = on_blocking_pool("a fetched transcript", move || {
        let event_id = format!("{}:call_transcription:api", ready.call_id);
        let inbound = InboundEvent {
            integration,
            org: keys.org(),
            event_id: &event_id,
            event_json: &[],
            received_at: now,
        };
        Ok(store
            .inbox()
            .accept_transcript_event(&inbound, ready.call_key(), &utterances, &keys)?)
    })
    .await;
    match kept {
        Ok(Some(TranscriptStored::Kept(call))) => {
            tracing::debug!(%integration, %call, "fetched transcript kept for the sync");
            calls.sync.wake();
        }
        Ok(other) => tracing::debug!(%integration, outcome = ?other, "fetched transcript not kept"),
        Err(err) => {
            tracing::error!(%integration, error = %err, "keeping a fetched transcript failed")
        }
    }
}

async fn attempt(http: &reqwest::Client, job: &Job) -> Result<Vec<u8>, Failed> {
    let mut res = http
        .get(&job.url)
        .bearer_auth(job.key.as_str())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| {
            if err.is_timeout() {
                Failed::Again("timeout")
            } else {
                Failed::Again("unreachable")
            }
        })?;
    let status = res.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(Failed::Again("busy"));
    }
    if !status.is_success() {
        return Err(Failed::Never(
            if status == reqwest::StatusCode::UNAUTHORIZED
                || status == reqwest::StatusCode::FORBIDDEN
            {
                "the API key is refused"
            } else {
                "the API refused the request"
            },
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|_| Failed::Again("cut off"))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(Failed::Never("the answer is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
