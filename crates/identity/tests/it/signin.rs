use std::time::{Duration, Instant};

use ringside_core::{Permission, Role};
use ringside_identity::{AuthConfig, AuthError, HashParams, PasswordProblem};

use super::{PASSWORD, World, ip, test_config};

#[test]
fn an_invited_person_accepts_signs_in_and_is_who_the_invitation_said() {
    let w = World::new();
    let org = w.org("Acme Insurance");
    let invitation = w.invite(org, "Owner@Acme.example", Role::Owner);
    assert!(invitation.code.expose().starts_with("rsi_"));
    let accepted = w
        .accept(invitation.code.expose(), "Olive Owner", PASSWORD)
        .unwrap();
    assert_eq!((accepted.org, accepted.role), (org, Role::Owner));

    let tokens = w.sign_in("owner@acme.example");
    assert_eq!(tokens.user, accepted.user);
    assert!(
        tokens.device_token.is_some(),
        "a first sign-in from a device gets a device token"
    );
    let p = w.principal(&tokens);
    assert_eq!((p.user, p.org, p.role), (accepted.user, org, Role::Owner));
    let me = w.auth.me(&p).unwrap();
    assert_eq!(
        me.email.expose(),
        "owner@acme.example",
        "the address is stored normalized"
    );
    assert_eq!(me.display_name.expose(), "Olive Owner");
    assert!(!me.mfa_enrolled);
}

#[test]
fn an_unknown_address_a_wrong_password_and_a_disabled_account_get_the_identical_answer() {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, "owner@acme.example", Role::Owner);
    let gone = w.member(org, "gone@acme.example", Role::Agent);
    let owner = w.sign_in("owner@acme.example");
    super::enrol(&w, &owner);
    w.auth.disable_user(&w.principal(&owner), gone).unwrap();

    let answers: Vec<AuthError> = [
        ("nobody@acme.example", PASSWORD),
        ("owner@acme.example", "not the password at all"),
        ("gone@acme.example", PASSWORD),
        ("not an address", PASSWORD),
    ]
    .into_iter()
    .map(|(email, password)| w.login(email, password, None, None).unwrap_err())
    .collect();
    for answer in &answers {
        assert_eq!(
            (answer.code(), answer.to_string(), answer.http_status()),
            (
                "invalid_credentials",
                "the email address or password is not correct".to_owned(),
                401
            ),
            "every failure looks the same from outside"
        );
    }
}

#[test]
fn an_unknown_address_costs_what_a_wrong_password_costs() {
    // Real OWASP parameters: the point is that argon2id runs for an unknown address too.
    let w = World::with(AuthConfig {
        password_hash: HashParams::OWASP,
        ..test_config()
    });
    let org = w.org("Acme");
    w.member(org, "owner@acme.example", Role::Owner);
    let time = |email: &str| {
        (0..5)
            .map(|_| {
                let started = Instant::now();
                let _ = w.login(email, "wrong password here", None, None);
                // Keep the account out of back-off so every attempt is really checked.
                w.advance(Duration::from_secs(3600));
                started.elapsed()
            })
            .min()
            .unwrap()
    };
    let wrong = time("owner@acme.example");
    let unknown = time("nobody@acme.example");
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown {unknown:?} vs wrong password {wrong:?}: the dummy verification must cost the same"
    );
}

#[test]
fn short_common_and_personal_passwords_are_refused_and_the_invitation_stays_usable() {
    let w = World::new();
    let org = w.org("Acme");
    let invitation = w.invite(org, "casey.jones@acme.example", Role::Agent);
    for (password, problem) in [
        ("short pw", PasswordProblem::TooShort),
        ("Password1234!", PasswordProblem::Common),
        ("qwertyuiop123", PasswordProblem::Common),
        ("123456789012", PasswordProblem::Sequence),
        ("aaaaaaaaaaaaaaaa", PasswordProblem::Repetitive),
        ("casey.jones-2026!", PasswordProblem::ContainsEmail),
    ] {
        let err = w
            .accept(invitation.code.expose(), "Casey", password)
            .unwrap_err();
        match err {
            AuthError::WeakPassword(p) => assert_eq!(p, problem, "{password}"),
            other => panic!("{password}: expected a weak-password refusal, got {other:?}"),
        }
        assert_eq!(
            err_code(&w, invitation.code.expose(), password),
            "weak_password"
        );
    }
    w.accept(invitation.code.expose(), "Casey", PASSWORD)
        .expect("a refused password does not use the invitation up");
}

fn err_code(w: &World, code: &str, password: &str) -> &'static str {
    w.accept(code, "Casey", password).unwrap_err().code()
}

#[test]
fn an_invitation_works_once_and_expires_after_72_hours() {
    let w = World::new();
    let org = w.org("Acme");
    let first = w.invite(org, "a@acme.example", Role::Agent);
    assert_eq!(
        first.expires_at - super::START,
        time::Duration::hours(72),
        "72 h by default"
    );
    w.accept(first.code.expose(), "A", PASSWORD).unwrap();
    let again = w.accept(first.code.expose(), "A", PASSWORD).unwrap_err();
    assert_eq!(again.code(), "invitation_invalid", "a code is single use");

    let second = w.invite(org, "b@acme.example", Role::Agent);
    w.advance(Duration::from_secs(72 * 3600));
    let late = w.accept(second.code.expose(), "B", PASSWORD).unwrap_err();
    assert_eq!(late.code(), "invitation_invalid", "expired at 72 h");
    let unknown = w
        .accept("rsi_00000000000000000000000000000000", "B", PASSWORD)
        .unwrap_err();
    assert_eq!(
        (late.to_string(), late.http_status()),
        (unknown.to_string(), unknown.http_status()),
        "expired, used and unknown codes are one answer"
    );
    assert!(
        w.login("b@acme.example", PASSWORD, None, None).is_err(),
        "no account was created"
    );
}

#[test]
fn the_invitation_is_never_the_password() {
    let w = World::new();
    let org = w.org("Acme");
    let invitation = w.invite(org, "a@acme.example", Role::Agent);
    w.accept(invitation.code.expose(), "A", PASSWORD).unwrap();
    let err = w
        .login("a@acme.example", invitation.code.expose(), None, None)
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
}

#[test]
fn an_address_can_belong_to_only_one_person_in_one_org() {
    let w = World::new();
    let a = w.org("Agency A");
    let b = w.org("Agency B");
    w.member(a, "pat@example.com", Role::Agent);
    let err = w
        .auth
        .invite_as_operator(b, "PAT@example.com", Role::Agent)
        .unwrap_err();
    assert_eq!(err.code(), "email_unavailable");
}

#[test]
fn admins_invite_only_roles_they_hold_and_need_a_second_factor_to_do_it() {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, "owner@acme.example", Role::Owner);
    w.member(org, "admin@acme.example", Role::Admin);
    let admin = w.sign_in("admin@acme.example");
    let p = w.principal(&admin);
    assert_eq!(
        w.auth
            .create_invitation(&p, "new@acme.example", Role::Agent)
            .unwrap_err()
            .code(),
        "mfa_enrollment_required",
        "admins must enrol before inviting"
    );
    assert!(
        w.auth.authorize(&p, Permission::ReceivePops).is_ok(),
        "agent permissions are not held back"
    );
    super::enrol(&w, &admin);
    let p = w.principal(&admin);
    let created = w
        .auth
        .create_invitation(&p, "new@acme.example", Role::Agent)
        .unwrap();
    assert_eq!(created.org, org);
    assert_eq!(
        w.auth
            .create_invitation(&p, "boss@acme.example", Role::Owner)
            .unwrap_err()
            .code(),
        "forbidden",
        "an admin cannot make an owner"
    );
    let listed = w.auth.list_invitations(&p).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].email.expose(), "new@acme.example");
    w.auth.revoke_invitation(&p, created.id).unwrap();
    assert_eq!(
        w.accept(created.code.expose(), "N", PASSWORD)
            .unwrap_err()
            .code(),
        "invitation_invalid",
        "a revoked invitation is dead"
    );
}

#[test]
fn a_successful_sign_in_rehashes_a_password_made_with_weaker_parameters() {
    let w = World::new();
    let org = w.org("Acme");
    let user = w.member(org, "a@acme.example", Role::Agent);
    // Re-open the same data with stronger parameters.
    let email_key = ringside_identity::EmailIndexKey::load(&w.store, &w.masters).unwrap();
    let auth = ringside_identity::AuthService::with_unvalidated_config(
        std::sync::Arc::clone(&w.store),
        ringside_store::OrgKeys::new(
            std::sync::Arc::clone(&w.store),
            std::sync::Arc::clone(&w.masters),
        ),
        std::sync::Arc::new(w.clock.clone()),
        email_key,
        AuthConfig {
            password_hash: HashParams {
                memory_kib: 128,
                iterations: 2,
                parallelism: 1,
            },
            ..test_config()
        },
    )
    .unwrap();
    let before = w.store.users().user(org, user).unwrap().password_hash;
    assert!(before.as_str().contains("m=64,t=1"));
    let outcome = auth
        .login(&ringside_identity::LoginRequest {
            email: "a@acme.example",
            password: PASSWORD,
            second_factor: None,
            ip: ip(1),
            device: ringside_identity::DeviceInfo {
                name: "x",
                token: None,
            },
        })
        .unwrap();
    assert_eq!(outcome.code(), "signed_in");
    let after = w.store.users().user(org, user).unwrap().password_hash;
    assert!(
        after.as_str().contains("m=128,t=2,p=1"),
        "re-hashed with the current parameters"
    );
}

#[test]
fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, "a@acme.example", Role::Agent);
    let here = w.sign_in("a@acme.example");
    let elsewhere = w.sign_in("a@acme.example");
    let p = w.principal(&here);
    assert_eq!(
        w.auth
            .change_password(&p, "not my password", "a brand new passphrase", ip(1))
            .unwrap_err()
            .code(),
        "invalid_credentials"
    );
    assert_eq!(
        w.auth
            .change_password(&p, PASSWORD, "Password12345", ip(1))
            .unwrap_err()
            .code(),
        "weak_password"
    );
    let ended = w
        .auth
        .change_password(&p, PASSWORD, "a brand new passphrase", ip(1))
        .unwrap();
    assert_eq!(ended, 1, "the other session ends");
    assert_eq!(w.access_error(&elsewhere), "session_revoked");
    w.principal(&here);
    assert_eq!(
        w.login("a@acme.example", PASSWORD, None, None)
            .unwrap_err()
            .code(),
        "invalid_credentials",
        "the old password is gone"
    );
    assert_eq!(
        w.login("a@acme.example", "a brand new passphrase", None, None)
            .unwrap()
            .code(),
        "signed_in"
    );
}
