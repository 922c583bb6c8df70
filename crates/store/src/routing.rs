//! Call routing, persisted: routes, the fallback, and the two questions `ringside_core::routing`'s
//! resolver asks of them (docs/routing.md).
//!
//! Why it looks like this:
//! - **One resolver, on the hot path.** [`RoutingStore::route_targets`] runs
//!   `ringside_core::routing::resolve` (the provider user id, then the extension, then the dialed
//!   number; the first kind with a route to someone who can take the call wins, else the org's
//!   [`Fallback`]) over a handful of indexed equality lookups under one lock, no sealed data:
//!   routing never waits on the vault.
//! - **Never another org, never everyone by accident.** Every query is scoped by org and joins the
//!   user on the same org (the schema's composite foreign keys refuse such a row too), so a forged
//!   row cannot route a call across orgs. The fallback is `nobody` until an admin chooses.
//! - **Only people who can take the call.** Targets are active users whose role holds
//!   [`Permission::ReceivePops`] — checked when a route is added (a typed refusal, nothing written)
//!   and again at resolution, since a user may be disabled or demoted later.
//! - **Audited like every change.** Adding or deleting a route and setting the fallback write
//!   their audit entry (`route.create`, `route.delete`, `routing.fallback`) in the same
//!   transaction.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use ringside_core::routing::{self, RoutingKeys, can_receive_pops};
pub use ringside_core::routing::{RouteTargets, RouteVia};
use ringside_core::wire::{Fallback, RouteInfo, RouteKind, RouteMatch};
use ringside_core::{IntegrationId, OrgId, Permission, PhoneNumber, RouteId, UserId};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::audit::AuditContext;
use crate::rows::{conversion, id, optional_id, role_from};
use crate::users::UserStatus;
use crate::{Error, Store};

/// Why a route or a fallback was refused (inside [`Error::Routing`]). Users and integrations
/// that do not exist or belong to another org are [`Error::NotFound`] instead, the same answer
/// for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoutingRefusal {
    /// The user is disabled.
    UserDisabled,
    /// The user's role does not receive pops (a viewer).
    UserCannotReceivePops,
    /// The integration was revoked.
    IntegrationRevoked,
    /// The value is not a valid value of this kind.
    InvalidValue(RouteKind),
}

impl RoutingRefusal {
    /// A stable machine code (`user_disabled`, …) for API problems.
    pub fn code(self) -> &'static str {
        match self {
            Self::UserDisabled => "user_disabled",
            Self::UserCannotReceivePops => "user_cannot_receive_pops",
            Self::IntegrationRevoked => "integration_revoked",
            Self::InvalidValue(_) => "invalid_route_value",
        }
    }
}

impl fmt::Display for RoutingRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UserDisabled => f.write_str("the user is disabled"),
            Self::UserCannotReceivePops => f.write_str("the user's role does not receive pops"),
            Self::IntegrationRevoked => f.write_str("the integration is revoked"),
            Self::InvalidValue(kind) => write!(f, "not a valid {kind} value"),
        }
    }
}

/// What adding a route needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoute {
    /// Only calls of this integration; `None`: every integration of the org.
    pub integration: Option<IntegrationId>,
    /// What is matched (normalized again before it is stored).
    pub matcher: RouteMatch,
    /// Who gets the pop.
    pub user: UserId,
}

/// A stored route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Id.
    pub id: RouteId,
    /// The org it belongs to.
    pub org: OrgId,
    /// The integration it is limited to; `None`: every integration.
    pub integration: Option<IntegrationId>,
    /// What it matches (normalized; numbers in E.164).
    pub matcher: RouteMatch,
    /// Who gets the pop.
    pub user: UserId,
    /// Added (unix seconds).
    pub created_at: i64,
}

impl Route {
    /// The route as the API and `route list --json` show it.
    pub fn info(self) -> RouteInfo {
        RouteInfo {
            route_id: self.id,
            integration_id: self.integration,
            kind: self.matcher.kind,
            value: self.matcher.value,
            user_id: self.user,
            created_at: time::OffsetDateTime::from_unix_timestamp(self.created_at)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        }
    }
}

/// What the resolver knows about a call.
#[derive(Debug, Clone, Copy)]
pub struct RouteQuery<'a> {
    /// The integration the webhook came through.
    pub integration: IntegrationId,
    /// The provider's id of the user or agent it rang.
    pub provider_user_id: Option<&'a str>,
    /// The extension the call was put through to.
    pub extension: Option<&'a str>,
    /// The agency number the client dialed.
    pub dialed_number: Option<&'a PhoneNumber>,
}

const ROUTE_COLUMNS: &str = "id, org_id, integration_id, kind, value, user_id, created_at";

fn kind_from(text: String) -> rusqlite::Result<RouteKind> {
    RouteKind::from_str(&text).map_err(|_| conversion("unknown route kind"))
}

fn route_row(r: &Row<'_>) -> rusqlite::Result<Route> {
    Ok(Route {
        id: id(r, 0, RouteId::from_bytes)?,
        org: id(r, 1, OrgId::from_bytes)?,
        integration: optional_id(r, 2, IntegrationId::from_bytes)?,
        matcher: RouteMatch {
            kind: kind_from(r.get(3)?)?,
            value: r.get(4)?,
        },
        user: id(r, 5, UserId::from_bytes)?,
        created_at: r.get(6)?,
    })
}

/// The routing order of kinds, for listing.
fn kind_rank(kind: RouteKind) -> usize {
    RouteKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(usize::MAX)
}

/// Whether a user row (status, role) can take calls (`ringside_core::routing`'s rule).
fn can_take_calls(status: &str, role: String) -> rusqlite::Result<bool> {
    Ok(can_receive_pops(
        status == UserStatus::Active.as_str(),
        role_from(role)?,
    ))
}

/// Checks that `user` is an active user of `org` whose role receives pops.
fn check_target(tx: &Connection, org: OrgId, user: UserId) -> Result<(), Error> {
    let row: Option<(String, String)> = tx
        .query_row(
            "SELECT status, role FROM users WHERE org_id = ?1 AND id = ?2",
            params![org.as_bytes(), user.as_bytes()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (status, role) = row.ok_or(Error::NotFound("user"))?;
    if status != UserStatus::Active.as_str() {
        return Err(Error::Routing(RoutingRefusal::UserDisabled));
    }
    if !role_from(role)?.allows(Permission::ReceivePops) {
        return Err(Error::Routing(RoutingRefusal::UserCannotReceivePops));
    }
    Ok(())
}

/// Checks that `integration` is an active integration of `org`.
fn check_integration(tx: &Connection, org: OrgId, integration: IntegrationId) -> Result<(), Error> {
    let disabled_at: Option<Option<i64>> = tx
        .query_row(
            "SELECT disabled_at FROM integrations WHERE org_id = ?1 AND id = ?2",
            params![org.as_bytes(), integration.as_bytes()],
            |r| r.get(0),
        )
        .optional()?;
    match disabled_at {
        None => Err(Error::NotFound("integration")),
        Some(Some(_)) => Err(Error::Routing(RoutingRefusal::IntegrationRevoked)),
        Some(None) => Ok(()),
    }
}

/// The users of `org` that routes of `kind` on `value` (scoped to `integration` or to every
/// integration) name and that can take calls: sorted, no duplicates.
fn matching_users(
    conn: &Connection,
    org: OrgId,
    integration: IntegrationId,
    kind: RouteKind,
    value: &str,
) -> Result<Vec<UserId>, Error> {
    receivers(
        conn,
        "SELECT u.id, u.status, u.role
         FROM routes r JOIN users u ON u.id = r.user_id AND u.org_id = r.org_id
         WHERE r.org_id = ?1 AND r.kind = ?2 AND r.value = ?3
           AND (r.integration_id IS NULL OR r.integration_id = ?4)",
        params![org.as_bytes(), kind.as_str(), value, integration.as_bytes()],
    )
}

/// Every active user of `org` whose role receives pops, sorted.
fn all_receivers(conn: &Connection, org: OrgId) -> Result<Vec<UserId>, Error> {
    receivers(
        conn,
        "SELECT id, status, role FROM users WHERE org_id = ?1",
        [org.as_bytes()],
    )
}

/// The fallback users of `org` that can take calls, sorted.
fn fallback_receivers(conn: &Connection, org: OrgId) -> Result<Vec<UserId>, Error> {
    receivers(
        conn,
        "SELECT u.id, u.status, u.role
         FROM routing_fallback_users f JOIN users u ON u.id = f.user_id AND u.org_id = f.org_id
         WHERE f.org_id = ?1",
        [org.as_bytes()],
    )
}

/// The users that `sql` (selecting a user's id, status and role) returns with `params` and that
/// can take calls: sorted, no duplicates.
fn receivers(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<UserId>, Error> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| {
        let user = id(r, 0, UserId::from_bytes)?;
        let status: String = r.get(1)?;
        Ok(can_take_calls(&status, r.get(2)?)?.then_some(user))
    })?;
    let mut users = BTreeSet::new();
    for row in rows {
        users.extend(row?);
    }
    Ok(users.into_iter().collect())
}

fn fallback_in(conn: &Connection, org: OrgId) -> Result<Fallback, Error> {
    let kind: Option<String> = conn
        .prepare_cached("SELECT kind FROM routing_fallback WHERE org_id = ?1")?
        .query_row([org.as_bytes()], |r| r.get(0))
        .optional()?;
    Ok(match kind.as_deref() {
        None | Some("nobody") => Fallback::Nobody,
        Some("all") => Fallback::All,
        Some("users") => {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id FROM routing_fallback_users WHERE org_id = ?1 ORDER BY user_id",
            )?;
            let users = stmt
                .query_map([org.as_bytes()], |r| id(r, 0, UserId::from_bytes))?
                .collect::<Result<_, _>>()?;
            Fallback::Users { users }
        }
        Some(_) => return Err(conversion("unknown fallback kind").into()),
    })
}

fn write_fallback(
    tx: &Transaction<'_>,
    org: OrgId,
    kind: &str,
    users: &BTreeSet<UserId>,
    now: i64,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO routing_fallback (org_id, kind, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (org_id) DO UPDATE SET kind = excluded.kind, updated_at = excluded.updated_at",
        params![org.as_bytes(), kind, now],
    )?;
    tx.execute(
        "DELETE FROM routing_fallback_users WHERE org_id = ?1",
        [org.as_bytes()],
    )?;
    for user in users {
        tx.execute(
            "INSERT INTO routing_fallback_users (org_id, user_id) VALUES (?1, ?2)",
            params![org.as_bytes(), user.as_bytes()],
        )?;
    }
    Ok(())
}

/// Routes and the fallback: who a call goes to.
pub trait RoutingStore {
    /// Adds a route of `org`, with its `route.create` audit entry in the same transaction.
    /// Refused with nothing written: a user or integration that is not `org`'s
    /// ([`Error::NotFound`]); a disabled user, a role that does not receive pops, a revoked
    /// integration or a malformed value ([`Error::Routing`]); the same route twice
    /// ([`Error::Conflict`]).
    fn add_route(&self, org: OrgId, new: &NewRoute, ctx: &AuditContext) -> Result<Route, Error>;

    /// The routes of `org` in routing order (provider user ids, extensions, numbers), then by
    /// value and age.
    fn list_routes(&self, org: OrgId) -> Result<Vec<Route>, Error>;

    /// Deletes a route of `org`, with its `route.delete` audit entry in the same transaction;
    /// [`Error::NotFound`] if it is not `org`'s.
    fn delete_route(&self, org: OrgId, id: RouteId, ctx: &AuditContext) -> Result<(), Error>;

    /// Sets where `org`'s unmatched calls go, with its `routing.fallback` audit entry in the
    /// same transaction. Every listed user must be an active user of `org` whose role receives
    /// pops (refused as [`RoutingStore::add_route`] refuses, nothing written); duplicates are dropped.
    fn set_fallback(
        &self,
        org: OrgId,
        fallback: &Fallback,
        ctx: &AuditContext,
    ) -> Result<(), Error>;

    /// Where `org`'s unmatched calls go: [`Fallback::Nobody`] until it is set.
    fn fallback(&self, org: OrgId) -> Result<Fallback, Error>;

    /// Who a call of `org` pops for. Tries routes on the provider user id, then the extension,
    /// then the dialed number — routes limited to `query.integration` and routes for every
    /// integration alike — and the first kind that routes to at least one user who can take the
    /// call wins; otherwise the org's fallback. Only active users of `org` whose role receives
    /// pops are ever returned, without duplicates, sorted by id.
    fn route_targets(&self, org: OrgId, query: &RouteQuery<'_>) -> Result<RouteTargets, Error>;
}

impl RoutingStore for Store {
    fn add_route(&self, org: OrgId, new: &NewRoute, ctx: &AuditContext) -> Result<Route, Error> {
        let matcher = RouteMatch::new(new.matcher.kind, &new.matcher.value)
            .map_err(|_| Error::Routing(RoutingRefusal::InvalidValue(new.matcher.kind)))?;
        let route = Route {
            id: RouteId::random(),
            org,
            integration: new.integration,
            matcher,
            user: new.user,
            created_at: self.now(),
        };
        let mut audit = ctx
            .entry("route.create", "route")
            .in_org(org)
            .resource(route.id)
            .detail("kind", route.matcher.kind.as_str())
            .detail("user", route.user);
        if let Some(integration) = route.integration {
            audit = audit.detail("integration", integration);
        }
        self.audited(&audit, |tx| {
            check_target(tx, org, route.user)?;
            if let Some(integration) = route.integration {
                check_integration(tx, org, integration)?;
            }
            let integration = route.integration.map(|i| *i.as_bytes());
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM routes WHERE org_id = ?1 AND integration_id IS ?2
                                AND kind = ?3 AND value = ?4 AND user_id = ?5)",
                params![
                    org.as_bytes(),
                    integration,
                    route.matcher.kind.as_str(),
                    route.matcher.value,
                    route.user.as_bytes()
                ],
                |r| r.get(0),
            )?;
            if taken {
                return Err(Error::Conflict("route"));
            }
            tx.execute(
                &format!(
                    "INSERT INTO routes ({ROUTE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    route.id.as_bytes(),
                    org.as_bytes(),
                    integration,
                    route.matcher.kind.as_str(),
                    route.matcher.value,
                    route.user.as_bytes(),
                    route.created_at
                ],
            )?;
            Ok(())
        })?;
        Ok(route)
    }

    fn list_routes(&self, org: OrgId) -> Result<Vec<Route>, Error> {
        let conn = self.read();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ROUTE_COLUMNS} FROM routes WHERE org_id = ?1 ORDER BY value, created_at, id"
        ))?;
        let mut routes: Vec<Route> = stmt
            .query_map([org.as_bytes()], route_row)?
            .collect::<Result<_, _>>()?;
        routes.sort_by_key(|r| kind_rank(r.matcher.kind));
        Ok(routes)
    }

    fn delete_route(&self, org: OrgId, id: RouteId, ctx: &AuditContext) -> Result<(), Error> {
        let audit = ctx.entry("route.delete", "route").in_org(org).resource(id);
        self.audited(&audit, |tx| {
            let changed = tx.execute(
                "DELETE FROM routes WHERE org_id = ?1 AND id = ?2",
                params![org.as_bytes(), id.as_bytes()],
            )?;
            crate::rows::require_changed(changed, "route")
        })
    }

    fn set_fallback(
        &self,
        org: OrgId,
        fallback: &Fallback,
        ctx: &AuditContext,
    ) -> Result<(), Error> {
        let users: BTreeSet<UserId> = match fallback {
            Fallback::Users { users } => users.iter().copied().collect(),
            Fallback::Nobody | Fallback::All => BTreeSet::new(),
        };
        let audit = ctx
            .entry("routing.fallback", "org")
            .in_org(org)
            .resource(org)
            .detail("kind", fallback.kind_str())
            .count("users", users.len() as u64);
        let now = self.now();
        self.audited(&audit, |tx| {
            tx.query_row("SELECT 1 FROM orgs WHERE id = ?1", [org.as_bytes()], |_| {
                Ok(())
            })
            .optional()?
            .ok_or(Error::NotFound("organisation"))?;
            for user in &users {
                check_target(tx, org, *user)?;
            }
            write_fallback(tx, org, fallback.kind_str(), &users, now)
        })
    }

    fn fallback(&self, org: OrgId) -> Result<Fallback, Error> {
        fallback_in(&self.read(), org)
    }

    fn route_targets(&self, org: OrgId, query: &RouteQuery<'_>) -> Result<RouteTargets, Error> {
        let conn = self.read();
        let keys = RoutingKeys {
            provider_user_id: query.provider_user_id,
            extension: query.extension,
            dialed_number: query.dialed_number,
        };
        routing::resolve(
            &keys,
            |kind, value| matching_users(&conn, org, query.integration, kind, value),
            || {
                Ok(match fallback_in(&conn, org)? {
                    Fallback::Nobody => None,
                    Fallback::All => Some(all_receivers(&conn, org)?),
                    Fallback::Users { .. } => Some(fallback_receivers(&conn, org)?),
                })
            },
        )
    }
}
