//! The route table: every route of the API as data — method, path, who may call it, what a
//! valid request needs, what success answers — and the tests that hold the relay to it.
//!
//! The expectations are not written per cell: they follow from the row's access and
//! `Role::allows`, the one permission matrix in ringside-core. Walking every route × every
//! caller (each role, a user of another org, no token) then checks each handler's extractor
//! against the matrix (and the security headers on every answer); comparing the table with `/v1/openapi.json` means a route cannot be added
//! (routes are registered with their OpenAPI description) without its row here; and the route
//! list in `docs/api.md` is generated from the same rows.

use std::collections::BTreeSet;

use ringside_core::wire::{RouteKind, RouteMatch};
use ringside_core::{IntegrationId, OrgId, Permission, Role, SessionId};
use ringside_store::AuditContext;
use serde_json::{Value, json};

use super::client::{
    Api, Member, PASSWORD, Reply, enrol, next_code, pace, refresh, sign_in, start_enrolment,
    step_up,
};
use crate::office::Office;
use crate::utils::TestRelay;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anyone (limited per address).
    Public,
    /// Anyone signed in, whatever their role.
    Member,
    /// Signed in with a role that holds the permission (and its second-factor rules).
    Needs(Permission),
}

/// What a valid request to the route is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// Nothing.
    Nothing,
    /// A fixed JSON body.
    Body(&'static str),
    /// The sign-in of a member without a second factor.
    Login,
    /// A fresh second-factor challenge of a member with one, and a code.
    Challenge,
    /// A fresh refresh token.
    RefreshToken,
    /// A fresh invitation code to accept.
    InvitationCode,
    /// A new address to invite.
    NewInvitee,
    /// `{id}`: a fresh pending invitation of the walked org.
    PendingInvitation,
    /// `{id}`: a fresh active integration of the walked org.
    ActiveIntegration,
    /// `{id}`: a fresh active (Dialpad) integration of the walked org, and an API key for it.
    IntegrationKey,
    /// `{id}`: an integration id that exists nowhere (signed webhooks are walked in `hooks.rs`).
    UnknownIntegration,
    /// `{call_id}`: a call that rang for nobody, with a body (real calls are walked in
    /// `notes.rs`).
    UnknownCall(&'static str),
    /// A route of a fresh extension to the walked org's subject user.
    NewRoute,
    /// `{route_id}`: a fresh route of the walked org.
    ActiveRoute,
    /// `{id}`: the walked org's subject user (an agent), with an optional body.
    Subject(Option<&'static str>),
    /// `{id}`: another session of the caller (for a caller from another org: one of the walked
    /// org's owner's sessions).
    OwnOtherSession,
    /// Sent with a fresh session of the caller, which the route may end.
    FreshSession,
    /// A pending TOTP enrolment is started first; the body is its first code.
    EnrolmentCode,
    /// The caller is enrolled first if they are not; the body is a fresh code.
    StepUpCode,
    /// The caller's current password and a new one.
    NewPassword,
    /// The caller's org (each org walked) has an AMS connected first: the sandbox kind, at a
    /// loopback port nothing listens on, so a test answers "unavailable" without the network.
    AmsConnected,
    /// The caller's org (each org walked) has a summarizer endpoint set first.
    SummarizerSet,
}

impl Input {
    /// Whether the request names something of the walked org, which a user of another org
    /// must not reach (404).
    fn names_org_resource(self) -> bool {
        matches!(
            self,
            Self::PendingInvitation
                | Self::ActiveIntegration
                | Self::IntegrationKey
                | Self::NewRoute
                | Self::ActiveRoute
                | Self::Subject(_)
                | Self::OwnOtherSession
        )
    }
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) access: Access,
    input: Input,
    /// The status of success.
    ok: u16,
}

const fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    input: Input,
    ok: u16,
) -> Route {
    Route {
        method,
        path,
        access,
        input,
        ok,
    }
}

use Access::{Member as Signed, Needs, Public};
use Input::*;
use Permission::{
    ManageCredentials, ManageRouting, ManageSettings, ManageTeam, ReceivePops, TerminateOrg,
    ViewAllCalls, ViewAuditLog, ViewLeaderboard, ViewOwnCalls, WriteNotes,
};

/// Every route of the API.
#[rustfmt::skip]
pub(crate) const ROUTES: &[Route] = &[
    route("GET",    "/healthz",                                     Public, Nothing, 200),
    route("GET",    "/readyz",                                      Public, Nothing, 200),
    route("GET",    "/v1/openapi.json",                             Public, Nothing, 200),
    route("POST",   "/v1/auth/login",                               Public, Login, 200),
    route("POST",   "/v1/auth/second-factor",                       Public, Challenge, 200),
    route("POST",   "/v1/auth/refresh",                             Public, RefreshToken, 200),
    route("POST",   "/v1/invitations/accept",                       Public, InvitationCode, 201),
    route("POST",   "/v1/hooks/{integration_id}",                   Public, UnknownIntegration, 404),
    // A plain GET without a ticket: refused before any upgrade (opened for real in stream.rs).
    route("GET",    "/v1/stream",                                   Public, Nothing, 400),
    route("POST",   "/v1/auth/logout",                              Signed, FreshSession, 204),
    route("GET",    "/v1/me",                                       Signed, Nothing, 200),
    route("GET",    "/v1/me/sessions",                              Signed, Nothing, 200),
    route("GET",    "/v1/me/calls",                                 Needs(ViewOwnCalls), Nothing, 200),
    route("GET",    "/v1/me/notes",                                 Needs(ViewOwnCalls), Nothing, 200),
    route("GET",    "/v1/leaderboard",                              Needs(ViewLeaderboard), Nothing, 200),
    route("DELETE", "/v1/me/sessions/{id}",                         Signed, OwnOtherSession, 204),
    route("POST",   "/v1/me/sessions/revoke-others",                Signed, Nothing, 200),
    route("POST",   "/v1/me/totp",                                  Signed, Nothing, 200),
    route("POST",   "/v1/me/totp/confirm",                          Signed, EnrolmentCode, 200),
    route("POST",   "/v1/me/step-up",                               Signed, StepUpCode, 204),
    route("POST",   "/v1/me/password",                              Signed, NewPassword, 200),
    route("POST",   "/v1/stream/ticket",                            Needs(ReceivePops), Nothing, 200),
    route("POST",   "/v1/calls/{call_id}/note",                     Needs(WriteNotes), UnknownCall(r#"{"text":"walk"}"#), 404),
    route("POST",   "/v1/calls/{call_id}/pick",                     Needs(WriteNotes), UnknownCall(r#"{"contact":"walk"}"#), 404),
    route("GET",    "/v1/admin/users",                              Needs(ManageTeam), Nothing, 200),
    route("PUT",    "/v1/admin/users/{id}/role",                    Needs(ManageTeam), Subject(Some(r#"{"role":"agent"}"#)), 204),
    route("POST",   "/v1/admin/users/{id}/disable",                 Needs(ManageTeam), Subject(None), 204),
    route("POST",   "/v1/admin/users/{id}/enable",                  Needs(ManageTeam), Subject(None), 204),
    route("POST",   "/v1/admin/users/{id}/unlock",                  Needs(ManageTeam), Subject(None), 204),
    route("POST",   "/v1/admin/users/{id}/reset-second-factor",     Needs(ManageTeam), Subject(None), 204),
    route("GET",    "/v1/admin/users/{id}/sessions",                Needs(ManageTeam), Subject(None), 200),
    route("DELETE", "/v1/admin/users/{id}/sessions",                Needs(ManageTeam), Subject(None), 200),
    route("GET",    "/v1/admin/invitations",                        Needs(ManageTeam), Nothing, 200),
    route("POST",   "/v1/admin/invitations",                        Needs(ManageTeam), NewInvitee, 201),
    route("DELETE", "/v1/admin/invitations/{id}",                   Needs(ManageTeam), PendingInvitation, 204),
    route("PUT",    "/v1/admin/org/mfa-policy",                     Needs(ManageTeam), Body(r#"{"require_for_all":false}"#), 204),
    route("GET",    "/v1/admin/audit",                              Needs(ViewAuditLog), Nothing, 200),
    route("GET",    "/v1/admin/integrations",                       Needs(ManageCredentials), Nothing, 200),
    route("POST",   "/v1/admin/integrations",                       Needs(ManageCredentials), Body(r#"{"provider":"dialpad","label":"Walk"}"#), 201),
    route("DELETE", "/v1/admin/integrations/{id}",                  Needs(ManageCredentials), ActiveIntegration, 204),
    route("PUT",    "/v1/admin/integrations/{id}/api-key",          Needs(ManageCredentials), IntegrationKey, 204),
    route("DELETE", "/v1/admin/integrations/{id}/api-key",          Needs(ManageCredentials), ActiveIntegration, 204),
    route("GET",    "/v1/admin/ams",                                Needs(ManageCredentials), Nothing, 200),
    route("PUT",    "/v1/admin/ams",                                Needs(ManageCredentials), Body(r#"{"kind":"hubspot","credentials":{"token":"pat-walk"}}"#), 200),
    route("POST",   "/v1/admin/ams/test",                           Needs(ManageCredentials), AmsConnected, 200),
    route("DELETE", "/v1/admin/ams",                                Needs(ManageCredentials), AmsConnected, 204),
    route("GET",    "/v1/admin/sync/dead-letters",                  Needs(ViewAllCalls), Nothing, 200),
    route("POST",   "/v1/admin/sync/dead-letters/{call_id}/retry",  Needs(ViewAllCalls), UnknownCall("{}"), 404),
    route("GET",    "/v1/admin/retention",                          Needs(ManageSettings), Nothing, 200),
    route("GET",    "/v1/admin/summarizer",                         Needs(ManageCredentials), Nothing, 200),
    route("PUT",    "/v1/admin/summarizer",                         Needs(ManageCredentials), Body(r#"{"base_url":"http://127.0.0.1:9/v1","model":"m"}"#), 200),
    route("DELETE", "/v1/admin/summarizer",                         Needs(ManageCredentials), SummarizerSet, 204),
    route("POST",   "/v1/admin/erase",                              Needs(ManageSettings), Body(r#"{"number":"+16175550111"}"#), 200),
    // The walk must not end its own org: the name is never right, so the owner's answer is 422.
    route("POST",   "/v1/admin/org/terminate",                      Needs(TerminateOrg), Body(r#"{"confirm_name":"not the name"}"#), 422),
    route("GET",    "/v1/admin/routes",                             Needs(ManageRouting), Nothing, 200),
    route("POST",   "/v1/admin/routes",                             Needs(ManageRouting), NewRoute, 201),
    route("DELETE", "/v1/admin/routes/{route_id}",                  Needs(ManageRouting), ActiveRoute, 204),
    route("GET",    "/v1/admin/routing/fallback",                   Needs(ManageRouting), Nothing, 200),
    route("PUT",    "/v1/admin/routing/fallback",                   Needs(ManageRouting), Body(r#"{"kind":"nobody"}"#), 200),
];

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// A member of the walked org with this role.
    Role(Role),
    /// The owner of another org.
    Outsider,
    /// No token at all.
    Anonymous,
}

impl Caller {
    const ALL: [Caller; 6] = [
        Caller::Role(Role::Owner),
        Caller::Role(Role::Admin),
        Caller::Role(Role::Agent),
        Caller::Role(Role::Viewer),
        Caller::Outsider,
        Caller::Anonymous,
    ];
}

/// What the matrix says the caller gets from the route.
fn expected(route: &Route, caller: Caller) -> u16 {
    let role = match caller {
        Caller::Role(role) => role,
        Caller::Outsider => Role::Owner,
        Caller::Anonymous if route.access == Public => return route.ok,
        Caller::Anonymous => return 401,
    };
    match route.access {
        Needs(permission) if !role.allows(permission) => 403,
        Public => route.ok,
        _ if caller == Caller::Outsider && route.input.names_org_resource() => 404,
        _ => route.ok,
    }
}

/// Two orgs, people in every role, and the users the routes act on.
struct World {
    office: Office,
    /// The other org, whose owner is the outsider.
    other: OrgId,
    /// Indexed like `Caller::ALL` for the first five; `None` for the anonymous caller.
    callers: Vec<Option<Member>>,
    /// An agent the admin routes act on.
    subject: Member,
    /// An agent without a second factor, for the public sign-in rows.
    signer: Member,
    /// An agent with a second factor, for the second-factor row.
    mfa_signer: Member,
    invitees: u32,
}

impl World {
    async fn new() -> Self {
        let office = Office::open().await;
        let other = office.operator.create_org("Other Agency");
        let mut callers = Vec::new();
        for (i, caller) in Caller::ALL.into_iter().enumerate() {
            let (org_of, role) = match caller {
                Caller::Role(role) => (office.org, role),
                Caller::Outsider => (other, Role::Owner),
                Caller::Anonymous => {
                    callers.push(None);
                    continue;
                }
            };
            let email = format!("caller{i}@acme.example");
            let mut member = office.member_of(org_of, &email, role).await;
            if matches!(role, Role::Owner | Role::Admin) {
                office.enrol(&mut member).await;
            }
            callers.push(Some(member));
        }
        let subject = office.agent("subject@acme.example").await;
        let signer = office.agent("signer@acme.example").await;
        let mfa_signer = office.enrolled("mfa@acme.example", Role::Agent).await;
        Self {
            office,
            other,
            callers,
            subject,
            signer,
            mfa_signer,
            invitees: 0,
        }
    }

    /// An extension no route of the walk uses yet.
    fn fresh_extension(&mut self) -> String {
        self.invitees += 1;
        format!("{}", 7000 + self.invitees)
    }

    fn fresh_email(&mut self) -> String {
        self.invitees += 1;
        format!("invitee{}@acme.example", self.invitees)
    }

    /// Signs `member` in again, returning the new session's member view (the original keeps
    /// its own session).
    async fn another_session(&self, member: &Member) -> Member {
        let mut copy = member.clone();
        sign_in(&self.office.relay, &self.office.api, &mut copy).await;
        copy
    }

    /// The request `caller` sends to `route`: path, token, body, and what the caller's state
    /// becomes if it succeeds.
    async fn prepare(&mut self, route: &Route, index: usize) -> Prepared {
        let caller = self.callers[index].clone();
        let token = caller.as_ref().map(|c| c.access.clone());
        let mut prepared = Prepared {
            path: route.path.to_owned(),
            token,
            body: None,
            becomes: None,
        };
        let set_id = |prepared: &mut Prepared, id: &str| {
            prepared.path = route.path.replace("{id}", id);
        };
        match route.input {
            Nothing => {}
            Body(json) => prepared.body = Some(serde_json::from_str(json).unwrap()),
            Login => {
                pace(&self.office.relay);
                prepared.body = Some(json!({"email": self.signer.email, "password": PASSWORD,
                    "device_name": "Walk PC"}));
            }
            Challenge => {
                pace(&self.office.relay);
                let reply = self
                    .office
                    .api
                    .post(
                        "/v1/auth/login",
                        None,
                        json!({"email": self.mfa_signer.email, "password": PASSWORD,
                               "device_name": "Walk PC"}),
                    )
                    .await
                    .expect(200, "the first sign-in step");
                pace(&self.office.relay);
                let code = next_code(
                    &self.office.relay,
                    self.mfa_signer.totp_uri.as_deref().unwrap(),
                );
                prepared.body = Some(json!({"challenge": reply.body["challenge"], "code": code}));
            }
            RefreshToken => {
                let session = self.another_session(&self.signer.clone()).await;
                prepared.body = Some(json!({"refresh_token": session.refresh}));
            }
            InvitationCode => {
                let email = self.fresh_email();
                let (_, code) = self
                    .office
                    .operator
                    .invite(self.office.org, &email, Role::Agent);
                pace(&self.office.relay);
                prepared.body = Some(json!({"code": code, "display_name": "New Person",
                    "password": PASSWORD, "device_name": "Walk PC"}));
            }
            NewInvitee => {
                prepared.body = Some(json!({"email": self.fresh_email(), "role": "agent"}));
            }
            PendingInvitation => {
                let email = self.fresh_email();
                let (id, _) = self
                    .office
                    .operator
                    .invite(self.office.org, &email, Role::Agent);
                set_id(&mut prepared, &id);
            }
            ActiveIntegration | IntegrationKey => {
                let id = self.office.operator.create_integration(self.office.org);
                set_id(&mut prepared, &id);
                if matches!(route.input, IntegrationKey) {
                    prepared.body = Some(json!({"api_key": "walk-key"}));
                }
            }
            NewRoute => {
                prepared.body = Some(json!({"kind": "extension", "value": self.fresh_extension(),
                    "user_id": self.subject.user}));
            }
            ActiveRoute => {
                let new = ringside_store::NewRoute {
                    integration: None,
                    matcher: RouteMatch::new(RouteKind::Extension, &self.fresh_extension())
                        .unwrap(),
                    user: self.subject.user.parse().unwrap(),
                };
                let added = self
                    .office
                    .operator
                    .store
                    .routing()
                    .add_route(self.office.org, &new, &AuditContext::system("test"))
                    .unwrap();
                prepared.path = route.path.replace("{route_id}", &added.id.to_string());
            }
            UnknownCall(body) => {
                prepared.path = route
                    .path
                    .replace("{call_id}", &ringside_core::CallId::random().to_string());
                prepared.body = Some(serde_json::from_str(body).unwrap());
            }
            UnknownIntegration => {
                prepared.path = route
                    .path
                    .replace("{integration_id}", &IntegrationId::random().to_string());
            }
            Subject(body) => {
                set_id(&mut prepared, &self.subject.user.clone());
                prepared.body = body.map(|b| serde_json::from_str(b).unwrap());
            }
            OwnOtherSession => {
                let of = match (Caller::ALL[index], &caller) {
                    (Caller::Role(_), Some(member)) => Some(member.clone()),
                    (Caller::Outsider, _) => self.callers[0].clone(),
                    _ => None,
                };
                let id = match of {
                    Some(member) => self.another_session(&member).await.session,
                    None => SessionId::random().to_string(),
                };
                set_id(&mut prepared, &id);
            }
            FreshSession => {
                if let Some(member) = &caller {
                    prepared.token = Some(self.another_session(member).await.access);
                }
            }
            EnrolmentCode => {
                let code = match &caller {
                    Some(member) => {
                        let uri = start_enrolment(&self.office.api, member).await;
                        let code = next_code(&self.office.relay, &uri);
                        prepared.becomes = Some(Becomes::Enrolled(uri));
                        code
                    }
                    None => "000000".to_owned(),
                };
                prepared.body = Some(json!({"code": code}));
            }
            StepUpCode => {
                let code = match caller {
                    Some(mut member) => {
                        if member.totp_uri.is_none() {
                            enrol(&self.office.relay, &self.office.api, &mut member).await;
                            self.callers[index] = Some(member.clone());
                        }
                        next_code(&self.office.relay, member.totp_uri.as_deref().unwrap())
                    }
                    None => "000000".to_owned(),
                };
                prepared.body = Some(json!({"code": code}));
            }
            AmsConnected => {
                for org in [self.office.org, self.other] {
                    self.office.operator.connect_ams(
                        org,
                        "sandbox",
                        "http://127.0.0.1:9",
                        r#"{"client_id":"walk","client_secret":"walk"}"#,
                    );
                }
            }
            SummarizerSet => {
                for org in [self.office.org, self.other] {
                    let set = ringside_relay::commands::summarizer::SummarizerCommand::Set {
                        org,
                        base_url: "http://127.0.0.1:9/v1".to_owned(),
                        model: "walk".to_owned(),
                        auth: "bearer".to_owned(),
                        api_key_file: None,
                    };
                    ringside_relay::commands::summarizer::run(&self.office.relay.config, set)
                        .unwrap();
                }
            }
            NewPassword => {
                let current = caller.map_or_else(|| PASSWORD.to_owned(), |m| m.password);
                let new = format!("{current} and more");
                prepared.body = Some(json!({"current_password": current, "new_password": new}));
                prepared.becomes = Some(Becomes::Password(new));
            }
        }
        prepared
    }

    /// Sends `route` as the caller at `index`, prepared as [`World::prepare`] says: the answer,
    /// and what the caller becomes if it succeeds.
    async fn call(&mut self, route: &Route, index: usize) -> (Reply, Option<Becomes>) {
        let prepared = self.prepare(route, index).await;
        let reply = self
            .office
            .api
            .send(
                route.method,
                &prepared.path,
                prepared.token.as_deref(),
                prepared.body.as_ref(),
            )
            .await;
        (reply, prepared.becomes)
    }

    /// Fresh tokens for every caller (the walk takes a while on the relay's clock, and idle
    /// sessions end after 30 minutes) and, for `index` if they have a second factor, a fresh
    /// step-up.
    async fn ready(&mut self, index: usize) {
        for member in self.callers.iter_mut().flatten() {
            refresh(&self.office.api, member).await;
        }
        if let Some(member) = &self.callers[index]
            && member.totp_uri.is_some()
        {
            step_up(&self.office.relay, &self.office.api, member).await;
        }
    }
}

/// The start of a body, for failure messages.
fn brief(body: &Value) -> String {
    body.to_string().chars().take(300).collect()
}

/// A request to send.
struct Prepared {
    path: String,
    token: Option<String>,
    body: Option<Value>,
    becomes: Option<Becomes>,
}

/// How the caller changes when the request succeeds.
enum Becomes {
    Enrolled(String),
    Password(String),
}

#[tokio::test]
async fn every_route_answers_every_role_another_org_and_no_token_as_the_permission_matrix_says() {
    let mut world = World::new().await;
    let mut cells = 0;
    for (index, caller) in Caller::ALL.into_iter().enumerate() {
        world.ready(index).await;
        for route in ROUTES {
            let (reply, becomes) = world.call(route, index).await;
            let want = expected(route, caller);
            assert_eq!(
                reply.status,
                want,
                "{} {} as {caller:?}: the matrix says {want}; body {}",
                route.method,
                route.path,
                brief(&reply.body)
            );
            super::assert_security_headers_of(
                &reply.headers,
                &format!("{} {} as {caller:?}", route.method, route.path),
            );
            if want >= 400 {
                assert_eq!(
                    reply.headers["content-type"], "application/problem+json",
                    "{} {} as {caller:?}: refusals are problems",
                    route.method, route.path
                );
            }
            if want == 403 {
                assert_eq!(
                    reply.code(),
                    "forbidden",
                    "{} {} as {caller:?}: refused by role, not by a missing second factor",
                    route.method,
                    route.path
                );
            }
            if reply.status < 300
                && let (Some(becomes), Some(member)) = (becomes, world.callers[index].as_mut())
            {
                match becomes {
                    Becomes::Enrolled(uri) => member.totp_uri = Some(uri),
                    Becomes::Password(password) => member.password = password,
                }
            }
            cells += 1;
        }
    }
    assert_eq!(
        cells,
        ROUTES.len() * Caller::ALL.len(),
        "every cell was walked"
    );
}

#[tokio::test]
async fn changes_that_need_a_recent_second_factor_refuse_a_stale_one_and_reads_do_not() {
    let mut world = World::new().await;
    let owner = 0;
    world.ready(owner).await;
    // Ten minutes and a bit later the step-up has lapsed; a refresh keeps the session alive
    // but does not renew the second factor.
    world
        .office
        .relay
        .clock
        .advance(std::time::Duration::from_secs(10 * 60 + 1));
    let mut member = world.callers[owner].clone().unwrap();
    refresh(&world.office.api, &mut member).await;
    world.callers[owner] = Some(member);
    let mut checked = 0;
    for route in ROUTES {
        let Needs(permission) = route.access else {
            continue;
        };
        let (reply, _) = world.call(route, owner).await;
        if permission.requires_recent_second_factor() && route.method != "GET" {
            assert_eq!(
                (reply.status, reply.code()),
                (403, "step_up_required"),
                "{} {}: a change needing {permission} asks for a fresh second factor",
                route.method,
                route.path
            );
        } else {
            assert_eq!(
                reply.status,
                route.ok,
                "{} {}: needs no fresh second factor; body {}",
                route.method,
                route.path,
                brief(&reply.body)
            );
        }
        checked += 1;
    }
    assert!(checked > 10, "the permission routes were checked");
}

#[tokio::test]
async fn the_table_lists_exactly_the_routes_of_the_openapi_document_with_their_security() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let doc = Api::new(&relay).get("/v1/openapi.json", None).await.body;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let row = ROUTES
                .iter()
                .find(|r| r.method == method && r.path == path)
                .unwrap_or_else(|| {
                    panic!("{method} {path} is in the OpenAPI document but has no row in ROUTES")
                });
            let scopes: Option<Vec<&str>> = operation.get("security").map(|s| {
                s[0]["bearer"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect()
            });
            let declared = match row.access {
                Public => None,
                Signed => Some(vec![]),
                Needs(permission) => Some(vec![permission.as_str()]),
            };
            assert_eq!(
                scopes, declared,
                "{method} {path}: the document's security matches the table"
            );
            documented.insert((method, path.clone()));
        }
    }
    for row in ROUTES {
        assert!(
            documented.contains(&(row.method.to_owned(), row.path.to_owned())),
            "{} {} is in ROUTES but not in the OpenAPI document",
            row.method,
            row.path
        );
    }
    assert_eq!(documented.len(), ROUTES.len(), "no route is listed twice");
}

/// The route list of docs/api.md, generated from the table and the document's summaries.
fn route_list(doc: &Value) -> String {
    let mut out = String::from(
        "| method | path | who may call | recent second factor | what it does |\n\
         |---|---|---|---|---|\n",
    );
    for row in ROUTES {
        let (who, step_up) = match row.access {
            Public => ("anyone".to_owned(), "—"),
            Signed => ("any signed-in user".to_owned(), "—"),
            Needs(p) => {
                let roles: Vec<&str> = p.roles().map(Role::as_str).collect();
                let step_up = if p.requires_recent_second_factor() && row.method != "GET" {
                    "yes"
                } else {
                    "—"
                };
                (format!("`{p}`: {}", roles.join(", ")), step_up)
            }
        };
        let summary = doc["paths"][row.path][row.method.to_lowercase()]["summary"]
            .as_str()
            .unwrap_or("")
            .replace('\n', " ");
        out.push_str(&format!(
            "| {} | `{}` | {who} | {step_up} | {summary} |\n",
            row.method, row.path
        ));
    }
    out
}

const BEGIN: &str = "<!-- route list: generated by the route table test; do not edit -->\n";
const END: &str = "<!-- end of route list -->";

#[tokio::test]
async fn the_route_list_in_docs_api_md_is_generated_from_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path(), "").await;
    let doc = Api::new(&relay).get("/v1/openapi.json", None).await.body;
    let list = route_list(&doc);
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text
        .find(BEGIN)
        .expect("docs/api.md has the route list marker")
        + BEGIN.len();
    let end = text.find(END).expect("docs/api.md has the end marker");
    if std::env::var_os("RINGSIDE_UPDATE_DOCS").is_some() {
        let updated = format!("{}{list}{}", &text[..start], &text[end..]);
        std::fs::write(&file, updated).unwrap();
        return;
    }
    assert_eq!(
        &text[start..end],
        list,
        "docs/api.md's route list is stale: rerun this test with RINGSIDE_UPDATE_DOCS=1"
    );
}
