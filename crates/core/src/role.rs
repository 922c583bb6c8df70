//! Roles and the permission matrix: who may do what, in one table.
//!
//! Every HTTP route declares the [`Permission`] it needs and asks [`Role::allows`]; the desktop app
//! hides what a role cannot do from the same table (both TypeScript types are generated). The
//! matrix is data — one `const` array, [`MATRIX`] — rather than `match` arms spread over the code,
//! so a review of "who can rotate keys?" reads one line, [`matrix_markdown`] prints the whole
//! policy for docs and audits, and a test compares it cell by cell with docs/architecture.md#roles-and-permissions. Compile-time
//! checks keep the table's rows and columns in the enums' order, so indexing it cannot go stale.
//!
//! docs/architecture.md#roles-and-permissions: agents get pops, their own calls, notes and the leaderboard; viewers only the
//! (anonymized) dashboard; admins additionally all calls, the team, routing, settings and the audit
//! log; only owners touch credentials, keys and org termination. Changes to credentials or roles
//! also need a recent second factor ([`Permission::requires_recent_second_factor`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::Error;

/// What a user is in their organisation. Serialized lowercase (`"owner"`).
// Deliberately not `Ord`: declaration order would make `Owner < Viewer` and invite a
// `role >= Role::Admin` check that means the opposite. Compare with `allows` or `includes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Role {
    /// Runs the organisation: everything, including credentials, key rotation and termination.
    Owner,
    /// Runs the team day to day: users, routing, settings, all calls, the audit log.
    Admin,
    /// Takes calls: screen pops, own call history, notes, leaderboard, dashboard.
    Agent,
    /// Reads the anonymized dashboard, nothing else.
    Viewer,
}

/// Something a route or a screen needs the caller to be allowed to do. Serialized snake_case
/// (`"receive_pops"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Permission {
    /// Receive screen pops over the WebSocket stream.
    ReceivePops,
    /// See one's own call history.
    ViewOwnCalls,
    /// Add notes to one's calls.
    WriteNotes,
    /// See the leaderboard.
    ViewLeaderboard,
    /// See the dashboard of anonymized metrics.
    ViewDashboard,
    /// See every call in the organisation.
    ViewAllCalls,
    /// Manage users, roles, invitations and other users' sessions.
    ManageTeam,
    /// Manage call routing (extensions, queues, numbers to agents).
    ManageRouting,
    /// Manage organisation settings such as retention.
    ManageSettings,
    /// Query and export the audit log.
    ViewAuditLog,
    /// Manage AMS and VoIP provider credentials and integrations.
    ManageCredentials,
    /// Rotate the organisation's encryption keys.
    RotateKeys,
    /// Terminate the organisation and erase its data.
    TerminateOrg,
}

/// One row of the matrix: a permission, which roles hold it, and whether using it needs a recent
/// second factor.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    /// The permission this row is about.
    pub permission: Permission,
    /// Its wire name (the serde name).
    pub name: &'static str,
    /// What it lets one do, for people.
    pub description: &'static str,
    /// Whether each role holds it, in [`Role::ALL`] order: owner, admin, agent, viewer.
    pub roles: [bool; ROLE_COUNT],
    /// Whether using it requires a recent second factor.
    pub second_factor: bool,
}

const ROLE_COUNT: usize = 4;
const PERMISSION_COUNT: usize = 13;

/// The roles in column order, with their wire names.
const COLUMNS: [(Role, &str); ROLE_COUNT] = [
    (Role::Owner, "owner"),
    (Role::Admin, "admin"),
    (Role::Agent, "agent"),
    (Role::Viewer, "viewer"),
];

const Y: bool = true;
const N: bool = false;

/// The permission matrix, docs/architecture.md#roles-and-permissions. Columns: owner, admin, agent, viewer; then second factor.
#[rustfmt::skip]
pub const MATRIX: [Grant; PERMISSION_COUNT] = [
    //                                                                                                        owner admin agent viewer   2FA
    grant(Permission::ReceivePops,       "receive_pops",       "receive screen pops",                          [Y,    Y,    Y,    N],     N),
    grant(Permission::ViewOwnCalls,      "view_own_calls",     "see one's own call history",                   [Y,    Y,    Y,    N],     N),
    grant(Permission::WriteNotes,        "write_notes",        "add notes to one's calls",                     [Y,    Y,    Y,    N],     N),
    grant(Permission::ViewLeaderboard,   "view_leaderboard",   "see the leaderboard",                          [Y,    Y,    Y,    N],     N),
    grant(Permission::ViewDashboard,     "view_dashboard",     "see the dashboard (anonymized metrics)",       [Y,    Y,    Y,    Y],     N),
    grant(Permission::ViewAllCalls,      "view_all_calls",     "see every call in the organisation",           [Y,    Y,    N,    N],     N),
    grant(Permission::ManageTeam,        "manage_team",        "manage users, roles, invitations, sessions",   [Y,    Y,    N,    N],     Y),
    grant(Permission::ManageRouting,     "manage_routing",     "manage call routing",                          [Y,    Y,    N,    N],     N),
    grant(Permission::ManageSettings,    "manage_settings",    "manage settings such as retention",            [Y,    Y,    N,    N],     N),
    grant(Permission::ViewAuditLog,      "view_audit_log",     "query and export the audit log",               [Y,    Y,    N,    N],     N),
    grant(Permission::ManageCredentials, "manage_credentials", "manage AMS/provider credentials, integrations", [Y,    N,    N,    N],     Y),
    grant(Permission::RotateKeys,        "rotate_keys",        "rotate encryption keys",                       [Y,    N,    N,    N],     Y),
    grant(Permission::TerminateOrg,      "terminate_org",      "terminate the organisation",                   [Y,    N,    N,    N],     Y),
];

const fn grant(
    permission: Permission,
    name: &'static str,
    description: &'static str,
    roles: [bool; ROLE_COUNT],
    second_factor: bool,
) -> Grant {
    Grant {
        permission,
        name,
        description,
        roles,
        second_factor,
    }
}

// The table is indexed by discriminant: fail the build if a row or column is out of order.
const _: () = {
    let mut i = 0;
    while i < PERMISSION_COUNT {
        assert!(
            MATRIX[i].permission as usize == i,
            "MATRIX rows must follow Permission's order"
        );
        i += 1;
    }
    let mut j = 0;
    while j < ROLE_COUNT {
        assert!(
            COLUMNS[j].0 as usize == j,
            "COLUMNS must follow Role's order"
        );
        j += 1;
    }
};

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; ROLE_COUNT] = {
        let mut all = [Role::Owner; ROLE_COUNT];
        let mut j = 0;
        while j < ROLE_COUNT {
            all[j] = COLUMNS[j].0;
            j += 1;
        }
        all
    };

    /// Whether this role holds `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        MATRIX[permission as usize].roles[self as usize]
    }

    /// The permissions this role holds, in [`Permission::ALL`] order.
    pub fn permissions(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |&p| self.allows(p))
    }

    /// Whether this role holds every permission `other` holds.
    pub fn includes(self, other: Role) -> bool {
        other.permissions().all(|p| self.allows(p))
    }

    /// Whether a user with this role may manage a user holding `other` — invite, change the role
    /// of, disable, or end the sessions of — and may grant `other` to someone. Needs
    /// [`Permission::ManageTeam`] and every permission `other` has, so nobody can hand out more
    /// than they hold: an admin cannot make an owner or disable one. (Keeping at least one owner
    /// is the store's rule, not this one's.)
    pub fn can_manage(self, other: Role) -> bool {
        self.allows(Permission::ManageTeam) && self.includes(other)
    }

    /// The wire name: `owner`, `admin`, `agent` or `viewer`.
    pub fn as_str(self) -> &'static str {
        COLUMNS[self as usize].1
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    /// Parses a role name, ignoring ASCII case (`Admin` and `admin` are the same role).
    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnknownRole(s.to_owned()))
    }
}

impl Permission {
    /// Every permission, in the matrix's row order.
    pub const ALL: [Permission; PERMISSION_COUNT] = {
        let mut all = [Permission::ReceivePops; PERMISSION_COUNT];
        let mut i = 0;
        while i < PERMISSION_COUNT {
            all[i] = MATRIX[i].permission;
            i += 1;
        }
        all
    };

    /// This permission's row of the matrix.
    pub fn grant(self) -> &'static Grant {
        &MATRIX[self as usize]
    }

    /// Whether using this permission needs a recent second factor: changes to the team and roles,
    /// credentials and integrations, keys, and terminating the organisation.
    pub fn requires_recent_second_factor(self) -> bool {
        self.grant().second_factor
    }

    /// The wire name, e.g. `receive_pops`.
    pub fn as_str(self) -> &'static str {
        self.grant().name
    }

    /// What the permission lets one do, for people.
    pub fn description(self) -> &'static str {
        self.grant().description
    }

    /// The roles that hold this permission.
    pub fn roles(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |role| role.allows(self))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole matrix as a Markdown table, one row per permission, for docs and audits.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| permission | what it allows |");
    for role in Role::ALL {
        out.push_str(&format!(" {role} |"));
    }
    out.push_str(" recent second factor |\n|---|---|");
    out.push_str(&"---|".repeat(ROLE_COUNT + 1));
    out.push('\n');
    let mark = |yes: bool| if yes { "yes" } else { "—" };
    for grant in &MATRIX {
        out.push_str(&format!("| `{}` | {} |", grant.name, grant.description));
        for allowed in grant.roles {
            out.push_str(&format!(" {} |", mark(allowed)));
        }
        out.push_str(&format!(" {} |\n", mark(grant.second_factor)));
    }
    out
}
