//! The HTTP API's summarizer bodies (`/v1/admin/summarizer`): which summarizer writes the
//! summary at the top of the org's AMS notes — the built-in local one, or an OpenAI-compatible
//! endpoint the agency trusts (docs/lifecycle.md, "Summaries"). The key is write-only.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::auth::Secret;

/// `PUT /v1/admin/summarizer`: summarize this org's calls with an OpenAI-compatible
/// chat-completions endpoint (owner only, recent second factor).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SetSummarizerRequest {
    /// The base URL, `/chat/completions` excluded: `https://api.openai.com/v1`,
    /// `https://{resource}.openai.azure.com/openai/v1`, `http://localhost:11434/v1` (plain
    /// `http://` only to a loopback host).
    #[schema(example = "https://api.openai.com/v1")]
    pub base_url: String,
    /// The model (on Azure, the deployment).
    #[schema(example = "gpt-4o-mini")]
    pub model: String,
    /// How the key is sent: `bearer` (default: OpenAI, Ollama, vLLM) or `azure_api_key`.
    #[serde(default)]
    #[ts(optional)]
    pub auth: Option<String>,
    /// The API key, if the endpoint wants one. Write-only: never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    #[ts(optional, type = "string")]
    pub api_key: Option<Secret>,
}

/// `GET /v1/admin/summarizer`: the org's summarizer, without its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SummarizerSettings {
    /// `built_in` (local, extractive: nothing leaves the relay) or `openai_compatible`.
    #[schema(example = "openai_compatible")]
    pub kind: String,
    /// The endpoint's base URL (`openai_compatible`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub base_url: Option<String>,
    /// The model (`openai_compatible`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub model: Option<String>,
    /// `bearer` or `azure_api_key` (`openai_compatible`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub auth: Option<String>,
    /// Whether a key is kept (sealed).
    pub has_key: bool,
}
