//! The team's leaderboard (`GET /v1/leaderboard?days=7`): for every active member who takes
//! calls, the calls they answered, missed and noted in the AMS, and their average call length —
//! counted from the call rows that outlive the purge, never from personal data. Owners, admins
//! and agents (`view_leaderboard`); each read is audited (`leaderboard.read`, with the days).

use axum::Json;
use axum::extract::{Query, State};
use ringside_core::Role;
use ringside_core::wire::{Leaderboard, LeaderboardEntry, LeaderboardQuery};
use ringside_store::{AgentTally, UserStatus};

use super::extract::{Authorized, blocking, perm::ViewLeaderboard};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, Invalid, TooManyRequests, Unauthorized};
use crate::caller::{Caller, store_err};
use crate::state::AppState;

/// The days counted when the query names none.
const DEFAULT_DAYS: u32 = 7;
/// The most days one answer counts.
const MAX_DAYS: u32 = 90;

/// The team over the last `days` (1–90, default 7): each member who takes calls with the calls
/// they answered, missed and noted in the AMS, counted from the rows that outlive the purge once
/// each call's note is done; most calls answered first. The read is audited.
#[utoipa::path(get, path = "/v1/leaderboard", tag = "me",
    security(("bearer" = ["view_leaderboard"])), params(LeaderboardQuery),
    responses((status = 200, description = "The team's tallies", body = Leaderboard),
        Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn leaderboard(
    State(state): State<AppState>,
    caller: Authorized<ViewLeaderboard>,
    query: Result<Query<LeaderboardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Leaderboard>, ApiError> {
    let days = match query {
        Ok(Query(LeaderboardQuery { days: None })) => DEFAULT_DAYS,
        Ok(Query(LeaderboardQuery { days: Some(d) })) if (1..=MAX_DAYS).contains(&d) => d,
        _ => {
            return Err(ApiError::from_status(axum::http::StatusCode::BAD_REQUEST)
                .detail("`days` must be a whole number from 1 to 90"));
        }
    };
    let since = (state.now() - time::Duration::days(i64::from(days))).unix_timestamp();
    let (store, keys) = (std::sync::Arc::clone(state.store()), state.keys().clone());
    let entries = blocking(move || {
        let p = &caller.principal;
        let org_keys = keys.get(p.org).map_err(store_err)?;
        let tallies = store
            .history()
            .agent_tallies(p.org, since)
            .map_err(store_err)?;
        let team = store.users().list(p.org, &org_keys).map_err(store_err)?;
        let read = Caller::Member(p)
            .entry("leaderboard.read", "org")
            .resource(p.org)
            .detail("days", days);
        store.audit().record_audit(&read).map_err(store_err)?;
        let mut entries: Vec<LeaderboardEntry> = team
            .into_iter()
            .filter(|m| m.user.status == UserStatus::Active && m.user.role != Role::Viewer)
            .map(|member| {
                let tally = tallies
                    .iter()
                    .find(|t| t.user == member.user.id)
                    .copied()
                    .unwrap_or_else(|| AgentTally::none(member.user.id));
                entry(member.user.id, member.display_name, &tally, p.user)
            })
            .collect();
        entries.sort_by(|a, b| {
            (b.answered, b.notes_in_ams)
                .cmp(&(a.answered, a.notes_in_ams))
                .then_with(|| a.display_name.expose().cmp(b.display_name.expose()))
        });
        Ok::<_, ringside_identity::AuthError>(entries)
    })
    .await?;
    Ok(Json(Leaderboard { days, entries }))
}

fn entry(
    user: ringside_core::UserId,
    display_name: ringside_core::Pii<String>,
    tally: &AgentTally,
    me: ringside_core::UserId,
) -> LeaderboardEntry {
    LeaderboardEntry {
        user_id: user,
        display_name,
        answered: tally.answered,
        missed: tally.missed,
        notes_in_ams: tally.notes_in_ams,
        average_call_secs: (tally.timed > 0).then(|| {
            u32::try_from(tally.answered_secs / i64::from(tally.timed)).unwrap_or(u32::MAX)
        }),
        me: user == me,
    }
}
