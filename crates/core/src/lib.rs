//! Types both sides of Ringside share — the relay and the desktop app — so the protocol cannot
//! drift between them. Nothing here does I/O: no store, no network, no clock reads except through
//! [`Clock`].
//!
//! The TypeScript types under `ui/src/generated/` are generated from the `#[derive(TS)]` types in
//! this crate by `cargo test -p ringside-core export_bindings` (see `docs/development.md`); they
//! are never written by hand.

/// Implements `ts_rs::TS` for a type that crosses the wire as text (ids, phone numbers): it is a
/// plain `string` in TypeScript, inlined wherever it is used and never declared on its own.
#[macro_export]
#[doc(hidden)]
macro_rules! ts_string {
    ($ty:ty) => {
        impl ts_rs::TS for $ty {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;

            fn name() -> String {
                "string".to_owned()
            }

            fn inline() -> String {
                "string".to_owned()
            }

            fn inline_flattened() -> String {
                panic!(
                    "{} is a string on the wire and cannot be flattened",
                    stringify!($ty)
                )
            }

            fn decl() -> String {
                panic!("{} is inlined as `string`, never declared", stringify!($ty))
            }

            fn decl_concrete() -> String {
                panic!("{} is inlined as `string`, never declared", stringify!($ty))
            }
        }
    };
}

pub mod calls;
pub mod clock;
pub mod error;
pub mod ids;
pub mod net;
pub mod phone;
pub mod pii;
pub mod random;
pub mod role;
pub mod routing;
pub mod sms;
pub mod transcript;
pub mod wire;

pub use clock::{Clock, FakeClock, SystemClock};
pub use error::Error;
pub use ids::RouteId;
pub use ids::{
    CallId, DeviceId, IntegrationId, InvitationId, NoteId, OrgId, PopId, SessionId, UserId,
};
pub use phone::PhoneNumber;
pub use pii::Pii;
pub use random::random_bytes;
pub use role::{Permission, Role};
pub use wire::{BuildInfo, PROTOCOL_VERSION};
