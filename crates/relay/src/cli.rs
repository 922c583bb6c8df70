//! The command line (clap). Each subcommand reads the layered configuration once, then calls
//! into the library; this module only parses arguments, prints results and maps errors to exit
//! codes (2: the configuration was refused; 1: the command failed).
#![allow(clippy::print_stdout, clippy::print_stderr)] // the CLI's job is to print

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::audit::{self, ExportFormat};
use crate::commands::keys;
use crate::config::{Config, Sources};
use crate::{Error, telemetry};

/// Ringside relay: VoIP webhooks in, screen pops out, notes to your AMS, personal data purged.
///
/// Configuration is layered: embedded defaults, then the TOML file (--config or RINGSIDE_CONFIG),
/// then RINGSIDE_* environment variables (RINGSIDE_LISTEN, RINGSIDE_DATA_DIR,
/// RINGSIDE_TLS__CERT, ...), then the flags below. The README's "Configuration" table lists every key.
#[derive(Debug, Parser)]
#[command(name = "ringside-relay", version, propagate_version = true)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "RINGSIDE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data folder (database and, by default, the master key) [env: RINGSIDE_DATA_DIR].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on, host:port [env: RINGSIDE_LISTEN].
    #[arg(long, global = true, value_name = "HOST:PORT")]
    listen: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the relay until SIGTERM or SIGINT.
    Serve,
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Invite someone into an organisation: prints a one-time invitation code (72 h).
    Invite {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: ringside_core::OrgId,
        /// The invitee's email address.
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// owner, admin, agent or viewer.
        #[arg(long, value_name = "ROLE")]
        role: ringside_core::Role,
        /// Print `{"org_id", "invitation_id", "invitation", "role", "expires_at"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Connect a telephony provider to an organisation (docs/providers.md).
    Integration {
        #[command(subcommand)]
        command: IntegrationCommand,
    },
    /// Connect an organisation to its AMS, show, test or disconnect it (docs/ams.md).
    Ams {
        #[command(subcommand)]
        command: crate::commands::ams::AmsCommand,
    },
    /// Run the sandbox AMS (fictional clients, Applied Epic's API subset) until Ctrl-C.
    SandboxAms(crate::commands::sandbox::SandboxArgs),
    /// Call routing: which users a call pops for, and the fallback (docs/routing.md).
    Route {
        #[command(subcommand)]
        command: crate::commands::route::RouteCommand,
    },
    /// Manage the master key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check the configuration and print the values in force (no secrets).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Calls whose AMS note is waiting or stuck: list the dead letters, retry one
    /// (docs/lifecycle.md).
    Sync {
        #[command(subcommand)]
        command: crate::commands::sync::SyncCommand,
    },
    /// Erase every record of one client number in an organisation — calls and text messages
    /// not yet purged, synced or not (a data-subject request; docs/lifecycle.md).
    Erase {
        /// The organisation (org_…).
        #[arg(long, value_name = "ORG")]
        org: ringside_core::OrgId,
        /// The number, in any common format (+1 617 555 0100).
        #[arg(long, value_name = "NUMBER")]
        number: String,
    },
    /// Which summarizer writes an organisation's note summaries: the built-in one or an
    /// OpenAI-compatible endpoint (docs/lifecycle.md).
    Summarizer {
        #[command(subcommand)]
        command: crate::commands::summarizer::SummarizerCommand,
    },
    /// How much personal data the relay holds now, by kind (docs/lifecycle.md).
    Retention {
        #[command(subcommand)]
        command: crate::commands::sync::RetentionCommand,
    },
    /// Run the clean-up pass once and print what it removed (counts only): expired sessions and
    /// invitations, audit entries past retention (behind a signed checkpoint). `serve` runs the
    /// same pass at start-up and hourly.
    Hygiene {
        /// Run now (required: a reminder that this deletes data past its retention).
        #[arg(long, required = true)]
        now: bool,
    },
    /// Verify or export the tamper-evident audit log (docs/audit.md).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Send webhooks signed exactly as an integration's provider would (docs/providers.md).
    Simulate {
        #[command(subcommand)]
        command: crate::commands::simulate::SimulateCommand,
    },
    /// Sign in to a relay as a user and print their screen pops until Ctrl-C (docs/stream.md).
    Listen(crate::commands::listen::ListenArgs),
    /// Try Ringside on this machine: a relay on loopback over a FRESH data folder (a new one
    /// under the temp dir, or an empty --data-dir; never real data), a demo organisation with an
    /// owner and an agent invitation, and a realistic call every few seconds until Ctrl-C.
    Demo(crate::commands::demo::DemoArgs),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every entry's hash and link and every signed checkpoint, then sign the head. Exits 0
    /// with a summary, or 1 naming the first bad entry.
    Verify,
    /// Write the audit log to standard output, with each entry's seq, prev_hash and hash so it
    /// can be re-verified elsewhere. The export is itself recorded (`audit.export`).
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// Only entries from this time on (RFC 3339, e.g. 2026-01-31T00:00:00Z).
        #[arg(long, value_name = "RFC3339", value_parser = audit::parse_since)]
        since: Option<time::OffsetDateTime>,
    },
}

#[derive(Debug, Subcommand)]
enum IntegrationCommand {
    /// Create an integration and print its webhook path and secret (the only time the secret is
    /// shown; without --secret one is generated).
    Create {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: ringside_core::OrgId,
        /// dialpad, ringcentral, vonage, twilio or standard.
        #[arg(long, value_name = "PROVIDER")]
        provider: ringside_providers::ProviderKind,
        /// The secret the provider's console gave (Dialpad, RingCentral, Vonage, Twilio);
        /// generated when omitted.
        #[arg(long, value_name = "SECRET")]
        secret: Option<String>,
        /// A short label to tell integrations apart (not personal data).
        #[arg(long, value_name = "LABEL", default_value = "")]
        label: String,
        /// Print `{"integration_id", "provider", "webhook_path", "secret"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an integration: its sealed secret is deleted and its webhook URL stops working.
    Delete {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: ringside_core::OrgId,
        /// The integration's id (int_…).
        #[arg(long, value_name = "ID")]
        id: ringside_core::IntegrationId,
    },
    /// Keep a provider API key for an integration (Dialpad: its post-call AI transcripts are
    /// then fetched from its API), or delete it with --clear.
    ApiKey {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: ringside_core::OrgId,
        /// The integration's id (int_…).
        #[arg(long, value_name = "ID")]
        id: ringside_core::IntegrationId,
        /// A file holding the key (mode 0600).
        #[arg(long, value_name = "FILE", required_unless_present = "clear")]
        api_key_file: Option<std::path::PathBuf>,
        /// The API's base URL when not the provider's own (https; http only to loopback).
        #[arg(long, value_name = "URL")]
        api_base: Option<String>,
        /// Delete the key instead.
        #[arg(long, conflicts_with_all = ["api_key_file", "api_base"])]
        clear: bool,
    },
    /// List an organisation's integrations (never their secrets).
    List {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: ringside_core::OrgId,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Move to a new master-key version: every organisation's data key is re-wrapped under it in
    /// one transaction, then the old version is retired. Safe to re-run after an interruption.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration; exit 2 naming the bad key if it is refused.
    Check,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Demo(args) = &cli.command {
        // The demo makes its own fresh folder and configuration: it never reads the real ones.
        return crate::commands::demo::main(cli.data_dir.as_deref(), cli.listen.as_deref(), args);
    }
    let sources = Sources {
        file: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        listen: cli.listen.clone(),
    };
    let config = match Config::load(&sources) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("ringside-relay: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    for name in &config.ignored_env {
        tracing::warn!(variable = %name, "not a configuration key; ignored (README, Configuration)");
    }
    match dispatch(cli.command, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("ringside-relay: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn dispatch(command: Command, config: Config) -> Result<(), Error> {
    match command {
        Command::Serve => serve(config),
        // Handled in `main`, before any configuration is read: never reaches here.
        Command::Demo(_) => Ok(()),
        Command::Org {
            command:
                OrgCommand::Create {
                    name,
                    owner_email,
                    json,
                },
        } => {
            let created = crate::commands::org::create_org(&config, &name, &owner_email)?;
            print_invitation(&created.invitation, "owner", json);
            Ok(())
        }
        Command::Invite {
            org,
            email,
            role,
            json,
        } => {
            let invitation = crate::commands::org::invite(&config, org, &email, role)?;
            print_invitation(&invitation, role.as_str(), json);
            Ok(())
        }
        Command::Route { command } => crate::commands::route::run(&config, command),
        Command::Ams { command } => crate::commands::ams::run(&config, command),
        Command::SandboxAms(args) => crate::commands::sandbox::run(&args),
        Command::Integration { command } => integration(&config, command),
        Command::Listen(args) => Ok(crate::commands::listen::run(&args)?),
        Command::Simulate { command } => {
            Ok(crate::commands::simulate::run_command(&config, command)?)
        }
        Command::Sync { command } => crate::commands::sync::run(&config, command),
        Command::Retention { command } => crate::commands::sync::run_retention(&config, command),
        Command::Summarizer { command } => crate::commands::summarizer::run(&config, command),
        Command::Erase { org, number } => crate::commands::privacy::erase(&config, org, &number),
        Command::Org {
            command: OrgCommand::Terminate { org },
        } => crate::commands::privacy::terminate(&config, org),
        Command::Org {
            command: OrgCommand::Restore { org },
        } => crate::commands::privacy::restore(&config, org),
        Command::Hygiene { now: _ } => {
            println!("{}", crate::hygiene::run_now(&config)?);
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let report = keys::rotate(&config)?;
            println!("{report}");
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            println!("{}", audit::verify(&config)?);
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Export { format, since },
        } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            audit::export(&config, format, since, &mut out)?;
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            println!("configuration OK");
            println!("listen            {}", config.listen);
            println!("data_dir          {}", config.data_dir.display());
            println!("master_key_source {}", config.master_key_source);
            println!(
                "tls               {}",
                if config.tls.is_some() {
                    "on (TLS 1.3)"
                } else {
                    "off"
                }
            );
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organisation and print a one-time invitation for its first owner (72 h).
    Create {
        /// The organisation's name.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// The first owner's email address.
        #[arg(long, value_name = "EMAIL")]
        owner_email: String,
        /// Print `{"org_id", "invitation_id", "invitation", "role", "expires_at"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// End an organisation's account: read-only at once (sessions and streams end, webhooks
    /// answer 410), its keys destroyed and its data deleted 30 days later (docs/lifecycle.md).
    Terminate {
        /// The organisation (org_…).
        #[arg(long, value_name = "ORG")]
        org: ringside_core::OrgId,
    },
    /// Undo a termination within its 30 days.
    Restore {
        /// The organisation (org_…).
        #[arg(long, value_name = "ORG")]
        org: ringside_core::OrgId,
    },
}

fn integration(config: &Config, command: IntegrationCommand) -> Result<(), Error> {
    match command {
        IntegrationCommand::Create {
            org,
            provider,
            secret,
            label,
            json,
        } => {
            let created = crate::commands::org::create_integration(
                config,
                org,
                provider,
                secret.as_deref(),
                &label,
            )?;
            let path = crate::integrations::webhook_path(created.id);
            if json {
                let out = serde_json::json!({
                    "integration_id": created.id,
                    "provider": created.provider,
                    "webhook_path": path,
                    "secret": created.secret.as_str(),
                });
                println!("{out}");
            } else {
                println!("integration {} ({})", created.id, created.provider.as_str());
                println!("webhook path {path}");
                println!("secret (shown only now):");
                println!("  {}", created.secret.as_str());
            }
        }
        IntegrationCommand::Delete { org, id } => {
            crate::commands::org::delete_integration(config, org, id)?;
            println!("integration {id} revoked");
        }
        IntegrationCommand::ApiKey {
            org,
            id,
            api_key_file,
            api_base,
            clear: _,
        } => {
            let kept = crate::commands::org::set_integration_api_key(
                config,
                org,
                id,
                api_key_file.as_deref(),
                api_base.as_deref(),
            )?;
            println!(
                "integration {id}: {}",
                if kept {
                    "API key kept (sealed); transcripts are fetched from the provider's API"
                } else {
                    "API key deleted"
                }
            );
        }
        IntegrationCommand::List { org, json } => {
            let list = crate::commands::org::list_integrations(config, org)?;
            if json {
                let out: Vec<_> = list
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "integration_id": i.id,
                            "provider": i.provider,
                            "label": i.label,
                            "webhook_path": crate::integrations::webhook_path(i.id),
                            "created_at": i.created_at,
                            "disabled_at": i.disabled_at,
                            "has_api_key": i.has_api_key,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(out));
            } else {
                for i in &list {
                    let state = if i.disabled_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!("{}  {:<11}  {state:<7}  {}", i.id, i.provider, i.label);
                }
            }
        }
    }
    Ok(())
}

/// Prints an invitation code, the one time it is ever shown. The address is not printed: the
/// operator typed it, and terminal scrollback is not a place for personal data.
fn print_invitation(invitation: &ringside_identity::CreatedInvitation, role: &str, json: bool) {
    let expires = invitation
        .expires_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if json {
        let out = serde_json::json!({
            "org_id": invitation.org,
            "invitation_id": invitation.id,
            "invitation": invitation.code,
            "role": role,
            "expires_at": expires,
        });
        println!("{out}");
    } else {
        println!("organisation {}", invitation.org);
        println!("{role} invitation (single use, expires {expires}):");
        println!("  {}", invitation.code.expose());
    }
}

fn serve(config: Config) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::io("starting the async runtime"))?;
    runtime.block_on(async {
        let listener = std::net::TcpListener::bind(config.listen)
            .map_err(Error::io(format!("binding {}", config.listen)))?;
        crate::run(config, listener, shutdown_signal("relay")).await
    })
}

/// Resolves on SIGTERM (service managers, `docker stop`) or SIGINT (Ctrl-C). The handlers are
/// installed here, before the relay starts listening, not when the future is first polled: a
/// signal that arrives right after "listening on" must still shut down cleanly. `what` names the
/// process in the error logged when the handlers cannot be installed.
pub(crate) fn shutdown_signal(what: &'static str) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = handlers else {
            tracing::error!("cannot install signal handlers; stop the {what} with SIGKILL");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
    }
}
