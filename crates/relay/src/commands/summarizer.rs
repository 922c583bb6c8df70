//! `ringside-relay summarizer set|show|clear` (docs/lifecycle.md, "Summaries"): the operator's
//! twins of `PUT|GET|DELETE /v1/admin/summarizer`, through the same code (`crate::summarizer`),
//! audited with the actor `system:cli`. The key is read from a file only its owner can read,
//! never from the command line (which other users of the host can see).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use ringside_core::wire::{SetSummarizerRequest, SummarizerSettings};
use ringside_core::{OrgId, Pii, SystemClock};

use crate::caller::Caller;
use crate::commands::ams::read_credentials;
use crate::open::DataFolder;
use crate::{Config, Error};

/// `ringside-relay summarizer …`: which summarizer writes an org's note summaries.
#[derive(Debug, Subcommand)]
pub enum SummarizerCommand {
    /// Summarize the org's calls with an OpenAI-compatible chat-completions endpoint (OpenAI,
    /// Azure OpenAI, Ollama, vLLM); checked before it is stored.
    Set {
        /// The organisation (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// The base URL, `/chat/completions` excluded (https; http only to loopback).
        #[arg(long, value_name = "URL")]
        base_url: String,
        /// The model (on Azure, the deployment).
        #[arg(long, value_name = "MODEL")]
        model: String,
        /// `bearer` (OpenAI, Ollama, vLLM) or `azure_api_key`.
        #[arg(long, value_name = "STYLE", default_value = "bearer")]
        auth: String,
        /// A file holding the API key (mode 0600), if the endpoint wants one.
        #[arg(long, value_name = "FILE")]
        api_key_file: Option<PathBuf>,
    },
    /// Show the org's summarizer (never its key).
    Show {
        /// The organisation (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// Print `{"kind", "base_url", "model", "auth", "has_key"}`.
        #[arg(long)]
        json: bool,
    },
    /// Back to the built-in summarizer (local; nothing leaves the relay).
    Clear {
        /// The organisation (org_…).
        #[arg(long, value_name = "ORG")]
        org: OrgId,
    },
}

/// Runs a `summarizer` subcommand.
///
/// # Errors
/// An unusable endpoint, model, auth style or key file (nothing is stored); an unknown org; the
/// store's errors.
pub fn run(config: &Config, command: SummarizerCommand) -> Result<(), Error> {
    let folder = DataFolder::open(config, Arc::new(SystemClock))?;
    let (auth, store) = (&folder.auth, &folder.store);
    match command {
        SummarizerCommand::Set {
            org,
            base_url,
            model,
            auth: style,
            api_key_file,
        } => {
            let key = api_key_file
                .map(|path| read_credentials(&path))
                .transpose()?
                .map(|bytes| Pii::new(String::from_utf8_lossy(&bytes).trim().to_owned()));
            let request = SetSummarizerRequest {
                base_url,
                model,
                auth: Some(style),
                api_key: key,
            };
            let set =
                crate::summarizer::set(auth, store, &folder.keys, Caller::Operator(org), &request)?;
            print(&set, false);
        }
        SummarizerCommand::Show { org, json } => {
            print(
                &crate::summarizer::show(auth, store, Caller::Operator(org))?,
                json,
            );
        }
        SummarizerCommand::Clear { org } => {
            crate::summarizer::clear(auth, store, Caller::Operator(org))?;
            print(&crate::summarizer::settings(None), false);
        }
    }
    Ok(())
}

#[allow(clippy::print_stdout)] // the CLI's job is to print
fn print(settings: &SummarizerSettings, json: bool) {
    if json {
        println!("{}", serde_json::to_value(settings).unwrap_or_default());
        return;
    }
    match (&settings.base_url, &settings.model) {
        (Some(url), Some(model)) => println!(
            "summarizer: {model} at {url} ({}, {})",
            settings.auth.as_deref().unwrap_or("bearer"),
            if settings.has_key {
                "key kept sealed"
            } else {
                "no key"
            }
        ),
        _ => println!("summarizer: built in (local, extractive; nothing leaves the relay)"),
    }
}
