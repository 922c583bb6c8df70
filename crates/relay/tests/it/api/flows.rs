//! Whole journeys over HTTP, as the desktop app makes them: the first owner's invitation to an
//! agent cut off by an admin; token rotation and reuse; timeouts; the per-user rate limit; the
//! audit query; an owner connecting a provider. The relay runs on a fake clock, so timeouts are
//! crossed by moving it.

use ringside_core::{Role, UserId};
use serde_json::{Value, json};

use super::client::{Api, DEVICE, Member, PASSWORD, Reply};
use crate::office::Office;

const MIN: u64 = 60;

#[tokio::test]
async fn an_owner_invited_by_the_operator_builds_a_team_and_a_disabled_agent_is_cut_off_at_once() {
    let office = Office::open().await;
    let mut owner = the_owner_joins_with_only_what_an_agent_may_do_until_enrolled(&office).await;
    the_owner_enrols_and_signs_in_with_the_second_factor(&office, &mut owner).await;
    let admin =
        team_changes_need_a_second_factor_from_the_last_ten_minutes(&office, &mut owner).await;
    let mut agent =
        the_admin_invites_an_agent_who_signs_in_and_works(&office, &admin, &owner).await;
    disabling_ends_every_session_of_the_agent_at_once(&office, &admin, &agent).await;
    enabled_again_the_agent_signs_in_anew_and_the_old_sessions_stay_dead(
        &office, &admin, &mut agent,
    )
    .await;
}

/// The operator's invitation works once; until the owner enrols a second factor, only what an
/// agent may do is open.
async fn the_owner_joins_with_only_what_an_agent_may_do_until_enrolled(office: &Office) -> Member {
    let api = &office.api;
    let (_, owner_code) = office
        .operator
        .invite(office.org, "owner@acme.example", Role::Owner);

    let owner = office
        .join(&owner_code, "owner@acme.example", "Olive Owner")
        .await;
    let me = api.get_json("/v1/me", owner.token(), "me").await;
    assert_eq!(me["user"]["role"], "owner");
    assert_eq!(me["mfa_required_for"], "admin_permissions");
    assert!(
        me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("terminate_org")),
        "an owner holds every permission: {me}"
    );
    api.get("/v1/admin/users", owner.token()).await.problem(
        403,
        "mfa_enrollment_required",
        "admin routes before enrolment",
    );
    api.accept(
        json!({"code": owner_code, "display_name": "Mallory", "password": PASSWORD,
                      "device_name": "X"}),
    )
    .await
    .problem(404, "invitation_invalid", "an invitation works once");
    owner
}

/// TOTP enrolment, then a sign-in that asks for the second factor; a code works once.
async fn the_owner_enrols_and_signs_in_with_the_second_factor(office: &Office, owner: &mut Member) {
    let api = &office.api;
    office.enrol(owner).await;
    assert_eq!(owner.recovery.len(), 10, "ten recovery codes, shown once");
    office.pace();
    let first = api
        .login(json!({"email": "OWNER@acme.example", "password": PASSWORD,
                      "device_name": DEVICE, "device_token": owner.device_token}))
        .await
        .expect(200, "the password step");
    assert_eq!(first.body["status"], "second_factor_required");
    assert!(
        first.body.get("access_token").is_none(),
        "no tokens before the second factor"
    );
    let challenge = &first.body["challenge"];
    api.second_factor(challenge, "000000").await.problem(
        401,
        "invalid_second_factor",
        "a wrong code",
    );
    let code = office.code(owner);
    let tokens = api
        .second_factor(challenge, &code)
        .await
        .expect(200, "the second step")
        .body;
    assert_eq!(tokens["mfa_enrolled"], true);
    owner.take_tokens(&tokens);
    api.login(
        json!({"email": owner.email, "password": PASSWORD, "device_name": DEVICE,
                     "second_factor": code}),
    )
    .await
    .problem(401, "invalid_second_factor", "a TOTP code works once");
}

/// Inviting needs a second factor from the last ten minutes: the admin the owner then invites.
async fn team_changes_need_a_second_factor_from_the_last_ten_minutes(
    office: &Office,
    owner: &mut Member,
) -> Member {
    let api = &office.api;
    office.advance(11 * MIN);
    office.refresh(owner).await;
    let invite_admin = json!({"email": "admin@acme.example", "role": "admin"});
    api.post("/v1/admin/invitations", owner.token(), invite_admin.clone())
        .await
        .problem(
            403,
            "step_up_required",
            "inviting needs a recent second factor",
        );
    office.step_up(owner).await;
    let invitation = api
        .post("/v1/admin/invitations", owner.token(), invite_admin)
        .await
        .expect(201, "inviting an admin")
        .body;
    assert_eq!(invitation["role"], "admin");
    let code = invitation["code"].as_str().unwrap();
    let mut admin = office.join(code, "admin@acme.example", "Ada Admin").await;
    office.enrol(&mut admin).await;
    admin
}

/// The admin invites an agent (not an owner), who signs in and works without admin rights.
async fn the_admin_invites_an_agent_who_signs_in_and_works(
    office: &Office,
    admin: &Member,
    owner: &Member,
) -> Member {
    let api = &office.api;
    let invite_agent = json!({"email": "agent@acme.example", "role": "agent"});
    let invitation = api
        .post("/v1/admin/invitations", admin.token(), invite_agent)
        .await
        .expect(201, "an admin invites an agent")
        .body;
    let invite_owner = json!({"email": "boss@acme.example", "role": "owner"});
    api.post("/v1/admin/invitations", admin.token(), invite_owner)
        .await
        .problem(403, "forbidden", "an admin cannot invite an owner");
    let code = invitation["code"].as_str().unwrap();
    let mut agent = office.join(code, "agent@acme.example", "Aggie Agent").await;
    office.sign_in(&mut agent).await;
    let me = api.get_json("/v1/me", agent.token(), "agent me").await;
    assert_eq!(me["user"]["display_name"], "Aggie Agent");
    assert_eq!(
        me["mfa_required_for"], "nothing",
        "agents need no second factor by default"
    );
    api.get("/v1/admin/users", agent.token()).await.problem(
        403,
        "forbidden",
        "agents do not manage the team",
    );
    let team = api
        .get_json("/v1/admin/users", admin.token(), "the team")
        .await;
    assert_eq!(
        team["users"].as_array().unwrap().len(),
        3,
        "the owner, the admin and the agent"
    );
    let disable_owner = format!("/v1/admin/users/{}/disable", owner.user);
    api.post_null(&disable_owner, admin.token()).await.problem(
        403,
        "forbidden",
        "an admin cannot disable an owner",
    );
    agent
}

/// Disabling cuts the agent off at once: token, refresh and sign-in all refused.
async fn disabling_ends_every_session_of_the_agent_at_once(
    office: &Office,
    admin: &Member,
    agent: &Member,
) {
    let api = &office.api;
    let agent_sessions = format!("/v1/admin/users/{}/sessions", agent.user);
    let sessions = api
        .get_json(&agent_sessions, admin.token(), "the agent's sessions")
        .await;
    assert_eq!(
        sessions["sessions"].as_array().unwrap().len(),
        2,
        "two sign-ins"
    );
    let disable_agent = format!("/v1/admin/users/{}/disable", agent.user);
    api.post_null(&disable_agent, admin.token())
        .await
        .expect(204, "disabling the agent");
    let cut = api.me(agent).await;
    cut.problem(
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
    let refreshed = api.refresh(&agent.refresh).await;
    assert_eq!(
        refreshed.status, 401,
        "nor can the agent refresh: {}",
        refreshed.body
    );
    office.pace();
    api.login(json!({"email": agent.email, "password": PASSWORD, "device_name": DEVICE}))
        .await
        .problem(
            401,
            "invalid_credentials",
            "a disabled agent cannot sign in",
        );
}

/// Enabled again, the agent signs in anew; the old sessions stay dead.
async fn enabled_again_the_agent_signs_in_anew_and_the_old_sessions_stay_dead(
    office: &Office,
    admin: &Member,
    agent: &mut Member,
) {
    let api = &office.api;
    let enable_agent = format!("/v1/admin/users/{}/enable", agent.user);
    api.post_null(&enable_agent, admin.token())
        .await
        .expect(204, "enabling the agent");
    assert_eq!(
        api.me(agent).await.status,
        401,
        "enabling does not revive the old session"
    );
    office.sign_in(agent).await;
    api.me(agent).await.expect(200, "signed in again");
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_a_reused_refresh_token_ends_the_whole_session() {
    let office = Office::open().await;
    let api = &office.api;
    let mut agent = office.member("a@acme.example", Role::Agent).await;
    let first = agent.clone();
    office.refresh(&mut agent).await;
    assert_ne!(agent.refresh, first.refresh, "a new refresh token");
    assert_ne!(agent.access, first.access, "a new access token");
    assert_eq!(agent.session, first.session, "the same session");
    api.me(&agent)
        .await
        .expect(200, "the new access token works");
    assert_eq!(
        api.me(&first).await.status,
        401,
        "the replaced access token does not"
    );

    // Someone replays the old refresh token: one of the two holders is not the owner, so the
    // session ends for both.
    api.refresh(&first.refresh)
        .await
        .problem(401, "session_revoked", "a reused refresh token");
    api.me(&agent)
        .await
        .problem(401, "session_revoked", "the whole family is revoked");
    api.refresh(&agent.refresh).await.problem(
        401,
        "session_revoked",
        "the current refresh token is dead too",
    );
}

#[tokio::test]
async fn access_tokens_last_fifteen_minutes_sessions_end_after_thirty_idle_or_twelve_hours() {
    let office = Office::open().await;
    let api = &office.api;
    let mut agent = office.member("a@acme.example", Role::Agent).await;

    office.advance(15 * MIN);
    api.me(&agent)
        .await
        .problem(401, "session_expired", "the access token lasts 15 minutes");
    office.refresh(&mut agent).await;
    api.me(&agent).await.expect(200, "refreshed");

    // An active agent keeps refreshing through a shift, until the 12-hour end.
    let signed_in_at = office.relay.now_unix();
    let mut refreshed = 0;
    loop {
        office.advance(14 * MIN);
        let reply = api.refresh(&agent.refresh).await;
        if reply.status != 200 {
            reply.problem(401, "session_expired", "the absolute end");
            break;
        }
        agent.take_tokens(&reply.body);
        refreshed += 1;
        assert!(refreshed < 100, "the session must end");
    }
    let lasted = office.relay.now_unix() - signed_in_at;
    assert!(
        (11 * 3600..=12 * 3600 + 14 * 60).contains(&lasted),
        "refreshing keeps a session up to its 12-hour end: {lasted} s"
    );

    // Idle for 30 minutes: the refresh token is no longer accepted.
    office.sign_in(&mut agent).await;
    office.advance(30 * MIN);
    api.refresh(&agent.refresh).await.problem(
        401,
        "session_expired",
        "30 idle minutes end a session",
    );
}

#[tokio::test]
async fn each_user_gets_100_requests_a_minute_then_429_with_retry_after_and_office_mates_are_not_slowed()
 {
    let office = Office::open().await;
    let api = &office.api;
    let busy = office.member("busy@acme.example", Role::Agent).await;
    let colleague = office.member("c@acme.example", Role::Agent).await;
    for i in 0..100 {
        api.me(&busy)
            .await
            .expect(200, &format!("request {} of 100", i + 1));
    }
    let refused = api.me(&busy).await;
    refused.problem(429, "rate_limited", "the 101st request in a minute");
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After says when: {retry}");
    super::assert_security_headers_of(&refused.headers, "a 429");
    api.me(&colleague).await.expect(
        200,
        "a colleague behind the same address is not slowed down",
    );
    office.advance(retry);
    api.me(&busy)
        .await
        .expect(200, "after Retry-After the user may continue");
}

#[tokio::test]
async fn the_identity_routes_errors_are_problems_with_a_stable_code_and_the_security_headers() {
    let office = Office::open().await;
    let api = &office.api;
    let owner = office.enrolled("o@acme.example", Role::Owner).await;
    let agent = office.member("a@acme.example", Role::Agent).await;
    let (_, code) = office
        .operator
        .invite(office.org, "new@acme.example", Role::Agent);
    let unknown_user = UserId::random();
    office.pace();
    let cases: Vec<(Reply, u16, &str, &str)> = vec![
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
            api.post_null(
                &format!("/v1/admin/users/{unknown_user}/disable"),
                owner.token(),
            )
            .await,
            404,
            "not_found",
            "an unknown user",
        ),
        (
            api.post_null("/v1/admin/users/not-an-id/disable", owner.token())
                .await,
            400,
            "bad_request",
            "a malformed id",
        ),
        (
            api.login(
                json!({"email": "o@acme.example", "password": PASSWORD, "device_name": "PC",
                             "remember_me": true}),
            )
            .await,
            422,
            "invalid_body",
            "an unknown field",
        ),
        (
            api.accept(
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
        reply.problem(*status, code, what);
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
    office.pace();
    api.accept(
        json!({"code": code, "display_name": "New", "password": PASSWORD,
                      "device_name": "PC"}),
    )
    .await
    .expect(201, "a refused password leaves the invitation usable");
}

#[tokio::test]
async fn an_unknown_address_and_a_wrong_password_get_the_same_answer() {
    let office = Office::open().await;
    office.member("a@acme.example", Role::Agent).await;
    let mut answers = Vec::new();
    for email in ["a@acme.example", "nobody@acme.example"] {
        office.pace();
        let reply = office
            .api
            .login(
                json!({"email": email, "password": "not the password at all",
                          "device_name": "PC"}),
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
    let office = Office::open().await;
    let api = &office.api;
    let admin = office.enrolled("ad@acme.example", Role::Admin).await;
    let mut agent = office.member("a@acme.example", Role::Agent).await;
    let laptop = agent.clone();
    office.sign_in(&mut agent).await;
    let list = api
        .get_json("/v1/me/sessions", agent.token(), "my sessions")
        .await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "the first sign-in and this one");
    assert_eq!(
        sessions.iter().filter(|s| s["current"] == true).count(),
        1,
        "exactly one is this one"
    );
    assert!(
        sessions.iter().all(|s| s["device_name"] == DEVICE),
        "both from the member's device: {list}"
    );
    api.delete(&format!("/v1/me/sessions/{}", agent.session), admin.token())
        .await
        .problem(
            404,
            "not_found",
            "an admin cannot end an agent's session as their own",
        );
    api.delete(
        &format!("/v1/me/sessions/{}", laptop.session),
        agent.token(),
    )
    .await
    .expect(204, "ending my other session");
    assert_eq!(api.me(&laptop).await.status, 401, "it is over");
    api.me(&agent).await.expect(200, "this one goes on");
    api.post_null("/v1/auth/logout", agent.token())
        .await
        .expect(204, "signing out");
    assert_eq!(api.me(&agent).await.status, 401, "signed out");
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

/// `GET /v1/admin/audit?{query}` as `reader`.
async fn audit(api: &Api, reader: &Member, query: &str) -> Reply {
    api.get(&format!("/v1/admin/audit?{query}"), reader.token())
        .await
}

#[tokio::test]
async fn the_audit_query_filters_pages_stays_in_the_org_and_is_itself_audited() {
    let office = Office::open().await;
    let api = &office.api;
    let other = office.operator.create_org("Other");
    let owner = office.enrolled("o@acme.example", Role::Owner).await;
    let mut agent = office.member("a@acme.example", Role::Agent).await;
    office.sign_in(&mut agent).await;
    office
        .member_of(other, "x@other.example", Role::Owner)
        .await;
    let since = office.relay.now_rfc3339();
    office.advance(1);
    office.sign_in(&mut agent).await;

    let logins = audit(
        api,
        &owner,
        &format!("action=auth.login&actor={}", agent.user),
    )
    .await
    .expect(200, "the agent's sign-ins")
    .body;
    let entries = logins["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "joining and two sign-ins: {logins}");
    assert!(
        entries
            .iter()
            .all(|e| e["actor"]["id"] == agent.user.as_str()),
        "only the agent's entries: {logins}"
    );
    assert!(
        entries
            .iter()
            .all(|e| e["org"] == office.org.to_string().as_str()),
        "only this org's entries"
    );
    let recent = audit(
        api,
        &owner,
        &format!("action=auth.*&from={since}&resource_type=user"),
    )
    .await
    .expect(200, "recent auth entries")
    .body;
    assert_eq!(recent["entries"].as_array().unwrap().len(), 1, "{recent}");
    assert_eq!(
        recent["entries"][0]["action"], "auth.login",
        "the one recent entry is the sign-in"
    );

    let all = seqs(&audit(api, &owner, "limit=500").await.body);
    let first = audit(api, &owner, "limit=3").await.body;
    assert_eq!(seqs(&first), all[..3], "the first page");
    let after = first["next_after_seq"].as_u64().unwrap();
    let second = audit(api, &owner, &format!("limit=3&after_seq={after}"))
        .await
        .body;
    assert_eq!(seqs(&second), all[3..6], "the next page follows on");
    let everything = audit(api, &owner, "limit=500").await.body;
    assert!(
        everything["next_after_seq"].is_null(),
        "the last page says so"
    );

    let queries = audit(
        api,
        &owner,
        &format!("action=audit.query&actor={}", owner.user),
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
        audit(api, &owner, query)
            .await
            .problem(422, "invalid_input", what);
    }
    let by_owner = audit(api, &owner, &format!("actor={}&limit=500", owner.user))
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
    audit(api, &owner, "acter=x").await.problem(
        400,
        "bad_request",
        "an unknown parameter is not ignored",
    );
}

#[tokio::test]
async fn an_owner_connects_a_provider_sees_the_secret_once_and_revokes_it_within_their_org() {
    let office = Office::open().await;
    let api = &office.api;
    let owner = office.enrolled("owner@acme.example", Role::Owner).await;
    let admin = office.enrolled("admin@acme.example", Role::Admin).await;
    office.step_up(&owner).await;

    let secret = "twilio-auth-token-marker-91c2";
    let created = api
        .post(
            "/v1/admin/integrations",
            owner.token(),
            json!({"provider": "twilio", "secret": secret, "label": "Main line"}),
        )
        .await
        .expect(201, "the owner creates an integration");
    let id = created.body["integration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("int_"), "an int_ id: {}", created.body);
    assert_eq!(
        created.body["integration"]["webhook_path"],
        format!("/v1/hooks/{id}"),
        "the webhook path names it"
    );
    assert_eq!(
        created.body["secret"], secret,
        "the secret is answered this once"
    );
    let generated = api
        .post(
            "/v1/admin/integrations",
            owner.token(),
            json!({"provider": "standard"}),
        )
        .await
        .expect(201, "a generated secret");
    assert!(
        generated.body["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_"),
        "Standard Webhooks secrets take the whsec_ form: {}",
        generated.body["integration"]
    );
    api.post(
        "/v1/admin/integrations",
        owner.token(),
        json!({"provider": "skype"}),
    )
    .await
    .problem(422, "invalid_input", "an unknown provider");

    let list = api
        .get_json("/v1/admin/integrations", owner.token(), "the list")
        .await;
    assert_eq!(list["integrations"].as_array().unwrap().len(), 2, "{list}");
    assert!(
        !list.to_string().contains(secret) && !list.to_string().contains("whsec_"),
        "the list never carries a secret: {list}"
    );
    api.get("/v1/admin/integrations", admin.token())
        .await
        .expect(403, "provider credentials are the owner's alone");

    let other = office.operator.create_org("Other Agency");
    let mut outsider = office
        .member_of(other, "owner@other.example", Role::Owner)
        .await;
    office.enrol(&mut outsider).await;
    office.step_up(&outsider).await;
    let path = format!("/v1/admin/integrations/{id}");
    api.delete(&path, outsider.token())
        .await
        .expect(404, "another org's owner cannot revoke it");
    let theirs = api
        .get_json("/v1/admin/integrations", outsider.token(), "their list")
        .await;
    assert_eq!(theirs["integrations"], json!([]), "nor see it: {theirs}");

    api.delete(&path, owner.token())
        .await
        .expect(204, "the owner revokes it");
    api.delete(&path, owner.token())
        .await
        .expect(404, "a revoked integration is gone");
    let list = api
        .get_json("/v1/admin/integrations", owner.token(), "the list")
        .await;
    let revoked = list["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap();
    assert!(
        revoked["disabled_at"].is_string(),
        "listed as revoked: {revoked}"
    );
}
