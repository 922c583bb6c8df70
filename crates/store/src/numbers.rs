//! Finding a client's number without reading it: the blind index, the erasure of a number
//! (a data-subject request) and the SMS opt-outs (docs/lifecycle.md, "Erase by number").
//!
//! Why a keyed index: numbers are sealed per row, so "every record of +1 555 …" cannot be a
//! `WHERE` on the number. HMAC-SHA256 of the E.164 number under an installation secret
//! ([`NUMBER_INDEX_PURPOSE`], wrapped by the master key) gives one stable key per number that
//! reveals nothing without the secret — a plain hash would not do: there are only about 10^10
//! North American numbers, so an unkeyed hash is a table lookup away from the number.

use std::fmt;

use hmac::{Hmac, Mac};
use ringside_core::{OrgId, PhoneNumber, Pii};
use ringside_vault::MasterKeyring;
use rusqlite::{Connection, Transaction, params};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::audit::{AuditEntry, append};
use crate::{Error, Store};

/// The purpose name of the installation secret keying the index.
pub const NUMBER_INDEX_PURPOSE: &str = "number-index";

const DOMAIN_TAG: &[u8] = b"ringside/number-index/v1\0";

/// The blind index of one E.164 number. `Debug` does not print it: it still stands for a person.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NumberIndex(pub [u8; 32]);

impl fmt::Debug for NumberIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NumberIndex([redacted])")
    }
}

/// The installation secret keying [`NumberIndex`]. `Debug` does not print it.
#[derive(Clone)]
pub struct NumberIndexKey(Zeroizing<[u8; 32]>);

impl NumberIndexKey {
    /// Wraps 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The installation's key: the `number-index` installation secret, created (wrapped by the
    /// master key) on first use.
    pub fn load(store: &Store, masters: &MasterKeyring) -> Result<Self, Error> {
        let secret = store
            .secrets()
            .system_secret(NUMBER_INDEX_PURPOSE, masters)?;
        Ok(Self::new(*secret))
    }

    /// The index of `number`.
    pub fn index(&self, number: &Pii<PhoneNumber>) -> NumberIndex {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..])
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(DOMAIN_TAG);
        mac.update(number.expose().e164().as_bytes());
        NumberIndex(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for NumberIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NumberIndexKey([redacted])")
    }
}

/// What an erasure removed (counts only: this is what its audit entry says).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Calls deleted, with their legs, pops, notes, picks, transcripts, outbox rows and the
    /// pops' stream events.
    pub calls: u64,
    /// Text messages deleted, with their bodies and stream events.
    pub texts: u64,
}

/// Numbers found by their blind index.
pub trait NumberStore {
    /// Erases every record of the number `index` in `org` that still holds it — calls and texts,
    /// synced or not, with everything that hangs off them — and records `audit` (with the counts,
    /// never the number) in the same transaction; then checkpoints the WAL. Records that the sync
    /// already purged hold only a masked number and are left. The opt-out, if any, stays: it is
    /// the record that the person asked not to be texted.
    fn erase_number(
        &self,
        org: OrgId,
        index: &NumberIndex,
        audit: AuditEntry,
    ) -> Result<Erased, Error>;

    /// Whether the number texted STOP (or another opt-out keyword) and not START since.
    fn sms_opted_out(&self, org: OrgId, index: &NumberIndex) -> Result<bool, Error>;
}

impl NumberStore for Store {
    fn erase_number(
        &self,
        org: OrgId,
        index: &NumberIndex,
        audit: AuditEntry,
    ) -> Result<Erased, Error> {
        let erased = self.write(|tx| {
            let kinds: Vec<String> = tx
                .prepare_cached(
                    "DELETE FROM calls WHERE org_id = ?1 AND number_index = ?2 RETURNING kind",
                )?
                .query_map(params![org.as_bytes(), index.0], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let texts = kinds.iter().filter(|k| *k == "sms").count();
            let erased = Erased {
                calls: u64::try_from(kinds.len() - texts).unwrap_or(u64::MAX),
                texts: u64::try_from(texts).unwrap_or(u64::MAX),
            };
            let entry = audit
                .detail("calls", erased.calls)
                .detail("texts", erased.texts);
            append(tx, &entry, self.now_ms())?;
            Ok(erased)
        })?;
        self.checkpoint_wal()?;
        Ok(erased)
    }

    fn sms_opted_out(&self, org: OrgId, index: &NumberIndex) -> Result<bool, Error> {
        opted_out(&self.read(), org, Some(index))
    }
}

/// Whether `index` is opted out in `org`.
pub(crate) fn opted_out(
    tx: &Connection,
    org: OrgId,
    index: Option<&NumberIndex>,
) -> Result<bool, Error> {
    let Some(index) = index else {
        return Ok(false);
    };
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sms_opt_outs WHERE org_id = ?1 AND number_index = ?2)",
        )?
        .query_row(params![org.as_bytes(), index.0], |r| r.get(0))?)
}

/// Records an opt keyword texted by `index`: `Out` adds it to the org's opt-outs (keeping the
/// first time), `In` removes it.
pub(crate) fn record_opt(
    tx: &Transaction<'_>,
    org: OrgId,
    index: &NumberIndex,
    keyword: ringside_core::sms::OptKeyword,
    now: i64,
) -> Result<(), Error> {
    match keyword {
        ringside_core::sms::OptKeyword::Out => tx
            .prepare_cached(
                "INSERT INTO sms_opt_outs (org_id, number_index, opted_out_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![org.as_bytes(), index.0, now])?,
        ringside_core::sms::OptKeyword::In => tx
            .prepare_cached("DELETE FROM sms_opt_outs WHERE org_id = ?1 AND number_index = ?2")?
            .execute(params![org.as_bytes(), index.0])?,
    };
    Ok(())
}
