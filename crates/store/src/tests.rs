//! Tests of the store on real SQLite files in temporary folders.

use std::sync::Arc;

use ringside_core::FakeClock;
use ringside_vault::{KeySource, MasterKey, MasterKeyVersion, MasterKeyring, SealContext};
use rusqlite::Connection;

use crate::{AuditContext, Error, Migration, Store, latest_version, test_support::store};

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::new(
        time::macros::datetime!(2026-11-23 09:00 UTC),
    ))
}

fn pragma(store: &Store, name: &str) -> String {
    store
        .conn()
        .query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
}

#[test]
fn a_fresh_database_gets_every_migration_and_the_safety_pragmas() {
    let (_dir, store) = store();
    assert_eq!(store.migrations().from, 0);
    assert_eq!(store.migrations().to, latest_version());
    assert_eq!(store.schema_version().unwrap(), latest_version());
    assert_eq!(
        pragma(&store, "journal_mode"),
        "wal",
        "readers must not block the writer"
    );
    assert_eq!(
        pragma(&store, "foreign_keys"),
        "1",
        "org deletion must cascade"
    );
    assert_eq!(
        pragma(&store, "secure_delete"),
        "1",
        "purged values must not linger in free pages"
    );
    assert_eq!(
        pragma(&store, "synchronous"),
        "2",
        "FULL: an acknowledged write survives power loss"
    );
    store.ping().unwrap();
}

#[test]
fn reopening_applies_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path(), clock()).unwrap();
    let again = Store::open(dir.path(), clock()).unwrap();
    assert_eq!(
        again.migrations().from,
        latest_version(),
        "nothing pending on the second open"
    );
    assert_eq!(again.migrations().to, latest_version());
    let count: u32 = again
        .conn()
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        count as usize,
        crate::MIGRATIONS.len(),
        "each migration is recorded once"
    );
}

#[test]
fn a_database_from_a_newer_relay_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ringside.db");
    Store::open_file(&path, clock()).unwrap();
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations VALUES (999, 'from_the_future', 'x', 0)",
            [],
        )
        .unwrap();
    let err = Store::open_file(&path, clock()).unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooNew { found: 999, .. }),
        "got {err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("999") && msg.contains("upgrade ringside-relay"),
        "the message says what to do: {msg}"
    );
}

#[test]
fn an_edited_migration_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.db");
    let v1 = [Migration {
        version: 1,
        name: "t",
        sql: "CREATE TABLE t (a INTEGER) STRICT;",
    }];
    Store::open_with(&path, clock(), &v1).unwrap();
    let edited = [Migration {
        version: 1,
        name: "t",
        sql: "CREATE TABLE t (a TEXT) STRICT;",
    }];
    let err = Store::open_with(&path, clock(), &edited).unwrap_err();
    assert!(
        matches!(err, Error::MigrationEdited { version: 1, .. }),
        "got {err:?}"
    );
}

#[test]
fn a_failing_migration_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("failing.db");
    let migrations = [
        Migration {
            version: 1,
            name: "good",
            sql: "CREATE TABLE good (a INTEGER) STRICT;",
        },
        Migration {
            version: 2,
            name: "bad",
            sql: "CREATE TABLE broken (;",
        },
    ];
    let err = Store::open_with(&path, clock(), &migrations).unwrap_err();
    assert!(
        matches!(err, Error::MigrationFailed { version: 2, .. }),
        "got {err:?}"
    );
    let conn = Connection::open(&path).unwrap();
    let tables: u32 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('good', 'schema_migrations')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        tables, 0,
        "the transaction rolled back migration 1 with migration 2"
    );
}

/// Tests act as the CLI would.
fn audit_ctx() -> AuditContext {
    AuditContext::system("test")
}

fn ring() -> MasterKeyring {
    MasterKeyring::single(MasterKey::generate(MasterKeyVersion::FIRST))
}

#[test]
fn an_org_key_is_stored_wrapped_and_unwraps_to_a_working_key() {
    let (_dir, store) = store();
    let masters = ring();
    let org = store
        .orgs()
        .create_org("Acme Insurance", &masters, &audit_ctx())
        .unwrap();
    assert_eq!(store.orgs().org(org.id).unwrap().name, "Acme Insurance");
    let keys = store.orgs().org_keyring(org.id, &masters).unwrap();
    let ctx = SealContext::new(org.id, "calls", "from_number", b"row-1");
    let sealed = keys.seal(&ctx, b"+14155550100").unwrap();
    let reopened = store.orgs().org_keyring(org.id, &masters).unwrap();
    assert_eq!(&reopened.open(&ctx, &sealed).unwrap()[..], b"+14155550100");
}

#[test]
fn another_master_key_cannot_unwrap_an_org_key() {
    let (_dir, store) = store();
    let org = store
        .orgs()
        .create_org("Acme", &ring(), &audit_ctx())
        .unwrap();
    assert!(
        store.orgs().org_keyring(org.id, &ring()).is_err(),
        "a different master key must not unwrap"
    );
}

#[test]
fn a_rotation_rewraps_every_org_key_and_old_data_still_opens_with_only_the_new_version() {
    let (dir, store) = store();
    let source: KeySource = format!("file:{}", dir.path().join("master.key").display())
        .parse()
        .unwrap();
    let mut masters = source.load_or_create().unwrap();
    let a = store
        .orgs()
        .create_org("A", &masters, &audit_ctx())
        .unwrap();
    let b = store
        .orgs()
        .create_org("B", &masters, &audit_ctx())
        .unwrap();
    let ctx = SealContext::new(a.id, "calls", "note", b"1");
    let sealed = store
        .orgs()
        .org_keyring(a.id, &masters)
        .unwrap()
        .seal(&ctx, b"marker")
        .unwrap();

    let plan = masters.rotate_target(&source).unwrap();
    let target = masters.get(plan.target).unwrap();
    assert_eq!(
        store
            .orgs()
            .rewrap_all(&masters, target, &audit_ctx())
            .unwrap(),
        2,
        "both orgs' keys re-wrapped"
    );
    assert_eq!(
        store.orgs().master_versions_in_use().unwrap(),
        vec![plan.target]
    );
    assert_eq!(
        store
            .orgs()
            .rewrap_all(&masters, target, &audit_ctx())
            .unwrap(),
        0,
        "re-running re-wraps nothing"
    );
    masters.finish_rotation(&source, &plan).unwrap();

    let reloaded = source.load().unwrap();
    assert_eq!(
        reloaded.versions(),
        vec![MasterKeyVersion(2)],
        "version 1 is retired from the source"
    );
    let keys = store.orgs().org_keyring(a.id, &reloaded).unwrap();
    assert_eq!(
        &keys.open(&ctx, &sealed).unwrap()[..],
        b"marker",
        "old data opens after rotation"
    );
    store.orgs().org_keyring(b.id, &reloaded).unwrap();
}

#[test]
fn deleting_an_org_crypto_shreds_it() {
    let (_dir, store) = store();
    let masters = ring();
    let org = store
        .orgs()
        .create_org("Gone", &masters, &audit_ctx())
        .unwrap();
    store.orgs().delete_org(org.id, &audit_ctx()).unwrap();
    assert!(
        store.orgs().org_key_rows(org.id).unwrap().is_empty(),
        "the wrapped keys went with the org"
    );
    assert!(matches!(
        store.orgs().org_keyring(org.id, &masters),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.orgs().delete_org(org.id, &audit_ctx()),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn seal_counts_are_persisted_and_never_go_down() {
    let (_dir, store) = store();
    let masters = ring();
    let org = store
        .orgs()
        .create_org("Counting", &masters, &audit_ctx())
        .unwrap();
    let keys = store.orgs().org_keyring(org.id, &masters).unwrap();
    let ctx = SealContext::new(org.id, "t", "c", b"r");
    for _ in 0..3 {
        keys.seal(&ctx, b"x").unwrap();
    }
    store.orgs().record_seal_counts(&keys).unwrap();
    let stale = store.orgs().org_keyring(org.id, &masters).unwrap();
    assert_eq!(
        stale.newest().seal_count(),
        3,
        "the count survives a reload"
    );
    store
        .orgs()
        .record_seal_counts(&store.orgs().org_keyring(org.id, &masters).unwrap())
        .unwrap();
    assert_eq!(
        store.orgs().org_key_rows(org.id).unwrap()[0].seal_count,
        3,
        "a stale lower count never wins"
    );
}

#[test]
fn a_new_data_key_generation_seals_while_the_old_still_opens() {
    let (_dir, store) = store();
    let masters = ring();
    let org = store
        .orgs()
        .create_org("Gen", &masters, &audit_ctx())
        .unwrap();
    let mut keys = store.orgs().org_keyring(org.id, &masters).unwrap();
    let ctx = SealContext::new(org.id, "t", "c", b"r");
    let old = keys.seal(&ctx, b"old").unwrap();
    let generation = store
        .orgs()
        .add_org_key_generation(&mut keys, &masters, &audit_ctx())
        .unwrap();
    assert_eq!(generation.get(), 2);
    let reloaded = store.orgs().org_keyring(org.id, &masters).unwrap();
    assert_eq!(
        reloaded.newest().generation().get(),
        2,
        "new seals use the new generation"
    );
    assert_eq!(
        &reloaded.open(&ctx, &old).unwrap()[..],
        b"old",
        "the old generation still opens"
    );
}
