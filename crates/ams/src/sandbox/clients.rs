//! The sandbox's synthetic book of business: fictional people and businesses whose numbers
//! (all in the fictional `555-01XX` range) are typed the ways agency staff really type them —
//! dots, slashes, `ext.`, a leading `1`, padding — plus the cases a screen pop must get right:
//! two clients sharing a household number, a client whose number differs from another's only in
//! the area code (the sandbox's loose search returns both; the connector must drop the wrong
//! one), an inactive client, and a contact person on a business account.

use ringside_core::wire::RecordKind;

/// One record of the sandbox AMS.
#[derive(Debug, Clone, Copy)]
pub struct SandboxClient {
    /// The account id (GUID form, like Applied Epic's).
    pub id: &'static str,
    /// The account name.
    pub name: &'static str,
    /// Applied Epic's lookup code.
    pub lookup_code: &'static str,
    /// Whether the account is active.
    pub active: bool,
    /// Who holds the numbers: the client itself or a contact person on the account.
    pub holder: RecordKind,
    /// The numbers, exactly as typed into the AMS.
    pub numbers: &'static [&'static str],
}

/// Every record of the sandbox.
pub const CLIENTS: &[SandboxClient] = &[
    SandboxClient {
        id: "5f0c1a8e-0001-4a5b-9c1d-000000000001",
        name: "Dana Whitfield",
        lookup_code: "WHITDA-01",
        active: true,
        holder: RecordKind::Client,
        numbers: &["(617) 555-0199"],
    },
    SandboxClient {
        id: "5f0c1a8e-0002-4a5b-9c1d-000000000002",
        name: "Marcus Oyelaran",
        lookup_code: "OYELMA-01",
        active: true,
        holder: RecordKind::Client,
        numbers: &["617.555.0142", "+1 617 555 0143"],
    },
    SandboxClient {
        id: "5f0c1a8e-0003-4a5b-9c1d-000000000003",
        name: "Priya Raman",
        lookup_code: "RAMAPR-01",
        active: true,
        holder: RecordKind::Client,
        numbers: &["617-555-0117 ext. 4"],
    },
    SandboxClient {
        id: "5f0c1a8e-0004-4a5b-9c1d-000000000004",
        name: "Harbor Light Bakery LLC",
        lookup_code: "HARBLI-01",
        active: true,
        holder: RecordKind::Client,
        numbers: &["1 (508) 555-0120"],
    },
    SandboxClient {
        id: "5f0c1a8e-0005-4a5b-9c1d-000000000005",
        name: "Tom Kowalski",
        lookup_code: "KOWATO-01",
        active: true,
        holder: RecordKind::Client,
        numbers: &["4135550165"],
    },
    SandboxClient {
        id: "5f0c1a8e-0006-4a5b-9c1d-000000000006",
        name: "Ellen Kowalski",
        lookup_code: "KOWAEL-01",
        active: true,
        holder: RecordKind::Client,
        numbers: &["413-555-0165", "413/555-0166"],
    },
    SandboxClient {
        id: "5f0c1a8e-0007-4a5b-9c1d-000000000007",
        name: "Sofia Marchetti",
        lookup_code: "MARCSO-01",
        active: true,
        holder: RecordKind::Client,
        numbers: &["  978 555 0188        "],
    },
    SandboxClient {
        id: "5f0c1a8e-0008-4a5b-9c1d-000000000008",
        name: "Jordan Pike",
        lookup_code: "PIKEJO-01",
        active: true,
        holder: RecordKind::Client,
        numbers: &["(508) 555-0199"],
    },
    SandboxClient {
        id: "5f0c1a8e-0009-4a5b-9c1d-000000000009",
        name: "Gerald Fenn",
        lookup_code: "FENNGE-01",
        active: false,
        holder: RecordKind::Client,
        numbers: &["781-555-0150"],
    },
    SandboxClient {
        id: "5f0c1a8e-0010-4a5b-9c1d-000000000010",
        name: "Beacon Hill Dental",
        lookup_code: "BEACHI-01",
        active: true,
        holder: RecordKind::Contact,
        numbers: &["857/555-0133"],
    },
];

/// The number two sandbox clients share (Tom and Ellen Kowalski's household line), in E.164.
pub const SHARED_NUMBER: &str = "+14135550165";

/// Numbers of one sandbox client each, in E.164 (what a provider would send).
pub const KNOWN_NUMBERS: &[&str] = &[
    "+16175550199",
    "+16175550142",
    "+16175550117",
    "+15085550120",
    "+19785550188",
    "+18575550133",
];
