//! Newtype ids for every entity, so an `OrgId` can never be passed where a `UserId` is expected.
//!
//! Every id is 128 bits from the operating system's CSPRNG (ASVS 11.5.1: UUIDs do not qualify when
//! an id doubles as a capability, as an integration id in a webhook URL does). The text form is a
//! short type prefix, an underscore and 32 lowercase hex digits — `org_9f86d081884c7d659a2feaa0c55ad015`
//! — so ids are self-describing in logs, the audit log and support tickets.

use std::fmt;
use std::str::FromStr;

use crate::Error;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// The prefix of this id's text form.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id: 128 bits from the OS CSPRNG.
            pub fn random() -> Self {
                Self(crate::random_bytes())
            }

            /// The raw 16 bytes (for hashing and associated data).
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            /// Rebuilds an id from its raw bytes.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Error> {
                let invalid = || Error::InvalidId { kind: $kind, prefix: $prefix };
                let hex_part = s
                    .strip_prefix($prefix)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .ok_or_else(invalid)?;
                if hex_part.len() != 32 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(invalid());
                }
                let mut bytes = [0u8; 16];
                hex::decode_to_slice(hex_part, &mut bytes).map_err(|_| invalid())?;
                Ok(Self(bytes))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        // Ids cross the wire as their text form.
        $crate::ts_string!($name);
    };
}

id_type!(
    /// An organisation (an agency): the unit of isolation for every query and every key.
    OrgId, "org", "organisation"
);
id_type!(
    /// A person who signs in: owner, admin, agent or viewer.
    UserId, "usr", "user"
);
id_type!(
    /// A signed-in session (one device's access + refresh token family).
    SessionId, "ses", "session"
);
id_type!(
    /// A device an agent signs in from.
    DeviceId, "dev", "device"
);
id_type!(
    /// An invitation to join an organisation. This id names it in lists and the audit log; the
    /// secret code that accepts it is a separate random value, stored only hashed.
    InvitationId, "inv", "invitation"
);
id_type!(
    /// A VoIP provider connection; its id is also the unguessable part of the webhook URL.
    IntegrationId, "int", "integration"
);
id_type!(
    /// A routing rule: a provider user id, an extension or a dialed number mapped to a user.
    RouteId, "rte", "route"
);
id_type!(
    /// A call as the relay follows it: one id across all of the provider's legs and transfers.
    CallId, "cal", "call"
);
id_type!(
    /// One screen pop: one call shown to one user (on all of that user's devices).
    PopId, "pop", "pop"
);
id_type!(
    /// One note an agent added to a call, kept sealed for the call's AMS note.
    NoteId, "not", "note"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = OrgId::random();
        let text = id.to_string();
        assert!(
            text.starts_with("org_") && text.len() == 36,
            "text form is prefix + 32 hex: {text}"
        );
        assert_eq!(
            text.parse::<OrgId>().unwrap(),
            id,
            "parsing the text form gives the same id"
        );
    }

    #[test]
    fn an_id_of_one_kind_does_not_parse_as_another() {
        let user = UserId::random().to_string();
        assert!(
            user.parse::<OrgId>().is_err(),
            "a user id must not be accepted as an org id"
        );
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "org_",
            "org_xyz",
            "org_00",
            "ORG_00000000000000000000000000000000",
            "org_0000000000000000000000000000000G",
            "org_000000000000000000000000000000000",
            "org_ABCDEF00000000000000000000000000",
        ] {
            assert!(bad.parse::<OrgId>().is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(
            OrgId::random(),
            OrgId::random(),
            "128 random bits must not collide"
        );
    }

    #[test]
    fn ids_serialize_as_strings() {
        let id = IntegrationId::random();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<IntegrationId>(&json).unwrap(), id);
    }
}
