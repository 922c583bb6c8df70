//! Tests of call routing on real SQLite files: the order provider user id → extension → number →
//! fallback, integration scoping, the `nobody` default, only active pop-receiving users of the
//! org, refusals that write nothing, forged rows that route nowhere, and the audit entries.
//!
//! Users come from the identity tests' fixture (invited and accepted like real ones).

use ringside_core::wire::{Actor, Fallback, RouteKind, RouteMatch};
use ringside_core::{IntegrationId, OrgId, PhoneNumber, Role, RouteId, UserId};
use ringside_vault::OrgKeyring;

use crate::identity_tests::{Fixture, fixture};
use crate::{
    AuditContext, AuditEntry, Error, NewIntegration, NewRoute, RouteQuery, RouteTargets, RouteVia,
    RoutingRefusal, UserStatus,
};

const NOW: i64 = 1_795_424_400; // 2026-11-23 09:00 UTC

fn ctx() -> AuditContext {
    AuditContext::system("test")
}

fn matcher(kind: RouteKind, value: &str) -> RouteMatch {
    RouteMatch::new(kind, value).unwrap()
}

/// An org with an owner, two agents, a viewer and a disabled agent, and two integrations.
struct Office {
    org: OrgId,
    owner: UserId,
    alice: UserId,
    bob: UserId,
    viewer: UserId,
    gone: UserId,
    main: IntegrationId,
    second: IntegrationId,
}

impl Fixture {
    fn integration(&self, org: OrgId, keys: &OrgKeyring) -> IntegrationId {
        let id = IntegrationId::random();
        let new = NewIntegration {
            id,
            org,
            provider: "dialpad".to_owned(),
            settings: "{}".to_owned(),
            label: "Line".to_owned(),
            created_at: NOW,
        };
        let audit = AuditEntry::new(Actor::system("test"), "integration.create", "integration")
            .in_org(org)
            .resource(id);
        self.store
            .integrations()
            .create_integration(&new, "secret", keys, &audit)
            .unwrap();
        id
    }

    /// An office; `base` keeps the users' blind indexes and invitation codes apart.
    fn office(&self, name: &str, base: u8) -> Office {
        let (org, keys) = self.org(name);
        let email = |who: &str| format!("{who}{base}@agency.example");
        let owner = self.user(org, &keys, base, Role::Owner, &email("owner"), "O");
        let alice = self.user(org, &keys, base + 1, Role::Agent, &email("alice"), "A");
        let bob = self.user(org, &keys, base + 2, Role::Admin, &email("bob"), "B");
        let viewer = self.user(org, &keys, base + 3, Role::Viewer, &email("viewer"), "V");
        let gone = self.user(org, &keys, base + 4, Role::Agent, &email("gone"), "G");
        let main = self.integration(org, &keys);
        let second = self.integration(org, &keys);
        let office = Office {
            org,
            owner,
            alice,
            bob,
            viewer,
            gone,
            main,
            second,
        };
        // Routed while active, then disabled: its routes must stop popping.
        self.route(&office, None, matcher(RouteKind::Extension, "199"), gone);
        let audit = AuditEntry::new(Actor::system("test"), "user.disable", "user").in_org(org);
        self.store
            .users()
            .set_user_status(org, gone, UserStatus::Disabled, NOW, &audit)
            .unwrap();
        office
    }

    /// Agency A and Agency B, for the tests of what one org can do to another.
    fn two_offices(&self) -> (Office, Office) {
        (self.office("Agency A", 10), self.office("Agency B", 30))
    }

    fn route(
        &self,
        office: &Office,
        integration: Option<IntegrationId>,
        matcher: RouteMatch,
        user: UserId,
    ) -> RouteId {
        self.store
            .routing()
            .add_route(
                office.org,
                &NewRoute {
                    integration,
                    matcher,
                    user,
                },
                &ctx(),
            )
            .unwrap()
            .id
    }

    fn targets(
        &self,
        office: &Office,
        integration: IntegrationId,
        provider_user: Option<&str>,
        extension: Option<&str>,
        number: Option<&PhoneNumber>,
    ) -> RouteTargets {
        self.store
            .routing()
            .route_targets(
                office.org,
                &RouteQuery {
                    integration,
                    provider_user_id: provider_user,
                    extension,
                    dialed_number: number,
                },
            )
            .unwrap()
    }

    fn count(&self, sql: &str) -> u32 {
        self.store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

fn sorted(mut users: Vec<UserId>) -> Vec<UserId> {
    users.sort();
    users
}

#[test]
fn provider_user_then_extension_then_number_then_the_fallback_and_the_first_match_wins() {
    let f = fixture();
    let o = f.office("Acme", 10);
    let number = PhoneNumber::parse("(415) 555-0100").unwrap();
    f.route(
        &o,
        None,
        matcher(RouteKind::ProviderUser, "5241236"),
        o.alice,
    );
    f.route(&o, None, matcher(RouteKind::Extension, "101"), o.bob);
    f.route(
        &o,
        None,
        matcher(RouteKind::Number, "+1 415 555 0100"),
        o.owner,
    );
    f.store
        .routing()
        .set_fallback(o.org, &Fallback::All, &ctx())
        .unwrap();

    let all = f.targets(&o, o.main, Some("5241236"), Some("101"), Some(&number));
    assert_eq!(
        all.via,
        RouteVia::ProviderUser,
        "the provider user id comes first"
    );
    assert_eq!(all.users, vec![o.alice]);

    let no_user = f.targets(&o, o.main, Some("999"), Some(" 101 "), Some(&number));
    assert_eq!(
        (no_user.via, no_user.users),
        (RouteVia::Extension, vec![o.bob]),
        "an unknown provider user falls through to the extension"
    );

    let by_number = f.targets(&o, o.main, None, Some("555"), Some(&number));
    assert_eq!(
        (by_number.via, by_number.users),
        (RouteVia::Number, vec![o.owner]),
        "the number is matched in E.164 whatever format it was entered in"
    );

    let unmatched = f.targets(&o, o.main, Some("1"), Some("2"), None);
    assert_eq!(unmatched.via, RouteVia::Fallback);
    assert_eq!(
        unmatched.users,
        sorted(vec![o.owner, o.alice, o.bob]),
        "`all` is every active user whose role receives pops: no viewer, no disabled user"
    );
}

#[test]
fn the_fallback_is_nobody_until_set_and_users_pops_only_those_who_can_take_calls() {
    let f = fixture();
    let o = f.office("Acme", 10);
    assert_eq!(f.store.routing().fallback(o.org).unwrap(), Fallback::Nobody);
    let none = f.targets(&o, o.main, Some("1"), Some("2"), None);
    assert_eq!(
        none,
        RouteTargets {
            users: vec![],
            via: RouteVia::Nobody
        },
        "by default an unmatched call pops for nobody"
    );

    let group = Fallback::Users {
        users: vec![o.bob, o.alice, o.bob],
    };
    f.store
        .routing()
        .set_fallback(o.org, &group, &ctx())
        .unwrap();
    assert_eq!(
        f.store.routing().fallback(o.org).unwrap(),
        Fallback::Users {
            users: sorted(vec![o.alice, o.bob])
        },
        "duplicates are dropped"
    );
    let pops = f.targets(&o, o.main, None, None, None);
    assert_eq!(
        (pops.via, pops.users),
        (RouteVia::Fallback, sorted(vec![o.alice, o.bob]))
    );

    // Bob is demoted to viewer: still listed, no longer popped.
    let audit = AuditEntry::new(Actor::system("test"), "user.role", "user").in_org(o.org);
    f.store
        .users()
        .set_user_role(o.org, o.bob, Role::Viewer, NOW, &audit)
        .unwrap();
    assert_eq!(f.targets(&o, o.main, None, None, None).users, vec![o.alice]);

    f.store
        .routing()
        .set_fallback(o.org, &Fallback::Nobody, &ctx())
        .unwrap();
    assert_eq!(f.store.routing().fallback(o.org).unwrap(), Fallback::Nobody);
    assert_eq!(
        f.count("SELECT count(*) FROM routing_fallback_users"),
        0,
        "the group is gone with it"
    );
}

#[test]
fn routes_of_this_integration_and_of_all_integrations_apply_and_others_do_not() {
    let f = fixture();
    let o = f.office("Acme", 10);
    f.route(
        &o,
        Some(o.main),
        matcher(RouteKind::Extension, "101"),
        o.alice,
    );
    f.route(&o, None, matcher(RouteKind::Extension, "101"), o.bob);
    f.route(
        &o,
        Some(o.second),
        matcher(RouteKind::Extension, "101"),
        o.alice,
    );
    f.route(
        &o,
        Some(o.second),
        matcher(RouteKind::Extension, "102"),
        o.owner,
    );

    let main = f.targets(&o, o.main, None, Some("101"), None);
    assert_eq!(
        main.users,
        sorted(vec![o.alice, o.bob]),
        "scoped and unscoped routes both apply, each user once"
    );
    let other = f.targets(&o, o.main, None, Some("102"), None);
    assert_eq!(
        other.via,
        RouteVia::Nobody,
        "another integration's route does not apply"
    );
    assert_eq!(
        f.targets(&o, o.second, None, Some("102"), None).users,
        vec![o.owner]
    );
}

#[test]
fn a_route_to_someone_who_cannot_take_calls_falls_through() {
    let f = fixture();
    let o = f.office("Acme", 10);
    f.route(
        &o,
        None,
        matcher(RouteKind::Number, "+14155550100"),
        o.alice,
    );
    let number = PhoneNumber::parse("+14155550100").unwrap();
    let call = f.targets(&o, o.main, None, Some("199"), Some(&number));
    assert_eq!(
        (call.via, call.users),
        (RouteVia::Number, vec![o.alice]),
        "extension 199 routes only to a disabled user, so the number decides"
    );
}

#[test]
fn routes_to_other_orgs_disabled_users_viewers_or_foreign_integrations_are_refused_and_nothing_is_written()
 {
    let f = fixture();
    let (a, b) = f.two_offices();
    let routes_before = f.count("SELECT count(*) FROM routes");
    let audit_before = f.count("SELECT count(*) FROM audit_log");
    let add = |integration, user| {
        f.store.routing().add_route(
            a.org,
            &NewRoute {
                integration,
                matcher: matcher(RouteKind::Extension, "101"),
                user,
            },
            &ctx(),
        )
    };
    assert!(
        matches!(add(None, b.alice), Err(Error::NotFound("user"))),
        "another org's user is not found"
    );
    assert!(matches!(
        add(None, UserId::random()),
        Err(Error::NotFound("user"))
    ));
    assert!(matches!(
        add(None, a.gone),
        Err(Error::Routing(RoutingRefusal::UserDisabled))
    ));
    assert!(matches!(
        add(None, a.viewer),
        Err(Error::Routing(RoutingRefusal::UserCannotReceivePops))
    ));
    assert!(
        matches!(
            add(Some(b.main), a.alice),
            Err(Error::NotFound("integration"))
        ),
        "another org's integration is not found"
    );
    let bad_value = f.store.routing().add_route(
        a.org,
        &NewRoute {
            integration: None,
            matcher: RouteMatch {
                kind: RouteKind::Number,
                value: "not a number".to_owned(),
            },
            user: a.alice,
        },
        &ctx(),
    );
    assert!(matches!(
        bad_value,
        Err(Error::Routing(RoutingRefusal::InvalidValue(
            RouteKind::Number
        )))
    ));
    let fallback = Fallback::Users {
        users: vec![a.alice, b.alice],
    };
    assert!(
        matches!(
            f.store.routing().set_fallback(a.org, &fallback, &ctx()),
            Err(Error::NotFound("user"))
        ),
        "a fallback group cannot name another org's user"
    );
    assert_eq!(f.count("SELECT count(*) FROM routes"), routes_before);
    assert_eq!(f.count("SELECT count(*) FROM routing_fallback"), 0);
    assert_eq!(
        f.count("SELECT count(*) FROM audit_log"),
        audit_before,
        "a refused change leaves no audit entry either"
    );

    add(None, a.alice).unwrap();
    assert!(
        matches!(add(None, a.alice), Err(Error::Conflict("route"))),
        "the same route twice is a conflict, also for routes of every integration"
    );
}

#[test]
fn a_forged_row_naming_another_orgs_user_never_routes_a_call_there() {
    let f = fixture();
    let (a, b) = f.two_offices();
    {
        let conn = f.store.conn();
        // A route of A's extension 101 to B's Alice.
        let forge = || {
            conn.execute(
                "INSERT INTO routes (id, org_id, integration_id, kind, value, user_id, created_at)
                 VALUES (?1, ?2, NULL, 'extension', '101', ?3, 0)",
                rusqlite::params![
                    RouteId::random().as_bytes(),
                    a.org.as_bytes(),
                    b.alice.as_bytes()
                ],
            )
        };
        let forged = forge();
        assert!(
            forged.is_err(),
            "the schema refuses a route to another org's user"
        );
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        forge().unwrap();
        conn.execute(
            "INSERT INTO routing_fallback_users (org_id, user_id) VALUES (?1, ?2)",
            rusqlite::params![a.org.as_bytes(), b.alice.as_bytes()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO routing_fallback (org_id, kind, updated_at) VALUES (?1, 'users', 0)",
            [a.org.as_bytes()],
        )
        .unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    }
    let call = f.targets(&a, a.main, None, Some("101"), None);
    assert_eq!(
        (call.via, call.users),
        (RouteVia::Fallback, vec![]),
        "the forged route and the forged fallback member are both ignored"
    );
    f.store
        .routing()
        .set_fallback(a.org, &Fallback::All, &ctx())
        .unwrap();
    let all = f.targets(&a, a.main, None, Some("101"), None);
    assert!(
        !all.users.contains(&b.alice) && all.users.contains(&a.alice),
        "`all` is this org's users only"
    );
}

#[test]
fn each_change_has_its_audit_entry_and_one_org_cannot_delete_anothers_route() {
    let f = fixture();
    let (a, b) = f.two_offices();
    let audit_count = |action: &str| {
        f.count(&format!(
            "SELECT count(*) FROM audit_log WHERE action = '{action}'"
        ))
    };
    let creates = audit_count("route.create");
    let id = f.route(
        &a,
        Some(a.main),
        matcher(RouteKind::ProviderUser, "u-1"),
        a.alice,
    );
    assert_eq!(audit_count("route.create"), creates + 1);

    assert!(
        matches!(
            f.store.routing().delete_route(b.org, id, &ctx()),
            Err(Error::NotFound("route"))
        ),
        "org B cannot delete org A's route"
    );
    assert_eq!(audit_count("route.delete"), 0);
    f.store
        .routing()
        .set_fallback(a.org, &Fallback::All, &ctx())
        .unwrap();
    assert_eq!(audit_count("routing.fallback"), 1);

    let listed = f.store.routing().list_routes(a.org).unwrap();
    assert!(listed.iter().any(|r| r.id == id));
    assert!(
        f.store
            .routing()
            .list_routes(b.org)
            .unwrap()
            .iter()
            .all(|r| r.id != id),
        "org B does not list org A's route"
    );
    assert_eq!(
        listed.iter().map(|r| r.matcher.kind).collect::<Vec<_>>(),
        vec![RouteKind::ProviderUser, RouteKind::Extension],
        "listed in routing order"
    );

    f.store.routing().delete_route(a.org, id, &ctx()).unwrap();
    assert_eq!(audit_count("route.delete"), 1);
    assert!(
        f.store
            .routing()
            .list_routes(a.org)
            .unwrap()
            .iter()
            .all(|r| r.id != id)
    );
}
