//! The one fixture of the relay's integration tests: an org on a running relay, as most
//! whole-journey tests need it — the relay on a fake clock in a temporary data folder, its API
//! over HTTP, the operator, the org, short ways for its members to join, sign in, enrol and step
//! up, and calls rung through the org's phone line exactly as `ringside-relay simulate call`
//! rings them (`commands::simulate::place_call`, signed as the provider signs).
//!
//! A module adds what only its own tests need as another `impl Office` block beside them (the
//! stream's sockets in `stream.rs`, raw webhook requests in `hooks.rs`), so this file stays the
//! part every module shares.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ringside_core::wire::{CallState, Fallback, RouteKind, RouteMatch};
use ringside_core::{OrgId, PhoneNumber, Role, UserId};
use ringside_providers::ProviderKind;
use ringside_relay::calls::lookup::Lookup;
use ringside_relay::commands::simulate::{self, CallPlan, Delivery, Signer, Target};
use ringside_store::{AuditContext, NewRoute};
use tempfile::TempDir;

use crate::api::client::{
    Api, DEVICE, Member, Operator, enrol, invited, join, next_code, pace, refresh, sign_in, step_up,
};
use crate::utils::{TestRelay, config_for};

/// The number the office's calls come from: it must reach the agent's screen and never the disk
/// in clear.
pub(crate) const CALLER: &str = "+16172430734";

/// How an [`Office`] starts: extra relay configuration, an AMS.
#[derive(Default)]
pub(crate) struct Setup {
    /// TOML appended to the relay's configuration file.
    pub(crate) toml: &'static str,
    /// The AMS the relay looks callers up in; none connected when `None`.
    pub(crate) lookup: Option<Arc<dyn Lookup>>,
}

/// A relay with one org in it (fields drop in order: the relay stops before its folder goes).
pub(crate) struct Office {
    pub(crate) relay: TestRelay,
    pub(crate) api: Api,
    pub(crate) operator: Operator,
    pub(crate) org: OrgId,
    /// The org's Standard Webhooks integration, made the first time a call rings.
    line: OnceLock<Line>,
    pub(crate) http: reqwest::Client,
    pub(crate) dir: TempDir,
}

/// An integration as its provider holds it: the id and secret, and what signs with them.
pub(crate) struct Line {
    pub(crate) id: String,
    pub(crate) secret: String,
    signer: Signer,
    target: Target,
}

/// How the relay goes down before it comes back.
pub(crate) enum Restart {
    /// SIGTERM: sockets are told to reconnect (1001).
    Graceful,
    /// `kill -9`: nothing is told anything.
    Kill,
}

impl Office {
    /// A relay on a fresh data folder; its operator creates the org "Acme Insurance".
    pub(crate) async fn open() -> Self {
        Self::with(Setup::default()).await
    }

    /// As [`Office::open`], set up as `setup` says.
    pub(crate) async fn with(setup: Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = config_for(dir.path(), setup.toml);
        let relay = match setup.lookup {
            Some(lookup) => TestRelay::start_with_lookup(config, lookup).await,
            None => TestRelay::start_with(config).await,
        };
        let operator = Operator::open(&relay);
        let org = operator.create_org("Acme Insurance");
        Self {
            api: Api::new(&relay),
            relay,
            operator,
            org,
            line: OnceLock::new(),
            http: reqwest::Client::new(),
            dir,
        }
    }

    /// The same office after its relay restarted. HTTP clients connect afresh: in-process, an
    /// aborted server's open connections would live on with its old state, whereas after a
    /// real kill they are gone.
    pub(crate) async fn restarted(self, how: Restart) -> Self {
        let relay = match how {
            Restart::Graceful => self.relay.restart().await,
            Restart::Kill => self.relay.crash_and_restart().await,
        };
        Self {
            api: Api::new(&relay),
            http: reqwest::Client::new(),
            relay,
            ..self
        }
    }

    /// Invites `email` as `role` into the org and joins over HTTP.
    pub(crate) async fn member(&self, email: &str, role: Role) -> Member {
        self.member_of(self.org, email, role).await
    }

    /// An agent of the org, joined over HTTP.
    pub(crate) async fn agent(&self, email: &str) -> Member {
        self.member(email, Role::Agent).await
    }

    /// Invites `email` as `role` into another `org` and joins over HTTP.
    pub(crate) async fn member_of(&self, org: OrgId, email: &str, role: Role) -> Member {
        invited(&self.relay, &self.api, &self.operator, org, email, role).await
    }

    /// A member of the org who has enrolled a TOTP second factor.
    pub(crate) async fn enrolled(&self, email: &str, role: Role) -> Member {
        let mut member = self.member(email, role).await;
        self.enrol(&mut member).await;
        member
    }

    /// Accepts the invitation `code` as `name` from [`DEVICE`].
    pub(crate) async fn join(&self, code: &str, email: &str, name: &str) -> Member {
        join(&self.relay, &self.api, code, email, name, DEVICE).await
    }

    pub(crate) async fn enrol(&self, member: &mut Member) {
        enrol(&self.relay, &self.api, member).await;
    }

    pub(crate) async fn sign_in(&self, member: &mut Member) {
        sign_in(&self.relay, &self.api, member).await;
    }

    pub(crate) async fn refresh(&self, member: &mut Member) {
        refresh(&self.api, member).await;
    }

    pub(crate) async fn step_up(&self, member: &Member) {
        step_up(&self.relay, &self.api, member).await;
    }

    /// The member's next TOTP code (the clock moves to its step).
    pub(crate) fn code(&self, member: &Member) -> String {
        next_code(&self.relay, member.totp_uri.as_deref().unwrap())
    }

    /// Keeps sign-ins from this address under the per-address limit (see [`pace`]).
    pub(crate) fn pace(&self) {
        pace(&self.relay);
    }

    /// One hygiene pass on the office's data folder, at the relay's clock: its report.
    pub(crate) fn hygiene(&self) -> String {
        ringside_relay::hygiene::run_at(&self.relay.config, Arc::new(self.relay.clock.clone()))
            .unwrap()
            .to_string()
    }

    /// Moves the relay's clock on by `seconds`.
    pub(crate) fn advance(&self, seconds: u64) {
        self.relay.clock.advance(Duration::from_secs(seconds));
    }

    /// Routes calls for provider user `provider_user` to `member`.
    pub(crate) fn route(&self, provider_user: &str, member: &Member) {
        let new = NewRoute {
            integration: None,
            matcher: RouteMatch::new(RouteKind::ProviderUser, provider_user).unwrap(),
            user: member.user.parse::<UserId>().unwrap(),
        };
        self.operator
            .store
            .routing()
            .add_route(self.org, &new, &AuditContext::system("test"))
            .unwrap();
    }

    /// Sends every call of `org` that no route takes to all its agents.
    pub(crate) fn fallback_all(&self, org: OrgId) {
        self.operator
            .store
            .routing()
            .set_fallback(org, &Fallback::All, &AuditContext::system("test"))
            .unwrap();
    }

    /// The org's phone line (a Standard Webhooks integration), made on first use.
    pub(crate) fn line(&self) -> &Line {
        self.line.get_or_init(|| {
            let (id, secret) = self
                .operator
                .integration(self.org, ProviderKind::Standard, None);
            let base = format!("http://{}", self.relay.addr);
            Line {
                signer: self.operator.signer(&id),
                target: Target::direct(&base, id.parse().unwrap()),
                id,
                secret,
            }
        })
    }

    /// One event of inbound call `call` from [`CALLER`] in `state`, for provider user `user`,
    /// signed and sent through the org's line as its provider would: what was sent and the
    /// relay's answer.
    pub(crate) async fn ring(&self, call: &str, state: CallState, user: Option<&str>) -> Delivery {
        self.ring_from(CALLER, call, state, user).await
    }

    /// [`Office::ring`] from the number `from`.
    pub(crate) async fn ring_from(
        &self,
        from: &str,
        call: &str,
        state: CallState,
        user: Option<&str>,
    ) -> Delivery {
        let mut plan = CallPlan::inbound(PhoneNumber::parse(from).unwrap(), None);
        plan.call_id = Some(call.to_owned());
        plan.states = vec![state];
        plan.provider_user_id = user.map(str::to_owned);
        self.ring_plan(&plan).await
    }

    /// Places `plan` through the org's line: the last delivery.
    pub(crate) async fn ring_plan(&self, plan: &CallPlan) -> Delivery {
        let line = self.line();
        let (_, mut sent) = simulate::place_call(
            &self.http,
            &line.signer,
            &line.target,
            plan,
            &self.relay.clock,
            |_| {},
        )
        .await
        .unwrap();
        sent.pop().unwrap()
    }

    /// Sends call `call`'s transcript (`Caller: …` / `Agent: …` lines) as the line's provider
    /// would: the relay's status.
    pub(crate) async fn transcript(&self, call: &str, lines: &str) -> u16 {
        let mut plan = CallPlan::inbound(PhoneNumber::parse(CALLER).unwrap(), None);
        plan.states = vec![CallState::Ended];
        let line = self.line();
        let utterances = ringside_providers::simulate::parse_transcript_file(lines);
        let (status, _) = simulate::send_transcript(
            &self.http,
            &line.signer,
            &line.target,
            &plan,
            call,
            &utterances,
            &self.relay.clock,
        )
        .await
        .unwrap();
        status
    }

    /// Text message `id` from `from` saying `text` (`sms.received`, for provider user `u-alice`),
    /// signed as a Standard Webhooks sender signs it; sent `times` times (a provider's
    /// retries): the relay's last status.
    pub(crate) async fn text(&self, id: &str, from: &str, text: &str, times: usize) -> u16 {
        let body = serde_json::json!({
            "type": "sms.received",
            "timestamp": self.relay.now_rfc3339(),
            "data": {"message_id": id, "from": from, "to": ["+16175550100"],
                     "text": text, "user_id": "u-alice"}
        })
        .to_string();
        let now = self.relay.now_unix();
        let webhook_id = format!("msg-{id}");
        let secret = ringside_providers::ProviderSecret::new(&self.line().secret).unwrap();
        let signature =
            ringside_providers::standard::sign(&secret, &webhook_id, now, body.as_bytes()).unwrap();
        let url = format!("http://{}/v1/hooks/{}", self.relay.addr, self.line().id);
        let mut status = 0;
        for _ in 0..times {
            status = self
                .http
                .post(&url)
                .header("webhook-id", &webhook_id)
                .header("webhook-timestamp", now.to_string())
                .header("webhook-signature", &signature)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
        }
        status
    }

    /// Sends `delivery` again, byte for byte, as a provider retries: the relay's status.
    pub(crate) async fn retry(&self, delivery: &Delivery) -> u16 {
        simulate::send(&self.http, &self.line().target.post_url, &delivery.request)
            .await
            .unwrap()
    }
}
