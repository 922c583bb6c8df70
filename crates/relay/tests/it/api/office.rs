//! One org on a running relay, as most whole-journey tests need it: the relay on a fake clock in
//! a temporary data folder, its API over HTTP, the operator, the org, and short ways for its
//! members to join, sign in, enrol and step up.

use std::time::Duration;

use ringside_core::{OrgId, Role};
use tempfile::TempDir;

use super::client::{
    Api, DEVICE, Member, Operator, enrol, invited, join, next_code, pace, refresh, sign_in, step_up,
};
use crate::utils::TestRelay;

/// A relay with one org in it (fields drop in order: the relay stops before its folder goes).
pub(crate) struct Office {
    pub(crate) relay: TestRelay,
    pub(crate) api: Api,
    pub(crate) operator: Operator,
    pub(crate) org: OrgId,
    _dir: TempDir,
}

impl Office {
    /// Starts a relay on a fresh data folder; its operator creates the org `name`.
    pub(crate) async fn open(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let relay = TestRelay::start(dir.path(), "").await;
        let api = Api::new(&relay);
        let operator = Operator::open(&relay);
        let org = operator.create_org(name);
        Self {
            relay,
            api,
            operator,
            org,
            _dir: dir,
        }
    }

    /// Invites `email` as `role` into the org and joins over HTTP.
    pub(crate) async fn member(&self, email: &str, role: Role) -> Member {
        self.member_of(self.org, email, role).await
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

    /// Moves the relay's clock on by `seconds`.
    pub(crate) fn advance(&self, seconds: u64) {
        self.relay.clock.advance(Duration::from_secs(seconds));
    }
}
