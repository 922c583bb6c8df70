//! Login back-off state: per (account, device bucket) counters and the per-account failure log.
//!
//! The policy (how many free attempts, how the delay grows, the hourly ceiling) is the relay's;
//! the store only keeps the state and applies an update function to it inside one transaction,
//! so concurrent failures cannot lose a count.
//!
//! The subject is the email's blind index, not a user id: an address that belongs to nobody is
//! throttled exactly as one that does, so neither the answers nor their timing tell an attacker
//! which addresses have accounts. Rows exist only for addresses that failed recently; hygiene
//! removes the rest ([`ThrottleStore::prune_login_throttle`]).

use rusqlite::{Connection, OptionalExtension, params};

use crate::audit::AuditEntry;
use crate::users::EmailIndex;
use crate::{Error, Store};

/// The back-off bucket for attempts that do not come from a known device.
pub const UNKNOWN_DEVICE_BUCKET: [u8; 32] = [0; 32];

/// Which counter an attempt is charged to: the account (email index) and a device bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleKey {
    /// The account.
    pub subject: EmailIndex,
    /// [`UNKNOWN_DEVICE_BUCKET`], or a known device's token hash.
    pub bucket: [u8; 32],
}

/// One bucket's back-off state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Consecutive failures in this bucket (reset by a success from it, or forgotten after a
    /// quiet period).
    pub failures: u32,
    /// When the last one happened.
    pub last_failure_at: i64,
    /// No attempt from this bucket is looked at before this time.
    pub next_allowed_at: i64,
}

/// The account's failures inside the ceiling's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureWindow {
    /// How many.
    pub count: u32,
    /// The oldest one's time (the window frees a slot when it leaves).
    pub oldest: Option<i64>,
}

fn state_in(conn: &Connection, key: &ThrottleKey) -> Result<Option<ThrottleState>, Error> {
    Ok(conn
        .query_row(
            "SELECT failures, last_failure_at, next_allowed_at FROM login_throttle
             WHERE subject = ?1 AND bucket = ?2",
            params![key.subject.0, key.bucket],
            |r| {
                Ok(ThrottleState {
                    failures: r.get(0)?,
                    last_failure_at: r.get(1)?,
                    next_allowed_at: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Sign-in throttling: failure windows and lockout buckets.
pub trait ThrottleStore {
    /// The back-off state of one bucket.
    fn throttle_state(&self, key: &ThrottleKey) -> Result<Option<ThrottleState>, Error>;

    /// The account's failures at or after `since`.
    fn failures_since(&self, subject: &EmailIndex, since: i64) -> Result<FailureWindow, Error>;

    /// Counts one failed attempt: logs it for the hourly ceiling (dropping entries older than
    /// `window_start`), and replaces the bucket's state with `update(previous)`, in one
    /// transaction with the audit entry. Returns the new state.
    fn record_login_failure(
        &self,
        key: &ThrottleKey,
        now: i64,
        window_start: i64,
        update: &dyn Fn(Option<ThrottleState>) -> ThrottleState,
        audit: &AuditEntry,
    ) -> Result<ThrottleState, Error>;

    /// Forgets one bucket's back-off (a successful sign-in from it). The account's failure log
    /// stays: the hourly ceiling counts attempts, not streaks.
    fn clear_throttle_bucket(&self, key: &ThrottleKey) -> Result<(), Error>;

    /// Forgets all back-off state of an account: every bucket and the failure log (an admin's
    /// unlock).
    fn clear_login_throttle(&self, subject: &EmailIndex, audit: &AuditEntry) -> Result<(), Error>;

    /// Hygiene: drops failure-log entries before `failures_before` and bucket states whose last
    /// failure was before `quiet_since` (they would be forgotten anyway). Returns rows removed.
    fn prune_login_throttle(&self, failures_before: i64, quiet_since: i64) -> Result<usize, Error>;
}

impl ThrottleStore for Store {
    fn throttle_state(&self, key: &ThrottleKey) -> Result<Option<ThrottleState>, Error> {
        state_in(&self.conn(), key)
    }

    fn failures_since(&self, subject: &EmailIndex, since: i64) -> Result<FailureWindow, Error> {
        Ok(self.conn().query_row(
            "SELECT count(*), min(at) FROM login_failures WHERE subject = ?1 AND at >= ?2",
            params![subject.0, since],
            |r| {
                Ok(FailureWindow {
                    count: r.get(0)?,
                    oldest: r.get(1)?,
                })
            },
        )?)
    }

    fn record_login_failure(
        &self,
        key: &ThrottleKey,
        now: i64,
        window_start: i64,
        update: &dyn Fn(Option<ThrottleState>) -> ThrottleState,
        audit: &AuditEntry,
    ) -> Result<ThrottleState, Error> {
        self.audited(audit, |tx| {
            tx.execute(
                "DELETE FROM login_failures WHERE subject = ?1 AND at < ?2",
                params![key.subject.0, window_start],
            )?;
            tx.execute(
                "INSERT INTO login_failures (subject, at) VALUES (?1, ?2)",
                params![key.subject.0, now],
            )?;
            let next = update(state_in(tx, key)?);
            tx.execute(
                "INSERT INTO login_throttle (subject, bucket, failures, last_failure_at, next_allowed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (subject, bucket) DO UPDATE
                 SET failures = ?3, last_failure_at = ?4, next_allowed_at = ?5",
                params![
                    key.subject.0,
                    key.bucket,
                    next.failures,
                    next.last_failure_at,
                    next.next_allowed_at
                ],
            )?;
            Ok(next)
        })
    }

    fn clear_throttle_bucket(&self, key: &ThrottleKey) -> Result<(), Error> {
        self.conn().execute(
            "DELETE FROM login_throttle WHERE subject = ?1 AND bucket = ?2",
            params![key.subject.0, key.bucket],
        )?;
        Ok(())
    }

    fn clear_login_throttle(&self, subject: &EmailIndex, audit: &AuditEntry) -> Result<(), Error> {
        self.audited(audit, |tx| {
            tx.execute("DELETE FROM login_throttle WHERE subject = ?1", [subject.0])?;
            tx.execute("DELETE FROM login_failures WHERE subject = ?1", [subject.0])?;
            Ok(())
        })
    }

    fn prune_login_throttle(&self, failures_before: i64, quiet_since: i64) -> Result<usize, Error> {
        self.write(|tx| {
            let failures = tx.execute(
                "DELETE FROM login_failures WHERE at < ?1",
                [failures_before],
            )?;
            let buckets = tx.execute(
                "DELETE FROM login_throttle WHERE last_failure_at < ?1 AND next_allowed_at < ?1",
                [quiet_since],
            )?;
            Ok(failures + buckets)
        })
    }
}
