//! Configuration: embedded defaults, then a TOML file, then `RINGSIDE_*` environment variables,
//! then command-line flags — read and validated ONCE at start-up into [`Config`], which the rest
//! of the relay receives as typed state (no globals).
//!
//! Every refusal names the key that caused it (`config key \`listen\`: …`), because the person
//! reading it is an operator at 3 a.m. with only the message to go on.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Deserialize;

/// The embedded defaults (also the reference for every key: `crates/relay/config.default.toml`).
pub const DEFAULTS: &str = include_str!("../config.default.toml");

/// The hard cap on keeping personal data that has not reached the AMS (docs/architecture.md#data-lifecycle).
pub const PII_HARD_CAP_DAYS: u32 = 30;

/// The environment variable prefix.
pub const ENV_PREFIX: &str = "RINGSIDE_";

/// A configuration value that was refused, with the key it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {message}")]
pub struct ConfigError {
    /// The dotted key, e.g. `tls.cert`.
    pub key: String,
    /// What is wrong with its value.
    pub message: String,
}

impl ConfigError {
    fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// Where the configuration comes from, besides the defaults and the environment.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A TOML file (`--config` / `RINGSIDE_CONFIG`); it must exist if given.
    pub file: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<String>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Output format.
    pub format: LogFormat,
    /// A `tracing` filter directive.
    pub level: String,
}

/// Paths of the TLS certificate chain and key (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// Retention settings, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Unsynced personal data is purged after this many days (≤ [`PII_HARD_CAP_DAYS`]).
    pub pii_max_days: u32,
    /// Audit-log retention.
    pub audit_days: u32,
    /// Webhook event log retention.
    pub webhook_log_days: u32,
}

/// The sync's settings (docs/lifecycle.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncConfig {
    /// How long after hang-up the sync waits for a transcript (0: not at all).
    pub transcript_grace_secs: u32,
    /// How long a call left mid-write by a stopped relay waits before the AMS is searched for
    /// its note.
    pub in_doubt_settle_secs: u32,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `RINGSIDE_*` variables that are not configuration keys and were ignored (names only:
    /// values may be secrets). The CLI warns about them once logging is up.
    pub ignored_env: Vec<String>,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The data folder.
    pub data_dir: PathBuf,
    /// Where the master key lives.
    pub master_key_source: ringside_vault::KeySource,
    /// TLS, when configured.
    pub tls: Option<TlsConfig>,
    /// Whether plain HTTP is allowed on a non-loopback address.
    pub allow_insecure_http: bool,
    /// Logging.
    pub log: LogConfig,
    /// How recent the second factor must be for the actions that ask for one (≤ 10 min).
    pub step_up_window: std::time::Duration,
    /// Extra origins allowed to open the WebSocket stream.
    pub allowed_origins: Vec<String>,
    /// The stream's heartbeat: pings this often, drops a peer silent for twice as long.
    pub heartbeat: std::time::Duration,
    /// A stream connection this many events behind its acks is a slow consumer: closed (4408).
    pub max_unacked: u32,
    /// How long a pop lives, in seconds (≤ 300, the design's 5 minutes): the caller's number is
    /// on agents' screens, and in the desktop's cache, no longer than this.
    pub pop_ttl_secs: u32,
    /// Webhooks accepted per org per minute (then 429 + Retry-After).
    pub webhooks_per_org_per_minute: u32,
    /// AMS lookup timeout.
    pub ams_timeout: std::time::Duration,
    /// Retention.
    pub retention: Retention,
    /// The sync.
    pub sync: SyncConfig,
    /// The relay's public base URL (`https://relay.example.com`), without a trailing slash:
    /// providers that sign over the URL they called (Twilio) are checked against it. `None`
    /// means the request's own scheme and `Host` header, which is wrong behind a proxy that
    /// rewrites them.
    pub public_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: String,
    data_dir: PathBuf,
    master_key_source: String,
    allow_insecure_http: bool,
    public_url: String,
    tls: RawTls,
    log: RawLog,
    auth: RawAuth,
    websocket: RawWebsocket,
    webhooks: RawWebhooks,
    ams: RawAms,
    retention: RawRetention,
    sync: RawSync,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    transcript_grace_secs: u32,
    in_doubt_settle_secs: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: PathBuf,
    key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: LogFormat,
    level: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    step_up_window_secs: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebsocket {
    allowed_origins: Vec<String>,
    heartbeat_secs: u32,
    max_unacked: u32,
    pop_ttl_secs: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhooks {
    per_org_per_minute: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAms {
    timeout_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    pii_max_days: u32,
    audit_days: u32,
    webhook_log_days: u32,
}

impl Config {
    /// Reads and validates the configuration from all layers.
    pub fn load(sources: &Sources) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(file) = &sources.file {
            if !file.is_file() {
                return Err(ConfigError::new(
                    "config",
                    format!("the configuration file {} does not exist", file.display()),
                ));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(env_provider());
        if let Some(dir) = &sources.data_dir {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        if let Some(listen) = &sources.listen {
            figment = figment.merge(Serialized::default("listen", listen));
        }
        let raw: Raw = figment.extract().map_err(from_figment)?;
        let mut config = raw.validate()?;
        config.ignored_env = ignored_env_vars();
        Ok(config)
    }

    /// Whether the relay listens on a loopback address only.
    pub fn is_loopback(&self) -> bool {
        self.listen.ip().is_loopback()
    }
}

/// `RINGSIDE_*` variables whose first segment is a configuration key (`RINGSIDE_TLS__CERT` →
/// `tls.cert`). Anything else with the prefix is not ours to parse: the config file path (read by
/// the CLI), the env key source's variable (key material: it must never reach a config error
/// message), or a variable of some other tool. Within a known section, a misspelt key is still
/// refused by name (`tls.certificate`).
fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| is_config_env_key(key.as_str()))
        .split("__")
}

/// Whether the part of a variable name after `RINGSIDE_` addresses a configuration key.
fn is_config_env_key(key: &str) -> bool {
    let top = key
        .split("__")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    top_level_keys().contains(&top)
}

/// The top-level keys of the embedded defaults: the single source of what may be configured.
fn top_level_keys() -> Vec<String> {
    DEFAULTS
        .parse::<toml::Table>()
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

/// Prefixed variables that are neither configuration keys nor ones we know to be ours.
fn ignored_env_vars() -> Vec<String> {
    const OURS: &[&str] = &[
        "CONFIG",
        "MASTER_KEY",
        "PASSWORD",
        "TOTP",
        "TEST_SYNC_PAUSE",
    ];
    std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| {
            name.strip_prefix(ENV_PREFIX)
                .is_some_and(|rest| !OURS.contains(&rest) && !is_config_env_key(rest))
        })
        .collect()
}

fn from_figment(err: figment::Error) -> ConfigError {
    let key = if err.path.is_empty() {
        "config".to_owned()
    } else {
        err.path.join(".")
    };
    ConfigError {
        key,
        message: err.kind.to_string(),
    }
}

impl Raw {
    fn validate(self) -> Result<Config, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            ConfigError::new(
                "listen",
                "expected host:port with an IP address, e.g. 127.0.0.1:8640",
            )
        })?;
        let data_dir = if self.data_dir.as_os_str().is_empty() {
            default_data_dir().ok_or_else(|| {
                ConfigError::new(
                    "data_dir",
                    "no default data folder: set it (HOME is not set)",
                )
            })?
        } else {
            self.data_dir
        };
        if data_dir.is_relative() {
            // A relative path would move with the working directory of whoever starts the relay.
            return Err(ConfigError::new("data_dir", "must be an absolute path"));
        }
        let master_key_source = parse_key_source(&self.master_key_source, &data_dir)?;
        let tls = match (
            self.tls.cert.as_os_str().is_empty(),
            self.tls.key.as_os_str().is_empty(),
        ) {
            (true, true) => None,
            (false, false) => Some(TlsConfig {
                cert: self.tls.cert,
                key: self.tls.key,
            }),
            (false, true) => {
                return Err(ConfigError::new(
                    "tls.key",
                    "tls.cert is set but tls.key is not",
                ));
            }
            (true, false) => {
                return Err(ConfigError::new(
                    "tls.cert",
                    "tls.key is set but tls.cert is not",
                ));
            }
        };
        if tls.is_none() && !listen.ip().is_loopback() && !self.allow_insecure_http {
            return Err(ConfigError::new(
                "listen",
                format!(
                    "{listen} is not a loopback address and no TLS is configured: set tls.cert and \
                     tls.key, or allow_insecure_http = true if a TLS-terminating proxy is in front"
                ),
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError::new("log.level", format!("not a valid filter: {e}")))?;
        for origin in &self.websocket.allowed_origins {
            validate_origin(origin)?;
        }
        if !(1..=300).contains(&self.websocket.heartbeat_secs) {
            return Err(ConfigError::new(
                "websocket.heartbeat_secs",
                "must be between 1 and 300",
            ));
        }
        if !(10..=600).contains(&self.auth.step_up_window_secs) {
            return Err(ConfigError::new(
                "auth.step_up_window_secs",
                "must be between 10 and 600 (a step-up never lasts past 10 minutes)",
            ));
        }
        if !(5..=300).contains(&self.websocket.pop_ttl_secs) {
            return Err(ConfigError::new(
                "websocket.pop_ttl_secs",
                "must be between 5 and 300 (pops never outlive 5 minutes)",
            ));
        }
        if !(8..=65_536).contains(&self.websocket.max_unacked) {
            return Err(ConfigError::new(
                "websocket.max_unacked",
                "must be between 8 and 65536",
            ));
        }
        if !(1..=1_000_000).contains(&self.webhooks.per_org_per_minute) {
            return Err(ConfigError::new(
                "webhooks.per_org_per_minute",
                "must be between 1 and 1000000",
            ));
        }
        let public_url = self.public_url.trim().trim_end_matches('/').to_owned();
        let public_url = if public_url.is_empty() {
            None
        } else {
            let (scheme, rest) = public_url.split_once("://").unwrap_or_default();
            if !matches!(scheme, "http" | "https")
                || rest.is_empty()
                || rest.contains(['?', '#', ' '])
            {
                return Err(ConfigError::new(
                    "public_url",
                    "must be an http(s) URL without query, e.g. https://relay.example.com",
                ));
            }
            Some(public_url)
        };
        if !(100..=30_000).contains(&self.ams.timeout_ms) {
            return Err(ConfigError::new(
                "ams.timeout_ms",
                "must be between 100 and 30000",
            ));
        }
        let r = &self.retention;
        if !(1..=PII_HARD_CAP_DAYS).contains(&r.pii_max_days) {
            return Err(ConfigError::new(
                "retention.pii_max_days",
                format!(
                    "must be between 1 and {PII_HARD_CAP_DAYS} (the hard cap on personal data)"
                ),
            ));
        }
        if !(1..=3650).contains(&r.audit_days) {
            return Err(ConfigError::new(
                "retention.audit_days",
                "must be between 1 and 3650",
            ));
        }
        if !(1..=30).contains(&r.webhook_log_days) {
            return Err(ConfigError::new(
                "retention.webhook_log_days",
                "must be between 1 and 30",
            ));
        }
        if self.sync.transcript_grace_secs > 3600 {
            return Err(ConfigError::new(
                "sync.transcript_grace_secs",
                "must be between 0 and 3600",
            ));
        }
        if self.sync.in_doubt_settle_secs > 3600 {
            return Err(ConfigError::new(
                "sync.in_doubt_settle_secs",
                "must be between 0 and 3600",
            ));
        }
        Ok(Config {
            ignored_env: Vec::new(),
            listen,
            data_dir,
            master_key_source,
            tls,
            allow_insecure_http: self.allow_insecure_http,
            log: LogConfig {
                format: self.log.format,
                level: self.log.level,
            },
            step_up_window: std::time::Duration::from_secs(u64::from(
                self.auth.step_up_window_secs,
            )),
            allowed_origins: self.websocket.allowed_origins,
            heartbeat: std::time::Duration::from_secs(u64::from(self.websocket.heartbeat_secs)),
            max_unacked: self.websocket.max_unacked,
            pop_ttl_secs: self.websocket.pop_ttl_secs,
            webhooks_per_org_per_minute: self.webhooks.per_org_per_minute,
            ams_timeout: std::time::Duration::from_millis(self.ams.timeout_ms),
            retention: Retention {
                pii_max_days: r.pii_max_days,
                audit_days: r.audit_days,
                webhook_log_days: r.webhook_log_days,
            },
            sync: SyncConfig {
                transcript_grace_secs: self.sync.transcript_grace_secs,
                in_doubt_settle_secs: self.sync.in_doubt_settle_secs,
            },
            public_url,
        })
    }
}

/// `file` alone means `master.key` inside the data folder; everything else is the vault's syntax.
fn parse_key_source(text: &str, data_dir: &Path) -> Result<ringside_vault::KeySource, ConfigError> {
    let text = if text == "file" {
        format!("file:{}", data_dir.join("master.key").display())
    } else {
        text.to_owned()
    };
    text.parse()
        .map_err(|e: ringside_vault::Error| ConfigError::new("master_key_source", e.to_string()))
}

fn validate_origin(origin: &str) -> Result<(), ConfigError> {
    let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
        && !origin.ends_with('/')
        && origin
            .split("://")
            .nth(1)
            .is_some_and(|host| !host.is_empty() && !host.contains('/'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            "websocket.allowed_origins",
            format!("`{origin}` is not an origin: expected scheme://host[:port] with no path"),
        ))
    }
}

fn default_data_dir() -> Option<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(xdg).join("ringside-relay"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share/ringside-relay"))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures must return figment::Error
mod tests {
    use figment::Jail;

    use super::*;

    fn load_err(
        jail_setup: impl FnOnce(&mut Jail) -> figment::error::Result<Sources>,
    ) -> ConfigError {
        let mut out = None;
        Jail::expect_with(|jail| {
            let sources = jail_setup(jail)?;
            out = Some(Config::load(&sources).expect_err("the configuration should be refused"));
            Ok(())
        });
        out.unwrap()
    }

    fn load_ok(jail_setup: impl FnOnce(&mut Jail) -> figment::error::Result<Sources>) -> Config {
        let mut out = None;
        Jail::expect_with(|jail| {
            let sources = jail_setup(jail)?;
            out = Some(Config::load(&sources).map_err(|e| e.to_string())?);
            Ok(())
        });
        out.unwrap()
    }

    #[test]
    fn the_embedded_defaults_are_valid_and_loopback_only() {
        let config = load_ok(|jail| {
            jail.clear_env();
            jail.set_env("HOME", "/home/agent");
            Ok(Sources::default())
        });
        assert_eq!(config.listen, "127.0.0.1:8640".parse().unwrap());
        assert!(
            config.is_loopback(),
            "the default must never expose plain HTTP to the network"
        );
        assert_eq!(
            config.data_dir,
            PathBuf::from("/home/agent/.local/share/ringside-relay")
        );
        assert!(config.tls.is_none());
        assert_eq!(config.retention.pii_max_days, PII_HARD_CAP_DAYS);
        assert_eq!(config.pop_ttl_secs, 300, "pops live the design's 5 minutes");
        assert_eq!(
            config.master_key_source.to_string(),
            "file:/home/agent/.local/share/ringside-relay/master.key",
            "the default key file sits in the data folder"
        );
    }

    #[test]
    fn layers_apply_in_order_defaults_file_env_flags() {
        let config = load_ok(|jail| {
            jail.create_file(
                "relay.toml",
                "listen = \"127.0.0.1:1111\"\ndata_dir = \"/srv/file\"\n[ams]\ntimeout_ms = 900\n",
            )?;
            jail.set_env("RINGSIDE_LISTEN", "127.0.0.1:2222");
            jail.set_env("RINGSIDE_AMS__TIMEOUT_MS", "1500");
            Ok(Sources {
                file: Some(jail.directory().join("relay.toml")),
                data_dir: Some("/srv/flag".into()),
                listen: None,
            })
        });
        assert_eq!(config.listen.port(), 2222, "env beats the file");
        assert_eq!(
            config.ams_timeout.as_millis(),
            1500,
            "nested keys use `__` in env names"
        );
        assert_eq!(
            config.data_dir,
            PathBuf::from("/srv/flag"),
            "flags beat everything"
        );
    }

    #[test]
    fn the_master_key_variable_is_never_read_as_configuration() {
        // RINGSIDE_MASTER_KEY holds key material for the env key source; if figment read it as a
        // config key, deny_unknown_fields would echo it back in an error message.
        let config = load_ok(|jail| {
            jail.set_env("RINGSIDE_MASTER_KEY", "not-a-config-key");
            jail.set_env("RINGSIDE_CONFIG", "/nowhere.toml");
            jail.set_env("RINGSIDE_DATA_DIR", "/srv/ringside");
            Ok(Sources::default())
        });
        assert_eq!(config.data_dir, PathBuf::from("/srv/ringside"));
    }

    #[test]
    fn public_url_is_optional_and_loses_its_trailing_slash() {
        let unset = load_ok(|_| Ok(Sources::default()));
        assert_eq!(
            unset.public_url, None,
            "empty by default: the request's own Host"
        );
        let set = load_ok(|jail| {
            jail.set_env("RINGSIDE_PUBLIC_URL", "https://relay.example.com/");
            Ok(Sources::default())
        });
        assert_eq!(
            set.public_url.as_deref(),
            Some("https://relay.example.com"),
            "the base URL is kept without its trailing slash"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases: &[(&str, &str, &str)] = &[
            ("RINGSIDE_LISTEN", "localhost", "listen"),
            ("RINGSIDE_LISTEN", "0.0.0.0:8640", "listen"),
            ("RINGSIDE_DATA_DIR", "relative/dir", "data_dir"),
            ("RINGSIDE_AMS__TIMEOUT_MS", "abc", "ams.timeout_ms"),
            ("RINGSIDE_AMS__TIMEOUT_MS", "5", "ams.timeout_ms"),
            (
                "RINGSIDE_RETENTION__PII_MAX_DAYS",
                "31",
                "retention.pii_max_days",
            ),
            (
                "RINGSIDE_WEBSOCKET__POP_TTL_SECS",
                "301",
                "websocket.pop_ttl_secs",
            ),
            (
                "RINGSIDE_WEBSOCKET__POP_TTL_SECS",
                "4",
                "websocket.pop_ttl_secs",
            ),
            (
                "RINGSIDE_AUTH__STEP_UP_WINDOW_SECS",
                "601",
                "auth.step_up_window_secs",
            ),
            (
                "RINGSIDE_AUTH__STEP_UP_WINDOW_SECS",
                "9",
                "auth.step_up_window_secs",
            ),
            ("RINGSIDE_LOG__FORMAT", "xml", "log.format"),
            ("RINGSIDE_LOG__LEVEL", "[[[", "log.level"),
            ("RINGSIDE_TLS__CERT", "/etc/ringside/cert.pem", "tls.key"),
            (
                "RINGSIDE_MASTER_KEY_SOURCE",
                "vault:xyz",
                "master_key_source",
            ),
            (
                "RINGSIDE_WEBSOCKET__ALLOWED_ORIGINS",
                "[\"https://x.example/path\"]",
                "websocket.allowed_origins",
            ),
            ("RINGSIDE_TLS__CERTIFICATE", "/x", "tls.certificate"),
            ("RINGSIDE_PUBLIC_URL", "relay.example.com", "public_url"),
            (
                "RINGSIDE_PUBLIC_URL",
                "https://r.example/?x=1",
                "public_url",
            ),
        ];
        for (var, value, key) in cases {
            let err = load_err(|jail| {
                jail.set_env(var, value);
                Ok(Sources::default())
            });
            assert_eq!(
                &err.key, key,
                "{var}={value} should be blamed on `{key}`, got: {err}"
            );
            assert!(
                err.to_string().starts_with(&format!("config key `{key}`")),
                "message names the key: {err}"
            );
        }
    }

    #[test]
    fn other_prefixed_variables_are_ignored_and_reported_by_name_only() {
        let config = load_ok(|jail| {
            jail.set_env("RINGSIDE_DESKTOP_BIN", "/opt/ringside/desktop");
            jail.set_env("RINGSIDE_LISTNE", "127.0.0.1:1");
            Ok(Sources::default())
        });
        assert_eq!(
            config.listen.port(),
            8640,
            "a misspelt variable does not change the config"
        );
        assert!(
            config.ignored_env.contains(&"RINGSIDE_LISTNE".to_owned()),
            "the typo is reported"
        );
        assert!(
            config.ignored_env.iter().all(|n| !n.contains('/')),
            "only names are kept"
        );
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused() {
        let err = load_err(|jail| {
            jail.create_file("relay.toml", "[tls]\ncertificate = \"/x\"\n")?;
            Ok(Sources {
                file: Some(jail.directory().join("relay.toml")),
                ..Sources::default()
            })
        });
        assert!(
            err.to_string().contains("certificate"),
            "the typo is named: {err}"
        );
    }

    #[test]
    fn a_missing_config_file_is_an_error_not_silently_skipped() {
        let err = load_err(|_| {
            Ok(Sources {
                file: Some("/does/not/exist.toml".into()),
                ..Sources::default()
            })
        });
        assert_eq!(err.key, "config");
        assert!(err.message.contains("/does/not/exist.toml"));
    }

    #[test]
    fn plain_http_off_loopback_needs_an_explicit_opt_in() {
        let config = load_ok(|jail| {
            jail.set_env("RINGSIDE_LISTEN", "0.0.0.0:8640");
            jail.set_env("RINGSIDE_ALLOW_INSECURE_HTTP", "true");
            Ok(Sources::default())
        });
        assert!(!config.is_loopback() && config.allow_insecure_http);
    }
}
