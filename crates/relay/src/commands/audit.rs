//! `ringside-relay audit verify` and `audit export`: the operator's view of the tamper-evident
//! audit log (`docs/audit.md`).
//!
//! `verify` walks the whole retained chain and every signed checkpoint, records the run as an
//! `audit.verify` entry (a failed check is itself security-relevant, ASVS 16.3), and on success
//! signs the new head — so any later rewrite of what was just verified is detectable even if the
//! rewriter recomputes every hash. It prints the head's hash and the checkpoint key: recorded
//! somewhere else, they also catch a rollback or truncation of the file (ASVS 16.4.3).
//!
//! `export` writes every entry with its `seq`, `prev_hash` and `hash`, so a system outside
//! Ringside can re-verify the chain from the export alone. The export is audited (`audit.export`)
//! before the first byte is written: an export that cannot be recorded does not happen.

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use ringside_core::SystemClock;
use ringside_core::wire::AuditRecord;
use ringside_store::{
    AuditContext, AuditSeq, AuditViolation, Checkpoint, ExportReport, PruneReport, Store,
    VerifyReport,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Config, Error};

/// How the CLI acts in the audit log.
fn cli() -> AuditContext {
    AuditContext::system("cli")
}

/// What `audit verify` found and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOutcome {
    /// The verification.
    pub report: VerifyReport,
    /// The `audit.verify` entry recording this run.
    pub entry: AuditSeq,
    /// The head checkpoint signed after the verification.
    pub checkpoint: Option<Checkpoint>,
}

impl fmt::Display for VerifyOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.report;
        let from = match r.pruned_through {
            None => "from the first entry".to_owned(),
            Some(seq) => format!("from the pruning checkpoint at entry {seq}"),
        };
        match r.range {
            None => writeln!(f, "audit log OK: no entries to check ({from})")?,
            Some((first, last)) => writeln!(
                f,
                "audit log OK: {} entries verified, {first} to {last} ({from})",
                r.entries
            )?,
        }
        writeln!(f, "checkpoints: {} signature(s) valid", r.checkpoints)?;
        writeln!(f, "this run: recorded as entry {}", self.entry)?;
        if let Some(checkpoint) = &self.checkpoint {
            writeln!(
                f,
                "signed head: entry {} hash {}",
                checkpoint.seq,
                hex::encode(checkpoint.hash)
            )?;
        }
        if let Some(key) = self.report.public_key {
            writeln!(f, "checkpoint key (Ed25519): {}", hex::encode(key))?;
        }
        write!(
            f,
            "keep the signed head and the key outside this machine: they reveal a later rollback or \
             truncation of the database"
        )
    }
}

/// Verifies the whole chain, records the run, and signs the head. A violation comes back as
/// `Error::Store(ringside_store::Error::AuditViolation(_))`, naming the first bad entry.
pub fn verify(config: &Config) -> Result<VerifyOutcome, Error> {
    let (store, masters) = crate::open::open_store(config, Arc::new(SystemClock))?;
    let entry = cli().entry("audit.verify", "audit_log");
    let report = match store.audit().verify_audit(&masters) {
        Ok(report) => report,
        Err(ringside_store::Error::AuditViolation(violation)) => {
            record_failure(&store, entry, violation);
            return Err(ringside_store::Error::AuditViolation(violation).into());
        }
        Err(other) => return Err(other.into()),
    };
    let entry = store
        .audit()
        .record_audit(&entry.count("entries", report.entries))?;
    let checkpoint = store.audit().audit_checkpoint(&masters)?;
    let public_key = store.audit().audit_public_key(&masters)?;
    tracing::info!(entries = report.entries, head = %entry, "audit log verified and head signed");
    Ok(VerifyOutcome {
        report: VerifyReport {
            public_key,
            ..report
        },
        entry,
        checkpoint,
    })
}

/// A failed verification is recorded too (appending does not need the chain to be intact). If
/// even that fails, the violation is still what the operator sees.
fn record_failure(store: &Store, entry: ringside_store::AuditEntry, violation: AuditViolation) {
    let entry = entry
        .failed()
        .count("first_bad_seq", violation.seq.0)
        .detail("violation", violation.kind.code());
    if let Err(err) = store.audit().record_audit(&entry) {
        tracing::error!("the failed verification could not be recorded: {err}");
    }
    tracing::error!(
        first_bad_seq = violation.seq.0,
        kind = violation.kind.code(),
        "audit log verification failed"
    );
}

/// Runs the retention pruner with `retention.audit_days` (the hygiene job's audit step).
pub fn prune(config: &Config, actor: &AuditContext) -> Result<PruneReport, Error> {
    let (store, masters) = crate::open::open_store(config, Arc::new(SystemClock))?;
    let days = u64::from(config.retention.audit_days);
    Ok(store.audit().prune_audit(
        std::time::Duration::from_secs(days * 86_400),
        &masters,
        actor,
    )?)
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line: the `AuditRecord` wire type.
    Jsonl,
    /// RFC 4180 CSV with a header row; `actor` is split into `actor_kind` and `actor_id`, and a
    /// readable `time` column is added.
    Csv,
}

impl ExportFormat {
    fn code(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::Csv => "csv",
        }
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: &str = "seq,time,time_ms,org,actor_kind,actor_id,source_ip,action,\
                              resource_type,resource_id,outcome,details,prev_hash,hash";

/// Writes the audit log from `since` on to `out`, after recording the export.
pub fn export(
    config: &Config,
    format: ExportFormat,
    since: Option<OffsetDateTime>,
    out: &mut dyn Write,
) -> Result<ExportReport, Error> {
    let store = Store::open(&config.data_dir, Arc::new(SystemClock))?;
    if format == ExportFormat::Csv {
        writeln!(out, "{CSV_HEADER}").map_err(Error::io("writing the export"))?;
    }
    let report = store
        .audit()
        .export_audit(&cli(), since, format.code(), &mut |record| match format {
            ExportFormat::Jsonl => {
                serde_json::to_writer(&mut *out, record).map_err(std::io::Error::other)?;
                out.write_all(b"\n")
            }
            ExportFormat::Csv => writeln!(out, "{}", csv_row(record)),
        })?;
    out.flush().map_err(Error::io("writing the export"))?;
    Ok(report)
}

/// One CSV line (without the line break).
pub fn csv_row(r: &AuditRecord) -> String {
    let time = OffsetDateTime::from_unix_timestamp_nanos(i128::from(r.time_ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let text = |value: Option<&str>| value.map(csv_field).unwrap_or_default();
    [
        r.seq.to_string(),
        csv_field(&time),
        r.time_ms.to_string(),
        text(r.org.as_deref()),
        csv_field(r.actor.kind.as_str()),
        csv_field(&r.actor.id),
        text(r.source_ip.as_deref()),
        csv_field(&r.action),
        csv_field(&r.resource_type),
        text(r.resource_id.as_deref()),
        csv_field(r.outcome.as_str()),
        csv_field(&r.details),
        csv_field(&r.prev_hash),
        csv_field(&r.hash),
    ]
    .join(",")
}

/// One CSV field: quoted (with quotes doubled) when it holds a comma, quote or line break
/// (RFC 4180). A field that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
/// `@`, tab or carriage return) is prefixed with `'` (OWASP CSV injection). Ringside never writes
/// such a value, so only a tampered entry is changed — and that one fails verification anyway.
pub fn csv_field(value: &str) -> String {
    let neutralized = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutralized.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutralized.replace('"', "\"\""))
    } else {
        neutralized
    }
}

/// Parses `--since`: an RFC 3339 time (`2026-01-31T00:00:00Z`).
pub fn parse_since(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| "expected an RFC 3339 time such as 2026-01-31T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed_and_quotes_are_doubled() {
        assert_eq!(csv_field("org.create"), "org.create", "plain text as is");
        assert_eq!(
            csv_field(r#"{"a":1,"b":"x"}"#),
            r#""{""a"":1,""b"":""x""}""#,
            "commas and quotes: quoted, quotes doubled"
        );
        assert_eq!(
            csv_field("two\nlines"),
            "\"two\nlines\"",
            "line breaks quoted"
        );
        assert_eq!(csv_field(""), "", "empty stays empty");
    }

    #[test]
    fn a_formula_is_neutralized_before_a_spreadsheet_can_run_it() {
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"", "neutralized, then quoted");
        assert_eq!(csv_field("usr_00"), "usr_00");
    }

    #[test]
    fn since_takes_rfc3339_and_refuses_anything_else() {
        assert_eq!(
            parse_since("2026-01-31T00:00:00Z").unwrap(),
            time::macros::datetime!(2026-01-31 00:00 UTC)
        );
        for bad in ["2026-01-31", "yesterday", ""] {
            assert!(parse_since(bad).is_err(), "{bad:?} is refused");
        }
    }
}
