//! Whole journeys over HTTP, as the desktop app makes them: the first owner's invitation to an
//! agent cut off by an admin; token rotation and reuse; timeouts; the per-user rate limit; the
//! audit query. The relay runs on a fake clock, so timeouts are crossed by moving it.

use std::time::Duration;

use ringside_core::{Role, UserId};
use serde_json::{Value, json};

use super::client::{
    Api, DEVICE, Member, Operator, PASSWORD, enrol, invited, join, next_code, pace, refresh,
    sign_in, step_up,
};
use crate::utils::TestRelay;

const MIN: u64 = 60;

/// Asserts an error answer: status, problem+json, code.
#[track_caller]
fn assert_problem(reply: &super::client::Reply, status: u16, code: &str, what: &str) {
    assert_eq!(
        (reply.status, reply.code()),
        (status, code),
        "{what}: {}",
        reply.body
    );
    assert_eq!(
        reply.headers["content-type"], "application/problem+json",
        "{what}: errors are problem+json"
    );
}

#[tokio::test]
async fn an_owner_invited_by_the_operator_builds_a_team_and_a_disabled_agent_is_cut_off_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let api = Api::new(&relay);
    let operator = Operator::open(&relay);
    let org = operator.create_org("Acme Insurance");
    let (_, owner_code) = operator.invite(org, "owner@acme.example", Role::Owner);

    // The owner joins; until they enrol a second factor, only what an agent may do is open.
    let mut owner = join(
        &relay,
        &api,
        &owner_code,
        "owner@acme.example",
        "Olive Owner",
        DEVICE,
    )
    .await;
    let me = api
        .get("/v1/me", owner.token())
        .await
        .expect(200, "me")
        .body;
    assert_eq!(me["user"]["role"], "owner");
    assert_eq!(me["mfa_required_for"], "admin_permissions");
    assert!(
        me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("terminate_org")),
        "an owner holds every permission: {me}"
    );
    let refused = api.get("/v1/admin/users", owner.token()).await;
    assert_problem(
        &refused,
        403,
        "mfa_enrollment_required",
        "admin routes before enrolment",
    );
    let again = api
        .post(
            "/v1/invitations/accept",
            None,
            json!({"code": owner_code, "display_name": "Mallory", "password": PASSWORD,
                   "device_name": "X"}),
        )
        .await;
    assert_problem(
        &again,
        404,
        "invitation_invalid",
        "an invitation works once",
    );

    // TOTP enrolment, then a sign-in that asks for the second factor.
    enrol(&relay, &api, &mut owner).await;
    assert_eq!(owner.recovery.len(), 10, "ten recovery codes, shown once");
    pace(&relay);
    let first = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": "OWNER@acme.example", "password": PASSWORD,
                   "device_name": DEVICE, "device_token": owner.device_token}),
        )
        .await
        .expect(200, "the password step");
    assert_eq!(first.body["status"], "second_factor_required");
    assert!(
        first.body.get("access_token").is_none(),
        "no tokens before the second factor"
    );
    let wrong = api
        .post(
            "/v1/auth/second-factor",
            None,
            json!({"challenge": first.body["challenge"], "code": "000000"}),
        )
        .await;
    assert_problem(&wrong, 401, "invalid_second_factor", "a wrong code");
    let code = next_code(&relay, owner.totp_uri.as_deref().unwrap());
    let tokens = api
        .post(
            "/v1/auth/second-factor",
            None,
            json!({"challenge": first.body["challenge"], "code": code}),
        )
        .await
        .expect(200, "the second step")
        .body;
    assert_eq!(tokens["mfa_enrolled"], true);
    owner.take_tokens(&tokens);
    let replay = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": owner.email, "password": PASSWORD, "device_name": DEVICE,
                   "second_factor": code}),
        )
        .await;
    assert_problem(
        &replay,
        401,
        "invalid_second_factor",
        "a TOTP code works once",
    );

    // Changes to the team need a second factor from the last ten minutes.
    relay.clock.advance(Duration::from_secs(11 * MIN));
    refresh(&api, &mut owner).await;
    let invite_admin = json!({"email": "admin@acme.example", "role": "admin"});
    let stale = api
        .post("/v1/admin/invitations", owner.token(), invite_admin.clone())
        .await;
    assert_problem(
        &stale,
        403,
        "step_up_required",
        "inviting needs a recent second factor",
    );
    step_up(&relay, &api, &owner).await;
    let invitation = api
        .post("/v1/admin/invitations", owner.token(), invite_admin)
        .await
        .expect(201, "inviting an admin")
        .body;
    assert_eq!(invitation["role"], "admin");
    let mut admin = join(
        &relay,
        &api,
        invitation["code"].as_str().unwrap(),
        "admin@acme.example",
        "Ada Admin",
        DEVICE,
    )
    .await;
    enrol(&relay, &api, &mut admin).await;

    // The admin invites an agent, who signs in and works.
    let invitation = api
        .post(
            "/v1/admin/invitations",
            admin.token(),
            json!({"email": "agent@acme.example", "role": "agent"}),
        )
        .await
        .expect(201, "an admin invites an agent")
        .body;
    let owner_invite = api
        .post(
            "/v1/admin/invitations",
            admin.token(),
            json!({"email": "boss@acme.example", "role": "owner"}),
        )
        .await;
    assert_problem(
        &owner_invite,
        403,
        "forbidden",
        "an admin cannot invite an owner",
    );
    let mut agent = join(
        &relay,
        &api,
        invitation["code"].as_str().unwrap(),
        "agent@acme.example",
        "Aggie Agent",
        DEVICE,
    )
    .await;
    sign_in(&relay, &api, &mut agent).await;
    let me = api
        .get("/v1/me", agent.token())
        .await
        .expect(200, "agent me")
        .body;
    assert_eq!(me["user"]["display_name"], "Aggie Agent");
    assert_eq!(
        me["mfa_required_for"], "nothing",
        "agents need no second factor by default"
    );
    let team = api.get("/v1/admin/users", agent.token()).await;
    assert_problem(&team, 403, "forbidden", "agents do not manage the team");
    let team = api
        .get("/v1/admin/users", admin.token())
        .await
        .expect(200, "the team")
        .body;
    assert_eq!(team["users"].as_array().unwrap().len(), 3);
    let on_owner = api
        .post(
            &format!("/v1/admin/users/{}/disable", owner.user),
            admin.token(),
            json!(null),
        )
        .await;
    assert_problem(
        &on_owner,
        403,
        "forbidden",
        "an admin cannot disable an owner",
    );

    // Disabling ends every session of the agent at once.
    let sessions = api
        .get(
            &format!("/v1/admin/users/{}/sessions", agent.user),
            admin.token(),
        )
        .await
        .expect(200, "the agent's sessions")
        .body;
    assert_eq!(
        sessions["sessions"].as_array().unwrap().len(),
        2,
        "two sign-ins"
    );
    api.post(
        &format!("/v1/admin/users/{}/disable", agent.user),
        admin.token(),
        json!(null),
    )
    .await
    .expect(204, "disabling the agent");
    let cut = api.get("/v1/me", agent.token()).await;
    assert_problem(
        &cut,
        401,
        "session_revoked",
        "the agent's token is refused at once",
    );
    assert!(
        cut.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"),
        "a 401 names the scheme"
    );
    let refreshed = api
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": agent.refresh}),
        )
        .await;
    assert_eq!(
        refreshed.status, 401,
        "nor can the agent refresh: {}",
        refreshed.body
    );
    pace(&relay);
    let login = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": agent.email, "password": PASSWORD, "device_name": DEVICE}),
        )
        .await;
    assert_problem(
        &login,
        401,
        "invalid_credentials",
        "a disabled agent cannot sign in",
    );

    // Enabled again, the agent signs in anew; the old sessions stay dead.
    api.post(
        &format!("/v1/admin/users/{}/enable", agent.user),
        admin.token(),
        json!(null),
    )
    .await
    .expect(204, "enabling the agent");
    assert_eq!(api.get("/v1/me", agent.token()).await.status, 401);
    sign_in(&relay, &api, &mut agent).await;
    api.get("/v1/me", agent.token())
        .await
        .expect(200, "signed in again");
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_a_reused_refresh_token_ends_the_whole_session() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let api = Api::new(&relay);
    let operator = Operator::open(&relay);
    let org = operator.create_org("Acme");
    let mut agent = invited(&relay, &api, &operator, org, "a@acme.example", Role::Agent).await;
    let first = agent.clone();
    refresh(&api, &mut agent).await;
    assert_ne!(agent.refresh, first.refresh, "a new refresh token");
    assert_ne!(agent.access, first.access, "a new access token");
    assert_eq!(agent.session, first.session, "the same session");
    api.get("/v1/me", agent.token())
        .await
        .expect(200, "the new access token works");
    assert_eq!(
        api.get("/v1/me", first.token()).await.status,
        401,
        "the replaced access token does not"
    );

    // Someone replays the old refresh token: one of the two holders is not the owner, so the
    // session ends for both.
    let reuse = api
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_problem(&reuse, 401, "session_revoked", "a reused refresh token");
    let after = api.get("/v1/me", agent.token()).await;
    assert_problem(
        &after,
        401,
        "session_revoked",
        "the whole family is revoked",
    );
    let next = api
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": agent.refresh}),
        )
        .await;
    assert_problem(
        &next,
        401,
        "session_revoked",
        "the current refresh token is dead too",
    );
}

#[tokio::test]
async fn access_tokens_last_fifteen_minutes_sessions_end_after_thirty_idle_or_twelve_hours() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let api = Api::new(&relay);
    let operator = Operator::open(&relay);
    let org = operator.create_org("Acme");
    let mut agent = invited(&relay, &api, &operator, org, "a@acme.example", Role::Agent).await;

    relay.clock.advance(Duration::from_secs(15 * MIN));
    let expired = api.get("/v1/me", agent.token()).await;
    assert_problem(
        &expired,
        401,
        "session_expired",
        "the access token lasts 15 minutes",
    );
    refresh(&api, &mut agent).await;
    api.get("/v1/me", agent.token())
        .await
        .expect(200, "refreshed");

    // An active agent keeps refreshing through a shift, until the 12-hour end.
    let signed_in_at = relay.now_unix();
    let mut refreshed = 0;
    loop {
        relay.clock.advance(Duration::from_secs(14 * MIN));
        let reply = api
            .post(
                "/v1/auth/refresh",
                None,
                json!({"refresh_token": agent.refresh}),
            )
            .await;
        if reply.status != 200 {
            assert_problem(&reply, 401, "session_expired", "the absolute end");
            break;
        }
        agent.take_tokens(&reply.body);
        refreshed += 1;
        assert!(refreshed < 100, "the session must end");
    }
    let lasted = relay.now_unix() - signed_in_at;
    assert!(
        (11 * 3600..=12 * 3600 + 14 * 60).contains(&lasted),
        "refreshing keeps a session up to its 12-hour end: {lasted} s"
    );

    // Idle for 30 minutes: the refresh token is no longer accepted.
    sign_in(&relay, &api, &mut agent).await;
    relay.clock.advance(Duration::from_secs(30 * MIN));
    let idle = api
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": agent.refresh}),
        )
        .await;
    assert_problem(
        &idle,
        401,
        "session_expired",
        "30 idle minutes end a session",
    );
}

#[tokio::test]
async fn each_user_gets_100_requests_a_minute_then_429_with_retry_after_and_office_mates_are_not_slowed()
 {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let api = Api::new(&relay);
    let operator = Operator::open(&relay);
    let org = operator.create_org("Acme");
    let busy = invited(
        &relay,
        &api,
        &operator,
        org,
        "busy@acme.example",
        Role::Agent,
    )
    .await;
    let colleague = invited(&relay, &api, &operator, org, "c@acme.example", Role::Agent).await;
    for i in 0..100 {
        api.get("/v1/me", busy.token())
            .await
            .expect(200, &format!("request {} of 100", i + 1));
    }
    let refused = api.get("/v1/me", busy.token()).await;
    assert_problem(
        &refused,
        429,
        "rate_limited",
        "the 101st request in a minute",
    );
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After says when: {retry}");
    super::assert_security_headers_of(&refused.headers, "a 429");
    api.get("/v1/me", colleague.token()).await.expect(
        200,
        "a colleague behind the same address is not slowed down",
    );
    relay.clock.advance(Duration::from_secs(retry));
    api.get("/v1/me", busy.token())
        .await
        .expect(200, "after Retry-After the user may continue");
}

#[tokio::test]
async fn the_identity_routes_errors_are_problems_with_a_stable_code_and_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let api = Api::new(&relay);
    let operator = Operator::open(&relay);
    let org = operator.create_org("Acme");
    let mut owner = invited(&relay, &api, &operator, org, "o@acme.example", Role::Owner).await;
    enrol(&relay, &api, &mut owner).await;
    let agent = invited(&relay, &api, &operator, org, "a@acme.example", Role::Agent).await;
    let (_, code) = operator.invite(org, "new@acme.example", Role::Agent);
    let unknown_user = UserId::random();
    pace(&relay);
    let cases: Vec<(super::client::Reply, u16, &str, &str)> = vec![
        (
            api.get("/v1/me", None).await,
            401,
            "unauthenticated",
            "no token",
        ),
        (
            api.get("/v1/me", Some("rsa_00000000000000000000000000000000"))
                .await,
            401,
            "unauthenticated",
            "an unknown token",
        ),
        (
            api.get("/v1/admin/users", agent.token()).await,
            403,
            "forbidden",
            "an agent on an admin route",
        ),
        (
            api.post(
                &format!("/v1/admin/users/{unknown_user}/disable"),
                owner.token(),
                json!(null),
            )
            .await,
            404,
            "not_found",
            "an unknown user",
        ),
        (
            api.post(
                "/v1/admin/users/not-an-id/disable",
                owner.token(),
                json!(null),
            )
            .await,
            400,
            "bad_request",
            "a malformed id",
        ),
        (
            api.post(
                "/v1/auth/login",
                None,
                json!({"email": "o@acme.example", "password": PASSWORD, "device_name": "PC",
                       "remember_me": true}),
            )
            .await,
            422,
            "invalid_body",
            "an unknown field",
        ),
        (
            api.post(
                "/v1/invitations/accept",
                None,
                json!({"code": code, "display_name": "New", "password": "password1234",
                       "device_name": "PC"}),
            )
            .await,
            422,
            "weak_password",
            "a common password",
        ),
        (
            api.post(
                "/v1/admin/invitations",
                owner.token(),
                json!({"email": "a@acme.example", "role": "agent"}),
            )
            .await,
            409,
            "email_unavailable",
            "inviting a member's address",
        ),
        (
            api.get("/v1/admin/audit?limit=0", owner.token()).await,
            422,
            "invalid_input",
            "a page of nothing",
        ),
    ];
    for (reply, status, code, what) in &cases {
        assert_problem(reply, *status, code, what);
        super::assert_security_headers_of(&reply.headers, what);
        assert_eq!(
            reply.body["type"],
            format!("https://ringside.dev/problems/{code}"),
            "{what}: the problem type names the code"
        );
    }
    let weak = &cases[6].0;
    assert_eq!(
        weak.body["reason"], "common",
        "the password problem says why"
    );
    pace(&relay);
    api.post(
        "/v1/invitations/accept",
        None,
        json!({"code": code, "display_name": "New", "password": PASSWORD, "device_name": "PC"}),
    )
    .await
    .expect(201, "a refused password leaves the invitation usable");
}

#[tokio::test]
async fn an_unknown_address_and_a_wrong_password_get_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let api = Api::new(&relay);
    let operator = Operator::open(&relay);
    let org = operator.create_org("Acme");
    invited(&relay, &api, &operator, org, "a@acme.example", Role::Agent).await;
    let mut answers = Vec::new();
    for email in ["a@acme.example", "nobody@acme.example"] {
        pace(&relay);
        let reply = api
            .post(
                "/v1/auth/login",
                None,
                json!({"email": email, "password": "not the password at all", "device_name": "PC"}),
            )
            .await;
        answers.push((reply.status, reply.body));
    }
    assert_eq!(
        answers[0], answers[1],
        "the answers must not tell which addresses exist"
    );
}

#[tokio::test]
async fn my_sessions_are_mine_alone_and_ending_another_one_leaves_this_one_working() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let api = Api::new(&relay);
    let operator = Operator::open(&relay);
    let org = operator.create_org("Acme");
    let mut admin = invited(&relay, &api, &operator, org, "ad@acme.example", Role::Admin).await;
    enrol(&relay, &api, &mut admin).await;
    let mut agent = invited(&relay, &api, &operator, org, "a@acme.example", Role::Agent).await;
    let laptop = agent.clone();
    sign_in(&relay, &api, &mut agent).await;
    let list = api
        .get("/v1/me/sessions", agent.token())
        .await
        .expect(200, "my sessions")
        .body;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(
        sessions.iter().filter(|s| s["current"] == true).count(),
        1,
        "exactly one is this one"
    );
    assert!(sessions.iter().all(|s| s["device_name"] == DEVICE));
    let theirs = api
        .send(
            "DELETE",
            &format!("/v1/me/sessions/{}", agent.session),
            admin.token(),
            None,
        )
        .await;
    assert_problem(
        &theirs,
        404,
        "not_found",
        "an admin cannot end an agent's session as their own",
    );
    api.send(
        "DELETE",
        &format!("/v1/me/sessions/{}", laptop.session),
        agent.token(),
        None,
    )
    .await
    .expect(204, "ending my other session");
    assert_eq!(
        api.get("/v1/me", laptop.token()).await.status,
        401,
        "it is over"
    );
    api.get("/v1/me", agent.token())
        .await
        .expect(200, "this one goes on");
    api.post("/v1/auth/logout", agent.token(), json!(null))
        .await
        .expect(204, "signing out");
    assert_eq!(
        api.get("/v1/me", agent.token()).await.status,
        401,
        "signed out"
    );
}

/// The `seq` of each entry of an audit page.
fn seqs(page: &Value) -> Vec<u64> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_audit_query_filters_pages_stays_in_the_org_and_is_itself_audited() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let api = Api::new(&relay);
    let operator = Operator::open(&relay);
    let org = operator.create_org("Acme");
    let other = operator.create_org("Other");
    let mut owner = invited(&relay, &api, &operator, org, "o@acme.example", Role::Owner).await;
    enrol(&relay, &api, &mut owner).await;
    let mut agent: Member =
        invited(&relay, &api, &operator, org, "a@acme.example", Role::Agent).await;
    sign_in(&relay, &api, &mut agent).await;
    invited(
        &relay,
        &api,
        &operator,
        other,
        "x@other.example",
        Role::Owner,
    )
    .await;
    let since = relay.now_rfc3339();
    relay.clock.advance(Duration::from_secs(1));
    sign_in(&relay, &api, &mut agent).await;

    let logins = api
        .get(
            &format!("/v1/admin/audit?action=auth.login&actor={}", agent.user),
            owner.token(),
        )
        .await
        .expect(200, "the agent's sign-ins")
        .body;
    let entries = logins["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "joining and two sign-ins: {logins}");
    assert!(
        entries
            .iter()
            .all(|e| e["actor"]["id"] == agent.user.as_str())
    );
    assert!(
        entries.iter().all(|e| e["org"] == org.to_string().as_str()),
        "only this org's entries"
    );
    let recent = api
        .get(
            &format!("/v1/admin/audit?action=auth.*&from={since}&resource_type=user"),
            owner.token(),
        )
        .await
        .expect(200, "recent auth entries")
        .body;
    assert_eq!(recent["entries"].as_array().unwrap().len(), 1, "{recent}");
    assert_eq!(recent["entries"][0]["action"], "auth.login");

    let all = seqs(
        &api.get("/v1/admin/audit?limit=500", owner.token())
            .await
            .body,
    );
    let first = api.get("/v1/admin/audit?limit=3", owner.token()).await.body;
    assert_eq!(seqs(&first), all[..3], "the first page");
    let after = first["next_after_seq"].as_u64().unwrap();
    let second = api
        .get(
            &format!("/v1/admin/audit?limit=3&after_seq={after}"),
            owner.token(),
        )
        .await
        .body;
    assert_eq!(seqs(&second), all[3..6], "the next page follows on");
    let everything = api
        .get("/v1/admin/audit?limit=500", owner.token())
        .await
        .body;
    assert!(
        everything["next_after_seq"].is_null(),
        "the last page says so"
    );

    let queries = api
        .get(
            &format!("/v1/admin/audit?action=audit.query&actor={}", owner.user),
            owner.token(),
        )
        .await
        .body;
    assert!(
        queries["entries"].as_array().unwrap().len() >= 5,
        "each read of the audit log is itself recorded: {queries}"
    );
    for (query, what) in [
        ("actor=someone@acme.example", "an actor that is not an id"),
        ("from=yesterday", "a time that is not RFC 3339"),
        ("limit=501", "a page too large"),
    ] {
        let reply = api
            .get(&format!("/v1/admin/audit?{query}"), owner.token())
            .await;
        assert_problem(&reply, 422, "invalid_input", what);
    }
    let by_owner = api
        .get(
            &format!("/v1/admin/audit?actor={}&limit=500", owner.user),
            owner.token(),
        )
        .await
        .body;
    let by_owner = by_owner["entries"].as_array().unwrap();
    assert!(by_owner.len() >= 5, "the owner acted: {by_owner:?}");
    for entry in by_owner {
        assert_eq!(
            entry["source_ip"], "127.0.0.1",
            "every entry of a request records where it came from: {entry}"
        );
    }
    let typo = api.get("/v1/admin/audit?acter=x", owner.token()).await;
    assert_problem(
        &typo,
        400,
        "bad_request",
        "an unknown parameter is not ignored",
    );
}
