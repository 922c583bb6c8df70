//! Export: every entry from a date on, handed record by record to a writer (JSON lines, CSV).
//!
//! Why the export records itself first: an export copies entries out of the machine, so it is
//! itself an audited event; if that entry cannot be written, nothing is exported.

use ringside_core::wire::AuditRecord;
use rusqlite::params;
use time::OffsetDateTime;

use super::chain::{ENTRY_COLUMNS, stored_entry};
use super::{AuditContext, AuditSeq, unix_ms};
use crate::{Error, Store};

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportReport {
    /// How many records were handed to the writer.
    pub records: u64,
    /// The `audit.export` entry recording the export (the last record exported).
    pub entry: AuditSeq,
}

pub(super) fn export_audit(
    store: &Store,
    ctx: &AuditContext,
    since: Option<OffsetDateTime>,
    format: &'static str,
    mut write: impl FnMut(&AuditRecord) -> std::io::Result<()>,
) -> Result<ExportReport, Error> {
    let since_ms = since.map(unix_ms);
    let mut entry = ctx
        .entry("audit.export", "audit_log")
        .detail("format", format);
    if let Some(since_ms) = since_ms {
        entry = entry.count("since_ms", u64::try_from(since_ms).unwrap_or(0));
    }
    let seq = store.audit().record_audit(&entry)?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let mut stmt = tx.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq <= ?1 AND time_ms >= ?2 ORDER BY seq"
    ))?;
    let mut rows = stmt.query_map(
        params![seq.to_db(), since_ms.unwrap_or(i64::MIN)],
        stored_entry,
    )?;
    let mut records = 0;
    for row in &mut rows {
        write(&row?.into_record()?).map_err(Error::Export)?;
        records += 1;
    }
    Ok(ExportReport {
        records,
        entry: seq,
    })
}
