//! `ringside-relay audit verify` and `audit export` through the real binary, on real database
//! files — some tampered with directly in SQLite, as someone holding the file would.
//!
//! The hash is recomputed here from `docs/audit.md` alone (not with the store's code), which is
//! what an external system re-verifying an export does.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use ringside_core::wire::AuditRecord;
use ringside_core::{FakeClock, SystemClock};
use ringside_store::{AuditContext, Store};
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_ringside-relay");

/// A data folder with a configuration file, as `config_for` makes it.
struct Relay {
    dir: tempfile::TempDir,
}

impl Relay {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        crate::utils::config_for(dir.path(), "");
        Self { dir }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn db(&self) -> PathBuf {
        self.data().join(ringside_store::DB_FILE)
    }

    /// Runs the binary with a clean environment on this data folder.
    fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(BIN)
            .env_clear()
            .env("HOME", self.dir.path())
            .arg("--config")
            .arg(self.dir.path().join("relay.toml"))
            .args(args)
            .output()
            .unwrap()
    }

    /// `n` audited events, written through the store as the relay writes them.
    fn events(&self, n: usize) {
        let store = Store::open(&self.data(), Arc::new(SystemClock)).unwrap();
        record(&store, n);
    }
}

fn record(store: &Store, n: usize) {
    for i in 0..n {
        let entry = AuditContext::system("test")
            .entry("test.event", "thing")
            .count("i", i as u64);
        store.audit().record_audit(&entry).unwrap();
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The attacker's connection: the triggers that stop accidents are simply dropped.
fn attacker(db: &Path) -> Connection {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS audit_log_is_append_only;
         DROP TRIGGER IF EXISTS audit_log_deletes_only_through_the_pruner;
         DROP TRIGGER IF EXISTS audit_log_numbers_entries_one_by_one;
         DROP TRIGGER IF EXISTS audit_checkpoints_are_append_only;",
    )
    .unwrap();
    conn
}

// ---- docs/audit.md, "The hash", implemented from the text -----------------------------------

fn frame(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn optional(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => out.push(0),
        Some(text) => {
            out.push(1);
            frame(out, text.as_bytes());
        }
    }
}

/// Fields in hash order: seq, time_ms, org?, actor_kind, actor_id, source_ip?, action,
/// resource_type, resource_id?, outcome, details.
struct Fields<'a> {
    seq: i64,
    time_ms: i64,
    org: Option<&'a str>,
    actor_kind: &'a str,
    actor_id: &'a str,
    source_ip: Option<&'a str>,
    action: &'a str,
    resource_type: &'a str,
    resource_id: Option<&'a str>,
    outcome: &'a str,
    details: &'a str,
}

fn entry_hash(prev: &[u8], f: &Fields<'_>) -> [u8; 32] {
    let mut m = Vec::new();
    frame(&mut m, b"ringside/audit/entry/v1");
    frame(&mut m, prev);
    frame(&mut m, &f.seq.to_be_bytes());
    frame(&mut m, &f.time_ms.to_be_bytes());
    optional(&mut m, f.org);
    frame(&mut m, f.actor_kind.as_bytes());
    frame(&mut m, f.actor_id.as_bytes());
    optional(&mut m, f.source_ip);
    frame(&mut m, f.action.as_bytes());
    frame(&mut m, f.resource_type.as_bytes());
    optional(&mut m, f.resource_id);
    frame(&mut m, f.outcome.as_bytes());
    frame(&mut m, f.details.as_bytes());
    Sha256::digest(&m).into()
}

fn record_fields(r: &AuditRecord) -> Fields<'_> {
    Fields {
        seq: r.seq as i64,
        time_ms: r.time_ms,
        org: r.org.as_deref(),
        actor_kind: r.actor.kind.as_str(),
        actor_id: &r.actor.id,
        source_ip: r.source_ip.as_deref(),
        action: &r.action,
        resource_type: &r.resource_type,
        resource_id: r.resource_id.as_deref(),
        outcome: r.outcome.as_str(),
        details: &r.details,
    }
}

/// Re-verifies exported records the way an outside system would: numbering, links, hashes.
fn reverify(records: &[AuditRecord]) {
    let mut prev = hex::encode([0u8; 32]);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(
            r.seq,
            i as u64 + 1,
            "entries are numbered from 1 without gaps"
        );
        assert_eq!(r.prev_hash, prev, "entry {} links to the one before", r.seq);
        let prev_bytes = hex::decode(&r.prev_hash).unwrap();
        assert_eq!(
            hex::encode(entry_hash(&prev_bytes, &record_fields(r))),
            r.hash,
            "entry {}'s hash recomputes from the documented encoding",
            r.seq
        );
        prev = r.hash.clone();
    }
}

// ---- an attacker's tools on the raw table ----------------------------------------------------

type Row = (
    i64,
    i64,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    Vec<u8>,
);

fn raw_rows(conn: &Connection) -> Vec<Row> {
    let mut stmt = conn
        .prepare(
            "SELECT seq, time_ms, org, actor_kind, actor_id, source_ip, action, resource_type, \
             resource_id, outcome, details, prev_hash FROM audit_log ORDER BY seq",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn row_hash(prev: &[u8], r: &Row) -> [u8; 32] {
    entry_hash(
        prev,
        &Fields {
            seq: r.0,
            time_ms: r.1,
            org: r.2.as_deref(),
            actor_kind: &r.3,
            actor_id: &r.4,
            source_ip: r.5.as_deref(),
            action: &r.6,
            resource_type: &r.7,
            resource_id: r.8.as_deref(),
            outcome: &r.9,
            details: &r.10,
        },
    )
}

/// Recomputes every link and hash from genesis: the "edit and re-hash everything" attack.
fn rehash_all(conn: &Connection) {
    let mut prev = vec![0u8; 32];
    for row in raw_rows(conn) {
        let hash = row_hash(&prev, &row);
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            params![row.0, prev, &hash[..]],
        )
        .unwrap();
        prev = hash.to_vec();
    }
}

// ---- verify ---------------------------------------------------------------------------------

#[test]
fn help_lists_the_audit_commands() {
    let relay = Relay::new();
    let help = stdout(&relay.run(&["audit", "--help"]));
    for command in ["verify", "export"] {
        assert!(
            help.contains(command),
            "`audit --help` lists {command}:\n{help}"
        );
    }
    let export = stdout(&relay.run(&["audit", "export", "--help"]));
    for text in ["--format", "jsonl", "csv", "--since", "RFC3339"] {
        assert!(
            export.contains(text),
            "export help documents {text}:\n{export}"
        );
    }
}

#[test]
fn verify_exits_0_with_a_summary_and_signs_the_head() {
    let relay = Relay::new();
    relay.events(3);
    let out = relay.run(&["audit", "verify"]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "verify passes: {text} {}",
        stderr(&out)
    );
    assert!(
        text.contains("audit log OK: 3 entries verified, 1 to 3 (from the first entry)"),
        "summary: {text}"
    );
    assert!(text.contains("this run: recorded as entry 4"), "{text}");
    assert!(text.contains("signed head: entry 4 hash "), "{text}");
    let key_line = text
        .lines()
        .find(|l| l.starts_with("checkpoint key (Ed25519): "))
        .expect("the key is printed");
    assert_eq!(
        key_line.len(),
        "checkpoint key (Ed25519): ".len() + 64,
        "{key_line}"
    );

    let again = relay.run(&["audit", "verify"]);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}");
    assert!(
        text.contains("4 entries verified") && text.contains("checkpoints: 1 signature(s) valid"),
        "the second run checks the first run's entry and checkpoint: {text}"
    );
    assert!(
        text.contains(key_line),
        "the same key signs every checkpoint: {text}"
    );
}

/// Tampers with the raw table.
type Tamper = fn(&Connection);

/// Each tampering, done on a fresh log of 6 entries, and the first bad entry verify must name.
#[test]
fn verify_exits_1_naming_the_first_bad_entry_for_each_kind_of_tampering() {
    let cases: [(&str, Tamper, &str); 5] = [
        (
            "edit",
            |c| {
                c.execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 4", [])
                    .unwrap();
            },
            "entry 4 was edited",
        ),
        (
            "delete",
            |c| {
                c.execute("DELETE FROM audit_log WHERE seq = 2", [])
                    .unwrap();
            },
            "entry 2 was deleted: 1 entry missing",
        ),
        (
            "delete and renumber",
            |c| {
                c.execute_batch(
                    "DELETE FROM audit_log WHERE seq = 3;
                     UPDATE audit_log SET seq = seq - 1 WHERE seq > 3;",
                )
                .unwrap();
            },
            "entry 3 was deleted",
        ),
        (
            "insert",
            |c| {
                // Make room at 3 and add a forged entry that links correctly to entry 2.
                c.execute_batch(
                    "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3;
                     UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103;",
                )
                .unwrap();
                let rows = raw_rows(c);
                let mut forged = rows[1].clone();
                forged.0 = 3;
                forged.6 = "org.delete".to_owned();
                let prev: Vec<u8> = c
                    .query_row("SELECT hash FROM audit_log WHERE seq = 2", [], |r| r.get(0))
                    .unwrap();
                let hash = row_hash(&prev, &forged);
                c.execute(
                    "INSERT INTO audit_log SELECT 3, time_ms, org, actor_kind, actor_id, \
                     source_ip, 'org.delete', resource_type, resource_id, outcome, details, ?1, ?2 \
                     FROM audit_log WHERE seq = 2",
                    params![prev, &hash[..]],
                )
                .unwrap();
            },
            "entry 3 was inserted",
        ),
        (
            "reorder",
            |c| {
                c.execute_batch(
                    "UPDATE audit_log SET seq = 100 WHERE seq = 5;
                     UPDATE audit_log SET seq = 5 WHERE seq = 6;
                     UPDATE audit_log SET seq = 6 WHERE seq = 100;",
                )
                .unwrap();
            },
            "entry 5 was reordered",
        ),
    ];
    for (name, tamper, expect) in cases {
        let relay = Relay::new();
        relay.events(6);
        tamper(&attacker(&relay.db()));
        let out = relay.run(&["audit", "verify"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: verify fails: {err}");
        assert!(
            err.contains(&format!("audit log verification failed: {expect}")),
            "{name}: names the first bad entry ({expect}): {err}"
        );
        assert!(
            !stdout(&out).contains("OK"),
            "{name}: nothing claims success"
        );
    }
}

#[test]
fn rehashing_the_whole_chain_after_an_edit_is_caught_by_the_signed_head() {
    let relay = Relay::new();
    relay.events(5);
    assert!(
        relay.run(&["audit", "verify"]).status.success(),
        "signs entry 6"
    );
    relay.events(2);
    let conn = attacker(&relay.db());
    conn.execute("UPDATE audit_log SET outcome = 'failure' WHERE seq = 2", [])
        .unwrap();
    rehash_all(&conn);
    let out = relay.run(&["audit", "verify"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "entry 6 no longer matches its signed checkpoint: an entry up to 6 was rewritten"
        ),
        "the rewrite is caught at the checkpoint: {err}"
    );
}

#[test]
fn a_forged_checkpoint_is_caught() {
    let relay = Relay::new();
    relay.events(2);
    assert!(relay.run(&["audit", "verify"]).status.success());
    attacker(&relay.db())
        .execute("UPDATE audit_checkpoints SET signature = zeroblob(64)", [])
        .unwrap();
    let out = relay.run(&["audit", "verify"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the checkpoint at entry 3 has an invalid signature"),
        "{err}"
    );
}

#[test]
fn a_failed_verification_is_itself_recorded() {
    let relay = Relay::new();
    relay.events(3);
    attacker(&relay.db())
        .execute("UPDATE audit_log SET details = '{}' WHERE seq = 2", [])
        .unwrap();
    assert_eq!(relay.run(&["audit", "verify"]).status.code(), Some(1));
    let (outcome, details): (String, String) = Connection::open(relay.db())
        .unwrap()
        .query_row(
            "SELECT outcome, details FROM audit_log WHERE action = 'audit.verify'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(outcome, "failure");
    assert_eq!(details, r#"{"first_bad_seq":2,"violation":"edited"}"#);
}

#[test]
fn verify_passes_after_pruning_with_a_checkpoint() {
    let relay = Relay::new();
    {
        // Entries written 400 days ago, then 2 recent ones.
        let old = Arc::new(FakeClock::new(
            time::OffsetDateTime::now_utc() - Duration::from_secs(400 * 86_400),
        ));
        let store = Store::open(&relay.data(), old).unwrap();
        record(&store, 4);
    }
    relay.events(2);
    let config = crate::utils::config_for(relay.dir.path(), "");
    assert_eq!(config.retention.audit_days, 365, "the default retention");
    let report =
        ringside_relay::commands::audit::prune(&config, &AuditContext::system("hygiene")).unwrap();
    assert_eq!(report.pruned, 4, "the four entries past 365 days");
    let out = relay.run(&["audit", "verify"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    assert!(
        text.contains("3 entries verified, 5 to 7 (from the pruning checkpoint at entry 4)"),
        "verification starts at the checkpoint: {text}"
    );
}

// ---- export ---------------------------------------------------------------------------------

#[test]
fn a_jsonl_export_can_be_reverified_outside_ringside_and_is_itself_audited() {
    let relay = Relay::new();
    relay.events(3);
    let out = relay.run(&["audit", "export", "--format", "jsonl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<AuditRecord> = stdout(&out)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "three events and the export itself");
    reverify(&records);
    let own = &records[3];
    assert_eq!(own.action, "audit.export");
    assert_eq!(own.actor.id, "cli");
    assert_eq!(own.details, r#"{"format":"jsonl"}"#);

    let future = relay.run(&["audit", "export", "--since", "2100-01-01T00:00:00Z"]);
    assert!(future.status.success());
    assert_eq!(
        stdout(&future).lines().count(),
        0,
        "nothing is that recent (the export's own entry is dated now)"
    );
    let recorded: u32 = Connection::open(relay.db())
        .unwrap()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'audit.export'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded, 2, "every export is recorded, even an empty one");
}

/// A minimal RFC 4180 reader, as a spreadsheet or SIEM would parse the export.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

#[test]
fn a_csv_export_is_escaped_and_carries_what_is_needed_to_reverify() {
    let relay = Relay::new();
    relay.events(2);
    let out = relay.run(&["audit", "export", "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(r#""{""i"":0}""#),
        "the details JSON is quoted with its quotes doubled: {text}"
    );
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0].join(","),
        ringside_relay::commands::audit::CSV_HEADER,
        "a header row first"
    );
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let records: Vec<AuditRecord> = rows[1..]
        .iter()
        .map(|r| {
            let opt = |name: &str| Some(r[column(name)].clone()).filter(|v| !v.is_empty());
            AuditRecord {
                seq: r[column("seq")].parse().unwrap(),
                time_ms: r[column("time_ms")].parse().unwrap(),
                org: opt("org"),
                actor: ringside_core::wire::Actor {
                    kind: r[column("actor_kind")].parse().unwrap(),
                    id: r[column("actor_id")].clone(),
                },
                source_ip: opt("source_ip"),
                action: r[column("action")].clone(),
                resource_type: r[column("resource_type")].clone(),
                resource_id: opt("resource_id"),
                outcome: r[column("outcome")].parse().unwrap(),
                details: r[column("details")].clone(),
                prev_hash: r[column("prev_hash")].clone(),
                hash: r[column("hash")].clone(),
            }
        })
        .collect();
    assert_eq!(records.len(), 3);
    reverify(&records);
    let time = &rows[1][column("time")];
    assert!(
        time.ends_with('Z') && time.contains('T'),
        "a readable RFC 3339 time: {time}"
    );
}

#[test]
fn a_bad_since_is_refused_before_anything_is_recorded() {
    let relay = Relay::new();
    let out = relay.run(&["audit", "export", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(stderr(&out).contains("RFC 3339"), "{}", stderr(&out));
    assert!(
        !relay.db().exists(),
        "nothing was opened or recorded for a refused command"
    );
}
