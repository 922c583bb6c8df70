//! The HTTP API's administration bodies (`/v1/admin/...`): the team, roles, invitations, the
//! organisation's second-factor policy, the audit-log query, and provider integrations.
//!
//! Same rules as [`super::auth`]: requests refuse unknown fields, personal data and secrets are
//! [`Pii`], times are RFC 3339 UTC strings.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use super::audit::AuditRecord;
use super::auth::{Secret, UserInfo};
use crate::{IntegrationId, InvitationId, Pii, Role, UserId};

/// `GET /v1/admin/users`: everyone in the organisation.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UserList {
    /// The users, disabled ones included.
    pub users: Vec<UserInfo>,
}

/// `PUT /v1/admin/users/{id}/role`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SetRoleRequest {
    /// The new role. An admin can neither grant nor take away `owner`.
    pub role: Role,
}

/// `POST /v1/admin/invitations`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CreateInvitationRequest {
    /// Who is invited.
    #[schema(value_type = String, example = "pat@agency.example")]
    pub email: Pii<String>,
    /// The role they will have. An admin cannot invite an owner.
    pub role: Role,
}

/// A new invitation. The code is shown this once: pass it on to the invitee.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct InvitationCreated {
    /// The invitation's id (for the list and revocation).
    #[schema(value_type = String)]
    pub id: InvitationId,
    /// The secret code the invitee enters (single use).
    #[schema(value_type = String)]
    pub code: Secret,
    /// The role it grants.
    pub role: Role,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub expires_at: OffsetDateTime,
}

/// A pending invitation.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct InvitationInfo {
    /// Id.
    #[schema(value_type = String)]
    pub id: InvitationId,
    /// Who is invited.
    #[schema(value_type = String)]
    pub email: Pii<String>,
    /// The role it grants.
    pub role: Role,
    /// Who invited (`null`: the operator, on the relay's command line).
    #[schema(value_type = Option<String>)]
    pub invited_by: Option<UserId>,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub expires_at: OffsetDateTime,
}

/// `GET /v1/admin/invitations`: the invitations that can still be accepted.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct InvitationList {
    /// Pending invitations.
    pub invitations: Vec<InvitationInfo>,
}

/// `PUT /v1/admin/org/mfa-policy`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MfaPolicyRequest {
    /// Whether everyone must enrol a second factor (owners and admins always must).
    pub require_for_all: bool,
}

/// `GET /v1/admin/audit` query parameters. Every filter is optional; pages run oldest first.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, IntoParams,
)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
#[ts(export)]
pub struct AuditQuery {
    /// Only this actor: a user id (`usr_…`), `system:<component>`, an integration id
    /// (`int_…`), or `anonymous`.
    #[ts(optional)]
    pub actor: Option<String>,
    /// Only this action (`auth.login`), or every action under a prefix (`auth.*`).
    #[ts(optional)]
    pub action: Option<String>,
    /// Only this resource type (`user`, `session`, `invitation`, …).
    #[ts(optional)]
    pub resource_type: Option<String>,
    /// From this time on (RFC 3339, inclusive).
    #[ts(optional)]
    pub from: Option<String>,
    /// Before this time (RFC 3339, exclusive).
    #[ts(optional)]
    pub to: Option<String>,
    /// Continue after this entry number: the previous page's `next_after_seq`.
    #[ts(optional, type = "number")]
    pub after_seq: Option<u64>,
    /// Entries per page, 1 to 500 (default 100).
    #[ts(optional)]
    pub limit: Option<u32>,
}

/// One page of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AuditLogPage {
    /// The entries, oldest first.
    pub entries: Vec<AuditRecord>,
    /// Pass as `after_seq` for the next page; `null` when this page is the last.
    #[ts(type = "number | null")]
    pub next_after_seq: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_request_names_a_role_by_its_wire_name() {
        let request: CreateInvitationRequest =
            serde_json::from_str(r#"{"email":"pat@agency.example","role":"agent"}"#).unwrap();
        assert_eq!(request.role, Role::Agent);
        assert!(
            serde_json::from_str::<CreateInvitationRequest>(
                r#"{"email":"pat@agency.example","role":"superuser"}"#
            )
            .is_err(),
            "an unknown role is refused"
        );
    }

    #[test]
    fn an_audit_query_refuses_unknown_parameters() {
        assert!(
            serde_json::from_str::<AuditQuery>(r#"{"acter":"usr_00"}"#).is_err(),
            "a misspelt filter must not silently widen the query"
        );
        assert_eq!(
            serde_json::from_str::<AuditQuery>("{}").unwrap(),
            AuditQuery::default()
        );
    }
}

/// `POST /v1/admin/integrations`: connect a telephony provider (owner only, recent second
/// factor).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CreateIntegrationRequest {
    /// `dialpad`, `ringcentral`, `vonage`, `twilio` or `standard`.
    #[schema(example = "dialpad")]
    pub provider: String,
    /// The secret the provider's console gave; omitted: the relay generates one (Standard
    /// Webhooks: `whsec_` + base64; others: hex) and answers it this once.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    #[ts(type = "string | null")]
    pub secret: Option<Secret>,
    /// A short label to tell integrations apart (at most 64 characters; not personal data).
    #[serde(default)]
    #[schema(example = "Main line")]
    pub label: String,
}

/// A new integration. The secret is shown this once: paste it into the provider's console.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IntegrationCreated {
    /// The integration, as listed.
    pub integration: IntegrationInfo,
    /// The secret the provider signs with.
    #[schema(value_type = String)]
    pub secret: Secret,
}

/// An integration, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IntegrationInfo {
    /// Id (`int_…`, 128 random bits): the last segment of the webhook URL.
    #[schema(value_type = String)]
    pub id: IntegrationId,
    /// The provider.
    pub provider: String,
    /// The admin-given label.
    pub label: String,
    /// Where the provider posts: `/v1/hooks/{id}` under the relay's public base URL.
    pub webhook_path: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    /// When it was revoked (its secret is then deleted), if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub disabled_at: Option<OffsetDateTime>,
    /// Whether a provider API key is kept (sealed) for it: Dialpad's AI transcripts are then
    /// fetched from its API.
    #[serde(default)]
    pub has_api_key: bool,
}

/// `PUT /v1/admin/integrations/{id}/api-key`: a provider API key for an integration (Dialpad:
/// its post-call AI transcripts are fetched from its API). Write-only.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct IntegrationApiKeyRequest {
    /// The key (Dialpad: an API key of the company that can read its call transcripts).
    #[schema(value_type = String)]
    #[ts(type = "string")]
    pub api_key: crate::Pii<String>,
    /// The API's base URL when not the provider's own (`https://dialpad.com/api/v2`): a proxy.
    #[serde(default)]
    #[ts(optional)]
    pub api_base: Option<String>,
}

/// `GET /v1/admin/integrations`: the organisation's integrations, revoked ones included.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IntegrationList {
    /// Integrations, oldest first.
    pub integrations: Vec<IntegrationInfo>,
}
