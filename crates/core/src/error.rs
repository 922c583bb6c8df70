//! The one error type of `ringside-core`: everything here is parsing, so every variant says what
//! input was refused and why — without echoing the input, which may be PII.

/// Why a value handed to `ringside-core` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An id did not have the expected `prefix_hex` shape.
    #[error("invalid {kind} id: expected `{prefix}_` followed by 32 lowercase hex digits")]
    InvalidId {
        /// Which id type was being parsed (e.g. "org").
        kind: &'static str,
        /// The prefix that id type carries.
        prefix: &'static str,
    },
    /// A phone number could not be parsed; the reason never contains the number itself.
    #[error("invalid phone number: {0}")]
    InvalidPhone(crate::phone::PhoneError),
    /// A role name was not one of owner, admin, agent, viewer.
    #[error("unknown role `{0}`: expected owner, admin, agent or viewer")]
    UnknownRole(String),
    /// A value of a small closed set (an audit outcome, an actor kind) was not one of its members.
    #[error("invalid {what}: expected {expected}")]
    InvalidValue {
        /// What was being parsed.
        what: &'static str,
        /// The accepted values.
        expected: &'static str,
    },
}
