//! Roles (filled in by the core work item).
/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role { Owner }
/// A permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission { ReceivePops }
