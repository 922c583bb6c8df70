//! Errors as RFC 9457 `application/problem+json`, each with a stable machine `code` that clients
//! switch on, and a human `title`/`detail` written for the person using the API.
//!
//! Internals never leak: an unexpected failure is logged here with its cause and answered with
//! a generic 500 `internal` problem. Nothing in a problem body is personal data.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

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
}

/// An API error: a status, a stable code and an optional detail.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: Option<String>,
    retry_after: Option<Duration>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        Self {
            status,
            code,
            title,
            detail: None,
            retry_after: None,
        }
    }

    /// Adds a human detail (never personal data).
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("https://ringside.dev/problems/{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail,
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
