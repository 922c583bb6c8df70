//! Tests of ending an account on a real SQLite file and a clock the test moves: terminate ends
//! every session and pauses the sync, restore undoes it, and 30 days later the org's keys and
//! rows are gone while its one audit entry stays.

use std::time::Duration;

use ringside_core::wire::{Actor, CallState};
use ringside_core::{FakeClock, OrgId};

use crate::call_tests::{NOW, line_on};
use crate::identity_tests::fixture_at;
use crate::{AuditEntry, AuditFilter, AuditPage, Error, TERMINATION_GRACE_SECS};

fn entry(action: &'static str, org: OrgId) -> AuditEntry {
    AuditEntry::new(Actor::system("test"), action, "org")
        .in_org(org)
        .resource(org)
}

#[test]
fn terminating_ends_every_session_pauses_the_sync_and_restore_undoes_it() {
    let clock = FakeClock::new(time::OffsetDateTime::from_unix_timestamp(NOW).unwrap());
    let l = line_on(fixture_at(clock.clone()));
    let session = l.f.session(l.org, l.agent, &l.keys, 7, "laptop");
    l.send("e1", "call-1", "call-1", CallState::Ringing, &[l.agent]);
    l.send("e2", "call-1", "call-1", CallState::Ended, &[]);
    let ends = l.f.store.terminations();

    let done = ends
        .terminate_org(l.org, &entry("org.terminate", l.org))
        .unwrap();
    assert_eq!(done.sessions, 1);
    assert_eq!(done.users.len(), 2, "owner and agent");
    let revoked = l.f.store.sessions().session(l.org, session).unwrap();
    assert!(revoked.revoked_at.is_some(), "the session ended");
    assert!(l.f.store.orgs().org(l.org).unwrap().terminated_at.is_some());
    assert!(
        l.f.store.sync().due_syncs(0, 10).unwrap().is_empty(),
        "a terminated org's note waits"
    );
    assert!(matches!(
        ends.terminate_org(l.org, &entry("org.terminate", l.org)),
        Err(Error::Conflict(_))
    ));

    ends.restore_org(l.org, &entry("org.restore", l.org))
        .unwrap();
    assert_eq!(l.f.store.orgs().org(l.org).unwrap().terminated_at, None);
    assert_eq!(
        l.f.store.sync().due_syncs(0, 10).unwrap().len(),
        1,
        "resumed"
    );
    assert!(matches!(
        ends.restore_org(l.org, &entry("org.restore", l.org)),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        ends.terminate_org(OrgId::random(), &entry("org.terminate", l.org)),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn thirty_days_after_termination_the_keys_and_every_row_are_gone_but_the_audit_entry() {
    let clock = FakeClock::new(time::OffsetDateTime::from_unix_timestamp(NOW).unwrap());
    let l = line_on(fixture_at(clock.clone()));
    let (kept, _) = l.f.org("Other agency");
    l.send("e1", "call-1", "call-1", CallState::Ringing, &[l.agent]);
    let ends = l.f.store.terminations();
    ends.terminate_org(l.org, &entry("org.terminate", l.org))
        .unwrap();
    let shred = || {
        ends.shred_terminated(&AuditEntry::new(
            Actor::system("hygiene"),
            "org.shred",
            "org",
        ))
        .unwrap()
    };

    clock.advance(Duration::from_secs(
        u64::try_from(TERMINATION_GRACE_SECS).unwrap() - 60,
    ));
    assert!(shred().is_empty(), "still in its grace");
    clock.advance(Duration::from_secs(120));
    let gone = shred();
    assert_eq!(gone.len(), 1);
    assert_eq!(
        (gone[0].org, gone[0].keys, gone[0].users, gone[0].calls),
        (l.org, 1, 2, 1)
    );

    let conn = rusqlite::Connection::open(l.f.store.path()).unwrap();
    for table in [
        "org_keys",
        "users",
        "calls",
        "pops",
        "stream_events",
        "integrations",
    ] {
        let n: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE org_id = ?1"),
                [l.org.as_bytes()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    assert!(
        l.f.store.orgs().org(kept).is_ok(),
        "another org is untouched"
    );
    assert!(shred().is_empty(), "once");

    let filter = AuditFilter {
        action: Some("org.shred".to_owned()),
        ..AuditFilter::default()
    };
    let page = AuditPage {
        after_seq: None,
        limit: 10,
    };
    let entries = l.f.store.audit().query_audit(l.org, &filter, page).unwrap();
    assert_eq!(entries.len(), 1, "the record outlives the org");
    assert!(
        entries[0].details.contains("\"calls\":\"1\""),
        "{}",
        entries[0].details
    );
}
