//! Tests of the audit log on real SQLite files. Tampering is done the way an attacker with the
//! file would do it: a second connection, the triggers dropped, rows edited, deleted, inserted,
//! renumbered or re-hashed directly — then `verify` must name the first bad entry number.
//!
//! This file holds the shared fixtures; the tests sit beside it, one file per area of the log.

mod append;
mod chain;
mod checkpoint;
mod entry;
mod export;
mod prune;
mod query;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use ringside_core::wire::{Actor, ActorKind, AuditOutcome};
use ringside_core::{Clock, FakeClock, OrgId, UserId};
use ringside_vault::{KeySource, MasterKey, MasterKeyVersion, MasterKeyring};
use rusqlite::{Connection, params};

use super::chain::{ENTRY_COLUMNS, StoredEntry, stored_entry};
use super::*;

const DAY: Duration = Duration::from_secs(86_400);
/// When every test's clock starts.
const START: OffsetDateTime = time::macros::datetime!(2026-11-23 09:00 UTC);

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    clock: FakeClock,
    masters: MasterKeyring,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new(START);
    let store = Store::open(dir.path(), Arc::new(clock.clone())).unwrap();
    Fixture {
        _dir: dir,
        store,
        clock,
        masters: MasterKeyring::single(MasterKey::generate(MasterKeyVersion::FIRST)),
    }
}

/// A store whose master key lives in a key file beside it, so the key can be rotated.
fn with_key_file() -> (tempfile::TempDir, Store, KeySource, MasterKeyring) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Arc::new(FakeClock::new(START))).unwrap();
    let source: KeySource = format!("file:{}", dir.path().join("master.key").display())
        .parse()
        .unwrap();
    let masters = source.load_or_create().unwrap();
    (dir, store, source, masters)
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
            f.store.audit().record_audit(&entry).unwrap()
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

/// Runs SQL (one or more statements) as the attacker.
fn tamper(f: &Fixture, sql: &str) {
    attacker(&f.store).execute_batch(sql).unwrap();
}

/// How many rows `table` holds.
fn count_rows(store: &Store, table: &str) -> u32 {
    store
        .conn()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
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

/// Edits entry `seq`, then recomputes `prev_hash` and `hash` of it and every later entry, in
/// order — the full re-hash an attacker who knows the (public) algorithm can do without any secret.
fn rewrite_and_rehash(conn: &Connection, seq: i64) {
    conn.execute(
        "UPDATE audit_log SET outcome = 'denied' WHERE seq = ?1",
        [seq],
    )
    .unwrap();
    let mut prev: Option<Vec<u8>> = None;
    for mut entry in rows(conn) {
        if entry.seq >= seq {
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
    match f.store.audit().verify_audit(&f.masters) {
        Err(Error::AuditViolation(v)) => v,
        other => panic!("verification should have failed, got {other:?}"),
    }
}

/// Verification fails at `expected`, with a message that says `words`.
fn assert_violation(f: &Fixture, expected: AuditViolation, words: &str) {
    let v = violation(f);
    assert_eq!(v, expected, "{v}");
    assert!(v.to_string().contains(words), "{v}");
}

fn at(seq: u64, kind: ViolationKind) -> AuditViolation {
    AuditViolation {
        seq: AuditSeq(seq),
        kind,
    }
}
