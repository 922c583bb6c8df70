//! Call routing's rules: which of an event's routing keys are tried, in which order, who may
//! receive a call, and what the org's fallback means when no route names anyone.
//!
//! Why pure and here: these are the agency's rules, not storage. A store backend answers two
//! questions — "which users do routes of this kind and value name?" and "who does the fallback
//! name?" — and [`resolve`] decides, the same way for every backend, tested below without one.

use crate::wire::{RouteKind, RouteMatch};
use crate::{Permission, PhoneNumber, Role, UserId};

/// Why these users were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteVia {
    /// A provider user id route.
    ProviderUser,
    /// An extension route.
    Extension,
    /// A dialed-number route.
    Number,
    /// No route matched; the org's fallback (`all` or `users`) chose.
    Fallback,
    /// No route matched and the fallback is `nobody`.
    Nobody,
}

/// Who a call pops for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTargets {
    /// Active users of the org whose role receives pops: no duplicates, sorted by id.
    pub users: Vec<UserId>,
    /// How they were chosen.
    pub via: RouteVia,
}

/// What an event offers to route on.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoutingKeys<'a> {
    /// The provider's id of the user or agent it rang.
    pub provider_user_id: Option<&'a str>,
    /// The extension the call was put through to.
    pub extension: Option<&'a str>,
    /// The agency number the client dialed.
    pub dialed_number: Option<&'a PhoneNumber>,
}

impl RoutingKeys<'_> {
    /// The keys to try, in order — provider user id, extension, dialed number (E.164) — without
    /// the missing or blank ones. The most specific key wins: a call put through to one agent
    /// pops for that agent, not for everyone behind the number dialed.
    pub fn tries(&self) -> Vec<(RouteKind, RouteVia, String)> {
        let number = self.dialed_number.map(RouteMatch::number).map(|m| m.value);
        [
            (
                RouteKind::ProviderUser,
                RouteVia::ProviderUser,
                self.provider_user_id.map(|v| v.trim().to_owned()),
            ),
            (
                RouteKind::Extension,
                RouteVia::Extension,
                self.extension.map(|v| v.trim().to_owned()),
            ),
            (RouteKind::Number, RouteVia::Number, number),
        ]
        .into_iter()
        .filter_map(|(kind, via, value)| Some((kind, via, value.filter(|v| !v.is_empty())?)))
        .collect()
    }
}

/// Whether a user may be given a call: active, with a role that receives pops. Checked when a
/// route is added and again at every resolution (a user may be disabled or demoted later).
pub fn can_receive_pops(active: bool, role: Role) -> bool {
    active && role.allows(Permission::ReceivePops)
}

/// Who a call pops for. Tries `keys` in order; the first whose routes name at least one user who
/// can take the call wins (`routed` answers with those users: filtered, sorted, no duplicates).
/// Otherwise the org's fallback: `fallback` answers `None` for `nobody`, else its users.
pub fn resolve<E>(
    keys: &RoutingKeys<'_>,
    mut routed: impl FnMut(RouteKind, &str) -> Result<Vec<UserId>, E>,
    fallback: impl FnOnce() -> Result<Option<Vec<UserId>>, E>,
) -> Result<RouteTargets, E> {
    for (kind, via, value) in keys.tries() {
        let users = routed(kind, &value)?;
        if !users.is_empty() {
            return Ok(RouteTargets { users, via });
        }
    }
    Ok(match fallback()? {
        None => RouteTargets {
            users: Vec::new(),
            via: RouteVia::Nobody,
        },
        Some(users) => RouteTargets {
            users,
            via: RouteVia::Fallback,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::convert::Infallible;

    use super::*;

    fn users(n: u8) -> Vec<UserId> {
        vec![UserId::from_bytes([n; 16])]
    }

    /// Resolves `keys` against `routes` ((kind, value) → users) and a fallback.
    fn pick(
        keys: &RoutingKeys<'_>,
        routes: &[(RouteKind, &str, Vec<UserId>)],
        fallback: Option<Vec<UserId>>,
    ) -> RouteTargets {
        let table: HashMap<(RouteKind, &str), Vec<UserId>> = routes
            .iter()
            .map(|(k, v, u)| ((*k, *v), u.clone()))
            .collect();
        resolve::<Infallible>(
            keys,
            |kind, value| Ok(table.get(&(kind, value)).cloned().unwrap_or_default()),
            || Ok(fallback),
        )
        .unwrap()
    }

    #[test]
    fn the_most_specific_key_that_names_someone_wins() {
        let number = PhoneNumber::parse("+1 202 555 0100").unwrap();
        let keys = RoutingKeys {
            provider_user_id: Some(" agent-7 "),
            extension: Some("204"),
            dialed_number: Some(&number),
        };
        let routes = [
            (RouteKind::ProviderUser, "agent-7", users(1)),
            (RouteKind::Extension, "204", users(2)),
            (RouteKind::Number, "+12025550100", users(3)),
        ];
        let all = pick(&keys, &routes, Some(users(9)));
        assert_eq!((all.via, all.users), (RouteVia::ProviderUser, users(1)));
        // A route whose users cannot take calls names nobody: the next key is tried.
        let no_agent = [
            (RouteKind::ProviderUser, "agent-7", vec![]),
            routes[1].clone(),
        ];
        let ext = pick(&keys, &no_agent, None);
        assert_eq!((ext.via, ext.users), (RouteVia::Extension, users(2)));
        let by_number = pick(&keys, &routes[2..], None);
        assert_eq!(
            (by_number.via, by_number.users),
            (RouteVia::Number, users(3))
        );
    }

    #[test]
    fn blank_keys_are_skipped_and_no_route_means_the_fallback() {
        let keys = RoutingKeys {
            provider_user_id: Some("  "),
            extension: Some(""),
            dialed_number: None,
        };
        assert!(keys.tries().is_empty(), "nothing to try");
        let routes = [(RouteKind::ProviderUser, "", users(1))];
        let fallback = pick(&keys, &routes, Some(users(9)));
        assert_eq!(
            (fallback.via, fallback.users),
            (RouteVia::Fallback, users(9))
        );
        let nobody = pick(&keys, &routes, None);
        assert_eq!((nobody.via, nobody.users), (RouteVia::Nobody, vec![]));
        // A fallback group whose members all left still says it was the fallback.
        let empty_group = pick(&keys, &routes, Some(vec![]));
        assert_eq!(empty_group.via, RouteVia::Fallback);
    }

    #[test]
    fn only_active_users_whose_role_receives_pops_can_take_a_call() {
        assert!(can_receive_pops(true, Role::Agent));
        assert!(can_receive_pops(true, Role::Owner));
        assert!(
            !can_receive_pops(true, Role::Viewer),
            "viewers never get pops"
        );
        assert!(
            !can_receive_pops(false, Role::Agent),
            "disabled users never do"
        );
    }
}
