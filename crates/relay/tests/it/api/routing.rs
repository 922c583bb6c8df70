//! Call routing over HTTP: an admin maps extensions and numbers to agents and sets the fallback;
//! an agent is refused; another org's users, routes and the unroutable are refused with nothing
//! stored; the relay's resolver then sends the call where the admin said.

use ringside_core::{IntegrationId, PhoneNumber, Role};
use ringside_store::{RouteQuery, RouteVia};
use serde_json::json;

use crate::api::client::Member;
use crate::office::Office;

#[tokio::test]
async fn an_admin_routes_calls_and_sets_the_fallback_and_an_agent_cannot() {
    let office = Office::open().await;
    let admin = office.enrolled("admin@acme.example", Role::Admin).await;
    let agent = office.member("agent@acme.example", Role::Agent).await;
    let other_agent = office.member("agent2@acme.example", Role::Agent).await;

    let route_id =
        an_admin_routes_an_extension_and_a_number(&office, &admin, &agent, &other_agent).await;
    an_admin_sets_a_fallback_group(&office, &admin, &agent).await;
    the_admins_routes_decide_where_a_call_goes(&office, &admin, &other_agent).await;
    an_agent_cannot_manage_routing(&office, &agent, &route_id).await;
    deleting_a_route_works_once_and_every_change_is_audited(&office, &admin, &route_id).await;
}

/// The fallback is nobody until an admin says otherwise; routes by extension (for every
/// integration) and by number (stored in E.164): the extension route's id.
async fn an_admin_routes_an_extension_and_a_number(
    office: &Office,
    admin: &Member,
    agent: &Member,
    other_agent: &Member,
) -> String {
    let api = &office.api;
    let fallback = api
        .get_json("/v1/admin/routing/fallback", admin.token(), "the fallback")
        .await;
    assert_eq!(
        fallback,
        json!({"kind": "nobody"}),
        "nobody by default, never everyone"
    );

    let by_extension = api
        .post(
            "/v1/admin/routes",
            admin.token(),
            json!({"kind": "extension", "value": "101", "user_id": agent.user}),
        )
        .await
        .expect(201, "the admin routes an extension")
        .body;
    let route_id = by_extension["route_id"].as_str().unwrap().to_owned();
    assert!(route_id.starts_with("rte_"), "{by_extension}");
    assert_eq!(
        by_extension["integration_id"],
        json!(null),
        "every integration"
    );
    let by_number = api
        .post(
            "/v1/admin/routes",
            admin.token(),
            json!({"kind": "number", "value": "(415) 555-0100", "user_id": other_agent.user}),
        )
        .await
        .expect(201, "the admin routes a number")
        .body;
    assert_eq!(by_number["value"], "+14155550100", "stored in E.164");
    route_id
}

/// A fallback group, its duplicates dropped, read back as set.
async fn an_admin_sets_a_fallback_group(office: &Office, admin: &Member, agent: &Member) {
    let api = &office.api;
    let set = api
        .send(
            "PUT",
            "/v1/admin/routing/fallback",
            admin.token(),
            Some(&json!({"kind": "users", "users": [agent.user, agent.user]})),
        )
        .await
        .expect(200, "the admin sets a fallback group")
        .body;
    assert_eq!(set, json!({"kind": "users", "users": [agent.user]}));
    assert_eq!(
        api.get_json("/v1/admin/routing/fallback", admin.token(), "again")
            .await,
        set
    );
}

/// The routes are listed in routing order, and the resolver the pipeline asks follows them.
async fn the_admins_routes_decide_where_a_call_goes(
    office: &Office,
    admin: &Member,
    other_agent: &Member,
) {
    let api = &office.api;
    let list = api
        .get_json("/v1/admin/routes", admin.token(), "the list")
        .await;
    let kinds: Vec<&str> = list["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["extension", "number"], "in routing order: {list}");

    // What the pipeline will ask.
    let integration = IntegrationId::random();
    let number = PhoneNumber::parse("+14155550100").unwrap();
    let targets = office
        .operator
        .store
        .routing()
        .route_targets(
            office.org,
            &RouteQuery {
                integration,
                provider_user_id: None,
                extension: Some("102"),
                dialed_number: Some(&number),
            },
        )
        .unwrap();
    assert_eq!(targets.via, RouteVia::Number);
    assert_eq!(
        targets.users,
        [other_agent.user.parse().unwrap()],
        "the number's route decides"
    );
}

/// Reading or changing routes and the fallback is refused to an agent.
async fn an_agent_cannot_manage_routing(office: &Office, agent: &Member, route_id: &str) {
    let api = &office.api;
    for (method, path) in [
        ("GET", "/v1/admin/routes"),
        ("GET", "/v1/admin/routing/fallback"),
    ] {
        api.send(method, path, agent.token(), None).await.problem(
            403,
            "forbidden",
            "an agent does not manage routing",
        );
    }
    api.post(
        "/v1/admin/routes",
        agent.token(),
        json!({"kind": "extension", "value": "999", "user_id": agent.user}),
    )
    .await
    .problem(
        403,
        "forbidden",
        "an agent cannot add a route, not even to themself",
    );
    api.send(
        "PUT",
        "/v1/admin/routing/fallback",
        agent.token(),
        Some(&json!({"kind": "all"})),
    )
    .await
    .problem(403, "forbidden", "an agent cannot set the fallback");
    api.delete(&format!("/v1/admin/routes/{route_id}"), agent.token())
        .await
        .problem(403, "forbidden", "an agent cannot delete a route");
}

/// A route is deleted once; the audit log holds each change.
async fn deleting_a_route_works_once_and_every_change_is_audited(
    office: &Office,
    admin: &Member,
    route_id: &str,
) {
    let api = &office.api;
    api.delete(&format!("/v1/admin/routes/{route_id}"), admin.token())
        .await
        .expect(204, "the admin deletes a route");
    api.delete(&format!("/v1/admin/routes/{route_id}"), admin.token())
        .await
        .problem(404, "not_found", "it is gone");
    let (actions, audit) = api.audit_actions("route.*", admin.token()).await;
    assert_eq!(
        actions,
        ["route.create", "route.create", "route.delete"],
        "{audit}"
    );
}

#[tokio::test]
async fn another_orgs_users_and_routes_and_people_who_cannot_take_calls_are_refused_with_nothing_stored()
 {
    let office = Office::open().await;
    let api = &office.api;
    let admin = office.enrolled("admin@acme.example", Role::Admin).await;
    let agent = office.member("agent@acme.example", Role::Agent).await;
    let viewer = office.member("viewer@acme.example", Role::Viewer).await;
    let other = office.operator.create_org("Other Agency");
    let mut outsider = office
        .member_of(other, "owner@other.example", Role::Owner)
        .await;
    office.enrol(&mut outsider).await;

    api.post(
        "/v1/admin/routes",
        admin.token(),
        json!({"kind": "extension", "value": "101", "user_id": outsider.user}),
    )
    .await
    .problem(404, "not_found", "another org's user is not found");
    api.send(
        "PUT",
        "/v1/admin/routing/fallback",
        admin.token(),
        Some(&json!({"kind": "users", "users": [agent.user, outsider.user]})),
    )
    .await
    .problem(404, "not_found", "nor can it join the fallback group");
    api.post(
        "/v1/admin/routes",
        admin.token(),
        json!({"kind": "extension", "value": "101", "user_id": viewer.user}),
    )
    .await
    .problem(
        422,
        "user_cannot_receive_pops",
        "a viewer cannot take calls",
    );
    api.post(
        "/v1/admin/routes",
        admin.token(),
        json!({"kind": "extension", "value": "10a", "user_id": agent.user}),
    )
    .await
    .problem(422, "invalid_route_value", "an extension is digits");
    let foreign_integration = office.operator.create_integration(other);
    api.post(
        "/v1/admin/routes",
        admin.token(),
        json!({"kind": "extension", "value": "101", "user_id": agent.user,
               "integration_id": foreign_integration}),
    )
    .await
    .problem(404, "not_found", "another org's integration is not found");

    assert_eq!(
        api.get_json("/v1/admin/routes", admin.token(), "the list")
            .await,
        json!({"routes": []}),
        "nothing was stored"
    );
    assert_eq!(
        api.get_json("/v1/admin/routing/fallback", admin.token(), "fallback")
            .await,
        json!({"kind": "nobody"}),
        "the fallback is untouched"
    );

    let route = api
        .post(
            "/v1/admin/routes",
            admin.token(),
            json!({"kind": "provider_user", "value": "5241236", "user_id": agent.user}),
        )
        .await
        .expect(201, "a good route")
        .body;
    api.post(
        "/v1/admin/routes",
        admin.token(),
        json!({"kind": "provider_user", "value": "5241236", "user_id": agent.user}),
    )
    .await
    .problem(409, "route_exists", "the same route twice");

    office.step_up(&outsider).await;
    let path = format!("/v1/admin/routes/{}", route["route_id"].as_str().unwrap());
    api.delete(&path, outsider.token()).await.problem(
        404,
        "not_found",
        "another org's owner cannot delete it",
    );
    assert_eq!(
        api.get_json("/v1/admin/routes", outsider.token(), "their list")
            .await,
        json!({"routes": []}),
        "nor list it"
    );
    assert_eq!(
        api.get_json("/v1/admin/routes", admin.token(), "ours")
            .await["routes"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "it is still there"
    );
}
