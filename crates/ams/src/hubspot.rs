//! HubSpot CRM (`ams-apis.md` §9; the vendor's specs in `shared/specs/hubspot/`).
//!
//! - **Auth**: a private app's access token, sent as a bearer token.
//! - **Lookup**: `POST /crm/v3/objects/contacts/search`. `phone` and `mobilephone` are free text,
//!   so an exact filter on one spelling misses most contacts; the search asks, in OR'd filter
//!   groups, for HubSpot's computed `hs_searchable_calculated_phone_number` /
//!   `_mobile_number` (digits only) equal to the number's digits, and for `phone` /
//!   `mobilephone` equal to any of the spellings agencies type ([`PhoneNumber::search_variants`]).
//!   One request, then every hit re-checked ([`crate::matching`]). Paged by the `after` cursor, at
//!   most [`MAX_PAGES`] pages.
//! - **Activity**: a call engagement, `POST /crm/v3/objects/calls`, associated to the contact
//!   (HubSpot-defined association type 194, call → contact); the note is `hs_call_body`.
//! - **Finding a note again** (after a crash mid-write): `POST /crm/v3/objects/calls/search`
//!   for the call's reference as a token of `hs_call_body`.

use ringside_core::wire::{Contact, Direction, RecordKind};
use ringside_core::{PhoneNumber, Pii};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::http::{Answer, Http, JSON};
use crate::matching::{Candidate, keep_matches};
use crate::{
    ActivityNote, ActivityRef, AmsConnector, AmsError, AmsFuture, Connection, Credentials,
};

/// Contacts per search page (HubSpot's maximum is 200).
pub const PAGE_SIZE: u32 = 100;

/// Pages read at most.
pub const MAX_PAGES: u32 = 3;

/// The longest `hs_call_body` sent; HubSpot's text properties hold 65,536 characters.
pub const MAX_BODY_CHARS: usize = 65_000;

/// HubSpot's association type id of call → contact.
const CALL_TO_CONTACT: u32 = 194;

const PROPERTIES: [&str; 7] = [
    "firstname",
    "lastname",
    "company",
    "phone",
    "mobilephone",
    "lifecyclestage",
    "hs_object_id",
];

/// The HubSpot connector.
#[derive(Debug)]
pub struct Hubspot {
    connection: Connection,
    http: Http,
}

#[derive(Deserialize)]
struct SearchPage {
    #[serde(default)]
    results: Vec<Record>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    properties: serde_json::Map<String, Value>,
    #[serde(default)]
    archived: Option<bool>,
}

#[derive(Deserialize)]
struct Paging {
    #[serde(default)]
    next: Option<Next>,
}

#[derive(Deserialize)]
struct Next {
    after: String,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

impl Hubspot {
    pub(crate) fn new(connection: Connection, http: Http) -> Self {
        Self { connection, http }
    }

    async fn send(&self, path: &str, body: &Value) -> Result<Answer, AmsError> {
        let Credentials::Token { token } = &self.connection.credentials else {
            return Err(AmsError::config(
                "credentials",
                "HubSpot takes an access token",
            ));
        };
        let url = self.connection.base_url.join(path);
        self.http
            .send(
                self.http
                    .post(&url, JSON)
                    .bearer_auth(token.expose())
                    .json(body),
            )
            .await
    }

    async fn search(&self, number: &PhoneNumber) -> Result<Vec<Contact>, AmsError> {
        let mut candidates = Vec::new();
        let mut after = "0".to_owned();
        for _ in 0..MAX_PAGES {
            let body = search_body(number, &after);
            let answer = self.send("/crm/v3/objects/contacts/search", &body).await?;
            let page: SearchPage = answer.json()?;
            candidates.extend(
                page.results
                    .into_iter()
                    .filter(|r| r.archived != Some(true))
                    .map(candidate),
            );
            match page.paging.and_then(|p| p.next) {
                Some(next) if !next.after.is_empty() => after = next.after,
                _ => break,
            }
        }
        Ok(keep_matches(number, candidates))
    }

    async fn write(&self, note: &ActivityNote) -> Result<ActivityRef, AmsError> {
        let body = call_body(note)?;
        let answer = self.send("/crm/v3/objects/calls", &body).await?;
        let created: Created = answer.json()?;
        Ok(ActivityRef { id: created.id })
    }
}

/// The search request: OR'd groups over the computed digits and the typed spellings.
fn search_body(number: &PhoneNumber, after: &str) -> Value {
    let digits = if number.is_nanp() {
        number.national_digits().to_owned()
    } else {
        number.e164().trim_start_matches('+').to_owned()
    };
    let variants = number.search_variants();
    let eq = |property: &str| json!({"filters": [{"propertyName": property, "operator": "EQ", "value": digits}]});
    let any = |property: &str| json!({"filters": [{"propertyName": property, "operator": "IN", "values": variants}]});
    json!({
        "filterGroups": [
            eq("hs_searchable_calculated_phone_number"),
            eq("hs_searchable_calculated_mobile_number"),
            any("phone"),
            any("mobilephone"),
        ],
        "properties": PROPERTIES,
        "limit": PAGE_SIZE,
        "after": after,
        "sorts": [],
    })
}

fn text(record: &Record, property: &str) -> Option<String> {
    record
        .properties
        .get(property)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn candidate(record: Record) -> Candidate {
    let name = [text(&record, "firstname"), text(&record, "lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let company = text(&record, "company");
    let kind = match text(&record, "lifecyclestage").as_deref() {
        Some("customer" | "evangelist") => RecordKind::Client,
        Some(_) => RecordKind::Prospect,
        None => RecordKind::Contact,
    };
    let numbers = ["phone", "mobilephone"]
        .into_iter()
        .filter_map(|p| text(&record, p))
        .collect();
    let (name, detail) = match (name.is_empty(), company) {
        (true, Some(company)) => (company, None),
        (_, company) => (name, company),
    };
    Candidate {
        contact: Contact {
            id: record.id,
            kind,
            name: Pii::new(name),
            detail: detail.map(Pii::new),
            open_url: None,
        },
        active: true,
        numbers,
    }
}

/// The call engagement for `note`.
fn call_body(note: &ActivityNote) -> Result<Value, AmsError> {
    let timestamp = note
        .started_at
        .format(&Rfc3339)
        .map_err(|_| AmsError::config("note", "the call's time cannot be written"))?;
    let body: String = note.body.expose().chars().take(MAX_BODY_CHARS).collect();
    let mut properties = json!({
        "hs_timestamp": timestamp,
        "hs_call_title": note.subject,
        "hs_call_body": body,
        "hs_call_status": "COMPLETED",
        "hs_call_direction": match note.direction {
            Direction::Outbound => "OUTBOUND",
            _ => "INBOUND",
        },
    });
    if let Some(secs) = note.duration_secs {
        properties["hs_call_duration"] = Value::String((u64::from(secs) * 1000).to_string());
    }
    Ok(json!({
        "properties": properties,
        "associations": [{
            "to": {"id": note.record_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": CALL_TO_CONTACT}],
        }],
    }))
}

impl Hubspot {
    /// The call engagement whose body carries the note's reference. HubSpot's search index
    /// trails writes by a few seconds: the sync waits `sync.in_doubt_settle_secs` before asking.
    async fn find(&self, note: &ActivityNote) -> Result<Option<ActivityRef>, AmsError> {
        let body = json!({
            "filterGroups": [{"filters": [{
                "propertyName": "hs_call_body",
                "operator": "CONTAINS_TOKEN",
                "value": note.reference,
            }]}],
            "properties": ["hs_object_id"],
            "limit": 1,
            "after": "0",
            "sorts": [],
        });
        let answer = self.send("/crm/v3/objects/calls/search", &body).await?;
        let page: SearchPage = answer.json()?;
        Ok(page
            .results
            .into_iter()
            .find(|r| r.archived != Some(true))
            .map(|r| ActivityRef { id: r.id }))
    }
}

impl AmsConnector for Hubspot {
    fn lookup_by_phone<'a>(&'a self, number: &'a PhoneNumber) -> AmsFuture<'a, Vec<Contact>> {
        Box::pin(self.search(number))
    }

    fn write_activity<'a>(&'a self, note: &'a ActivityNote) -> AmsFuture<'a, ActivityRef> {
        Box::pin(self.write(note))
    }

    fn find_activity<'a>(&'a self, note: &'a ActivityNote) -> AmsFuture<'a, Option<ActivityRef>> {
        Box::pin(self.find(note))
    }

    fn check(&self) -> AmsFuture<'_, ()> {
        Box::pin(async move {
            let body = json!({
                "filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": "0"}]}],
                "properties": ["hs_object_id"],
                "limit": 1,
                "after": "0",
                "sorts": [],
            });
            self.send("/crm/v3/objects/contacts/search", &body)
                .await
                .map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_asks_for_the_digits_and_every_typed_spelling_in_one_request() {
        let number = PhoneNumber::parse("+16175550199").unwrap();
        let body = search_body(&number, "0");
        let groups = body["filterGroups"].as_array().unwrap();
        assert_eq!(groups.len(), 4, "HubSpot allows up to 6 OR'd groups");
        assert_eq!(groups[0]["filters"][0]["value"], "6175550199");
        let spellings = groups[2]["filters"][0]["values"].as_array().unwrap();
        assert!(spellings.contains(&json!("(617) 555-0199")));
        assert!(spellings.contains(&json!("+16175550199")));
        assert_eq!(
            (
                body["after"].as_str(),
                body["sorts"].as_array().map(Vec::len)
            ),
            (Some("0"), Some(0))
        );
    }
}
