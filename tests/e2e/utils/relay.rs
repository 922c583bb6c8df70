//! A real relay for the desktop scenarios: the `ringside-relay` binary on a fresh data folder and
//! a free loopback port, an organisation made with its CLI (as an operator would), and the
//! sandbox AMS in-process for it to look callers up in.

use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{artifacts_dir, free_port, relay_binary};

/// A running relay process and its organisation. Dropping it stops the relay.
pub(crate) struct Relay {
    child: Child,
    home: PathBuf,
    port: u16,
    /// Configuration of this relay beyond the defaults (`RINGSIDE_*` variables).
    env: Vec<(String, String)>,
    /// The one-time invitation of the org's first owner.
    pub(crate) owner_invitation: String,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// The organisation's id.
    pub(crate) org: String,
    /// Its Standard Webhooks integration (calls are simulated through it).
    pub(crate) integration: String,
    _sandbox: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// The relay's CLI on this relay's data folder.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        cli(&self.home, args)
    }

    /// Starts a relay in `home` with an org, a sandbox AMS connected to it, a Standard
    /// integration and the routing fallback `all` (every agent gets every call).
    pub(crate) async fn start(home: &Path) -> Self {
        Self::start_with(home, &[]).await
    }

    /// [`Relay::start`] configured by `env` as well (e.g. a short `RINGSIDE_WEBSOCKET__POP_TTL_SECS`).
    pub(crate) async fn start_with(home: &Path, env: &[(&str, &str)]) -> Self {
        let created = json(&cli(
            home,
            &[
                "org",
                "create",
                "--name",
                "E2E Agency",
                "--owner-email",
                "owner@e2e.example",
                "--json",
            ],
        ));
        let org = created["org_id"].as_str().expect("an org id").to_owned();
        let owner_invitation = created["invitation"]
            .as_str()
            .expect("the owner's invitation")
            .to_owned();
        let integration = json(&cli(
            home,
            &[
                "integration",
                "create",
                "--org",
                &org,
                "--provider",
                "standard",
                "--json",
            ],
        ))["integration_id"]
            .as_str()
            .expect("an integration id")
            .to_owned();
        succeeded(
            &cli(home, &["route", "fallback", "--org", &org, "--all"]),
            "route fallback",
        );

        let sandbox =
            ringside_ams::sandbox::Sandbox::new(ringside_ams::sandbox::SandboxOptions::default());
        let credentials = home.join("sandbox.json");
        std::fs::write(&credentials, sandbox.credentials_json()).unwrap();
        std::fs::set_permissions(
            &credentials,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = sandbox.serve(listener, std::future::pending()).await;
        });
        let credentials = credentials.to_string_lossy().into_owned();
        succeeded(
            &cli(
                home,
                &[
                    "ams",
                    "connect",
                    "--org",
                    &org,
                    "--kind",
                    "sandbox",
                    "--base-url",
                    &base,
                    "--credentials-file",
                    &credentials,
                ],
            ),
            "ams connect",
        );

        let port = free_port();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self {
            child: serve(home, port, &env),
            home: home.to_owned(),
            port,
            env,
            owner_invitation,
            url: format!("http://127.0.0.1:{port}"),
            org,
            integration,
            _sandbox: task,
        }
    }

    /// A one-time invitation code for `email` as an agent.
    pub(crate) fn invite_agent(&self, email: &str) -> String {
        json(&self.cli(&[
            "invite", "--org", &self.org, "--email", email, "--role", "agent", "--json",
        ]))["invitation"]
            .as_str()
            .expect("an invitation code")
            .to_owned()
    }

    /// Rings a call from `from` (state `ringing`) through the org's integration.
    pub(crate) fn ring(&self, from: &str) {
        self.call(from, "ringing");
    }

    /// A call from `from` through the org's integration, in `states` (`ringing,ended`), back
    /// to back.
    pub(crate) fn call(&self, from: &str, states: &str) {
        succeeded(
            &self.cli(&[
                "simulate",
                "call",
                "--integration",
                &self.integration,
                "--from",
                from,
                "--states",
                states,
                "--gap-ms",
                "0",
                "--relay",
                &self.url,
            ]),
            "simulate call",
        );
    }

    /// How many records of `kind` the relay holds for the org now (`retention report`).
    pub(crate) fn retained(&self, kind: &str) -> u64 {
        let report = json(&self.cli(&["retention", "report", "--org", &self.org, "--json"]));
        report["kinds"]
            .as_array()
            .and_then(|kinds| kinds.iter().find(|k| k["kind"] == kind))
            .and_then(|k| k["records"].as_u64())
            .unwrap_or(0)
    }
}

impl Relay {
    /// Kills the relay (`kill -9`: no close frames), as a crash would.
    pub(crate) fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the relay again after [`Relay::crash`], on the same port and data folder, as a
    /// supervisor's restart would.
    pub(crate) fn start_again(&mut self) {
        self.child = serve(&self.home, self.port, &self.env);
    }
}

/// `ringside-relay serve` on `port`, once it listens. Its output goes to `<target>/e2e/relay.log`.
fn serve(home: &Path, port: u16, env: &[(String, String)]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(artifacts_dir().join("relay.log"))
        .unwrap();
    let child = command(home)
        .arg("serve")
        .env("RINGSIDE_LISTEN", format!("127.0.0.1:{port}"))
        .env("RINGSIDE_SYNC__TRANSCRIPT_GRACE_SECS", "0")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("the relay starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the relay did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(home: &Path) -> Command {
    let mut cmd = Command::new(relay_binary());
    cmd.env("RINGSIDE_DATA_DIR", home.join("data"))
        .env_remove("RINGSIDE_CONFIG")
        .env("RINGSIDE_LOG__LEVEL", "info");
    cmd
}

fn cli(home: &Path, args: &[&str]) -> Output {
    command(home)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the relay's CLI runs")
}

fn succeeded(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json(out: &Output) -> Value {
    succeeded(out, "the relay's CLI");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "JSON from the CLI: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
