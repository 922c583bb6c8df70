//! The local pop cache: the pops on the agent's screen, kept across a restart of the app for
//! the rest of their 5 minutes — and not a second longer.
//!
//! Why a file at all: an agent who restarts the app mid-call should see that call's pop again
//! (the relay does not replay what this device already handled). Why sealed: the pop holds the
//! caller's number and name. So: one SQLite file in the profile (`pops.db`, mode 0600), each
//! value sealed with the vault's [`LocalKey`] (AES-256-GCM, bound to its pop and its owner),
//! the key in the OS keychain — never beside the file. `secure_delete` overwrites what is
//! deleted; rows go at their pop's `expires_at`, by the app's sweep (every second) and again when
//! the file is opened at start-up, and all of them at sign-out.
//!
//! It is a cache: a file of another schema, one that will not open, or a value that will not
//! open (another key) is thrown away, never an error the agent sees.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ringside_vault::LocalKey;
use rusqlite::{Connection, params};
use time::OffsetDateTime;

use crate::board::LivePop;

/// The cache file in the profile folder.
pub const FILE: &str = "pops.db";

/// The schema this build writes (`PRAGMA user_version`); any other is dropped and made anew.
const SCHEMA_VERSION: i64 = 1;

/// Why the cache could not be used (logged; the app goes on without it).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// SQLite refused.
    #[error("the pop cache: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file's mode could not be set.
    #[error("the pop cache: {0}")]
    Io(#[from] std::io::Error),
    /// A pop could not be sealed.
    #[error("the pop cache: {0}")]
    Seal(#[from] ringside_vault::Error),
}

/// The opened cache of one profile.
#[derive(Debug)]
pub struct PopCache {
    conn: Connection,
    key: LocalKey,
}

fn place<'a>(pop: &'a [u8], owner: &'a str) -> [&'a [u8]; 3] {
    [b"pops", pop, owner.as_bytes()]
}

impl PopCache {
    /// Opens (creating) the cache in the profile folder `dir`, sealing with `key`, and deletes
    /// what expired while the app was not running.
    ///
    /// # Errors
    /// When SQLite cannot open or create the file.
    pub fn open(dir: &Path, key: LocalKey, now: OffsetDateTime) -> Result<Self, CacheError> {
        let path = dir.join(FILE);
        let conn = match Self::connect(&path) {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(error = %err, "the pop cache was unreadable and is made anew");
                std::fs::remove_file(&path)?;
                Self::connect(&path)?
            }
        };
        let cache = Self { conn, key };
        cache.purge(now)?;
        Ok(cache)
    }

    fn connect(path: &Path) -> Result<Connection, CacheError> {
        let conn = Connection::open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        // Deleted pages are overwritten with zeros; no durability is owed to a cache.
        conn.execute_batch("PRAGMA secure_delete = ON; PRAGMA synchronous = OFF;")?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version != SCHEMA_VERSION {
            conn.execute_batch(&format!(
                "DROP TABLE IF EXISTS pops;
                 CREATE TABLE pops (
                     pop_id BLOB PRIMARY KEY,
                     owner TEXT NOT NULL,
                     expires_at INTEGER NOT NULL,
                     sealed BLOB NOT NULL
                 ) STRICT;
                 PRAGMA user_version = {SCHEMA_VERSION};"
            ))?;
        }
        Ok(conn)
    }

    /// Replaces what is kept for `owner` (`"{relay} {user}"`) with `pops`.
    ///
    /// # Errors
    /// When SQLite refuses or a pop cannot be sealed.
    pub fn keep(&mut self, owner: &str, pops: &[LivePop]) -> Result<(), CacheError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM pops WHERE owner = ?1", [owner])?;
        for live in pops {
            let id = live.pop.pop_id;
            let json = zeroize::Zeroizing::new(
                serde_json::to_vec(live).map_err(|e| CacheError::Io(e.into()))?,
            );
            let sealed = self.key.seal(&place(id.as_bytes(), owner), &json)?;
            tx.execute(
                "INSERT OR REPLACE INTO pops (pop_id, owner, expires_at, sealed)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    id.as_bytes(),
                    owner,
                    live.pop.expires_at.unix_timestamp(),
                    sealed
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// What is kept for `owner` and still within its time, oldest first. A value that does not
    /// open is deleted.
    ///
    /// # Errors
    /// When SQLite refuses.
    pub fn load(&mut self, owner: &str, now: OffsetDateTime) -> Result<Vec<LivePop>, CacheError> {
        self.purge(now)?;
        let rows: Vec<(Vec<u8>, Vec<u8>)> = self
            .conn
            .prepare("SELECT pop_id, sealed FROM pops WHERE owner = ?1 ORDER BY rowid")?
            .query_map([owner], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut pops = Vec::with_capacity(rows.len());
        for (id, sealed) in rows {
            let opened = self
                .key
                .open(&place(&id, owner), &sealed)
                .ok()
                .and_then(|json| serde_json::from_slice::<LivePop>(&json).ok());
            match opened {
                Some(live) => pops.push(live),
                None => {
                    self.conn
                        .execute("DELETE FROM pops WHERE pop_id = ?1", [&id])?;
                }
            }
        }
        Ok(pops)
    }

    /// Deletes every pop whose time is up; how many.
    ///
    /// # Errors
    /// When SQLite refuses.
    pub fn purge(&self, now: OffsetDateTime) -> Result<usize, CacheError> {
        Ok(self.conn.execute(
            "DELETE FROM pops WHERE expires_at <= ?1",
            [now.unix_timestamp()],
        )?)
    }

    /// Deletes everything (sign-out, a session ended by an admin).
    ///
    /// # Errors
    /// When SQLite refuses.
    pub fn clear(&self) -> Result<(), CacheError> {
        self.conn.execute("DELETE FROM pops", [])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::wire::{CallState, Direction, MatchState, Pop};
    use ringside_core::{CallId, Pii, PopId};
    use time::Duration;

    use super::*;

    const NUMBER: &str = "+16175550123";
    const NAME: &str = "Quentin Marker";

    fn live(created: OffsetDateTime) -> LivePop {
        LivePop {
            pop: Pop {
                seq: 1,
                pop_id: PopId::random(),
                call_id: CallId::random(),
                direction: Direction::Inbound,
                number: Some(Pii::new(NUMBER.to_owned())),
                caller_name: Some(Pii::new(NAME.to_owned())),
                state: CallState::Ringing,
                match_state: MatchState::Pending,
                sms_opted_out: false,
                created_at: created,
                expires_at: created + Duration::minutes(5),
            },
            state: CallState::Answered,
            answered: true,
            picked: None,
        }
    }

    fn file_has(dir: &Path, needle: &str) -> bool {
        std::fs::read_dir(dir).unwrap().any(|entry| {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
    }

    #[test]
    fn nothing_readable_of_a_pop_or_its_key_is_in_the_profile_folder() {
        let dir = tempfile::tempdir().unwrap();
        let key = LocalKey::generate();
        let key_text = key.to_text();
        let now = OffsetDateTime::now_utc();
        let mut cache = PopCache::open(dir.path(), key, now).unwrap();
        cache.keep("relay alice", &[live(now)]).unwrap();
        drop(cache);
        for needle in [NUMBER, NAME, &key_text[key_text.len() - 20..]] {
            assert!(!file_has(dir.path(), needle), "{needle} is on disk");
        }
    }

    #[test]
    fn a_kept_pop_opens_only_for_its_owner_and_goes_at_its_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let key_text = LocalKey::generate().to_text();
        let key = || LocalKey::from_text(&key_text, "test").unwrap();
        let pop = live(now);
        PopCache::open(dir.path(), key(), now)
            .unwrap()
            .keep("relay alice", std::slice::from_ref(&pop))
            .unwrap();

        let mut cache = PopCache::open(dir.path(), key(), now + Duration::minutes(1)).unwrap();
        let back = cache.load("relay alice", now).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].pop.pop_id, pop.pop.pop_id);
        assert_eq!(back[0].state, CallState::Answered);
        assert!(
            cache.load("relay bob", now).unwrap().is_empty(),
            "not another user's"
        );

        let mut wrong = PopCache::open(dir.path(), LocalKey::generate(), now).unwrap();
        assert!(
            wrong.load("relay alice", now).unwrap().is_empty(),
            "another key opens nothing (and drops what it cannot open)"
        );

        PopCache::open(dir.path(), key(), now)
            .unwrap()
            .keep("relay alice", std::slice::from_ref(&pop))
            .unwrap();
        let reopened = PopCache::open(dir.path(), key(), now + Duration::minutes(5)).unwrap();
        let rows: i64 = reopened
            .conn
            .query_row("SELECT count(*) FROM pops", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0, "deleted at start-up once its five minutes are up");
    }

    #[test]
    fn clear_and_a_broken_file_leave_an_empty_cache() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let mut cache = PopCache::open(dir.path(), LocalKey::generate(), now).unwrap();
        cache.keep("relay alice", &[live(now)]).unwrap();
        cache.clear().unwrap();
        assert!(cache.load("relay alice", now).unwrap().is_empty());
        drop(cache);

        std::fs::write(dir.path().join(FILE), b"not a database at all").unwrap();
        let mut cache = PopCache::open(dir.path(), LocalKey::generate(), now).unwrap();
        assert!(
            cache.load("relay alice", now).unwrap().is_empty(),
            "made anew"
        );
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
