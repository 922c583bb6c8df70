//! Export: audited before it runs, and its own entry is in it.

use super::*;

#[test]
fn an_export_is_audited_first_and_includes_its_own_entry() {
    let f = fixture();
    fill(&f, 3);
    let cutoff = f.clock.now();
    fill(&f, 2);
    let mut records = Vec::new();
    let report = f
        .store
        .audit()
        .export_audit(&ctx(), Some(cutoff), "jsonl", &mut |r| {
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
        .audit()
        .export_audit(&ctx(), None, "csv", &mut |_| {
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
