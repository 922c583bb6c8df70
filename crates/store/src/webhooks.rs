//! Webhook ingest: the event log and the inbox (docs/architecture.md#the-walk-of-a-webhook; answers: docs/providers.md#answers).
//!
//! Why one transaction: a provider that got a 2xx never sends the event again, so the dedupe
//! record and the sealed inbox row must be on disk together (`synchronous=FULL`) before the relay
//! answers — or neither, and the provider's retry finds no trace of the failed attempt. The
//! provider's event id is stored only as a hash, because some providers derive ids from call data.

use ringside_core::transcript::Utterance;
use ringside_core::{IntegrationId, OrgId, UserId};
use ringside_vault::OrgKeyring;
use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::calls::{CallOutcome, CallUpdate};
use crate::sealed::{SealedColumn, check_keys, persist_seal_counts};
use crate::stream::{Event, NewSms};
use crate::sync::TranscriptStored;
use crate::{Error, Store};

/// The inbox's event payload, sealed with the org's data key and bound to the row.
const EVENT: SealedColumn = SealedColumn::new("inbox", "event");

/// An authenticated webhook event to accept.
#[derive(Debug)]
pub struct InboundEvent<'a> {
    /// The integration it came through.
    pub integration: IntegrationId,
    /// That integration's org.
    pub org: OrgId,
    /// The provider's identity of the event (hashed before it is stored).
    pub event_id: &'a str,
    /// The normalized event as JSON, sealed before it is stored in the inbox
    /// ([`InboxStore::accept_webhook_event`]); unused for call, text and transcript events,
    /// which are applied to their rows instead.
    pub event_json: &'a [u8],
    /// When it arrived (unix seconds).
    pub received_at: i64,
}

/// What [`InboxStore::accept_webhook_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// First sighting: logged and put in the inbox.
    Accepted,
    /// Seen before: counted, nothing else.
    Duplicate,
}

/// SHA-256(integration id || event id): the dedupe key and the inbox row id.
pub fn event_hash(integration: IntegrationId, event_id: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(integration.as_bytes());
    hash.update(event_id.as_bytes());
    hash.finalize().into()
}

/// The webhook inbox: deduplicated acceptance of provider events, and their outcomes.
pub trait InboxStore {
    /// Deduplicates `event` and, the first time, puts it sealed in the inbox: one transaction.
    fn accept_webhook_event(
        &self,
        event: &InboundEvent<'_>,
        keys: &OrgKeyring,
    ) -> Result<Accepted, Error>;

    /// Deduplicates a call event and, the first time, applies it to its call (state machine,
    /// pops, stream events): one transaction, so the provider's 2xx means the pops are on disk,
    /// and a crash before the commit leaves no trace for the provider's retry to trip over.
    /// `Ok(None)`: a duplicate, counted and otherwise ignored.
    fn accept_call_event(
        &self,
        event: &InboundEvent<'_>,
        update: &CallUpdate<'_>,
        keys: &OrgKeyring,
    ) -> Result<Option<CallOutcome>, Error>;

    /// Deduplicates a text message and, the first time, keeps it sealed for its AMS sync (a
    /// `kind = 'sms'` row on `calls`, its body in `sms_bodies`, its outbox row; an opt keyword
    /// moves the number's opt-out) and queues an `sms` stream event for each of `targets`: one
    /// transaction. `Ok(None)`: a duplicate.
    fn accept_sms_event(
        &self,
        event: &InboundEvent<'_>,
        sms: &NewSms<'_>,
        targets: &[UserId],
        keys: &OrgKeyring,
    ) -> Result<Option<Vec<Event>>, Error>;

    /// Deduplicates a transcript event and, the first time, keeps its utterances sealed for the
    /// sync of the call `call_key` of the event's integration: one transaction. `Ok(None)`: a
    /// duplicate. Nothing is kept for a call the relay does not know or whose sync is over.
    fn accept_transcript_event(
        &self,
        event: &InboundEvent<'_>,
        call_key: &str,
        utterances: &[Utterance],
        keys: &OrgKeyring,
    ) -> Result<Option<TranscriptStored>, Error>;

    /// Logs a webhook that was not accepted as an event (`ignored`, or a refusal's code): no id.
    fn record_webhook_outcome(
        &self,
        integration: IntegrationId,
        outcome: &str,
        at: i64,
    ) -> Result<(), Error>;

    /// Deletes webhook log rows older than `keep` (the hygiene pass, with
    /// `retention.webhook_log_days`, which is at least one day: the dedupe window). The inbox is
    /// not touched: the pipeline consumes it. Answers how many rows went.
    fn prune_webhook_events(&self, keep: std::time::Duration) -> Result<u64, Error>;

    /// How many distinct events of `integration` were accepted (duplicates not counted) and are
    /// still in the webhook log.
    fn accepted_events(&self, integration: IntegrationId) -> Result<u64, Error>;

    /// How many events of `integration` wait in the inbox.
    fn inbox_len(&self, integration: IntegrationId) -> Result<u64, Error>;

    /// The sealed events of `org` in the inbox, oldest first, opened with its keyring.
    fn inbox_events(&self, org: OrgId, keys: &OrgKeyring) -> Result<Vec<Vec<u8>>, Error>;
}

impl InboxStore for Store {
    fn accept_webhook_event(
        &self,
        event: &InboundEvent<'_>,
        keys: &OrgKeyring,
    ) -> Result<Accepted, Error> {
        check_keys(keys, event.org)?;
        let hash = event_hash(event.integration, event.event_id);
        self.write(|tx| {
            if log_event(tx, event, &hash)? == Accepted::Duplicate {
                return Ok(Accepted::Duplicate);
            }
            put_in_inbox(tx, event, &hash, keys)?;
            persist_seal_counts(tx, keys)?;
            Ok(Accepted::Accepted)
        })
    }

    fn accept_call_event(
        &self,
        event: &InboundEvent<'_>,
        update: &CallUpdate<'_>,
        keys: &OrgKeyring,
    ) -> Result<Option<CallOutcome>, Error> {
        check_keys(keys, event.org)?;
        check_keys(keys, update.org)?;
        let hash = event_hash(event.integration, event.event_id);
        let now = self.now();
        self.write_publishing(
            |tx| {
                if log_event(tx, event, &hash)? == Accepted::Duplicate {
                    return Ok(None);
                }
                let outcome = crate::calls::apply(tx, update, keys, now, self.pop_ttl())?;
                persist_seal_counts(tx, keys)?;
                Ok(Some(outcome))
            },
            |outcome| outcome.as_ref().map_or(&[][..], |o| &o.events),
        )
    }

    fn accept_sms_event(
        &self,
        event: &InboundEvent<'_>,
        sms: &NewSms<'_>,
        targets: &[UserId],
        keys: &OrgKeyring,
    ) -> Result<Option<Vec<Event>>, Error> {
        check_keys(keys, event.org)?;
        let hash = event_hash(event.integration, event.event_id);
        let now = self.now();
        self.write_publishing(
            |tx| {
                if log_event(tx, event, &hash)? == Accepted::Duplicate {
                    return Ok(None);
                }
                let text = crate::texts::insert_text(tx, event, sms, keys, now)?;
                let mut events = Vec::with_capacity(targets.len());
                for &user in targets {
                    events.push(crate::stream::append_sms(
                        tx, keys, event.org, user, text, sms, now,
                    )?);
                }
                persist_seal_counts(tx, keys)?;
                Ok(Some(events))
            },
            |events| events.as_deref().unwrap_or_default(),
        )
    }

    fn accept_transcript_event(
        &self,
        event: &InboundEvent<'_>,
        call_key: &str,
        utterances: &[Utterance],
        keys: &OrgKeyring,
    ) -> Result<Option<TranscriptStored>, Error> {
        check_keys(keys, event.org)?;
        let hash = event_hash(event.integration, event.event_id);
        let now = self.now();
        self.write(|tx| {
            if log_event(tx, event, &hash)? == Accepted::Duplicate {
                return Ok(None);
            }
            crate::sync::put_transcript(
                tx,
                event.org,
                event.integration,
                call_key,
                utterances,
                keys,
                now,
            )
            .map(Some)
        })
    }

    fn record_webhook_outcome(
        &self,
        integration: IntegrationId,
        outcome: &str,
        at: i64,
    ) -> Result<(), Error> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO webhook_events (integration_id, event_hash, received_at, outcome)
                 VALUES (?1, NULL, ?2, ?3)",
            )?
            .execute(params![integration.as_bytes(), at, outcome])?;
            Ok(())
        })
    }

    fn prune_webhook_events(&self, keep: std::time::Duration) -> Result<u64, Error> {
        let keep = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
        let before = self.now().saturating_sub(keep);
        self.write(|tx| {
            let gone = tx
                .prepare_cached("DELETE FROM webhook_events WHERE received_at < ?1")?
                .execute([before])?;
            Ok(u64::try_from(gone).unwrap_or(0))
        })
    }

    fn accepted_events(&self, integration: IntegrationId) -> Result<u64, Error> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM webhook_events WHERE integration_id = ?1 AND outcome = 'accepted'",
            [integration.as_bytes()],
            |r| r.get(0),
        )?)
    }

    fn inbox_len(&self, integration: IntegrationId) -> Result<u64, Error> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM inbox WHERE integration_id = ?1",
            [integration.as_bytes()],
            |r| r.get(0),
        )?)
    }

    fn inbox_events(&self, org: OrgId, keys: &OrgKeyring) -> Result<Vec<Vec<u8>>, Error> {
        check_keys(keys, org)?;
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, event_sealed FROM inbox WHERE org_id = ?1 ORDER BY received_at, rowid",
        )?;
        let rows = stmt.query_map([org.as_bytes()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sealed) = row?;
            out.push(EVENT.open(keys, org, &id, &sealed)?.to_vec());
        }
        Ok(out)
    }
}

/// Logs an accepted event, or counts it as a duplicate of one logged before.
fn log_event(
    tx: &rusqlite::Transaction<'_>,
    event: &InboundEvent<'_>,
    hash: &[u8; 32],
) -> Result<Accepted, Error> {
    let duplicates: i64 = tx
        .prepare_cached(
            "INSERT INTO webhook_events (integration_id, event_hash, received_at, outcome)
         VALUES (?1, ?2, ?3, 'accepted')
         ON CONFLICT (integration_id, event_hash)
         DO UPDATE SET duplicates = duplicates + 1
         RETURNING duplicates",
        )?
        .query_row(
            params![event.integration.as_bytes(), hash, event.received_at],
            |r| r.get(0),
        )?;
    Ok(if duplicates > 0 {
        Accepted::Duplicate
    } else {
        Accepted::Accepted
    })
}

/// Puts an accepted event in the inbox, sealed and bound to its row.
fn put_in_inbox(
    tx: &rusqlite::Transaction<'_>,
    event: &InboundEvent<'_>,
    hash: &[u8; 32],
    keys: &OrgKeyring,
) -> Result<(), Error> {
    let sealed = EVENT.seal(keys, event.org, hash, event.event_json)?;
    tx.prepare_cached(
        "INSERT INTO inbox (id, org_id, integration_id, event_sealed, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        hash,
        event.org.as_bytes(),
        event.integration.as_bytes(),
        sealed,
        event.received_at
    ])?;
    Ok(())
}
