//! Numbered SQL migrations, embedded in the binary and applied at start-up.
//!
//! Rules (GitButler's and atuin's, see `reference/style.md`): a migration is a numbered `.sql`
//! file under `crates/store/migrations/`; once released it is never edited (a checksum recorded at
//! apply time catches an edit); everything pending is applied in ONE transaction, so a failure
//! leaves the database exactly as it was; and a database written by a newer relay is refused
//! rather than half-understood.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::Error;

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number: migrations apply in increasing order, without gaps.
    pub version: u32,
    /// A short name, from the file name.
    pub name: &'static str,
    /// The SQL, run as one batch.
    pub sql: &'static str,
}

/// `migration!(N, "NNNN_name")` embeds `migrations/NNNN_name.sql` as migration N.
macro_rules! migration {
    ($version:literal, $stem:literal) => {
        Migration {
            version: $version,
            name: $stem,
            sql: include_str!(concat!("../migrations/", $stem, ".sql")),
        }
    };
}

/// Every migration this build knows, in order. Append only.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_orgs_and_keys"),
    migration!(2, "0002_audit"),
    migration!(3, "0003_identity"),
    migration!(4, "0004_integrations"),
    migration!(5, "0005_webhook_events"),
    migration!(6, "0006_routing"),
    migration!(7, "0007_calls_and_stream"),
    migration!(8, "0008_ams_connections"),
    migration!(9, "0009_call_notes"),
    migration!(10, "0010_sync"),
    migration!(11, "0011_numbers_texts_and_endings"),
];

/// The schema version this build writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Schema version before.
    pub from: u32,
    /// Schema version after.
    pub to: u32,
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Brings the schema up to [`latest_version`], or explains why it cannot.
pub(crate) fn apply(
    conn: &mut Connection,
    migrations: &[Migration],
    now_unix: i64,
) -> Result<Applied, Error> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY NOT NULL,
            name       TEXT NOT NULL,
            checksum   TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT;",
    )?;
    let current: u32 = tx
        .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
            r.get::<_, Option<u32>>(0)
        })?
        .unwrap_or(0);
    let known = migrations.last().map_or(0, |m| m.version);
    if current > known {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: known,
        });
    }
    for m in migrations.iter().filter(|m| m.version <= current) {
        let recorded: Option<String> = tx
            .query_row(
                "SELECT checksum FROM schema_migrations WHERE version = ?1",
                [m.version],
                |r| r.get(0),
            )
            .optional()?;
        match recorded {
            Some(sum) if sum == checksum(m.sql) => {}
            Some(_) => {
                return Err(Error::MigrationEdited {
                    version: m.version,
                    name: m.name,
                });
            }
            None => return Err(Error::MigrationMissing { version: m.version }),
        }
    }
    for m in migrations.iter().filter(|m| m.version > current) {
        tx.execute_batch(m.sql)
            .map_err(|source| Error::MigrationFailed {
                version: m.version,
                name: m.name,
                source,
            })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
            params![m.version, m.name, checksum(m.sql), now_unix],
        )?;
    }
    tx.commit()?;
    Ok(Applied {
        from: current,
        to: current.max(known),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps_and_match_their_file_names() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version as usize,
                i + 1,
                "migration {} is out of sequence",
                m.name
            );
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{} is numbered {}",
                m.name,
                m.version
            );
        }
    }
}
