//! NowCerts / Momentum AMP (`ams-apis.md` §3; no vendor OpenAPI file: its tests run against a
//! fake built from the documentation's request and answer shapes).
//!
//! - **Token**: `POST /api/token`, form-encoded password grant with NowCerts' public client id
//!   `ngAuthApp`, for an agency user with the API Integration role; cached like every token.
//! - **Lookup**: NowCerts stores phones as free text (`701-313-0157`, `1234567890`,
//!   right-padded, `… Ext. 3`), so `GET /api/InsuredDetailList` with one OData `$filter` that
//!   ORs `contains(field,'spelling')` over `phone`, `cellPhone` and `smsPhone` for each spelling
//!   agencies type ([`PhoneNumber::search_variants`]); `contains` also matches longer numbers,
//!   which the re-check ([`crate::matching`]) drops.
//! - **Activity**: `POST /api/Zapier/InsertNote` on the insured's database id.

use std::sync::Arc;

use ringside_core::wire::{Contact, RecordKind};
use ringside_core::{PhoneNumber, Pii};
use serde::Deserialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::http::{Answer, JSON};
use crate::matching::{Candidate, keep_matches};
use crate::token::{Grant, TokenCache};
use crate::{
    ActivityNote, ActivityRef, AmsConnector, AmsError, AmsFuture, Connection, Credentials, Http,
};

/// NowCerts' public OAuth client id for the password grant.
const CLIENT_ID: &str = "ngAuthApp";

/// Insureds read at most per lookup.
pub const MAX_RESULTS: u32 = 50;

const PHONE_FIELDS: [&str; 3] = ["phone", "cellPhone", "smsPhone"];

/// The NowCerts connector.
#[derive(Debug)]
pub struct Nowcerts {
    connection: Connection,
    http: Http,
    tokens: Arc<TokenCache>,
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    value: Vec<Insured>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Insured {
    id: serde_json::Value,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    commercial_name: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    cell_phone: Option<String>,
    #[serde(default)]
    sms_phone: Option<String>,
}

#[derive(Deserialize)]
struct Inserted {
    #[serde(default)]
    status: Option<i64>,
    #[serde(default)]
    data: Option<InsertedData>,
}

#[derive(Deserialize)]
struct InsertedData {
    database_id: serde_json::Value,
}

impl Nowcerts {
    pub(crate) fn new(connection: Connection, http: Http, tokens: Arc<TokenCache>) -> Self {
        Self {
            connection,
            http,
            tokens,
        }
    }

    fn grant(&self) -> Result<Grant<'_>, AmsError> {
        match &self.connection.credentials {
            Credentials::Password { username, password } => Ok(Grant::Password {
                username,
                password,
                client_id: CLIENT_ID,
            }),
            _ => Err(AmsError::config(
                "credentials",
                "NowCerts takes a user name and password",
            )),
        }
    }

    /// Sends the request `build` makes, authorized (a 401 is retried once with a new token).
    async fn authorized(
        &self,
        build: impl Fn(&Http) -> reqwest::RequestBuilder,
    ) -> Result<Answer, AmsError> {
        let (url, grant) = (self.connection.base_url.join("/api/token"), self.grant()?);
        self.tokens
            .send_authorized(&self.http, &url, &grant, build)
            .await
    }

    async fn search(&self, number: &PhoneNumber) -> Result<Vec<Contact>, AmsError> {
        let url = self.connection.base_url.join("/api/InsuredDetailList");
        let filter = phone_filter(number);
        let top = MAX_RESULTS.to_string();
        let answer = self
            .authorized(|http| {
                http.get(&url, JSON).query(&[
                    ("$filter", filter.as_str()),
                    ("$top", top.as_str()),
                    ("$skip", "0"),
                    ("$orderby", "id"),
                    ("$count", "true"),
                ])
            })
            .await?;
        let list: List = answer.json()?;
        Ok(keep_matches(
            number,
            list.value.into_iter().map(candidate).collect(),
        ))
    }

    async fn write(&self, note: &ActivityNote) -> Result<ActivityRef, AmsError> {
        let url = self.connection.base_url.join("/api/Zapier/InsertNote");
        let created = note
            .started_at
            .format(&Rfc3339)
            .map_err(|_| AmsError::config("note", "the call's time cannot be written"))?;
        let body = json!({
            "subject": format!("{}\n\n{}", note.subject, note.body.expose()),
            "insured_database_id": note.record_id,
            "create_date": created,
            "creator_name": "Ringside",
            "type": "Phone Call",
        });
        let answer = self
            .authorized(|http| http.post(&url, JSON).json(&body))
            .await?;
        let inserted: Inserted = answer.json()?;
        match (inserted.status, inserted.data) {
            (Some(1), Some(data)) => Ok(ActivityRef {
                id: id_text(&data.database_id),
            }),
            _ => Err(AmsError::InvalidResponse(
                "NowCerts did not confirm the note",
            )),
        }
    }
}

/// The OData filter: `contains(field,'spelling')` for each phone field and spelling, OR'd.
fn phone_filter(number: &PhoneNumber) -> String {
    let mut clauses = Vec::new();
    for spelling in number.search_variants() {
        // Spellings are digits and `-().+/ `: nothing to escape, but a quote would end the
        // literal, so refuse one outright rather than trust the list.
        if spelling.contains('\'') {
            continue;
        }
        for field in PHONE_FIELDS {
            clauses.push(format!("contains({field},'{spelling}')"));
        }
    }
    clauses.join(" or ")
}

fn id_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn candidate(insured: Insured) -> Candidate {
    let person = [insured.first_name, insured.last_name]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = insured
        .commercial_name
        .filter(|c| !c.trim().is_empty())
        .unwrap_or(person);
    let kind = match insured.kind.as_deref() {
        Some(k) if k.eq_ignore_ascii_case("prospect") => RecordKind::Prospect,
        _ => RecordKind::Client,
    };
    Candidate {
        contact: Contact {
            id: id_text(&insured.id),
            kind,
            name: Pii::new(name),
            detail: None,
            open_url: None,
        },
        active: insured.active.unwrap_or(true),
        numbers: [insured.phone, insured.cell_phone, insured.sms_phone]
            .into_iter()
            .flatten()
            .collect(),
    }
}

impl AmsConnector for Nowcerts {
    fn lookup_by_phone<'a>(&'a self, number: &'a PhoneNumber) -> AmsFuture<'a, Vec<Contact>> {
        Box::pin(self.search(number))
    }

    fn write_activity<'a>(&'a self, note: &'a ActivityNote) -> AmsFuture<'a, ActivityRef> {
        Box::pin(self.write(note))
    }

    fn check(&self) -> AmsFuture<'_, ()> {
        Box::pin(async move {
            let grant = self.grant()?;
            let url = self.connection.base_url.join("/api/token");
            self.tokens
                .token(&self.http, &url, &grant)
                .await
                .map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_looks_for_each_spelling_in_each_phone_field() {
        let number = PhoneNumber::parse("+17013130157").unwrap();
        let filter = phone_filter(&number);
        assert!(
            filter.contains("contains(phone,'701-313-0157')"),
            "{filter}"
        );
        assert!(
            filter.contains("contains(smsPhone,'7013130157')"),
            "{filter}"
        );
        assert_eq!(
            filter.matches(" or ").count() + 1,
            number.search_variants().len() * PHONE_FIELDS.len()
        );
    }
}
