//! A data-subject erasure (every record of one client number) and ending an account
//! (terminate, restore): the admin API's and the CLI's shared code, with the same checks and
//! audit entries (docs/lifecycle.md). The store does the work; this decides who may, reads the
//! number once, and says what to tell the live sockets.

use ringside_core::{Permission, PhoneNumber, Pii};
use ringside_identity::{AuthError, AuthService};
use ringside_store::{Erased, NumberIndexKey, Store, Terminated};

use crate::caller::{Caller, store_err};

/// Erases every record of `number` in the caller's org (blocking): calls and texts still
/// holding it, with everything hanging off them; audited as `privacy.erase` with counts, never
/// the number. [`AuthError::InvalidInput`]`("number")` for a number that cannot be read
/// (nothing changes).
pub(crate) fn erase(
    auth: &AuthService,
    store: &Store,
    numbers: &NumberIndexKey,
    caller: Caller<'_>,
    number: &str,
) -> Result<Erased, AuthError> {
    caller.admit(auth, store, Permission::ManageSettings, true)?;
    let number = PhoneNumber::parse(number).map_err(|_| AuthError::InvalidInput("number"))?;
    let index = numbers.index(&Pii::new(number));
    let audit = caller.entry("privacy.erase", "number");
    let erased = store
        .numbers()
        .erase_number(caller.org(), &index, audit)
        .map_err(store_err)?;
    tracing::info!(org = %caller.org(), calls = erased.calls, texts = erased.texts, "number erased");
    Ok(erased)
}

/// Terminates the caller's org (blocking): read-only at once, every session ended (the caller
/// closes their sockets), shredded after the grace period. A member must be an owner with a
/// recent second factor and type the org's name again (`confirm_name`); the operator need not.
/// [`AuthError::OrgTerminated`] when it already is.
pub(crate) fn terminate(
    auth: &AuthService,
    store: &Store,
    caller: Caller<'_>,
    confirm_name: Option<&str>,
) -> Result<Terminated, AuthError> {
    caller.admit(auth, store, Permission::TerminateOrg, true)?;
    let org = caller.org();
    if let Caller::Member(_) = caller {
        let name = store.orgs().org(org).map_err(store_err)?.name;
        if confirm_name.map(str::trim) != Some(name.as_str()) {
            return Err(AuthError::InvalidInput("confirm_name"));
        }
    }
    let audit = caller.entry("org.terminate", "org").resource(org);
    let ended = store
        .terminations()
        .terminate_org(org, &audit)
        .map_err(|err| match err {
            ringside_store::Error::Conflict(_) => AuthError::OrgTerminated,
            other => store_err(other),
        })?;
    tracing::warn!(%org, sessions = ended.sessions, "organisation terminated");
    Ok(ended)
}

/// Restores a terminated org (the operator's, blocking). [`AuthError::NotFound`] when the org
/// is not terminated.
pub(crate) fn restore(
    auth: &AuthService,
    store: &Store,
    caller: Caller<'_>,
) -> Result<(), AuthError> {
    caller.admit(auth, store, Permission::TerminateOrg, true)?;
    let org = caller.org();
    let audit = caller.entry("org.restore", "org").resource(org);
    store
        .terminations()
        .restore_org(org, &audit)
        .map_err(|err| match err {
            ringside_store::Error::Conflict(_) => AuthError::NotFound("terminated organisation"),
            other => store_err(other),
        })?;
    tracing::warn!(%org, "organisation restored");
    Ok(())
}
