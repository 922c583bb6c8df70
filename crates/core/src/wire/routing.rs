//! Call routing (`/v1/admin/routes`, `/v1/admin/routing/fallback`): which users a call pops for.
//!
//! A route maps something the provider tells us about a call — the provider's own user id of
//! the agent it rang, the extension, or the number the client dialed — to one Ringside user. A
//! call that no route matches goes to the org's [`Fallback`], which is `nobody` until an admin
//! says otherwise, so nobody gets every call by accident (docs/routing.md).
//!
//! An agency's own extensions, numbers and provider user ids are not client personal data: they
//! are plain strings here, normalized by [`RouteMatch::new`] (numbers to E.164).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{Error, IntegrationId, PhoneNumber, RouteId, UserId};

/// Longest provider user id a route can name.
const MAX_PROVIDER_USER_CHARS: usize = 128;
/// Longest extension a route can name (digits only).
const MAX_EXTENSION_DIGITS: usize = 10;

/// What a route matches on, in the order routing tries them. Serialized snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RouteKind {
    /// The provider's own id of the user or agent it rang (a Dialpad user id, a RingCentral
    /// extension id, a Twilio client identity).
    ProviderUser,
    /// The extension the call was put through to (digits).
    Extension,
    /// The number the client dialed (one of the agency's numbers), in E.164.
    Number,
}

impl RouteKind {
    /// Every kind, in the order routing tries them.
    pub const ALL: [RouteKind; 3] = [Self::ProviderUser, Self::Extension, Self::Number];

    /// The wire name: `provider_user`, `extension` or `number`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProviderUser => "provider_user",
            Self::Extension => "extension",
            Self::Number => "number",
        }
    }
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RouteKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(Error::InvalidValue {
                what: "route kind",
                expected: "provider_user, extension or number",
            })
    }
}

/// What a route matches: a kind and its value, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct RouteMatch {
    /// What is matched.
    pub kind: RouteKind,
    /// The provider user id, the extension's digits, or the number in E.164.
    #[schema(example = "101")]
    pub value: String,
}

impl RouteMatch {
    /// A match of `kind` on `value`, normalized: surrounding spaces trimmed; a provider user id
    /// is 1–128 characters without control characters; an extension is 1–10 digits; a number is
    /// parsed in any accepted format and kept in E.164 (a number with an extension is refused:
    /// route the extension instead).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] or [`Error::InvalidPhone`], never quoting the value.
    pub fn new(kind: RouteKind, value: &str) -> Result<Self, Error> {
        let value = value.trim();
        let value = match kind {
            RouteKind::ProviderUser => {
                let count = value.chars().count();
                if count == 0
                    || count > MAX_PROVIDER_USER_CHARS
                    || value.chars().any(char::is_control)
                {
                    return Err(Error::InvalidValue {
                        what: "provider user id",
                        expected: "1 to 128 characters, no control characters",
                    });
                }
                value.to_owned()
            }
            RouteKind::Extension => {
                if value.is_empty()
                    || value.len() > MAX_EXTENSION_DIGITS
                    || !value.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(Error::InvalidValue {
                        what: "extension",
                        expected: "1 to 10 digits",
                    });
                }
                value.to_owned()
            }
            RouteKind::Number => {
                let number = PhoneNumber::parse(value)?;
                if number.extension().is_some() {
                    return Err(Error::InvalidValue {
                        what: "number",
                        expected: "a phone number without an extension (route the extension instead)",
                    });
                }
                number.e164().to_owned()
            }
        };
        Ok(Self { kind, value })
    }

    /// A match on a dialed number (already normalized).
    pub fn number(number: &PhoneNumber) -> Self {
        Self {
            kind: RouteKind::Number,
            value: number.e164().to_owned(),
        }
    }
}

/// `POST /v1/admin/routes`: send calls matching `kind`/`value` to `user_id`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CreateRouteRequest {
    /// Only calls of this integration (`int_…`); omitted or `null`: calls of every integration
    /// of the organisation.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    #[ts(type = "string | null")]
    pub integration_id: Option<IntegrationId>,
    /// What is matched.
    pub kind: RouteKind,
    /// The provider user id, the extension's digits, or the number (any common format; stored
    /// in E.164).
    #[schema(example = "101")]
    pub value: String,
    /// Who gets the pop: an active user of the organisation whose role receives pops.
    #[schema(value_type = String)]
    pub user_id: UserId,
}

impl CreateRouteRequest {
    /// The request's match, normalized ([`RouteMatch::new`]).
    ///
    /// # Errors
    /// As [`RouteMatch::new`].
    pub fn route_match(&self) -> Result<RouteMatch, Error> {
        RouteMatch::new(self.kind, &self.value)
    }
}

/// A route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RouteInfo {
    /// Id (`rte_…`).
    #[schema(value_type = String)]
    pub route_id: RouteId,
    /// The integration it is limited to; `null`: every integration of the organisation.
    #[schema(value_type = Option<String>)]
    #[ts(type = "string | null")]
    pub integration_id: Option<IntegrationId>,
    /// What is matched.
    pub kind: RouteKind,
    /// The normalized value (numbers in E.164).
    pub value: String,
    /// Who gets the pop.
    #[schema(value_type = String)]
    pub user_id: UserId,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
}

/// `GET /v1/admin/routes`: the organisation's routes.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RouteList {
    /// Routes, in routing order: provider user ids, then extensions, then numbers.
    pub routes: Vec<RouteInfo>,
}

/// Where a call that no route matches goes (`GET`/`PUT /v1/admin/routing/fallback`). The
/// default is `nobody`: an organisation never sends every call to everyone by accident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Fallback {
    /// Nobody gets a pop (the default).
    #[default]
    Nobody,
    /// Every active user of the organisation whose role receives pops.
    All,
    /// These users (those of them still active and receiving pops).
    Users {
        /// The users, `usr_…`.
        #[schema(value_type = Vec<String>)]
        users: Vec<UserId>,
    },
}

impl Fallback {
    /// The stored name: `nobody`, `all` or `users`.
    pub fn kind_str(&self) -> &'static str {
        match self {
            Self::Nobody => "nobody",
            Self::All => "all",
            Self::Users { .. } => "users",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_is_tagged_by_kind_and_defaults_to_nobody() {
        assert_eq!(Fallback::default(), Fallback::Nobody);
        assert_eq!(
            serde_json::to_string(&Fallback::Nobody).unwrap(),
            r#"{"kind":"nobody"}"#
        );
        assert_eq!(
            serde_json::to_string(&Fallback::All).unwrap(),
            r#"{"kind":"all"}"#
        );
        let user = UserId::random();
        let users = Fallback::Users { users: vec![user] };
        let json = serde_json::to_string(&users).unwrap();
        assert_eq!(json, format!(r#"{{"kind":"users","users":["{user}"]}}"#));
        assert_eq!(serde_json::from_str::<Fallback>(&json).unwrap(), users);
        for bad in [
            r#"{"kind":"everyone"}"#,
            r#"{}"#,
            r#"{"kind":"users"}"#,
            r#"{"kind":"users","users":["usr_00"]}"#,
        ] {
            assert!(
                serde_json::from_str::<Fallback>(bad).is_err(),
                "{bad} is refused"
            );
        }
    }

    #[test]
    fn route_values_are_normalized_and_bad_ones_refused_without_quoting_them() {
        let number = RouteMatch::new(RouteKind::Number, " (415) 555-0100 ").unwrap();
        assert_eq!(number.value, "+14155550100", "numbers are kept in E.164");
        assert_eq!(
            RouteMatch::new(RouteKind::Extension, " 101 ")
                .unwrap()
                .value,
            "101"
        );
        assert_eq!(
            RouteMatch::new(RouteKind::ProviderUser, "5241236").unwrap(),
            RouteMatch {
                kind: RouteKind::ProviderUser,
                value: "5241236".to_owned()
            }
        );
        for (kind, bad) in [
            (RouteKind::Extension, ""),
            (RouteKind::Extension, "10a"),
            (RouteKind::Extension, "12345678901"),
            (RouteKind::ProviderUser, "  "),
            (RouteKind::ProviderUser, "a\nb"),
            (RouteKind::Number, "not a number"),
            (RouteKind::Number, "+1 415 555 0100 x12"),
        ] {
            let err = RouteMatch::new(kind, bad).unwrap_err();
            assert!(
                bad.trim().is_empty() || !err.to_string().contains(bad.trim()),
                "{kind} {bad:?}: the error does not quote the value"
            );
        }
        assert_eq!(
            RouteMatch::new(RouteKind::ProviderUser, &"x".repeat(129))
                .unwrap_err()
                .to_string(),
            "invalid provider user id: expected 1 to 128 characters, no control characters"
        );
    }

    #[test]
    fn a_route_request_refuses_unknown_fields_and_kinds() {
        let user = UserId::random();
        let ok: CreateRouteRequest = serde_json::from_str(&format!(
            r#"{{"kind":"extension","value":"101","user_id":"{user}"}}"#
        ))
        .unwrap();
        assert_eq!(ok.integration_id, None, "all integrations by default");
        assert_eq!(ok.route_match().unwrap().value, "101");
        for bad in [
            format!(r#"{{"kind":"queue","value":"1","user_id":"{user}"}}"#),
            format!(r#"{{"kind":"extension","value":"1","user_id":"{user}","org_id":"x"}}"#),
        ] {
            assert!(serde_json::from_str::<CreateRouteRequest>(&bad).is_err());
        }
        for kind in RouteKind::ALL {
            assert_eq!(kind.as_str().parse::<RouteKind>().unwrap(), kind);
        }
    }
}
