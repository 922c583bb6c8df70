//! How the identity repositories (users, sessions, invitations, back-off) read and write rows.
//!
//! Why one place: the three tables store ids, hashes and roles the same way, every lookup by id
//! must be scoped by org in all of them, and every change must land in the same transaction as
//! its audit entry. Written once, a repository cannot forget the org or the audit entry.

use std::str::FromStr;

use ringside_core::{OrgId, Role};
use rusqlite::{
    Connection, OptionalExtension, Params, Row, Transaction, TransactionBehavior, params,
};

use crate::audit::{AuditEntry, append};
use crate::{Error, Store};

pub(crate) fn bytes16(bytes: Vec<u8>) -> rusqlite::Result<[u8; 16]> {
    bytes
        .try_into()
        .map_err(|_| conversion("an id is not 16 bytes"))
}

pub(crate) fn bytes32(bytes: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| conversion("a hash is not 32 bytes"))
}

pub(crate) fn conversion(what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, what.into())
}

/// The id in column `idx` (16 bytes), made with `from` (`UserId::from_bytes`, …).
pub(crate) fn id<T>(r: &Row<'_>, idx: usize, from: fn([u8; 16]) -> T) -> rusqlite::Result<T> {
    Ok(from(bytes16(r.get(idx)?)?))
}

/// The id in nullable column `idx`.
pub(crate) fn optional_id<T>(
    r: &Row<'_>,
    idx: usize,
    from: fn([u8; 16]) -> T,
) -> rusqlite::Result<Option<T>> {
    r.get::<_, Option<Vec<u8>>>(idx)?
        .map(|b| Ok(from(bytes16(b)?)))
        .transpose()
}

pub(crate) fn role_from(text: String) -> rusqlite::Result<Role> {
    Role::from_str(&text).map_err(|_| conversion("unknown role"))
}

/// A table of org data: its name, the columns its row type is read from (by `read`, in this
/// order), and what [`Error::NotFound`] calls a missing row.
pub(crate) struct Table<T> {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static str,
    pub(crate) what: &'static str,
    pub(crate) read: fn(&Row<'_>) -> rusqlite::Result<T>,
}

impl<T> Table<T> {
    /// `SELECT` of the row's columns, then the `extra` ones (read by the caller, at the indexes
    /// after the row's), with `rest` (`WHERE …`) appended.
    pub(crate) fn select(&self, extra: &str, rest: &str) -> String {
        let (name, columns) = (self.name, self.columns);
        let sep = if extra.is_empty() { "" } else { ", " };
        format!("SELECT {columns}{sep}{extra} FROM {name} {rest}")
    }

    /// The row of `org` with `id`; [`Error::NotFound`] if there is none — including when the
    /// id belongs to another org.
    pub(crate) fn in_org(&self, conn: &Connection, org: OrgId, id: &[u8; 16]) -> Result<T, Error> {
        self.read_in_org(conn, self.columns, org, id, self.read)
    }

    /// Other `columns` of the row of `org` with `id`, as `read` reads them; [`Error::NotFound`]
    /// as for [`Table::in_org`].
    pub(crate) fn read_in_org<C>(
        &self,
        conn: &Connection,
        columns: &str,
        org: OrgId,
        id: &[u8; 16],
        read: impl FnOnce(&Row<'_>) -> rusqlite::Result<C>,
    ) -> Result<C, Error> {
        let name = self.name;
        conn.query_row(
            &format!("SELECT {columns} FROM {name} WHERE org_id = ?1 AND id = ?2"),
            params![org.as_bytes(), id],
            read,
        )
        .optional()?
        .ok_or(Error::NotFound(self.what))
    }

    /// The row `rest` (`WHERE …`) selects with `params`, if any.
    pub(crate) fn find(
        &self,
        conn: &Connection,
        rest: &str,
        params: impl Params,
    ) -> Result<Option<T>, Error> {
        Ok(conn
            .query_row(&self.select("", rest), params, self.read)
            .optional()?)
    }
}

/// [`Error::NotFound`]`(what)` unless the statement that returned `changed` changed a row.
pub(crate) fn require_changed(changed: usize, what: &'static str) -> Result<(), Error> {
    if changed == 0 {
        Err(Error::NotFound(what))
    } else {
        Ok(())
    }
}

impl Store {
    /// Runs `change` in one write transaction and records `audit` in it: both are committed, or
    /// neither (an audit entry the log refuses rolls the change back).
    pub(crate) fn audited<T>(
        &self,
        audit: &AuditEntry,
        change: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.write(|tx| {
            let out = change(tx)?;
            append(tx, audit, self.now_ms())?;
            Ok(out)
        })
    }

    /// Runs `change` in one write transaction (`BEGIN IMMEDIATE`: it takes the write lock at the
    /// start, so what it reads cannot change before it writes) and commits it.
    pub(crate) fn write<T>(
        &self,
        change: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.write_publishing(change, |_| &[])
    }

    /// [`Store::write`] for a change that makes stream events: once committed, and while the
    /// connection is still held, they go to the listener ([`Store::on_events`]). Every `seq` is
    /// taken under this same lock, so the listener sees each user's events in `seq` order.
    pub(crate) fn write_publishing<T>(
        &self,
        change: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
        events: impl FnOnce(&T) -> &[crate::Event],
    ) -> Result<T, Error> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = change(&tx)?;
        tx.commit()?;
        let made = events(&out);
        if let (Some(listener), false) = (self.listener.get(), made.is_empty()) {
            (listener.0)(made);
        }
        drop(conn);
        Ok(out)
    }
}
