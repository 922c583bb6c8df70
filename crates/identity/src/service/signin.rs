//! Getting and proving a session: password sign-in (identical answers and cost for every
//! failure, back-off before the password is checked), the second-factor challenge, refresh-token
//! rotation with reuse detection, and authenticating an access token on every request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::MutexGuard;

use ringside_core::wire::Actor;
use ringside_core::{DeviceId, OrgId, Pii, SessionId, UserId};
use ringside_store::{
    NewSession, RefreshLookup, RevokeReason, Rotation, Session, ThrottleKey, TokenHash,
    UNKNOWN_DEVICE_BUCKET, User, UserStatus,
};

use super::{
    AuthService, LoginOutcome, LoginRequest, Principal, Tokens, at, entry, lock, secs, store_err,
};
use crate::AuthError;
use crate::email::normalize_email;
use crate::tokens::{SecretToken, TokenKind, hash_presented};

/// A sign-in waiting for its second factor: who, and what the password step established.
pub(super) struct Challenge {
    user: UserId,
    org: OrgId,
    key: ThrottleKey,
    device: Option<(DeviceId, TokenHash)>,
    device_name: Pii<String>,
    expires_at: i64,
    attempts: u32,
}

/// A new access and refresh token for a session, with their deadlines (unix seconds).
struct TokenPair {
    access: SecretToken,
    refresh: SecretToken,
    access_expires_at: i64,
    refresh_expires_at: i64,
    session_expires_at: i64,
}

impl AuthService {
    /// Signs in with email and password (and a second-factor code when the account has one).
    ///
    /// An unknown address, a wrong password and a disabled account all answer
    /// [`AuthError::InvalidCredentials`] after the same argon2id work. Attempts are refused
    /// with [`AuthError::Locked`] during back-off (without checking the password) and with
    /// [`AuthError::RateLimited`] over the per-IP limit.
    pub fn login(&self, req: &LoginRequest<'_>) -> Result<LoginOutcome, AuthError> {
        self.check_ip(req.ip)?;
        let now = self.now();
        let Ok(email) = normalize_email(req.email) else {
            // No account can have a malformed address: same answer, same cost, nothing to count.
            self.0.hasher.verify_dummy(req.password);
            return Err(AuthError::InvalidCredentials);
        };
        let subject = self.0.email_key.index(&email);
        let user = self.store().users().user_by_email_index(&subject)?;
        let device = match (
            &user,
            req.device
                .token
                .and_then(|t| hash_presented(TokenKind::Device, t)),
        ) {
            (Some(u), Some(hash)) => self
                .store()
                .sessions()
                .known_device(u.org, u.id, &hash)?
                .map(|id| (id, hash)),
            _ => None,
        };
        let key = ThrottleKey {
            subject,
            bucket: device.map_or(UNKNOWN_DEVICE_BUCKET, |(_, h)| h.0),
        };
        let attempt = self.audit_for(user.as_ref(), "auth.login", req.ip);
        self.check_throttle(&key, now, &attempt)?;

        let password_ok = match &user {
            Some(u) => self.0.hasher.verify(&u.password_hash, req.password),
            None => self.0.hasher.verify_dummy(req.password),
        };
        let user = match user {
            Some(u) if password_ok && u.status == UserStatus::Active => u,
            _ => {
                self.record_failure(&key, now, attempt.failed().detail("reason", "credentials"))?;
                return Err(AuthError::InvalidCredentials);
            }
        };
        if self.0.hasher.needs_rehash(&user.password_hash) {
            let fresh = self.0.hasher.hash(req.password)?;
            let audit = entry(
                Some(user.org),
                Actor::system("auth"),
                "user.password_rehash",
                "user",
                user.id,
            );
            self.store()
                .users()
                .set_password_hash(user.org, user.id, &fresh, now, &audit)?;
        }

        let mut mfa_verified = false;
        if user.mfa_enrolled_at.is_some() {
            match req.second_factor {
                Some(code) => {
                    if !self.verify_factor(&user, code, now, req.ip)? {
                        let audit = self
                            .audit_for(Some(&user), "auth.second_factor", req.ip)
                            .failed();
                        self.record_failure(&key, now, audit)?;
                        return Err(AuthError::InvalidSecondFactor);
                    }
                    mfa_verified = true;
                }
                None => return Ok(self.new_challenge(&user, key, device, req.device.name, now)),
            }
        }
        self.store().throttle().clear_throttle_bucket(&key)?;
        let tokens =
            self.open_session(&user, device, req.device.name, mfa_verified, now, req.ip)?;
        Ok(LoginOutcome::SignedIn(Box::new(tokens)))
    }

    /// Completes a sign-in that answered [`LoginOutcome::NeedsSecondFactor`] with a TOTP code or
    /// a recovery code. A wrong code counts as a failed sign-in (same back-off); after
    /// `challenge_attempts` wrong codes, or once expired, the challenge is void
    /// ([`AuthError::Unauthenticated`]: sign in again).
    pub fn verify_second_factor(
        &self,
        challenge: &str,
        code: &str,
        ip: IpAddr,
    ) -> Result<Tokens, AuthError> {
        self.check_ip(ip)?;
        let now = self.now();
        let hash =
            hash_presented(TokenKind::Challenge, challenge).ok_or(AuthError::Unauthenticated)?;
        let (user_id, org, key, device, device_name) = {
            let mut challenges = self.live_challenges(now);
            let c = challenges
                .get_mut(&hash)
                .ok_or(AuthError::Unauthenticated)?;
            c.attempts += 1;
            (c.user, c.org, c.key, c.device, c.device_name.clone())
        };
        let user = self.store().users().user(org, user_id).map_err(store_err)?;
        let attempt = self.audit_for(Some(&user), "auth.second_factor", ip);
        self.check_throttle(&key, now, &attempt)?;
        if user.status != UserStatus::Active {
            lock(&self.0.challenges).remove(&hash);
            return Err(AuthError::InvalidCredentials);
        }
        if !self.verify_factor(&user, code, now, ip)? {
            self.record_failure(&key, now, attempt.failed())?;
            let mut challenges = lock(&self.0.challenges);
            if challenges
                .get(&hash)
                .is_some_and(|c| c.attempts >= self.0.config.challenge_attempts)
            {
                challenges.remove(&hash);
            }
            return Err(AuthError::InvalidSecondFactor);
        }
        lock(&self.0.challenges).remove(&hash);
        self.store().throttle().clear_throttle_bucket(&key)?;
        self.open_session(&user, device, device_name.expose(), true, now, ip)
    }

    fn new_challenge(
        &self,
        user: &User,
        key: ThrottleKey,
        device: Option<(DeviceId, TokenHash)>,
        device_name: &str,
        now: i64,
    ) -> LoginOutcome {
        let token = SecretToken::generate(TokenKind::Challenge);
        let expires_at = now + secs(self.0.config.challenge_ttl);
        self.live_challenges(now).insert(
            token.hash(),
            Challenge {
                user: user.id,
                org: user.org,
                key,
                device,
                device_name: Pii::new(device_name.to_owned()),
                expires_at,
                attempts: 0,
            },
        );
        LoginOutcome::NeedsSecondFactor {
            challenge: token,
            expires_at: at(expires_at),
        }
    }

    /// The pending challenges, the expired ones dropped.
    pub(super) fn live_challenges(
        &self,
        now: i64,
    ) -> MutexGuard<'_, HashMap<TokenHash, Challenge>> {
        let mut challenges = lock(&self.0.challenges);
        challenges.retain(|_, c| c.expires_at > now);
        challenges
    }

    pub(super) fn open_session(
        &self,
        user: &User,
        device: Option<(DeviceId, TokenHash)>,
        device_name: &str,
        mfa_verified: bool,
        now: i64,
        ip: IpAddr,
    ) -> Result<Tokens, AuthError> {
        let name: String = device_name
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let (device_id, device_token) = match device {
            Some((id, hash)) => {
                self.store()
                    .sessions()
                    .remember_device(user.org, user.id, id, &hash, now)?;
                (id, None)
            }
            None => {
                let token = SecretToken::generate(TokenKind::Device);
                let id = DeviceId::random();
                self.store().sessions().remember_device(
                    user.org,
                    user.id,
                    id,
                    &token.hash(),
                    now,
                )?;
                (id, Some(token))
            }
        };
        let id = SessionId::random();
        let pair = self.token_pair(now, now + secs(self.0.config.absolute_timeout));
        let keys = self.keys(user.org)?;
        let audit = self
            .audit_for(Some(user), "auth.login", ip)
            .detail("session", id)
            .flag("second_factor", mfa_verified);
        self.store()
            .sessions()
            .create_session(
                &NewSession {
                    id,
                    org: user.org,
                    user: user.id,
                    device: device_id,
                    device_name: Pii::new(name),
                    access_hash: pair.access.hash(),
                    access_expires_at: pair.access_expires_at,
                    refresh_hash: pair.refresh.hash(),
                    created_at: now,
                    absolute_expires_at: pair.session_expires_at,
                    mfa_verified_at: mfa_verified.then_some(now),
                },
                &keys,
                &audit,
            )
            .map_err(store_err)?;
        self.tokens(user, id, pair, device_token)
    }

    /// New tokens at `now` for a session that ends at `session_end`: no deadline passes it.
    fn token_pair(&self, now: i64, session_end: i64) -> TokenPair {
        let c = &self.0.config;
        TokenPair {
            access: SecretToken::generate(TokenKind::Access),
            refresh: SecretToken::generate(TokenKind::Refresh),
            access_expires_at: (now + secs(c.access_ttl)).min(session_end),
            refresh_expires_at: (now + secs(c.idle_timeout)).min(session_end),
            session_expires_at: session_end,
        }
    }

    /// What the client gets for `session` once `pair` is stored.
    fn tokens(
        &self,
        user: &User,
        session: SessionId,
        pair: TokenPair,
        device_token: Option<SecretToken>,
    ) -> Result<Tokens, AuthError> {
        Ok(Tokens {
            session,
            user: user.id,
            org: user.org,
            role: user.role,
            access_token: pair.access,
            access_expires_at: at(pair.access_expires_at),
            refresh_token: pair.refresh,
            refresh_expires_at: at(pair.refresh_expires_at),
            session_expires_at: at(pair.session_expires_at),
            device_token,
            mfa_enrolled: user.mfa_enrolled_at.is_some(),
            mfa_required_for: self.mfa_scope(user)?,
        })
    }

    /// Exchanges a refresh token for a new pair; the old refresh token is void from now on.
    /// Presenting a refresh token that was already used revokes the whole session (family):
    /// one of the two holders is not its owner.
    pub fn refresh(&self, refresh_token: &str, ip: IpAddr) -> Result<Tokens, AuthError> {
        let now = self.now();
        let hash =
            hash_presented(TokenKind::Refresh, refresh_token).ok_or(AuthError::Unauthenticated)?;
        let session = match self.store().sessions().session_by_refresh_hash(&hash)? {
            RefreshLookup::Unknown => return Err(AuthError::Unauthenticated),
            RefreshLookup::Retired(session) => {
                self.revoke_family_for_reuse(&session, now, ip)?;
                return Err(AuthError::SessionRevoked);
            }
            RefreshLookup::Current(session) => session,
        };
        self.check_live(&session, now)?;
        let user = self.session_user(&session)?;
        let pair = self.token_pair(now, session.absolute_expires_at);
        let audit = entry(
            Some(session.org),
            Actor::user(session.user),
            "auth.refresh",
            "session",
            session.id,
        )
        .from_ip(Some(ip));
        let rotated = self.store().sessions().rotate_session(
            session.org,
            session.id,
            &hash,
            &Rotation {
                access_hash: pair.access.hash(),
                access_expires_at: pair.access_expires_at,
                refresh_hash: pair.refresh.hash(),
                now,
            },
            &audit,
        )?;
        if !rotated {
            // Another refresh with this same token won the race: it is now a retired token.
            self.revoke_family_for_reuse(&session, now, ip)?;
            return Err(AuthError::SessionRevoked);
        }
        self.tokens(&user, session.id, pair, None)
    }

    fn revoke_family_for_reuse(
        &self,
        session: &Session,
        now: i64,
        ip: IpAddr,
    ) -> Result<(), AuthError> {
        if session.revoked_at.is_some() {
            return Ok(());
        }
        let audit = entry(
            Some(session.org),
            Actor::anonymous(),
            "session.revoke",
            "session",
            session.id,
        )
        .from_ip(Some(ip))
        .detail("reason", RevokeReason::RefreshReuse.as_str())
        .detail("user", session.user);
        if self.end_session(
            session.org,
            session.id,
            RevokeReason::RefreshReuse,
            now,
            &audit,
        )? {
            tracing::warn!(session = %session.id, user = %session.user, "refresh token reused: session revoked");
        }
        Ok(())
    }

    /// The session's user, who must still be active (disabling a user ends their sessions).
    fn session_user(&self, session: &Session) -> Result<User, AuthError> {
        let user = self
            .store()
            .users()
            .user(session.org, session.user)
            .map_err(store_err)?;
        if user.status != UserStatus::Active {
            return Err(AuthError::SessionRevoked);
        }
        Ok(user)
    }

    fn check_live(&self, session: &Session, now: i64) -> Result<(), AuthError> {
        if session.revoked_at.is_some() {
            return Err(AuthError::SessionRevoked);
        }
        if now >= session.absolute_expires_at
            || now - session.last_seen_at >= secs(self.0.config.idle_timeout)
        {
            return Err(AuthError::SessionExpired);
        }
        Ok(())
    }

    /// The caller behind an access token. Refused once the access token, the idle timeout or the
    /// absolute lifetime has run out ([`AuthError::SessionExpired`]), or the session was ended
    /// or the user disabled ([`AuthError::SessionRevoked`]). The role is read now, so role
    /// changes apply to the very next request.
    pub fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        let now = self.now();
        let hash =
            hash_presented(TokenKind::Access, access_token).ok_or(AuthError::Unauthenticated)?;
        let session = self
            .store()
            .sessions()
            .session_by_access_hash(&hash)?
            .ok_or(AuthError::Unauthenticated)?;
        self.check_live(&session, now)?;
        if now >= session.access_expires_at {
            return Err(AuthError::SessionExpired);
        }
        let user = self.session_user(&session)?;
        if now - session.last_seen_at >= secs(self.0.config.touch_interval) {
            self.store().sessions().touch_session(session.id, now)?;
        }
        Ok(Principal {
            user: user.id,
            org: user.org,
            role: user.role,
            session: session.id,
            device: session.device,
            mfa_verified_at: session.mfa_verified_at.map(at),
            mfa_enrolled: user.mfa_enrolled_at.is_some(),
            mfa_required_for: self.mfa_scope(&user)?,
            org_terminated: self.store().orgs().org(user.org)?.terminated_at.is_some(),
            source_ip: None,
        })
    }
}
