//! What connecting an org to its AMS takes: the kind, the base URL, the credentials — each
//! validated once, here, so a bad value is refused when an admin enters it rather than failing
//! on the first ringing call.
//!
//! Credentials arrive as JSON (the CLI's `--credentials-file`, the admin API's body) in one shape
//! per kind, with no unknown fields accepted (a typo'd field name would otherwise be silently
//! ignored). Secrets are wiped from memory when dropped and never printed.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::AmsError;

/// Which AMS an org uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmsKind {
    /// Applied Epic (Applied APIs, REST).
    AppliedEpic,
    /// HubSpot CRM.
    Hubspot,
    /// NowCerts / Momentum AMP.
    Nowcerts,
    /// The sandbox AMS (speaks the Applied Epic subset; for the demo and tests).
    Sandbox,
}

impl AmsKind {
    /// Every kind.
    pub const ALL: [AmsKind; 4] = [
        AmsKind::AppliedEpic,
        AmsKind::Hubspot,
        AmsKind::Nowcerts,
        AmsKind::Sandbox,
    ];

    /// The wire and CLI name: `applied-epic`, `hubspot`, `nowcerts`, `sandbox`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AppliedEpic => "applied-epic",
            Self::Hubspot => "hubspot",
            Self::Nowcerts => "nowcerts",
            Self::Sandbox => "sandbox",
        }
    }

    /// The vendor's production API, used when no base URL is given; the sandbox has none.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::AppliedEpic => Some("https://api.myappliedproducts.com"),
            Self::Hubspot => Some("https://api.hubapi.com"),
            Self::Nowcerts => Some("https://api.nowcerts.com"),
            Self::Sandbox => None,
        }
    }
}

impl fmt::Display for AmsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AmsKind {
    type Err = AmsError;

    fn from_str(s: &str) -> Result<Self, AmsError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                AmsError::config(
                    "kind",
                    "unknown AMS kind (applied-epic, hubspot, nowcerts or sandbox)",
                )
            })
    }
}

/// An AMS's base URL: `https://…`, or plain `http://` to a loopback address only (the sandbox,
/// tests). No path query or fragment; kept without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(reqwest::Url);

impl BaseUrl {
    /// Parses and checks `text`.
    ///
    /// # Errors
    /// [`AmsError::Config`] naming the problem.
    pub fn parse(text: &str) -> Result<Self, AmsError> {
        let bad = |why: &str| AmsError::config("base_url", why);
        let url = reqwest::Url::parse(text.trim()).map_err(|_| bad("not a URL"))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment allowed"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials belong in the credentials, not the URL"));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(bad("must be https (plain http only to a loopback address)")),
            _ => return Err(bad("must be https")),
        }
        let mut url = url;
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        Ok(Self(url))
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// `path` (starting with `/`) under this base.
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{path}", self.as_str())
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    url.host_str()
        .is_some_and(ringside_core::net::is_loopback_host)
}

/// A secret string: wiped when dropped, never printed.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself, for the one request that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The credentials of one connection, in the shape its kind needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// Applied Epic and the sandbox: OAuth2 client credentials.
    ClientCredentials {
        /// The app's client id.
        client_id: String,
        /// The app's client secret.
        client_secret: Secret,
        /// The token endpoint; `{base}/v1/auth/connect/token` when absent.
        token_url: Option<String>,
    },
    /// HubSpot: a private app's access token.
    Token {
        /// The token (`pat-…`).
        token: Secret,
    },
    /// NowCerts: an agency user with the API role (the password grant).
    Password {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientCredentialsFile {
    client_id: String,
    client_secret: Secret,
    #[serde(default)]
    token_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    token: Secret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordFile {
    username: String,
    password: Secret,
}

impl Credentials {
    /// Reads the JSON credentials of a `kind` connection: Applied Epic and the sandbox
    /// `{"client_id", "client_secret", "token_url"?}`, HubSpot `{"token"}`, NowCerts
    /// `{"username", "password"}`. Missing, empty or extra fields are refused.
    ///
    /// # Errors
    /// [`AmsError::Config`] naming the expected shape; never the values.
    pub fn from_json(kind: AmsKind, json: &[u8]) -> Result<Self, AmsError> {
        let shape = match kind {
            AmsKind::AppliedEpic | AmsKind::Sandbox => {
                r#"{"client_id": "…", "client_secret": "…", "token_url": "…" (optional)}"#
            }
            AmsKind::Hubspot => r#"{"token": "…"}"#,
            AmsKind::Nowcerts => r#"{"username": "…", "password": "…"}"#,
        };
        let bad = || {
            AmsError::config(
                "credentials",
                format!("{kind} credentials must be JSON {shape}"),
            )
        };
        let credentials = match kind {
            AmsKind::AppliedEpic | AmsKind::Sandbox => {
                let file: ClientCredentialsFile =
                    serde_json::from_slice(json).map_err(|_| bad())?;
                if let Some(url) = &file.token_url {
                    BaseUrl::parse(url).map_err(|_| {
                        AmsError::config(
                            "credentials",
                            "token_url must be https (plain http only to a loopback address)",
                        )
                    })?;
                }
                Self::ClientCredentials {
                    client_id: file.client_id,
                    client_secret: file.client_secret,
                    token_url: file.token_url,
                }
            }
            AmsKind::Hubspot => {
                let file: TokenFile = serde_json::from_slice(json).map_err(|_| bad())?;
                Self::Token { token: file.token }
            }
            AmsKind::Nowcerts => {
                let file: PasswordFile = serde_json::from_slice(json).map_err(|_| bad())?;
                Self::Password {
                    username: file.username,
                    password: file.password,
                }
            }
        };
        if credentials.has_empty_field() {
            return Err(bad());
        }
        Ok(credentials)
    }

    /// The credentials as the JSON [`Credentials::from_json`] reads, to be sealed at rest.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let value = match self {
            Self::ClientCredentials {
                client_id,
                client_secret,
                token_url,
            } => {
                let mut value = serde_json::json!({
                    "client_id": client_id,
                    "client_secret": client_secret.expose(),
                });
                if let Some(url) = token_url {
                    value["token_url"] = serde_json::Value::String(url.clone());
                }
                value
            }
            Self::Token { token } => serde_json::json!({"token": token.expose()}),
            Self::Password { username, password } => {
                serde_json::json!({"username": username, "password": password.expose()})
            }
        };
        Zeroizing::new(value.to_string().into_bytes())
    }

    fn has_empty_field(&self) -> bool {
        match self {
            Self::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => client_id.trim().is_empty() || client_secret.expose().is_empty(),
            Self::Token { token } => token.expose().trim().is_empty(),
            Self::Password { username, password } => {
                username.trim().is_empty() || password.expose().is_empty()
            }
        }
    }
}

/// One org's AMS connection: everything a connector needs.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The kind.
    pub kind: AmsKind,
    /// Where its API is.
    pub base_url: BaseUrl,
    /// The credentials (unsealed for this use only).
    pub credentials: Credentials,
}

impl Connection {
    /// Checks that `credentials` are the kind's shape and resolves the base URL (`base_url`, or
    /// the vendor's default).
    ///
    /// # Errors
    /// [`AmsError::Config`]: no base URL for the sandbox, a bad URL, credentials of another kind.
    pub fn new(
        kind: AmsKind,
        base_url: Option<&str>,
        credentials: Credentials,
    ) -> Result<Self, AmsError> {
        let url = base_url.or(kind.default_base_url()).ok_or_else(|| {
            AmsError::config("base_url", format!("a {kind} connection needs a base URL"))
        })?;
        let fits = matches!(
            (kind, &credentials),
            (
                AmsKind::AppliedEpic | AmsKind::Sandbox,
                Credentials::ClientCredentials { .. }
            ) | (AmsKind::Hubspot, Credentials::Token { .. })
                | (AmsKind::Nowcerts, Credentials::Password { .. })
        );
        if !fits {
            return Err(AmsError::config(
                "credentials",
                format!("these credentials are not {kind} credentials"),
            ));
        }
        Ok(Self {
            kind,
            base_url: BaseUrl::parse(url)?,
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_https_except_to_loopback() {
        assert_eq!(
            BaseUrl::parse("https://api.example.com/").unwrap().as_str(),
            "https://api.example.com"
        );
        assert!(BaseUrl::parse("http://127.0.0.1:4010").is_ok());
        assert!(BaseUrl::parse("http://localhost:9").is_ok());
        assert!(BaseUrl::parse("http://[::1]:9/x").is_ok());
        for bad in [
            "http://api.example.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "https://u:p@api.example.com",
            "https://api.example.com/?q=1",
            "not a url",
        ] {
            assert!(
                matches!(
                    BaseUrl::parse(bad),
                    Err(AmsError::Config {
                        field: "base_url",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_take_their_kinds_shape_and_nothing_else() {
        let epic = Credentials::from_json(
            AmsKind::AppliedEpic,
            br#"{"client_id":"a","client_secret":"b"}"#,
        )
        .unwrap();
        assert!(Connection::new(AmsKind::AppliedEpic, None, epic.clone()).is_ok());
        assert!(Connection::new(AmsKind::Hubspot, None, epic).is_err());
        for (kind, json) in [
            (AmsKind::AppliedEpic, r#"{"client_id":"a"}"#),
            (
                AmsKind::AppliedEpic,
                r#"{"client_id":"a","client_secret":"b","extra":1}"#,
            ),
            (
                AmsKind::AppliedEpic,
                r#"{"client_id":"","client_secret":"b"}"#,
            ),
            (
                AmsKind::AppliedEpic,
                r#"{"client_id":"a","client_secret":"b","token_url":"http://evil.example"}"#,
            ),
            (AmsKind::Hubspot, r#"{"token":"  "}"#),
            (AmsKind::Hubspot, r#"{"tokne":"pat-1"}"#),
            (AmsKind::Nowcerts, r#"{"username":"u"}"#),
            (AmsKind::Nowcerts, "not json"),
        ] {
            let err = Credentials::from_json(kind, json.as_bytes()).unwrap_err();
            assert_eq!(err.reason(), "config", "{kind} {json}");
            assert!(!err.to_string().contains("pat-1"), "no value in the error");
        }
        let token = Credentials::from_json(AmsKind::Hubspot, br#"{"token":"pat-secret"}"#).unwrap();
        assert!(
            !format!("{token:?}").contains("pat-secret"),
            "never printed"
        );
        let again = Credentials::from_json(AmsKind::Hubspot, &token.to_json()).unwrap();
        assert!(matches!(again, Credentials::Token { token } if token.expose() == "pat-secret"));
    }

    #[test]
    fn the_sandbox_needs_a_base_url_and_kinds_round_trip() {
        let creds = Credentials::from_json(
            AmsKind::Sandbox,
            br#"{"client_id":"a","client_secret":"b"}"#,
        )
        .unwrap();
        assert!(Connection::new(AmsKind::Sandbox, None, creds).is_err());
        for kind in AmsKind::ALL {
            assert_eq!(kind.as_str().parse::<AmsKind>().unwrap(), kind);
        }
        assert!("epic".parse::<AmsKind>().is_err());
    }
}
