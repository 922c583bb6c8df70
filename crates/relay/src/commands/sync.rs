//! `ringside-relay sync list|retry` and `retention report` (docs/lifecycle.md): the operator's
//! twins of `/v1/admin/sync/dead-letters` and `/v1/admin/retention`, through the same code
//! (`crate::sync`), with the same audit entries (the actor is `system:cli`). A running relay
//! picks a retried call up within a second.

use std::sync::Arc;

use clap::Subcommand;
use ringside_core::{CallId, Clock, OrgId, SystemClock};
use ringside_store::{SyncRow, SyncState};

use crate::caller::Caller;
use crate::open::DataFolder;
use crate::sync::{DEAD_LETTERS, LIST_LIMIT, entry};
use crate::{Config, Error};

/// `ringside-relay sync …`: calls whose AMS note is waiting or stuck.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// List the calls whose note needs an admin (held and dead), oldest first; with `--all`,
    /// every call still in the outbox.
    List {
        /// Only this organisation (org_…) [default: every organisation].
        #[arg(long, value_name = "ORG")]
        org: Option<OrgId>,
        /// Every state, not only held and dead.
        #[arg(long)]
        all: bool,
        /// Print `{"entries": [{"call_id", "state", "attempts", "reason", "started_at",
        /// "updated_at"}]}` (`org_id` added to each).
        #[arg(long)]
        json: bool,
    },
    /// Try a held or dead call's note again now (audited). For `in_doubt`, check the AMS for
    /// the call's reference first: a retry writes the note.
    Retry {
        /// The organisation (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// The call (call_…).
        #[arg(long, value_name = "CALL")]
        call: CallId,
    },
}

/// `ringside-relay retention …`.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// For each kind of personal data, how many records hold it now and the age of the oldest.
    Report {
        /// Only this organisation (org_…) [default: the whole installation].
        #[arg(long, value_name = "ORG")]
        org: Option<OrgId>,
        /// Print `{"generated_at", "kinds": [{"kind", "records", "oldest_age_secs"}]}`.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `sync` subcommand.
///
/// # Errors
/// [`Error::Usage`] when the call is not held or dead in that org; the store's errors.
#[allow(clippy::print_stdout)] // the CLI's job is to print
pub fn run(config: &Config, command: SyncCommand) -> Result<(), Error> {
    let folder = DataFolder::open(config, Arc::new(SystemClock))?;
    match command {
        SyncCommand::List { org, all, json } => {
            let states: &[SyncState] = if all { &SyncState::ALL } else { &DEAD_LETTERS };
            let rows = folder.store.sync().list_syncs(org, states, LIST_LIMIT)?;
            print_rows(&rows, json);
        }
        SyncCommand::Retry { org, call } => {
            match crate::sync::retry(&folder.store, None, Caller::Operator(org), call) {
                Ok(()) => println!("{call}: due again now"),
                Err(ringside_store::Error::NotFound(_)) => {
                    return Err(Error::Usage(format!(
                        "{call} is not a held or dead call of {org}: see `ringside-relay sync list`"
                    )));
                }
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(())
}

/// Runs a `retention` subcommand.
///
/// # Errors
/// The store's errors.
#[allow(clippy::print_stdout)] // the CLI's job is to print
pub fn run_retention(config: &Config, command: RetentionCommand) -> Result<(), Error> {
    let RetentionCommand::Report { org, json } = command;
    let folder = DataFolder::open(config, Arc::new(SystemClock))?;
    let report = crate::sync::retention_report(&folder.store, org, SystemClock.now())?;
    if json {
        println!("{}", serde_json::to_value(&report).unwrap_or_default());
        return Ok(());
    }
    println!(
        "personal data held now ({}):",
        org.map_or_else(|| "all organisations".to_owned(), |o| o.to_string())
    );
    for kind in &report.kinds {
        match kind.oldest_age_secs {
            Some(age) => println!(
                "  {:<13} {:>6} record(s), oldest {}",
                kind.kind,
                kind.records,
                age_text(age)
            ),
            None => println!("  {:<13} {:>6} record(s)", kind.kind, kind.records),
        }
    }
    Ok(())
}

/// `3 d 4 h`, `12 min`, `40 s`.
fn age_text(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[allow(clippy::print_stdout)] // the CLI's job is to print
fn print_rows(rows: &[SyncRow], json: bool) {
    if json {
        let entries: Vec<serde_json::Value> = rows
            .iter()
            .map(|row| {
                let mut value = serde_json::to_value(entry(row)).unwrap_or_default();
                value["org_id"] = serde_json::Value::String(row.org.to_string());
                value
            })
            .collect();
        println!("{}", serde_json::json!({ "entries": entries }));
        return;
    }
    if rows.is_empty() {
        println!("no calls to show");
        return;
    }
    for row in rows {
        println!(
            "{}  {}  {:<8} attempts {:<3} {}",
            row.org,
            row.call,
            row.state.as_str(),
            row.attempts,
            row.reason.as_deref().unwrap_or("")
        );
    }
}
