//! Retention: the pruner removes a prefix behind a signed checkpoint, never over tampering.

use super::*;

#[test]
fn pruning_removes_old_entries_behind_a_signed_checkpoint_and_the_chain_still_verifies() {
    let f = fixture();
    fill(&f, 5);
    f.store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    f.clock.advance(200 * DAY);
    fill(&f, 3);
    f.clock.advance(200 * DAY);

    let report = f
        .store
        .audit()
        .prune_audit(365 * DAY, &f.masters, &ctx())
        .unwrap();
    assert_eq!(report.pruned, 5, "the five entries older than 365 days");
    let checkpoint = report.checkpoint.unwrap();
    assert_eq!(checkpoint.kind, CheckpointKind::Prune);
    assert_eq!(checkpoint.seq, AuditSeq(5), "the last pruned entry");
    assert_eq!(
        report.entry,
        Some(AuditSeq(9)),
        "the prune itself is recorded"
    );

    let verified = f.store.audit().verify_audit(&f.masters).unwrap();
    assert_eq!(verified.pruned_through, Some(AuditSeq(5)));
    assert_eq!(verified.range, Some((AuditSeq(6), AuditSeq(9))));
    assert_eq!(verified.entries, 4);
    let conn = attacker(&f.store);
    assert_eq!(row(&conn, 9).action, "audit.prune");
    assert_eq!(row(&conn, 9).details, r#"{"pruned":5,"through_seq":5}"#);

    assert_eq!(
        f.store
            .audit()
            .prune_audit(365 * DAY, &f.masters, &ctx())
            .unwrap(),
        PruneReport {
            pruned: 0,
            checkpoint: None,
            entry: None
        },
        "nothing more is old enough: no checkpoint, no entry"
    );

    // Everything ages out; the chain continues from the pruning checkpoint.
    f.clock.advance(400 * DAY);
    let all = f
        .store
        .audit()
        .prune_audit(365 * DAY, &f.masters, &ctx())
        .unwrap();
    assert_eq!(all.pruned, 4);
    assert_eq!(all.entry, Some(AuditSeq(10)), "numbering goes on");
    fill(&f, 1);
    let verified = f.store.audit().verify_audit(&f.masters).unwrap();
    assert_eq!(verified.pruned_through, Some(AuditSeq(9)));
    assert_eq!(verified.range, Some((AuditSeq(10), AuditSeq(11))));
    let checkpoints = count_rows(&f.store, "audit_checkpoints");
    assert_eq!(
        checkpoints, 1,
        "superseded checkpoints went with their entries"
    );
}

#[test]
fn pruning_keeps_an_entry_while_an_earlier_one_is_within_retention() {
    let f = fixture();
    fill(&f, 2);
    // A clock stepped back: entry 3 is dated before entry 2.
    f.clock.set(time::macros::datetime!(2026-01-01 00:00 UTC));
    fill(&f, 1);
    f.clock.set(time::macros::datetime!(2027-06-01 00:00 UTC));
    let report = f
        .store
        .audit()
        .prune_audit(365 * DAY, &f.masters, &ctx())
        .unwrap();
    assert_eq!(
        report.pruned, 0,
        "entry 1 is still within retention, so nothing goes"
    );
}

#[test]
fn pruning_refuses_to_run_over_a_tampered_chain() {
    let f = fixture();
    fill(&f, 4);
    f.clock.advance(400 * DAY);
    tamper(&f, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 2");
    let err = f
        .store
        .audit()
        .prune_audit(365 * DAY, &f.masters, &ctx())
        .unwrap_err();
    assert!(
        matches!(err, Error::AuditViolation(v) if v == at(2, ViolationKind::Edited)),
        "the evidence is not pruned away: {err}"
    );
    assert_eq!(rows(&attacker(&f.store)).len(), 4, "nothing was removed");
}
