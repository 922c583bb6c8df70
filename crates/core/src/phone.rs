//! Phone numbers (filled in by the core work item).
pub use self::inner::*;
mod inner {
    /// Why a phone number was refused.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PhoneError;
    impl std::fmt::Display for PhoneError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("x") }
    }
    /// A phone number.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PhoneNumber;
}
