//! The permission matrix against docs/architecture.md#roles-and-permissions, cell by cell, plus the properties that must survive any
//! future edit of the table.

use ringside_core::role::{MATRIX, matrix_markdown};
use ringside_core::{Error, Permission, Role};

const Y: bool = true;
const N: bool = false;

/// docs/architecture.md#roles-and-permissions, written out by hand — one line per permission, columns owner, admin, agent,
/// viewer, then "needs a recent second factor" — so a change to the matrix must change this too.
#[rustfmt::skip]
const EXPECTED: [(Permission, [bool; 4], bool); 13] = [
    // docs/architecture.md#roles-and-permissions row "screen pops, own call history, notes, leaderboard": owner, admin, agent
    (Permission::ReceivePops,       [Y, Y, Y, N], N),
    (Permission::ViewOwnCalls,      [Y, Y, Y, N], N),
    (Permission::WriteNotes,        [Y, Y, Y, N], N),
    (Permission::ViewLeaderboard,   [Y, Y, Y, N], N),
    // docs/architecture.md#roles-and-permissions row "dashboard (anonymized metrics)": everyone, viewers read-only
    (Permission::ViewDashboard,     [Y, Y, Y, Y], N),
    // docs/architecture.md#roles-and-permissions row "all calls, team, routing, settings, audit log": owner, admin
    (Permission::ViewAllCalls,      [Y, Y, N, N], N),
    (Permission::ManageTeam,        [Y, Y, N, N], Y),
    (Permission::ManageRouting,     [Y, Y, N, N], N),
    (Permission::ManageSettings,    [Y, Y, N, N], N),
    (Permission::ViewAuditLog,      [Y, Y, N, N], N),
    // docs/architecture.md#roles-and-permissions row "AMS/provider credentials, key rotation, org termination": owner only
    (Permission::ManageCredentials, [Y, N, N, N], Y),
    (Permission::RotateKeys,        [Y, N, N, N], Y),
    (Permission::TerminateOrg,      [Y, N, N, N], Y),
];

/// Lists every permission through an exhaustive `match`: adding a variant fails to compile here
/// until it is added to this test's expectations (and so to the matrix).
fn every_variant() -> Vec<Permission> {
    let all = Permission::ALL.to_vec();
    for p in &all {
        match p {
            Permission::ReceivePops
            | Permission::ViewOwnCalls
            | Permission::WriteNotes
            | Permission::ViewLeaderboard
            | Permission::ViewDashboard
            | Permission::ViewAllCalls
            | Permission::ManageTeam
            | Permission::ManageRouting
            | Permission::ManageSettings
            | Permission::ViewAuditLog
            | Permission::ManageCredentials
            | Permission::RotateKeys
            | Permission::TerminateOrg => {}
        }
    }
    all
}

#[test]
fn the_matrix_is_design_section_4_cell_by_cell() {
    println!("{}", matrix_markdown());
    assert_eq!(
        Role::ALL,
        [Role::Owner, Role::Admin, Role::Agent, Role::Viewer],
        "columns are owner, admin, agent, viewer"
    );
    assert_eq!(
        every_variant().len(),
        EXPECTED.len(),
        "every permission has an expected row"
    );
    for (row, (permission, roles, second_factor)) in EXPECTED.into_iter().enumerate() {
        assert_eq!(
            Permission::ALL[row],
            permission,
            "row {row} of the matrix is {permission}"
        );
        for (role, expected) in Role::ALL.into_iter().zip(roles) {
            assert_eq!(
                role.allows(permission),
                expected,
                "docs/architecture.md#roles-and-permissions: {role} {} be allowed to {permission}",
                if expected { "must" } else { "must not" }
            );
        }
        assert_eq!(
            permission.requires_recent_second_factor(),
            second_factor,
            "docs/architecture.md#roles-and-permissions: {permission} {} a recent second factor",
            if second_factor {
                "needs"
            } else {
                "does not need"
            }
        );
    }
}

#[test]
fn the_markdown_table_has_a_row_per_permission_and_a_column_per_role() {
    let table = matrix_markdown();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines.len(),
        2 + Permission::ALL.len(),
        "header, separator, one row per permission"
    );
    assert_eq!(
        lines[0],
        "| permission | what it allows | owner | admin | agent | viewer | recent second factor |",
        "the header names every role"
    );
    assert_eq!(
        lines[1], "|---|---|---|---|---|---|---|",
        "the separator has one cell per column"
    );
    for (line, permission) in lines[2..].iter().zip(Permission::ALL) {
        assert!(
            line.starts_with(&format!("| `{permission}` |")),
            "row for {permission}: {line}"
        );
        assert_eq!(line.matches('|').count(), 8, "seven cells in {line}");
    }
    assert!(lines.iter().any(|l| l.starts_with("| `rotate_keys` |")
        && l.ends_with("| yes | — | — | — | yes |")), "key rotation: owner only, second factor");
}

#[test]
fn a_viewer_can_only_see_the_dashboard() {
    assert_eq!(
        Role::Viewer.permissions().collect::<Vec<_>>(),
        [Permission::ViewDashboard],
        "docs/architecture.md#roles-and-permissions: viewers read the dashboard and nothing else"
    );
}

#[test]
fn an_agent_has_no_admin_permission() {
    for permission in [
        Permission::ViewAllCalls,
        Permission::ManageTeam,
        Permission::ManageRouting,
        Permission::ManageSettings,
        Permission::ViewAuditLog,
        Permission::ManageCredentials,
        Permission::RotateKeys,
        Permission::TerminateOrg,
    ] {
        assert!(
            !Role::Agent.allows(permission),
            "an agent must not {permission}"
        );
    }
}

#[test]
fn owner_includes_admin_includes_agent_includes_viewer() {
    let chain = Role::ALL;
    for pair in chain.windows(2) {
        let (higher, lower) = (pair[0], pair[1]);
        assert!(
            higher.includes(lower),
            "{higher} must hold every permission {lower} holds"
        );
        assert!(
            !lower.includes(higher),
            "{lower} must hold less than {higher}"
        );
        for permission in lower.permissions() {
            assert!(
                higher.allows(permission),
                "{higher} must be allowed to {permission} like {lower}"
            );
        }
    }
    for permission in Permission::ALL {
        assert!(
            Role::Owner.allows(permission),
            "the owner can do everything, including {permission}"
        );
    }
}

#[test]
fn only_changes_to_credentials_roles_keys_and_the_org_need_a_second_factor() {
    let needing: Vec<Permission> = Permission::ALL
        .into_iter()
        .filter(|p| p.requires_recent_second_factor())
        .collect();
    assert_eq!(
        needing,
        [
            Permission::ManageTeam,
            Permission::ManageCredentials,
            Permission::RotateKeys,
            Permission::TerminateOrg
        ],
        "docs/architecture.md#roles-and-permissions: credential and role changes, key rotation and termination need a second factor"
    );
}

#[test]
fn nobody_can_manage_or_grant_a_role_stronger_than_their_own() {
    let expected = [
        (Role::Owner, [Y, Y, Y, Y]),
        (Role::Admin, [N, Y, Y, Y]),
        (Role::Agent, [N, N, N, N]),
        (Role::Viewer, [N, N, N, N]),
    ];
    for (manager, row) in expected {
        for (target, allowed) in Role::ALL.into_iter().zip(row) {
            assert_eq!(
                manager.can_manage(target),
                allowed,
                "{manager} managing {target}: an admin \
                must not promote to or disable an owner, and only team managers manage anyone"
            );
        }
    }
}

#[test]
fn roles_and_permissions_use_their_wire_names_everywhere() {
    for role in Role::ALL {
        assert_eq!(
            serde_json::to_string(&role).unwrap(),
            format!("\"{}\"", role.as_str()),
            "serde and as_str agree for {role}"
        );
        assert_eq!(role.to_string(), role.as_str(), "Display is the wire name");
        assert_eq!(
            role.as_str().parse::<Role>().unwrap(),
            role,
            "FromStr reads the wire name"
        );
        assert_eq!(
            role.as_str().to_uppercase().parse::<Role>().unwrap(),
            role,
            "FromStr ignores case, for CLI input"
        );
        let back: Role = serde_json::from_str(&format!("\"{role}\"")).unwrap();
        assert_eq!(back, role, "serde round-trips {role}");
    }
    for (permission, grant) in Permission::ALL.into_iter().zip(MATRIX.iter()) {
        assert_eq!(
            serde_json::to_string(&permission).unwrap(),
            format!("\"{}\"", grant.name),
            "the matrix's name for {permission:?} is its serde name"
        );
        assert_eq!(permission.as_str(), grant.name, "as_str reads the matrix");
        assert!(
            !permission.description().is_empty(),
            "{permission} has a description"
        );
        assert_eq!(
            permission.roles().next(),
            Some(Role::Owner),
            "the owner holds {permission}"
        );
    }
}

#[test]
fn unknown_role_names_are_refused() {
    for bad in ["", "root", "superadmin", "owners", " owner"] {
        assert_eq!(
            bad.parse::<Role>(),
            Err(Error::UnknownRole(bad.to_owned())),
            "{bad:?} is not a role"
        );
    }
    assert!(
        serde_json::from_str::<Role>("\"Owner\"").is_err(),
        "on the wire role names are exactly lowercase"
    );
}
