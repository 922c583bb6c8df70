//! Tests of the identity repositories (users, invitations, sessions, back-off) on real SQLite
//! files: personal data sealed in the file, org isolation, single use under the rules, the last
//! owner, and "no audit, no change".

use ringside_core::wire::Actor;
use ringside_core::{DeviceId, InvitationId, OrgId, Pii, Role, SessionId, UserId};
use ringside_vault::{MasterKey, MasterKeyVersion, MasterKeyring, OrgKeyring};

use crate::test_support::store;
use crate::{
    AuditContext, AuditEntry, EmailIndex, Error, NewInvitation, NewSession, NewUser, PasswordHash,
    RefreshLookup, RevokeReason, Rotation, Store, ThrottleKey, ThrottleState, TokenHash,
    TotpConfirmation, UNKNOWN_DEVICE_BUCKET, User, UserStatus,
};

const NOW: i64 = 1_795_424_400; // 2026-11-23 09:00 UTC

pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) store: Store,
    masters: MasterKeyring,
}

pub(crate) fn fixture() -> Fixture {
    fixture_from(store())
}

/// [`fixture`] on a clock the test moves.
pub(crate) fn fixture_at(clock: ringside_core::FakeClock) -> Fixture {
    fixture_from(crate::test_support::store_at(clock))
}

fn fixture_from((dir, store): (tempfile::TempDir, Store)) -> Fixture {
    Fixture {
        dir,
        store,
        masters: MasterKeyring::single(MasterKey::generate(MasterKeyVersion::FIRST)),
    }
}

fn audit(action: &'static str) -> AuditEntry {
    AuditEntry::new(Actor::system("test"), action, "user")
}

fn index(n: u8) -> EmailIndex {
    EmailIndex([n; 32])
}

fn hash(n: u8) -> TokenHash {
    TokenHash([n; 32])
}

/// An invitation into `org` with code `hash(code)` for `email` (blind index `index(n)`).
fn invitation(
    org: OrgId,
    code: u8,
    email: &str,
    n: u8,
    role: Role,
    expires_at: i64,
) -> NewInvitation {
    NewInvitation {
        id: InvitationId::random(),
        org,
        code_hash: hash(code),
        email: Pii::new(email.to_owned()),
        email_index: index(n),
        role,
        invited_by: None,
        created_at: NOW,
        expires_at,
    }
}

/// New tokens `hash(access)` and `hash(refresh)` for a session, at `now`.
fn rotation(access: u8, refresh: u8, now: i64) -> Rotation {
    Rotation {
        access_hash: hash(access),
        access_expires_at: NOW + 1000,
        refresh_hash: hash(refresh),
        now,
    }
}

/// A new user of `org` with `email` (blind index `index(n)`) and display name `name`.
fn new_user(org: OrgId, email: &str, n: u8, name: &str, role: Role) -> NewUser {
    NewUser {
        id: UserId::random(),
        org,
        email: Pii::new(email.to_owned()),
        email_index: index(n),
        display_name: Pii::new(name.to_owned()),
        role,
        password_hash: PasswordHash::new("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA".to_owned()),
    }
}

impl Fixture {
    pub(crate) fn org(&self, name: &str) -> (OrgId, OrgKeyring) {
        let org = self
            .store
            .orgs()
            .create_org(name, &self.masters, &AuditContext::system("test"))
            .unwrap();
        let keys = self
            .store
            .orgs()
            .org_keyring(org.id, &self.masters)
            .unwrap();
        (org.id, keys)
    }

    /// Invites and accepts: a user with `role` and the given markers as personal data.
    pub(crate) fn user(
        &self,
        org: OrgId,
        keys: &OrgKeyring,
        n: u8,
        role: Role,
        email: &str,
        name: &str,
    ) -> UserId {
        self.invite(&invitation(org, n, email, n, role, NOW + 3600), keys)
            .unwrap();
        self.accept(n, NOW, &new_user(org, email, n, name, role), keys)
            .unwrap()
            .id
    }

    fn invite(&self, new: &NewInvitation, keys: &OrgKeyring) -> Result<(), Error> {
        self.store
            .invitations()
            .create_invitation(new, keys, &audit("invitation.create"))
    }

    /// Accepts the invitation with code `hash(code)` at `now`.
    fn accept(&self, code: u8, now: i64, user: &NewUser, keys: &OrgKeyring) -> Result<User, Error> {
        self.store.invitations().accept_invitation(
            &hash(code),
            now,
            user,
            keys,
            &audit("invitation.accept"),
        )
    }

    /// "Acme" with an owner (so the agent is not the last one) and an agent; returns the agent.
    fn org_with_agent(&self) -> (OrgId, OrgKeyring, UserId) {
        let (org, keys) = self.org("Acme");
        self.user(org, &keys, 1, Role::Owner, "o@acme.example", "O");
        let agent = self.user(org, &keys, 2, Role::Agent, "a@acme.example", "A");
        (org, keys, agent)
    }

    pub(crate) fn session(
        &self,
        org: OrgId,
        user: UserId,
        keys: &OrgKeyring,
        n: u8,
        device: &str,
    ) -> SessionId {
        let id = SessionId::random();
        self.store
            .sessions()
            .create_session(
                &NewSession {
                    id,
                    org,
                    user,
                    device: DeviceId::random(),
                    device_name: Pii::new(device.to_owned()),
                    access_hash: hash(n),
                    access_expires_at: NOW + 900,
                    refresh_hash: hash(n.wrapping_add(100)),
                    created_at: NOW,
                    absolute_expires_at: NOW + 43_200,
                    mfa_verified_at: None,
                },
                keys,
                &audit("auth.login"),
            )
            .unwrap();
        id
    }

    /// Asserts that no marker is readable (in any case) in the database file or its WAL.
    pub(crate) fn assert_sealed(&self, markers: &[&str]) {
        let mut bytes = std::fs::read(self.store.path()).unwrap();
        if let Ok(more) = std::fs::read(self.store.path().with_extension("db-wal")) {
            bytes.extend(more);
        }
        assert!(bytes.len() > 4096, "read the real file and its WAL");
        for marker in markers {
            assert!(
                !bytes
                    .windows(marker.len())
                    .any(|w| w.eq_ignore_ascii_case(marker.as_bytes())),
                "{marker:?} is readable in the database file"
            );
        }
    }

    pub(crate) fn audit_count(&self) -> u32 {
        self.store
            .conn()
            .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
            .unwrap()
    }
}

#[test]
fn emails_names_and_device_names_are_sealed_in_the_database_file() {
    let f = fixture();
    let (org, keys) = f.org("Acme Insurance");
    let email = "zebulon.quartermaine@marker.example";
    let name = "Zebulon Quartermaine";
    let device = "Zebulons-MacBook-Marker";
    let user = f.user(org, &keys, 1, Role::Owner, email, name);
    f.session(org, user, &keys, 2, device);
    f.store
        .users()
        .set_pending_totp(
            org,
            user,
            b"totp-secret-marker!!",
            NOW,
            &keys,
            &audit("user.mfa_enroll_start"),
        )
        .unwrap();

    let profile = f.store.users().user_profile(org, user, &keys).unwrap();
    assert_eq!(
        profile.email.expose(),
        email,
        "the repository opens what it sealed"
    );
    assert_eq!(profile.display_name.expose(), name);

    f.assert_sealed(&[
        email,
        "zebulon",
        "Quartermaine",
        device,
        "totp-secret-marker",
    ]);
}

#[test]
fn a_query_scoped_to_one_org_never_returns_another_orgs_rows() {
    let f = fixture();
    let (a, keys_a) = f.org("Agency A");
    let (b, keys_b) = f.org("Agency B");
    let alice = f.user(a, &keys_a, 1, Role::Owner, "alice@a.example", "Alice");
    let bob = f.user(b, &keys_b, 2, Role::Owner, "bob@b.example", "Bob");
    let alice_session = f.session(a, alice, &keys_a, 3, "laptop");

    assert!(
        matches!(f.store.users().user(b, alice), Err(Error::NotFound(_))),
        "org B cannot read A's user"
    );
    assert!(matches!(
        f.store.sessions().session(b, alice_session),
        Err(Error::NotFound(_))
    ));
    assert!(
        matches!(
            f.store.sessions().revoke_session(
                b,
                alice_session,
                RevokeReason::RevokedByAdmin,
                NOW,
                &audit("session.revoke")
            ),
            Err(Error::NotFound(_))
        ),
        "org B cannot end A's session"
    );
    assert!(matches!(
        f.store
            .users()
            .set_user_role(b, alice, Role::Viewer, NOW, &audit("user.role_change")),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        f.store.users().set_user_status(
            b,
            alice,
            UserStatus::Disabled,
            NOW,
            &audit("user.disable")
        ),
        Err(Error::NotFound(_))
    ));
    let users_b: Vec<UserId> = f
        .store
        .users()
        .list(b, &keys_b)
        .unwrap()
        .into_iter()
        .map(|p| p.user.id)
        .collect();
    assert_eq!(users_b, [bob], "listing org B shows only B's users");
    assert!(
        f.store
            .sessions()
            .sessions_of_user(b, alice, NOW, &keys_b)
            .unwrap()
            .is_empty()
    );
    assert!(
        f.store.users().user_profile(a, alice, &keys_b).is_err(),
        "B's keys cannot open A's data"
    );
    assert!(!f.store.users().accept_totp_step(b, alice, 5).unwrap());
    assert!(
        f.store
            .sessions()
            .revoke_user_sessions(
                b,
                alice,
                RevokeReason::RevokedByAdmin,
                NOW,
                None,
                &audit("session.revoke_all")
            )
            .unwrap()
            .is_empty()
    );
    assert!(
        f.store
            .sessions()
            .session(a, alice_session)
            .unwrap()
            .revoked_at
            .is_none(),
        "A's session is untouched"
    );
}

#[test]
fn the_last_active_owner_can_be_neither_demoted_nor_disabled() {
    let f = fixture();
    let (org, keys) = f.org("Acme");
    let owner = f.user(org, &keys, 1, Role::Owner, "o1@acme.example", "O1");
    assert!(matches!(
        f.store
            .users()
            .set_user_role(org, owner, Role::Admin, NOW, &audit("user.role_change")),
        Err(Error::LastOwner)
    ));
    assert!(matches!(
        f.store.users().set_user_status(
            org,
            owner,
            UserStatus::Disabled,
            NOW,
            &audit("user.disable")
        ),
        Err(Error::LastOwner)
    ));
    let second = f.user(org, &keys, 2, Role::Admin, "o2@acme.example", "O2");
    f.store
        .users()
        .set_user_role(org, second, Role::Owner, NOW, &audit("user.role_change"))
        .unwrap();
    f.store
        .users()
        .set_user_role(org, owner, Role::Agent, NOW, &audit("user.role_change"))
        .unwrap();
    assert_eq!(
        f.store.users().user(org, owner).unwrap().role,
        Role::Agent,
        "with another owner, demotion works"
    );
    assert!(
        matches!(
            f.store.users().set_user_status(
                org,
                second,
                UserStatus::Disabled,
                NOW,
                &audit("user.disable")
            ),
            Err(Error::LastOwner)
        ),
        "and now the other one is the last"
    );
}

#[test]
fn disabling_a_user_ends_all_their_sessions_in_the_same_transaction() {
    let f = fixture();
    let (org, keys, agent) = f.org_with_agent();
    let s1 = f.session(org, agent, &keys, 3, "desk");
    let s2 = f.session(org, agent, &keys, 4, "laptop");
    let mut ended = f
        .store
        .users()
        .set_user_status(
            org,
            agent,
            UserStatus::Disabled,
            NOW + 5,
            &audit("user.disable"),
        )
        .unwrap();
    ended.sort();
    let mut expected = vec![s1, s2];
    expected.sort();
    assert_eq!(ended, expected, "both sessions are reported ended");
    for s in [s1, s2] {
        let session = f.store.sessions().session(org, s).unwrap();
        assert_eq!(session.revoked_reason, Some(RevokeReason::UserDisabled));
        assert_eq!(session.revoked_at, Some(NOW + 5));
    }
}

#[test]
fn an_invitation_is_single_use_expires_and_cannot_target_an_existing_address() {
    let f = fixture();
    let (org, keys) = f.org("Acme");
    let user = f.user(org, &keys, 1, Role::Agent, "a@acme.example", "A");
    let reuse = f.accept(
        1,
        NOW,
        &new_user(org, "a@acme.example", 9, "again", Role::Agent),
        &keys,
    );
    assert!(
        matches!(reuse, Err(Error::NotFound("invitation"))),
        "a used code does not work twice"
    );
    assert!(
        f.store
            .invitations()
            .invitation_by_code(&hash(1))
            .unwrap()
            .unwrap()
            .accepted_at
            .is_some()
    );
    assert_eq!(
        f.store.users().user(org, user).unwrap().status,
        UserStatus::Active
    );

    let taken = f.invite(
        &invitation(org, 2, "a@acme.example", 1, Role::Agent, NOW + 10),
        &keys,
    );
    assert!(
        matches!(taken, Err(Error::Conflict(_))),
        "an address that is a user cannot be invited"
    );

    f.invite(
        &invitation(org, 3, "b@acme.example", 3, Role::Agent, NOW + 10),
        &keys,
    )
    .unwrap();
    let late = f.accept(
        3,
        NOW + 10,
        &new_user(org, "b@acme.example", 3, "B", Role::Agent),
        &keys,
    );
    assert!(
        matches!(late, Err(Error::NotFound(_))),
        "an expired code does not work"
    );
    assert!(
        f.store
            .users()
            .user_by_email_index(&index(3))
            .unwrap()
            .is_none(),
        "and no user was created"
    );
}

#[test]
fn accepting_an_invitation_is_bound_to_its_org_address_and_role() {
    let f = fixture();
    let (org, keys) = f.org("Acme");
    f.invite(
        &invitation(org, 1, "a@acme.example", 1, Role::Agent, NOW + 100),
        &keys,
    )
    .unwrap();
    let elevated = f.accept(
        1,
        NOW,
        &new_user(org, "a@acme.example", 1, "A", Role::Owner),
        &keys,
    );
    assert!(
        matches!(elevated, Err(Error::NotFound(_))),
        "the role comes from the invitation"
    );
}

#[test]
fn a_totp_step_is_accepted_once_and_only_forward() {
    let f = fixture();
    let (org, keys) = f.org("Acme");
    let user = f.user(org, &keys, 1, Role::Admin, "a@acme.example", "A");
    assert!(
        !f.store.users().accept_totp_step(org, user, 10).unwrap(),
        "no factor enrolled yet"
    );
    f.store
        .users()
        .set_pending_totp(
            org,
            user,
            &[7; 20],
            NOW,
            &keys,
            &audit("user.mfa_enroll_start"),
        )
        .unwrap();
    let pending = f
        .store
        .users()
        .pending_totp(org, user, &keys)
        .unwrap()
        .unwrap();
    assert_eq!(&pending.secret[..], &[7; 20]);
    let codes = [hash(50), hash(51)];
    f.store
        .users()
        .confirm_totp(
            org,
            user,
            &TotpConfirmation {
                step: 100,
                recovery: &codes,
                now: NOW,
            },
            &keys,
            &audit("user.mfa_enroll"),
        )
        .unwrap();
    assert_eq!(
        &f.store
            .users()
            .totp_secret(org, user, &keys)
            .unwrap()
            .unwrap()[..],
        &[7; 20],
        "the pending secret became the factor"
    );
    assert!(
        f.store
            .users()
            .pending_totp(org, user, &keys)
            .unwrap()
            .is_none()
    );
    assert!(
        !f.store.users().accept_totp_step(org, user, 100).unwrap(),
        "the confirming code cannot be replayed"
    );
    assert!(f.store.users().accept_totp_step(org, user, 101).unwrap());
    assert!(
        !f.store.users().accept_totp_step(org, user, 101).unwrap(),
        "a step works once"
    );
    assert!(
        !f.store.users().accept_totp_step(org, user, 99).unwrap(),
        "and never backwards"
    );

    assert_eq!(f.store.users().recovery_codes_left(org, user).unwrap(), 2);
    assert!(
        f.store
            .users()
            .use_recovery_code(org, user, &hash(50), NOW)
            .unwrap()
    );
    assert!(
        !f.store
            .users()
            .use_recovery_code(org, user, &hash(50), NOW)
            .unwrap(),
        "a recovery code works once"
    );
    assert!(
        !f.store
            .users()
            .use_recovery_code(org, user, &hash(52), NOW)
            .unwrap()
    );
    assert_eq!(f.store.users().recovery_codes_left(org, user).unwrap(), 1);
}

#[test]
fn a_refresh_rotates_once_and_the_old_token_is_then_retired() {
    let f = fixture();
    let (org, keys) = f.org("Acme");
    let user = f.user(org, &keys, 1, Role::Agent, "a@acme.example", "A");
    let session = f.session(org, user, &keys, 2, "desk");
    let old = hash(102);
    assert!(matches!(
        f.store.sessions().session_by_refresh_hash(&old).unwrap(),
        RefreshLookup::Current(_)
    ));
    let first = rotation(3, 4, NOW + 100);
    assert!(
        f.store
            .sessions()
            .rotate_session(org, session, &old, &first, &audit("auth.refresh"))
            .unwrap()
    );
    let again = rotation(5, 6, NOW + 101);
    assert!(
        !f.store
            .sessions()
            .rotate_session(org, session, &old, &again, &audit("auth.refresh"))
            .unwrap(),
        "the same refresh token cannot rotate twice (a racing second refresh loses)"
    );
    match f.store.sessions().session_by_refresh_hash(&old).unwrap() {
        RefreshLookup::Retired(s) => {
            assert_eq!(s.id, session, "the retired token names its family")
        }
        other => panic!("expected a retired token, got {other:?}"),
    }
    assert!(matches!(
        f.store
            .sessions()
            .session_by_refresh_hash(&hash(4))
            .unwrap(),
        RefreshLookup::Current(_)
    ));
    assert!(
        f.store
            .sessions()
            .session_by_access_hash(&hash(2))
            .unwrap()
            .is_none(),
        "the old access token is gone"
    );
    assert_eq!(
        f.store
            .sessions()
            .session_by_access_hash(&hash(3))
            .unwrap()
            .unwrap()
            .last_seen_at,
        NOW + 100
    );
    assert!(matches!(
        f.store
            .sessions()
            .session_by_refresh_hash(&hash(77))
            .unwrap(),
        RefreshLookup::Unknown
    ));
}

#[test]
fn back_off_state_accumulates_per_bucket_and_unlock_clears_it() {
    let f = fixture();
    let unknown = ThrottleKey {
        subject: index(1),
        bucket: UNKNOWN_DEVICE_BUCKET,
    };
    let known = ThrottleKey {
        subject: index(1),
        bucket: [9; 32],
    };
    for i in 0..3 {
        f.store
            .throttle()
            .record_login_failure(
                &unknown,
                NOW + i,
                NOW - 3600,
                &|prev| ThrottleState {
                    failures: prev.map_or(1, |p| p.failures + 1),
                    last_failure_at: NOW + i,
                    next_allowed_at: NOW + i + 10,
                },
                &audit("auth.login").failed(),
            )
            .unwrap();
    }
    assert_eq!(
        f.store
            .throttle()
            .throttle_state(&unknown)
            .unwrap()
            .unwrap()
            .failures,
        3
    );
    assert_eq!(
        f.store.throttle().throttle_state(&known).unwrap(),
        None,
        "another bucket is untouched"
    );
    assert_eq!(
        f.store
            .throttle()
            .failures_since(&index(1), NOW - 3600)
            .unwrap()
            .count,
        3
    );
    assert_eq!(
        f.store
            .throttle()
            .failures_since(&index(2), NOW - 3600)
            .unwrap()
            .count,
        0,
        "another account is untouched"
    );
    f.store.throttle().clear_throttle_bucket(&unknown).unwrap();
    assert_eq!(f.store.throttle().throttle_state(&unknown).unwrap(), None);
    assert_eq!(
        f.store
            .throttle()
            .failures_since(&index(1), NOW - 3600)
            .unwrap()
            .count,
        3,
        "the hourly count stays"
    );
    f.store
        .throttle()
        .clear_login_throttle(&index(1), &audit("user.unlock"))
        .unwrap();
    assert_eq!(
        f.store
            .throttle()
            .failures_since(&index(1), NOW - 3600)
            .unwrap()
            .count,
        0,
        "unlock clears everything"
    );
}

#[test]
fn no_audit_entry_means_no_change() {
    let f = fixture();
    let (org, keys, agent) = f.org_with_agent();
    let session = f.session(org, agent, &keys, 3, "desk");
    let before = f.audit_count();
    // An entry the audit log refuses (a detail that is not a code) must roll the change back.
    let refused = audit("user.disable").detail("note", "Not A Code!");
    assert!(
        f.store
            .users()
            .set_user_status(org, agent, UserStatus::Disabled, NOW, &refused)
            .is_err()
    );
    assert_eq!(
        f.store.users().user(org, agent).unwrap().status,
        UserStatus::Active,
        "the user is still active"
    );
    assert!(
        f.store
            .sessions()
            .session(org, session)
            .unwrap()
            .revoked_at
            .is_none(),
        "and the session alive"
    );
    assert_eq!(f.audit_count(), before, "nothing was written");
    f.store
        .users()
        .set_user_status(
            org,
            agent,
            UserStatus::Disabled,
            NOW,
            &audit("user.disable"),
        )
        .unwrap();
    assert_eq!(
        f.audit_count(),
        before + 1,
        "a committed change has exactly one entry"
    );
}

#[test]
fn hygiene_removes_ended_sessions_and_finished_invitations() {
    let f = fixture();
    let (org, keys) = f.org("Acme");
    let user = f.user(org, &keys, 1, Role::Owner, "o@acme.example", "O");
    let session = f.session(org, user, &keys, 2, "desk");
    f.store
        .sessions()
        .revoke_session(
            org,
            session,
            RevokeReason::Logout,
            NOW + 1,
            &audit("auth.logout"),
        )
        .unwrap();
    let kept = f.store.sessions().purge_identity(NOW, NOW, NOW).unwrap();
    assert_eq!(kept.sessions, 0, "revoked after the cut-off: kept for now");
    let purged = f
        .store
        .sessions()
        .purge_identity(NOW + 50_000, NOW, NOW + 50_000)
        .unwrap();
    assert_eq!(purged.sessions, 1);
    assert_eq!(purged.invitations, 1, "the accepted invitation is gone");
    assert!(
        f.store
            .invitations()
            .invitation_by_code(&hash(1))
            .unwrap()
            .is_none()
    );
}
