use std::time::Duration;

use ringside_core::Role;
use ringside_identity::{Revocation, RevocationScope, Tokens};
use ringside_store::RevokeReason;

use super::{World, enrol, ip};

const AGENT: &str = "agent@acme.example";

fn world_with_agent() -> World {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, "owner@acme.example", Role::Owner);
    w.member(org, AGENT, Role::Agent);
    w
}

const MIN: u64 = 60;

/// What the hub is told when sessions of the user `tokens` belong to end.
fn revocation(tokens: &Tokens, scope: RevocationScope, reason: RevokeReason) -> Revocation {
    Revocation {
        org: tokens.org,
        user: tokens.user,
        scope,
        reason,
    }
}

#[test]
fn tokens_are_opaque_128_bit_values_and_each_sign_in_gets_new_ones() {
    let w = world_with_agent();
    let a = w.sign_in(AGENT);
    let b = w.sign_in(AGENT);
    for t in [&a, &b] {
        assert_eq!(
            t.access_token.expose().len(),
            4 + 32,
            "prefix + 128 bits in hex"
        );
        assert_eq!(t.refresh_token.expose().len(), 4 + 32);
    }
    assert_ne!(a.access_token.expose(), b.access_token.expose());
    assert_ne!(
        a.session, b.session,
        "a new session per sign-in (ASVS 7.2.4)"
    );
    assert_eq!(
        a.access_expires_at - super::START,
        time::Duration::minutes(15)
    );
    assert_eq!(
        a.refresh_expires_at - super::START,
        time::Duration::minutes(30)
    );
    assert_eq!(
        a.session_expires_at - super::START,
        time::Duration::hours(12)
    );
}

#[test]
fn an_access_token_lasts_fifteen_minutes_and_a_refresh_gets_a_new_pair() {
    let w = world_with_agent();
    let tokens = w.sign_in(AGENT);
    w.advance(Duration::from_secs(15 * MIN - 1));
    w.principal(&tokens);
    w.advance(Duration::from_secs(1));
    let expired = w
        .auth
        .authenticate(tokens.access_token.expose())
        .unwrap_err();
    assert_eq!(expired.code(), "session_expired");
    let next = w.refresh(&tokens);
    assert_eq!(next.session, tokens.session, "same session, new tokens");
    assert_ne!(next.refresh_token.expose(), tokens.refresh_token.expose());
    w.principal(&next);
    assert_eq!(
        w.access_error(&tokens),
        "unauthenticated",
        "the old access token is gone after a refresh"
    );
}

#[test]
fn a_session_unused_for_thirty_minutes_ends() {
    let w = world_with_agent();
    let tokens = w.sign_in(AGENT);
    w.advance(Duration::from_secs(30 * MIN));
    assert_eq!(
        w.refresh_error(&tokens),
        "session_expired",
        "idle for 30 minutes"
    );
}

#[test]
fn activity_keeps_a_session_alive_until_its_twelve_hour_end() {
    let w = world_with_agent();
    let mut tokens = w.sign_in(AGENT);
    // The desktop app refreshes every 14 minutes for a whole shift.
    let mut elapsed = 0;
    while elapsed + 14 * MIN < 12 * 3600 {
        w.advance(Duration::from_secs(14 * MIN));
        elapsed += 14 * MIN;
        tokens = w.refresh(&tokens);
        w.principal(&tokens);
    }
    assert!(
        tokens.access_expires_at <= tokens.session_expires_at,
        "no token outlives the session"
    );
    w.advance(Duration::from_secs(12 * 3600 - elapsed));
    assert_eq!(
        w.access_error(&tokens),
        "session_expired",
        "12 hours after sign-in, whatever the activity"
    );
    assert_eq!(w.refresh_error(&tokens), "session_expired");
}

#[test]
fn requests_count_as_activity_for_the_idle_timeout() {
    let w = world_with_agent();
    let tokens = w.sign_in(AGENT);
    for _ in 0..14 {
        w.advance(Duration::from_secs(MIN));
        w.principal(&tokens);
    }
    w.advance(Duration::from_secs(20 * MIN));
    assert!(
        w.auth.refresh(tokens.refresh_token.expose(), ip(1)).is_ok(),
        "34 minutes after sign-in but only 20 idle"
    );
}

#[test]
fn reusing_a_refresh_token_revokes_the_whole_family_and_says_so() {
    let w = world_with_agent();
    let mut revocations = w.auth.subscribe_revocations();
    let first = w.sign_in(AGENT);
    let second = w.refresh(&first);
    let stolen = w
        .auth
        .refresh(first.refresh_token.expose(), ip(2))
        .unwrap_err();
    assert_eq!(
        stolen.code(),
        "session_revoked",
        "an old refresh token is a theft signal"
    );
    assert_eq!(
        w.access_error(&second),
        "session_revoked",
        "the legitimate holder's newer tokens die with the family"
    );
    assert_eq!(w.refresh_error(&second), "session_revoked");
    assert_eq!(
        revocations.try_recv().unwrap(),
        revocation(
            &first,
            RevocationScope::Session(first.session),
            RevokeReason::RefreshReuse
        ),
        "the hub is told"
    );
    let other = w.sign_in(AGENT);
    w.principal(&other);
}

#[test]
fn users_list_and_end_their_own_sessions() {
    let w = world_with_agent();
    let desk = w.sign_in(AGENT);
    let laptop = w.sign_in(AGENT);
    let p = w.principal(&desk);
    let sessions = w.auth.list_sessions(&p).unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    assert_eq!(sessions[0].device_name.expose(), "Test Laptop");
    let mut revocations = w.auth.subscribe_revocations();
    w.auth.revoke_session(&p, laptop.session).unwrap();
    assert_eq!(w.access_error(&laptop), "session_revoked");
    assert_eq!(
        revocations.try_recv().unwrap().scope,
        RevocationScope::Session(laptop.session)
    );
    let third = w.sign_in(AGENT);
    assert_eq!(w.auth.revoke_other_sessions(&p).unwrap(), 1);
    assert!(w.auth.authenticate(third.access_token.expose()).is_err());
    w.principal(&desk);
    w.auth.logout(&p).unwrap();
    assert_eq!(w.access_error(&desk), "session_revoked");
}

#[test]
fn an_agent_cannot_end_someone_elses_session_but_an_admin_can() {
    let w = world_with_agent();
    let owner = w.sign_in("owner@acme.example");
    enrol(&w, &owner);
    let agent = w.sign_in(AGENT);
    let agent_p = w.principal(&agent);
    assert_eq!(
        w.auth
            .revoke_session(&agent_p, owner.session)
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let owner_p = w.principal(&owner);
    let listed = w.auth.list_user_sessions(&owner_p, agent.user).unwrap();
    assert_eq!(listed.len(), 1);
    let mut revocations = w.auth.subscribe_revocations();
    assert_eq!(
        w.auth.revoke_user_sessions(&owner_p, agent.user).unwrap(),
        1
    );
    assert_eq!(w.access_error(&agent), "session_revoked");
    assert_eq!(
        revocations.try_recv().unwrap(),
        revocation(
            &agent,
            RevocationScope::AllSessions,
            RevokeReason::RevokedByAdmin
        )
    );
}

#[test]
fn disabling_a_user_ends_every_session_at_once_and_publishes_it() {
    let w = world_with_agent();
    let owner = w.sign_in("owner@acme.example");
    enrol(&w, &owner);
    let desk = w.sign_in(AGENT);
    let laptop = w.sign_in(AGENT);
    let mut revocations = w.auth.subscribe_revocations();
    w.auth
        .disable_user(&w.principal(&owner), desk.user)
        .unwrap();
    for tokens in [&desk, &laptop] {
        assert_eq!(w.access_error(tokens), "session_revoked");
        assert_eq!(w.refresh_error(tokens), "session_revoked");
    }
    assert_eq!(
        revocations.try_recv().unwrap(),
        revocation(
            &desk,
            RevocationScope::AllSessions,
            RevokeReason::UserDisabled
        ),
        "one message ends every stream of the user"
    );
    assert_eq!(
        w.login(AGENT, super::PASSWORD, None, None)
            .unwrap_err()
            .code(),
        "invalid_credentials"
    );
    w.auth.enable_user(&w.principal(&owner), desk.user).unwrap();
    assert_eq!(
        w.login(AGENT, super::PASSWORD, None, None).unwrap().code(),
        "signed_in"
    );
    assert!(
        w.auth.authenticate(desk.access_token.expose()).is_err(),
        "re-enabling does not revive old sessions"
    );
}

#[test]
fn hygiene_forgets_ended_sessions() {
    let w = world_with_agent();
    let tokens = w.sign_in(AGENT);
    w.advance(Duration::from_secs(12 * 3600 + 24 * 3600 + 1));
    let purged = w.auth.purge_expired().unwrap();
    assert!(purged.sessions >= 1, "{purged:?}");
    assert_eq!(w.access_error(&tokens), "unauthenticated");
}
