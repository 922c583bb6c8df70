//! Hygiene: the relay's scheduled clean-up (docs/operations.md#hygiene). It runs at start-up and then every
//! hour, and on demand with `ringside-relay hygiene --now`:
//!
//! - expired sessions, devices unused for too long and finished invitations are deleted;
//! - audit entries past `retention.audit_days` are pruned behind a signed checkpoint, and the
//!   chain head is signed, so an edit of older entries made after this run is detectable;
//! - pops past their 5 minutes are deleted (`pop_expired` is queued for their users; while
//!   serving, the hub's sweeper (hub/history.rs) does this every half second as well);
//! - personal data past `retention.pii_max_days` (at most 30) is purged, synced or not: client
//!   numbers, inbox events, agents' notes and picks, transcripts and summaries; a call whose
//!   note never reached the AMS is marked `expired`, audited (counts only) and its org's admins
//!   get a `notice`; legs and pop markers of calls over for a day are deleted; the WAL is
//!   checkpointed, so what was deleted does not linger in it;
//! - organisations terminated more than 30 days ago are shredded: their data keys destroyed,
//!   then every row of theirs deleted, one `org.shred` audit entry (counts) kept;
//! - (every minute) idle rate-limit keys are forgotten.
//!
//! Reports are counts only: hygiene never prints or logs what it removed.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ringside_core::{Role, SystemClock};
use ringside_identity::AuthService;
use ringside_store::{
    AuditContext, CallPurge, IdentityPurge, OrgKeys, PruneReport, Shredded, Store,
};
use ringside_vault::MasterKeyring;

use crate::Error;
use crate::config::Retention;
use crate::open::DataFolder;
use crate::state::AppState;

/// How often the full hygiene pass runs while serving.
pub const EVERY: Duration = Duration::from_secs(60 * 60);

/// How long a finished call keeps its legs and pop markers (a provider's late retries and
/// stragglers arrive within this).
const FINISHED_CALL_ROWS: Duration = Duration::from_secs(24 * 60 * 60);

/// How often idle rate-limit keys are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What one hygiene pass removed (counts only).
#[derive(Debug)]
pub struct HygieneReport {
    /// Sessions, devices and invitations.
    pub identity: IdentityPurge,
    /// Audit entries pruned (behind a signed checkpoint).
    pub audit: PruneReport,
    /// Whether the audit chain head was signed by this pass.
    pub head_signed: bool,
    /// Webhook event log rows past `retention.webhook_log_days`.
    pub webhook_events: u64,
    /// Pops past their 5 minutes.
    pub pops: u64,
    /// Call personal data past `retention.pii_max_days`.
    pub calls: CallPurge,
    /// Legs and pop markers of calls over for a day.
    pub call_rows: u64,
    /// Organisations shredded 30 days after their termination.
    pub shredded: Vec<Shredded>,
}

impl fmt::Display for HygieneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "removed: {} ended session(s), {} stale device(s), {} finished invitation(s), \
             {} audit entr(y/ies) past retention, {} webhook log row(s), {} expired pop(s), \
             {} call number(s), {} inbox event(s), {} agent note(s) or pick(s), {} \
             transcript(s) or summar(y/ies) and {} text message(s) past the PII cap ({} call(s) \
             whose note never landed expired), {} row(s) of finished calls, {} terminated \
             organisation(s) shredded; audit head {}",
            self.identity.sessions,
            self.identity.devices,
            self.identity.invitations,
            self.audit.pruned,
            self.webhook_events,
            self.pops,
            self.calls.numbers,
            self.calls.inbox,
            self.calls.notes,
            self.calls.transcripts,
            self.calls.texts,
            self.calls.expired_syncs.iter().map(|(_, n)| n).sum::<u64>(),
            self.call_rows,
            self.shredded.len(),
            if self.head_signed {
                "signed"
            } else {
                "unchanged since its last checkpoint"
            },
        )
    }
}

/// One full pass (blocking: SQLite).
pub(crate) fn run_once(
    store: &Store,
    masters: &MasterKeyring,
    keys: &OrgKeys,
    auth: &AuthService,
    retention: &Retention,
) -> Result<HygieneReport, Error> {
    let identity = auth.purge_expired()?;
    let older_than = Duration::from_secs(u64::from(retention.audit_days) * 86_400);
    let audit = store
        .audit()
        .prune_audit(older_than, masters, &AuditContext::system("hygiene"))?;
    let head_signed = store.audit().audit_checkpoint(masters)?.is_some();
    let keep = Duration::from_secs(u64::from(retention.webhook_log_days) * 86_400);
    let webhook_events = store.inbox().prune_webhook_events(keep)?;
    let expired = crate::hub::expire_pops(store, keys)?;
    let cap = Duration::from_secs(u64::from(retention.pii_max_days) * 86_400);
    let calls = store.calls().purge_call_pii(cap)?;
    tell_about_expired(store, keys, &calls)?;
    let call_rows = store.calls().prune_finished_calls(FINISHED_CALL_ROWS)?;
    let shredded = store
        .terminations()
        .shred_terminated(&AuditContext::system("hygiene").entry("org.shred", "org"))?;
    for gone in &shredded {
        keys.forget(gone.org);
        tracing::warn!(org = %gone.org, "terminated organisation shredded");
    }
    store.checkpoint_wal()?;
    Ok(HygieneReport {
        identity,
        audit,
        head_signed,
        webhook_events,
        pops: u64::try_from(expired.events.len()).unwrap_or(u64::MAX),
        calls,
        call_rows,
        shredded,
    })
}

/// Calls whose note never reached the AMS before the PII cap: one audit entry per org (counts
/// only) and a `notice` to its owners and admins, so the gap in the AMS is known.
fn tell_about_expired(store: &Store, keys: &OrgKeys, purge: &CallPurge) -> Result<(), Error> {
    for &(org, calls) in &purge.expired_syncs {
        let audit = AuditContext::system("hygiene")
            .entry("sync.expired", "org")
            .in_org(org)
            .resource(org)
            .count("calls", calls);
        store.audit().record_audit(&audit)?;
        let admins = store
            .users()
            .active_users_with_roles(org, &[Role::Owner, Role::Admin])?;
        let message = format!(
            "{calls} call(s) reached the {}-day limit before their note could be written to the \
             AMS; their personal data is deleted (see `sync list` and docs/lifecycle.md)",
            crate::config::PII_HARD_CAP_DAYS
        );
        let org_keys = keys.get(org)?;
        store
            .stream()
            .push_notice(org, &admins, "sync_expired", &message, &org_keys)?;
    }
    Ok(())
}

/// `ringside-relay hygiene --now`: one pass against the configured data folder.
pub fn run_now(config: &crate::Config) -> Result<HygieneReport, Error> {
    run_at(config, Arc::new(SystemClock))
}

/// One pass against the configured data folder as of `clock` (tests move it 30 days on).
pub fn run_at(
    config: &crate::Config,
    clock: Arc<dyn ringside_core::Clock>,
) -> Result<HygieneReport, Error> {
    let folder = DataFolder::open(config, clock)?;
    run_once(
        &folder.store,
        &folder.masters,
        &folder.keys,
        &folder.auth,
        &config.retention,
    )
}

/// The schedule while serving: the full pass at start-up and every [`EVERY`], the rate-limit
/// sweep every minute. Failures are logged and retried at the next tick; they never stop serving.
pub(crate) async fn schedule(state: AppState, retention: Retention) {
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    let mut pass = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = sweep.tick() => {
                state.limits().per_client.forget_idle();
                state.limits().per_user.forget_idle();
                state.limits().per_org_webhooks.forget_idle();
            }
            _ = pass.tick() => {
                let state = state.clone();
                let done = tokio::task::spawn_blocking(move || {
                    run_once(
                        state.store(),
                        state.master_keys(),
                        state.keys(),
                        state.auth(),
                        &retention,
                    )
                })
                .await;
                match done {
                    Ok(Ok(report)) => tracing::info!(%report, "hygiene pass"),
                    Ok(Err(err)) => tracing::warn!(error = %err, "hygiene pass failed; retrying next hour"),
                    Err(_) => tracing::warn!("hygiene pass did not finish; retrying next hour"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::{FakeClock, Role};
    use ringside_store::{AuditContext, Store};
    use ringside_vault::{MasterKey, MasterKeyVersion, MasterKeyring};

    use super::*;
    use ringside_identity::AuthConfig;

    const RETENTION: Retention = Retention {
        pii_max_days: 30,
        audit_days: 365,
        webhook_log_days: 30,
    };

    #[test]
    fn a_pass_removes_what_is_past_its_time_and_keeps_the_audit_chain_verifiable() {
        let dir = tempfile::tempdir().unwrap();
        let clock = FakeClock::new(time::macros::datetime!(2026-01-01 09:00 UTC));
        let store = Arc::new(Store::open(dir.path(), Arc::new(clock.clone())).unwrap());
        let masters = Arc::new(MasterKeyring::single(MasterKey::generate(
            MasterKeyVersion::FIRST,
        )));
        let keys = OrgKeys::new(Arc::clone(&store), Arc::clone(&masters));
        let auth = AuthService::load(
            Arc::clone(&store),
            keys.clone(),
            Arc::new(clock.clone()),
            AuthConfig::default(),
        )
        .unwrap();
        let org = store
            .orgs()
            .create_org("Acme", &masters, &AuditContext::system("test"))
            .unwrap();
        auth.invite_as_operator(org.id, "agent@example.com", Role::Agent)
            .unwrap();

        let fresh = run_once(&store, &masters, &keys, &auth, &RETENTION).unwrap();
        assert_eq!(fresh.identity.invitations, 0, "a fresh invitation is kept");
        assert_eq!(fresh.audit.pruned, 0, "fresh audit entries are kept");
        assert!(fresh.head_signed, "the first pass signs the chain head");

        clock.advance(std::time::Duration::from_secs(400 * 86_400));
        let later = run_once(&store, &masters, &keys, &auth, &RETENTION).unwrap();
        assert_eq!(
            later.identity.invitations, 1,
            "the invitation expired 72 h in and is deleted"
        );
        assert!(
            later.audit.pruned >= 2,
            "entries older than 365 days are pruned: {later}"
        );
        store
            .audit()
            .verify_audit(&masters)
            .expect("the chain still verifies from the prune checkpoint");
        let shown = later.to_string();
        assert!(
            !shown.contains("agent@example.com"),
            "the report is counts only: {shown}"
        );
    }
}
