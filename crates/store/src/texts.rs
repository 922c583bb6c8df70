//! Text messages, kept for their sync: one row on `calls` (`kind = 'sms'`) per message, its
//! body and contact name sealed in `sms_bodies`, its outbox row made in the same transaction
//! (migration 0011 says why a text lives on `calls`).
//!
//! An inbound text that is an opt keyword (`STOP`, `START`, …: `ringside_core::sms`) also moves
//! the number's opt-out, found by its blind index, in that transaction.

use ringside_core::CallId;
use ringside_core::sms::OptKeyword;
use ringside_core::wire::Direction;
use ringside_vault::OrgKeyring;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::Error;
use crate::calls::{NUMBER, key_hash};
use crate::sealed::SealedColumn;
use crate::stream::NewSms;
use crate::webhooks::InboundEvent;

/// The text, sealed, bound to its row.
const TEXT: SealedColumn = SealedColumn::new("sms_bodies", "text");

/// The provider's contact name, sealed, bound to its row.
const CONTACT_NAME: SealedColumn = SealedColumn::new("sms_bodies", "contact_name");

/// Keeps a new text message for its sync (in its event's transaction) and answers its id.
pub(crate) fn insert_text(
    tx: &Transaction<'_>,
    event: &InboundEvent<'_>,
    sms: &NewSms<'_>,
    keys: &OrgKeyring,
    now: i64,
) -> Result<CallId, Error> {
    let (org, id) = (event.org, CallId::random());
    let row = id.as_bytes();
    let number = sms
        .number
        .map(|n| NUMBER.seal(keys, org, row, n.expose().e164().as_bytes()))
        .transpose()?;
    let index = sms.number.and(sms.number_index);
    tx.prepare_cached(
        "INSERT INTO calls (id, org_id, integration_id, call_key, kind, direction, state,
                            number_sealed, number_index, started_at, updated_at, ended_at)
         VALUES (?1, ?2, ?3, ?4, 'sms', ?5, 'ended', ?6, ?7, ?8, ?8, ?8)",
    )?
    .execute(params![
        row,
        org.as_bytes(),
        event.integration.as_bytes(),
        key_hash(event.integration, &format!("sms:{}", event.event_id)),
        crate::calls::direction_name(sms.direction),
        number,
        index.map(|i| i.0),
        now
    ])?;
    let text = sms
        .text
        .map(|t| TEXT.seal_text(keys, org, row, t))
        .transpose()?;
    let contact = sms
        .contact_name
        .map(|n| CONTACT_NAME.seal_text(keys, org, row, n))
        .transpose()?;
    tx.prepare_cached(
        "INSERT INTO sms_bodies (call_id, org_id, text_sealed, contact_name_sealed, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![row, org.as_bytes(), text, contact, now])?;
    crate::sync::enqueue(tx, org, id, now)?;
    let keyword = sms.text.and_then(|t| OptKeyword::of(t.expose()));
    if let (Direction::Inbound, Some(keyword), Some(index)) = (sms.direction, keyword, index) {
        crate::numbers::record_opt(tx, org, &index, keyword, now)?;
    }
    Ok(id)
}

/// The text of the text message `call`, opened; `None` for a call (or a text without one).
pub(crate) fn read_text(
    tx: &Transaction<'_>,
    org: ringside_core::OrgId,
    call: CallId,
    keys: &OrgKeyring,
) -> Result<Option<ringside_core::Pii<String>>, Error> {
    let sealed: Option<Vec<u8>> = tx
        .prepare_cached("SELECT text_sealed FROM sms_bodies WHERE call_id = ?1")?
        .query_row([call.as_bytes()], |r| r.get(0))
        .optional()?
        .flatten();
    sealed
        .map(|s| TEXT.open_text(keys, org, call.as_bytes(), &s))
        .transpose()
}
