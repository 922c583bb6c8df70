//! The audit-log query for admins (`GET /v1/admin/audit`): the caller's org's entries only,
//! filtered and paged, oldest first (`docs/audit.md`).
//!
//! The query string is parsed once, by the [`AuditSearch`] extractor, into the store's filter: a
//! malformed actor or time is a 422 naming the parameter, never a silently wider query. The read
//! is itself an audit entry (`audit.query`), written before the page is answered: a read that
//! cannot be recorded is not served.

use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use ringside_core::wire::{Actor, ActorKind, AuditLogPage, AuditQuery};
use ringside_core::{IntegrationId, UserId};
use ringside_store::{AuditEntry, AuditFilter, AuditPage, AuditSeq, MAX_PAGE_SIZE};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::extract::{Authorized, blocking, perm::ViewAuditLog};
use super::problem::ApiError;
use super::problem::responses::{Forbidden, Invalid, TooManyRequests, Unauthorized};
use crate::state::AppState;
use ringside_identity::AuthError;

/// The default page size.
const DEFAULT_LIMIT: u32 = 100;

/// A validated audit query: the store's filter and page.
#[derive(Debug)]
pub(crate) struct AuditSearch {
    filter: AuditFilter,
    page: AuditPage,
}

fn invalid(parameter: &'static str) -> ApiError {
    AuthError::InvalidInput(parameter).into()
}

/// `usr_…`, `int_…`, `system:<component>` or `anonymous`.
fn parse_actor(text: &str) -> Result<Actor, ApiError> {
    let actor = |kind, id: &str| Actor {
        kind,
        id: id.to_owned(),
    };
    if text == "anonymous" {
        return Ok(Actor::anonymous());
    }
    if let Some(component) = text.strip_prefix("system:") {
        let valid = !component.is_empty()
            && component.len() <= 64
            && component
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        return valid
            .then(|| actor(ActorKind::System, component))
            .ok_or_else(|| invalid("actor"));
    }
    if let Ok(user) = text.parse::<UserId>() {
        return Ok(actor(ActorKind::User, &user.to_string()));
    }
    if let Ok(integration) = text.parse::<IntegrationId>() {
        return Ok(actor(ActorKind::Integration, &integration.to_string()));
    }
    Err(invalid("actor"))
}

fn parse_time(
    text: Option<&str>,
    parameter: &'static str,
) -> Result<Option<OffsetDateTime>, ApiError> {
    text.map(|t| OffsetDateTime::parse(t, &Rfc3339).map_err(|_| invalid(parameter)))
        .transpose()
}

impl AuditSearch {
    fn parse(q: &AuditQuery) -> Result<Self, ApiError> {
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(invalid("limit"));
        }
        Ok(Self {
            filter: AuditFilter {
                actor: q.actor.as_deref().map(parse_actor).transpose()?,
                action: q.action.clone(),
                resource_type: q.resource_type.clone(),
                from: parse_time(q.from.as_deref(), "from")?,
                to: parse_time(q.to.as_deref(), "to")?,
            },
            page: AuditPage {
                after_seq: q.after_seq.map(AuditSeq),
                limit,
            },
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuditSearch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<AuditQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                ApiError::from_status(axum::http::StatusCode::BAD_REQUEST)
                    .detail("unknown or malformed query parameter")
            })?;
        Self::parse(&query)
    }
}

/// One page of the org's audit log, oldest first. Pass `next_after_seq` back as `after_seq`
/// for the next page. The query is recorded as an `audit.query` entry.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin",
    security(("bearer" = ["view_audit_log"])), params(AuditQuery),
    responses((status = 200, description = "A page of entries", body = AuditLogPage),
        Unauthorized, Forbidden, Invalid, TooManyRequests))]
pub(crate) async fn query(
    State(state): State<AppState>,
    caller: Authorized<ViewAuditLog>,
    search: AuditSearch,
) -> Result<Json<AuditLogPage>, ApiError> {
    let store = std::sync::Arc::clone(state.store());
    let p = caller.principal;
    let entries = blocking(move || {
        let entries = store
            .audit()
            .query_audit(p.org, &search.filter, search.page)?;
        let read = AuditEntry::new(Actor::user(p.user), "audit.query", "audit_log")
            .in_org(p.org)
            .from_ip(Some(caller.ip))
            .count("count", u64::try_from(entries.len()).unwrap_or(u64::MAX));
        store.audit().record_audit(&read)?;
        Ok::<_, AuthError>((entries, search.page.limit))
    })
    .await?;
    let (entries, limit) = entries;
    let full = u32::try_from(entries.len()).is_ok_and(|n| n == limit);
    let next_after_seq = if full {
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(AuditLogPage {
        entries,
        next_after_seq,
    }))
}
