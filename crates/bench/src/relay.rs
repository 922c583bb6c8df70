//! The relay under test: a fresh data folder prepared through the relay's own identity service
//! (orgs, integrations, agents with sessions, routes), then the real `ringside-relay serve` binary
//! started on it as a child process, so its memory is its own (`/proc/PID/status`).
//!
//! Why agents are made with cheap password hashing: a user's password hash is never used here
//! (nobody signs in with a password; the sessions are opened as the invitation's acceptance
//! opens them), and argon2 at OWASP cost for thousands of users would only time argon2.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ringside_core::wire::{RouteKind, RouteMatch};
use ringside_core::{Clock, OrgId, Role, SystemClock};
use ringside_identity::lockout::IpLimit;
use ringside_identity::{AuthConfig, AuthService, EmailIndexKey, HashParams};
use ringside_providers::ProviderKind;
use ringside_relay::Config;
use ringside_relay::config::Sources;
use ringside_relay::integrations::{Caller, Integrations};
use ringside_store::{AuditContext, NewRoute, OrgKeys, Store};

/// Every agent's password (never typed: see the module docs).
const PASSWORD: &str = "mauve kettle orbit 41";

/// An org to create: its name and how many agents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrgSpec {
    pub(crate) name: &'static str,
    pub(crate) agents: usize,
}

/// A signed-in agent, routed by provider user id `agent-{index}` of its org.
#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub(crate) provider_user: String,
    pub(crate) access_token: String,
}

/// A prepared org: its Standard Webhooks integration and its agents.
#[derive(Debug, Clone)]
pub(crate) struct PreparedOrg {
    pub(crate) org: OrgId,
    pub(crate) integration: String,
    pub(crate) secret: String,
    pub(crate) agents: Vec<Agent>,
}

/// A data folder ready for the relay.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) config_file: PathBuf,
    pub(crate) addr: SocketAddr,
    pub(crate) orgs: Vec<PreparedOrg>,
}

/// Writes the relay's configuration into `root` and creates `orgs` in its store.
pub(crate) fn prepare(root: &Path, per_org_per_minute: u32, orgs: &[OrgSpec]) -> Result<Prepared> {
    std::fs::create_dir_all(root)?;
    let addr = free_port()?;
    let config_file = root.join("relay.toml");
    std::fs::write(
        &config_file,
        format!(
            "listen = \"{addr}\"\ndata_dir = \"{}\"\n\n[webhooks]\nper_org_per_minute = {per_org_per_minute}\n",
            root.join("data").display()
        ),
    )?;
    let config = Config::load(&Sources {
        file: Some(config_file.clone()),
        ..Sources::default()
    })
    .map_err(|e| anyhow::anyhow!("relay config: {}: {}", e.key, e.message))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(Store::open(&config.data_dir, Arc::clone(&clock))?);
    let masters = Arc::new(config.master_key_source.load_or_create()?);
    let keys = OrgKeys::new(Arc::clone(&store), Arc::clone(&masters));
    let email_key = EmailIndexKey::load(&store, &masters)?;
    let many = NonZeroU32::new(1_000_000).context("non-zero")?;
    let auth = AuthService::with_unvalidated_config(
        Arc::clone(&store),
        keys.clone(),
        Arc::clone(&clock),
        email_key,
        AuthConfig {
            password_hash: HashParams::FAST_INSECURE_FOR_TESTS,
            ip_limit: IpLimit {
                per_minute: many,
                burst: many,
            },
            ..AuthConfig::default()
        },
    )?;
    let integrations = Integrations::new(Arc::clone(&store), keys, auth.clone(), clock);
    let ctx = AuditContext::system("bench");
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut prepared = Vec::new();
    for spec in orgs {
        let org: OrgId = store.orgs().create_org(spec.name, &masters, &ctx)?.id;
        let created =
            integrations.create(Caller::Operator(org), ProviderKind::Standard, None, "Bench")?;
        let mut agents = Vec::with_capacity(spec.agents);
        for i in 0..spec.agents {
            let email = format!("agent{i}@{}.bench.invalid", spec.name.to_lowercase());
            let invitation = auth.invite_as_operator(org, &email, Role::Agent)?;
            let tokens = auth.accept_invitation_and_sign_in(
                invitation.code.expose(),
                &format!("Agent {i}"),
                PASSWORD,
                "Bench",
                ip,
            )?;
            let provider_user = format!("agent-{i}");
            store.routing().add_route(
                org,
                &NewRoute {
                    integration: None,
                    matcher: RouteMatch::new(RouteKind::ProviderUser, &provider_user)?,
                    user: tokens.user,
                },
                &ctx,
            )?;
            agents.push(Agent {
                provider_user,
                access_token: tokens.access_token.expose().to_owned(),
            });
        }
        prepared.push(PreparedOrg {
            org,
            integration: created.id.to_string(),
            secret: created.secret.as_str().to_owned(),
            agents,
        });
    }
    Ok(Prepared {
        config_file,
        addr,
        orgs: prepared,
    })
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// `ringside-relay serve` running as a child process.
#[derive(Debug)]
pub(crate) struct RelayProcess {
    child: tokio::process::Child,
    pub(crate) addr: SocketAddr,
    pub(crate) pid: u32,
}

impl RelayProcess {
    /// Starts the relay and waits until `/readyz` answers.
    pub(crate) async fn start(bin: &Path, prepared: &Prepared) -> Result<Self> {
        let log = std::fs::File::create(prepared.config_file.with_file_name("relay.log"))?;
        let child = tokio::process::Command::new(bin)
            .arg("--config")
            .arg(&prepared.config_file)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the relay's pid")?;
        let mut relay = Self {
            child,
            addr: prepared.addr,
            pid,
        };
        let http = reqwest::Client::new();
        let url = format!("http://{}/readyz", relay.addr);
        for _ in 0..500 {
            if http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(relay);
            }
            if let Some(status) = relay.child.try_wait()? {
                bail!("the relay exited ({status}); see relay.log beside the config");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("the relay did not become ready at {url}")
    }

    /// The relay's resident memory, in KiB.
    pub(crate) fn rss_kib(&self) -> Result<u64> {
        rss_kib(self.pid)
    }

    /// Kills the relay and waits for it.
    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `VmRSS` of process `pid`, in KiB.
pub(crate) fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS in /proc/PID/status")
}
