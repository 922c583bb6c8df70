//! Sealing: how one personal-data value is encrypted for storage.
//!
//! A sealed value is bound to its place — org, table, column and row — through AES-GCM's
//! associated data. Encryption alone would let someone with write access to the database copy a
//! sealed phone number into another call's row, or another org's, and have the relay decrypt
//! and show it there; with the place in the associated data such a copy fails to open.
//!
//! Blob layout (format 1), 33 bytes of overhead:
//!
//! ```text
//! [0x01][data-key generation: u32 big-endian][nonce: 12 random bytes][ciphertext][tag: 16]
//! ```
//!
//! The header (format byte and generation) is also part of the associated data, so it cannot be
//! changed without the value failing to open. The format byte leaves room for a different
//! algorithm later (ASVS 11.2.2, crypto agility) without guessing.

use ringside_core::OrgId;
use zeroize::Zeroizing;

use crate::cipher::{self, Aad, NONCE_LEN, TAG_LEN};
use crate::error::{Error, Result};
use crate::org::{DataKeyGeneration, OrgKeyring};

/// The format byte of a sealed value made by this version.
pub const SEAL_FORMAT_V1: u8 = 1;
/// Format byte + generation.
const HEADER_LEN: usize = 1 + 4;
/// The smallest possible sealed value (an empty plaintext).
pub const SEAL_OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Domain tag of the associated data of a sealed value.
const SEAL_DOMAIN: &str = "ringside/vault/seal";

/// Where a sealed value lives: its org, table, column and row. Part of the associated data, so a
/// value opens only in the place it was sealed for.
///
/// `row` is the row's stable id in bytes; use one encoding per table every time (for example
/// `call_id.as_bytes()`, or `rowid.to_be_bytes()` for an `INTEGER PRIMARY KEY`). It must be an
/// id, never personal data. Nothing of the context is stored in the blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealContext<'a> {
    org: OrgId,
    table: &'a str,
    column: &'a str,
    row: &'a [u8],
}

impl<'a> SealContext<'a> {
    /// The place `(org, table, column, row)`.
    pub fn new(org: OrgId, table: &'a str, column: &'a str, row: &'a [u8]) -> Self {
        Self {
            org,
            table,
            column,
            row,
        }
    }

    /// The org.
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The table.
    pub fn table(&self) -> &'a str {
        self.table
    }

    /// The column.
    pub fn column(&self) -> &'a str {
        self.column
    }

    /// The row id bytes.
    pub fn row(&self) -> &'a [u8] {
        self.row
    }

    /// Canonical associated data: domain tag, blob header, org, table, column, row — each
    /// length-prefixed (see [`Aad`]).
    fn aad(&self, header: &[u8]) -> Aad {
        let mut aad = Aad::new(SEAL_DOMAIN);
        aad.field(header)
            .field(self.org.as_bytes())
            .field(self.table.as_bytes())
            .field(self.column.as_bytes())
            .field(self.row);
        aad
    }
}

fn header(generation: DataKeyGeneration) -> [u8; HEADER_LEN] {
    let [a, b, c, d] = generation.get().to_be_bytes();
    [SEAL_FORMAT_V1, a, b, c, d]
}

impl OrgKeyring {
    /// Seals `plaintext` for `ctx` under the newest generation with a fresh random nonce.
    ///
    /// Counts the seal first: [`Error::DataKeyExhausted`] once the newest generation reached
    /// [`crate::MAX_SEALS_PER_KEY`]; [`Error::OrgMismatch`] if `ctx` names another org.
    pub fn seal(&self, ctx: &SealContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.check_org(ctx.org())?;
        let key = self.newest();
        key.reserve_seal()?;
        let header = header(key.generation());
        let mut blob = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
        blob.extend_from_slice(&header);
        cipher::encrypt_into(key.key(), ctx.aad(&header).bytes(), plaintext, &mut blob)
            .map_err(|_| Error::SealFailed)?;
        Ok(blob)
    }

    /// Opens a sealed value for `ctx`, using the generation its header names.
    ///
    /// Any authentication failure is [`Error::OpenFailed`], whatever part was wrong.
    /// [`Error::UnknownKeyGeneration`] if that generation is not held (e.g. deleted after its
    /// data was purged), [`Error::UnsupportedFormat`] for a format byte this build does not
    /// know. Never panics, whatever the bytes.
    pub fn open(&self, ctx: &SealContext<'_>, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.check_org(ctx.org())?;
        let Some(&format) = blob.first() else {
            return Err(Error::OpenFailed);
        };
        if format != SEAL_FORMAT_V1 {
            return Err(Error::UnsupportedFormat {
                what: "a sealed value",
                format,
            });
        }
        if blob.len() < SEAL_OVERHEAD {
            return Err(Error::OpenFailed);
        }
        let (header, sealed) = blob.split_at_checked(HEADER_LEN).ok_or(Error::OpenFailed)?;
        let generation_bytes = header
            .get(1..HEADER_LEN)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or(Error::OpenFailed)?;
        let generation = DataKeyGeneration(u32::from_be_bytes(generation_bytes));
        let key = self
            .get(generation)
            .ok_or(Error::UnknownKeyGeneration(generation))?;
        cipher::decrypt(key.key(), ctx.aad(header).bytes(), sealed).ok_or(Error::OpenFailed)
    }
}

/// The data-key generation a sealed value names, without opening it (e.g. for the store to find
/// values still sealed under an old generation). `None` if it is not a format-1 blob.
pub fn sealed_generation(blob: &[u8]) -> Option<DataKeyGeneration> {
    if blob.len() < SEAL_OVERHEAD || blob.first() != Some(&SEAL_FORMAT_V1) {
        return None;
    }
    let bytes = <[u8; 4]>::try_from(blob.get(1..HEADER_LEN)?).ok()?;
    Some(DataKeyGeneration(u32::from_be_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_encoding_separates_every_field() {
        let org = OrgId::random();
        let h = header(DataKeyGeneration::FIRST);
        let base = SealContext::new(org, "calls", "phone", b"r1").aad(&h);
        for (what, other) in [
            (
                "table/column boundary",
                SealContext::new(org, "callsp", "hone", b"r1"),
            ),
            (
                "column/row boundary",
                SealContext::new(org, "calls", "phoner", b"1"),
            ),
            (
                "org",
                SealContext::new(OrgId::random(), "calls", "phone", b"r1"),
            ),
            ("row", SealContext::new(org, "calls", "phone", b"r2")),
        ] {
            assert_ne!(
                base.bytes(),
                other.aad(&h).bytes(),
                "{what} must change the aad"
            );
        }
        let g2 = header(DataKeyGeneration(2));
        assert_ne!(
            base.bytes(),
            SealContext::new(org, "calls", "phone", b"r1")
                .aad(&g2)
                .bytes(),
            "the header must be part of the aad"
        );
    }

    #[test]
    fn sealed_generation_reads_the_header() {
        let mut blob = vec![SEAL_FORMAT_V1, 0, 0, 1, 2];
        blob.resize(SEAL_OVERHEAD, 0);
        assert_eq!(
            sealed_generation(&blob),
            Some(DataKeyGeneration(258)),
            "big-endian u32"
        );
        assert_eq!(
            sealed_generation(&blob[..SEAL_OVERHEAD - 1]),
            None,
            "too short is not a blob"
        );
    }
}
