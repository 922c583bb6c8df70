//! Call routing over HTTP: an admin maps extensions and numbers to agents and sets the fallback;
//! an agent is refused; another org's users, routes and the unroutable are refused with nothing
//! stored; the relay's resolver then sends the call where the admin said.

use ringside_core::{IntegrationId, PhoneNumber, Role};
use ringside_store::{RouteQuery, RouteVia};
use serde_json::json;

use super::office::Office;

#[tokio::test]
async fn an_admin_routes_calls_and_sets_the_fallback_and_an_agent_cannot() {
    let office = Office::open("Acme Insurance").await;
    let api = &office.api;
    let admin = office.enrolled("admin@acme.example", Role::Admin).await;
    let agent = office.member("agent@acme.example", Role::Agent).await;
    let other_agent = office.member("agent2@acme.example", Role::Agent).await;

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

    // What the pipeline will ask: the admin's routes decide.
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

    api.delete(&format!("/v1/admin/routes/{route_id}"), admin.token())
        .await
        .expect(204, "the admin deletes a route");
    api.delete(&format!("/v1/admin/routes/{route_id}"), admin.token())
        .await
        .problem(404, "not_found", "it is gone");
    let audit = api
        .get_json(
            "/v1/admin/audit?action=route.*",
            admin.token(),
            "the audit log",
        )
        .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["route.create", "route.create", "route.delete"],
        "{audit}"
    );
}

#[tokio::test]
async fn another_orgs_users_and_routes_and_people_who_cannot_take_calls_are_refused_with_nothing_stored()
 {
    let office = Office::open("Acme Insurance").await;
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
