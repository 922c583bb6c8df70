//! Errors as RFC 9457 `application/problem+json`, each with a stable machine `code` that clients
//! switch on, and a human `title`/`detail` written for the person using the API.
//!
//! Internals never leak: an unexpected failure is logged here with its cause and answered with
//! a generic 500 `internal` problem. Nothing in a problem body is personal data: identity
//! refusals carry [`AuthError`]'s own messages, which name fields and reasons, never values.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use ringside_identity::AuthError;

/// The content type of every error body.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// An error body (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Problem {
    /// A URI naming the problem type: `https://ringside.dev/problems/{code}` (documentation).
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// Short summary, the same for every occurrence of this code.
    pub(crate) title: &'static str,
    /// The HTTP status code.
    pub(crate) status: u16,
    /// Stable machine-readable code (snake_case).
    pub(crate) code: &'static str,
    /// What happened this time, for a person; never personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
    /// A finer machine reason where the code has several (`weak_password`: `too_short`,
    /// `common`, ...), for clients that explain it in their own words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<&'static str>,
}

/// An API error: a status, a stable code and an optional detail.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: Option<String>,
    reason: Option<&'static str>,
    retry_after: Option<Duration>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        Self {
            status,
            code,
            title,
            detail: None,
            reason: None,
            retry_after: None,
        }
    }

    /// Adds a human detail (never personal data).
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The generic 500: the cause has been logged by whoever calls this.
    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
        )
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found")
    }

    pub(crate) fn rate_limited(retry_after: Duration) -> Self {
        let mut err = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests",
        )
        .detail("slow down and retry after the number of seconds in Retry-After");
        err.retry_after = Some(retry_after);
        err
    }

    /// The problem for an error status that was not produced by our own code (an axum
    /// rejection — malformed JSON, wrong content type, body too large, wrong method — or a
    /// caught panic), so every error a client sees has the same shape.
    pub(crate) fn from_status(status: StatusCode) -> Self {
        let (code, title) = match status.as_u16() {
            400 => ("bad_request", "Malformed request"),
            401 => ("unauthorized", "Authentication required"),
            403 => ("forbidden", "Not allowed"),
            404 => ("not_found", "Not found"),
            405 => ("method_not_allowed", "Method not allowed"),
            413 => ("payload_too_large", "Request body too large"),
            415 => ("unsupported_media_type", "Unsupported content type"),
            422 => ("invalid_body", "The request body is not valid"),
            429 => ("rate_limited", "Too many requests"),
            s if s >= 500 => ("internal", "Internal error"),
            _ => ("bad_request", "Request refused"),
        };
        Self::new(status, code, title)
    }

    #[cfg(test)]
    pub(crate) fn code(&self) -> &'static str {
        self.code
    }
}

/// The title of an identity refusal: one per status, so one per code.
fn auth_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "Not signed in",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict",
        422 => "Invalid request",
        429 => "Too many attempts",
        _ => "Internal error",
    }
}

impl From<AuthError> for ApiError {
    /// The identity core's status, code and message; `Retry-After` for back-off and rate
    /// limits; an internal failure is logged with its cause chain and answered with a bare 500.
    fn from(err: AuthError) -> Self {
        if let AuthError::Internal(_) = &err {
            let mut causes = Vec::new();
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                causes.push(cause.to_string());
                source = cause.source();
            }
            tracing::error!(cause = %causes.join(": "), "identity operation failed");
            return Self::internal();
        }
        let status =
            StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut api = Self::new(status, err.code(), auth_title(status)).detail(err.to_string());
        api.retry_after = err.retry_after();
        if let AuthError::WeakPassword(problem) = &err {
            api.reason = Some(problem.as_str());
        }
        api
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("https://ringside.dev/problems/{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail,
            reason: self.reason,
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(after) = self.retry_after {
            // Round up: retrying a fraction of a second early would only be refused again.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §15.5.2: a 401 names the scheme that would be accepted.
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ringside\""),
            );
        }
        res
    }
}

/// Unknown paths.
pub(crate) async fn fallback() -> ApiError {
    ApiError::not_found().detail("no such route")
}

/// Rewrites error responses that are not problem+json yet (axum rejections, panics caught by
/// the panic layer) into problems. Their plain-text bodies may echo request details, so they are
/// replaced, not wrapped.
pub(crate) async fn normalize(res: Response) -> Response {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), "request failed");
        }
        return ApiError::from_status(status).into_response();
    }
    res
}

/// The error responses routes list in their OpenAPI description (`responses(..., Unauthorized)`),
/// each a [`Problem`] body. Only the document uses these types; handlers answer [`ApiError`].
pub(crate) mod responses {
    #![allow(
        dead_code,
        reason = "these types only describe responses in the OpenAPI document"
    )]

    use utoipa::IntoResponses;

    use super::Problem;

    /// `unauthenticated`, `session_expired`, `session_revoked`, `invalid_credentials`,
    /// `invalid_second_factor`: sign in (again), or refresh.
    #[derive(IntoResponses)]
    #[response(status = 401, content_type = "application/problem+json")]
    pub(crate) struct Unauthorized(Problem);

    /// `forbidden`, `mfa_enrollment_required`, `step_up_required`.
    #[derive(IntoResponses)]
    #[response(status = 403, content_type = "application/problem+json")]
    pub(crate) struct Forbidden(Problem);

    /// `not_found` (also for anything in another organisation), `invitation_invalid`.
    #[derive(IntoResponses)]
    #[response(status = 404, content_type = "application/problem+json")]
    pub(crate) struct NotFound(Problem);

    /// `email_unavailable`, `last_owner`, `no_pending_enrollment`.
    #[derive(IntoResponses)]
    #[response(status = 409, content_type = "application/problem+json")]
    pub(crate) struct Conflict(Problem);

    /// `invalid_body`, `invalid_input`, `weak_password` (with a `reason`).
    #[derive(IntoResponses)]
    #[response(status = 422, content_type = "application/problem+json")]
    pub(crate) struct Invalid(Problem);

    /// `rate_limited`, `locked`: retry after the number of seconds in `Retry-After`.
    #[derive(IntoResponses)]
    #[response(
        status = 429,
        content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait"))
    )]
    pub(crate) struct TooManyRequests(Problem);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_identity::PasswordProblem;

    async fn body_of(res: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn an_identity_refusal_keeps_its_code_status_message_and_retry_after() {
        let res = ApiError::from(AuthError::Locked {
            retry_after: Duration::from_millis(2500),
        })
        .into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            res.headers()[header::RETRY_AFTER],
            "3",
            "rounded up to whole seconds"
        );
        let body = body_of(res).await;
        assert_eq!(body["code"], "locked");
        assert!(
            body["detail"].as_str().unwrap().contains("try again"),
            "the identity core's own message: {body}"
        );
    }

    #[tokio::test]
    async fn a_weak_password_says_which_rule_and_a_401_names_the_bearer_scheme() {
        let weak = ApiError::from(AuthError::WeakPassword(PasswordProblem::Common));
        let body = body_of(weak.into_response()).await;
        assert_eq!(
            (body["code"].as_str(), body["status"].as_u64()),
            (Some("weak_password"), Some(422))
        );
        assert_eq!(body["reason"], "common", "a machine reason for the client");
        let res = ApiError::from(AuthError::SessionRevoked).into_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"ringside\"",
            "RFC 9110: a 401 names the scheme"
        );
    }

    #[tokio::test]
    async fn an_internal_failure_is_a_bare_500_that_tells_the_client_nothing() {
        let err = AuthError::from(ringside_store::Error::NotFound("user"));
        let body = body_of(ApiError::from(err).into_response()).await;
        assert_eq!(body["code"], "internal");
        assert!(
            body.get("detail").is_none(),
            "no cause reaches the client: {body}"
        );
    }
}
