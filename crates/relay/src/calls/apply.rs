//! From an authenticated event to the right agents' screens: a call event moves its call and
//! makes pops, a text message becomes an `sms` event. `ingest` calls in here from the blocking
//! pool; the store pushes the stream events as it commits them, and a new call's AMS lookup is
//! started here, once its pops are on disk.
//!
//! Why it runs inside the webhook request: routing, the state machine and the pops are local
//! SQLite work of a millisecond or two, so doing them in the same transaction as the dedupe
//! record means one disk flush per event and a 2xx that promises the pops are on disk. Only the
//! AMS lookup is slow, and it runs in its own task, bounded by `ams.timeout_ms`.

use std::sync::Arc;
use std::time::Duration;

use ringside_core::wire::{Direction, MatchState};
use ringside_core::{IntegrationId, OrgId, PhoneNumber, Pii, PopId, UserId};
use ringside_providers::{CallEvent, Number, Routing, SmsEvent, TranscriptEvent};
use ringside_store::{CallUpdate, InboundEvent, NewSms, RouteQuery, Store, TranscriptStored};
use ringside_vault::OrgKeyring;

use super::Calls;
use crate::Error;
use crate::error::on_blocking_pool;

/// Whether an event was new. Its stream events were pushed at the commit, by the store's
/// listener; a new call's AMS lookup is already on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// First sighting: applied.
    First,
    /// Seen before: nothing changed.
    Again,
}

#[derive(Debug)]
struct LookupJob {
    keys: Arc<OrgKeyring>,
    pops: Vec<PopId>,
    number: Pii<PhoneNumber>,
}

/// Routes and applies one authenticated call event in one transaction with its dedupe record
/// (blocking: SQLite, on the runtime's blocking pool), then starts the AMS lookup of its new pops
/// on the runtime.
pub(crate) fn apply_call(
    calls: &Calls,
    integration: IntegrationId,
    keys: &Arc<OrgKeyring>,
    call: &CallEvent,
    received_at: i64,
) -> Result<Applied, Error> {
    let org = keys.org();
    let store = &calls.store;
    let number: Option<Pii<PhoneNumber>> = call.client_number().and_then(Number::phone).cloned();
    // Only an event that can make a pop needs to know (one store read): a withheld number or a
    // final state never looks anyone up.
    let connected = number.is_some() && !call.state.is_final() && calls.lookup.connected(org);
    let match_state = match &number {
        Some(_) if connected => MatchState::Pending,
        _ => MatchState::Unavailable,
    };
    let targets = if call.state.is_final() {
        Vec::new()
    } else {
        targets(store, org, integration, &call.routing)?
    };
    let inbound = InboundEvent {
        integration,
        org,
        event_id: &call.event_id,
        // A call event is applied, not kept: its call row holds what the sync needs.
        event_json: &[],
        received_at,
    };
    let update = CallUpdate {
        org,
        integration,
        call_key: call.call_key(),
        leg: &call.call_id,
        direction: call.direction,
        state: call.state,
        number: number.as_ref(),
        number_index: number.as_ref().map(|n| calls.numbers.index(n)),
        caller_name: call.contact_name.as_ref(),
        targets: &targets,
        match_state,
    };
    let Some(outcome) = store.inbox().accept_call_event(&inbound, &update, keys)? else {
        return Ok(Applied::Again);
    };
    if outcome.changed && outcome.state.is_final() {
        calls.sync.wake();
    }
    if let Some(number) = number
        && connected
        && !outcome.new_pops.is_empty()
    {
        let job = LookupJob {
            keys: Arc::clone(keys),
            pops: outcome.new_pops.iter().map(|(pop, _)| *pop).collect(),
            number,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(look_up(calls.clone(), job))),
            Err(_) => tracing::error!(%org, "no runtime to run the AMS lookup on"),
        }
    }
    Ok(Applied::First)
}

/// Who routing picks for an event's routing keys.
fn targets(
    store: &Store,
    org: OrgId,
    integration: IntegrationId,
    routing: &Routing,
) -> Result<Vec<UserId>, Error> {
    let dialed = routing
        .dialed_number
        .as_ref()
        .and_then(Number::phone)
        .map(|p| p.expose().clone());
    let query = RouteQuery {
        integration,
        provider_user_id: routing.provider_user_id.as_deref(),
        extension: routing.extension.as_deref(),
        dialed_number: dialed.as_ref(),
    };
    Ok(store.routing().route_targets(org, &query)?.users)
}

/// Routes one text message and stores it (sealed, with its outbox row, for its AMS sync) with an
/// `sms` stream event per agent, in one transaction with its dedupe record (blocking); wakes the
/// sync. `None`: a duplicate.
pub(crate) fn apply_sms(
    calls: &Calls,
    integration: IntegrationId,
    keys: &OrgKeyring,
    sms: &SmsEvent,
    received_at: i64,
) -> Result<Applied, Error> {
    let store = &calls.store;
    let org = keys.org();
    let targets = targets(store, org, integration, &sms.routing)?;
    let client = match sms.direction {
        Direction::Outbound => sms.to.first(),
        Direction::Inbound | Direction::Unknown => sms.from.as_ref(),
    };
    let inbound = InboundEvent {
        integration,
        org,
        event_id: &sms.event_id,
        // Kept on its own row (`sms_bodies`) for its sync, not in the inbox.
        event_json: &[],
        received_at,
    };
    let number = client.and_then(Number::phone);
    let new = NewSms {
        direction: sms.direction,
        number,
        number_index: number.map(|n| calls.numbers.index(n)),
        contact_name: sms.contact_name.as_ref(),
        text: sms.text.as_ref(),
    };
    Ok(
        match store
            .inbox()
            .accept_sms_event(&inbound, &new, &targets, keys)?
        {
            Some(_) => {
                calls.sync.wake();
                Applied::First
            }
            None => Applied::Again,
        },
    )
}

/// Keeps a call's transcript, sealed, for its sync, in one transaction with its dedupe record
/// (blocking), and wakes the sync: with the transcript in, the call need not wait out its grace.
/// A transcript for a call the relay does not know, or whose note is already written, is
/// accepted (the provider must not retry it) and not kept.
pub(crate) fn apply_transcript(
    calls: &Calls,
    integration: IntegrationId,
    keys: &OrgKeyring,
    transcript: &TranscriptEvent,
    received_at: i64,
) -> Result<Applied, Error> {
    let org = keys.org();
    let inbound = InboundEvent {
        integration,
        org,
        event_id: &transcript.event_id,
        // Kept in `call_transcripts`, not in the inbox.
        event_json: &[],
        received_at,
    };
    let stored = calls.store.inbox().accept_transcript_event(
        &inbound,
        transcript.call_key(),
        &transcript.utterances,
        keys,
    )?;
    Ok(match stored {
        None => Applied::Again,
        Some(TranscriptStored::Kept(call)) => {
            tracing::debug!(%org, %call, "transcript kept for the sync");
            calls.sync.wake();
            Applied::First
        }
        Some(other) => {
            tracing::debug!(%org, outcome = ?other, "transcript not kept");
            Applied::First
        }
    })
}

/// How long past `ams.timeout_ms` a lookup may run before it is stopped from outside. A lookup
/// bounds itself by the budget (so it can record the timeout in its breaker); this only stops one
/// that does not.
const LOOKUP_BACKSTOP: Duration = Duration::from_millis(250);

/// Runs the AMS lookup for a call's new pops (one lookup, however many agents), bounded by the
/// configured timeout, and pushes `pop_update`.
async fn look_up(calls: Calls, job: LookupJob) {
    let LookupJob { keys, pops, number } = job;
    let org = keys.org();
    let budget = calls.ams_timeout + LOOKUP_BACKSTOP;
    let found = tokio::time::timeout(budget, calls.lookup.lookup(org, number))
        .await
        .unwrap_or_else(|_| MatchState::Failed {
            reason: "timeout".to_owned(),
        });
    let store = Arc::clone(&calls.store);
    let stored = on_blocking_pool("an AMS match", move || {
        for pop in pops {
            store.stream().update_pop_match(org, pop, &found, &keys)?;
        }
        Ok(())
    })
    .await;
    if let Err(err) = stored {
        tracing::error!(%org, error = %err, "storing the AMS match failed");
    }
}
