use std::time::Duration;

use ringside_core::{Permission, Role};
use ringside_identity::{
    AuthError, LoginOutcome, MfaScope, Principal, Provisioning, SecretToken, Tokens,
};

use super::{PASSWORD, World, code, enrol, ip};

const ADMIN: &str = "admin@acme.example";

/// An org with an owner and an admin; the admin is signed in and enrolled. The clock is moved
/// past the confirming code's step.
fn enrolled_admin() -> (World, Vec<u8>, Vec<String>) {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, "owner@acme.example", Role::Owner);
    w.member(org, ADMIN, Role::Admin);
    let tokens = w.sign_in(ADMIN);
    assert_eq!(tokens.mfa_required_for, MfaScope::AdminPermissions);
    let (secret, recovery) = enrol(&w, &tokens);
    w.advance(Duration::from_secs(30));
    (w, secret, recovery)
}

/// An org with only an admin, signed in and with TOTP enrolment started (not confirmed).
fn admin_enrolling() -> (World, Tokens, Principal, Provisioning) {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, ADMIN, Role::Admin);
    let tokens = w.sign_in(ADMIN);
    let p = w.principal(&tokens);
    let provisioning = w.auth.enroll_totp(&p).unwrap();
    (w, tokens, p, provisioning)
}

/// The error code confirming enrolment with `code` gets; panics if it is accepted.
fn confirm_error(w: &World, p: &Principal, code: &str) -> &'static str {
    w.auth.confirm_totp(p, code).map(|_| ()).unwrap_err().code()
}

fn challenge(w: &World) -> SecretToken {
    match w.login(ADMIN, PASSWORD, None, None).unwrap() {
        LoginOutcome::NeedsSecondFactor { challenge, .. } => challenge,
        LoginOutcome::SignedIn(_) => panic!("an enrolled user needs a second factor"),
    }
}

#[test]
fn enrolment_gives_an_otpauth_uri_and_ten_recovery_codes() {
    let (w, tokens, p, provisioning) = admin_enrolling();
    let uri = provisioning.otpauth_uri.expose();
    assert!(
        uri.starts_with("otpauth://totp/Ringside:admin%40acme.example?"),
        "{uri}"
    );
    assert!(uri.contains("issuer=Ringside"));
    let secret = super::base32_decode(provisioning.secret_base32.expose());
    assert_eq!(secret.len(), 20, "160-bit secret");
    assert_eq!(
        confirm_error(&w, &p, "000000"),
        "invalid_second_factor",
        "enrolment needs a real first code"
    );
    let codes = w.auth.confirm_totp(&p, &code(&w, &secret, 0)).unwrap();
    assert_eq!(codes.0.len(), 10);
    assert!(w.principal(&tokens).mfa_enrolled);
    assert_eq!(
        confirm_error(&w, &p, &code(&w, &secret, 0)),
        "no_pending_enrollment"
    );
}

#[test]
fn an_enrolment_left_unconfirmed_expires() {
    let (w, tokens, _, provisioning) = admin_enrolling();
    let secret = super::base32_decode(provisioning.secret_base32.expose());
    w.advance(Duration::from_secs(16 * 60));
    let p = w.principal(&w.refresh(&tokens));
    assert_eq!(
        confirm_error(&w, &p, &code(&w, &secret, 0)),
        "no_pending_enrollment"
    );
}

#[test]
fn sign_in_asks_for_the_second_factor_and_accepts_one_step_either_side() {
    let (w, secret, _) = enrolled_admin();
    for (steps, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
        w.advance(Duration::from_secs(90)); // a fresh step each round: earlier ones were used
        let c = challenge(&w);
        let result = w.answer(&c, &code(&w, &secret, steps));
        assert_eq!(result.is_ok(), accepted, "a code {steps} step(s) away");
        if let Ok(tokens) = result {
            let p = w.principal(&tokens);
            assert!(
                p.mfa_verified_at.is_some(),
                "the session knows the factor was verified"
            );
        }
    }
}

#[test]
fn a_code_is_accepted_once() {
    let (w, secret, _) = enrolled_admin();
    let now = code(&w, &secret, 0);
    assert_eq!(
        w.login(ADMIN, PASSWORD, Some(&now), None).unwrap().code(),
        "signed_in",
        "password and code in one request"
    );
    let replay = w.login(ADMIN, PASSWORD, Some(&now), None).unwrap_err();
    assert_eq!(
        replay.code(),
        "invalid_second_factor",
        "the same code twice is a replay"
    );
    let c = challenge(&w);
    assert_eq!(
        w.answer(&c, &now).unwrap_err().code(),
        "invalid_second_factor",
        "through the challenge too"
    );
    let earlier = code(&w, &secret, -1);
    assert_eq!(
        w.answer(&c, &earlier).unwrap_err().code(),
        "invalid_second_factor",
        "and a step before the last accepted one"
    );
    w.advance(Duration::from_secs(30));
    assert!(
        w.answer(&c, &code(&w, &secret, 0)).is_ok(),
        "the next step's code works"
    );
}

#[test]
fn a_recovery_code_works_once() {
    let (w, _, recovery) = enrolled_admin();
    let c = challenge(&w);
    let typed = recovery[3].to_uppercase();
    assert!(w.answer(&c, &typed).is_ok());
    let c = challenge(&w);
    assert_eq!(
        w.answer(&c, &recovery[3]).unwrap_err().code(),
        "invalid_second_factor",
        "a used recovery code is refused"
    );
    assert!(w.answer(&c, &recovery[4]).is_ok());
}

#[test]
fn a_challenge_expires_after_five_minutes_and_after_five_wrong_codes() {
    let (w, secret, _) = enrolled_admin();
    let c = challenge(&w);
    w.advance(Duration::from_secs(5 * 60));
    assert_eq!(
        w.answer(&c, &code(&w, &secret, 0)).unwrap_err().code(),
        "unauthenticated",
        "sign in again after five minutes"
    );
    let c = challenge(&w);
    for _ in 0..5 {
        assert_eq!(
            w.answer(&c, "000000").unwrap_err().code(),
            "invalid_second_factor"
        );
    }
    assert_eq!(
        w.answer(&c, &code(&w, &secret, 0)).unwrap_err().code(),
        "unauthenticated",
        "five wrong codes void the challenge"
    );
}

#[test]
fn changes_to_the_team_need_the_second_factor_within_ten_minutes() {
    let (w, secret, _) = enrolled_admin();
    let tokens = w.sign_in_with_code(&secret);
    let p = w.principal(&tokens);
    w.auth.authorize(&p, Permission::ManageTeam).unwrap();
    w.advance(Duration::from_secs(10 * 60 + 1));
    let tokens = w.refresh(&tokens);
    let p = w.principal(&tokens);
    assert_eq!(
        w.auth
            .authorize(&p, Permission::ManageTeam)
            .unwrap_err()
            .code(),
        "step_up_required"
    );
    assert!(
        w.auth.authorize(&p, Permission::ViewAuditLog).is_ok(),
        "permissions without the flag need no step-up"
    );
    assert!(
        w.auth.authorize_read(&p, Permission::ManageTeam).is_ok(),
        "reading the team needs no step-up"
    );
    assert_eq!(
        w.auth
            .verify_step_up(&p, "123456", ip(1))
            .unwrap_err()
            .code(),
        "invalid_second_factor"
    );
    w.auth
        .verify_step_up(&p, &code(&w, &secret, 0), ip(1))
        .unwrap();
    let p = w.principal(&tokens);
    w.auth.authorize(&p, Permission::ManageTeam).unwrap();
    assert_eq!(
        w.auth
            .authorize(&p, Permission::ManageCredentials)
            .unwrap_err()
            .code(),
        "forbidden",
        "the role still has to hold the permission"
    );
}

#[test]
fn an_org_may_require_a_second_factor_of_everyone() {
    let (w, secret, _) = enrolled_admin();
    let org = w.principal(&w.sign_in_with_code(&secret)).org;
    w.member(org, "agent@acme.example", Role::Agent);
    let agent = w.sign_in("agent@acme.example");
    let p = w.principal(&agent);
    assert_eq!(p.mfa_required_for, MfaScope::Nothing);
    assert!(w.auth.authorize(&p, Permission::ReceivePops).is_ok());

    w.advance(Duration::from_secs(30));
    let admin = w.sign_in_with_code(&secret);
    w.auth
        .set_org_mfa_policy(&w.principal(&admin), true)
        .unwrap();
    let p = w.principal(&agent);
    assert_eq!(p.mfa_required_for, MfaScope::Everything);
    assert_eq!(
        w.auth
            .authorize(&p, Permission::ReceivePops)
            .unwrap_err()
            .code(),
        "mfa_enrollment_required"
    );
    enrol(&w, &agent);
    assert!(
        w.auth
            .authorize(&w.principal(&agent), Permission::ReceivePops)
            .is_ok()
    );
}

#[test]
fn replacing_a_second_factor_needs_the_current_one_first() {
    let (w, secret, _) = enrolled_admin();
    let tokens = w.sign_in_with_code(&secret);
    w.advance(Duration::from_secs(11 * 60));
    let tokens = w.refresh(&tokens);
    let p = w.principal(&tokens);
    assert_eq!(
        w.auth.enroll_totp(&p).map(|_| ()).unwrap_err().code(),
        "step_up_required"
    );
    w.auth
        .verify_step_up(&p, &code(&w, &secret, 0), ip(1))
        .unwrap();
    let p = w.principal(&tokens);
    let fresh = w.auth.enroll_totp(&p).unwrap();
    w.advance(Duration::from_secs(30));
    let old_still_works = code(&w, &secret, 0);
    assert_eq!(
        w.login(ADMIN, PASSWORD, Some(&old_still_works), None)
            .unwrap()
            .code(),
        "signed_in",
        "the old factor works until the new one is confirmed"
    );
    let new_secret = super::base32_decode(fresh.secret_base32.expose());
    w.auth.confirm_totp(&p, &code(&w, &new_secret, 0)).unwrap();
    w.advance(Duration::from_secs(30));
    assert_eq!(
        w.login(ADMIN, PASSWORD, Some(&code(&w, &secret, 0)), None)
            .unwrap_err()
            .code(),
        "invalid_second_factor",
        "the replaced secret is dead"
    );
}

impl World {
    /// Answers the sign-in challenge `c` with `code`, from [`ip`]`(1)`.
    fn answer(&self, c: &SecretToken, code: &str) -> Result<Tokens, AuthError> {
        self.auth.verify_second_factor(c.expose(), code, ip(1))
    }

    /// Signs in as the admin with a fresh TOTP code.
    fn sign_in_with_code(&self, secret: &[u8]) -> Tokens {
        match self
            .login(ADMIN, PASSWORD, Some(&code(self, secret, 0)), None)
            .unwrap()
        {
            LoginOutcome::SignedIn(t) => *t,
            LoginOutcome::NeedsSecondFactor { .. } => panic!("code given"),
        }
    }
}
