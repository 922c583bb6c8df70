//! The hash chain: numbering, linkage, the canonical encoding, and the triggers that guard the table.

use super::*;

#[test]
fn entries_are_numbered_from_one_and_each_links_to_the_one_before() {
    let f = fixture();
    let seqs = fill(&f, 3);
    assert_eq!(
        seqs,
        vec![AuditSeq(1), AuditSeq(2), AuditSeq(3)],
        "numbered 1, 2, 3"
    );
    let conn = attacker(&f.store);
    let all = rows(&conn);
    assert_eq!(
        all[0].prev_hash,
        GENESIS_HASH.to_vec(),
        "the first entry links to 32 zero bytes"
    );
    for pair in all.windows(2) {
        assert_eq!(
            pair[1].prev_hash, pair[0].hash,
            "entry {} links to entry {}",
            pair[1].seq, pair[0].seq
        );
    }
    for entry in &all {
        assert!(entry.is_self_consistent(), "entry {} hashes", entry.seq);
    }
    assert_eq!(
        all[1].time_ms,
        unix_ms(time::macros::datetime!(2026-11-23 09:00:02 UTC)),
        "the time is the store clock's, in unix milliseconds"
    );
    assert_eq!(all[1].details, r#"{"i":1,"kind":"odd"}"#);
    let report = f.store.audit().verify_audit(&f.masters).unwrap();
    assert_eq!(report.entries, 3, "all three verified");
    assert_eq!(report.range, Some((AuditSeq(1), AuditSeq(3))));
    assert_eq!(report.pruned_through, None, "from genesis");
    assert_eq!(report.head_hash.to_vec(), all[2].hash, "the head's hash");
}

#[test]
fn the_canonical_encoding_separates_every_field() {
    let base = StoredEntry {
        seq: 1,
        time_ms: 2,
        org: None,
        actor_kind: "system".to_owned(),
        actor_id: "cli".to_owned(),
        source_ip: None,
        action: "org.create".to_owned(),
        resource_type: "org".to_owned(),
        resource_id: Some("ab".to_owned()),
        outcome: "success".to_owned(),
        details: "{}".to_owned(),
        prev_hash: GENESIS_HASH.to_vec(),
        hash: Vec::new(),
    };
    let mut moved = base.clone();
    moved.resource_type = "orga".to_owned();
    moved.resource_id = Some("b".to_owned());
    assert_ne!(
        base.hash_as(1),
        moved.hash_as(1),
        "moving a byte across a field boundary changes the hash"
    );
    let mut empty = base.clone();
    empty.resource_id = Some(String::new());
    let mut absent = base.clone();
    absent.resource_id = None;
    assert_ne!(
        empty.hash_as(1),
        absent.hash_as(1),
        "an empty value and an absent one hash differently"
    );
    assert_ne!(base.hash_as(1), base.hash_as(2), "the number is hashed");
}

#[test]
fn the_database_refuses_to_update_delete_or_misnumber_entries() {
    let f = fixture();
    fill(&f, 2);
    f.store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    let conn = Connection::open(f.store.path()).unwrap();
    for (sql, expect) in [
        (
            "UPDATE audit_log SET outcome = 'denied' WHERE seq = 1",
            "append-only",
        ),
        ("DELETE FROM audit_log WHERE seq = 1", "retention pruner"),
        ("DELETE FROM audit_log", "retention pruner"),
        (
            "INSERT INTO audit_log SELECT 7, time_ms, org, actor_kind, actor_id, source_ip, action, \
             resource_type, resource_id, outcome, details, prev_hash, hash FROM audit_log WHERE seq = 2",
            "one past the head",
        ),
        ("UPDATE audit_checkpoints SET seq = 1", "append-only"),
        ("DELETE FROM audit_checkpoints", "retention pruner"),
    ] {
        let err = conn.execute(sql, []).expect_err(sql).to_string();
        assert!(
            err.contains(expect),
            "{sql} is refused with {expect:?}: {err}"
        );
    }
    f.store.audit().verify_audit(&f.masters).unwrap();
}
