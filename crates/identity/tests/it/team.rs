use ringside_core::{Permission, Role};

use super::{World, enrol};

/// An org with an enrolled owner and an enrolled admin, both signed in; and an agent.
struct Team {
    w: World,
    owner: ringside_identity::Tokens,
    admin: ringside_identity::Tokens,
    agent: ringside_core::UserId,
}

fn team() -> Team {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, "owner@acme.example", Role::Owner);
    w.member(org, "admin@acme.example", Role::Admin);
    let agent = w.member(org, "agent@acme.example", Role::Agent);
    let owner = w.sign_in("owner@acme.example");
    let admin = w.sign_in("admin@acme.example");
    enrol(&w, &owner);
    enrol(&w, &admin);
    Team {
        w,
        owner,
        admin,
        agent,
    }
}

#[test]
fn a_role_change_applies_to_the_very_next_request() {
    let t = team();
    let agent = t.w.sign_in("agent@acme.example");
    assert!(
        t.w.auth
            .authorize(&t.w.principal(&agent), Permission::ViewAllCalls)
            .is_err()
    );
    t.w.auth
        .set_role(&t.w.principal(&t.admin), t.agent, Role::Viewer)
        .unwrap();
    let p = t.w.principal(&agent);
    assert_eq!(p.role, Role::Viewer, "read on every request");
    assert_eq!(
        t.w.auth
            .authorize(&p, Permission::ReceivePops)
            .unwrap_err()
            .code(),
        "forbidden"
    );
}

#[test]
fn admins_manage_agents_and_viewers_but_not_owners() {
    let t = team();
    let admin = t.w.principal(&t.admin);
    let owner_id = t.owner.user;
    for (result, what) in [
        (
            t.w.auth.set_role(&admin, t.agent, Role::Owner),
            "make an owner",
        ),
        (
            t.w.auth.set_role(&admin, owner_id, Role::Agent),
            "demote an owner",
        ),
        (t.w.auth.disable_user(&admin, owner_id), "disable an owner"),
        (
            t.w.auth.revoke_user_sessions(&admin, owner_id).map(|_| ()),
            "end an owner's sessions",
        ),
        (
            t.w.auth.reset_second_factor(&admin, owner_id),
            "reset an owner's factor",
        ),
    ] {
        assert_eq!(
            result.unwrap_err().code(),
            "forbidden",
            "an admin cannot {what}"
        );
    }
    t.w.auth.set_role(&admin, t.agent, Role::Admin).unwrap();
    let owner = t.w.principal(&t.owner);
    t.w.auth.set_role(&owner, t.agent, Role::Owner).unwrap();
}

#[test]
fn the_last_owner_cannot_be_demoted_or_disabled() {
    let t = team();
    let owner = t.w.principal(&t.owner);
    for result in [
        t.w.auth.set_role(&owner, t.owner.user, Role::Admin),
        t.w.auth.disable_user(&owner, t.owner.user),
    ] {
        let err = result.unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("last_owner", 409));
    }
    t.w.auth.set_role(&owner, t.agent, Role::Owner).unwrap();
    t.w.auth
        .set_role(&owner, t.owner.user, Role::Admin)
        .unwrap();
}

#[test]
fn agents_and_viewers_administer_nothing() {
    let t = team();
    let agent = t.w.sign_in("agent@acme.example");
    let p = t.w.principal(&agent);
    assert_eq!(t.w.auth.list_users(&p).unwrap_err().code(), "forbidden");
    assert_eq!(
        t.w.auth
            .create_invitation(&p, "x@acme.example", Role::Viewer)
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert_eq!(
        t.w.auth.disable_user(&p, t.admin.user).unwrap_err().code(),
        "forbidden"
    );
    assert_eq!(
        t.w.auth.unlock_user(&p, t.admin.user).unwrap_err().code(),
        "forbidden"
    );
}

#[test]
fn another_orgs_users_are_not_found_and_never_listed() {
    let t = team();
    let other = t.w.org("Other Agency");
    t.w.member(other, "boss@other.example", Role::Owner);
    let boss = t.w.sign_in("boss@other.example");
    enrol(&t.w, &boss);
    let p = t.w.principal(&boss);
    let listed = t.w.auth.list_users(&p).unwrap();
    assert_eq!(listed.len(), 1, "only their own org");
    assert_eq!(listed[0].email.expose(), "boss@other.example");
    for result in [
        t.w.auth.disable_user(&p, t.agent),
        t.w.auth.set_role(&p, t.agent, Role::Viewer),
        t.w.auth.unlock_user(&p, t.agent),
        t.w.auth.revoke_session(&p, t.admin.session),
        t.w.auth.revoke_user_sessions(&p, t.agent).map(|_| ()),
        t.w.auth.list_user_sessions(&p, t.agent).map(|_| ()),
    ] {
        assert_eq!(
            result.unwrap_err().code(),
            "not_found",
            "another org's ids do not resolve"
        );
    }
    assert!(
        t.w.auth.authenticate(t.admin.access_token.expose()).is_ok(),
        "untouched"
    );
}

#[test]
fn a_lost_phone_is_reset_by_an_admin_and_the_user_enrols_again() {
    let t = team();
    let agent_tokens = t.w.sign_in("agent@acme.example");
    enrol(&t.w, &agent_tokens);
    t.w.auth
        .reset_second_factor(&t.w.principal(&t.admin), t.agent)
        .unwrap();
    assert!(
        t.w.auth
            .authenticate(agent_tokens.access_token.expose())
            .is_err(),
        "their sessions end"
    );
    let again = t.w.sign_in("agent@acme.example");
    assert!(
        !t.w.principal(&again).mfa_enrolled,
        "signs in with the password, then enrols"
    );
}
