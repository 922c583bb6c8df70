//! Extractors: who is calling, and whether they may do what the route does.
//!
//! Why extractors and not checks in handlers (style.md item 2): a route's signature *is* its
//! access rule. A handler taking [`Authorized<perm::ManageTeam>`] cannot run unless the caller
//! is signed in, under the per-user rate limit, holds `manage_team` in the permission matrix and
//! meets its second-factor rules; a handler taking [`Authenticated`] (or [`OwnSession`]) only
//! needs a live session; a handler taking [`Public`] is open to anyone, counted per address. Nothing inside a handler decides access, so a reviewer
//! reads one line per route, and the route table test (`tests/it/api/routes.rs`) checks each
//! signature against `Role::allows` for every role.
//!
//! The identity service still checks again inside its administrative methods (and scopes every
//! query to the caller's org): the extractor is the declared gate, the service the backstop.
//!
//! The service is synchronous (SQLite, argon2id), so every call goes through [`blocking`].

use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{Method, header};
use ringside_core::{Permission, SessionId};

use super::problem::ApiError;
use crate::state::AppState;
use ringside_identity::{AuthError, Principal};

/// Runs a synchronous identity or store call on the blocking pool. A task that does not finish
/// (a panic) is logged without its message — it could quote data — and answered with a 500.
pub(crate) async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(failed) => {
            tracing::error!(
                panicked = failed.is_panic(),
                "a blocking task did not finish"
            );
            Err(ApiError::internal())
        }
    }
}

/// The client's address (the TCP peer).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| Self(peer.ip()))
            .ok_or_else(|| {
                tracing::error!("the server was started without connection info");
                ApiError::internal()
            })
    }
}

/// A public route's caller, counted against its address (100 requests a minute): sign-in,
/// invitation acceptance, token refresh, the API description. Routes that check a password or a
/// code are also limited per address and per account by the identity core.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Public {
    /// From where.
    pub(crate) ip: IpAddr,
}

impl FromRequestParts<AppState> for Public {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        state.limits().per_client.check(&ip)?;
        Ok(Self { ip })
    }
}

/// The `Authorization: Bearer …` token, if the header is there and says Bearer.
fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// A caller with a live session: the access token checked out (not expired, not revoked, user
/// not disabled), and the user is within 100 requests a minute. Refusals are 401
/// (`unauthenticated`, `session_expired`, `session_revoked`), counted against the client
/// address; over the limit, 429 with `Retry-After`; a change in a terminated org, 403
/// `org_terminated`.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    /// Who, in which org, with which role and session.
    pub(crate) principal: Principal,
    /// From where (for the audit log and the sign-in limits).
    pub(crate) ip: IpAddr,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let checked = match bearer_token(parts) {
            Some(token) => {
                let auth = state.auth().clone();
                blocking(move || auth.authenticate(&token)).await
            }
            None => Err(AuthError::Unauthenticated.into()),
        };
        match checked {
            Ok(principal) => {
                state.limits().per_user.check(&principal.user)?;
                if principal.org_terminated && !allowed_when_terminated(parts) {
                    return Err(AuthError::OrgTerminated.into());
                }
                Ok(Self {
                    principal: principal.from_ip(ip),
                    ip,
                })
            }
            Err(refused) => {
                // Unidentified traffic is throttled per address, like a public route.
                state.limits().per_client.check(&ip)?;
                Err(refused)
            }
        }
    }
}

/// What a user of a terminated (read-only) org may still do: read, sign out, step up, and end
/// their own sessions. Every other change is 403 `org_terminated` (docs/lifecycle.md).
fn allowed_when_terminated(parts: &Parts) -> bool {
    let path = parts.uri.path();
    parts.method == Method::GET
        || parts.method == Method::HEAD
        || path == "/v1/auth/logout"
        || path == "/v1/me/step-up"
        || path.starts_with("/v1/me/sessions")
}

/// What a route needs, named by a zero-sized marker type in [`perm`].
pub(crate) trait RoutePermission: Send + Sync + 'static {
    /// The permission of the matrix (`ringside_core::role::MATRIX`).
    const PERMISSION: Permission;
}

/// Marker types, one per permission a route uses; each is named after its [`Permission`].
pub(crate) mod perm {
    use super::{Permission, RoutePermission};

    macro_rules! markers {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("Needs [`Permission::", stringify!($name), "`].")]
            #[derive(Debug)]
            pub(crate) struct $name;

            impl RoutePermission for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }

    markers!(
        ManageCredentials,
        ManageRouting,
        ManageSettings,
        ManageTeam,
        ReceivePops,
        TerminateOrg,
        ViewLeaderboard,
        ViewOwnCalls,
        WriteNotes,
        ViewAllCalls,
        ViewAuditLog
    );
}

/// A caller who may use `P`'s permission: [`Authenticated`], then
/// [`AuthService::authorize`](ringside_identity::AuthService::authorize) — the role holds it, a
/// second factor is enrolled where the role or org requires one, and a recent second factor
/// (step-up) where the matrix requires one. `GET` routes only read, so they are checked with
/// `authorize_read`, which waives the step-up that guards changes. Refusals are 403 with the
/// reason as the code (`forbidden`, `mfa_enrollment_required`, `step_up_required`).
#[derive(Debug)]
pub(crate) struct Authorized<P> {
    /// The caller.
    pub(crate) principal: Principal,
    /// From where.
    pub(crate) ip: IpAddr,
    permission: PhantomData<fn() -> P>,
}

impl<P: RoutePermission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authenticated { principal, ip } =
            Authenticated::from_request_parts(parts, state).await?;
        let read_only = parts.method == Method::GET || parts.method == Method::HEAD;
        let auth = state.auth().clone();
        let principal = blocking(move || {
            if read_only {
                auth.authorize_read(&principal, P::PERMISSION)
            } else {
                auth.authorize(&principal, P::PERMISSION)
            }
            .map(|()| principal)
        })
        .await?;
        Ok(Self {
            principal,
            ip,
            permission: PhantomData,
        })
    }
}

/// One of the caller's own sessions, named in the path (`/v1/me/sessions/{id}`): any other id —
/// a colleague's session, another org's, a made-up one — is 404, the same answer for all.
#[derive(Debug)]
pub(crate) struct OwnSession {
    /// The caller.
    pub(crate) caller: Authenticated,
    /// Their session named in the path.
    pub(crate) session: SessionId,
}

impl FromRequestParts<AppState> for OwnSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Authenticated::from_request_parts(parts, state).await?;
        let Path(session) = Path::<SessionId>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found().detail("no such session"))?;
        let store = std::sync::Arc::clone(state.store());
        let (org, user) = (caller.principal.org, caller.principal.user);
        let owner = blocking(move || match store.sessions().session(org, session) {
            Ok(found) => Ok(Some(found.user)),
            Err(ringside_store::Error::NotFound(_)) => Ok(None),
            Err(other) => Err(AuthError::from(other)),
        })
        .await?;
        if owner != Some(user) {
            return Err(ApiError::not_found().detail("no such session"));
        }
        Ok(Self { caller, session })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_with(authorization: Option<&str>) -> Parts {
        let mut request = axum::http::Request::builder().uri("/v1/me");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn a_bearer_token_is_read_from_the_authorization_header_in_any_case_of_the_scheme() {
        for header in ["Bearer rsa_00", "bearer rsa_00", "BEARER  rsa_00 "] {
            assert_eq!(
                bearer_token(&parts_with(Some(header))).as_deref(),
                Some("rsa_00"),
                "{header:?}"
            );
        }
        for header in [None, Some("Basic cnNhXzAw"), Some("rsa_00"), Some("Bearer")] {
            assert_eq!(
                bearer_token(&parts_with(header)),
                None,
                "{header:?} carries no bearer token"
            );
        }
    }

    #[test]
    fn each_marker_names_its_own_permission() {
        assert_eq!(perm::ManageTeam::PERMISSION, Permission::ManageTeam);
        assert_eq!(perm::ViewAuditLog::PERMISSION, Permission::ViewAuditLog);
    }
}
