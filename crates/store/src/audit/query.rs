//! Queries for an org's admins: filtered, paged, and never across orgs.
//!
//! Why it only takes an org: an admin sees their own org's entries and nothing else, so the org
//! is a required argument of the one query, not a filter that could be left out.

use ringside_core::OrgId;
use ringside_core::wire::{Actor, AuditRecord};
use time::OffsetDateTime;

use super::chain::{ENTRY_COLUMNS, StoredEntry, stored_entry};
use super::{AuditSeq, unix_ms};
use crate::{Error, Store};

/// The most entries one [`AuditStore::query_audit`](super::AuditStore::query_audit) page returns.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Which entries an admin query returns. Every field narrows; `Default` is everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor (kind and id).
    pub actor: Option<Actor>,
    /// Only this action (`auth.login`), or every action under a prefix (`auth.*`).
    pub action: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// From this time on (inclusive).
    pub from: Option<OffsetDateTime>,
    /// Before this time (exclusive).
    pub to: Option<OffsetDateTime>,
}

/// One page of a query: entries numbered after `after_seq`, oldest first, at most `limit`
/// (clamped to 1..=[`MAX_PAGE_SIZE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPage {
    /// Continue after this entry number (the last `seq` of the previous page).
    pub after_seq: Option<AuditSeq>,
    /// How many at most.
    pub limit: u32,
}

impl Default for AuditPage {
    fn default() -> Self {
        Self {
            after_seq: None,
            limit: 100,
        }
    }
}

pub(super) fn query_audit(
    store: &Store,
    org: OrgId,
    filter: &AuditFilter,
    page: AuditPage,
) -> Result<Vec<AuditRecord>, Error> {
    let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE org = ?1 AND seq > ?2");
    let mut values: Vec<rusqlite::types::Value> = vec![
        org.to_string().into(),
        page.after_seq.map_or(0, AuditSeq::to_db).into(),
    ];
    let mut condition = |sql_part: &str, value: rusqlite::types::Value| {
        values.push(value);
        sql.push_str(&format!(" AND {sql_part} ?{}", values.len()));
    };
    if let Some(actor) = &filter.actor {
        condition("actor_kind =", actor.kind.as_str().to_owned().into());
        condition("actor_id =", actor.id.clone().into());
    }
    if let Some(action) = &filter.action {
        match action.strip_suffix('*') {
            Some(prefix) => {
                let len = i64::try_from(prefix.len()).unwrap_or(i64::MAX);
                condition(
                    &format!("substr(action, 1, {len}) ="),
                    prefix.to_owned().into(),
                );
            }
            None => condition("action =", action.clone().into()),
        }
    }
    if let Some(resource_type) = &filter.resource_type {
        condition("resource_type =", resource_type.clone().into());
    }
    if let Some(from) = filter.from {
        condition("time_ms >=", unix_ms(from).into());
    }
    if let Some(to) = filter.to {
        condition("time_ms <", unix_ms(to).into());
    }
    let limit = page.limit.clamp(1, MAX_PAGE_SIZE);
    sql.push_str(&format!(" ORDER BY seq LIMIT {limit}"));
    let conn = store.conn();
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), stored_entry)?;
    rows.map(|row| row.map_err(Error::from).and_then(StoredEntry::into_record))
        .collect()
}
