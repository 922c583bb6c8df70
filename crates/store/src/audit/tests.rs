//! Tests of the audit log on real SQLite files. Tampering is done the way an attacker with the
//! file would do it: a second connection, the triggers dropped, rows edited, deleted, inserted,
//! renumbered or re-hashed directly — then `verify` must name the first bad entry number.

use std::sync::Arc;
use std::time::Duration;

use ringside_core::wire::{Actor, ActorKind, AuditOutcome};
use ringside_core::{Clock, FakeClock, OrgId, UserId};
use ringside_vault::{KeySource, MasterKey, MasterKeyVersion, MasterKeyring};
use rusqlite::Connection;

use super::*;

const DAY: Duration = Duration::from_secs(86_400);

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    clock: FakeClock,
    masters: MasterKeyring,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new(time::macros::datetime!(2026-11-23 09:00 UTC));
    let store = Store::open(dir.path(), Arc::new(clock.clone())).unwrap();
    Fixture {
        _dir: dir,
        store,
        clock,
        masters: MasterKeyring::single(MasterKey::generate(MasterKeyVersion::FIRST)),
    }
}

fn ctx() -> AuditContext {
    AuditContext::system("test")
}

/// `n` entries, one second apart, alternating between two orgs' ids as resources.
fn fill(f: &Fixture, n: usize) -> Vec<AuditSeq> {
    (0..n)
        .map(|i| {
            f.clock.advance(Duration::from_secs(1));
            let entry = ctx()
                .entry("test.event", "thing")
                .count("i", i as u64)
                .detail("kind", if i % 2 == 0 { "even" } else { "odd" });
            f.store.record_audit(&entry).unwrap()
        })
        .collect()
}

/// A second connection to the file with the safety triggers dropped: the attacker's view.
fn attacker(store: &Store) -> Connection {
    let conn = Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS audit_log_is_append_only;
         DROP TRIGGER IF EXISTS audit_log_deletes_only_through_the_pruner;
         DROP TRIGGER IF EXISTS audit_log_numbers_entries_one_by_one;
         DROP TRIGGER IF EXISTS audit_checkpoints_are_append_only;
         DROP TRIGGER IF EXISTS audit_checkpoints_delete_only_through_the_pruner;",
    )
    .unwrap();
    conn
}

fn row(conn: &Connection, seq: i64) -> StoredEntry {
    conn.query_row(
        &format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq = ?1"),
        [seq],
        stored_entry,
    )
    .unwrap()
}

fn rows(conn: &Connection) -> Vec<StoredEntry> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY seq"
        ))
        .unwrap();
    stmt.query_map([], stored_entry)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Recomputes `prev_hash` and `hash` of every entry numbered `from` on, in order — the full
/// re-hash an attacker who knows the (public) algorithm can do without any secret.
fn rehash_from(conn: &Connection, from: i64) {
    let mut prev: Option<Vec<u8>> = None;
    for mut entry in rows(conn) {
        if entry.seq >= from {
            if let Some(prev) = &prev {
                entry.prev_hash = prev.clone();
            }
            let hash = entry.hash_as(entry.seq).to_vec();
            conn.execute(
                "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
                params![entry.seq, entry.prev_hash, hash],
            )
            .unwrap();
            entry.hash = hash;
        }
        prev = Some(entry.hash);
    }
}

fn violation(f: &Fixture) -> AuditViolation {
    match f.store.verify_audit(&f.masters) {
        Err(Error::AuditViolation(v)) => v,
        other => panic!("verification should have failed, got {other:?}"),
    }
}

fn at(seq: u64, kind: ViolationKind) -> AuditViolation {
    AuditViolation {
        seq: AuditSeq(seq),
        kind,
    }
}

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
    let report = f.store.verify_audit(&f.masters).unwrap();
    assert_eq!(report.entries, 3, "all three verified");
    assert_eq!(report.range, Some((AuditSeq(1), AuditSeq(3))));
    assert_eq!(report.pruned_through, None, "from genesis");
    assert_eq!(report.head_hash.to_vec(), all[2].hash, "the head's hash");
}

#[test]
fn every_org_change_writes_its_entry_and_never_the_org_name() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new(time::macros::datetime!(2026-11-23 09:00 UTC));
    let store = Store::open(dir.path(), Arc::new(clock)).unwrap();
    let source: KeySource = format!("file:{}", dir.path().join("master.key").display())
        .parse()
        .unwrap();
    let mut masters = source.load_or_create().unwrap();
    let user = UserId::random();
    let by_user = AuditContext::new(Actor::user(user), Some("203.0.113.7".parse().unwrap()));
    let org = store
        .create_org("Zebulon Quartermaine Agency", &masters, &by_user)
        .unwrap();
    let mut keys = store.org_keyring(org.id, &masters).unwrap();
    store
        .add_org_key_generation(&mut keys, &masters, &by_user)
        .unwrap();
    store.system_secret("test-secret", &masters).unwrap();
    let plan = masters.rotate_target(&source).unwrap();
    store
        .rewrap_all(&masters, masters.get(plan.target).unwrap(), &ctx())
        .unwrap();
    store.delete_org(org.id, &by_user).unwrap();

    let conn = attacker(&store);
    let all = rows(&conn);
    let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "org.create",
            "org.data_key.add",
            "keys.rewrap",
            "org.delete"
        ],
        "one entry per change, in order"
    );
    let create = &all[0];
    assert_eq!(create.org.as_deref(), Some(org.id.to_string().as_str()));
    assert_eq!(create.actor_kind, "user");
    assert_eq!(create.actor_id, user.to_string());
    assert_eq!(create.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(create.resource_type, "org");
    assert_eq!(
        create.resource_id.as_deref(),
        Some(org.id.to_string().as_str())
    );
    assert_eq!(create.details, r#"{"data_key":"g1","master_key":"v1"}"#);
    assert_eq!(all[1].details, r#"{"data_key":"g2","master_key":"v1"}"#);
    let rewrap = &all[2];
    assert_eq!(
        rewrap.org, None,
        "a master-key rotation is installation-level"
    );
    assert_eq!(rewrap.resource_id.as_deref(), Some("v2"));
    assert_eq!(
        rewrap.details, r#"{"org_keys":2,"secrets":1}"#,
        "both org-key generations and the secret were re-wrapped"
    );
    for entry in &all {
        for field in [&entry.details, &entry.action, &entry.actor_id] {
            assert!(
                !field.contains("Zebulon"),
                "the org name never reaches the audit log: {field}"
            );
        }
    }
    store.verify_audit(&masters).unwrap();
}

#[test]
fn an_audit_write_that_fails_rolls_the_change_back() {
    let f = fixture();
    let kept = f.store.create_org("Kept", &f.masters, &ctx()).unwrap();
    Connection::open(f.store.path())
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER audit_is_down BEFORE INSERT ON audit_log
             BEGIN SELECT RAISE(ABORT, 'audit device unavailable'); END;",
        )
        .unwrap();

    let err = f
        .store
        .create_org("Never", &f.masters, &ctx())
        .expect_err("no audit, no change");
    assert!(
        err.to_string().contains("audit device unavailable"),
        "the audit failure is the error: {err}"
    );
    let orgs = f.store.orgs().unwrap();
    assert_eq!(orgs.len(), 1, "the org was not created");
    let keys: u32 = f
        .store
        .conn()
        .query_row("SELECT count(*) FROM org_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys, 1, "nor its key");

    assert!(
        f.store.delete_org(kept.id, &ctx()).is_err(),
        "the delete fails with its audit entry"
    );
    assert!(f.store.org(kept.id).is_ok(), "and the org is still there");

    let mut keyring = f.store.org_keyring(kept.id, &f.masters).unwrap();
    assert!(
        f.store
            .add_org_key_generation(&mut keyring, &f.masters, &ctx())
            .is_err()
    );
    assert_eq!(
        f.store.org_key_rows(kept.id).unwrap().len(),
        1,
        "no new generation was stored"
    );

    let mut masters = f.masters;
    masters
        .insert(MasterKey::generate(MasterKeyVersion(2)))
        .unwrap();
    assert!(
        f.store
            .rewrap_all(&masters, masters.current(), &ctx())
            .is_err()
    );
    assert_eq!(
        f.store.master_versions_in_use().unwrap(),
        vec![MasterKeyVersion(1)],
        "nothing was re-wrapped"
    );
}

#[test]
fn an_entry_carrying_personal_data_is_refused_and_nothing_is_written() {
    let f = fixture();
    let err = f
        .store
        .record_audit(
            &ctx()
                .entry("auth.login", "user")
                .detail("email", "zebulon@example.com"),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidAuditEntry { field: "email", .. }),
        "got {err}"
    );
    assert!(
        !err.to_string().contains("zebulon"),
        "the value is not echoed: {err}"
    );
    let count: u32 = f
        .store
        .conn()
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0, "nothing was written");
}

#[test]
fn the_database_refuses_to_update_delete_or_misnumber_entries() {
    let f = fixture();
    fill(&f, 2);
    f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
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
    f.store.verify_audit(&f.masters).unwrap();
}

#[test]
fn an_edited_entry_is_reported_by_its_number() {
    let f = fixture();
    fill(&f, 5);
    attacker(&f.store)
        .execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 3", [])
        .unwrap();
    let v = violation(&f);
    assert_eq!(v, at(3, ViolationKind::Edited), "{v}");
    assert_eq!(
        v.to_string(),
        "entry 3 was edited: its contents no longer match its hash"
    );
}

#[test]
fn an_edited_prev_hash_is_reported_as_an_edit_of_that_entry() {
    let f = fixture();
    fill(&f, 4);
    attacker(&f.store)
        .execute(
            "UPDATE audit_log SET prev_hash = zeroblob(32) WHERE seq = 2",
            [],
        )
        .unwrap();
    assert_eq!(violation(&f), at(2, ViolationKind::Edited));
}

#[test]
fn a_deleted_entry_is_reported_by_its_number() {
    let f = fixture();
    fill(&f, 5);
    attacker(&f.store)
        .execute("DELETE FROM audit_log WHERE seq IN (2, 3)", [])
        .unwrap();
    let v = violation(&f);
    assert_eq!(v, at(2, ViolationKind::Deleted { missing: 2 }), "{v}");
    assert!(
        v.to_string()
            .starts_with("entry 2 was deleted: 2 entries missing"),
        "{v}"
    );
}

#[test]
fn deleting_entries_and_renumbering_the_rest_is_reported_as_a_deletion() {
    let f = fixture();
    fill(&f, 5);
    let conn = attacker(&f.store);
    conn.execute("DELETE FROM audit_log WHERE seq = 2", [])
        .unwrap();
    conn.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 2", [])
        .unwrap();
    assert_eq!(violation(&f), at(2, ViolationKind::Deleted { missing: 1 }));
}

#[test]
fn deleting_the_newest_entries_is_caught_by_the_checkpoint_that_covered_them() {
    let f = fixture();
    fill(&f, 5);
    f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
    attacker(&f.store)
        .execute("DELETE FROM audit_log WHERE seq >= 4", [])
        .unwrap();
    assert_eq!(violation(&f), at(4, ViolationKind::Deleted { missing: 2 }));
}

#[test]
fn an_inserted_entry_is_reported_by_its_number() {
    let f = fixture();
    fill(&f, 5);
    let conn = attacker(&f.store);
    // Make room at 3 and slip in a forged entry, correctly linked to 2 and correctly hashed.
    conn.execute("UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3", [])
        .unwrap();
    conn.execute("UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103", [])
        .unwrap();
    let mut forged = row(&conn, 2);
    forged.seq = 3;
    forged.action = "org.create".to_owned();
    forged.prev_hash = row(&conn, 2).hash;
    forged.hash = forged.hash_as(3).to_vec();
    conn.execute(
        &format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ),
        params![
            forged.seq,
            forged.time_ms,
            forged.org,
            forged.actor_kind,
            forged.actor_id,
            forged.source_ip,
            forged.action,
            forged.resource_type,
            forged.resource_id,
            forged.outcome,
            forged.details,
            forged.prev_hash,
            forged.hash
        ],
    )
    .unwrap();
    let v = violation(&f);
    assert_eq!(v, at(3, ViolationKind::Inserted), "{v}");
}

#[test]
fn a_new_entry_numbered_inside_the_pruned_range_is_reported_as_inserted() {
    let f = fixture();
    fill(&f, 4);
    f.clock.advance(400 * DAY);
    fill(&f, 2);
    let report = f.store.prune_audit(365 * DAY, &f.masters, &ctx()).unwrap();
    assert_eq!(report.pruned, 4);
    let conn = attacker(&f.store);
    let mut forged = row(&conn, 5);
    forged.seq = 2;
    forged.hash = forged.hash_as(2).to_vec();
    conn.execute(
        &format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS}) SELECT 2, time_ms, org, actor_kind, actor_id, \
             source_ip, action, resource_type, resource_id, outcome, details, prev_hash, ?1 \
             FROM audit_log WHERE seq = 5"
        ),
        [forged.hash],
    )
    .unwrap();
    assert_eq!(violation(&f), at(2, ViolationKind::Inserted));
}

#[test]
fn swapped_entries_are_reported_as_reordered() {
    let f = fixture();
    fill(&f, 5);
    let conn = attacker(&f.store);
    conn.execute_batch(
        "UPDATE audit_log SET seq = 100 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = 100;",
    )
    .unwrap();
    let v = violation(&f);
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
    let v = violation(&f);
    assert_eq!(v, at(3, ViolationKind::BrokenLink), "{v}");
    assert!(v.to_string().contains("rewritten"), "{v}");
}

#[test]
fn rewriting_an_entry_and_rehashing_every_later_one_is_caught_by_a_signed_checkpoint() {
    let f = fixture();
    fill(&f, 3);
    let first = f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
    assert_eq!(first.seq, AuditSeq(3));
    fill(&f, 4);
    let second = f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
    assert_eq!(second.seq, AuditSeq(7));
    fill(&f, 2);

    let conn = attacker(&f.store);
    conn.execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 5", [])
        .unwrap();
    rehash_from(&conn, 5);
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
    let err = f.store.audit_checkpoint(&f.masters).unwrap_err();
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
    let conn = attacker(&f.store);
    conn.execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 2", [])
        .unwrap();
    rehash_from(&conn, 2);
    assert!(
        f.store.verify_audit(&f.masters).is_ok(),
        "nothing signed covers entries 1 to 4"
    );
}

#[test]
fn a_forged_or_altered_checkpoint_is_caught() {
    let f = fixture();
    fill(&f, 3);
    f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
    fill(&f, 2);
    let conn = attacker(&f.store);

    // Re-point the checkpoint at another entry.
    conn.execute(
        "UPDATE audit_checkpoints SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)",
        [],
    )
    .unwrap();
    assert_eq!(violation(&f), at(4, ViolationKind::CheckpointForged));

    // Relabel a head checkpoint as a pruning one (which would excuse every entry before it).
    conn.execute(
        "UPDATE audit_checkpoints SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3), \
         kind = 'prune'",
        [],
    )
    .unwrap();
    assert_eq!(violation(&f), at(3, ViolationKind::CheckpointForged));

    // Sign a checkpoint with a key of the attacker's own.
    let theirs = SigningKey::from_bytes(&ringside_core::random_bytes());
    let hash = row(&conn, 5).hash;
    let signature = theirs
        .sign(&checkpoint_message("head", 5, &hash, 0))
        .to_bytes();
    conn.execute("DELETE FROM audit_checkpoints", []).unwrap();
    conn.execute(
        "INSERT INTO audit_checkpoints (kind, seq, hash, time_ms, signature) VALUES ('head', 5, ?1, 0, ?2)",
        params![hash, &signature[..]],
    )
    .unwrap();
    let v = violation(&f);
    assert_eq!(v, at(5, ViolationKind::CheckpointForged), "{v}");
    assert!(v.to_string().contains("forged"), "{v}");
}

#[test]
fn removing_the_signing_key_is_reported() {
    let f = fixture();
    fill(&f, 2);
    f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
    attacker(&f.store)
        .execute("DELETE FROM system_secrets", [])
        .unwrap();
    assert_eq!(violation(&f), at(2, ViolationKind::SigningKeyMissing));
}

#[test]
fn the_signing_key_cannot_be_used_without_the_master_key() {
    let f = fixture();
    fill(&f, 2);
    f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
    let other = MasterKeyring::single(MasterKey::generate(MasterKeyVersion::FIRST));
    let err = f.store.verify_audit(&other).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Vault(ringside_vault::Error::SecretUnwrapFailed { .. })
        ),
        "another master key cannot unwrap the checkpoint key: {err}"
    );
}

#[test]
fn a_checkpoint_signs_only_a_chain_that_links_up_to_the_last_one() {
    let f = fixture();
    assert_eq!(
        f.store.audit_checkpoint(&f.masters).unwrap(),
        None,
        "an empty log has nothing to sign"
    );
    fill(&f, 3);
    let first = f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
    assert_eq!(
        f.store.audit_checkpoint(&f.masters).unwrap(),
        None,
        "nothing new since the last checkpoint"
    );
    fill(&f, 2);
    attacker(&f.store)
        .execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 5", [])
        .unwrap();
    let err = f.store.audit_checkpoint(&f.masters).unwrap_err();
    assert!(
        matches!(err, Error::AuditViolation(v) if v == at(5, ViolationKind::Edited)),
        "tampering is never signed over: {err}"
    );
    let count: u32 = f
        .store
        .conn()
        .query_row("SELECT count(*) FROM audit_checkpoints", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1, "only the first checkpoint exists");
    let public = f.store.audit_public_key(&f.masters).unwrap().unwrap();
    let message = checkpoint_message("head", 3, &first.hash, first.time_ms);
    VerifyingKey::from_bytes(&public)
        .unwrap()
        .verify_strict(&message, &Signature::from_bytes(&first.signature))
        .expect("the checkpoint verifies under the published key and documented message");
}

#[test]
fn pruning_removes_old_entries_behind_a_signed_checkpoint_and_the_chain_still_verifies() {
    let f = fixture();
    fill(&f, 5);
    f.store.audit_checkpoint(&f.masters).unwrap().unwrap();
    f.clock.advance(200 * DAY);
    fill(&f, 3);
    f.clock.advance(200 * DAY);

    let report = f.store.prune_audit(365 * DAY, &f.masters, &ctx()).unwrap();
    assert_eq!(report.pruned, 5, "the five entries older than 365 days");
    let checkpoint = report.checkpoint.unwrap();
    assert_eq!(checkpoint.kind, CheckpointKind::Prune);
    assert_eq!(checkpoint.seq, AuditSeq(5), "the last pruned entry");
    assert_eq!(
        report.entry,
        Some(AuditSeq(9)),
        "the prune itself is recorded"
    );

    let verified = f.store.verify_audit(&f.masters).unwrap();
    assert_eq!(verified.pruned_through, Some(AuditSeq(5)));
    assert_eq!(verified.range, Some((AuditSeq(6), AuditSeq(9))));
    assert_eq!(verified.entries, 4);
    let conn = attacker(&f.store);
    assert_eq!(row(&conn, 9).action, "audit.prune");
    assert_eq!(row(&conn, 9).details, r#"{"pruned":5,"through_seq":5}"#);

    assert_eq!(
        f.store.prune_audit(365 * DAY, &f.masters, &ctx()).unwrap(),
        PruneReport {
            pruned: 0,
            checkpoint: None,
            entry: None
        },
        "nothing more is old enough: no checkpoint, no entry"
    );

    // Everything ages out; the chain continues from the pruning checkpoint.
    f.clock.advance(400 * DAY);
    let all = f.store.prune_audit(365 * DAY, &f.masters, &ctx()).unwrap();
    assert_eq!(all.pruned, 4);
    assert_eq!(all.entry, Some(AuditSeq(10)), "numbering goes on");
    fill(&f, 1);
    let verified = f.store.verify_audit(&f.masters).unwrap();
    assert_eq!(verified.pruned_through, Some(AuditSeq(9)));
    assert_eq!(verified.range, Some((AuditSeq(10), AuditSeq(11))));
    let checkpoints: u32 = f
        .store
        .conn()
        .query_row("SELECT count(*) FROM audit_checkpoints", [], |r| r.get(0))
        .unwrap();
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
    let report = f.store.prune_audit(365 * DAY, &f.masters, &ctx()).unwrap();
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
    attacker(&f.store)
        .execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 2", [])
        .unwrap();
    let err = f
        .store
        .prune_audit(365 * DAY, &f.masters, &ctx())
        .unwrap_err();
    assert!(
        matches!(err, Error::AuditViolation(v) if v == at(2, ViolationKind::Edited)),
        "the evidence is not pruned away: {err}"
    );
    assert_eq!(rows(&attacker(&f.store)).len(), 4, "nothing was removed");
}

#[test]
fn a_master_key_rotation_keeps_the_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path(),
        Arc::new(FakeClock::new(
            time::macros::datetime!(2026-11-23 09:00 UTC),
        )),
    )
    .unwrap();
    let source: KeySource = format!("file:{}", dir.path().join("master.key").display())
        .parse()
        .unwrap();
    let mut masters = source.load_or_create().unwrap();
    store
        .record_audit(&ctx().entry("test.event", "thing"))
        .unwrap();
    store.audit_checkpoint(&masters).unwrap().unwrap();
    let before = store.audit_public_key(&masters).unwrap();
    assert_eq!(
        store.master_versions_in_use().unwrap(),
        vec![MasterKeyVersion(1)],
        "the wrapped signing key counts as a use of the master key"
    );

    let plan = masters.rotate_target(&source).unwrap();
    store
        .rewrap_all(&masters, masters.get(plan.target).unwrap(), &ctx())
        .unwrap();
    masters.finish_rotation(&source, &plan).unwrap();
    let reloaded = source.load().unwrap();
    assert_eq!(reloaded.versions(), vec![MasterKeyVersion(2)]);
    assert_eq!(
        store.audit_public_key(&reloaded).unwrap(),
        before,
        "the same signing key, now under v2"
    );
    store
        .verify_audit(&reloaded)
        .expect("old checkpoints verify after the rotation");
}

#[test]
fn a_system_secret_is_created_once_and_stored_only_wrapped() {
    let f = fixture();
    let first = f.store.system_secret("blind-index", &f.masters).unwrap();
    let again = f.store.system_secret("blind-index", &f.masters).unwrap();
    assert_eq!(*first, *again, "the same secret every time");
    let other = f.store.system_secret("other", &f.masters).unwrap();
    assert_ne!(*first, *other, "each purpose has its own");
    let wrapped: Vec<u8> = f
        .store
        .conn()
        .query_row(
            "SELECT wrapped FROM system_secrets WHERE purpose = 'blind-index'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !wrapped.windows(32).any(|w| w == &first[..]),
        "the stored bytes do not contain the secret"
    );
}

fn org_event(f: &Fixture, org: OrgId, actor: &Actor, action: &'static str, outcome: AuditOutcome) {
    f.clock.advance(Duration::from_secs(60));
    let entry = AuditEntry::new(actor.clone(), action, "user")
        .in_org(org)
        .resource(UserId::random())
        .outcome(outcome);
    f.store.record_audit(&entry).unwrap();
}

#[test]
fn an_org_admin_sees_only_that_orgs_entries_filtered_and_paged() {
    let f = fixture();
    let (a, b) = (OrgId::random(), OrgId::random());
    let alice = Actor::user(UserId::random());
    let bob = Actor::user(UserId::random());
    let start = f.clock.now();
    for i in 0..6 {
        let actor = if i % 2 == 0 { &alice } else { &bob };
        org_event(&f, a, actor, "auth.login", AuditOutcome::Success);
        org_event(&f, b, actor, "auth.login", AuditOutcome::Failure);
    }
    org_event(&f, a, &alice, "auth.logout", AuditOutcome::Success);
    org_event(&f, a, &alice, "user.role_change", AuditOutcome::Denied);
    fill(&f, 2); // installation-level

    let everything = f
        .store
        .query_audit(a, &AuditFilter::default(), AuditPage::default())
        .unwrap();
    assert_eq!(everything.len(), 8, "org A's eight entries");
    let org_a = a.to_string();
    assert!(
        everything
            .iter()
            .all(|r| r.org.as_deref() == Some(org_a.as_str())),
        "never another org's or an installation-level entry"
    );
    assert!(
        everything.windows(2).all(|w| w[0].seq < w[1].seq),
        "oldest first"
    );

    let query = |filter: AuditFilter| {
        f.store
            .query_audit(a, &filter, AuditPage::default())
            .unwrap()
    };
    assert_eq!(
        query(AuditFilter {
            actor: Some(bob.clone()),
            ..AuditFilter::default()
        })
        .len(),
        3,
        "by actor"
    );
    assert_eq!(
        query(AuditFilter {
            action: Some("auth.login".to_owned()),
            ..AuditFilter::default()
        })
        .len(),
        6,
        "by exact action"
    );
    assert_eq!(
        query(AuditFilter {
            action: Some("auth.*".to_owned()),
            ..AuditFilter::default()
        })
        .len(),
        7,
        "by action prefix"
    );
    assert_eq!(
        query(AuditFilter {
            action: Some("auth".to_owned()),
            ..AuditFilter::default()
        })
        .len(),
        0,
        "a bare word is an exact match, not a prefix"
    );
    assert_eq!(
        query(AuditFilter {
            resource_type: Some("org".to_owned()),
            ..AuditFilter::default()
        })
        .len(),
        0,
        "by resource type"
    );
    let window = query(AuditFilter {
        from: Some(start + Duration::from_secs(60 * 3)),
        to: Some(start + Duration::from_secs(60 * 7)),
        ..AuditFilter::default()
    });
    assert_eq!(
        window.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![3, 5],
        "from inclusive, to exclusive"
    );
    let denied = query(AuditFilter {
        actor: Some(alice.clone()),
        action: Some("user.role_change".to_owned()),
        ..AuditFilter::default()
    });
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].outcome, AuditOutcome::Denied);
    assert_eq!(denied[0].actor.kind, ActorKind::User);

    let first = f
        .store
        .query_audit(
            a,
            &AuditFilter::default(),
            AuditPage {
                after_seq: None,
                limit: 3,
            },
        )
        .unwrap();
    let next = f
        .store
        .query_audit(
            a,
            &AuditFilter::default(),
            AuditPage {
                after_seq: Some(AuditSeq(first[2].seq)),
                limit: 3,
            },
        )
        .unwrap();
    assert_eq!(first.len(), 3);
    assert!(
        next[0].seq > first[2].seq,
        "the next page continues after the last seq"
    );
    assert_eq!(
        [first, next].concat(),
        everything[..6].to_vec(),
        "two pages are the first six entries"
    );
    let huge = f
        .store
        .query_audit(
            a,
            &AuditFilter::default(),
            AuditPage {
                after_seq: None,
                limit: 1_000_000,
            },
        )
        .unwrap();
    assert_eq!(huge.len(), 8, "a limit above 500 is clamped, not an error");
    assert!(
        f.store
            .query_audit(
                OrgId::random(),
                &AuditFilter::default(),
                AuditPage::default()
            )
            .unwrap()
            .is_empty(),
        "an unknown org sees nothing"
    );
}

#[test]
fn an_export_is_audited_first_and_includes_its_own_entry() {
    let f = fixture();
    fill(&f, 3);
    let cutoff = f.clock.now();
    fill(&f, 2);
    let mut records = Vec::new();
    let report = f
        .store
        .export_audit(&ctx(), Some(cutoff), "jsonl", |r| {
            records.push(r.clone());
            Ok(())
        })
        .unwrap();
    assert_eq!(report.entry, AuditSeq(6), "the export is entry 6");
    assert_eq!(
        report.records, 4,
        "entries 3 (at the cutoff), 4, 5 and the export's own"
    );
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![3, 4, 5, 6]
    );
    let own = records.last().unwrap();
    assert_eq!(own.action, "audit.export");
    assert_eq!(
        own.details,
        format!(r#"{{"format":"jsonl","since_ms":{}}}"#, unix_ms(cutoff))
    );
    assert_eq!(own.prev_hash, records[2].hash, "records carry the chain");

    let err = f
        .store
        .export_audit(&ctx(), None, "csv", |_| {
            Err(std::io::Error::other("stdout closed"))
        })
        .unwrap_err();
    assert!(matches!(err, Error::Export(_)), "got {err}");
    let conn = attacker(&f.store);
    assert_eq!(
        row(&conn, 7).action,
        "audit.export",
        "an export that failed midway is still on record"
    );
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
fn validation_refuses_personal_data_shapes_and_names_only_the_field() {
    let ctx = AuditContext::system("test");
    let email = "zebulon.q@example.com";
    let cases = [
        (
            ctx.entry("org.create", "org").resource(email),
            "resource_id",
        ),
        (ctx.entry("org.create", "org").detail("who", email), "who"),
        (
            ctx.entry("org.create", "org")
                .detail("phone", "+14155550123"),
            "phone",
        ),
        (
            ctx.entry("org.create", "org")
                .detail("name", "Zebulon Quartermaine"),
            "name",
        ),
        (ctx.entry("create", "org"), "action"),
        (ctx.entry("Org.Create", "org"), "action"),
        (ctx.entry("org.create", "Org"), "resource_type"),
        (
            AuditEntry::new(
                Actor {
                    kind: ringside_core::wire::ActorKind::User,
                    id: email.to_owned(),
                },
                "org.create",
                "org",
            ),
            "actor",
        ),
    ];
    for (entry, field) in cases {
        let err = validate(&entry).expect_err("the entry must be refused");
        let message = err.to_string();
        assert!(
            matches!(&err, Error::InvalidAuditEntry { field: f, .. } if *f == field),
            "blamed on {field}: {message}"
        );
        for secret in [email, "+14155550123", "Zebulon"] {
            assert!(
                !message.contains(secret),
                "the message must not repeat the value: {message}"
            );
        }
    }
    let ok = ctx
        .entry("auth.login", "user")
        .resource(ringside_core::UserId::random())
        .count("attempts", 3)
        .flag("mfa", true)
        .detail("reason", "bad_password");
    validate(&ok).expect("ids, counts, flags and codes are accepted");
    assert_eq!(
        ok.details.to_json(),
        r#"{"attempts":3,"mfa":true,"reason":"bad_password"}"#,
        "details are compact JSON with sorted keys"
    );
}
