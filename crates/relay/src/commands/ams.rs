//! `ringside-relay ams connect|status|test|disconnect` (docs/ams.md): the operator's twin of
//! `/v1/admin/ams`, through the same service (`crate::ams::AmsConnections`), with the same checks
//! and audit entries (the actor is `system:cli`).
//!
//! Bad input — an unknown kind, a non-https URL off loopback, a credentials file with missing or
//! extra fields, a file others can read — is refused before anything is stored, with a message
//! naming the problem, and exits 2 (as a bad flag does).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use ringside_core::{OrgId, SystemClock};
use ringside_store::AmsConnection;
use zeroize::Zeroizing;

use crate::caller::Caller;
use crate::open::DataFolder;
use crate::{Config, Error};

/// The largest credentials file read.
const MAX_CREDENTIALS_BYTES: u64 = 16 * 1024;

/// `ringside-relay ams …`: one organisation's AMS connection.
#[derive(Debug, Subcommand)]
pub enum AmsCommand {
    /// Connect an organisation to its AMS (replacing any connection it had). The credentials
    /// are read from a JSON file only its owner can read, checked, and sealed.
    Connect {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// applied-epic, hubspot, nowcerts or sandbox.
        #[arg(long, value_name = "KIND")]
        kind: String,
        /// The AMS API's base URL (https; http only to loopback) [default: the vendor's API].
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// JSON credentials: Applied Epic and sandbox `{"client_id", "client_secret",
        /// "token_url"?}`, HubSpot `{"token"}`, NowCerts `{"username", "password"}`; mode 0600.
        #[arg(long, value_name = "FILE")]
        credentials_file: PathBuf,
        /// Log calls that match no AMS record on this record (its AMS id) [default: skip
        /// them: nothing is written, their data is purged all the same].
        #[arg(long, value_name = "RECORD")]
        catch_all: Option<String>,
        /// Print the connection as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an organisation's AMS connection (never its credentials).
    Status {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// Print it as JSON (`null` when none).
        #[arg(long)]
        json: bool,
    },
    /// Send the AMS one real, harmless request with the stored credentials; exit 1 when it
    /// fails, naming why.
    Test {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
    },
    /// Disconnect an organisation's AMS: its credentials are deleted at once.
    Disconnect {
        /// The organisation's id (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
    },
}

/// Runs an `ams` subcommand.
///
/// # Errors
/// [`Error::Usage`] for bad input (exit 2), the store's and the AMS's errors otherwise.
#[allow(clippy::print_stdout)] // the CLI's job is to print
pub fn run(config: &Config, command: AmsCommand) -> Result<(), Error> {
    match command {
        AmsCommand::Connect {
            org,
            kind,
            base_url,
            credentials_file,
            catch_all,
            json,
        } => {
            let catch_all = crate::ams::catch_all_record(catch_all.as_deref())
                .map_err(|e| Error::Usage(e.to_string()))?;
            let credentials = read_credentials(&credentials_file)?;
            let connection = crate::ams::connection(&kind, base_url.as_deref(), &credentials)
                .map_err(|e| Error::Usage(e.to_string()))?;
            let connected = open(config)?.connect(Caller::Operator(org), &connection, catch_all)?;
            print(Some(&connected), json);
        }
        AmsCommand::Status { org, json } => {
            let found = open(config)?.status(Caller::Operator(org))?;
            print(found.as_ref(), json);
        }
        AmsCommand::Test { org } => {
            let connections = open(config)?;
            let connector = connections.tester(Caller::Operator(org))?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Error::io("starting the async runtime"))?;
            let result = runtime.block_on(connections.check(connector.as_ref()));
            drop(connector);
            let tested = connections.record_test(Caller::Operator(org), result)?;
            match tested.result {
                Ok(()) => println!("AMS test: ok"),
                Err(err) => return Err(Error::Ams(err)),
            }
        }
        AmsCommand::Disconnect { org } => {
            open(config)?.disconnect(Caller::Operator(org))?;
            println!("AMS disconnected; its credentials are deleted");
        }
    }
    Ok(())
}

fn open(config: &Config) -> Result<crate::ams::AmsConnections, Error> {
    DataFolder::open(config, Arc::new(SystemClock))?.ams_connections(config.ams_timeout)
}

/// The file's bytes, when only its owner can read it and it is small.
pub(crate) fn read_credentials(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| Error::Usage(format!("credentials file {shown}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::Usage(format!("credentials file {shown}: {e}")))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Usage(format!(
            "credentials file {shown} can be read by others: `chmod 600` it first"
        )));
    }
    if meta.len() > MAX_CREDENTIALS_BYTES {
        return Err(Error::Usage(format!(
            "credentials file {shown} is larger than {MAX_CREDENTIALS_BYTES} bytes"
        )));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_CREDENTIALS_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Usage(format!("credentials file {shown}: {e}")))?;
    Ok(bytes)
}

#[allow(clippy::print_stdout)] // the CLI's job is to print
fn print(connection: Option<&AmsConnection>, json: bool) {
    if json {
        let out = connection.map(|c| {
            serde_json::json!({
                "org_id": c.org,
                "kind": c.kind,
                "base_url": c.base_url,
                "connected_at": c.connected_at,
                "catch_all_record": c.catch_all_record,
                "last_test": c.last_test.as_ref().map(|(at, result)| {
                    serde_json::json!({"at": at, "result": result})
                }),
            })
        });
        println!("{}", serde_json::to_value(out).unwrap_or_default());
        return;
    }
    let Some(c) = connection else {
        println!("no AMS connected");
        return;
    };
    println!("AMS {} at {}", c.kind, c.base_url);
    match &c.last_test {
        Some((_, result)) => println!("last test: {result}"),
        None => println!("not tested yet: `ringside-relay ams test --org {}`", c.org),
    }
}
