//! Organisations and their wrapped data keys (envelope encryption: docs/keys.md#the-hierarchy-in-one-paragraph).
//!
//! The store persists what the vault produces — wrapped keys and their seal counts — and never
//! sees a plaintext key. Re-wrapping for a master-key rotation happens here, in one transaction
//! over every org, so a crash leaves either all rows on the old version or all on the new one.
//!
//! Every change here writes its audit entry in its own transaction ([`AuditContext`] says who
//! and from where): an org is never created, deleted or re-keyed without its record.

use ringside_core::OrgId;
use ringside_vault::{
    DataKeyGeneration, MasterKey, MasterKeyVersion, MasterKeyring, OrgKeyring, WrappedKey,
};
use rusqlite::{OptionalExtension, Row, params};

use crate::audit::{self, AuditContext};
use crate::{Error, Store};

/// An organisation (agency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Its id.
    pub id: OrgId,
    /// Its display name.
    pub name: String,
    /// When it was created (unix seconds).
    pub created_at: i64,
    /// When it was terminated (read-only until restored or shredded), if it was.
    pub terminated_at: Option<i64>,
}

/// One stored data-key generation of an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgKeyRow {
    /// The wrapped key (org, master version, generation, bytes).
    pub wrapped: WrappedKey,
    /// Seals made with it so far.
    pub seal_count: u64,
}

fn org_id(bytes: Vec<u8>) -> rusqlite::Result<OrgId> {
    let arr: [u8; 16] = bytes.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "org id is not 16 bytes".into(),
        )
    })?;
    Ok(OrgId::from_bytes(arr))
}

fn key_row(row: &Row<'_>) -> rusqlite::Result<OrgKeyRow> {
    let org = org_id(row.get(0)?)?;
    let wrapped = WrappedKey::from_parts(
        org,
        MasterKeyVersion(row.get(2)?),
        DataKeyGeneration(row.get(1)?),
        row.get(3)?,
    );
    Ok(OrgKeyRow {
        wrapped,
        seal_count: row.get::<_, i64>(4)?.unsigned_abs(),
    })
}

const KEY_COLUMNS: &str = "org_id, generation, master_version, wrapped, seal_count";

/// Organisations and their wrapped data keys.
pub trait OrgStore {
    /// Creates an organisation with its first data key, wrapped under the current master key,
    /// and its `org.create` audit entry (the name is not recorded, only the id).
    fn create_org(
        &self,
        name: &str,
        masters: &MasterKeyring,
        ctx: &AuditContext,
    ) -> Result<Org, Error>;

    /// Every organisation, oldest first.
    fn list(&self) -> Result<Vec<Org>, Error>;

    /// One organisation.
    fn org(&self, id: OrgId) -> Result<Org, Error>;

    /// The stored key rows of one org.
    fn org_key_rows(&self, org: OrgId) -> Result<Vec<OrgKeyRow>, Error>;

    /// Unwraps one org's data keys with the master keyring.
    fn org_keyring(&self, org: OrgId, masters: &MasterKeyring) -> Result<OrgKeyring, Error>;

    /// Adds a new data-key generation to an org (its newest key is near its seal limit); older
    /// generations stay to open what they sealed.
    /// Records `org.data_key.add` in the same transaction.
    fn add_org_key_generation(
        &self,
        keys: &mut OrgKeyring,
        masters: &MasterKeyring,
        ctx: &AuditContext,
    ) -> Result<DataKeyGeneration, Error>;

    /// Persists an org keyring's seal counts (they only grow).
    fn record_seal_counts(&self, keys: &OrgKeyring) -> Result<(), Error>;

    /// Re-wraps every org data key and installation secret not yet under `to` — in ONE
    /// transaction with its `keys.rewrap` audit entry, so an interrupted rotation leaves every
    /// row readable with the keys still in the source. Returns how many org-key rows were
    /// re-wrapped.
    fn rewrap_all(
        &self,
        masters: &MasterKeyring,
        to: &MasterKey,
        ctx: &AuditContext,
    ) -> Result<usize, Error>;

    /// Master-key versions that still wrap at least one org key or installation secret (a
    /// rotation must not retire any of these).
    fn master_versions_in_use(&self) -> Result<Vec<MasterKeyVersion>, Error>;

    /// Deletes an organisation and its wrapped data keys (`secure_delete` overwrites them).
    /// Whatever it had sealed can no longer be opened, wherever a copy of it survives
    /// (crypto-shredding); backups taken earlier still hold the keys, so they age out with the
    /// backup rotation. Records `org.delete` in the same transaction; its audit entries stay
    /// (they hold no personal data and are pruned with the rest).
    fn delete_org(&self, org: OrgId, ctx: &AuditContext) -> Result<(), Error>;
}

impl OrgStore for Store {
    fn create_org(
        &self,
        name: &str,
        masters: &MasterKeyring,
        ctx: &AuditContext,
    ) -> Result<Org, Error> {
        let org = Org {
            id: OrgId::random(),
            name: name.to_owned(),
            created_at: self.now(),
            terminated_at: None,
        };
        let (_keys, wrapped) = OrgKeyring::generate(org.id, masters)?;
        let entry = ctx
            .entry("org.create", "org")
            .in_org(org.id)
            .resource(org.id)
            .detail("master_key", wrapped.master_version())
            .detail("data_key", wrapped.generation());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO orgs (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![org.id.as_bytes(), org.name, org.created_at],
        )?;
        insert_key(&tx, &wrapped, org.created_at)?;
        audit::append(&tx, &entry, self.now_ms())?;
        tx.commit()?;
        Ok(org)
    }

    fn list(&self) -> Result<Vec<Org>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, name, created_at, terminated_at FROM orgs ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Org {
                id: org_id(r.get(0)?)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
                terminated_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn org(&self, id: OrgId) -> Result<Org, Error> {
        // The reader: every authenticated request asks, and none needs the writer for it.
        self.read()
            .query_row(
                "SELECT name, created_at, terminated_at FROM orgs WHERE id = ?1",
                [id.as_bytes()],
                |r| {
                    Ok(Org {
                        id,
                        name: r.get(0)?,
                        created_at: r.get(1)?,
                        terminated_at: r.get(2)?,
                    })
                },
            )
            .optional()?
            .ok_or(Error::NotFound("organisation"))
    }

    fn org_key_rows(&self, org: OrgId) -> Result<Vec<OrgKeyRow>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM org_keys WHERE org_id = ?1 ORDER BY generation"
        ))?;
        let rows = stmt.query_map([org.as_bytes()], key_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn org_keyring(&self, org: OrgId, masters: &MasterKeyring) -> Result<OrgKeyring, Error> {
        let rows = self.org_key_rows(org)?;
        if rows.is_empty() {
            return Err(Error::NotFound("organisation key"));
        }
        Ok(OrgKeyring::unwrap(
            org,
            masters,
            rows.iter().map(|r| (&r.wrapped, r.seal_count)),
        )?)
    }

    fn add_org_key_generation(
        &self,
        keys: &mut OrgKeyring,
        masters: &MasterKeyring,
        ctx: &AuditContext,
    ) -> Result<DataKeyGeneration, Error> {
        let wrapped = keys.add_generation(masters)?;
        let generation = wrapped.generation();
        let entry = ctx
            .entry("org.data_key.add", "org")
            .in_org(keys.org())
            .resource(keys.org())
            .detail("data_key", generation)
            .detail("master_key", wrapped.master_version());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        insert_key(&tx, &wrapped, self.now())?;
        audit::append(&tx, &entry, self.now_ms())?;
        tx.commit()?;
        Ok(generation)
    }

    fn record_seal_counts(&self, keys: &OrgKeyring) -> Result<(), Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (generation, count) in keys.seal_counts() {
            tx.execute(
                "UPDATE org_keys SET seal_count = max(seal_count, ?3) WHERE org_id = ?1 AND generation = ?2",
                params![keys.org().as_bytes(), generation.get(), i64::try_from(count).unwrap_or(i64::MAX)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn rewrap_all(
        &self,
        masters: &MasterKeyring,
        to: &MasterKey,
        ctx: &AuditContext,
    ) -> Result<usize, Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let stale: Vec<OrgKeyRow> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT {KEY_COLUMNS} FROM org_keys WHERE master_version != ?1"
            ))?;
            let rows = stmt.query_map([to.version().get()], key_row)?;
            rows.collect::<Result<_, _>>()?
        };
        for row in &stale {
            let new = ringside_vault::rewrap(&row.wrapped, masters, to)?;
            tx.execute(
                "UPDATE org_keys SET master_version = ?3, wrapped = ?4 WHERE org_id = ?1 AND generation = ?2",
                params![new.org().as_bytes(), new.generation().get(), new.master_version().get(), new.bytes()],
            )?;
        }
        let secrets = crate::secrets::rewrap_all(&tx, masters, to)?;
        let entry = ctx
            .entry("keys.rewrap", "master_key")
            .resource(to.version())
            .count("org_keys", stale.len() as u64)
            .count("secrets", secrets as u64);
        audit::append(&tx, &entry, self.now_ms())?;
        tx.commit()?;
        Ok(stale.len())
    }

    fn master_versions_in_use(&self) -> Result<Vec<MasterKeyVersion>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT master_version FROM org_keys UNION SELECT master_version FROM system_secrets ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| Ok(MasterKeyVersion(r.get(0)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_org(&self, org: OrgId, ctx: &AuditContext) -> Result<(), Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let deleted = tx.execute("DELETE FROM orgs WHERE id = ?1", [org.as_bytes()])?;
        if deleted == 0 {
            return Err(Error::NotFound("organisation"));
        }
        let entry = ctx.entry("org.delete", "org").in_org(org).resource(org);
        audit::append(&tx, &entry, self.now_ms())?;
        tx.commit()?;
        Ok(())
    }
}

fn insert_key(conn: &rusqlite::Connection, wrapped: &WrappedKey, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO org_keys (org_id, generation, master_version, wrapped, seal_count, created_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        params![
            wrapped.org().as_bytes(),
            wrapped.generation().get(),
            wrapped.master_version().get(),
            wrapped.bytes(),
            now
        ],
    )?;
    Ok(())
}
