use std::num::NonZeroU32;
use std::time::Duration;

use ringside_core::Role;
use ringside_identity::lockout::{IpLimit, LockoutPolicy};
use ringside_identity::{AuthConfig, AuthError, LoginOutcome};

use super::{PASSWORD, World, ip, test_config};

const VICTIM: &str = "victim@acme.example";

fn world_with_victim() -> World {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, VICTIM, Role::Agent);
    w
}

/// A sign-in as the victim with a wrong password, from [`ip`]`(n)`.
fn wrong_guess(w: &World, n: u32) -> Result<LoginOutcome, AuthError> {
    w.login_from(ip(n), VICTIM, "wrong guess number", None, None)
}

fn retry_after(err: &AuthError) -> Duration {
    match err {
        AuthError::Locked { retry_after } => *retry_after,
        other => panic!("expected `locked`, got {other:?}"),
    }
}

#[test]
fn five_failures_are_free_then_the_delay_doubles_from_one_second() {
    let w = world_with_victim();
    for n in 0..5 {
        let err = wrong_guess(&w, n).unwrap_err();
        assert_eq!(
            err.code(),
            "invalid_credentials",
            "attempt {n} is looked at"
        );
    }
    // The sixth failure is the first one with a delay after it.
    let err = wrong_guess(&w, 6).unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let mut expected = 1;
    for round in 0..6 {
        let locked = w
            .login_from(ip(7), VICTIM, PASSWORD, None, None)
            .unwrap_err();
        assert_eq!(
            retry_after(&locked),
            Duration::from_secs(expected),
            "round {round}: even the right password waits, and the wait is 2^n s"
        );
        assert_eq!(locked.retry_after(), Some(Duration::from_secs(expected)));
        w.advance(Duration::from_secs(expected));
        let err = wrong_guess(&w, 8).unwrap_err();
        assert_eq!(err.code(), "invalid_credentials");
        expected *= 2;
    }
}

#[test]
fn attempts_during_the_delay_neither_count_nor_extend_it() {
    let w = world_with_victim();
    for n in 0..7 {
        let err = wrong_guess(&w, n).unwrap_err();
        assert_eq!(err.code(), "invalid_credentials", "failure {n} is counted");
        if n == 5 {
            w.advance(Duration::from_secs(1));
        }
    }
    let first = retry_after(&wrong_guess(&w, 1).unwrap_err());
    assert_eq!(
        first,
        Duration::from_secs(2),
        "after 7 failures the delay is 2 s"
    );
    for _ in 0..50 {
        let err = wrong_guess(&w, 1).unwrap_err();
        assert!(
            retry_after(&err) <= first,
            "hammering does not extend the delay"
        );
    }
    w.advance(first);
    let outcome = w.login(VICTIM, PASSWORD, None, None).unwrap();
    assert_eq!(
        outcome.code(),
        "signed_in",
        "the owner gets in as soon as the delay has passed"
    );
}

#[test]
fn the_delay_is_capped_at_fifteen_minutes_and_the_owner_gets_in_after_it() {
    let w = world_with_victim();
    let mut longest = Duration::ZERO;
    for n in 0..40 {
        loop {
            match wrong_guess(&w, n) {
                Err(AuthError::Locked { retry_after }) => {
                    longest = longest.max(retry_after);
                    w.advance(retry_after);
                }
                Err(other) => {
                    assert_eq!(other.code(), "invalid_credentials");
                    break;
                }
                Ok(_) => panic!("a wrong password never signs in"),
            }
        }
    }
    assert_eq!(
        longest,
        Duration::from_secs(15 * 60),
        "the delay grows to the cap and no further"
    );
    let wait = retry_after(&w.login(VICTIM, PASSWORD, None, None).unwrap_err());
    assert!(wait <= Duration::from_secs(900));
    w.advance(wait);
    assert_eq!(
        w.login(VICTIM, PASSWORD, None, None).unwrap().code(),
        "signed_in",
        "after the window, the right password works"
    );
}

#[test]
fn an_unknown_address_is_slowed_down_exactly_like_a_real_one() {
    let w = world_with_victim();
    let run = |email: &str| -> Vec<String> {
        (0..8)
            .map(
                |n| match w.login_from(ip(n), email, "wrong guess number", None, None) {
                    Err(e) => format!("{}:{:?}", e.code(), e.retry_after()),
                    Ok(o) => o.code().to_owned(),
                },
            )
            .collect()
    };
    assert_eq!(
        run(VICTIM),
        run("nobody@acme.example"),
        "back-off does not reveal which addresses have accounts"
    );
}

#[test]
fn the_owner_on_a_known_device_signs_in_while_an_attacker_keeps_the_account_in_back_off() {
    let w = world_with_victim();
    let LoginOutcome::SignedIn(first) = w.login(VICTIM, PASSWORD, None, None).unwrap() else {
        panic!("signed in");
    };
    let device = first
        .device_token
        .expect("the first sign-in hands out a device token");

    // The attacker retries the instant each delay ends, for three hours, from many addresses.
    let mut attacker_failures = 0;
    for hour in 0..3 {
        let hour_start = attacker_failures;
        let end = super::START + time::Duration::hours(hour + 1);
        while ringside_core::Clock::now(&w.clock) < end {
            match w.login_from(
                ip(1000 + attacker_failures),
                VICTIM,
                "attacker guess!!",
                None,
                None,
            ) {
                Err(AuthError::Locked { retry_after }) => w.advance(retry_after),
                Err(_) => attacker_failures += 1,
                Ok(_) => panic!("the attacker does not know the password"),
            }
            // Mid-attack, the owner signs in from their own computer: no wait at all.
            let owner = w
                .login(VICTIM, PASSWORD, None, Some(device.expose()))
                .expect("the owner's known device is not in the attacker's bucket");
            assert_eq!(owner.code(), "signed_in");
        }
        assert!(
            attacker_failures - hour_start < 100,
            "hour {hour}: the attacker got {} guesses, under the ceiling",
            attacker_failures - hour_start
        );
    }
    assert!(
        attacker_failures < 30,
        "back-off held the attacker to {attacker_failures} guesses in three hours"
    );
    // The attacker's next guess puts the shared bucket back into its delay, and without the
    // device token the owner shares that bucket and has to wait.
    loop {
        match w.login_from(ip(5000), VICTIM, "attacker guess!!", None, None) {
            Err(AuthError::Locked { retry_after }) => w.advance(retry_after),
            Err(_) => break,
            Ok(_) => panic!("the attacker does not know the password"),
        }
    }
    assert_eq!(
        w.login(VICTIM, PASSWORD, None, None).unwrap_err().code(),
        "locked"
    );
}

#[test]
fn a_forged_or_foreign_device_token_gets_no_bucket_of_its_own() {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, VICTIM, Role::Agent);
    w.member(org, "other@acme.example", Role::Agent);
    let LoginOutcome::SignedIn(other) =
        w.login("other@acme.example", PASSWORD, None, None).unwrap()
    else {
        panic!("signed in");
    };
    let foreign = other.device_token.unwrap();
    for n in 0..6 {
        let _ = wrong_guess(&w, n);
    }
    for token in [
        foreign.expose(),
        "rsd_00000000000000000000000000000000",
        "garbage",
    ] {
        assert_eq!(
            w.login(VICTIM, "wrong guess number", None, Some(token))
                .unwrap_err()
                .code(),
            "locked",
            "another user's device, or a made-up one, is an unknown device"
        );
    }
}

#[test]
fn no_account_takes_more_than_100_counted_failures_an_hour() {
    // Without back-off (an operator who turned it off), the hourly ceiling still holds.
    let w = World::with(AuthConfig {
        lockout: LockoutPolicy {
            free_attempts: 10_000,
            ..LockoutPolicy::default()
        },
        ..test_config()
    });
    let org = w.org("Acme");
    w.member(org, VICTIM, Role::Agent);
    for n in 0..100 {
        let err = wrong_guess(&w, n).unwrap_err();
        assert_eq!(err.code(), "invalid_credentials", "attempt {n}");
        w.advance(Duration::from_secs(10));
    }
    let locked = w.login(VICTIM, PASSWORD, None, None).unwrap_err();
    let wait = retry_after(&locked);
    assert_eq!(
        wait,
        Duration::from_secs(3600 - 1000),
        "the 101st waits until the first failure is an hour old"
    );
    w.advance(wait);
    assert_eq!(
        w.login(VICTIM, PASSWORD, None, None).unwrap().code(),
        "signed_in",
        "then the account opens again"
    );
}

#[test]
fn an_admin_unlock_clears_the_back_off() {
    let w = World::new();
    let org = w.org("Acme");
    w.member(org, "owner@acme.example", Role::Owner);
    w.member(org, VICTIM, Role::Agent);
    let owner = w.sign_in("owner@acme.example");
    super::enrol(&w, &owner);
    for n in 0..12 {
        let _ = wrong_guess(&w, n);
    }
    assert_eq!(
        w.login(VICTIM, PASSWORD, None, None).unwrap_err().code(),
        "locked"
    );
    let p = w.principal(&owner);
    let victim = w
        .auth
        .list_users(&p)
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Agent)
        .unwrap();
    w.auth.unlock_user(&p, victim.id).unwrap();
    assert_eq!(
        w.login(VICTIM, PASSWORD, None, None).unwrap().code(),
        "signed_in"
    );
}

#[test]
fn one_address_gets_ten_attempts_a_minute_and_others_are_unaffected() {
    let w = World::with(AuthConfig {
        ip_limit: IpLimit {
            per_minute: NonZeroU32::new(10).unwrap(),
            burst: NonZeroU32::new(10).unwrap(),
        },
        ..test_config()
    });
    let org = w.org("Acme");
    w.member(org, VICTIM, Role::Agent);
    for n in 0..10 {
        let err = w
            .login_from(
                ip(50),
                &format!("guess{n}@acme.example"),
                "wrong guess number",
                None,
                None,
            )
            .unwrap_err();
        assert_eq!(
            err.code(),
            "invalid_credentials",
            "attempt {n} is within the burst"
        );
    }
    let limited = w
        .login_from(ip(50), VICTIM, PASSWORD, None, None)
        .unwrap_err();
    assert_eq!(limited.code(), "rate_limited");
    assert_eq!(limited.http_status(), 429);
    assert!(limited.retry_after().unwrap() <= Duration::from_secs(6));
    assert_eq!(
        w.login_from(ip(2), VICTIM, PASSWORD, None, None)
            .unwrap()
            .code(),
        "signed_in",
        "another address is not limited"
    );
    w.advance(Duration::from_secs(6));
    assert_eq!(
        w.login_from(ip(50), VICTIM, PASSWORD, None, None)
            .unwrap()
            .code(),
        "signed_in",
        "one attempt is back after six seconds"
    );
}
