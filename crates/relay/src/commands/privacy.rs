//! `ringside-relay erase` and `org terminate|restore` (docs/lifecycle.md): the operator's twins
//! of `POST /v1/admin/erase` and `POST /v1/admin/org/terminate`, through the same code
//! (`crate::privacy`), audited with the actor `system:cli`. A running relay closes a
//! terminated org's streams at their next heartbeat, and its webhooks answer 410 at once.

use std::sync::Arc;

use ringside_core::{OrgId, SystemClock};
use ringside_store::TERMINATION_GRACE_SECS;

use crate::caller::Caller;
use crate::open::DataFolder;
use crate::{Config, Error};

fn open(config: &Config) -> Result<DataFolder, Error> {
    DataFolder::open(config, Arc::new(SystemClock))
}

/// `erase --org ORG --number N`: every record of the number in `org`, erased; prints the counts.
///
/// # Errors
/// An unreadable number or an unknown org (nothing changes); the store's errors.
#[allow(clippy::print_stdout)] // the CLI's job is to print
pub fn erase(config: &Config, org: OrgId, number: &str) -> Result<(), Error> {
    let folder = open(config)?;
    let erased = crate::privacy::erase(
        &folder.auth,
        &folder.store,
        &folder.numbers,
        Caller::Operator(org),
        number,
    )?;
    println!(
        "erased: {} call(s), {} text message(s) (audited as privacy.erase, without the number)",
        erased.calls, erased.texts
    );
    Ok(())
}

/// `org terminate --org ORG`: the org read-only now, its sessions ended, shredded in 30 days.
///
/// # Errors
/// An unknown or already terminated org; the store's errors.
#[allow(clippy::print_stdout)] // the CLI's job is to print
pub fn terminate(config: &Config, org: OrgId) -> Result<(), Error> {
    let folder = open(config)?;
    let ended =
        crate::privacy::terminate(&folder.auth, &folder.store, Caller::Operator(org), None)?;
    println!(
        "{org} terminated: read-only, {} session(s) ended, webhooks answer 410; its keys and data \
         are destroyed in {} days unless `ringside-relay org restore --org {org}` runs first",
        ended.sessions,
        TERMINATION_GRACE_SECS / 86_400
    );
    Ok(())
}

/// `org restore --org ORG`: undoes a termination still in its grace period.
///
/// # Errors
/// An org that is not terminated (or no longer exists); the store's errors.
#[allow(clippy::print_stdout)] // the CLI's job is to print
pub fn restore(config: &Config, org: OrgId) -> Result<(), Error> {
    let folder = open(config)?;
    crate::privacy::restore(&folder.auth, &folder.store, Caller::Operator(org))?;
    println!("{org} restored: its users can sign in again");
    Ok(())
}
