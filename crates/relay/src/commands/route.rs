//! The operator's `ringside-relay route …` commands (docs/routing.md); the HTTP API's twin is
//! `api/routing.rs` (`/v1/admin/routes`, `/v1/admin/routing/fallback`).
//!
//! The rules live in the store (`ringside_store::RoutingStore::add_route` and friends): only active
//! users of the org whose role receives pops, only the org's own active integrations, values
//! normalized (numbers in E.164), every change audited in its own transaction. This module gives
//! the command line its parser and printer.

use std::sync::Arc;

use clap::{ArgGroup, Subcommand};
use ringside_core::wire::{Fallback, RouteInfo, RouteKind, RouteMatch};
use ringside_core::{IntegrationId, OrgId, RouteId, SystemClock, UserId};
use ringside_store::{AuditContext, NewRoute, Route, Store};

use crate::{Config, Error};
use ringside_identity::AuthError;

/// What the operator's commands write in the audit log as the actor.
fn operator() -> AuditContext {
    AuditContext::system("cli")
}

/// The store of the configured data folder, for one command; refuses an unknown org.
fn open(config: &Config, org: OrgId) -> Result<Store, Error> {
    let store = Store::open(&config.data_dir, Arc::new(SystemClock))?;
    store.orgs().org(org)?;
    Ok(store)
}

/// A user named by id (`usr_…`) or by email address. The address is matched against the org's
/// own users only (their sealed addresses are opened with the org's key), so another org's user
/// is "not found" either way.
fn resolve_user(config: &Config, org: OrgId, who: &str) -> Result<(Store, UserId), Error> {
    if let Ok(id) = who.parse::<UserId>() {
        return Ok((open(config, org)?, id));
    }
    let email = ringside_identity::normalize_email(who)?;
    let (store, masters) = crate::open::open_store(config, Arc::new(SystemClock))?;
    store.orgs().org(org)?;
    let keys = store.orgs().org_keyring(org, &masters)?;
    let user = store
        .users()
        .list(org, &keys)?
        .into_iter()
        .find(|u| u.email.expose() == email.expose())
        .map(|u| u.user.id)
        .ok_or(Error::Store(ringside_store::Error::NotFound("user")))?;
    Ok((store, user))
}

/// `ringside-relay route …`: call routing of one organisation (docs/routing.md).
#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Route calls that match a provider user id, an extension or a dialed number to a user.
    #[command(group(ArgGroup::new("match").required(true).args(["provider_user", "extension", "number"])))]
    Add {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// Who gets the pop: a user id (usr_…) or their email address.
        #[arg(long, value_name = "USER_ID_OR_EMAIL")]
        user: String,
        /// The provider's own id of the user or agent it rings.
        #[arg(long, value_name = "ID")]
        provider_user: Option<String>,
        /// The extension the call is put through to (digits).
        #[arg(long, value_name = "EXT")]
        extension: Option<String>,
        /// The agency number the client dialed (any common format; stored in E.164).
        #[arg(long, value_name = "NUMBER")]
        number: Option<String>,
        /// Only calls of this integration (int_…); default: every integration of the org.
        #[arg(long, value_name = "INT")]
        integration: Option<IntegrationId>,
        /// Print the route as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List an organisation's routes and its fallback, in routing order.
    List {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// Print `{"routes": [...], "fallback": {...}}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a route.
    Delete {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// The route's id (rte_…).
        #[arg(long, value_name = "ROUTE")]
        id: RouteId,
    },
    /// Set where calls that no route matches go (the default is nobody).
    #[command(group(ArgGroup::new("target").required(true).args(["nobody", "all", "users"])))]
    Fallback {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// Nobody gets a pop.
        #[arg(long)]
        nobody: bool,
        /// Every active user whose role receives pops (owners, admins, agents).
        #[arg(long)]
        all: bool,
        /// These users (comma-separated ids).
        #[arg(long, value_name = "USR,USR", value_delimiter = ',')]
        users: Option<Vec<UserId>>,
    },
}

/// Runs a `route` command.
#[allow(clippy::print_stdout, reason = "the command line's job is to print")]
pub fn run(config: &Config, command: RouteCommand) -> Result<(), Error> {
    match command {
        RouteCommand::Add {
            org,
            user,
            provider_user,
            extension,
            number,
            integration,
            json,
        } => {
            // clap requires exactly one of the three.
            let Some((kind, value)) = provider_user
                .map(|v| (RouteKind::ProviderUser, v))
                .or_else(|| extension.map(|v| (RouteKind::Extension, v)))
                .or_else(|| number.map(|v| (RouteKind::Number, v)))
            else {
                return Err(AuthError::InvalidInput("route match").into());
            };
            let (store, user) = resolve_user(config, org, &user)?;
            let new = NewRoute {
                integration,
                matcher: RouteMatch { kind, value },
                user,
            };
            let route = store.routing().add_route(org, &new, &operator())?.info();
            if json {
                println!("{}", serde_json::to_string(&route).unwrap_or_default());
            } else {
                println!("route {} added", route.route_id);
                println!("{}", route_line(&route));
            }
        }
        RouteCommand::List { org, json } => {
            let store = open(config, org)?;
            let routes: Vec<RouteInfo> = store
                .routing()
                .list_routes(org)?
                .into_iter()
                .map(Route::info)
                .collect();
            let fallback = store.routing().fallback(org)?;
            if json {
                let out = serde_json::json!({ "routes": routes, "fallback": fallback });
                println!("{out}");
            } else {
                for route in &routes {
                    println!("{}", route_line(route));
                }
                println!("fallback {}", fallback_text(&fallback));
            }
        }
        RouteCommand::Delete { org, id } => {
            open(config, org)?
                .routing()
                .delete_route(org, id, &operator())?;
            println!("route {id} deleted");
        }
        RouteCommand::Fallback {
            org,
            nobody: _,
            all,
            users,
        } => {
            let fallback = match (all, users) {
                (true, _) => Fallback::All,
                (false, Some(users)) => Fallback::Users { users },
                (false, None) => Fallback::Nobody,
            };
            let store = open(config, org)?;
            store.routing().set_fallback(org, &fallback, &operator())?;
            println!(
                "fallback {}",
                fallback_text(&store.routing().fallback(org)?)
            );
        }
    }
    Ok(())
}

/// One route on one line: id, kind, value, user, integration.
fn route_line(route: &RouteInfo) -> String {
    let integration = route
        .integration_id
        .map_or_else(|| "all integrations".to_owned(), |i| i.to_string());
    format!(
        "{}  {:<13}  {:<16}  {}  {integration}",
        route.route_id, route.kind, route.value, route.user_id
    )
}

fn fallback_text(fallback: &Fallback) -> String {
    match fallback {
        Fallback::Nobody => "nobody".to_owned(),
        Fallback::All => "all".to_owned(),
        Fallback::Users { users } => {
            let ids: Vec<String> = users.iter().map(ToString::to_string).collect();
            format!("users {}", ids.join(","))
        }
    }
}
