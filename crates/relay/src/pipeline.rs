//! From an authenticated call event to pops on the right agents' screens (DESIGN §2 steps 2–4),
//! and from a text message to the `sms` event of the agents routing picks.
//!
//! Why it runs inside the webhook request: routing, the state machine and the pops are local
//! SQLite work of a millisecond or two, so doing them in the same transaction as the dedupe
//! record means one disk flush per event and a 2xx that promises the pops are on disk. Only the
//! AMS lookup is slow, and it runs after the answer, in its own task, bounded by `ams.timeout_ms`.
//! The sweeper deletes pops at 5 minutes and tells the devices (`pop_expired`).

use std::sync::Arc;
use std::time::Duration;

use ringside_core::wire::{Direction, MatchState, ServerMessage};
use ringside_core::{IntegrationId, OrgId, PhoneNumber, Pii, PopId, UserId};
use ringside_providers::{CallEvent, Number, Routing, SmsEvent, WebhookEvent};
use ringside_store::{CallUpdate, Expired, InboundEvent, NewSms, RouteQuery, Store};
use ringside_vault::OrgKeyring;

use crate::Error;
use crate::auth::AuthService;
use crate::hub::Connection;
use crate::state::AppState;

/// How often the sweeper looks for expired pops.
const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// What became of a call event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// First sighting: applied, its pops stored and pushed.
    Accepted,
    /// Seen before: nothing done.
    Duplicate,
}

/// Routes, applies and publishes one authenticated call event (blocking parts on the blocking
/// pool), then starts the AMS lookups for its new pops.
pub(crate) async fn accept_call(
    state: &AppState,
    integration: IntegrationId,
    keys: Arc<OrgKeyring>,
    call: CallEvent,
    received_at: i64,
) -> Result<Applied, Error> {
    let org = keys.org();
    let lookup = Arc::clone(state.lookup());
    let number: Option<Pii<PhoneNumber>> = call.client_number().and_then(Number::phone).cloned();
    let match_state = match &number {
        Some(_) if lookup.connected(org) => MatchState::Pending,
        _ => MatchState::Unavailable,
    };
    let store = Arc::clone(state.store());
    let json = serde_json::to_vec(&WebhookEvent::Call(call.clone()))
        .map_err(|e| Error::io("serializing a call event")(std::io::Error::other(e)))?;
    let outcome = {
        let number = number.clone();
        let keys = Arc::clone(&keys);
        blocking(move || {
            apply(
                &store,
                integration,
                &keys,
                &call,
                number.as_ref(),
                match_state,
                &json,
                received_at,
            )
        })
        .await?
    };
    let Some(outcome) = outcome else {
        return Ok(Applied::Duplicate);
    };
    state.hub().publish(&outcome.events);
    if let (Some(number), false) = (number, outcome.new_pops.is_empty())
        && lookup.connected(org)
    {
        let pops: Vec<PopId> = outcome.new_pops.iter().map(|(pop, _)| *pop).collect();
        tokio::spawn(look_up(state.clone(), keys, pops, number));
    }
    Ok(Applied::Accepted)
}

#[allow(clippy::too_many_arguments)] // one event's parts, all needed in one transaction
fn apply(
    store: &Store,
    integration: IntegrationId,
    keys: &OrgKeyring,
    call: &CallEvent,
    number: Option<&Pii<PhoneNumber>>,
    match_state: MatchState,
    json: &[u8],
    received_at: i64,
) -> Result<Option<ringside_store::CallOutcome>, Error> {
    let org = keys.org();
    let targets = if call.state.is_final() {
        Vec::new()
    } else {
        targets(store, org, integration, &call.routing)?
    };
    let inbound = InboundEvent {
        integration,
        org,
        event_id: &call.event_id,
        event_json: json,
        received_at,
    };
    let update = CallUpdate {
        org,
        integration,
        call_key: call.call_key(),
        leg: &call.call_id,
        direction: call.direction,
        state: call.state,
        number,
        caller_name: call.contact_name.as_ref(),
        targets: &targets,
        match_state,
    };
    Ok(store.accept_call_event(&inbound, &update, keys)?)
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

/// Routes, stores (sealed, in the inbox for the AMS sync) and publishes one text message.
pub(crate) async fn accept_sms(
    state: &AppState,
    integration: IntegrationId,
    keys: Arc<OrgKeyring>,
    sms: SmsEvent,
    received_at: i64,
) -> Result<Applied, Error> {
    let json = serde_json::to_vec(&WebhookEvent::Sms(sms.clone()))
        .map_err(|e| Error::io("serializing an SMS event")(std::io::Error::other(e)))?;
    let store = Arc::clone(state.store());
    let events = blocking(move || {
        let org = keys.org();
        let targets = targets(&store, org, integration, &sms.routing)?;
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
        Ok(store.accept_sms_event(&inbound, &new, &targets, &keys)?)
    })
    .await?;
    Ok(match events {
        Some(events) => {
            state.hub().publish(&events);
            Applied::Accepted
        }
        None => Applied::Duplicate,
    })
}

/// Runs the AMS lookup for a call's new pops (one lookup, however many agents), bounded by the
/// configured timeout, and pushes `pop_update`.
async fn look_up(
    state: AppState,
    keys: Arc<OrgKeyring>,
    pops: Vec<PopId>,
    number: Pii<PhoneNumber>,
) {
    let org = keys.org();
    let found = tokio::time::timeout(state.ams_timeout(), state.lookup().lookup(org, number))
        .await
        .unwrap_or_else(|_| MatchState::Failed {
            reason: "timeout".to_owned(),
        });
    let store = Arc::clone(state.store());
    let events = blocking(move || {
        let mut events = Vec::new();
        for pop in pops {
            if let Some(event) = store.update_pop_match(org, pop, &found, &keys)? {
                events.push(event);
            }
        }
        Ok(events)
    })
    .await;
    match events {
        Ok(events) => state.hub().publish(&events),
        Err(err) => tracing::error!(%org, error = %err, "storing the AMS match failed"),
    }
}

/// The user's stored events after `after_seq` (for `resume`).
pub(crate) async fn replay(
    state: &AppState,
    who: Connection,
    after_seq: u64,
) -> Vec<ServerMessage> {
    let store = Arc::clone(state.store());
    let auth = state.auth().clone();
    let replayed = blocking(move || {
        let keys = auth.org_keyring(who.org)?;
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
    let auth = state.auth().clone();
    let dismissed = blocking(move || {
        let keys = auth.org_keyring(who.org)?;
        Ok(store.dismiss_pop(who.org, who.user, pop, &keys)?)
    })
    .await;
    match dismissed {
        Ok(Some(event)) => state.hub().publish(&[event]),
        Ok(None) => {}
        Err(err) => tracing::error!(user = %who.user, error = %err, "dismissing a pop failed"),
    }
}

/// Deletes pops past their 5 minutes and pushes `pop_expired`, until the relay stops.
pub(crate) async fn sweep(state: AppState) {
    let mut ticker = tokio::time::interval(SWEEP_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let store = Arc::clone(state.store());
        let auth = state.auth().clone();
        let swept = blocking(move || expire_pops(&store, &auth)).await;
        match swept {
            Ok(expired) => state.hub().publish(&expired.events),
            Err(err) => tracing::error!(error = %err, "expiring pops failed"),
        }
    }
}

/// Deletes the pops past their 5 minutes (blocking: SQLite); the `pop_expired` events to push.
pub(crate) fn expire_pops(store: &Store, auth: &AuthService) -> Result<Expired, Error> {
    Ok(store.expire_stream(|org: OrgId| {
        auth.org_keyring(org).map_err(|e| match Error::from(e) {
            Error::Store(e) => e,
            _ => ringside_store::Error::NotFound("the org's data key"),
        })
    })?)
}

/// Runs store work on the blocking pool; a task that did not finish (a panic) is an error.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|failed| Err(Error::io("a pipeline task")(std::io::Error::other(failed))))
}
