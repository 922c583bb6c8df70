//! The HTTP API's AMS connection bodies (`/v1/admin/ams`): connecting an org to its agency
//! management system, its status, and the result of a test (docs/ams.md).
//!
//! The credentials travel one way: in, to `PUT /v1/admin/ams`. No answer ever carries them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;
use utoipa::ToSchema;

use super::auth::Secret;

/// `PUT /v1/admin/ams`: connect the organisation to its AMS, replacing any connection it had
/// (owner only, recent second factor).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ConnectAmsRequest {
    /// `applied-epic`, `hubspot`, `nowcerts` or `sandbox`.
    #[schema(example = "applied-epic")]
    pub kind: String,
    /// The AMS API's base URL: `https://…` (plain `http://` only to a loopback address).
    /// Omitted: the vendor's production API (required for the sandbox).
    #[serde(default)]
    #[ts(optional)]
    pub base_url: Option<String>,
    /// The credentials, in the kind's shape: Applied Epic and the sandbox `client_id`,
    /// `client_secret` (and optionally `token_url`); HubSpot `token`; NowCerts `username`,
    /// `password`. Fields of another kind are refused.
    pub credentials: AmsCredentials,
    /// The AMS record a call that matches no one is logged on. Omitted: such calls are skipped
    /// (nothing is written; their data is purged all the same).
    #[serde(default)]
    #[ts(optional)]
    pub catch_all_record: Option<String>,
}

/// An AMS's credentials. Write-only: never answered.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AmsCredentials {
    /// OAuth2 client id (Applied Epic, sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_id: Option<String>,
    /// OAuth2 client secret (Applied Epic, sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    #[ts(optional, type = "string")]
    pub client_secret: Option<Secret>,
    /// The OAuth2 token endpoint, when not `{base_url}/v1/auth/connect/token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub token_url: Option<String>,
    /// A private app's access token (HubSpot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    #[ts(optional, type = "string")]
    pub token: Option<Secret>,
    /// The API user's name (NowCerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    /// The API user's password (NowCerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    #[ts(optional, type = "string")]
    pub password: Option<Secret>,
}

/// `GET /v1/admin/ams`: the organisation's AMS connection, if any.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AmsStatusResponse {
    /// `null` when no AMS is connected.
    pub connection: Option<AmsStatus>,
}

/// An AMS connection, without its credentials.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AmsStatus {
    /// The kind.
    #[schema(example = "applied-epic")]
    pub kind: String,
    /// Its API's base URL.
    pub base_url: String,
    /// When it was connected.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub connected_at: OffsetDateTime,
    /// The last test, if there was one since connecting.
    pub last_test: Option<AmsTestResult>,
    /// The catch-all record for calls that match no one; `null`: they are skipped.
    pub catch_all_record: Option<String>,
}

/// `POST /v1/admin/ams/test`: what a real request to the AMS found.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AmsTestResult {
    /// Whether the AMS accepted the credentials and answered.
    pub ok: bool,
    /// When not ok, the stable reason: `credentials`, `forbidden`, `rate_limited`,
    /// `unavailable`, `timeout`, `invalid_response`, `rejected` (docs/ams.md#failures).
    pub reason: Option<String>,
    /// When the test ran.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub tested_at: OffsetDateTime,
}
