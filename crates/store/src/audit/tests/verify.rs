//! Tampering done as an attacker with the file would, and the entry number `verify` names.

use super::*;

/// Writes `entries` entries, runs `sql` as the attacker, and returns what verification reports.
fn violation_after(entries: usize, sql: &str) -> AuditViolation {
    let f = fixture();
    fill(&f, entries);
    tamper(&f, sql);
    violation(&f)
}

#[test]
fn an_edited_entry_is_reported_by_its_number() {
    let v = violation_after(5, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 3");
    assert_eq!(v, at(3, ViolationKind::Edited), "{v}");
    assert_eq!(
        v.to_string(),
        "entry 3 was edited: its contents no longer match its hash"
    );
}

#[test]
fn an_edited_prev_hash_is_reported_as_an_edit_of_that_entry() {
    assert_eq!(
        violation_after(
            4,
            "UPDATE audit_log SET prev_hash = zeroblob(32) WHERE seq = 2"
        ),
        at(2, ViolationKind::Edited)
    );
}

#[test]
fn a_deleted_entry_is_reported_by_its_number() {
    let v = violation_after(5, "DELETE FROM audit_log WHERE seq IN (2, 3)");
    assert_eq!(v, at(2, ViolationKind::Deleted { missing: 2 }), "{v}");
    assert!(
        v.to_string()
            .starts_with("entry 2 was deleted: 2 entries missing"),
        "{v}"
    );
}

#[test]
fn deleting_entries_and_renumbering_the_rest_is_reported_as_a_deletion() {
    assert_eq!(
        violation_after(
            5,
            "DELETE FROM audit_log WHERE seq = 2;
             UPDATE audit_log SET seq = seq - 1 WHERE seq > 2;"
        ),
        at(2, ViolationKind::Deleted { missing: 1 })
    );
}

#[test]
fn deleting_the_newest_entries_is_caught_by_the_checkpoint_that_covered_them() {
    let f = fixture();
    fill(&f, 5);
    f.store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    tamper(&f, "DELETE FROM audit_log WHERE seq >= 4");
    assert_eq!(violation(&f), at(4, ViolationKind::Deleted { missing: 2 }));
}

#[test]
fn an_inserted_entry_is_reported_by_its_number() {
    let f = fixture();
    fill(&f, 5);
    // Make room at 3 and slip in a forged entry, correctly linked to 2 and correctly hashed.
    tamper(
        &f,
        "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3;
         UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103;",
    );
    let conn = attacker(&f.store);
    let mut forged = row(&conn, 2);
    forged.seq = 3;
    forged.action = "org.create".to_owned();
    forged.prev_hash = row(&conn, 2).hash;
    forged.hash = forged.hash_as(3).to_vec();
    forged.insert(&conn).unwrap();
    let v = violation(&f);
    assert_eq!(v, at(3, ViolationKind::Inserted), "{v}");
}

#[test]
fn a_new_entry_numbered_inside_the_pruned_range_is_reported_as_inserted() {
    let f = fixture();
    fill(&f, 4);
    f.clock.advance(400 * DAY);
    fill(&f, 2);
    let report = f
        .store
        .audit()
        .prune_audit(365 * DAY, &f.masters, &ctx())
        .unwrap();
    assert_eq!(report.pruned, 4);
    let conn = attacker(&f.store);
    let mut forged = row(&conn, 5);
    forged.seq = 2;
    forged.hash = forged.hash_as(2).to_vec();
    forged.insert(&conn).unwrap();
    assert_eq!(violation(&f), at(2, ViolationKind::Inserted));
}

#[test]
fn swapped_entries_are_reported_as_reordered() {
    let v = violation_after(
        5,
        "UPDATE audit_log SET seq = 100 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = 100;",
    );
    assert_eq!(v, at(3, ViolationKind::Reordered), "{v}");
}

#[test]
fn an_entry_rewritten_with_its_own_hash_breaks_the_next_link() {
    let f = fixture();
    fill(&f, 5);
    let conn = attacker(&f.store);
    let mut edited = row(&conn, 2);
    edited.outcome = "denied".to_owned();
    conn.execute(
        "UPDATE audit_log SET outcome = 'denied', hash = ?1 WHERE seq = 2",
        [edited.hash_as(2).to_vec()],
    )
    .unwrap();
    assert_violation(&f, at(3, ViolationKind::BrokenLink), "rewritten");
}

#[test]
fn rewriting_an_entry_and_rehashing_every_later_one_is_caught_by_a_signed_checkpoint() {
    let f = fixture();
    fill(&f, 3);
    let first = f
        .store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    assert_eq!(first.seq, AuditSeq(3));
    fill(&f, 4);
    let second = f
        .store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    assert_eq!(second.seq, AuditSeq(7));
    fill(&f, 2);

    let conn = attacker(&f.store);
    rewrite_and_rehash(&conn, 5);
    for entry in rows(&conn) {
        assert!(
            entry.is_self_consistent(),
            "the attacker's chain is consistent in itself"
        );
    }
    let v = violation(&f);
    assert_eq!(
        v,
        at(
            7,
            ViolationKind::CheckpointMismatch {
                verified_through: AuditSeq(3)
            }
        ),
        "{v}"
    );
    assert!(
        v.to_string().contains("after 3 and up to 7"),
        "the message narrows it down: {v}"
    );
    let err = f.store.audit().audit_checkpoint(&f.masters).unwrap_err();
    assert!(
        matches!(
            err,
            Error::AuditViolation(v) if v == at(
                7,
                ViolationKind::CheckpointMismatch { verified_through: AuditSeq(3) }
            )
        ),
        "no new checkpoint is signed over the rewritten chain: {err}"
    );
}

#[test]
fn without_a_checkpoint_a_full_rehash_is_not_detectable_which_is_why_heads_are_signed() {
    // The documented limit (docs/audit.md): the chain alone needs no secret to recompute.
    let f = fixture();
    fill(&f, 4);
    rewrite_and_rehash(&attacker(&f.store), 2);
    assert!(
        f.store.audit().verify_audit(&f.masters).is_ok(),
        "nothing signed covers entries 1 to 4"
    );
}
