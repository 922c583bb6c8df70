//! A typed client of the relay's HTTP API and the people who use it: the operator (an identity
//! service on the same data folder and clock, standing in for `ringside-relay org create` and
//! `invite`), and members who join, sign in and enrol a second factor over HTTP exactly as the
//! desktop app does — with an authenticator app's view of TOTP (`totp-rs` reading the
//! `otpauth://` URI the relay hands out).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use ringside_core::{Clock, OrgId, Role};
use ringside_identity::{AuthConfig, AuthService};
use ringside_relay::ams::AmsConnections;
use ringside_relay::integrations::{Caller, Integrations};
use ringside_store::{AuditContext, OrgKeys, Store};
use ringside_vault::MasterKeyring;
use serde_json::{Value, json};

use crate::utils::TestRelay;

/// The password every member starts with.
pub(crate) const PASSWORD: &str = "mauve kettle orbit 41";

/// The device name members sign in from unless a test says otherwise.
pub(crate) const DEVICE: &str = "Test Laptop";

/// An answer: status, headers and the JSON body (`Null` when there is none).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    /// The problem's `code`, for error answers.
    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub(crate) fn expect(self, status: u16, what: &str) -> Self {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        self
    }

    /// Asserts an error answer: status, problem+json, code.
    #[track_caller]
    pub(crate) fn problem(&self, status: u16, code: &str, what: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "{what}: {}",
            self.body
        );
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "{what}: errors are problem+json"
        );
    }
}

/// The relay's API over real HTTP.
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub(crate) fn new(relay: &TestRelay) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: format!("http://{}", relay.addr),
        }
    }

    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let res = request.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("GET", path, token, None).await
    }

    pub(crate) async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send("POST", path, token, Some(&body)).await
    }

    /// A `GET` that must answer 200: its JSON body.
    pub(crate) async fn get_json(&self, path: &str, token: Option<&str>, what: &str) -> Value {
        self.get(path, token).await.expect(200, what).body
    }

    /// The actions of the org's audit entries matching `filter` (e.g. `ams.*`), oldest first,
    /// and the page itself.
    pub(crate) async fn audit_actions(
        &self,
        filter: &str,
        token: Option<&str>,
    ) -> (Vec<String>, Value) {
        let page = self
            .get_json(
                &format!("/v1/admin/audit?action={filter}"),
                token,
                "the audit log",
            )
            .await;
        let actions = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        (actions, page)
    }

    /// A `POST` with a `null` body: an action named by its path.
    pub(crate) async fn post_null(&self, path: &str, token: Option<&str>) -> Reply {
        self.post(path, token, Value::Null).await
    }

    pub(crate) async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("DELETE", path, token, None).await
    }

    /// `GET /v1/me` with the member's access token.
    pub(crate) async fn me(&self, member: &Member) -> Reply {
        self.get("/v1/me", member.token()).await
    }

    /// `POST /v1/auth/login` with `body`.
    pub(crate) async fn login(&self, body: Value) -> Reply {
        self.post("/v1/auth/login", None, body).await
    }

    /// `POST /v1/auth/second-factor`: the second sign-in step.
    pub(crate) async fn second_factor(&self, challenge: &Value, code: &str) -> Reply {
        let body = json!({"challenge": challenge, "code": code});
        self.post("/v1/auth/second-factor", None, body).await
    }

    /// `POST /v1/auth/refresh` with `refresh_token`.
    pub(crate) async fn refresh(&self, refresh_token: &str) -> Reply {
        let body = json!({"refresh_token": refresh_token});
        self.post("/v1/auth/refresh", None, body).await
    }

    /// `POST /v1/invitations/accept` with `body`.
    pub(crate) async fn accept(&self, body: Value) -> Reply {
        self.post("/v1/invitations/accept", None, body).await
    }
}

/// The operator on the relay's machine: creates orgs and invitations with the relay's own data
/// folder, master key and clock (what `ringside-relay org create` and `invite` do).
pub(crate) struct Operator {
    pub(crate) store: Arc<Store>,
    masters: Arc<MasterKeyring>,
    auth: AuthService,
    integrations: Integrations,
    ams: AmsConnections,
}

impl Operator {
    pub(crate) fn open(relay: &TestRelay) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(relay.clock.clone());
        let store = Arc::new(Store::open(&relay.config.data_dir, Arc::clone(&clock)).unwrap());
        let masters = Arc::new(relay.config.master_key_source.load().unwrap());
        let keys = OrgKeys::new(Arc::clone(&store), Arc::clone(&masters));
        let auth = AuthService::load(
            Arc::clone(&store),
            keys.clone(),
            Arc::clone(&clock),
            AuthConfig::default(),
        )
        .unwrap();
        let integrations = Integrations::new(
            Arc::clone(&store),
            keys.clone(),
            auth.clone(),
            Arc::clone(&clock),
        );
        let limits = ringside_ams::Limits::default();
        let ams = AmsConnections::new(
            Arc::clone(&store),
            keys,
            auth.clone(),
            Arc::clone(&clock),
            ringside_ams::Ams::new(limits, clock).unwrap(),
        );
        Self {
            store,
            masters,
            auth,
            integrations,
            ams,
        }
    }

    pub(crate) fn create_org(&self, name: &str) -> OrgId {
        self.store
            .orgs()
            .create_org(name, &self.masters, &AuditContext::system("test"))
            .unwrap()
            .id
    }

    /// A one-time invitation: (its id, its code).
    pub(crate) fn invite(&self, org: OrgId, email: &str, role: Role) -> (String, String) {
        let created = self.auth.invite_as_operator(org, email, role).unwrap();
        (created.id.to_string(), created.code.expose().to_owned())
    }

    /// A new integration of `org` for `provider` with `secret`: (its id, its secret).
    pub(crate) fn integration(
        &self,
        org: OrgId,
        provider: ringside_providers::ProviderKind,
        secret: Option<&str>,
    ) -> (String, String) {
        let created = self
            .integrations
            .create(Caller::Operator(org), provider, secret, "Hooks")
            .unwrap();
        (created.id.to_string(), created.secret.as_str().to_owned())
    }

    /// `org`'s data keys, to read what the relay stored.
    pub(crate) fn keyring(&self, org: OrgId) -> ringside_vault::OrgKeyring {
        self.store.orgs().org_keyring(org, &self.masters).unwrap()
    }

    /// Connects `org` to an AMS as `ringside-relay ams connect` does.
    pub(crate) fn connect_ams(&self, org: OrgId, kind: &str, base_url: &str, credentials: &str) {
        let connection =
            ringside_relay::ams::connection(kind, Some(base_url), credentials.as_bytes()).unwrap();
        self.ams
            .connect(Caller::Operator(org), &connection, None)
            .unwrap();
    }

    /// Revokes integration `id` of `org`.
    pub(crate) fn revoke_integration(&self, org: OrgId, id: &str) {
        self.integrations
            .delete(Caller::Operator(org), id.parse().unwrap())
            .unwrap();
    }

    /// What `simulate call` signs with for integration `id`: its provider, secret and settings,
    /// opened from the store as the webhook route opens them.
    pub(crate) fn signer(&self, id: &str) -> ringside_relay::commands::simulate::Signer {
        ringside_relay::commands::simulate::Signer::load(
            &self.store,
            &self.masters,
            id.parse().unwrap(),
        )
        .unwrap()
    }

    /// A new Dialpad integration of `org`, with a generated secret: its id.
    pub(crate) fn create_integration(&self, org: OrgId) -> String {
        self.integrations
            .create(
                Caller::Operator(org),
                ringside_providers::ProviderKind::Dialpad,
                None,
                "Walk",
            )
            .unwrap()
            .id
            .to_string()
    }
}

/// Someone who joined over HTTP, with what their desktop app would keep.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) user: String,
    pub(crate) session: String,
    pub(crate) access: String,
    pub(crate) refresh: String,
    pub(crate) device_token: Option<String>,
    /// The `otpauth://` URI of their enrolled second factor.
    pub(crate) totp_uri: Option<String>,
    pub(crate) recovery: Vec<String>,
}

impl Member {
    pub(crate) fn token(&self) -> Option<&str> {
        Some(&self.access)
    }

    /// Takes the tokens of a `SessionTokens` body.
    pub(crate) fn take_tokens(&mut self, body: &Value) {
        self.session = body["session_id"].as_str().unwrap().to_owned();
        self.access = body["access_token"].as_str().unwrap().to_owned();
        self.refresh = body["refresh_token"].as_str().unwrap().to_owned();
        if let Some(device) = body["device_token"].as_str() {
            self.device_token = Some(device.to_owned());
        }
    }
}

/// The per-address sign-in limit is 10 a minute: moving the clock 6 s before each attempt keeps
/// a test that signs many people in from one address under it, as a real office would be.
pub(crate) fn pace(relay: &TestRelay) {
    relay.clock.advance(Duration::from_secs(6));
}

/// The current TOTP code of `uri`, after moving the clock to the next 30 s step: a code is
/// accepted once, so each use needs a step of its own.
pub(crate) fn next_code(relay: &TestRelay, uri: &str) -> String {
    let now = relay.clock.now().unix_timestamp().unsigned_abs();
    relay.clock.advance(Duration::from_secs(30 - now % 30));
    totp_rs::TOTP::from_url(uri)
        .unwrap()
        .generate(relay.clock.now().unix_timestamp().unsigned_abs())
}

/// Accepts `code` over HTTP with [`PASSWORD`].
pub(crate) async fn join(
    relay: &TestRelay,
    api: &Api,
    code: &str,
    email: &str,
    name: &str,
    device: &str,
) -> Member {
    pace(relay);
    let reply = api
        .accept(
            json!({"code": code, "display_name": name, "password": PASSWORD, "device_name": device}),
        )
        .await
        .expect(201, "accepting an invitation");
    let mut member = Member {
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        user: reply.body["user_id"].as_str().unwrap().to_owned(),
        session: String::new(),
        access: String::new(),
        refresh: String::new(),
        device_token: None,
        totp_uri: None,
        recovery: Vec::new(),
    };
    member.take_tokens(&reply.body);
    member
}

/// Invites `email` as `role` into `org` (operator) and joins over HTTP.
pub(crate) async fn invited(
    relay: &TestRelay,
    api: &Api,
    operator: &Operator,
    org: OrgId,
    email: &str,
    role: Role,
) -> Member {
    let (_, code) = operator.invite(org, email, role);
    join(relay, api, &code, email, "Test Person", DEVICE).await
}

/// Starts a TOTP enrolment; returns the provisional `otpauth://` URI.
pub(crate) async fn start_enrolment(api: &Api, member: &Member) -> String {
    let reply = api
        .post("/v1/me/totp", member.token(), json!(null))
        .await
        .expect(200, "starting TOTP enrolment");
    reply.body["otpauth_uri"].as_str().unwrap().to_owned()
}

/// Enrols a TOTP second factor over HTTP and keeps the URI and recovery codes.
pub(crate) async fn enrol(relay: &TestRelay, api: &Api, member: &mut Member) {
    let uri = start_enrolment(api, member).await;
    let reply = api
        .post(
            "/v1/me/totp/confirm",
            member.token(),
            json!({"code": next_code(relay, &uri)}),
        )
        .await
        .expect(200, "confirming TOTP enrolment");
    member.recovery = reply.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    member.totp_uri = Some(uri);
}

/// Signs in again over HTTP (with a TOTP code when enrolled), from the member's known device;
/// the member's tokens become the new session's.
pub(crate) async fn sign_in(relay: &TestRelay, api: &Api, member: &mut Member) {
    pace(relay);
    let reply = api
        .login(json!({"email": member.email, "password": member.password,
                      "device_name": DEVICE, "device_token": member.device_token}))
        .await
        .expect(200, "signing in");
    let body = match reply.body["status"].as_str().unwrap() {
        "signed_in" => reply.body,
        "second_factor_required" => {
            pace(relay);
            let code = next_code(relay, member.totp_uri.as_deref().unwrap());
            api.second_factor(&reply.body["challenge"], &code)
                .await
                .expect(200, "the second sign-in step")
                .body
        }
        other => panic!("unexpected login status {other}"),
    };
    member.take_tokens(&body);
}

/// Swaps the member's refresh token for a new pair (a fresh access token, same session).
pub(crate) async fn refresh(api: &Api, member: &mut Member) {
    let reply = api.refresh(&member.refresh).await.expect(200, "refreshing");
    member.take_tokens(&reply.body);
}

/// Verifies the second factor in the member's session (step-up).
pub(crate) async fn step_up(relay: &TestRelay, api: &Api, member: &Member) {
    let code = next_code(relay, member.totp_uri.as_deref().unwrap());
    api.post("/v1/me/step-up", member.token(), json!({"code": code}))
        .await
        .expect(204, "stepping up");
}
