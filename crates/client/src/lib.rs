//! `ringside-client`: the Rust client of the Ringside relay, used by `ringside-relay listen` and
//! the relay's tests, and by the desktop app as it grows.
//!
//! Why a crate of its own: the desktop app must talk to the relay without depending on it
//! (docs/architecture.md#crates-and-dependencies: the client depends on `ringside-core` only), and every caller should get the same
//! answers to the same hard questions — which URLs are safe to send tokens to, how a
//! problem+json error becomes something to `match` on, and how to refresh a session without
//! ever presenting a refresh token twice (which ends the session, `docs/api.md`).
//!
//! The request and response bodies are the wire types of [`ringside_core::wire`], never copies:
//! a field the relay adds or renames is a compile error here, not a silent mismatch.
//!
//! - [`Client`]: the relay's address and the calls that need no session (sign-in, invitation
//!   acceptance, refresh).
//! - [`Session`]: a signed-in session that refreshes its own access token.
//! - [`ClientError`]: every failure, with the API's stable `code` for callers to switch on.
//! - [`stream`]: the WebSocket stream of screen pops ([`Session::stream`]): reconnects with
//!   back-off and jitter, resumes, and delivers each event once.

mod client;
mod error;
mod session;
pub mod stream;

pub use client::{Client, LoginStep};
pub use error::ClientError;
pub use session::{REFRESH_MARGIN, Session};
