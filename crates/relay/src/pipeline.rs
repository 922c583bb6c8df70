//! From an authenticated event to the right agents' screens (DESIGN §2 steps 2–4): a call event
//! moves its call and makes pops, a text message becomes an `sms` event. `ingest` calls in here
//! from the blocking pool; the store pushes the stream events as it commits them
//! ([`connect_hub`]), and [`follow_up`] starts the AMS lookup.
//!
//! Why it runs inside the webhook request: routing, the state machine and the pops are local
//! SQLite work of a millisecond or two, so doing them in the same transaction as the dedupe
//! record means one disk flush per event and a 2xx that promises the pops are on disk. Only the
//! AMS lookup is slow, and it runs after the answer, in its own task, bounded by `ams.timeout_ms`.
//! The sweeper expires pops at 5 minutes and tells the devices (`pop_expired`).

use std::sync::Arc;
use std::time::Duration;

use ringside_core::wire::{Direction, MatchState, ServerMessage};
use ringside_core::{IntegrationId, OrgId, PhoneNumber, Pii, PopId, UserId};
use ringside_providers::{CallEvent, Number, Routing, SmsEvent, WebhookEvent};
use ringside_store::{CallUpdate, Expired, InboundEvent, NewSms, OrgKeys, RouteQuery, Store};
use ringside_vault::OrgKeyring;

use crate::Error;
use crate::hub::Connection;
use crate::state::AppState;

/// How often the sweeper looks for expired pops.
const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// What applying an event leaves to do once its transaction is committed: look its caller up in
/// the AMS for its new pops. (Its stream events were pushed at the commit, by the store's
/// listener — see [`connect_hub`].)
#[derive(Debug)]
pub(crate) struct FollowUp {
    lookup: Option<LookupJob>,
}

/// Sends the store's committed stream events to the hub. The store calls this while it still
/// holds its connection, right after the commit that took their `seq`s, so every user's events
/// reach the hub in `seq` order whichever task made them — a webhook, an AMS answer, a
/// dismissal, the sweeper, the hourly hygiene pass.
pub(crate) fn connect_hub(state: &AppState) {
    let hub = Arc::clone(state.hub());
    state.store().on_events(move |events| hub.publish(events));
}

#[derive(Debug)]
struct LookupJob {
    keys: Arc<OrgKeyring>,
    pops: Vec<PopId>,
    number: Pii<PhoneNumber>,
}

/// Routes and applies one authenticated call event in one transaction with its dedupe record
/// (blocking: SQLite). `None`: a duplicate.
pub(crate) fn apply_call(
    state: &AppState,
    integration: IntegrationId,
    keys: &Arc<OrgKeyring>,
    call: &CallEvent,
    received_at: i64,
) -> Result<Option<FollowUp>, Error> {
    let org = keys.org();
    let store = state.store();
    let connected = state.lookup().connected(org);
    let number: Option<Pii<PhoneNumber>> = call.client_number().and_then(Number::phone).cloned();
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
        caller_name: call.contact_name.as_ref(),
        targets: &targets,
        match_state,
    };
    let Some(outcome) = store.accept_call_event(&inbound, &update, keys)? else {
        return Ok(None);
    };
    let lookup = match number {
        Some(number) if connected && !outcome.new_pops.is_empty() => Some(LookupJob {
            keys: Arc::clone(keys),
            pops: outcome.new_pops.iter().map(|(pop, _)| *pop).collect(),
            number,
        }),
        _ => None,
    };
    Ok(Some(FollowUp { lookup }))
}

/// Starts a committed event's AMS lookup (call from the runtime).
pub(crate) fn follow_up(state: &AppState, follow_up: FollowUp) {
    if let Some(job) = follow_up.lookup {
        tokio::spawn(look_up(state.clone(), job));
    }
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
    Ok(store.route_targets(org, &query)?.users)
}

/// Routes one text message and stores it (sealed, in the inbox for the AMS sync) with an `sms`
/// stream event per agent, in one transaction with its dedupe record (blocking). `None`: a
/// duplicate.
pub(crate) fn apply_sms(
    state: &AppState,
    integration: IntegrationId,
    keys: &OrgKeyring,
    sms: &SmsEvent,
    received_at: i64,
) -> Result<Option<FollowUp>, Error> {
    let json = serde_json::to_vec(&WebhookEvent::Sms(sms.clone()))
        .map_err(|e| Error::io("serializing an SMS event")(std::io::Error::other(e)))?;
    let store = state.store();
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
        event_json: &json,
        received_at,
    };
    let new = NewSms {
        direction: sms.direction,
        number: client.and_then(Number::phone),
        contact_name: sms.contact_name.as_ref(),
        text: sms.text.as_ref(),
    };
    Ok(store
        .accept_sms_event(&inbound, &new, &targets, keys)?
        .map(|_| FollowUp { lookup: None }))
}

/// Runs the AMS lookup for a call's new pops (one lookup, however many agents), bounded by the
/// configured timeout, and pushes `pop_update`.
async fn look_up(state: AppState, job: LookupJob) {
    let LookupJob { keys, pops, number } = job;
    let org = keys.org();
    let found = tokio::time::timeout(state.ams_timeout(), state.lookup().lookup(org, number))
        .await
        .unwrap_or_else(|_| MatchState::Failed {
            reason: "timeout".to_owned(),
        });
    let store = Arc::clone(state.store());
    let stored = blocking(move || {
        for pop in pops {
            store.update_pop_match(org, pop, &found, &keys)?;
        }
        Ok(())
    })
    .await;
    if let Err(err) = stored {
        tracing::error!(%org, error = %err, "storing the AMS match failed");
    }
}

/// The user's stored events after `after_seq` (for `resume`).
pub(crate) async fn replay(
    state: &AppState,
    who: Connection,
    after_seq: u64,
) -> Vec<ServerMessage> {
    let store = Arc::clone(state.store());
    let org_keys = state.keys().clone();
    let replayed = blocking(move || {
        let keys = org_keys.get(who.org)?;
        Ok(store.stream_replay(who.org, who.user, after_seq, &keys)?)
    })
    .await;
    replayed.unwrap_or_else(|err| {
        tracing::error!(user = %who.user, error = %err, "stream replay failed");
        Vec::new()
    })
}

/// The user dismissed a pop on one device: clear it on the others.
pub(crate) async fn dismiss(state: &AppState, who: Connection, pop: PopId) {
    let store = Arc::clone(state.store());
    let org_keys = state.keys().clone();
    let dismissed = blocking(move || {
        let keys = org_keys.get(who.org)?;
        Ok(store.dismiss_pop(who.org, who.user, pop, &keys)?)
    })
    .await;
    if let Err(err) = dismissed {
        tracing::error!(user = %who.user, error = %err, "dismissing a pop failed");
    }
}

/// Deletes pops past their 5 minutes and pushes `pop_expired`, until the relay stops.
pub(crate) async fn sweep(state: AppState) {
    let mut ticker = tokio::time::interval(SWEEP_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let store = Arc::clone(state.store());
        let keys = state.keys().clone();
        let swept = blocking(move || expire_pops(&store, &keys)).await;
        match swept {
            Ok(expired) if expired.orgs_skipped > 0 => tracing::warn!(
                orgs = expired.orgs_skipped,
                "pops of organisations whose keys could not be opened wait for the next pass"
            ),
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "expiring pops failed"),
        }
    }
}

/// Deletes the pops past their 5 minutes (blocking: SQLite); the `pop_expired` events to push.
pub(crate) fn expire_pops(store: &Store, keys: &OrgKeys) -> Result<Expired, Error> {
    Ok(store.expire_stream(|org: OrgId| keys.get(org))?)
}

/// Runs store work on the blocking pool; a task that did not finish (a panic) is an error.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|failed| Err(Error::io("a pipeline task")(std::io::Error::other(failed))))
}
