//! Applied Epic, through the Applied APIs (REST, HAL+JSON; `ams-apis.md` §1, the vendor's specs
//! in `shared/specs/applied-epic/`). The sandbox AMS speaks the same subset, so this one
//! connector serves both.
//!
//! - **Token**: OAuth2 client credentials at `{base}/v1/auth/connect/token` (or the connection's
//!   `token_url`), the client sent as HTTP Basic; cached until shortly before expiry; a 401 on a
//!   call forgets it and the call is retried once with a fresh one.
//! - **Lookup**: `GET /epic/account/v1/accounts/search?phoneNumber=<E.164>&expand=matchedResults`,
//!   paged (`offset`/`limit`, at most [`MAX_PAGES`] pages). Each account's `matchedResults` say
//!   which of its records (the client itself or a contact person) holds the number, with the
//!   numbers; those are re-checked ([`crate::matching`]). A match is reported on its account (the
//!   record the note will go to): a contact person's match says so in its kind.
//! - **Activity**: the `CALL` activity code's id is looked up once per AMS
//!   (`GET /workflow-management/v1/activities/codes?code=CALL`), then
//!   `POST /workflow-management/v1/activities` with the first part of the note; a note longer than
//!   [`NOTE_CHUNK`] characters continues in `POST /activities/{id}/notes`.

use std::sync::Arc;

use ringside_core::wire::{Contact, RecordKind};
use ringside_core::{PhoneNumber, Pii};
use serde::Deserialize;
use serde_json::json;

use crate::http::{Answer, Http};
use crate::matching::{Candidate, keep_matches};
use crate::token::{Grant, TokenCache};
use crate::{
    ActivityNote, ActivityRef, AmsConnector, AmsError, AmsFuture, Connection, Credentials,
};

/// Accounts per search page (the API's default; its maximum is 500).
pub const PAGE_SIZE: u32 = 100;

/// Pages read at most: a number on more than 500 accounts is an office line, not a caller.
pub const MAX_PAGES: u32 = 5;

/// The most characters of note content sent in one request.
pub const NOTE_CHUNK: usize = 8000;

/// What Applied Epic answers: HAL on success, problem+json (and, for some 400s, plain JSON) on
/// failure; its specs declare no `application/json` success.
const HAL: &str = "application/hal+json, application/problem+json, application/json";

/// The Applied Epic connector.
#[derive(Debug)]
pub struct AppliedEpic {
    connection: Connection,
    http: Http,
    tokens: Arc<TokenCache>,
    call_codes: Arc<CallCodes>,
}

/// The `CALL` activity code's id of each Applied Epic, by base URL: looked up once per
/// connection, not once per note (it is the same for every activity of that AMS).
#[derive(Debug, Default)]
pub(crate) struct CallCodes(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl CallCodes {
    fn get(&self, base: &str) -> Option<String> {
        self.lock().get(base).cloned()
    }

    fn put(&self, base: &str, id: &str) {
        self.lock().insert(base.to_owned(), id.to_owned());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Deserialize)]
struct SearchPage {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default, rename = "_embedded")]
    embedded: Option<Accounts>,
}

#[derive(Deserialize)]
struct Accounts {
    #[serde(default)]
    accounts: Vec<Account>,
}

#[derive(Deserialize)]
struct Account {
    id: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "lookupCode")]
    lookup_code: Option<String>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default, rename = "matchedResults")]
    matched: Vec<Matched>,
}

#[derive(Deserialize)]
struct Matched {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, rename = "phoneNumbers")]
    phone_numbers: Vec<Phone>,
}

#[derive(Deserialize)]
struct Phone {
    #[serde(default)]
    number: Option<String>,
}

#[derive(Deserialize)]
struct Codes {
    #[serde(default, rename = "_embedded")]
    embedded: Option<CodeList>,
}

#[derive(Deserialize)]
struct CodeList {
    #[serde(default, rename = "activityCodes")]
    activity_codes: Vec<Code>,
}

#[derive(Deserialize)]
struct Code {
    id: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

impl AppliedEpic {
    pub(crate) fn new(
        connection: Connection,
        http: Http,
        tokens: Arc<TokenCache>,
        call_codes: Arc<CallCodes>,
    ) -> Self {
        Self {
            connection,
            http,
            tokens,
            call_codes,
        }
    }

    fn token_url(&self) -> String {
        match &self.connection.credentials {
            Credentials::ClientCredentials {
                token_url: Some(url),
                ..
            } => url.clone(),
            _ => self.connection.base_url.join("/v1/auth/connect/token"),
        }
    }

    fn grant(&self) -> Result<Grant<'_>, AmsError> {
        match &self.connection.credentials {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => Ok(Grant::ClientCredentials {
                client_id,
                client_secret,
            }),
            _ => Err(AmsError::config(
                "credentials",
                "Applied Epic takes client credentials",
            )),
        }
    }

    /// Sends the request `build` makes, authorized (a 401 is retried once with a new token).
    async fn authorized(
        &self,
        build: impl Fn(&Http) -> reqwest::RequestBuilder,
    ) -> Result<Answer, AmsError> {
        let (url, grant) = (self.token_url(), self.grant()?);
        self.tokens
            .send_authorized(&self.http, &url, &grant, build)
            .await
    }

    async fn search(&self, number: &PhoneNumber) -> Result<Vec<Contact>, AmsError> {
        let url = self
            .connection
            .base_url
            .join("/epic/account/v1/accounts/search");
        let mut candidates = Vec::new();
        for page in 0..MAX_PAGES {
            let offset = (page * PAGE_SIZE).to_string();
            let limit = PAGE_SIZE.to_string();
            let answer = self
                .authorized(|http| {
                    http.get(&url, HAL).query(&[
                        ("phoneNumber", number.e164()),
                        ("expand", "matchedResults"),
                        ("offset", offset.as_str()),
                        ("limit", limit.as_str()),
                    ])
                })
                .await?;
            let parsed: SearchPage = answer.json()?;
            let accounts = parsed.embedded.map(|e| e.accounts).unwrap_or_default();
            let got = accounts.len() as u64;
            candidates.extend(accounts.into_iter().flat_map(|a| self.candidates(a)));
            let seen = u64::from(page * PAGE_SIZE) + got;
            if got < u64::from(PAGE_SIZE) || parsed.total.is_some_and(|t| seen >= t) {
                break;
            }
        }
        Ok(keep_matches(number, candidates))
    }

    /// One candidate per matched record of `account`, each reported on the account.
    fn candidates(&self, account: Account) -> Vec<Candidate> {
        if account.kind.as_deref().is_some_and(|k| k != "CLIENT") {
            return Vec::new(); // brokers, companies, vendors: not callers to pop
        }
        let name = account.name.unwrap_or_default();
        account
            .matched
            .into_iter()
            .map(|matched| {
                let kind = match matched.kind.as_deref() {
                    Some("CONTACT") => RecordKind::Contact,
                    _ => RecordKind::Client,
                };
                Candidate {
                    contact: Contact {
                        id: account.id.clone(),
                        kind,
                        name: Pii::new(name.clone()),
                        detail: account.lookup_code.clone().map(Pii::new),
                        open_url: self.open_url(&account.id),
                    },
                    active: account.active.unwrap_or(true),
                    numbers: matched
                        .phone_numbers
                        .into_iter()
                        .filter_map(|p| p.number)
                        .collect(),
                }
            })
            .collect()
    }

    /// The sandbox shows its clients at `/clients/{id}`; Applied Epic publishes no deep link.
    fn open_url(&self, id: &str) -> Option<String> {
        (self.connection.kind == crate::AmsKind::Sandbox)
            .then(|| self.connection.base_url.join(&format!("/clients/{id}")))
    }

    /// The `CALL` activity code's id: remembered per AMS after the first lookup.
    async fn call_code(&self) -> Result<String, AmsError> {
        let base = self.connection.base_url.as_str();
        if let Some(id) = self.call_codes.get(base) {
            return Ok(id);
        }
        let id = self.fetch_call_code().await?;
        self.call_codes.put(base, &id);
        Ok(id)
    }

    async fn fetch_call_code(&self) -> Result<String, AmsError> {
        let url = self
            .connection
            .base_url
            .join("/workflow-management/v1/activities/codes");
        let answer = self
            .authorized(|http| http.get(&url, HAL).query(&[("code", "CALL")]))
            .await?;
        let codes: Codes = answer.json()?;
        codes
            .embedded
            .map(|e| e.activity_codes)
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.code.as_deref() == Some("CALL"))
            .map(|c| c.id)
            .ok_or(AmsError::InvalidResponse(
                "the AMS has no CALL activity code",
            ))
    }

    async fn write(&self, note: &ActivityNote) -> Result<ActivityRef, AmsError> {
        let code = self.call_code().await?;
        let chunks = chunks(note.body.expose(), NOTE_CHUNK);
        let (first, rest) = chunks.split_first().map_or(("", &[][..]), |(f, r)| (*f, r));
        let body = json!({
            "code": {"id": code},
            "description": note.subject,
            "association": {"type": "CLIENT", "id": note.record_id},
            "status": "CLOSED",
            "closed": {"successful": true},
            "note": {"content": first},
        });
        let url = self
            .connection
            .base_url
            .join("/workflow-management/v1/activities");
        let answer = self
            .authorized(|http| http.post(&url, HAL).json(&body))
            .await?;
        let created: Created = answer.json()?;
        let notes = format!("{url}/{}/notes", created.id);
        for part in rest {
            let body = json!({"content": part});
            self.authorized(|http| http.post(&notes, HAL).json(&body))
                .await?;
        }
        Ok(ActivityRef { id: created.id })
    }
}

impl AppliedEpic {
    /// Applied Epic's published API reads an activity only by its id: no search by content. The
    /// sandbox answers the question itself (`GET /sandbox/activities?reference=`).
    async fn find(&self, note: &ActivityNote) -> Result<Option<ActivityRef>, AmsError> {
        if self.connection.kind != crate::AmsKind::Sandbox {
            return Err(AmsError::Unsupported(
                "Applied Epic's API cannot search activities by content",
            ));
        }
        let url = self.connection.base_url.join("/sandbox/activities");
        let answer = self
            .authorized(|http| {
                http.get(&url, HAL)
                    .query(&[("reference", note.reference.as_str())])
            })
            .await?;
        let listed: Listed = answer.json()?;
        Ok(listed
            .activities
            .into_iter()
            .next()
            .map(|a| ActivityRef { id: a.id }))
    }
}

#[derive(Deserialize)]
struct Listed {
    #[serde(default)]
    activities: Vec<Created>,
}

/// `text` cut into pieces of at most `max` characters, at line breaks where there is one.
pub(crate) fn chunks(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while rest.chars().count() > max {
        let cut = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let at = rest[..cut]
            .rfind('\n')
            .filter(|&i| i > 0)
            .map_or(cut, |i| i + 1);
        out.push(&rest[..at]);
        rest = &rest[at..];
    }
    out.push(rest);
    out
}

impl AmsConnector for AppliedEpic {
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
        // A real request each time (not the remembered code): a test must reach the AMS.
        Box::pin(async move { self.fetch_call_code().await.map(|_| ()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_notes_are_cut_at_line_breaks_within_the_limit() {
        assert_eq!(chunks("short", 10), ["short"]);
        assert_eq!(chunks("", 10), [""]);
        let text = "line one\nline two\nline three";
        let parts = chunks(text, 12);
        assert_eq!(parts.concat(), text, "nothing lost");
        assert!(parts.iter().all(|p| p.chars().count() <= 12), "{parts:?}");
        assert_eq!(parts[0], "line one\n");
        let unbroken = "é".repeat(25);
        let parts = chunks(&unbroken, 10);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), unbroken);
    }
}
