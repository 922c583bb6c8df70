//! Types both sides of Ringside share — the relay and the desktop app — so the protocol cannot
//! drift between them. Nothing here does I/O: no store, no network, no clock reads except through
//! [`Clock`].
//!
//! The TypeScript types under `ui/src/generated/` are generated from the `#[derive(TS)]` types in
//! this crate by `cargo test -p ringside-core export_bindings` (see `docs/development.md`); they
//! are never written by hand.

pub mod clock;
pub mod error;
pub mod ids;
pub mod phone;
pub mod pii;
pub mod random;
pub mod role;
pub mod wire;

pub use clock::{Clock, FakeClock, SystemClock};
pub use error::Error;
pub use ids::{DeviceId, IntegrationId, InvitationId, OrgId, SessionId, UserId};
pub use phone::PhoneNumber;
pub use pii::Pii;
pub use random::random_bytes;
pub use role::{Permission, Role};
pub use wire::{BuildInfo, PROTOCOL_VERSION};
